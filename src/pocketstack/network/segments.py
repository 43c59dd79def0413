"""Provider segments: ``provider:network_type`` / ``physical_network`` / ``segmentation_id``.

A segmentation id is claimed exactly like an IP address (:func:`ipam.claim`): an INSERT
under the unique constraint (network_type, physical_network, segmentation_id), a random
free candidate from the configured ranges, exhaustion detected by counting.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import Session

from pocketstack.common.db.inserts import insert_if_free
from pocketstack.common.errors import ApiError
from pocketstack.network import errors, ipam
from pocketstack.network.models import Segment, table

NETWORK_TYPES = ("flat", "vlan", "vxlan", "local")
# Bytes of VXLAN encapsulation over IPv4: the outer IPv4 header (20) and VXLAN's UDP,
# VXLAN and inner Ethernet headers (30), which Neutron subtracts from the underlay's MTU.
VXLAN_OVERHEAD = 50
# The smallest MTU a subnet's IP version works with (RFC 791, RFC 8200).
IPV4_MIN_MTU = 68
IPV6_MIN_MTU = 1280


@dataclass
class SegmentConfig:
    """What ML2 reads from ``network_vlan_ranges``, ``vni_ranges``, ``flat_networks``,
    ``tenant_network_types``, ``global_physnet_mtu`` and ``path_mtu`` (Settings
    ``network_*``)."""

    vlan_ranges: dict[str, list[ipam.Range]]
    vxlan_ranges: list[ipam.Range]
    # Physical networks a flat network may use; "*" allows any.
    flat_networks: tuple[str, ...]
    # The type a project's own network gets (ML2's tenant_network_types[0]).
    tenant_network_type: str
    physnet_mtu: int
    path_mtu: int = 0

    @classmethod
    def from_settings(cls, settings) -> SegmentConfig:
        """Parse the ``network_*`` settings; a malformed value fails at start-up."""
        vlan: dict[str, list[ipam.Range]] = {}
        for item in _items(settings.network_vlan_ranges):
            physnet, _, bounds = item.partition(":")
            vlan.setdefault(physnet, [])
            if bounds:
                vlan[physnet].append(_range("network_vlan_ranges", bounds, 1, 4094))
        vni = [_range("network_vni_ranges", item, 1, 2 ** 24 - 1) for item in _items(settings.network_vni_ranges)]
        config = cls(vlan_ranges=vlan, vxlan_ranges=vni, flat_networks=tuple(_items(settings.network_flat_networks)),
                     tenant_network_type=settings.network_tenant_network_type,
                     physnet_mtu=settings.network_physnet_mtu, path_mtu=settings.network_path_mtu)
        if config.tenant_network_type not in NETWORK_TYPES or config.tenant_network_type == "flat":
            raise ValueError(f"setting 'network_tenant_network_type': {config.tenant_network_type!r} is not one of "
                             "vlan, vxlan, local")
        if config.tenant_network_type == "vlan" and not any(vlan.values()):
            raise ValueError("setting 'network_tenant_network_type' is vlan but network_vlan_ranges has no range")
        return config

    def flat_allowed(self, physnet: str | None) -> bool:
        return bool(physnet) and ("*" in self.flat_networks or physnet in self.flat_networks)

    def max_mtu(self, network_type: str | None) -> int:
        """The largest MTU a network of the type may have, as ML2's type drivers compute
        it (``get_mtu``): flat and VLAN the physical network's, VXLAN the lower of the
        physical and path MTUs less the encapsulation; a type without one (local) the
        physical network's (``_get_network_mtu``).  0: no limit (both MTUs set to 0)."""
        if network_type == "vxlan":
            mtus = [mtu for mtu in (self.physnet_mtu, self.path_mtu) if mtu > 0]
            if mtus:
                return min(mtus) - VXLAN_OVERHEAD
        return max(self.physnet_mtu, 0)

    def network_mtu(self, network_type: str | None, requested: int | None) -> int:
        """The MTU a network gets: the one asked for when the type allows it (400
        ``InvalidInput`` "Requested MTU is too big"), else (none or 0) the type's largest."""
        maximum = self.max_mtu(network_type)
        if requested and maximum and requested > maximum:
            raise errors.InvalidInput(error_message=f"Requested MTU is too big, maximum is {maximum}")
        return requested or maximum


