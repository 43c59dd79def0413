"""The metadefs JSON schemas served at ``/v2/schemas/metadefs/*`` (the request bodies
are validated against validators derived from them, ``api/schemas.py``).

They follow Glance's documents (same names, same properties, ``additionalProperties:
false``, collections with ``first``/``next``/``schema`` links) because clients and
Horizon read them to build forms.  A property definition is itself a JSON-schema
fragment (``title``, ``type``, ``enum``, ``minimum``…).
"""

from __future__ import annotations

TYPES = ["array", "boolean", "integer", "number", "object", "string", None]
_STRING_ARRAY = {"type": "array", "items": {"type": "string"}, "uniqueItems": True}
_POSITIVE = {"type": "integer", "minimum": 0}
_TIMESTAMP = {"type": "string", "format": "date-time"}
_NAME = {"type": "string", "maxLength": 80}

# What a property definition may say (a property of a namespace or of an object).
PROPERTY_FIELDS = {
    "name": {"type": "string", "maxLength": 80},
    "title": {"type": "string"},
    "description": {"type": "string"},
    "operators": {"type": "array", "items": {"type": "string"}},
    "type": {"type": ["string", "null"], "enum": TYPES},
    "required": _STRING_ARRAY,
    "minimum": {"type": "number"},
    "maximum": {"type": "number"},
    "maxLength": _POSITIVE,
    "minLength": _POSITIVE,
    "pattern": {"type": "string", "format": "regex"},
    "enum": {"type": "array"},
    "readonly": {"type": "boolean"},
    "default": {},
    "items": {"type": "object", "properties": {"type": {"type": ["string", "null"], "enum": TYPES},
                                               "enum": {"type": "array"}}},
    "maxItems": _POSITIVE,
    "minItems": _POSITIVE,
    "uniqueItems": {"type": "boolean", "default": False},
    "additionalItems": {"type": "boolean"},
}
_PROPERTY_MAP = {"type": "object", "additionalProperties": {
    "type": "object", "required": ["title", "type"], "additionalProperties": False,
    "properties": {k: v for k, v in PROPERTY_FIELDS.items() if k != "name"}}}

_OBJECT_FIELDS = {
    "name": _NAME,
    "description": {"type": "string"},
    "required": _STRING_ARRAY,
    "properties": _PROPERTY_MAP,
}
_TAG_FIELDS = {"name": {"type": "string", "maxLength": 255}}
_ASSOCIATION_FIELDS = {
    "name": {"type": "string", "maxLength": 80,
             "description": "Resource type names should be aligned with Heat resource types whenever "
                            "possible: https://docs.openstack.org/heat/latest/template_guide/openstack.html"},
    "prefix": {"type": "string", "maxLength": 80,
               "description": "Specifies the prefix to use for the given resource type. Any properties in "
                              "the namespace should be prefixed with this prefix when being applied to the "
                              "specified resource type."},
    "properties_target": {"type": "string", "maxLength": 80,
                          "description": "Some resource types allow more than one key / value pair per "
                                         "instance (e.g. Cinder allows user and image metadata on volumes). "
                                         "properties_target says which one the properties apply to."},
}
_READ_ONLY = {"created_at": _TIMESTAMP, "updated_at": _TIMESTAMP, "schema": {"type": "string"},
              "self": {"type": "string"}}
_NAMESPACE_FIELDS = {
    "namespace": {"type": "string", "maxLength": 80, "description": "The unique namespace text."},
    "display_name": {"type": "string", "maxLength": 80,
                     "description": "The user friendly name for the namespace. Used by UI if available."},
    "description": {"type": "string", "maxLength": 500,
                    "description": "Provides a user friendly description of the namespace."},
    "visibility": {"type": "string", "enum": ["public", "private"],
                   "description": "Scope of namespace accessibility."},
    "protected": {"type": "boolean", "description": "If true, namespace will not be deletable."},
    "owner": {"type": "string", "maxLength": 255, "description": "Owner of the namespace."},
    "resource_type_associations": {"type": "array", "items": {
        "type": "object", "properties": {k: {"type": "string"} for k in _ASSOCIATION_FIELDS}}},
    "properties": _PROPERTY_MAP,
    "objects": {"type": "array", "items": {"type": "object", "properties": {
        k: v for k, v in _OBJECT_FIELDS.items()}}},
    "tags": {"type": "array", "items": {"type": "object", "properties": {"name": {"type": "string"}}}},
}


def _document(name: str, fields: dict, required: list[str]) -> dict:
    document = {"name": name, "properties": {**fields, **_READ_ONLY}, "additionalProperties": False}
    if required:
        document["required"] = required
    return document


def _collection(name: str, item: dict, *, mapping: bool = False) -> dict:
    items = {"type": "object", "additionalProperties": item} if mapping else {"type": "array", "items": item}
    return {"name": name,
            "properties": {name: items, "first": {"type": "string"}, "next": {"type": "string"},
                           "schema": {"type": "string"}},
            "links": [{"rel": "first", "href": "{first}"}, {"rel": "next", "href": "{next}"},
                      {"rel": "describedby", "href": "{schema}"}]}


NAMESPACE = _document("namespace", _NAMESPACE_FIELDS, ["namespace"])
OBJECT = _document("object", _OBJECT_FIELDS, ["name"])
PROPERTY = {"name": "property", "properties": dict(PROPERTY_FIELDS), "additionalProperties": False,
            "required": ["name", "title", "type"]}
TAG = _document("tag", _TAG_FIELDS, ["name"])
ASSOCIATION = _document("resource_type_association", _ASSOCIATION_FIELDS, ["name"])

DOCUMENTS = {
    "namespace": NAMESPACE,
    "namespaces": _collection("namespaces", NAMESPACE),
    "object": OBJECT,
    "objects": _collection("objects", OBJECT),
    "property": PROPERTY,
    "properties": _collection("properties", PROPERTY, mapping=True),
    "tag": TAG,
    "tags": _collection("tags", TAG),
    "resource_type": ASSOCIATION,
    "resource_types": _collection("resource_type_associations", ASSOCIATION),
}


READ_ONLY = tuple(_READ_ONLY)
