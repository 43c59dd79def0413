"""Request bodies of ``/os-quota-sets`` and ``/os-quota-class-sets``."""

from __future__ import annotations

from pocketstack.compute.quotas import DEFAULTS

# Network quotas Nova proxied before 2.36; accepted (and stored for classes) by name.
LEGACY_NETWORK = {"fixed_ips": -1, "floating_ips": 10, "security_group_rules": 20, "security_groups": 10}
# Nova's quota value: an integer (or its digits) from -1 (unlimited) to its MAX_INT.
MAX_INT = 0x7FFFFFFF
_LIMIT = {"type": ["integer", "string"], "pattern": r"^-?[0-9]+$", "maximum": MAX_INT}
_LIMITS = {name: _LIMIT for name in list(DEFAULTS) + list(LEGACY_NETWORK)}
UPDATE = {"type": "object", "required": ["quota_set"], "properties": {"quota_set": {
    "type": "object", "additionalProperties": False,
    "properties": {**_LIMITS, "force": {"type": ["boolean", "string"]}}}}}
UPDATE_CLASS = {"type": "object", "required": ["quota_class_set"], "properties": {"quota_class_set": {
    "type": "object", "additionalProperties": False, "properties": _LIMITS}}}
