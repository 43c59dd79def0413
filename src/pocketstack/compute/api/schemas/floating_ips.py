"""Request bodies of the floating IP proxy (``/os-floating-ips``) and the
add/removeFloatingIp server actions."""

from __future__ import annotations

_ADDRESS = {"type": "string", "minLength": 1}
CREATE = {"type": ["object", "null"], "properties": {"pool": {"type": ["string", "null"]}}}
ADD = {"type": "object", "required": ["address"], "additionalProperties": False,
       "properties": {"address": _ADDRESS, "fixed_address": _ADDRESS}}
REMOVE = {"type": "object", "required": ["address"], "additionalProperties": False,
          "properties": {"address": _ADDRESS}}
