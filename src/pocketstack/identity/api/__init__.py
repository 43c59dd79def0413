"""The Identity API (Keystone v3): one router assembled from the resource families."""

from __future__ import annotations

from pocketstack.common.api.routes import Router
from pocketstack.identity.api import auth, catalog, resources, roles, users
from pocketstack.identity.manager import Identity


def build_router(identity: Identity) -> Router:
    router = Router()
    for module in (auth, resources, users, roles, catalog):
        module.register(router, identity)
    return router
