"""Request schemas of the Block Storage API, as Cinder's ``cinder/api/schemas`` define them
(checked by :mod:`.validation`): the parameter types first, then the request bodies of
each resource, then the bodies of the volume and snapshot actions, which Cinder validates
before it looks the volume up.

Every body is declared on its route (``body=``, by starting microversion where it
changes).  One Cinder checks only after the resource is looked up (404) and the policy
enforced (403) is declared with ``authorize_first=True``: the wrapper validates it when
the handler's :meth:`~pocketstack.common.api.request.ApiRequest.authorize` has passed,
so the answers keep Cinder's order.  The action bodies (one schema per action name) are
checked by the action handlers, which dispatch on the name."""

from __future__ import annotations

import base64
import binascii
from typing import Any

from pocketstack.volume import errors
from pocketstack.volume.api.validation import add_format
from pocketstack.volume.quotas import MAX_INT
from pocketstack.volume.states import VOLUME_TRANSITIONS

# -- parameter types -----------------------------------------------------------------------
VOLUME_SIZE = {"type": ["integer", "string"], "pattern": "^[0-9]+$", "minimum": 1, "maximum": MAX_INT}
VOLUME_SIZE_OR_NULL = {**VOLUME_SIZE, "type": ["integer", "string", "null"]}
BOOLEAN = {"type": ["boolean", "string"], "enum": [
    True, "True", "TRUE", "true", "1", "ON", "On", "on", "YES", "Yes", "yes", "y", "t",
    False, "False", "FALSE", "false", "0", "OFF", "Off", "off", "NO", "No", "no", "n", "f"]}
OPTIONAL_BOOLEAN = {"oneOf": [{"type": "null"}, BOOLEAN]}
UUID = {"type": "string", "format": "uuid"}
UUID_OR_NULL = {"oneOf": [UUID, {"type": "null"}]}
NAME = {"type": ["string", "null"], "minLength": 0, "maxLength": 255}
DESCRIPTION = {"type": ["string", "null"], "minLength": 0, "maxLength": 255}
# Metadata and extra specs: keys of Cinder's characters, string values that fit the column.
METADATA = {"type": "object", "patternProperties": {
    "^[a-zA-Z0-9-_:. /]{1,255}$": {"type": "string", "maxLength": 255}}, "additionalProperties": False}
METADATA_OR_NULL = {**METADATA, "type": ["object", "null"]}
METADATA_ITEM = {**METADATA, "minProperties": 1, "maxProperties": 1}
IMAGE_METADATA = {"type": "object", "patternProperties": {
    "^[a-zA-Z0-9-_:. /]{1,255}$": {"type": "string", "maxLength": 65535}}, "additionalProperties": False}
ANYTHING: dict = {}


def action(name: str, args: dict, *, required: tuple[str, ...] = (), nullable: bool = False,
           **extra: Any) -> dict:
    """The body ``{name: {args...}}`` of an action whose arguments are an object (or null)."""
    inner = {"type": ["object", "null"] if nullable else "object", "properties": args,
             "additionalProperties": False, **extra}
    if required:
        inner["required"] = list(required)
    return bare_action(name, inner)


def bare_action(name: str, inner: dict) -> dict:
    return {"type": "object", "properties": {name: inner}, "required": [name], "additionalProperties": False}


def wrapped(key: str, inner: dict) -> dict:
    """The body ``{key: inner}`` (other top-level keys are ignored, as Cinder does)."""
    return {"type": "object", "properties": {key: inner}, "required": [key]}


# -- volumes (cinder/api/schemas/volumes.py) -------------------------------------------------
VOLUME_CREATE: dict[str, Any] = {"type": "object", "properties": {
    "size": VOLUME_SIZE_OR_NULL, "name": NAME, "description": DESCRIPTION, "display_name": NAME,
    "display_description": DESCRIPTION, "snapshot_id": UUID_OR_NULL, "source_volid": UUID_OR_NULL,
    "consistencygroup_id": UUID_OR_NULL,  # python-cinderclient always sends it (null)
    "imageRef": {"type": ["string", "null"], "minLength": 0, "maxLength": 255},
    "image_id": {"type": ["string", "null"], "minLength": 0, "maxLength": 255},
    "volume_type": {"type": ["string", "null"], "minLength": 0, "maxLength": 255},
    "availability_zone": {"type": ["string", "null"], "minLength": 1, "maxLength": 255},
    "metadata": METADATA_OR_NULL, "multiattach": OPTIONAL_BOOLEAN}}
