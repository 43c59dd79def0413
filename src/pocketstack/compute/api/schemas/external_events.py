"""Request body of ``POST /os-server-external-events``."""

from __future__ import annotations

NAMES = ["network-changed", "network-vif-plugged", "network-vif-unplugged", "network-vif-deleted"]
CREATE = {"type": "object", "required": ["events"], "additionalProperties": False, "properties": {"events": {
    "type": "array", "minItems": 1, "items": {
        "type": "object", "required": ["name", "server_uuid"], "additionalProperties": False, "properties": {
            "name": {"type": "string", "enum": NAMES + ["volume-extended"]},
            "server_uuid": {"type": "string", "format": "uuid"},
            "status": {"type": "string", "enum": ["failed", "completed", "in-progress"]},
            "tag": {"type": "string", "maxLength": 255}}}}}}
