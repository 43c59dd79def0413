"""Seed Image: images uploaded from local files, with their properties, visibility and
owner, through Glance's v2 API as admin."""

from __future__ import annotations

import asyncio
import hashlib
import json
from collections.abc import AsyncIterator
from pathlib import Path as FsPath
from typing import Any

from pocketstack.seed import identity
from pocketstack.seed.context import Context, given
from pocketstack.seed.errors import Path

DISK_FORMATS = {".qcow2": "qcow2", ".img": "raw", ".raw": "raw", ".iso": "iso", ".vmdk": "vmdk", ".vdi": "vdi",
                ".vhd": "vhd", ".vhdx": "vhdx"}
PATCH = {"Content-Type": "application/openstack-images-v2.1-json-patch"}


async def image_id(ctx: Context, name: str) -> str:
    url = f"{ctx.admin.roots.image}/images"
    return await ctx.resolve("image", name, lambda: _named(ctx, url, name))


async def _named(ctx: Context, url: str, name: str, **params: Any) -> list[dict[str, Any]]:
    return (await ctx.admin.get(url, name=name, **params))["images"]


def _md5(path: FsPath) -> str:
    digest = hashlib.md5(usedforsecurity=False)
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


async def image(ctx: Context, path: Path, entry: dict[str, Any]) -> None:
    url = f"{ctx.admin.roots.image}/images"
    file = ctx.doc.file(entry["file"])
    owner = await identity.project_id(ctx, entry["project"]) if "project" in entry else ctx.admin.project_id
    listed = await _named(ctx, url, entry["name"], owner=owner)
    found = listed[0] if listed else None
    fixed = {"disk_format": entry.get("disk_format") or DISK_FORMATS.get(file.suffix.lower(), "raw"),
             "container_format": entry.get("container_format", "bare")}
    mutable = given(entry, "visibility", "min_disk", "min_ram", "protected") | (entry.get("properties") or {})
    if "tags" in entry:
        mutable["tags"] = sorted(entry["tags"])
        if found is not None:
            found["tags"] = sorted(found.get("tags") or [])

    async def create() -> dict[str, Any]:
        body = {"name": entry["name"], "owner": owner} | fixed | mutable
        made = (await ctx.admin.call("POST", url, body=body)).json()
        await _upload(ctx, f"{url}/{made['id']}/file", file)
        return made

    async def update(changes: dict[str, Any]) -> None:
        assert found is not None
        ops = [{"op": "replace" if k in found else "add", "path": f"/{k}", "value": v} for k, v in changes.items()]
        await ctx.admin.call("PATCH", f"{url}/{found['id']}", content=json.dumps(ops).encode(), headers=PATCH)

    made = await ctx.converge(path, found, create, mutable, update, fixed)
    ctx.remember("image", entry["name"], made)
    if found is not None and found.get("status") == "queued":
        await _upload(ctx, f"{url}/{found['id']}/file", file)
        ctx.report.add("updated", (*path, "file"), "uploaded (the image had no data)")
    elif found is not None and found.get("checksum") and found["checksum"] != await asyncio.to_thread(_md5, file):
        ctx.report.add("differs", (*path, "file"), "the image's data differs from the file (image data cannot "
                                                   "be replaced)")


async def _upload(ctx: Context, url: str, file: FsPath) -> None:
    await ctx.admin.call("PUT", url, content=_chunks(file), headers={"Content-Type": "application/octet-stream"})


async def _chunks(file: FsPath) -> AsyncIterator[bytes]:
    """The file streamed (an image may be larger than memory), read off the loop."""
    with open(file, "rb") as fh:
        while chunk := await asyncio.to_thread(fh.read, 1 << 20):
            yield chunk
