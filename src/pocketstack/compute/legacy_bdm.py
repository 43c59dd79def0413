"""The legacy ``block_device_mapping`` (v1) of a server create, in v2 terms.

Nova still takes the v1 list at 2.1+ (its ``_legacy_block_device_mapping`` schema): each
item names a ``volume_id`` or a ``snapshot_id`` (or a ``virtual_name`` of ``swap`` /
``ephemeralN``, or ``no_device``), never a source or destination type.  As Nova's
``BlockDeviceDict.from_legacy`` and ``from_legacy_mapping`` (with the root device name it
assumes, ``vda``), a volume or snapshot mapped to ``vda`` is the server's root disk (boot
index 0) and every other one is attached (boot index -1); the image of ``imageRef`` is the
root otherwise.  The result is what :func:`pocketstack.compute.block_devices.parse`
validates for ``block_device_mapping_v2``.
"""

from __future__ import annotations

import re
from typing import Any

from pocketstack.compute import errors

ROOT_DEVICE_NAME = "vda"  # Nova's assumption when the image names no root device
_EPHEMERAL = re.compile(r"^ephemeral(\d|[1-9]\d+)$")
_TRUE = ("true", "1", "on", "yes")


def _strip_dev(name: str | None) -> str | None:
    return name[5:] if name and name.startswith("/dev/") else name


def _swap_or_ephemeral(virtual_name: str | None) -> bool:
    return bool(virtual_name) and (virtual_name == "swap" or _EPHEMERAL.match(str(virtual_name)) is not None)


def convert_one(legacy: dict[str, Any]) -> dict[str, Any] | None:
    """Nova's ``BlockDeviceDict.from_legacy`` for one item (``None`` for ``no_device``: it
    maps nothing); 400 for an item that names nothing."""
    out: dict[str, Any] = {}
    if legacy.get("device_name"):
        name = str(legacy["device_name"])
        out["device_name"] = name if name.startswith("/dev/") else "/dev/" + name
    if "delete_on_termination" in legacy:
        out["delete_on_termination"] = str(legacy["delete_on_termination"]).lower() in _TRUE
    if legacy.get("volume_size") not in (None, ""):
        out["volume_size"] = legacy["volume_size"]
    if _swap_or_ephemeral(legacy.get("virtual_name")):
        out.update(source_type="blank", destination_type="local", delete_on_termination=True,
                   guest_format="swap" if legacy["virtual_name"] == "swap" else "ext4")
    elif legacy.get("snapshot_id"):
        out.update(source_type="snapshot", destination_type="volume", uuid=legacy["snapshot_id"])
    elif legacy.get("volume_id"):
        out.update(source_type="volume", destination_type="volume", uuid=legacy["volume_id"])
    elif legacy.get("no_device"):
        return None
    else:
        raise errors.InvalidBlockDeviceMapping(reason="Unrecognized legacy format.")
    return out


def to_v2(server: dict[str, Any]) -> list[dict[str, Any]]:
    """The request's block device mappings as v2 items: ``block_device_mapping_v2`` as
    given, or ``block_device_mapping`` converted; 400 when both are given (Nova)."""
    legacy = server.get("block_device_mapping") or []
    v2 = server.get("block_device_mapping_v2") or []
    if legacy and v2:
        raise errors.MixedBlockDeviceMappingSyntax()
    if not legacy:
        return list(v2)
    out = []
    for item in legacy:
        bdm = convert_one(item)
        if bdm is None:
            continue
        root = (bdm["source_type"] in ("volume", "snapshot")
                and _strip_dev(bdm.get("device_name")) == ROOT_DEVICE_NAME)
        bdm["boot_index"] = 0 if root else -1
        out.append(bdm)
    return out
