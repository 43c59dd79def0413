"""The EC2 tree a guest reads: ``/<version>/meta-data/...`` and ``/<version>/user-data``,
as Nova's ``InstanceMetadata.get_ec2_metadata`` builds it.

EC2 ids: Nova numbers instances and images in mapping tables (``i-%08x``,
``ami-%08x``); pocketstack has no such numbers, so an id is the prefix and the first 8 hex
digits of the UUID (``i-3f2a9c01`` for ``3f2a9c01-...``): stable for the server's life,
the same from every API process, and unique in practice (two servers of one cloud share
one with odds of about n²/2³³).  A non-UUID image id (never made here) is hashed instead.
A server booted from a volume has no image: its ``ami-id`` is ``None``, as Nova prints it.
"""

from __future__ import annotations

import hashlib
import uuid
from typing import TYPE_CHECKING, Any

from pocketstack.metadata.tree import LATEST, Answer, Versions, find, render

if TYPE_CHECKING:
    from pocketstack.compute.contract import GuestInstance
    from pocketstack.metadata.content import GuestMetadata

VERSIONS = ("1.0", "2007-01-19", "2007-03-01", "2007-08-29", "2007-10-10", "2007-12-15", "2008-02-01",
            "2008-09-01", "2009-04-04")
TREE_VERSIONS = Versions(VERSIONS)
ROOT_DEVICE = "/dev/vda"


def ec2_id(prefix: str, resource_id: str) -> str:
    """``i-``/``ami-``/``aki-``/``ari-`` and 8 hex digits from a UUID (see the module's doc)."""
    try:
        digits = uuid.UUID(resource_id).hex[:8]
    except ValueError:
        digits = hashlib.sha256(resource_id.encode()).hexdigest()[:8]
    return f"{prefix}-{digits}"






def block_device_mapping(inst: GuestInstance) -> dict[str, str]:
    """Nova's ``instance_block_mapping``: the root disk, the flavor's ephemeral and swap
    disks (the next virtio names, in the order the hypervisor attaches them) and the
    volumes as ``ebs0``... in device name order."""
    mapping = {"ami": ROOT_DEVICE.removeprefix("/dev/"), "root": ROOT_DEVICE}
    letters = iter("bcdefghijklmnopqrstuvwxyz")
    if inst.ephemeral_gb:
        mapping["ephemeral0"] = f"/dev/vd{next(letters)}"
    if inst.swap_mb:
        mapping["swap"] = f"/dev/vd{next(letters)}"
    for number, device in enumerate(inst.volume_devices):
        mapping[f"ebs{number}"] = device
    return mapping


def tree(md: GuestMetadata, wanted: str) -> dict[str, Any]:
    """``/<wanted>``: ``{"meta-data": {...}}`` plus ``user-data`` when the server has some."""
    wanted = TREE_VERSIONS.resolve(wanted)
    inst = md.instance
    fixed = md.network.fixed_ipv4[0] if md.network.fixed_ipv4 else ""
    meta: dict[str, Any] = {
        "ami-id": ec2_id("ami", inst.image_ref) if inst.image_ref else None,
        "ami-launch-index": inst.launch_index, "ami-manifest-path": "FIXME",
        "instance-id": ec2_id("i", inst.id), "hostname": md.hostname,
        "local-ipv4": fixed or md.address, "reservation-id": inst.reservation_id,
        "security-groups": list(inst.security_groups)}
    if inst.key_name:
        meta["public-keys"] = {"0": {"_name": f"0={inst.key_name}", "openssh-key": inst.key_data}}
    if TREE_VERSIONS.since("2007-01-19", wanted):
        meta.update({"local-hostname": md.hostname, "public-hostname": md.hostname,
                     "public-ipv4": md.network.floating_ipv4[0] if md.network.floating_ipv4 else ""})
    if TREE_VERSIONS.since("2007-08-29", wanted):
        meta["instance-type"] = inst.flavor_name
    if TREE_VERSIONS.since("2007-12-15", wanted):
        meta["block-device-mapping"] = block_device_mapping(inst)
        for key, prefix in (("kernel_id", "aki"), ("ramdisk_id", "ari")):
            if inst.image_properties.get(key):
                meta[key.replace("_", "-")] = ec2_id(prefix, str(inst.image_properties[key]))
    if TREE_VERSIONS.since("2008-02-01", wanted):
        meta["placement"] = {"availability-zone": inst.availability_zone}
    if TREE_VERSIONS.since("2008-09-01", wanted):
        meta["instance-action"] = "none"
    data: dict[str, Any] = {"meta-data": meta}
    if inst.user_data is not None:
        data["user-data"] = inst.user_data
    return data


def lookup(md: GuestMetadata, tokens: list[str]) -> Answer:
    """The answer for ``/<tokens>`` (or ``/ec2/<tokens>``): the versions, or a value of a tree."""
    if not tokens:
        return Answer(render([*VERSIONS, LATEST]))
    return Answer(render(find(tree(md, tokens[0]), tokens[1:])))