VOLUME_UPDATE = {"type": "object", "properties": {
    "name": NAME, "description": DESCRIPTION, "display_name": NAME, "display_description": DESCRIPTION,
    "metadata": METADATA}, "additionalProperties": False}
CREATE_VOLUME = wrapped("volume", VOLUME_CREATE)
# From 3.13 a volume may be created into a group.
VOLUME_CREATE_313 = {**VOLUME_CREATE, "properties": {
    **VOLUME_CREATE["properties"], "group_id": {"type": ["string", "null"], "minLength": 0, "maxLength": 255}}}
CREATE_VOLUME_313 = wrapped("volume", VOLUME_CREATE_313)
# From 3.47 a volume may be created from a backup.
VOLUME_CREATE_347 = {**VOLUME_CREATE_313, "properties": {**VOLUME_CREATE_313["properties"], "backup_id": UUID_OR_NULL}}
CREATE_VOLUME_347 = wrapped("volume", VOLUME_CREATE_347)
# From 3.53 the bodies are strict: no unknown parameter, and an update changes something.
CREATE_VOLUME_353 = wrapped("volume", {**VOLUME_CREATE_347, "additionalProperties": False})
VOLUME_UPDATE_353 = {**VOLUME_UPDATE, "anyOf": [{"required": [key]} for key in (
    "name", "description", "display_name", "display_description", "metadata")]}

# -- snapshots -------------------------------------------------------------------------------
SNAPSHOT_CREATE = {"type": "object", "properties": {
    "name": NAME, "display_name": NAME, "description": DESCRIPTION, "volume_id": UUID_OR_NULL, "force": BOOLEAN,
    "metadata": METADATA_OR_NULL}, "required": ["volume_id"], "additionalProperties": False}
SNAPSHOT_UPDATE = {"type": "object", "properties": {
    "name": NAME, "description": DESCRIPTION, "display_name": NAME, "display_description": DESCRIPTION},
    "additionalProperties": False, "anyOf": [{"required": [key]} for key in (
        "name", "description", "display_name", "display_description")]}
CREATE_SNAPSHOT = wrapped("snapshot", SNAPSHOT_CREATE)

# -- attachments (3.27+); Cinder's, except that ``instance_uuid`` may be null ------------------
ATTACHMENT_CREATE: dict[str, Any] = {"type": "object", "properties": {
    "volume_uuid": UUID, "instance_uuid": UUID_OR_NULL, "connector": {"type": ["object", "null"]}},
    "required": ["volume_uuid"], "additionalProperties": False}
ATTACHMENT_UPDATE = {"type": "object", "properties": {"connector": {"type": "object", "minProperties": 1}},
                     "required": ["connector"], "additionalProperties": False}
CREATE_ATTACHMENT = wrapped("attachment", ATTACHMENT_CREATE)
# From 3.54 the attach mode may be given at create.
CREATE_ATTACHMENT_354 = wrapped("attachment", {**ATTACHMENT_CREATE, "properties": {
    **ATTACHMENT_CREATE["properties"], "mode": {"type": "string", "enum": ["rw", "ro"]}}})
ATTACHMENT_COMPLETE = bare_action("os-complete", ANYTHING)

# -- volume types, extra specs, access ----------------------------------------------------------
EXTRA_SPECS = {"type": "object", "additionalProperties": {"type": ["string", "number", "boolean"]}}
TYPE_CREATE = {"type": "object", "properties": {
    "name": {"type": "string", "minLength": 1, "maxLength": 255},
    "description": {"type": ["string", "null"], "maxLength": 255},
    "os-volume-type-access:is_public": {"type": ["boolean", "string"]},
    "extra_specs": EXTRA_SPECS}, "required": ["name"]}
TYPE_UPDATE = {"type": "object", "properties": {
    "name": {"type": ["string", "null"], "minLength": 1, "maxLength": 255},
    "description": {"type": ["string", "null"], "maxLength": 255},
    "is_public": {"type": ["boolean", "string"]}}}

# -- projects' default types (3.62) ---------------------------------------------------------
SET_DEFAULT_TYPE = {"type": "object", "properties": {"default_type": {
    "type": "object", "properties": {"volume_type": {"type": "string", "minLength": 1, "maxLength": 255}},
    "required": ["volume_type"], "additionalProperties": False}}, "required": ["default_type"]}

