"""The instance-HA API (Masakari's notifications, vmoves, segments and hosts): one router."""

from __future__ import annotations

from pocketstack.common.api.routes import Router
from pocketstack.ha.api.notifications import NotificationsApi, RootApi, VMovesApi
from pocketstack.ha.api.segments import HostsApi, SegmentsApi
from pocketstack.ha.manager import InstanceHA


def build_router(manager: InstanceHA) -> Router:
    return Router().include(RootApi(), NotificationsApi(manager), VMovesApi(manager.notifications),
                            SegmentsApi(manager), HostsApi(manager))
