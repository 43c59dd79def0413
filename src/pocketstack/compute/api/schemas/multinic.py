"""Request bodies of the addFixedIp / removeFixedIp server actions (Nova's multinic)."""

from __future__ import annotations

# networkId: Nova's length limit is that of its old networks table's uuid column.
ADD = {"type": "object", "required": ["networkId"], "additionalProperties": False,
       "properties": {"networkId": {"type": ["string", "number"], "minLength": 1, "maxLength": 36}}}
REMOVE = {"type": "object", "required": ["address"], "additionalProperties": False,
          "properties": {"address": {"type": "string", "minLength": 1}}}
