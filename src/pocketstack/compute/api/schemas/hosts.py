"""Request bodies of ``/os-services`` and ``/os-hosts``."""

from __future__ import annotations

SERVICE_UPDATE = {"type": "object", "minProperties": 1, "additionalProperties": False, "properties": {
    "status": {"type": "string", "enum": ["enabled", "disabled"]},
    "disabled_reason": {"type": ["string", "null"], "maxLength": 255},
    "forced_down": {"type": "boolean"}}}
_TOGGLE = {"type": "string", "enum": ["enable", "disable"]}
HOST_UPDATE = {"type": "object", "additionalProperties": False, "minProperties": 1,
               "properties": {"status": _TOGGLE, "maintenance_mode": _TOGGLE}}
