"""The Orchestration API (Heat v1): one router from the handler classes."""

from __future__ import annotations

from pocketstack.common.api.routes import Router
from pocketstack.orchestration.api.actions import ActionsApi
from pocketstack.orchestration.api.info import InfoApi
from pocketstack.orchestration.api.resources import ResourcesApi
from pocketstack.orchestration.api.software import SoftwareApi
from pocketstack.orchestration.api.stacks import StacksApi
from pocketstack.orchestration.manager import OrchestrationManager


def build_router(manager: OrchestrationManager) -> Router:
    return Router().include(InfoApi(manager), StacksApi(manager), ResourcesApi(manager), SoftwareApi(manager),
                            ActionsApi(manager))
