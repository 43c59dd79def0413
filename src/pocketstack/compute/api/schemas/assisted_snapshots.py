"""Request body of ``POST /os-assisted-volume-snapshots``: Nova's schema (the
``create_info`` a Cinder remotefs driver sends: the snapshot, the qcow2 overlay file)."""

from __future__ import annotations

_NAME = {"type": "string", "minLength": 1}

CREATE = {
    "type": "object", "required": ["snapshot"], "additionalProperties": False,
    "properties": {"snapshot": {
        "type": "object", "required": ["volume_id", "create_info"], "additionalProperties": False,
        "properties": {
            "volume_id": _NAME,
            "create_info": {
                "type": "object", "required": ["snapshot_id", "type", "new_file"], "additionalProperties": False,
                "properties": {"snapshot_id": _NAME, "type": {"type": "string", "enum": ["qcow2"]},
                               "new_file": _NAME, "id": _NAME}},
        }}},
}
