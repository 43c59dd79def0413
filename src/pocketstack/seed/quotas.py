"""Seed quotas: a project's limits in Compute, Networking and Block Storage, each set
through its own service's quota API as admin (only the limits that differ)."""

from __future__ import annotations

from typing import Any

from pocketstack.seed import identity
from pocketstack.seed.client import COMPUTE_VERSION
from pocketstack.seed.context import Context
from pocketstack.seed.errors import Path


async def quota(ctx: Context, path: Path, entry: dict[str, Any]) -> None:
    project = await identity.project_id(ctx, entry["project"])
    admin = ctx.admin
    services = {"compute": (f"{admin.roots.compute}/os-quota-sets/{project}", "quota_set", COMPUTE_VERSION),
                "network": (f"{admin.roots.network}/quotas/{project}", "quota", {}),
                "volume": (f"{admin.volume()}/os-quota-sets/{project}", "quota_set", {})}
    for service, (url, key, headers) in services.items():
        if service not in entry:
            continue
        with ctx.at((*path, service)):
            found = (await admin.call("GET", url, headers=headers)).json()[key]

            async def create() -> dict[str, Any]:
                raise AssertionError("a project always has quotas")

            async def update(changes: dict[str, Any], url: str = url, key: str = key,
                             headers: dict[str, str] = headers) -> None:
                await admin.call("PUT", url, body={key: changes}, headers=headers)

            await ctx.converge((*path, service), found, create, entry[service], update)
