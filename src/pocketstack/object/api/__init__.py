"""The Swift v1 API (the proxy): one router assembled from the handler classes of
info, crossdomain.xml, accounts, containers and objects, and the cluster's admin reports."""

from __future__ import annotations

from pocketstack.common.api.routes import Router
from pocketstack.object.api.accounts import AccountsApi
from pocketstack.object.api.cluster import ClusterApi
from pocketstack.object.api.containers import ContainersApi
from pocketstack.object.api.crossdomain import DEFAULT_POLICY, CrossDomainApi
from pocketstack.object.api.info import InfoApi
from pocketstack.object.api.objects import ObjectsApi
from pocketstack.object.contract import ObjectContract
from pocketstack.object.store import ObjectStore
from pocketstack.object.syncrealms import SyncConfig


def build_router(store: ObjectStore, contract: ObjectContract, cross_domain_policy: str = DEFAULT_POLICY,
                 sync: SyncConfig | None = None) -> Router:
    sync = sync or SyncConfig.none()
    objects = ObjectsApi(store, sync)
    return Router().include(InfoApi(sync.realms), CrossDomainApi(cross_domain_policy), AccountsApi(store),
                            ContainersApi(store, objects, sync), objects, ClusterApi(contract))