# -- volume type encryption (cinder/api/schemas/volume_type_encryption.py) ----------------------
def _key_size_checker(value: Any) -> bool:
    if value is not None:
        try:
            int(str(value))
        except ValueError:
            raise errors.InvalidInput(reason="key_size must be an integer.") from None
    return True


add_format("key_size", _key_size_checker)
ENCRYPTION_SPECS = {"type": "object", "properties": {
    "key_size": {"type": ["string", "integer", "null"], "minimum": 0, "maximum": MAX_INT, "format": "key_size"},
    "provider": {"type": "string", "minLength": 0, "maxLength": 255},
    "control_location": {"enum": ["front-end", "back-end"]},
    "cipher": {"type": ["string", "null"], "minLength": 0, "maxLength": 255}},
    "required": ["provider", "control_location"], "additionalProperties": True}
ENCRYPTION_CREATE = {"type": "object", "properties": {"encryption": ENCRYPTION_SPECS}, "required": ["encryption"],
                     "additionalProperties": False}
ENCRYPTION_UPDATE = {**ENCRYPTION_CREATE, "properties": {"encryption": {**ENCRYPTION_SPECS, "required": []}}}

# -- QoS specs ------------------------------------------------------------------------------------
QOS_CREATE = {"type": "object", "properties": {"name": {"type": "string", "minLength": 1, "maxLength": 255},
                                               "consumer": {"type": "string"}},
              "additionalProperties": {"type": ["string", "number", "boolean"]}, "required": ["name"]}
QOS_KEYS = {"type": "object", "additionalProperties": {"type": ["string", "number", "boolean"]}}
QOS_UNSET_KEYS = {"type": "array", "items": {"type": "string"}}

# -- group types, group specs, groups, group snapshots (cinder/api/schemas/group*.py) ----------
GROUP_SPECS_OBJECT = {"type": "object", "patternProperties": {
    "^[a-zA-Z0-9-_:.]{1,255}$": {"type": ["string", "null"], "maxLength": 255}}, "additionalProperties": False}
GROUP_TYPE_CREATE = {"type": "object", "properties": {"group_type": {
    "type": "object", "properties": {
        "name": {"type": "string", "minLength": 1, "maxLength": 255}, "description": DESCRIPTION,
        "is_public": BOOLEAN, "group_specs": METADATA_OR_NULL},
    "required": ["name"], "additionalProperties": False}}, "required": ["group_type"], "additionalProperties": False}
GROUP_TYPE_UPDATE = {"type": "object", "properties": {"group_type": {
    "type": "object", "properties": {"name": NAME, "description": DESCRIPTION, "is_public": BOOLEAN},
    "additionalProperties": False}}, "required": ["group_type"], "additionalProperties": False}
GROUP_SPECS = {"type": "object", "properties": {"group_specs": GROUP_SPECS_OBJECT}, "required": ["group_specs"],
               "additionalProperties": False}
GROUP_SPEC_ITEM = {**GROUP_SPECS_OBJECT, "minProperties": 1, "maxProperties": 1}
GROUP_CREATE = {"type": "object", "properties": {"group": {
    "type": "object", "properties": {
        "description": DESCRIPTION, "name": NAME,
        "group_type": {"type": "string", "minLength": 1, "maxLength": 255, "format": "group_type"},
        "volume_types": {"type": "array", "minItems": 1, "items": {"type": "string", "maxLength": 255},
                         "uniqueItems": True},
        "availability_zone": {"type": ["string", "null"], "minLength": 1, "maxLength": 255}},
    "required": ["group_type", "volume_types"], "additionalProperties": False}},
    "required": ["group"], "additionalProperties": False}
GROUP_FROM_SOURCE = {"type": "object", "properties": {"create-from-src": {
    "type": "object", "properties": {
        "description": DESCRIPTION, "name": NAME, "source_group_id": UUID, "group_snapshot_id": UUID},
    "oneOf": [{"required": ["group_snapshot_id"]}, {"required": ["source_group_id"]}],
    "additionalProperties": False}}, "required": ["create-from-src"], "additionalProperties": False}
