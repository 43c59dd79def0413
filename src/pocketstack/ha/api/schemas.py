"""JSON Schemas of instance-HA request bodies (Masakari's ``schemas/notifications.py``)."""

from __future__ import annotations

TYPES = ("COMPUTE_HOST", "VM", "PROCESS")
STATUSES = ("new", "running", "error", "failed", "ignored", "finished")

CREATE = {
    "type": "object",
    "properties": {
        "notification": {
            "type": "object",
            "properties": {
                "type": {"type": "string", "enum": list(TYPES)},
                "hostname": {"type": "string", "minLength": 1, "maxLength": 255, "pattern": "^[^\\x00]+$"},
                "generated_time": {"type": "string", "minLength": 1, "maxLength": 64},
                "payload": {"type": "object"},
            },
            "required": ["type", "hostname", "generated_time", "payload"],
            "additionalProperties": False,
        },
    },
    "required": ["notification"],
    "additionalProperties": False,
}
