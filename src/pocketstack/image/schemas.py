"""Glance's image and member schemas: served at ``/v2/schemas/*`` and used to validate.

Clients (glanceclient, openstacksdk, Horizon) read these documents to learn which
attributes are base attributes and which are free-form properties, so they follow
Glance's shape: a "permissive" image schema whose additional properties must be
strings, plus the commonly used properties Glance ships in ``schema-image.json``.
"""

from __future__ import annotations

import copy

UUID_PATTERN = "^([0-9a-fA-F]){8}-([0-9a-fA-F]){4}-([0-9a-fA-F]){4}-([0-9a-fA-F]){4}-([0-9a-fA-F]){12}$"
CONTAINER_FORMATS = ["ami", "ari", "aki", "bare", "ovf", "ova", "docker", "compressed"]
DISK_FORMATS = ["ami", "ari", "aki", "vhd", "vhdx", "vmdk", "raw", "qcow2", "vdi", "iso", "ploop"]
STATUSES = ["queued", "saving", "active", "killed", "deleted", "uploading", "importing",
            "pending_delete", "deactivated"]
VISIBILITIES = ["community", "public", "private", "shared"]
MEMBER_STATUSES = ["pending", "accepted", "rejected"]

# Attributes stored in the image row (everything else is a free-form property).
BASE_ATTRIBUTES = ("id", "name", "status", "visibility", "protected", "os_hidden", "checksum",
                   "os_hash_algo", "os_hash_value", "owner", "size", "virtual_size",
                   "container_format", "disk_format", "created_at", "updated_at", "tags",
                   "min_ram", "min_disk")
# What clients may never set (403 "Attribute 'x' is read-only.").
READ_ONLY = ("created_at", "updated_at", "status", "checksum", "size", "virtual_size",
             "direct_url", "self", "file", "schema", "id", "os_hash_algo", "os_hash_value",
             "stores", "locations")
RESERVED = ("location", "deleted", "deleted_at")
RESERVED_NAMESPACE = "os_glance"

_BASE_PROPERTIES = {
    "id": {"type": "string", "description": "An identifier for the image", "pattern": UUID_PATTERN},
    "name": {"type": ["null", "string"], "description": "Descriptive name for the image", "maxLength": 255},
    "status": {"type": "string", "readOnly": True, "description": "Status of the image", "enum": STATUSES},
    "visibility": {"type": "string", "description": "Scope of image accessibility", "enum": VISIBILITIES},
    "protected": {"type": "boolean", "description": "If true, image will not be deletable."},
    "os_hidden": {"type": "boolean",
                  "description": "If true, image will not appear in default image list response."},
    "checksum": {"type": ["null", "string"], "readOnly": True, "description": "md5 hash of image contents.",
                 "maxLength": 32},
    "os_hash_algo": {"type": ["null", "string"], "readOnly": True,
                     "description": "Algorithm to calculate the os_hash_value", "maxLength": 64},
    "os_hash_value": {"type": ["null", "string"], "readOnly": True,
                      "description": "Hexdigest of the image contents using the algorithm specified by "
                                     "the os_hash_algo", "maxLength": 128},
    "owner": {"type": ["null", "string"], "description": "Owner of the image", "maxLength": 255},
    "size": {"type": ["null", "integer"], "readOnly": True, "description": "Size of image file in bytes"},
    "virtual_size": {"type": ["null", "integer"], "readOnly": True,
                     "description": "Virtual size of image in bytes"},
    "container_format": {"type": ["null", "string"], "description": "Format of the container",
                         "enum": [None] + CONTAINER_FORMATS},
    "disk_format": {"type": ["null", "string"], "description": "Format of the disk",
                    "enum": [None] + DISK_FORMATS},
    "created_at": {"type": "string", "readOnly": True, "description": "Date and time of image registration"},
    "updated_at": {"type": "string", "readOnly": True,
                   "description": "Date and time of the last image modification"},
    "tags": {"type": "array", "description": "List of strings related to the image",
             "items": {"type": "string", "maxLength": 255}},
    "direct_url": {"type": "string", "readOnly": True,
                   "description": "URL to access the image file kept in external store"},
    "min_ram": {"type": "integer", "description": "Amount of ram (in MB) required to boot image."},
    "min_disk": {"type": "integer", "description": "Amount of disk space (in GB) required to boot image."},
    "self": {"type": "string", "readOnly": True, "description": "An image self url"},
    "file": {"type": "string", "readOnly": True, "description": "An image file url"},
    "stores": {"type": "string", "readOnly": True, "description": "Store in which image data resides."},
    "schema": {"type": "string", "readOnly": True, "description": "An image schema url"},
    "locations": {"type": "array", "description": "A set of URLs to access the image file kept in external store",
                  "items": {"type": "object", "required": ["url", "metadata"],
                            "properties": {"url": {"type": "string", "maxLength": 255},
                                           "metadata": {"type": "object"}}}},
}