GROUP_UPDATE = {"type": "object", "properties": {"group": {
    "type": "object", "properties": {
        "description": DESCRIPTION, "name": NAME, "add_volumes": DESCRIPTION, "remove_volumes": DESCRIPTION},
    "anyOf": [{"required": [key]} for key in ("name", "description", "add_volumes", "remove_volumes")],
    "additionalProperties": False}}, "required": ["group"], "additionalProperties": False}
GROUP_SNAPSHOT_CREATE = {"type": "object", "properties": {"group_snapshot": {
    "type": "object", "properties": {"group_id": UUID, "name": NAME, "description": DESCRIPTION},
    "required": ["group_id"], "additionalProperties": False}},
    "required": ["group_snapshot"], "additionalProperties": False}
# Group statuses as Cinder's fields (its group reset checks against the snapshot's list).
GROUP_SNAPSHOT_STATUSES = ("error", "available", "creating", "deleting", "deleted", "updating", "error_deleting")
GROUP_STATUSES = GROUP_SNAPSHOT_STATUSES[:6] + ("in-use", "error_deleting")


def _group_type_checker(value: Any) -> bool:
    if isinstance(value, str) and not value.strip():
        raise errors.InvalidInput(reason="group_type has a minimum character requirement of 1.")
    return True


def _group_status_checker(value: Any) -> bool:
    if isinstance(value, str) and not value.strip():
        raise errors.GroupStatusEmpty()
    if isinstance(value, str) and value.lower() not in GROUP_SNAPSHOT_STATUSES:
        raise errors.InvalidGroupStatus(reason=f"Group status: {value} is invalid, valid status are: "
                                               f"{GROUP_STATUSES}.")
    return True


def _group_snapshot_status_checker(value: Any) -> bool:
    if isinstance(value, str) and not value.strip():
        raise errors.GroupSnapshotStatusEmpty()
    if isinstance(value, str) and value.lower() not in GROUP_SNAPSHOT_STATUSES:
        raise errors.InvalidGroupSnapshotStatus(reason=f"Group snapshot status: {value} is invalid, valid statuses "
                                                       f"are: {GROUP_SNAPSHOT_STATUSES}.")
    return True


add_format("group_type", _group_type_checker)
add_format("group_status", _group_status_checker)
add_format("group_snapshot_status", _group_snapshot_status_checker)
GROUP_ACTIONS = {
    "delete": action("delete", {"delete-volumes": BOOLEAN}),
    "reset_status": action("reset_status", {"status": {"type": "string", "format": "group_status"}},
                           required=("status",)),
}
GROUP_SNAPSHOT_ACTIONS = {
    "reset_status": action("reset_status", {"status": {"type": "string", "format": "group_snapshot_status"}},
                           required=("status",)),
}

# -- quotas -----------------------------------------------------------------------------------
QUOTA_UPDATE = {"type": "object", "properties": {"quota_set": {"type": "object", "minProperties": 1}},
                "required": ["quota_set"], "additionalProperties": False}

QUOTA_CLASS_UPDATE = {"type": "object", "properties": {"quota_class_set": {
    "type": "object", "patternProperties": {"^[a-zA-Z0-9-_:. ]{1,300}$": {
        "type": ["integer", "string"], "pattern": "^[0-9]*$", "minimum": -1, "minLength": 1, "maximum": MAX_INT}},
    "additionalProperties": False}}, "required": ["quota_class_set"], "additionalProperties": False}

# -- backups ----------------------------------------------------------------------------------
BACKUP_CREATE: dict[str, Any] = {"type": "object", "properties": {
    "volume_id": UUID, "name": NAME, "description": DESCRIPTION,
    "container": {"type": ["string", "null"], "minLength": 0, "maxLength": 255, "pattern": "^[^/]*$"},
    "incremental": BOOLEAN, "force": BOOLEAN, "snapshot_id": UUID_OR_NULL},
    "required": ["volume_id"], "additionalProperties": False}
BACKUP_UPDATE = {"type": ["object", "null"], "additionalProperties": False, "properties": {
    "name": NAME, "description": DESCRIPTION}}
BACKUP_RESTORE = {"type": ["object", "null"], "additionalProperties": False, "properties": {
    "volume_id": UUID_OR_NULL, "name": NAME}}
CREATE_BACKUP = wrapped("backup", BACKUP_CREATE)
# From 3.51 a backup may name the availability zone of the backup service to make it.
CREATE_BACKUP_351 = wrapped("backup", {**BACKUP_CREATE, "properties": {
    **BACKUP_CREATE["properties"], "availability_zone": {"type": ["string", "null"], "minLength": 0,
                                                         "maxLength": 255}}})
