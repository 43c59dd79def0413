"""Request bodies of the volume proxy (``/os-volumes``, ``/os-snapshots``): Nova's
schemas, loose where Nova's are (a deprecated API: ``metadata`` any object)."""

from __future__ import annotations

from pocketstack.compute.api.common import BOOLEAN

CREATE_VOLUME = {
    "type": "object", "required": ["volume"], "additionalProperties": False,
    "properties": {"volume": {
        "type": "object", "required": ["size"], "additionalProperties": False,
        "properties": {
            "volume_type": {"type": "string"},
            "metadata": {"type": "object"},
            "snapshot_id": {"type": "string"},
            "size": {"type": ["integer", "string"], "pattern": "^[0-9]+$", "minimum": 1},
            "availability_zone": {"type": "string"},
            "display_name": {"type": "string"},
            "display_description": {"type": "string"},
        }}},
}

CREATE_SNAPSHOT = {
    "type": "object", "required": ["snapshot"], "additionalProperties": False,
    "properties": {"snapshot": {
        "type": "object", "required": ["volume_id"], "additionalProperties": False,
        "properties": {
            "volume_id": {"type": "string"},
            "force": BOOLEAN,
            "display_name": {"type": "string"},
            "display_description": {"type": "string"},
        }}},
}
