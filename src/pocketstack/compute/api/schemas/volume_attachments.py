"""``/servers/{id}/os-volume_attachments``."""

from __future__ import annotations

CREATE = {"type": "object", "required": ["volumeAttachment"], "properties": {"volumeAttachment": {
    "type": "object", "required": ["volumeId"], "properties": {
        "volumeId": {"type": "string", "minLength": 1}, "device": {"type": ["string", "null"]}}}}}

# Nova's ``update`` (up to 2.84): only ``volumeId``, the volume to swap in, a UUID (Nova's
# ``format: uuid`` takes it with or without the dashes).
_UUID = "^[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}$"
UPDATE = {"type": "object", "required": ["volumeAttachment"], "additionalProperties": False,
          "properties": {"volumeAttachment": {
              "type": "object", "required": ["volumeId"], "additionalProperties": False, "properties": {
                  "volumeId": {"type": "string", "pattern": _UUID}}}}}
