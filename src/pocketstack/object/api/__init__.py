"""The Swift v1 API (the proxy): info, accounts, containers, objects."""

from __future__ import annotations

from pocketstack.common.api.routes import Router
from pocketstack.object.api import accounts, containers, info, objects
from pocketstack.object.store import ObjectStore


def build_router(store: ObjectStore) -> Router:
    router = Router()
    info.register(router)
    accounts.register(router, store)
    containers.register(router, store)
    objects.register(router, store)
    return router
