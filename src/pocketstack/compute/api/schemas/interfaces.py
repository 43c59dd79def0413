"""``/servers/{id}/os-interface``."""

from __future__ import annotations

import copy
from typing import Any

from pocketstack.compute.api.schemas.servers import DEVICE_TAG

_CREATE_V21: dict[str, Any] = {"type": "object", "properties": {"interfaceAttachment": {
    "type": "object", "additionalProperties": False, "properties": {
        "net_id": {"type": "string", "minLength": 1}, "port_id": {"type": "string", "minLength": 1},
        "fixed_ips": {"type": "array", "maxItems": 1, "items": {
            "type": "object", "required": ["ip_address"], "additionalProperties": False,
            "properties": {"ip_address": {"type": "string"}}}}}}}, "additionalProperties": False}
_CREATE_V249 = copy.deepcopy(_CREATE_V21)
_CREATE_V249["properties"]["interfaceAttachment"]["properties"]["tag"] = DEVICE_TAG  # tagged attach

CREATE = {"2.1": _CREATE_V21, "2.49": _CREATE_V249}
