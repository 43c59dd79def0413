"""Request bodies of ``/os-aggregates``."""

from __future__ import annotations

_NAME = {"type": "string", "minLength": 1, "maxLength": 255, "pattern": r"^(?! )[^\x00-\x1f]*(?<! )$"}
_ZONE = {"type": ["string", "null"], "minLength": 1, "maxLength": 255, "pattern": r"^(?! )[^\x00-\x1f:]*(?<! )$"}
CREATE = {"type": "object", "required": ["aggregate"], "additionalProperties": False, "properties": {
    "aggregate": {"type": "object", "required": ["name"], "additionalProperties": False,
                  "properties": {"name": _NAME, "availability_zone": _ZONE}}}}
UPDATE = {"type": "object", "required": ["aggregate"], "additionalProperties": False, "properties": {
    "aggregate": {"type": "object", "minProperties": 1, "additionalProperties": False,
                  "properties": {"name": _NAME, "availability_zone": _ZONE}}}}
_HOST = {"type": "object", "required": ["host"], "additionalProperties": False,
         "properties": {"host": {"type": "string", "minLength": 1, "maxLength": 255}}}
ACTION = {"type": "object", "minProperties": 1, "maxProperties": 1, "additionalProperties": False, "properties": {
    "add_host": _HOST, "remove_host": _HOST,
    "set_metadata": {"type": "object", "required": ["metadata"], "additionalProperties": False, "properties": {
        "metadata": {"type": "object", "propertyNames": {"type": "string", "minLength": 1, "maxLength": 255},
                     "additionalProperties": {"type": ["string", "null"], "maxLength": 255}}}}}}
# 2.81: ``POST /os-aggregates/{id}/images``, the images to cache on the aggregate's hosts.
_UUID = "^[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}$"
IMAGES = {"type": "object", "required": ["cache"], "additionalProperties": False, "properties": {
    "cache": {"type": "array", "minItems": 1, "items": {
        "type": "object", "required": ["id"], "additionalProperties": False,
        "properties": {"id": {"type": "string", "pattern": _UUID}}}}}}
