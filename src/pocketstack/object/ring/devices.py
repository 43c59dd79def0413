"""Devices (disks) of a ring, their failure-domain tiers and Swift's device syntax.

A device lives in a four-level failure-domain tree -- region, zone, server (its IP)
and the device itself.  The builder spreads a partition's replicas across that tree,
so every device exposes its *tiers*: the path from the top of the tree down to it.

The command line uses Swift's compact notations, kept verbatim so operators can reuse
their habits and scripts::

    r1z2-10.0.0.5:6200/sdb1_"meta text"            (swift-ring-builder add)
    r1z2-10.0.0.5:6200R10.1.0.5:6300/sdb1          (with a replication address)
    d7  /  r2  /  z1-10.0.0.5  /  -10.0.0.5/sdc1   (search values)
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from typing import Any

from pocketstack.object.ring.errors import RingBuilderError

#: Device ids are stored in ``array('H')`` rows; 0xFFFF marks "no device yet".
NONE_DEV = 0xFFFF
MAX_DEV_ID = NONE_DEV - 1

Tier = tuple


@dataclass
class Device:
    """One disk: where it is (tiers), how to reach it, and how much it should hold."""

    id: int
    region: int
    zone: int
    ip: str
    port: int
    device: str
    weight: float
    meta: str = ""
    replication_ip: str = ""
    replication_port: int = 0
    #: Number of partition-replicas currently assigned (derived, never serialised).
    parts: int = field(default=0, compare=False)

    def __post_init__(self) -> None:
        if not self.replication_ip:
            self.replication_ip = self.ip
        if not self.replication_port:
            self.replication_port = self.port
        self.weight = float(self.weight)
        check_device(self)

    @property
    def tiers(self) -> tuple[Tier, Tier, Tier, Tier]:
        """``((r,), (r, z), (r, z, ip), (r, z, ip, id))``: the failure domains, widest first."""
        r, z, ip = self.region, self.zone, self.ip
        return (r,), (r, z), (r, z, ip), (r, z, ip, self.id)

    def to_dict(self) -> dict[str, Any]:
        """The persistent fields (``parts`` is recomputed from the assignment table)."""
        data = asdict(self)
        del data["parts"]
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Device:
        known = {k: v for k, v in data.items() if k in _FIELDS and k != "parts"}
        return cls(**known)

    def label(self) -> str:
        """Swift's one-line rendering, e.g. ``d3r1z2-10.0.0.5:6200/sdb1_"meta"``."""
        meta = f'_"{self.meta}"' if self.meta else ""
        return f"d{self.id}r{self.region}z{self.zone}-{_fmt_ip(self.ip)}:{self.port}/{self.device}{meta}"


_FIELDS = {f for f in Device.__dataclass_fields__}


def check_device(dev: Device) -> None:
    """Reject values that would produce a broken ring (raise :class:`RingBuilderError`)."""
    if not isinstance(dev.id, int) or not 0 <= dev.id <= MAX_DEV_ID:
        raise RingBuilderError(f"device id {dev.id!r} must be an integer in 0..{MAX_DEV_ID}")
    for name in ("region", "zone"):
        value = getattr(dev, name)
        if not isinstance(value, int) or value < 0:
            raise RingBuilderError(f"device {name} {value!r} must be a non-negative integer")
    for name in ("port", "replication_port"):
        value = getattr(dev, name)
        if not isinstance(value, int) or not 0 < value < 65536:
            raise RingBuilderError(f"device {name} {value!r} must be an integer in 1..65535")
    if not dev.ip:
        raise RingBuilderError("device ip must not be empty")
    if not dev.device or "/" in dev.device:
        raise RingBuilderError(f"device name {dev.device!r} must be non-empty and contain no '/'")
    if not dev.weight >= 0:  # also rejects NaN
        raise RingBuilderError(f"device weight {dev.weight!r} must be >= 0")


def _fmt_ip(ip: str) -> str:
    return f"[{ip}]" if ":" in ip else ip


# An address is an IPv6 literal in brackets or a run of characters that cannot start
# the next field (':' port, '/' device, '_' meta, 'R' replication address).
_ADDR = r"(?:\[[0-9A-Fa-f:.]+\]|[^:/_R\s\[\]]+)"

_ADD_RE = re.compile(
    rf"""^(?:r(?P<region>\d+))?
        z(?P<zone>\d+)
        -(?P<ip>{_ADDR}):(?P<port>\d+)
        (?:R(?P<replication_ip>{_ADDR}):(?P<replication_port>\d+))?
        /(?P<device>[^_\s/]+)
        (?:_(?P<meta>.*))?$""",
    re.VERBOSE,
)

_SEARCH_RE = re.compile(
    rf"""^(?:d(?P<id>\d+))?
        (?:r(?P<region>\d+))?
        (?:z(?P<zone>\d+))?
        (?:-(?P<ip>{_ADDR}))?
        (?::(?P<port>\d+))?
        (?:R(?P<replication_ip>{_ADDR}))?
        (?::(?P<replication_port>\d+))?
        (?:/(?P<device>[^_\s/]+))?
        (?:_(?P<meta>.*))?$""",
    re.VERBOSE,
)

_INT_KEYS = ("id", "region", "zone", "port", "replication_port")


def _clean(groups: dict[str, str | None]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in groups.items():
        if value is None:
            continue
        if key in _INT_KEYS:
            out[key] = int(value)
        elif key in ("ip", "replication_ip"):
            out[key] = value.strip("[]")
        elif key == "meta":
            out[key] = value.strip('"')
        else:
            out[key] = value
    return out


def parse_add_value(value: str) -> dict[str, Any]:
    """Parse ``r1z2-10.0.0.5:6200[R<ip>:<port>]/sdb1[_meta]`` into device fields.

    The region may be omitted (Swift's legacy form) and then defaults to 1.
    """
    match = _ADD_RE.match(value.strip())
    if not match:
        raise RingBuilderError(
            f"invalid device {value!r}; expected r<region>z<zone>-<ip>:<port>/<device>[_<meta>]")
    fields = _clean(match.groupdict())
    fields.setdefault("region", 1)
    return fields


def parse_search_value(value: str) -> dict[str, Any]:
    """Parse a search value (``d3``, ``r1z2``, ``-10.0.0.5/sdb1``, ...) into criteria."""
    match = _SEARCH_RE.match(value.strip())
    criteria = _clean(match.groupdict()) if match else {}
    if not criteria:
        raise RingBuilderError(
            f"invalid search value {value!r}; expected d<id>r<region>z<zone>-<ip>:<port>/<device>_<meta>")
    return criteria


def matches(dev: Device, criteria: dict[str, Any]) -> bool:
    """True when ``dev`` has every field of ``criteria`` (meta matches as a substring)."""
    for key, wanted in criteria.items():
        if key == "meta":
            if wanted not in dev.meta:
                return False
        elif getattr(dev, key) != wanted:
            return False
    return True
