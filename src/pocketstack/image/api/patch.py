"""Decoding Glance's two JSON-patch dialects.

``application/openstack-images-v2.1-json-patch`` is RFC 6902 style
(``{"op": "replace", "path": "/name", "value": …}``);
``application/openstack-images-v2.0-json-patch`` (the older draft-04 form Tempest and
old clients still send) names the operation as the key (``{"replace": "/name",
"value": …}``) and its ``add`` refuses to overwrite an attribute or property that
already exists (409), where v2.1's ``add`` replaces it.  Only ``add``, ``replace`` and
``remove`` on top-level attributes are accepted; pointers are checked the way Glance
checks them, read-only and reserved attributes answer 403, and each value must fit the
image schema (400) before anything is applied.
"""

from __future__ import annotations

import re
from typing import Any

from pocketstack.image import attributes, errors
from pocketstack.image.manager import Change

V2_0 = "application/openstack-images-v2.0-json-patch"
V2_1 = "application/openstack-images-v2.1-json-patch"
MEDIA_TYPES = (V2_0, V2_1)
OPERATIONS = ("add", "remove", "replace")


def _pointer(pointer) -> list[str]:
    if not isinstance(pointer, str) or not pointer.startswith("/"):
        raise errors.PointerNotRooted(pointer=pointer)
    if re.search(r"/\s*?/", pointer[1:]):
        raise errors.PointerAdjacentSlashes(pointer=pointer)
    if len(pointer) > 1 and pointer.endswith("/"):
        raise errors.PointerTrailingSlash(pointer=pointer)
    if re.search("~[^01]", pointer) or pointer.endswith("~"):
        raise errors.PointerBadEscape(pointer=pointer)
    return [part.replace("~1", "/").replace("~0", "~").strip() for part in pointer[1:].split("/")]


def _op_and_path_v2_1(raw: dict) -> tuple[str, object]:
    op = raw.get("op")
    if op is None:
        raise errors.PatchMissingOp(allowed=", ".join(OPERATIONS))
    if op not in OPERATIONS:
        raise errors.PatchInvalidOp(op=op, allowed=", ".join(OPERATIONS))
    if "path" not in raw:
        raise errors.PatchMissingPath()
    return op, raw["path"]


def _op_and_path_v2_0(raw: dict) -> tuple[str, object]:
    ops = [op for op in OPERATIONS if op in raw]
    if len(ops) != 1:
        raise errors.PatchAmbiguousOp()
    return ops[0], raw[ops[0]]


def _change(raw, media_type: str) -> Change:
    if not isinstance(raw, dict):
        raise errors.PatchOperationNotObject()
    op, pointer = (_op_and_path_v2_0 if media_type == V2_0 else _op_and_path_v2_1)(raw)
    path = _pointer(pointer)
    if len(path) != 1 or not path[0]:
        raise errors.PointerNotAttribute(pointer="/" + "/".join(path))
    name = path[0]
    attributes.check_name(name)
    if op == "remove":
        return Change(op, name)
    if "value" not in raw:
        raise errors.PatchMissingValue(op=op)
    attributes.check_values({name: raw["value"]})
    return Change(op, name, raw["value"], add_only_new=(op == "add" and media_type == V2_0))


def media_type(content_type: str | None) -> str:
    """The patch dialect a ``Content-Type`` names; 415 (with ``Accept-Patch``) for any other."""
    kind = (content_type or "").split(";")[0].strip().lower()
    if kind not in MEDIA_TYPES:
        raise errors.UnsupportedPatchType(v2_1=V2_1, v2_0=V2_0, headers={"Accept-Patch": ", ".join(MEDIA_TYPES)})
    return kind


def decode(kind: str, body: Any) -> list[Change]:
    """The changes of a PATCH body in dialect ``kind`` (see :func:`media_type`)."""
    if not isinstance(body, list):
        raise errors.PatchNotArray()
    return [_change(raw, kind) for raw in body]