IMPORT_BACKUP = {"type": "object", "properties": {"backup-record": {
    "type": "object", "properties": {"backup_service": {"type": "string", "minLength": 0, "maxLength": 255},
                                     "backup_url": {"type": "string", "minLength": 1, "format": "base64"}},
    "required": ["backup_service", "backup_url"], "additionalProperties": False}},
    "required": ["backup-record"], "additionalProperties": False}


def _base64_checker(value: Any) -> bool:
    try:
        base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError, TypeError):
        return False
    return True


add_format("base64", _base64_checker)

def _backup_status_checker(value: Any) -> bool:
    if not value or not isinstance(value, str) or value.lower() not in ("available", "error"):
        raise errors.InvalidStatus(what="Backup", value=value, valid=["available", "error"])
    return True


add_format("backup_status", _backup_status_checker)
# Backup actions (Cinder's admin_actions.reset_status_backup).
BACKUP_ACTIONS = {
    "os-reset_status": action("os-reset_status", {"status": {"type": "string", "format": "backup_status"}},
                              required=("status",)),
}

# -- transfers (cinder/api/schemas/volume_transfer.py) ------------------------------------------
def _stripped_name_checker(value: Any) -> bool:
    """Cinder's ``name_skip_leading_trailing_spaces``: 1 to 255 characters once stripped.
    Inside the transfer's ``oneOf`` Cinder's own message is lost: the refusal is the
    ``oneOf``'s ("... is not valid under any of the given schemas")."""
    return not isinstance(value, str) or 0 < len(value.strip()) <= 255


add_format("name_skip_leading_trailing_spaces", _stripped_name_checker)
TRANSFER_CREATE: dict[str, Any] = {"type": "object", "properties": {
    "volume_id": UUID,
    "name": {"oneOf": [{"type": "string", "format": "name_skip_leading_trailing_spaces"}, {"type": "null"}]}},
    "required": ["volume_id"], "additionalProperties": False}
TRANSFER_ACCEPT = {"type": "object", "properties": {"auth_key": {"type": ["string", "integer"]}},
                   "required": ["auth_key"], "additionalProperties": False}
CREATE_TRANSFER = wrapped("transfer", TRANSFER_CREATE)
# From 3.55 (``/volume-transfers`` only) a transfer may leave the snapshots behind.
CREATE_TRANSFER_355 = wrapped("transfer", {**TRANSFER_CREATE, "properties": {
    **TRANSFER_CREATE["properties"], "no_snapshots": BOOLEAN}})


# -- os-reset_status: Cinder's format checkers answer with their own message ----------------
def _status_checker(what: str, valid: tuple[str, ...], required: bool = False):
    def check(value: Any) -> bool:
        if (value or required) and (not isinstance(value, str) or value.lower() not in valid):
            raise errors.InvalidStatus(what=what, value=value, valid=valid)
        return True
    return check


def _reset_body_checker(body: Any) -> bool:
    if isinstance(body, dict) and not any(body.get(k) for k in ("status", "attach_status", "migration_status")):
        raise errors.ResetStatusEmpty()
    return True


VOLUME_STATUSES = tuple(VOLUME_TRANSITIONS)
SNAPSHOT_STATUSES = ("available", "error", "creating", "deleting", "error_deleting")
add_format("volume_status", _status_checker("Volume", VOLUME_STATUSES))
add_format("volume_attach_status", _status_checker("Volume attach", ("attached", "detached")))
add_format("volume_migration_status", _status_checker("Volume migration", (
    "migrating", "error", "success", "completing", "none", "starting")))
add_format("snapshot_status", _status_checker("Snapshot", SNAPSHOT_STATUSES, required=True))
add_format("validate_volume_reset_body", _reset_body_checker)

