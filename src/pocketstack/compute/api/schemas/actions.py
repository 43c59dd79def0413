"""``POST /servers/{id}/action``: the body of each action (checked after the server is
found and the action authorized, as Nova's matrix of answers expects)."""

from __future__ import annotations

from typing import Any

from pocketstack.compute.api.schemas.servers import DISK_CONFIG, HOSTNAMES, PERSONALITY

# Nova's ``admin_password``: any string.
CHANGE_PASSWORD = {"type": "object", "required": ["adminPass"], "additionalProperties": False,
                   "properties": {"adminPass": {"type": "string"}}}
REBOOT = {"type": "object", "required": ["type"], "properties": {
    "type": {"type": "string", "pattern": "^([Hh][Aa][Rr][Dd]|[Ss][Oo][Ff][Tt])$"}}}
RESIZE = {"type": "object", "required": ["flavorRef"], "properties": {
    "flavorRef": {"type": ["string", "integer"], "minLength": 1}, "OS-DCF:diskConfig": DISK_CONFIG},
    "additionalProperties": False}
# ``migrate`` from 2.56 (before, its value is not looked at): an optional target host.
MIGRATE_V256 = {"type": ["object", "null"], "additionalProperties": False, "properties": {
    "host": {"type": ["string", "null"], "minLength": 1, "maxLength": 255,
             "pattern": "^[a-zA-Z0-9-._]*$"}}}
# ``os-migrateLive`` by microversion: ``disk_over_commit`` until 2.24, ``block_migration``
# "auto" from 2.25, ``force`` 2.30-2.67.
_BOOL_VALUES: list = [True, False, "True", "False", "true", "false", "1", "0", "yes", "no", "on", "off", "TRUE",
                      "FALSE", "Yes", "No", "On", "Off", "YES", "NO", "ON", "OFF"]
_BOOL = {"type": ["boolean", "string"], "enum": _BOOL_VALUES}
_HOST = {"type": ["string", "null"], "minLength": 1, "maxLength": 255, "pattern": "^[a-zA-Z0-9-._]*$"}
MIGRATE_LIVE = {"type": "object", "required": ["block_migration", "disk_over_commit", "host"],
                "additionalProperties": False,
                "properties": {"block_migration": _BOOL, "disk_over_commit": _BOOL, "host": _HOST}}
_LIVE_V225 = {"block_migration": {"type": ["boolean", "string"], "enum": [*_BOOL_VALUES, "auto"]}, "host": _HOST}
MIGRATE_LIVE_V225 = {"type": "object", "required": ["block_migration", "host"], "additionalProperties": False,
                     "properties": _LIVE_V225}
MIGRATE_LIVE_V230 = {"type": "object", "required": ["block_migration", "host"], "additionalProperties": False,
                     "properties": {**_LIVE_V225, "force": _BOOL}}
# ``evacuate`` by microversion: ``onSharedStorage`` required until 2.13, ``force`` 2.29-2.67.
_EVACUATE = {"host": _HOST, "adminPass": {"type": "string"}}
EVACUATE = {"type": "object", "required": ["onSharedStorage"], "additionalProperties": False,
            "properties": {**_EVACUATE, "onSharedStorage": _BOOL}}
EVACUATE_V214 = {"type": "object", "additionalProperties": False, "properties": _EVACUATE}
EVACUATE_V229 = {"type": "object", "additionalProperties": False, "properties": {**_EVACUATE, "force": _BOOL}}
METADATA = {"type": "object", "propertyNames": {"type": "string", "minLength": 1, "maxLength": 255},
             "additionalProperties": {"type": "string", "maxLength": 255}}
CREATE_IMAGE = {"type": "object", "required": ["name"], "properties": {
    "name": {"type": "string", "minLength": 1, "maxLength": 255}, "metadata": METADATA},
    "additionalProperties": False}
REBUILD: dict[str, Any] = {"type": "object", "required": ["imageRef"], "properties": {
    "imageRef": {"type": "string", "minLength": 1}, "name": {"type": "string", "minLength": 1, "maxLength": 255},
    "adminPass": {"type": "string"}, "metadata": METADATA, "preserve_ephemeral": {"type": "boolean"},
    "OS-DCF:diskConfig": DISK_CONFIG, "accessIPv4": {"type": "string"}, "accessIPv6": {"type": "string"},
    "description": {"type": ["string", "null"], "maxLength": 255}, "key_name": {"type": ["string", "null"]},
    "user_data": {"type": ["string", "null"]}, "trusted_image_certificates": {"type": ["array", "null"]},
    "personality": PERSONALITY},
    "additionalProperties": False}
# From 2.90 a rebuild may set the guest's hostname (an FQDN from 2.94).
REBUILDS = {"2.1": REBUILD, **{start: {**REBUILD, "properties": {**REBUILD["properties"], **extra}}
                               for start, extra in HOSTNAMES.items()}}
BACKUP = {"type": "object", "required": ["name", "backup_type", "rotation"], "additionalProperties": False,
           "properties": {"name": {"type": "string", "minLength": 1, "maxLength": 255},
                          "backup_type": {"type": "string"}, "metadata": METADATA,
                          "rotation": {"type": ["integer", "string"], "pattern": "^[0-9]+$", "minimum": 0}}}
CONSOLE = {"type": ["object", "null"], "properties": {"length": {"type": ["integer", "string", "null"],
                                                                   "pattern": "^-?[0-9]+$"}}}
RESCUE = {"type": ["object", "null"], "properties": {"adminPass": {"type": "string"},
                                                      "rescue_image_ref": {"type": "string"}}}
# Before 2.73 (beyond our maximum, where locked_reason arrives) Nova ignores the body.
LOCK = {"type": ["null", "object"]}
# 2.73: a lock may say why (Nova's ``lock_v273``).
LOCK_V273 = {"type": ["object", "null"], "additionalProperties": False, "properties": {
    "locked_reason": {"type": "string", "minLength": 1, "maxLength": 255}}}
RESET_STATE = {"type": "object", "required": ["state"], "additionalProperties": False,
                "properties": {"state": {"type": "string", "enum": ["active", "error"]}}}
# ``unshelve`` from 2.77: null, or an availability zone for an offloaded server (not ``{}``).
UNSHELVE_V277 = {"type": ["object", "null"], "required": ["availability_zone"], "additionalProperties": False,
                 "properties": {"availability_zone": {"type": "string", "minLength": 1, "maxLength": 255,
                                                      "pattern": r"^\S(.*\S)?$"}}}
# From 2.91 also ``host`` (admins), and a null zone unpins the server; ``{}`` is accepted.
UNSHELVE_V291 = {"type": ["object", "null"], "additionalProperties": False,
                 "properties": {"availability_zone": {"type": ["string", "null"]}, "host": {"type": "string"}}}
UNSHELVES = {"2.77": UNSHELVE_V277, "2.91": UNSHELVE_V291}
