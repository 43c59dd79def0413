"""``/servers``: create (by microversion) and update."""

from __future__ import annotations

import copy
from typing import Any

# Too many items is a 403 (the metadata_items quota), as Nova: no maxProperties here.
METADATA: dict[str, Any] = {"type": "object",
                            "propertyNames": {"type": "string", "minLength": 1, "maxLength": 255},
                            "additionalProperties": {"type": "string", "maxLength": 255}}
NAME = {"type": "string", "minLength": 1, "maxLength": 255, "pattern": r"^(?! )[^\x00-\x1f]*(?<! )$"}
DESCRIPTION = {"type": ["string", "null"], "maxLength": 255}
# Nova's ``parameter_types.tag``: a device tag (block devices, ports), shown from 2.70.
DEVICE_TAG = {"type": "string", "pattern": "^[^,/]*$", "maxLength": 60}
_BDM = {"type": "object", "properties": {
    "source_type": {"type": "string", "enum": ["image", "volume", "snapshot", "blank"]},
    "destination_type": {"type": "string", "enum": ["local", "volume"]},
    "uuid": {"type": "string"}, "boot_index": {"type": ["integer", "string", "null"]},
    "volume_size": {"type": ["integer", "string"]}, "delete_on_termination": {"type": ["boolean", "string"]},
    "device_name": {"type": ["string", "null"]}, "disk_bus": {"type": "string"},
    "device_type": {"type": "string"}, "guest_format": {"type": "string"}, "tag": DEVICE_TAG,
    "volume_type": {"type": ["string", "null"]}}}
# Nova's ``parameter_types.disk_config`` (``OS-DCF:diskConfig``).
DISK_CONFIG = {"type": "string", "enum": ["AUTO", "MANUAL"]}
# Nova's ``format: uuid`` (oslo's ``is_uuid_like``: 32 hex digits, hyphens optional).
UUID = {"type": "string", "pattern": "^[0-9a-fA-F]{8}-?([0-9a-fA-F]{4}-?){3}[0-9a-fA-F]{12}$"}
# Nova's ``_legacy_block_device_mapping`` (``block_device_mapping``, v1): the ids by name,
# no source/destination types (``compute/legacy_bdm.py`` turns it into v2).
_LEGACY_BDM = {"type": "object", "additionalProperties": False, "properties": {
    "virtual_name": {"type": "string", "maxLength": 255},
    "volume_id": UUID, "snapshot_id": UUID,
    "volume_size": {"type": ["integer", "string"], "pattern": "^[0-9]+$", "minimum": 1, "maximum": 0x7FFFFFFF},
    "device_name": {"type": "string", "minLength": 1, "maxLength": 255, "pattern": "^[a-zA-Z0-9._/-]*$"},
    "delete_on_termination": {"type": ["boolean", "string"], "enum": [
        True, "True", "TRUE", "true", "1", "ON", "On", "on", "YES", "Yes", "yes",
        False, "False", "FALSE", "false", "0", "OFF", "Off", "off", "NO", "No", "no"]},
    "no_device": {}, "connection_info": {"type": "string", "maxLength": 16777215}}}
_COUNT = {"type": ["integer", "string"], "pattern": r"^[0-9]+$", "minimum": 1}
_NETWORKS = {"anyOf": [{"type": "string", "enum": ["none", "auto"]},
                       {"type": "array", "items": {"type": "object", "properties": {
                           "uuid": {"type": "string"}, "port": {"type": ["string", "null"]},
                           "fixed_ip": {"type": "string"}, "tag": DEVICE_TAG},
                           "additionalProperties": False}}]}
_TAGS = {"type": "array", "maxItems": 50, "items": {"type": "string", "minLength": 1, "maxLength": 60}}

# Nova's file injection (create and rebuild before 2.57); ``contents`` base64, checked
# with the quotas (``instances.check_personality``).
PERSONALITY = {"type": "array", "items": {"type": "object", "additionalProperties": False,
                                          "properties": {"path": {"type": "string"}, "contents": {"type": "string"}}}}

