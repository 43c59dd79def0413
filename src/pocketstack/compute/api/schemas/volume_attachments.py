"""``/servers/{id}/os-volume_attachments``."""

from __future__ import annotations

import copy
from typing import Any

from pocketstack.compute.api.common import BOOLEAN
from pocketstack.compute.api.schemas.servers import DEVICE_TAG

# Nova's: no other key at either level; ``device`` as its match_device() pattern.
_CREATE_V21: dict[str, Any] = {
    "type": "object", "required": ["volumeAttachment"], "additionalProperties": False, "properties": {
        "volumeAttachment": {"type": "object", "required": ["volumeId"], "additionalProperties": False, "properties": {
            "volumeId": {"type": "string", "minLength": 1},
            "device": {"type": ["string", "null"], "pattern": "(^/dev/x{0,1}[a-z]{0,1}d{0,1})([a-z]+)[0-9]*$"}}}}}
_CREATE_V249 = copy.deepcopy(_CREATE_V21)
_CREATE_V249["properties"]["volumeAttachment"]["properties"]["tag"] = DEVICE_TAG  # tagged attach

_CREATE_V279 = copy.deepcopy(_CREATE_V249)
_CREATE_V279["properties"]["volumeAttachment"]["properties"]["delete_on_termination"] = BOOLEAN

CREATE = {"2.1": _CREATE_V21, "2.49": _CREATE_V249, "2.79": _CREATE_V279}

# Nova's ``update`` (up to 2.84): only ``volumeId``, the volume to swap in, a UUID (Nova's
# ``format: uuid`` takes it with or without the dashes).
_UUID = "^[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}$"
UPDATE = {"type": "object", "required": ["volumeAttachment"], "additionalProperties": False,
          "properties": {"volumeAttachment": {
              "type": "object", "required": ["volumeId"], "additionalProperties": False, "properties": {
                  "volumeId": {"type": "string", "pattern": _UUID}}}}}

# 2.85: the attachment as GET shows it, of which only ``delete_on_termination`` may change
# (a different ``volumeId`` is still the swap).
UPDATE_V285 = {"type": "object", "required": ["volumeAttachment"], "additionalProperties": False,
               "properties": {"volumeAttachment": {
                   "type": "object", "required": ["volumeId"], "additionalProperties": False, "properties": {
                       "volumeId": {"type": "string", "pattern": _UUID},
                       "device": _CREATE_V21["properties"]["volumeAttachment"]["properties"]["device"],
                       "tag": DEVICE_TAG, "delete_on_termination": BOOLEAN,
                       "serverId": {"type": "string", "pattern": _UUID},
                       "id": {"type": "string", "pattern": _UUID}}}}}
