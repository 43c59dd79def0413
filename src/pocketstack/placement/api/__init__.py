"""The Placement API: one router assembled from the resource families' handler classes."""

from __future__ import annotations

from pocketstack.common.api.routes import Router
from pocketstack.placement.api.allocations import AllocationsApi, UsagesApi
from pocketstack.placement.api.candidates import AllocationCandidatesApi
from pocketstack.placement.api.classes import ResourceClassesApi, TraitsApi
from pocketstack.placement.api.inventories import InventoriesApi
from pocketstack.placement.api.providers import ProvidersApi
from pocketstack.placement.api.root import RootApi
from pocketstack.placement.manager import PlacementManager


def build_router(manager: PlacementManager) -> Router:
    return Router().include(
        RootApi(), ProvidersApi(manager), InventoriesApi(manager.providers), ResourceClassesApi(manager.catalog),
        TraitsApi(manager.catalog), AllocationsApi(manager), UsagesApi(manager), AllocationCandidatesApi(manager))
