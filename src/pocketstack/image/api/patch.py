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

from pocketstack.common.api.request import ApiRequest
from pocketstack.common.errors import BadRequest, UnsupportedMediaType
from pocketstack.image import attributes
from pocketstack.image.manager import Change

V2_0 = "application/openstack-images-v2.0-json-patch"
V2_1 = "application/openstack-images-v2.1-json-patch"
MEDIA_TYPES = (V2_0, V2_1)
OPERATIONS = ("add", "remove", "replace")


def _pointer(pointer) -> list[str]:
    if not isinstance(pointer, str) or not pointer.startswith("/"):
        raise BadRequest(f'Pointer `{pointer}` does not start with "/".')
    if re.search(r"/\s*?/", pointer[1:]):
        raise BadRequest(f'Pointer `{pointer}` contains adjacent "/".')
    if len(pointer) > 1 and pointer.endswith("/"):
        raise BadRequest(f'Pointer `{pointer}` end with "/".')
    if re.search("~[^01]", pointer) or pointer.endswith("~"):
        raise BadRequest(f'Pointer `{pointer}` contains "~" not part of a recognized escape sequence.')
    return [part.replace("~1", "/").replace("~0", "~").strip() for part in pointer[1:].split("/")]


def _op_and_path_v2_1(raw: dict) -> tuple[str, object]:
    op = raw.get("op")
    if op is None:
        raise BadRequest(f"Unable to find `op` in JSON Schema change. It must be one of the following: "
                         f"{', '.join(OPERATIONS)}.")
    if op not in OPERATIONS:
        raise BadRequest(f"Invalid operation: `{op}`. It must be one of the following: {', '.join(OPERATIONS)}.")
    if "path" not in raw:
        raise BadRequest("Unable to find 'path' in JSON Schema change")
    return op, raw["path"]


def _op_and_path_v2_0(raw: dict) -> tuple[str, object]:
    ops = [op for op in OPERATIONS if op in raw]
    if len(ops) != 1:
        raise BadRequest('Operation objects must contain exactly one member named "add", "remove", or "replace".')
    return ops[0], raw[ops[0]]


def _change(raw, media_type: str) -> Change:
    if not isinstance(raw, dict):
        raise BadRequest("Operations must be JSON objects.")
    op, pointer = (_op_and_path_v2_0 if media_type == V2_0 else _op_and_path_v2_1)(raw)
    path = _pointer(pointer)
    if len(path) != 1 or not path[0]:
        raise BadRequest(f"Invalid JSON pointer for this resource: '/{'/'.join(path)}'")
    name = path[0]
    attributes.check_name(name)
    if op == "remove":
        return Change(op, name)
    if "value" not in raw:
        raise BadRequest(f'Operation "{op}" requires a member named "value".')
    attributes.check_values({name: raw["value"]})
    return Change(op, name, raw["value"], add_only_new=(op == "add" and media_type == V2_0))


def decode(req: ApiRequest) -> list[Change]:
    """The changes of a PATCH request; 415 (with ``Accept-Patch``) for other media types."""
    media_type = req.headers.get("content-type", "").split(";")[0].strip().lower()
    if media_type not in MEDIA_TYPES:
        raise UnsupportedMediaType(f"Unsupported Content-Type; use {V2_1} or {V2_0}.",
                                   headers={"Accept-Patch": ", ".join(MEDIA_TYPES)})
    body = req.json()
    if not isinstance(body, list):
        raise BadRequest("Request body must be a JSON array of operation objects.")
    return [_change(raw, media_type) for raw in body]