def check_subnet_mtu(network_id: str, mtu: int, ip_versions) -> None:
    """409 ``NetworkMTUSubnetConflict`` when a network of MTU ``mtu`` would hold subnets
    of ``ip_versions`` that cannot work with it: IPv4 below 68 bytes, IPv6 below 1280
    (Neutron's ``_validate_subnet_network_mtu`` and ``_validate_change_network_mtu``;
    the first skips a network without MTU, the second refuses 0 with subnets)."""
    if mtu >= IPV6_MIN_MTU:
        return
    versions = set(ip_versions)
    if versions and mtu < IPV4_MIN_MTU:
        raise errors.NetworkMTUSubnetConflict(net_id=network_id, mtu=IPV4_MIN_MTU)
    if 6 in versions:
        raise errors.NetworkMTUSubnetConflict(net_id=network_id, mtu=IPV6_MIN_MTU)


def _items(value: str) -> list[str]:
    return [item.strip() for item in value.split(",") if item.strip()]


def _range(setting: str, text: str, lowest: int, highest: int) -> ipam.Range:
    try:
        lo, hi = (int(part) for part in text.split(":"))
    except ValueError:
        raise ValueError(f"setting {setting!r}: {text!r} is not min:max") from None
    if not lowest <= lo <= hi <= highest:
        raise ValueError(f"setting {setting!r}: {text!r} is outside {lowest}:{highest} or reversed")
    return lo, hi


def _in_use(network_type: str, physnet: str, seg_id: int | None) -> ApiError:
    if network_type == "vlan":
        return errors.VlanIdInUse(vlan_id=seg_id, physical_network=physnet)
    if network_type == "flat":
        return errors.FlatNetworkInUse(physical_network=physnet)
    return errors.TunnelIdInUse(tunnel_id=seg_id)


def validate(config: SegmentConfig, network_type: str, physnet: str | None, seg_id: int | None) -> None:
    """400 for a segment request ML2 would reject."""
    if network_type not in NETWORK_TYPES:
        raise errors.InvalidInput(error_message=f"network_type value '{network_type}' not supported")
    if network_type in ("vxlan", "local") and physnet:
        raise errors.InvalidInput(error_message=f"provider:physical_network specified for {network_type} network")
    if network_type in ("flat", "local") and seg_id is not None:
        raise errors.InvalidInput(error_message=f"segmentation_id specified for {network_type} network")
    if network_type == "flat" and not config.flat_allowed(physnet):
        raise errors.InvalidInput(error_message=f"physical_network '{physnet}' unknown for flat provider network")
    if network_type == "vlan":
        if physnet not in config.vlan_ranges:
            raise errors.InvalidInput(error_message=f"physical_network '{physnet}' unknown for VLAN provider "
                                                     "network")
        if seg_id is not None and not 1 <= seg_id <= 4094:
            raise errors.InvalidInput(error_message="segmentation_id out of range (1 through 4094)")
    if network_type == "vxlan" and seg_id is not None and not 1 <= seg_id <= 2 ** 24 - 1:
        raise errors.InvalidInput(error_message="segmentation_id out of range (1 through 16777215)")


def allocate(session: Session, config: SegmentConfig, network_id: str, network_type: str,
             physnet: str | None, seg_id: int | None) -> int | None:
    """Claim the segment of a new network; returns its segmentation id (None for flat/local)."""
    if network_type == "local":
        return None
    physnet = physnet or ""

    def row(value: int) -> dict:
        return {"network_id": network_id, "network_type": network_type, "physical_network": physnet,
                "segmentation_id": value}

    if network_type == "flat" or seg_id is not None:
        value = 0 if network_type == "flat" or seg_id is None else seg_id
        if not insert_if_free(session, table(Segment), row(value)):
            raise _in_use(network_type, physnet, value)
        return None if network_type == "flat" else value
    ranges = config.vlan_ranges[physnet] if network_type == "vlan" else config.vxlan_ranges

    def taken():
        return session.scalars(sa.select(Segment.segmentation_id).where(
            Segment.network_type == network_type, Segment.physical_network == physnet))

    try:
        return ipam.claim(session, table(Segment), ranges, taken, row)
    except ipam.Exhausted:
        raise errors.NoNetworkAvailable() from None
