"""Block Storage availability zones: the one zone the backend and the backup service are
in, and the zones a volume type confines its volumes to with the reserved extra spec
``RESKEY:availability_zones`` (3.52) -- Cinder's ``_extract_availability_zones``, without
its fallback (``allow_availability_zone_fallback`` is off by default)."""

from __future__ import annotations

from pocketstack.volume import errors
from pocketstack.volume import models as m

ZONE = "nova"  # Cinder's storage_availability_zone
ZONES = (ZONE,)
TYPE_ZONES = "RESKEY:availability_zones"


def type_zones(vtype: m.VolumeType | None) -> list[str] | None:
    """The zones the type names (comma-separated), or None when it names none."""
    specs = (vtype.extra_specs or {}) if vtype is not None else {}
    if TYPE_ZONES not in specs:
        return None
    return [zone.strip() for zone in str(specs[TYPE_ZONES]).split(",") if zone != ""]


def volume_zone(requested: str | None, vtype: m.VolumeType | None, source_zone: str | None = None) -> str:
    """The zone a new volume goes to: the one asked for, else its source's (snapshot or
    volume), else the default; a 400 when the zone is not one the type allows."""
    confined = type_zones(vtype)
    allowed = [zone for zone in ZONES if confined is None or zone in confined]
    if not allowed:
        raise errors.InvalidTypeAvailabilityZones(zones=confined)
    zone = requested or source_zone
    if zone is None:
        return allowed[0]
    if zone not in allowed:
        raise errors.InvalidAvailabilityZone(zone=zone)
    return zone
