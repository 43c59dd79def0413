"""Decoding Glance's JSON-patch dialect (``application/openstack-images-v2.1-json-patch``).

Only ``add``, ``replace`` and ``remove`` on top-level attributes are accepted; pointers
are checked the way Glance checks them, read-only and reserved attributes answer 403,
and each value must fit the image schema (400) before anything is applied.
"""

from __future__ import annotations

import re

from pocketstack.common.api.app import ApiRequest
from pocketstack.common.api.errors import BadRequest, UnsupportedMediaType
from pocketstack.image import attributes
from pocketstack.image.manager import Change

MEDIA_TYPE = "application/openstack-images-v2.1-json-patch"
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


def _change(raw) -> Change:
    if not isinstance(raw, dict):
        raise BadRequest("Operations must be JSON objects.")
    op = raw.get("op")
    if op is None:
        raise BadRequest(f"Unable to find `op` in JSON Schema change. It must be one of the following: "
                         f"{', '.join(OPERATIONS)}.")
    if op not in OPERATIONS:
        raise BadRequest(f"Invalid operation: `{op}`. It must be one of the following: {', '.join(OPERATIONS)}.")
    if "path" not in raw:
        raise BadRequest("Unable to find 'path' in JSON Schema change")
    path = _pointer(raw["path"])
    if len(path) != 1 or not path[0]:
        raise BadRequest(f"Invalid JSON pointer for this resource: '/{'/'.join(path)}'")
    name = path[0]
    attributes.check_name(name)
    if op == "remove":
        return Change(op, name)
    if "value" not in raw:
        raise BadRequest(f'Operation "{op}" requires a member named "value".')
    attributes.check_values({name: raw["value"]})
    return Change(op, name, raw["value"])


def decode(req: ApiRequest) -> list[Change]:
    """The changes of a PATCH request; 415 (with ``Accept-Patch``) for other media types."""
    media_type = req.headers.get("content-type", "").split(";")[0].strip().lower()
    if media_type != MEDIA_TYPE:
        raise UnsupportedMediaType(f"Unsupported Content-Type; use {MEDIA_TYPE}.",
                                   headers={"Accept-Patch": MEDIA_TYPE})
    body = req.json()
    if not isinstance(body, list):
        raise BadRequest("Request body must be a JSON array of operation objects.")
    return [_change(raw) for raw in body]
