"""Request bodies of ``/os-server-groups``: ``policies`` before 2.64, ``policy`` and ``rules`` from it."""

from __future__ import annotations

from pocketstack.compute.server_groups import POLICIES

_NAME = {"type": "string", "minLength": 1, "maxLength": 255}
CREATE = {"type": "object", "required": ["server_group"], "properties": {"server_group": {
    "type": "object", "required": ["name", "policies"], "additionalProperties": False, "properties": {
        "name": _NAME, "policies": {"type": "array", "minItems": 1, "maxItems": 1,
                                    "items": {"type": "string", "enum": list(POLICIES)}}}}}}
CREATE_V264 = {"type": "object", "required": ["server_group"], "properties": {"server_group": {
    "type": "object", "required": ["name", "policy"], "additionalProperties": False, "properties": {
        "name": _NAME, "policy": {"type": "string", "enum": list(POLICIES)},
        "rules": {"type": "object", "additionalProperties": False, "properties": {
            "max_server_per_host": {"type": ["integer", "string"], "pattern": "^[0-9]+$", "minimum": 1}}}}}}}
