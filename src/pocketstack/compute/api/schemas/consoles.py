"""``/servers/{id}/remote-consoles`` and the legacy console actions."""

from __future__ import annotations

import copy
from typing import Any

REMOTE = {"type": "object", "required": ["remote_console"], "additionalProperties": False, "properties": {
    "remote_console": {"type": "object", "required": ["protocol", "type"], "additionalProperties": False,
                       "properties": {"protocol": {"type": "string", "enum": ["vnc", "spice", "rdp", "serial",
                                                                              "mks"]},
                                      "type": {"type": "string", "enum": ["novnc", "xvpvnc", "spice-html5",
                                                                          "rdp-html5", "serial", "webmks"]}}}}}
# 2.99: the spice-direct console type (a SPICE console; none is offered here: 400)
REMOTE_V299: dict[str, Any] = copy.deepcopy(REMOTE)
REMOTE_V299["properties"]["remote_console"]["properties"]["type"]["enum"].append("spice-direct")
LEGACY = {"type": "object", "required": ["type"], "properties": {"type": {"type": "string"}}}