_SERVER_V21: dict[str, Any] = {
    "type": "object", "required": ["name", "flavorRef"], "additionalProperties": False, "properties": {
        "name": NAME, "flavorRef": {"type": ["string", "integer"], "minLength": 1},
        "imageRef": {"type": "string"}, "metadata": METADATA, "key_name": {"type": "string"},
        "user_data": {"type": "string", "maxLength": 65535},
        "availability_zone": {"type": "string", "minLength": 1, "maxLength": 255},
        "min_count": _COUNT, "max_count": _COUNT, "return_reservation_id": {"type": ["boolean", "string"]},
        "networks": _NETWORKS,
        "security_groups": {"type": "array", "items": {"type": "object", "properties": {
            "name": {"type": "string"}}}},
        "block_device_mapping": {"type": "array", "items": _LEGACY_BDM},
        "block_device_mapping_v2": {"type": "array", "items": _BDM},
        "config_drive": {"type": ["boolean", "string"]}, "adminPass": {"type": "string"},
        "accessIPv4": {"type": "string"}, "accessIPv6": {"type": "string"},
        "OS-DCF:diskConfig": DISK_CONFIG,
        "trusted_image_certificates": {"type": ["array", "null"]},
        "personality": PERSONALITY}}


# Nova's ``_hints``: the hints the scheduler reads are checked, any other is let through.
# (``same_host`` checks only a list's items, as Nova's schema.)
HINTS = {"type": "object", "properties": {
    "same_host": {"type": ["string", "array"], "items": UUID},
    "different_host": {"oneOf": [UUID, {"type": "array", "items": UUID}]}}}


def _create(server: dict[str, Any]) -> dict[str, Any]:
    return {"type": "object", "required": ["server"], "properties": {
        "server": server, "os:scheduler_hints": HINTS, "OS-SCH-HNT:scheduler_hints": HINTS}}


def _changed(base: dict[str, Any], add: dict[str, Any] | None = None, drop: tuple[str, ...] = (),
             required: tuple[str, ...] = ()) -> dict[str, Any]:
    server = copy.deepcopy(base)
    server["properties"].update(add or {})
    for name in drop:
        del server["properties"][name]
    server["required"] = [*server["required"], *required]
    return server


_SERVER_V219 = _changed(_SERVER_V21, {"description": DESCRIPTION})
_SERVER_V237 = _changed(_SERVER_V219, required=("networks",))      # networks required
_SERVER_V252 = _changed(_SERVER_V237, {"tags": _TAGS})             # tags on create
_SERVER_V257 = _changed(_SERVER_V252, drop=("personality",))       # file injection removed
# Nova's ``parameter_types.fqdn``.
_FQDN = {"type": "string", "minLength": 1, "maxLength": 255, "pattern": "^[a-zA-Z0-9-._]*$"}
_SERVER_V274 = _changed(_SERVER_V257, {"host": _FQDN, "hypervisor_hostname": _FQDN})  # requested destination
# Nova's ``parameter_types.hostname``: the guest's hostname a user may choose from 2.90; an
# FQDN from 2.94.
HOSTNAME = {"type": "string", "minLength": 2, "maxLength": 63, "pattern": "^[a-zA-Z0-9]+[a-zA-Z0-9-]*[a-zA-Z0-9]+$"}
HOSTNAMES = {"2.90": {"hostname": HOSTNAME}, "2.94": {"hostname": _FQDN}}
_SERVER_V290 = _changed(_SERVER_V274, HOSTNAMES["2.90"])
_SERVER_V294 = _changed(_SERVER_V290, HOSTNAMES["2.94"])

CREATE = {"2.1": _create(_SERVER_V21), "2.19": _create(_SERVER_V219), "2.37": _create(_SERVER_V237),
          "2.52": _create(_SERVER_V252), "2.57": _create(_SERVER_V257),
          "2.74": _create(_SERVER_V274), "2.90": _create(_SERVER_V290), "2.94": _create(_SERVER_V294)}

_UPDATE_V21: dict[str, Any] = {"type": "object", "additionalProperties": False, "properties": {
    "name": NAME, "accessIPv4": {"type": "string"}, "accessIPv6": {"type": "string"},
    "OS-DCF:diskConfig": DISK_CONFIG}}
_UPDATE_V219 = _changed({**_UPDATE_V21, "required": []}, {"description": DESCRIPTION})
UPDATE = {start: {"type": "object", "required": ["server"], "properties": {"server": server}}
          for start, server in (("2.1", _UPDATE_V21), ("2.19", _UPDATE_V219),
                                ("2.90", _changed(_UPDATE_V219, HOSTNAMES["2.90"])),
                                ("2.94", _changed(_UPDATE_V219, HOSTNAMES["2.94"])),
                                # 2.104: unpin (null) or re-pin the server's zone
                                ("2.104", _changed(_UPDATE_V219, {**HOSTNAMES["2.94"], "pinned_availability_zone": {
                                    "anyOf": [NAME, {"type": "null"}]}})))}