# -- volume actions (cinder/api/schemas/volume_actions.py, admin_actions.py,
#    volume_image_metadata.py) --------------------------------------------------------------
VOLUME_ACTIONS = {
    "os-extend": action("os-extend", {"new_size": VOLUME_SIZE}, required=("new_size",)),
    "os-reset_status": action("os-reset_status", {
        "status": {"type": ["string", "null"], "format": "volume_status"},
        "attach_status": {"type": ["string", "null"], "format": "volume_attach_status"},
        "migration_status": {"type": ["string", "null"], "format": "volume_migration_status"}},
        format="validate_volume_reset_body"),
    "os-set_bootable": action("os-set_bootable", {"bootable": BOOLEAN}, required=("bootable",)),
    "os-update_readonly_flag": action("os-update_readonly_flag", {"readonly": BOOLEAN}, required=("readonly",)),
    "os-volume_upload_image": action("os-volume_upload_image", {
        "image_name": {"type": "string", "minLength": 1, "maxLength": 255}, "force": BOOLEAN,
        "disk_format": {"type": "string", "enum": ["raw", "vmdk", "vdi", "qcow2", "vhd", "vhdx", "ploop"]},
        "container_format": DESCRIPTION,
        "visibility": {"type": "string", "enum": ["community", "public", "private", "shared"]},
        "protected": BOOLEAN}, required=("image_name",)),
    "os-retype": action("os-retype", {
        "new_type": {"type": "string"},
        "migration_policy": {"type": ["string", "null"], "enum": ["on-demand", "never"]}}, required=("new_type",)),
    "os-set_image_metadata": action("os-set_image_metadata", {"metadata": IMAGE_METADATA}, required=("metadata",)),
    "os-unset_image_metadata": action("os-unset_image_metadata", {
        "key": {"type": "string", "minLength": 1, "maxLength": 255}}, required=("key",)),
    "os-show_image_metadata": bare_action("os-show_image_metadata", ANYTHING),
    # 3.68+ (the handler refuses it before)
    "os-reimage": action("os-reimage", {"image_id": UUID, "reimage_reserved": BOOLEAN}, required=("image_id",)),
    "os-attach": action("os-attach", {
        "instance_uuid": UUID, "mountpoint": {"type": "string", "minLength": 1, "maxLength": 255},
        "host_name": {"type": "string", "maxLength": 255}, "mode": {"type": "string", "enum": ["rw", "ro"]}},
        required=("mountpoint",), anyOf=[{"required": ["instance_uuid"]}, {"required": ["host_name"]}]),
    "os-detach": action("os-detach", {"attachment_id": UUID_OR_NULL}, nullable=True),
    "os-force_detach": action("os-force_detach", {
        "connector": {"type": ["string", "object", "null"]}, "attachment_id": {"type": ["string", "null"]}}),
    "os-initialize_connection": action("os-initialize_connection", {"connector": {"type": "object"}},
                                       required=("connector",)),
    "os-terminate_connection": action("os-terminate_connection", {"connector": {"type": "object"}},
                                      required=("connector",)),
    "os-migrate_volume": action("os-migrate_volume", {
        "host": {"type": ["string", "null"], "maxLength": 255}, "force_host_copy": BOOLEAN, "lock_volume": BOOLEAN,
        "cluster": {"type": ["string", "null"], "minLength": 0, "maxLength": 255}}),
    "os-migrate_volume_completion": action("os-migrate_volume_completion", {
        "new_volume": UUID, "error": {"type": ["string", "null", "boolean"]}}, required=("new_volume",)),
    "os-unmanage": bare_action("os-unmanage", ANYTHING),
    "os-reserve": bare_action("os-reserve", ANYTHING),
    "os-unreserve": bare_action("os-unreserve", ANYTHING),
    "os-force_delete": bare_action("os-force_delete", ANYTHING),
}

# -- volume type access actions -----------------------------------------------------------------
TYPE_ACCESS_ACTIONS = {name: action(name, {"project": {"type": "string", "minLength": 1, "maxLength": 255}},
                                    required=("project",)) for name in ("addProjectAccess", "removeProjectAccess")}

# -- snapshot actions ----------------------------------------------------------------------
SNAPSHOT_ACTIONS = {
    "os-reset_status": action("os-reset_status", {"status": {"type": "string", "format": "snapshot_status"}},
                              required=("status",)),
    "os-force_delete": bare_action("os-force_delete", ANYTHING),
    "os-unmanage": bare_action("os-unmanage", ANYTHING),
    "os-update_snapshot_status": action("os-update_snapshot_status", {
        "status": {"type": "string"}, "progress": {"format": "progress"}}, required=("status",)),
}


