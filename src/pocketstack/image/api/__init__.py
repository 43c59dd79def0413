"""The Image API (Glance v2): one router assembled from the resource families' handler
classes."""

from __future__ import annotations

from pocketstack.common.api.routes import Router
from pocketstack.image.api.cache import CacheApi
from pocketstack.image.api.data import DataApi
from pocketstack.image.api.discovery import DiscoveryApi
from pocketstack.image.api.images import ImagesApi
from pocketstack.image.api.imports import ImportApi
from pocketstack.image.api.members import MembersApi
from pocketstack.image.api.metadef_definitions import ObjectsApi, PropertiesApi, TagsApi
from pocketstack.image.api.metadef_namespaces import NamespacesApi, ResourceTypesApi
from pocketstack.image.api.stores import StoresApi
from pocketstack.image.api.tasks import TasksApi
from pocketstack.image.manager import ImageManager


def build_router(manager: ImageManager) -> Router:
    return Router().include(
        DiscoveryApi(), ImagesApi(manager), MembersApi(manager), DataApi(manager), NamespacesApi(manager),
        ResourceTypesApi(manager), ObjectsApi(manager), PropertiesApi(manager), TagsApi(manager),
        TasksApi(manager), ImportApi(manager), CacheApi(manager), StoresApi(manager))
