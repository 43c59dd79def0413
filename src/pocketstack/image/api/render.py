"""JSON shapes of Glance v2 images and members (links are root-relative, as Glance's)."""

from __future__ import annotations

import datetime as dt

from pocketstack.image.records import ImageView, MemberView


def isotime(value: dt.datetime) -> str:
    return value.strftime("%Y-%m-%dT%H:%M:%SZ")


def image(view: ImageView) -> dict:
    body: dict = dict(view.properties)
    for key in ("name", "disk_format", "container_format", "visibility", "size", "virtual_size", "status",
                "checksum", "protected", "min_ram", "min_disk", "owner", "os_hidden", "os_hash_algo",
                "os_hash_value", "id"):
        body[key] = getattr(view, key)
    body["created_at"] = isotime(view.created_at)
    body["updated_at"] = isotime(view.updated_at)
    body["tags"] = list(view.tags)
    if view.stores:  # named stores only (Glance shows `stores` with enabled_backends)
        body["stores"] = view.stores
    body["self"] = f"/v2/images/{view.id}"
    body["file"] = f"/v2/images/{view.id}/file"
    body["schema"] = "/v2/schemas/image"
    return body


def member(view: MemberView) -> dict:
    return {"member_id": view.member_id, "image_id": view.image_id, "status": view.status,
            "created_at": isotime(view.created_at), "updated_at": isotime(view.updated_at),
            "schema": "/v2/schemas/member"}