def _progress_checker(value: Any) -> bool:
    """Cinder's: an integer percentage from 0 to 100 ("80%"); empty is no progress."""
    if value:
        try:
            number = int(value[:-1])
        except (TypeError, ValueError):
            raise errors.InvalidInput(reason="progress must be an integer percentage") from None
        if number < 0 or number > 100 or value[-1] != "%":
            raise errors.InvalidInput(reason="progress must be an integer percentage between 0 and 100")
    return True


add_format("progress", _progress_checker)


# -- os-services actions (cinder/api/schemas/services.py) ----------------------------------
CINDER_HOST = {"type": ["string", "null"], "minLength": 1, "maxLength": 255,
               "pattern": r"^[a-zA-Z0-9-._#@:/+\[\]]*$"}
_SERVICE_PROPERTIES: dict[str, Any] = {
    "binary": {"type": "string", "minLength": 1, "maxLength": 255}, "host": CINDER_HOST,
    "cluster": {"type": ["string", "null"], "minLength": 0, "maxLength": 255},
    "service": {"type": "string", "minLength": 1, "maxLength": 255}}
SERVICE_DISABLE_LOG_REASON = {"type": "object", "properties": {
    **_SERVICE_PROPERTIES, "disabled_reason": {
        "type": "string", "minLength": 1, "maxLength": 255, "format": "disabled_reason"}},
    "anyOf": [{"required": ["binary"]}, {"required": ["service"]}], "additionalProperties": False}
SERVICE_FREEZE_THAW = {"type": "object", "properties": {
    "cluster": {"type": ["string", "null"], "minLength": 0, "maxLength": 255}, "host": CINDER_HOST},
    "additionalProperties": False}


def _disabled_reason_checker(value: Any) -> bool:
    """Cinder strips the reason's whitespace before it checks the length (1 to 255)."""
    if isinstance(value, str) and not value.strip():
        raise errors.InvalidInput(reason="disabled_reason has a minimum character requirement of 1.")
    return True


add_format("disabled_reason", _disabled_reason_checker)


# -- bodies validated once the route's policy is enforced (``authorize_first=True``) --------
UPDATE_VOLUME = wrapped("volume", VOLUME_UPDATE)
# From 3.53 an update must change something.
UPDATE_VOLUME_353 = wrapped("volume", VOLUME_UPDATE_353)
UPDATE_SNAPSHOT = wrapped("snapshot", SNAPSHOT_UPDATE)
UPDATE_ATTACHMENT = wrapped("attachment", ATTACHMENT_UPDATE)
SET_METADATA = wrapped("metadata", METADATA)
SET_METADATA_ITEM = wrapped("meta", METADATA_ITEM)
CREATE_TYPE = wrapped("volume_type", TYPE_CREATE)
UPDATE_TYPE = wrapped("volume_type", TYPE_UPDATE)
SET_EXTRA_SPECS = wrapped("extra_specs", EXTRA_SPECS)
CREATE_QOS = wrapped("qos_specs", QOS_CREATE)
SET_QOS_KEYS = wrapped("qos_specs", QOS_KEYS)
UNSET_QOS_KEYS = wrapped("keys", QOS_UNSET_KEYS)
RESTORE_BACKUP = wrapped("restore", BACKUP_RESTORE)
UPDATE_BACKUP = wrapped("backup", BACKUP_UPDATE)
ACCEPT_TRANSFER = wrapped("accept", TRANSFER_ACCEPT)


# -- manage existing (cinder/api/schemas/volume_manage.py, snapshot_manage.py) -----------------
MANAGE_VOLUME = {"type": "object", "properties": {"volume": {
    "type": "object", "properties": {
        "description": DESCRIPTION, "availability_zone": NAME, "bootable": BOOLEAN, "volume_type": NAME,
        "name": NAME, "host": CINDER_HOST, "cluster": {"type": ["string", "null"], "minLength": 0, "maxLength": 255},
        "ref": {"type": ["object", "string"]}, "metadata": METADATA_OR_NULL},
    "required": ["ref"], "additionalProperties": False}}, "required": ["volume"], "additionalProperties": False}
MANAGE_SNAPSHOT = {"type": "object", "properties": {"snapshot": {
    "type": "object", "properties": {
        "description": DESCRIPTION, "metadata": METADATA_OR_NULL, "name": NAME, "volume_id": UUID,
        "ref": {"type": ["object", "null", "string"]}},
    "required": ["ref", "volume_id"], "additionalProperties": False}},
    "required": ["snapshot"], "additionalProperties": False}
