"""Provider segments: ``provider:network_type`` / ``physical_network`` / ``segmentation_id``.

A segmentation id is claimed exactly like an IP address (:func:`ipam.claim`): an INSERT
under the unique constraint (network_type, physical_network, segmentation_id), a random
free candidate from the configured ranges, exhaustion detected by counting.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import sqlalchemy as sa
from sqlalchemy.orm import Session

from pocketstack.common.api.errors import ApiError
from pocketstack.network import errors, ipam
from pocketstack.network.models import Segment

NETWORK_TYPES = ("flat", "vlan", "vxlan", "local")


@dataclass
class SegmentConfig:
    """What ML2 reads from ``network_vlan_ranges``, ``vni_ranges`` and ``flat_networks``."""

    vlan_ranges: dict[str, list[ipam.Range]] = field(default_factory=lambda: {"physnet1": [(1000, 2999)]})
    vxlan_ranges: list[ipam.Range] = field(default_factory=lambda: [(1, 65535)])
    flat_networks: tuple[str, ...] = ("public", "physnet1")
    # The type a project's own network gets (ML2's tenant_network_types[0]).
    tenant_network_type: str = "vxlan"


def _in_use(network_type: str, physnet: str, seg_id: int | None) -> ApiError:
    if network_type == "vlan":
        return errors.conflict(f"Unable to create the network. The VLAN {seg_id} on physical network "
                               f"{physnet} is in use.", "VlanIdInUse")
    if network_type == "flat":
        return errors.conflict(f"Unable to create the flat network. Physical network {physnet} is in use.",
                               "FlatNetworkInUse")
    return errors.conflict(f"Unable to create the network. The tunnel ID {seg_id} is in use.", "TunnelIdInUse")


def validate(config: SegmentConfig, network_type: str, physnet: str | None, seg_id: int | None) -> None:
    """400 for a segment request ML2 would reject."""
    if network_type not in NETWORK_TYPES:
        raise errors.invalid_input(f"network_type value '{network_type}' not supported")
    if network_type in ("vxlan", "local") and physnet:
        raise errors.invalid_input(f"provider:physical_network specified for {network_type} network")
    if network_type in ("flat", "local") and seg_id is not None:
        raise errors.invalid_input(f"segmentation_id specified for {network_type} network")
    if network_type == "flat" and physnet not in config.flat_networks:
        raise errors.invalid_input(f"physical_network '{physnet}' unknown for flat provider network")
    if network_type == "vlan":
        if physnet not in config.vlan_ranges:
            raise errors.invalid_input(f"physical_network '{physnet}' unknown for VLAN provider network")
        if seg_id is not None and not 1 <= seg_id <= 4094:
            raise errors.invalid_input(f"segmentation_id out of range (1 through 4094)")
    if network_type == "vxlan" and seg_id is not None and not 1 <= seg_id <= 2 ** 24 - 1:
        raise errors.invalid_input("segmentation_id out of range (1 through 16777215)")


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
        value = 0 if network_type == "flat" else seg_id
        if not ipam.insert_if_free(session, Segment.__table__, row(value)):
            raise _in_use(network_type, physnet, value)
        return None if network_type == "flat" else value
    ranges = config.vlan_ranges[physnet] if network_type == "vlan" else config.vxlan_ranges

    def taken():
        return session.scalars(sa.select(Segment.segmentation_id).where(
            Segment.network_type == network_type, Segment.physical_network == physnet))

    try:
        return ipam.claim(session, Segment.__table__, ranges, taken, row)
    except ipam.Exhausted:
        raise ApiError("Unable to create the network. No tenant network is available for allocation.",
                       status=503, error_type="NoNetworkAvailable") from None