# The properties Glance's default schema-image.json describes.
_NULLABLE_UUID = {"type": ["null", "string"], "pattern": UUID_PATTERN}
_CUSTOM_PROPERTIES = {
    "kernel_id": dict(_NULLABLE_UUID, description="ID of image stored in Glance that should be used as "
                                                  "the kernel when booting an AMI-style image.", is_base=False),
    "ramdisk_id": dict(_NULLABLE_UUID, description="ID of image stored in Glance that should be used as "
                                                   "the ramdisk when booting an AMI-style image.", is_base=False),
    "instance_uuid": {"type": "string", "is_base": False,
                      "description": "Metadata which can be used to record which instance this image is "
                                     "associated with. (Informational only, does not create an instance "
                                     "snapshot.)"},
    "architecture": {"type": "string", "is_base": False,
                     "description": "Operating system architecture as specified in "
                                    "https://docs.openstack.org/python-glanceclient/latest/cli/property-keys.html"},
    "os_distro": {"type": "string", "is_base": False,
                  "description": "Common name of operating system distribution as specified in "
                                 "https://docs.openstack.org/python-glanceclient/latest/cli/property-keys.html"},
    "os_version": {"type": "string", "is_base": False,
                   "description": "Operating system version as specified by the distributor."},
    "description": {"type": "string", "is_base": False, "description": "A human-readable string describing "
                                                                        "this image."},
    "cinder_encryption_key_id": {"type": "string", "is_base": False,
                                 "description": "Identifier in the OpenStack Key Management Service for the "
                                                "encryption key for the Block Storage Service to use when "
                                                "mounting a volume created from this image"},
    "cinder_encryption_key_deletion_policy": {"type": "string", "enum": ["on_image_deletion", "do_not_delete"],
                                              "is_base": False,
                                              "description": "States the condition under which the Image "
                                                             "Service will delete the object associated with "
                                                             "the 'cinder_encryption_key_id' image property."},
}

IMAGE_SCHEMA = {
    "name": "image",
    "properties": {**_BASE_PROPERTIES, **_CUSTOM_PROPERTIES},
    "additionalProperties": {"type": "string"},
    "links": [{"rel": "self", "href": "{self}"}, {"rel": "enclosure", "href": "{file}"},
              {"rel": "describedby", "href": "{schema}"}],
}

IMAGES_SCHEMA = {
    "name": "images",
    "properties": {
        "images": {"type": "array", "items": IMAGE_SCHEMA},
        "schema": {"type": "string"},
        "first": {"type": "string"},
        "next": {"type": "string"},
    },
    "links": [{"rel": "first", "href": "{first}"}, {"rel": "next", "href": "{next}"},
              {"rel": "describedby", "href": "{schema}"}],
}

MEMBER_SCHEMA = {
    "name": "member",
    "properties": {
        "created_at": {"type": "string", "description": "Date and time of image member creation"},
        "image_id": {"type": "string", "description": "An identifier for the image", "pattern": UUID_PATTERN},
        "member_id": {"type": "string", "description": "An identifier for the image member (tenantId)"},
        "status": {"type": "string", "description": "The status of this image member",
                   "enum": MEMBER_STATUSES},
        "updated_at": {"type": "string", "description": "Date and time of last modification of image member"},
        "schema": {"readOnly": True, "type": "string"},
    },
}

MEMBERS_SCHEMA = {
    "name": "members",
    "properties": {
        "members": {"type": "array", "items": MEMBER_SCHEMA},
        "schema": {"type": "string"},
    },
    "links": [{"rel": "describedby", "href": "{schema}"}],
}

TASK_SCHEMA = {
    "name": "task",
    "properties": {
        "id": {"type": "string", "description": "An identifier for the task", "pattern": UUID_PATTERN},
        "type": {"type": "string", "description": "The type of task represented by this content",
                 "enum": ["import", "api_image_import", "location_import"]},
        "status": {"type": "string", "description": "The current status of this task",
                   "enum": ["pending", "processing", "success", "failure"]},
        "input": {"type": ["null", "object"], "description": "The parameters required by task, JSON blob"},
        "result": {"type": ["null", "object"], "description": "The result of current task, JSON blob"},
        "owner": {"type": "string", "description": "An identifier for the owner of this task"},
        "message": {"type": "string", "description": "Human-readable informative message only included when "
                                                     "appropriate (usually on failure)"},
        "image_id": {"type": "string", "readOnly": True, "description": "Image associated with the task"},
        "request_id": {"type": "string", "readOnly": True, "description": "Human-readable informative request-id"},
        "user_id": {"type": "string", "readOnly": True, "description": "User associated with the task"},
        "expires_at": {"type": ["null", "string"], "description": "Datetime when this resource would be "
                                                                  "subject to removal"},
        "created_at": {"type": "string", "description": "Datetime when this resource was created"},
        "updated_at": {"type": "string", "description": "Datetime when this resource was updated"},
        "self": {"type": "string"},
        "schema": {"type": "string"},
    },
    "required": ["type", "input"],
    "additionalProperties": False,
}

TASKS_SCHEMA = {
    "name": "tasks",
    "properties": {
        "tasks": {"type": "array", "items": {k: v for k, v in TASK_SCHEMA.items() if k != "required"}},
        "schema": {"type": "string"},
        "first": {"type": "string"},
        "next": {"type": "string"},
    },
    "links": [{"rel": "first", "href": "{first}"}, {"rel": "next", "href": "{next}"},
              {"rel": "describedby", "href": "{schema}"}],
}

DOCUMENTS = {"image": IMAGE_SCHEMA, "images": IMAGES_SCHEMA, "member": MEMBER_SCHEMA, "members": MEMBERS_SCHEMA,
             "task": TASK_SCHEMA, "tasks": TASKS_SCHEMA}


def _validation_schema(document: dict) -> dict:
    """A validator's view of a served schema: ``readOnly`` is enforced separately (403,
    as Glance does), and the non-standard ``is_base`` marker is dropped."""
    schema = copy.deepcopy(document)
    schema.pop("name", None)
    schema.pop("links", None)
    for prop in schema["properties"].values():
        prop.pop("is_base", None)
    schema["type"] = "object"
    return schema


IMAGE_VALIDATION = _validation_schema(IMAGE_SCHEMA)
