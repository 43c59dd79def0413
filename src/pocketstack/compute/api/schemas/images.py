"""Request bodies of the image proxy's metadata (``/images/{id}/metadata``)."""

from __future__ import annotations

_VALUE = {"type": "string", "maxLength": 255}
METADATA = {"type": "object", "required": ["metadata"], "properties": {"metadata": {
    "type": "object", "propertyNames": {"type": "string", "minLength": 1, "maxLength": 255},
    "additionalProperties": _VALUE}}}
META_ITEM = {"type": "object", "required": ["meta"], "properties": {"meta": {
    "type": "object", "minProperties": 1, "maxProperties": 1, "additionalProperties": _VALUE}}}
