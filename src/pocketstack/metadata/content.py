"""What a guest reads about its server, built once: the one source of the config drive
and of the metadata API.

:func:`build_metadata` gathers the server (the compute contract's
:class:`~pocketstack.compute.contract.GuestInstance`) and its networks
(:mod:`.networkinfo`); :mod:`.openstack` and :mod:`.ec2` render the two trees Nova
serves from it.  As in Nova's ``InstanceMetadata``, everything slow happens in the
build, and the random seed is drawn once per build (one request, or one config drive).
"""

from __future__ import annotations

import base64
import os
from dataclasses import dataclass
from typing import TYPE_CHECKING

from pocketstack.metadata import networkinfo, openstack
from pocketstack.metadata.networkinfo import NetworkInfo

if TYPE_CHECKING:
    from pocketstack.compute.contract import GuestInstance
    from pocketstack.network.contract import NetworkContract


@dataclass(frozen=True)
class GuestMetadata:
    instance: GuestInstance
    network: NetworkInfo
    hostname: str  # the instance's hostname in the cloud's DHCP domain ("vm1.novalocal")
    random_seed: str  # base64 of 512 random bytes
    # The address the request came from (the proxy's X-Forwarded-For): the EC2 tree's
    # local-ipv4 when the server has no fixed IPv4 address, as in Nova.
    address: str | None = None

    def meta_data(self, version: str = openstack.LATEST) -> dict:
        """``openstack/<version>/meta_data.json`` (the config drive carries ``latest``'s)."""
        return openstack.meta_data(self, version)


def hostname(instance: GuestInstance, dhcp_domain: str) -> str:
    """Nova's metadata hostname: the instance's, in ``dhcp_domain`` when one is set."""
    return f"{instance.hostname}.{dhcp_domain}" if dhcp_domain else instance.hostname


def build_metadata(instance: GuestInstance, network: NetworkContract | None, dhcp_domain: str,
                   address: str | None = None) -> GuestMetadata:
    """Everything ``instance``'s guest reads (blocking: call it from a worker thread)."""
    return GuestMetadata(instance, networkinfo.load(network, instance.id), hostname(instance, dhcp_domain),
                         base64.b64encode(os.urandom(512)).decode(), address)
