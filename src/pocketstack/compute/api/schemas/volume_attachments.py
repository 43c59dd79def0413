"""``/servers/{id}/os-volume_attachments``."""

from __future__ import annotations

CREATE = {"type": "object", "required": ["volumeAttachment"], "properties": {"volumeAttachment": {
    "type": "object", "required": ["volumeId"], "properties": {
        "volumeId": {"type": "string", "minLength": 1}, "device": {"type": ["string", "null"]}}}}}
