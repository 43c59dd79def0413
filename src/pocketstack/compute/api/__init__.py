"""The Compute API (Nova v2.1): one router assembled from the resource families' handler
classes."""

from __future__ import annotations

from typing import TYPE_CHECKING

from pocketstack.common.api.routes import Router
from pocketstack.compute.api import (
    aggregates,
    external_events,
    flavors,
    floating_ips,
    hosts,
    images,
    keypairs,
    migrations,
    networks,
    os_hosts,
    quotas,
    security_groups,
    server_groups,
    usage,
)
from pocketstack.compute.api.actions import ServerActionsApi
from pocketstack.compute.api.addresses import AddressesApi, ServerPasswordApi
from pocketstack.compute.api.assisted_snapshots import AssistedSnapshotsApi
from pocketstack.compute.api.consoles import ConsoleAuthTokensApi, ConsolesApi
from pocketstack.compute.api.extensions import ExtensionsApi
from pocketstack.compute.api.interfaces import InterfacesApi
from pocketstack.compute.api.microversion_routes import close_queries, volumes_boot_aliases
from pocketstack.compute.api.server_details import (
    DiagnosticsApi,
    InstanceActionsApi,
    MetadataApi,
    TagsApi,
    TopologyApi,
)
from pocketstack.compute.api.server_shares import ServerSharesApi
from pocketstack.compute.api.servers import ServersApi
from pocketstack.compute.api.versions import VersionsApi
from pocketstack.compute.api.volume_attachments import VolumeAttachmentsApi
from pocketstack.compute.api.volumes_proxy import VolumesProxyApi

if TYPE_CHECKING:
    from pocketstack.compute.manager import Compute


def build_router(compute: Compute) -> Router:
    return volumes_boot_aliases(close_queries(Router().include(
        VersionsApi(),
        ExtensionsApi(),
        ServersApi(compute),
        ServerActionsApi(compute),
        AddressesApi(compute),
        ServerPasswordApi(compute),
        MetadataApi(compute),
        TagsApi(compute),
        InstanceActionsApi(compute),
        DiagnosticsApi(compute),
        TopologyApi(compute),
        ServerSharesApi(compute),
        ConsolesApi(compute),
        ConsoleAuthTokensApi(compute),
        VolumeAttachmentsApi(compute),
        InterfacesApi(compute),
        flavors.FlavorsApi(compute.flavors),
        flavors.FlavorExtraSpecsApi(compute.flavors),
        flavors.FlavorAccessApi(compute.flavors),
        keypairs.KeyPairsApi(compute.keypairs),
        quotas.QuotaSetsApi(compute.quotas),
        quotas.QuotaClassSetsApi(compute.quotas),
        quotas.LimitsApi(compute.quotas),
        hosts.ServicesApi(compute.hosts),
        hosts.HypervisorsApi(compute.hosts, compute.placement, compute.instances),
        hosts.AvailabilityZonesApi(compute.hosts),
        os_hosts.HostsApi(compute.hosts, compute.placement, compute.instances),
        aggregates.AggregatesApi(compute.aggregates),
        aggregates.AggregateImagesApi(compute),
        images.ImagesApi(compute.images, compute.quotas),
        server_groups.ServerGroupsApi(compute.groups),
        security_groups.SecurityGroupsApi(compute),
        external_events.ExternalEventsApi(compute),
        migrations.MigrationsApi(compute.migration_records),
        migrations.ServerMigrationsApi(compute),
        networks.NetworksApi(compute),
        usage.UsageApi(compute.instances),
        usage.AuditLogApi(compute.hosts),
        floating_ips.FloatingIpsApi(compute),
        VolumesProxyApi(compute),
        AssistedSnapshotsApi(compute),
    )))
