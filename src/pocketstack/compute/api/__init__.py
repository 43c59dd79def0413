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
    for module in (versions, extensions, servers,
                   actions, addresses, server_details, consoles, volume_attachments, interfaces):
        module.register(router, compute)
    router.include(
        flavors.FlavorsApi(compute.flavors), flavors.FlavorExtraSpecsApi(compute.flavors),
        flavors.FlavorAccessApi(compute.flavors), keypairs.KeyPairsApi(compute.keypairs),
        quotas.QuotaSetsApi(compute.quotas), quotas.QuotaClassSetsApi(compute.quotas), quotas.LimitsApi(compute.quotas),
        hosts.ServicesApi(compute.hosts), hosts.HypervisorsApi(compute.hosts, compute.placement, compute.instances),
        hosts.AvailabilityZonesApi(compute.hosts),
        os_hosts.HostsApi(compute.hosts, compute.placement, compute.instances),
        aggregates.AggregatesApi(compute.aggregates), images.ImagesApi(compute.images, compute.quotas),
        server_groups.ServerGroupsApi(compute.groups), security_groups.SecurityGroupsApi(compute),
        external_events.ExternalEventsApi(compute.instances), migrations.MigrationsApi(compute.migration_records),
        networks.NetworksApi(compute), usage.UsageApi(compute.instances), usage.AuditLogApi(compute.hosts),
        floating_ips.FloatingIpsApi(compute))
    return router
