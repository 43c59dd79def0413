"""Editing an image's properties, as Horizon's "Edit Image" and "Update Metadata" do:
name, visibility, protected, minimum disk and RAM, and the custom properties (add,
change, remove), sent as one Glance JSON patch
(``application/openstack-images-v2.1-json-patch``) of only what changed.

:func:`image_patch` turns the form into that patch without calling anything (tested on
its own); the owner-only rules (who may change what) stay Glance's, and its refusals are
shown as the page's message.
"""

from __future__ import annotations

from typing import Any

from starlette.responses import Response

from pocketstack.dashboard.pages.common import param
from pocketstack.dashboard.web import Ctx, FormError, page

PATCH_TYPE = "application/openstack-images-v2.1-json-patch"
# Glance's own image attributes (its schema's base properties): everything else on an
# image is a custom property, which the form lists for change and removal.
CORE = {"id", "name", "status", "visibility", "protected", "os_hidden", "checksum", "os_hash_algo",
        "os_hash_value", "owner", "size", "virtual_size", "min_ram", "min_disk", "created_at", "updated_at",
        "tags", "self", "file", "schema", "container_format", "disk_format", "locations", "direct_url", "stores"}
# Form field prefix of a custom property's value (``property.<key>``).
PROPERTY = "property."


def custom_properties(image: dict[str, Any]) -> list[tuple[str, Any]]:
    """The image's custom properties, by key."""
    return sorted((k, v) for k, v in image.items() if k not in CORE)


def pointer(key: str) -> str:
    """``key`` as a JSON pointer to a top-level member (RFC 6901 escapes)."""
    return "/" + key.replace("~", "~0").replace("/", "~1")


def _set(image: dict[str, Any], key: str, value: Any) -> list[dict[str, Any]]:
    if image.get(key) == value:
        return []
    return [{"op": "replace" if key in image else "add", "path": pointer(key), "value": value}]


def _whole(fields: dict[str, str], name: str, label: str) -> int:
    text = fields.get(name, "").strip() or "0"
    if not text.isdigit():
        raise FormError(f"{label} must be a whole number, 0 or more.")
    return int(text)


def image_patch(image: dict[str, Any], fields: dict[str, str], removed: list[str]) -> list[dict[str, Any]]:
    """The JSON patch from ``image`` to what the form says: ``fields`` (name, visibility,
    protected, min_disk, min_ram, ``property.<key>`` values, new_key/new_value) and the
    custom properties ticked for removal."""
    name = fields.get("name", "").strip()
    if not name:
        raise FormError("A name is required.")
    ops = _set(image, "name", name)
    if fields.get("visibility"):
        ops += _set(image, "visibility", fields["visibility"])
    ops += _set(image, "protected", fields.get("protected") == "on")
    ops += _set(image, "min_disk", _whole(fields, "min_disk", "The minimum disk"))
    ops += _set(image, "min_ram", _whole(fields, "min_ram", "The minimum RAM"))
    for key, _value in custom_properties(image):
        if key in removed:
            ops.append({"op": "remove", "path": pointer(key)})
        elif PROPERTY + key in fields:
            ops += _set(image, key, fields[PROPERTY + key].strip())
    new_key = fields.get("new_key", "").strip()
    if new_key:
        if new_key in CORE:
            raise FormError(f"{new_key} is one of the image's own fields, not a custom property.")
        ops += _set(image, new_key, fields.get("new_value", "").strip())
    elif fields.get("new_value", "").strip():
        raise FormError("A new property needs a name.")
    return ops


@page()
async def edit_image(ctx: Ctx) -> Response:
    image_id = param(ctx, "id")
    here = f"/images/{image_id}"
    assert ctx.form is not None
    fields = {k: v for k, v in ctx.form.items() if isinstance(v, str)}
    removed = [v for v in ctx.form.getlist("remove") if isinstance(v, str)]
    current = await ctx.api.get("image", here)
    ops = image_patch(current, fields, removed)
    if not ops:
        return await ctx.redirect(here, "Nothing changed.")
    await ctx.api.call("PATCH", "image", here, json=ops, headers={"Content-Type": PATCH_TYPE})
    return await ctx.redirect(here, "Image updated.")
