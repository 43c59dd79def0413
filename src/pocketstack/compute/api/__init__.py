"""The Compute API (Nova v2.1): one router assembled from the resource families."""

from __future__ import annotations

from pocketstack.common.api.app import Router
from pocketstack.compute.api import (actions, flavors, hosts, keypairs, quotas, server_details, server_groups,
                                     servers, versions)
from pocketstack.compute.api import interfaces, volume_attachments


def build_router(compute) -> Router:
    router = Router()
    for module in (versions, flavors, keypairs, quotas, hosts, servers, actions, server_details, server_groups,
                   volume_attachments, interfaces):
        module.register(router, compute)
    return router
