"""Seed Object Storage: containers (metadata, ACLs) and their objects (inline content
or a file), written into the project's account as the cloud admin, as Swift lets an
operator."""

from __future__ import annotations

import asyncio
import hashlib
from typing import Any

from pocketstack.seed import identity
from pocketstack.seed.context import Context
from pocketstack.seed.errors import Path


def _meta(prefix: str, metadata: dict[str, str]) -> dict[str, str]:
    return {f"{prefix}{key}".lower(): value for key, value in metadata.items()}


async def container(ctx: Context, path: Path, entry: dict[str, Any]) -> None:
    project = await identity.project_id(ctx, entry["project"]) if "project" in entry else ctx.admin.project_id
    url = f"{ctx.admin.account(project)}/{entry['name']}"
    head = await ctx.admin.call("HEAD", url, missing=True)
    found = None if head.status_code == 404 else {k.lower(): v for k, v in head.headers.items()}
    wanted = _meta("x-container-meta-", entry.get("metadata") or {})
    for acl, header in (("read_acl", "x-container-read"), ("write_acl", "x-container-write")):
        if acl in entry:
            wanted[header] = entry[acl]

    async def create() -> dict[str, Any]:
        await ctx.admin.call("PUT", url, headers=wanted)
        return wanted

    async def update(changes: dict[str, str]) -> None:
        await ctx.admin.call("POST", url, headers=changes)

    await ctx.converge(path, found, create, wanted, update)
    for index, obj in enumerate(entry.get("objects") or []):
        with ctx.at((*path, "objects", index)):
            await _object(ctx, (*path, "objects", index), f"{url}/{obj['name']}", obj)


async def _object(ctx: Context, path: Path, url: str, entry: dict[str, Any]) -> None:
    """An object is replaced whole when its content, type or metadata differ."""
    data = entry["content"].encode() if "content" in entry else \
        await asyncio.to_thread(ctx.doc.file(entry["file"]).read_bytes)
    wanted = {"etag": hashlib.md5(data, usedforsecurity=False).hexdigest()} | _meta(
        "x-object-meta-", entry.get("metadata") or {})
    if "content_type" in entry:
        wanted["content-type"] = entry["content_type"]
    head = await ctx.admin.call("HEAD", url, missing=True)
    found = None if head.status_code == 404 else {k.lower(): v for k, v in head.headers.items()}
    headers = {k: v for k, v in wanted.items() if k != "etag"}

    async def put(changes: dict[str, str] | None = None) -> dict[str, Any]:
        await ctx.admin.call("PUT", url, content=data, headers=headers)
        return wanted

    await ctx.converge(path, found, put, wanted, put)
