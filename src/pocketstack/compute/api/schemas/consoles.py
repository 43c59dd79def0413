"""``/servers/{id}/remote-consoles`` and the legacy console actions."""

from __future__ import annotations

REMOTE = {"type": "object", "required": ["remote_console"], "additionalProperties": False, "properties": {
    "remote_console": {"type": "object", "required": ["protocol", "type"], "additionalProperties": False,
                       "properties": {"protocol": {"type": "string", "enum": ["vnc", "spice", "rdp", "serial",
                                                                              "mks"]},
                                      "type": {"type": "string", "enum": ["novnc", "xvpvnc", "spice-html5",
                                                                          "rdp-html5", "serial", "webmks"]}}}}}
LEGACY = {"type": "object", "required": ["type"], "properties": {"type": {"type": "string"}}}
