"""JSON Schemas of instance-HA request bodies (Masakari's ``schemas/notifications.py``)."""

from __future__ import annotations

TYPES = ("COMPUTE_HOST", "VM", "PROCESS")
STATUSES = ("new", "running", "error", "failed", "ignored", "finished")

CREATE = {
    "type": "object",
    "properties": {
        "notification": {
            "type": "object",
            "properties": {
                "type": {"type": "string", "enum": list(TYPES)},
                "hostname": {"type": "string", "minLength": 1, "maxLength": 255, "pattern": "^[^\\x00]+$"},
                "generated_time": {"type": "string", "minLength": 1, "maxLength": 64},
                "payload": {"type": "object"},
            },
            "required": ["type", "hostname", "generated_time", "payload"],
            "additionalProperties": False,
        },
    },
    "required": ["notification"],
    "additionalProperties": False,
}

# Masakari's parameter types (``masakari/api/validation/parameter_types.py``).
NAME = {"type": "string", "minLength": 1, "maxLength": 255, "pattern": r"^(?!\s)[^\x00-\x1f\x7f]*(?<!\s)$"}
DESCRIPTION = {"type": ["string", "null"], "minLength": 0, "pattern": r"^[^\x00-\x09\x0b-\x1f\x7f]*$"}
HOST_TYPE = {"type": ["string", "null"], "minLength": 0, "maxLength": 255, "pattern": "^[a-zA-Z0-9]*$"}
TRUE_VALUES = (True, "True", "TRUE", "true", "1", "ON", "On", "on", "YES", "Yes", "yes")
FALSE_VALUES = (False, "False", "FALSE", "false", "0", "OFF", "Off", "off", "NO", "No", "no")
BOOLEAN = {"type": ["boolean", "string"], "enum": [*TRUE_VALUES, *FALSE_VALUES]}
RECOVERY_METHODS = ("auto", "reserved_host", "auto_priority", "rh_priority")


def _wrapped(key: str, properties: dict, **member: object) -> dict:
    return {"type": "object",
            "properties": {key: {"type": "object", "properties": properties, "additionalProperties": False,
                                 **member}},
            "required": [key], "additionalProperties": False}


def _any_of(names) -> list[dict]:
    return [{"required": [name]} for name in names]


_SEGMENT = {"name": NAME, "description": DESCRIPTION, "recovery_method": {"type": "string",
                                                                          "enum": list(RECOVERY_METHODS)},
            "service_type": NAME}
_SEGMENT_12 = _SEGMENT | {"enabled": BOOLEAN}  # ``enabled`` from microversion 1.2
SEGMENT_CREATE = {"1.0": _wrapped("segment", _SEGMENT, required=["name", "recovery_method", "service_type"]),
                  "1.2": _wrapped("segment", _SEGMENT_12, required=["name", "recovery_method", "service_type"])}
SEGMENT_UPDATE = {"1.0": _wrapped("segment", _SEGMENT, anyOf=_any_of(_SEGMENT)),
                  "1.2": _wrapped("segment", _SEGMENT_12, anyOf=_any_of(_SEGMENT_12))}

# A host's ``type`` and ``control_attributes`` are NOT NULL in Masakari's table: null is
# a 400 here rather than the database error it meets there.
_HOST = {"name": NAME, "type": HOST_TYPE | {"type": "string"}, "control_attributes": DESCRIPTION | {"type": "string"},
         "reserved": BOOLEAN, "on_maintenance": BOOLEAN}
HOST_CREATE = _wrapped("host", _HOST, required=["name", "type", "control_attributes"])
HOST_UPDATE = _wrapped("host", _HOST, anyOf=_any_of(_HOST))


def boolean(value: object) -> bool:
    """One of :data:`BOOLEAN`'s values as a bool (oslo's strict ``bool_from_string``)."""
    return value in TRUE_VALUES
