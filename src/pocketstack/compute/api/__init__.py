"""The Compute API (Nova v2.1): one router assembled from the resource families.

Families still written as ``register(router, compute)`` functions are added through the
router's transitional API until they declare their routes (issue 12); one entry a line.
"""

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
from pocketstack.compute.api.consoles import ConsolesApi
from pocketstack.compute.api.extensions import ExtensionsApi
from pocketstack.compute.api.interfaces import InterfacesApi
from pocketstack.compute.api.server_details import DiagnosticsApi, InstanceActionsApi, MetadataApi, TagsApi
from pocketstack.compute.api.servers import ServersApi
from pocketstack.compute.api.versions import VersionsApi
from pocketstack.compute.api.volume_attachments import VolumeAttachmentsApi

if TYPE_CHECKING:
    from pocketstack.compute.manager import Compute


def build_router(compute: Compute) -> Router:
    router = Router().include(
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
        ConsolesApi(compute),
        VolumeAttachmentsApi(compute),
        InterfacesApi(compute),
    )
    # -- not converted yet: registered imperatively (the other half of issue 12) --------
    for module in (
        flavors,
        keypairs,
        quotas,
        hosts,
        os_hosts,
        aggregates,
        images,
        server_groups,
        security_groups,
        external_events,
        migrations,
        networks,
        usage,
        floating_ips,
    ):
        module.register(router, compute)
    return router
