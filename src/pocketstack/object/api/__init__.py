"""The Swift v1 API (the proxy): one router assembled from the handler classes of
info, accounts, containers and objects, and the cluster's admin reports."""

from __future__ import annotations

from pocketstack.common.api.routes import Router
from pocketstack.object.api.accounts import AccountsApi
from pocketstack.object.api.cluster import ClusterApi
from pocketstack.object.api.containers import ContainersApi
from pocketstack.object.api.info import InfoApi
from pocketstack.object.api.objects import ObjectsApi
from pocketstack.object.contract import ObjectContract
from pocketstack.object.store import ObjectStore


def build_router(store: ObjectStore, contract: ObjectContract) -> Router:
    return Router().include(InfoApi(), AccountsApi(store), ContainersApi(store), ObjectsApi(store),
                            ClusterApi(contract))
