"""The Placement API: one router assembled from the resource families."""

from __future__ import annotations

from pocketstack.common.api.routes import Router
from pocketstack.placement.api import allocations, candidates, classes, inventories, providers, root
from pocketstack.placement.manager import PlacementManager


def build_router(manager: PlacementManager) -> Router:
    router = Router()
    for module in (root, providers, inventories, classes, allocations, candidates):
        module.register(router, manager)
    return router
