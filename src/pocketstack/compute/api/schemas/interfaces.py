"""``/servers/{id}/os-interface``."""

from __future__ import annotations

CREATE = {"type": "object", "properties": {"interfaceAttachment": {
    "type": "object", "additionalProperties": False, "properties": {
        "net_id": {"type": "string", "minLength": 1}, "port_id": {"type": "string", "minLength": 1},
        "fixed_ips": {"type": "array", "maxItems": 1, "items": {
            "type": "object", "required": ["ip_address"], "additionalProperties": False,
            "properties": {"ip_address": {"type": "string"}}}},
        "tag": {"type": "string"}}}}, "additionalProperties": False}
