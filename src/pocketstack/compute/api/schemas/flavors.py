"""Request bodies of ``/flavors`` (with ``os-extra_specs`` and the flavor access action)."""

from __future__ import annotations

from pocketstack.compute.api.common import BOOLEAN

# The columns' limits, as Nova's nova/db/constants.py has them: sizes are 32-bit integers,
# rxtx_factor a single-precision float.
MAX_INT = 0x7FFFFFFF
SQL_SP_FLOAT_MAX = 3.40282e+38
_NAME = {"type": "string", "minLength": 1, "maxLength": 255, "pattern": r"^(?! )[^\x00-\x1f]*(?<! )$"}
_NONNEG = {"type": ["integer", "string"], "pattern": r"^[0-9]+$", "minimum": 0}
_DESCRIPTION = {"type": ["string", "null"], "maxLength": 65535}
_CREATE_FIELDS = {
    "name": _NAME, "id": {"type": ["string", "number", "null"], "minLength": 1, "maxLength": 255,
                          "pattern": r"^(?! )[a-zA-Z0-9. _-]+(?<! )$"},
    "ram": {"type": ["integer", "string"], "pattern": r"^[0-9]+$", "minimum": 1},
    "vcpus": {"type": ["integer", "string"], "pattern": r"^[0-9]+$", "minimum": 1},
    "disk": _NONNEG, "OS-FLV-EXT-DATA:ephemeral": _NONNEG, "swap": _NONNEG,
    "rxtx_factor": {"type": ["number", "string"], "pattern": r"^[0-9]+(\.[0-9]+)?$", "exclusiveMinimum": 0,
                    "maximum": SQL_SP_FLOAT_MAX},
    "os-flavor-access:is_public": BOOLEAN,
    "description": _DESCRIPTION}
CREATE = {"type": "object", "required": ["flavor"], "properties": {"flavor": {
    "type": "object", "required": ["name", "ram", "vcpus", "disk"], "additionalProperties": False,
    "properties": _CREATE_FIELDS}}}
UPDATE = {"type": "object", "required": ["flavor"], "properties": {"flavor": {
    "type": "object", "required": ["description"], "additionalProperties": False,
    "properties": {"description": _DESCRIPTION}}}}
_SPEC_KEY = {"type": "string", "minLength": 1, "maxLength": 255, "pattern": r"^[a-zA-Z0-9-_:. ]+$"}
_SPEC_VALUE = {"type": ["string", "number", "boolean"], "maxLength": 255}
EXTRA_SPECS = {"type": "object", "required": ["extra_specs"], "properties": {"extra_specs": {
    "type": "object", "propertyNames": _SPEC_KEY, "additionalProperties": _SPEC_VALUE}}}
EXTRA_SPEC = {"type": "object", "minProperties": 1, "maxProperties": 1, "propertyNames": _SPEC_KEY,
              "additionalProperties": _SPEC_VALUE}
_TENANT = {"type": "object", "required": ["tenant"], "properties": {"tenant": {"type": "string"}}}
# 2.102: no more rxtx_factor
CREATE_V2102 = {"type": "object", "required": ["flavor"], "properties": {"flavor": {
    "type": "object", "required": ["name", "ram", "vcpus", "disk"], "additionalProperties": False,
    "properties": {k: v for k, v in _CREATE_FIELDS.items() if k != "rxtx_factor"}}}}
ACTION = {"type": "object", "minProperties": 1, "maxProperties": 1, "properties": {
    "addTenantAccess": _TENANT, "removeTenantAccess": _TENANT}, "additionalProperties": False}
