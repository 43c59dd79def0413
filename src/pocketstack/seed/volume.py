"""Seed Block Storage: volume types and volumes (blank or from an image), waiting for
each volume to become available.  Cinder creates a volume in the caller's project, so a
volume of another project is created by the user the entry names."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from pocketstack.seed import identity, image
from pocketstack.seed.client import ApiFailure, SeedClient
from pocketstack.seed.context import Context, given
from pocketstack.seed.errors import Path

VOLUME_TIMEOUT = 300.0


async def volume_type_id(ctx: Context, name: str) -> str:
    async def named() -> list[dict[str, Any]]:
        listed = (await ctx.admin.get(f"{ctx.admin.volume()}/types", is_public="None"))["volume_types"]
        return [t for t in listed if t["name"] == name]

    return await ctx.resolve("volume_type", name, named)


async def volume_type(ctx: Context, path: Path, entry: dict[str, Any]) -> None:
    url = f"{ctx.admin.volume()}/types"
    listed = (await ctx.admin.get(url, is_public="None"))["volume_types"]
    found = next((t for t in listed if t["name"] == entry["name"]), None)
    mutable = given(entry, "description", "is_public")
    specs = entry.get("extra_specs") or {}
    if specs:
        mutable["extra_specs"] = ((found or {}).get("extra_specs") or {}) | specs

    async def create() -> dict[str, Any]:
        body = given(entry, "name", "description", "extra_specs", **{"os-volume-type-access:is_public": "is_public"})
        return (await ctx.admin.call("POST", url, body={"volume_type": body})).json()["volume_type"]

    async def update(changes: dict[str, Any]) -> None:
        assert found is not None
        if "extra_specs" in changes:
            await ctx.admin.call("POST", f"{url}/{found['id']}/extra_specs", body={"extra_specs": specs})
        if changes.keys() - {"extra_specs"}:
            await ctx.admin.call("PUT", f"{url}/{found['id']}", body={"volume_type": given(
                changes, "description", "is_public")})

    await ctx.converge(path, found, create, mutable, update)


async def _client(ctx: Context, entry: dict[str, Any]) -> SeedClient:
    if "user" not in entry:
        return ctx.admin
    name = entry["user"]
    uid = await identity.user_id(ctx, name)
    password = next(u["password"] for _, u in ctx.doc.entries("users") if u["name"] == name)
    return await ctx.admin.as_user(uid, password, await identity.project_id(ctx, entry.get("project", "admin")))


async def volume(ctx: Context, path: Path, entry: dict[str, Any]) -> None:
    client = await _client(ctx, entry)
    url = f"{client.volume()}/volumes"
    listed = (await client.get(f"{url}/detail", name=entry["name"]))["volumes"]
    found = listed[0] if listed else None
    mutable = given(entry, "description")
    if "metadata" in entry:
        mutable["metadata"] = ((found or {}).get("metadata") or {}) | entry["metadata"]
    fixed = given(entry, volume_type="type")
    if found is not None and found["size"] < entry["size"]:
        mutable["size"] = entry["size"]
    else:
        fixed["size"] = entry["size"]

    async def create() -> dict[str, Any]:
        body = given(entry, "name", "size", "description", "metadata", volume_type="type")
        if "image" in entry:
            body["imageRef"] = await image.image_id(ctx, entry["image"])
        made = (await client.call("POST", url, body={"volume": body})).json()["volume"]
        return await _available(client, f"{url}/{made['id']}")

    async def update(changes: dict[str, Any]) -> None:
        assert found is not None
        if "size" in changes:
            await client.call("POST", f"{url}/{found['id']}/action", body={"os-extend": {"new_size": entry["size"]}})
            await _available(client, f"{url}/{found['id']}")
        if changes.keys() - {"size"}:
            await client.call("PUT", f"{url}/{found['id']}", body={"volume": given(changes, "description",
                                                                                   "metadata")})

    await ctx.converge(path, found, create, mutable, update, fixed)


async def _available(client: SeedClient, url: str) -> dict[str, Any]:
    """Wait for the volume worker to finish: ``available``, or the volume's ``error``."""
    deadline = time.monotonic() + VOLUME_TIMEOUT
    delay = 0.05
    while True:
        volume = (await client.get(url))["volume"]
        if volume["status"] == "available":
            return volume
        if volume["status"].startswith("error") or time.monotonic() > deadline:
            raise ApiFailure(f"the volume is {volume['status']!r}, not available")
        await asyncio.sleep(delay)
        delay = min(delay * 2, 1.0)
