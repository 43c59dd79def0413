"""JSON Schemas of Placement request bodies (mirroring Placement's own)."""

from __future__ import annotations

from pocketstack.common.api.microversions import Version

MAX_INT = 2147483647
UUID = {"type": "string", "format": "uuid", "pattern": "^[0-9a-fA-F-]{32,36}$"}
GENERATION = {"type": "integer", "minimum": 0}
CUSTOM_NAME = {"type": "string", "pattern": "^CUSTOM_[A-Z0-9_]+$", "maxLength": 255}
CLASS_NAME = {"type": "string", "pattern": "^[A-Z0-9_]+$", "maxLength": 255}

_PROVIDER_NAME = {"type": "string", "minLength": 1, "maxLength": 200}
_PARENT = {"parent_provider_uuid": {"anyOf": [UUID, {"type": "null"}]}}


def _provider(properties: dict) -> dict:
    return {"type": "object", "properties": properties, "required": ["name"], "additionalProperties": False}


# A provider's parent may be given from 1.14 (nested providers); before, it is an unknown property.
provider_create = _provider({"name": _PROVIDER_NAME, "uuid": UUID})
provider_create_v114 = _provider({"name": _PROVIDER_NAME, "uuid": UUID, **_PARENT})
provider_update = _provider({"name": _PROVIDER_NAME})
provider_update_v114 = _provider({"name": _PROVIDER_NAME, **_PARENT})

_INVENTORY_FIELDS = {
    "total": {"type": "integer", "minimum": 1, "maximum": MAX_INT},
    "reserved": {"type": "integer", "minimum": 0, "maximum": MAX_INT},
    "min_unit": {"type": "integer", "minimum": 1, "maximum": MAX_INT},
    "max_unit": {"type": "integer", "minimum": 1, "maximum": MAX_INT},
    "step_size": {"type": "integer", "minimum": 1, "maximum": MAX_INT},
    "allocation_ratio": {"type": "number", "exclusiveMinimum": 0, "maximum": 3.40282e38},
}
inventory = {"type": "object", "properties": _INVENTORY_FIELDS, "required": ["total"], "additionalProperties": False}
inventory_put = {
    "type": "object",
    "properties": {**_INVENTORY_FIELDS, "resource_provider_generation": GENERATION},
    "required": ["total", "resource_provider_generation"],
    "additionalProperties": False,
}
inventory_post = {
    "type": "object",
    "properties": {**_INVENTORY_FIELDS, "resource_class": CLASS_NAME},
    "required": ["total", "resource_class"],
    "additionalProperties": False,
}
inventories_put = {
    "type": "object",
    "properties": {"resource_provider_generation": GENERATION,
                   "inventories": {"type": "object", "patternProperties": {"^[A-Z0-9_]+$": inventory},
                                   "additionalProperties": False}},
    "required": ["resource_provider_generation", "inventories"],
    "additionalProperties": False,
}

traits_put = {
    "type": "object",
    "properties": {"traits": {"type": "array", "items": CLASS_NAME, "uniqueItems": True},
                   "resource_provider_generation": GENERATION},
    "required": ["traits", "resource_provider_generation"],
    "additionalProperties": False,
}
resource_class = {"type": "object", "properties": {"name": CUSTOM_NAME}, "required": ["name"],
                  "additionalProperties": False}

_AGG_LIST = {"type": "array", "items": UUID, "uniqueItems": True}
aggregates_legacy = _AGG_LIST
aggregates = {"type": "object", "properties": {"aggregates": _AGG_LIST, "resource_provider_generation": GENERATION},
              "required": ["aggregates", "resource_provider_generation"], "additionalProperties": False}

_RESOURCES = {"type": "object", "minProperties": 1,
              "patternProperties": {"^[A-Z0-9_]+$": {"type": "integer", "minimum": 1, "maximum": MAX_INT}},
              "additionalProperties": False}
_OWNER = {"type": "string", "minLength": 1, "maxLength": 255}


def allocations_body(version, *, multi: bool = False) -> dict:
    """The PUT /allocations/{c} body schema at ``version`` (POST /allocations: per consumer)."""
    if version >= (1, 12):
        allocs = {"type": "object",
                  "patternProperties": {"^[0-9a-fA-F-]{32,36}$": {
                      "type": "object", "properties": {"resources": _RESOURCES, "generation": GENERATION},
                      "required": ["resources"], "additionalProperties": False}},
                  "additionalProperties": False}
        if version < (1, 28) and not multi:  # emptying by PUT arrived in 1.28; POST always could
            allocs["minProperties"] = 1
    else:
        allocs = {"type": "array", "minItems": 1, "items": {
            "type": "object",
            "properties": {"resource_provider": {"type": "object", "properties": {"uuid": UUID},
                                                 "required": ["uuid"], "additionalProperties": False},
                           "resources": _RESOURCES},
            "required": ["resource_provider", "resources"], "additionalProperties": False}}
    props: dict = {"allocations": allocs}
    required = ["allocations"]
    if version >= (1, 8):
        props.update(project_id=_OWNER, user_id=_OWNER)
        required += ["project_id", "user_id"]
    if version >= (1, 28):
        props["consumer_generation"] = {"type": ["integer", "null"], "minimum": 0}
        required.append("consumer_generation")
    if version >= (1, 34):
        props["mappings"] = {"type": "object"}
    if version >= (1, 38):
        props["consumer_type"] = {"type": "string", "pattern": "^[A-Z0-9_]+$", "maxLength": 255}
        required.append("consumer_type")
    return {"type": "object", "properties": props, "required": required, "additionalProperties": False}


def allocations_post(version) -> dict:
    return {"type": "object", "minProperties": 1,
            "patternProperties": {"^[0-9a-fA-F-]{32,36}$": allocations_body(version, multi=True)},
            "additionalProperties": False}


# The body schemas by the microversion each starts at (the route picks by the request's).
_ALLOCATION_STEPS = ("1.0", "1.8", "1.12", "1.28", "1.34", "1.38")
ALLOCATIONS_PUT = {v: allocations_body(Version.parse(v)) for v in _ALLOCATION_STEPS}
ALLOCATIONS_POST = {v: allocations_post(Version.parse(v)) for v in ("1.13", "1.28", "1.34", "1.38")}
