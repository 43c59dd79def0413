"""Request JSON Schemas of the Image API.

Image bodies are checked by the manager against the served ``image`` document
(``image/schemas.py``: ``IMAGE_VALIDATION``, re-exported here), attribute by attribute,
after the policy check -- as Glance does.  The metadefs bodies are checked against
validators derived from the served ``/v2/schemas/metadefs/*`` documents, after the
namespace is found and the caller authorised (``api/metadef_common.checked_body``); so
no route declares ``body=``: the order of 404, 403 and 400 stays Glance's.
"""

from __future__ import annotations

import copy

from pocketstack.image.metadefs import schemas as metadefs
from pocketstack.image.schemas import IMAGE_VALIDATION as IMAGE

__all__ = ["ASSOCIATION", "IMAGE", "NAMESPACE", "OBJECT", "PROPERTY", "TAG", "TAGS"]


def validation_schema(document: dict) -> dict:
    """A validator's view of a served document (read-only fields are refused with a
    403 before validation, as Glance does)."""
    schema = copy.deepcopy(document)
    schema.pop("name")
    schema["type"] = "object"
    return schema


def _namespace() -> dict:
    """The namespace document as a validator, requiring what Glance's document leaves
    open but nothing can be stored without: a name on each association, object and tag
    the namespace is created with."""
    schema = validation_schema(metadefs.NAMESPACE)
    for key in ("resource_type_associations", "objects", "tags"):
        schema["properties"][key]["items"]["required"] = ["name"]
    return schema


NAMESPACE = _namespace()
OBJECT = validation_schema(metadefs.OBJECT)
PROPERTY = validation_schema(metadefs.PROPERTY)
TAG = validation_schema(metadefs.TAG)
ASSOCIATION = validation_schema(metadefs.ASSOCIATION)
TAGS = {"type": "object", "required": ["tags"], "additionalProperties": False,
        "properties": {"tags": {"type": "array", "items": TAG}}}
