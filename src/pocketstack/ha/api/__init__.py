"""The instance-HA API (Masakari's notifications and vmoves): one router."""

from __future__ import annotations

from pocketstack.common.api.routes import Router
from pocketstack.ha.api.notifications import NotificationsApi, RootApi, VMovesApi
from pocketstack.ha.manager import InstanceHA


def build_router(manager: InstanceHA) -> Router:
    return Router().include(RootApi(), NotificationsApi(manager), VMovesApi(manager.notifications))
