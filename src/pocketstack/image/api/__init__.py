"""The Image API (Glance v2): one router assembled from its resource families."""

from __future__ import annotations

from pocketstack.common.api.routes import Router
from pocketstack.image.api import data, discovery, images, members, metadef_definitions, metadef_namespaces, tasks
from pocketstack.image.manager import ImageManager


def build_router(manager: ImageManager) -> Router:
    router = Router()
    discovery.register(router)
    for module in (images, members, data, metadef_namespaces, metadef_definitions, tasks):
        module.register(router, manager)
    return router
