"""The Compute API (Nova v2.1): one router assembled from the resource families."""

from __future__ import annotations

from pocketstack.common.api.routes import Router
from pocketstack.compute.api import (
    actions,
    addresses,
    aggregates,
    consoles,
    extensions,
    external_events,
    flavors,
    floating_ips,
    hosts,
    images,
    interfaces,
    keypairs,
    migrations,
    networks,
    os_hosts,
    quotas,
    security_groups,
    server_details,
    server_groups,
    servers,
    usage,
    versions,
    volume_attachments,
)


def build_router(compute) -> Router:
    router = Router()
    for module in (versions, extensions, flavors, keypairs, quotas, hosts, os_hosts, aggregates, images, servers,
                   actions, addresses, server_details, server_groups, security_groups, external_events, migrations,
                   consoles, networks, usage, volume_attachments, interfaces, floating_ips):
        module.register(router, compute)
    return router
