"""The Swift v1 API (the proxy): one router assembled from the handler classes of
info, accounts, containers and objects."""

from __future__ import annotations

from pocketstack.common.api.routes import Router
from pocketstack.object.api.accounts import AccountsApi
from pocketstack.object.api.containers import ContainersApi
from pocketstack.object.api.info import InfoApi
from pocketstack.object.api.objects import ObjectsApi
from pocketstack.object.store import ObjectStore


def build_router(store: ObjectStore) -> Router:
    return Router().include(InfoApi(), AccountsApi(store), ContainersApi(store), ObjectsApi(store))
