"""Seed Compute: flavors (with extra specs) and key pairs, given or generated."""

from __future__ import annotations

import os
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519

from pocketstack.seed import identity
from pocketstack.seed.client import COMPUTE_VERSION
from pocketstack.seed.context import Context
from pocketstack.seed.errors import Path

# The file's names for a flavor's fields -> Nova's.
FLAVOR_FIELDS = {"vcpus": "vcpus", "ram": "ram", "disk": "disk", "ephemeral": "OS-FLV-EXT-DATA:ephemeral",
                 "swap": "swap", "is_public": "os-flavor-access:is_public", "description": "description"}
FLAVOR_DEFAULTS = {"disk": 0, "ephemeral": 0, "swap": 0, "is_public": True}


async def _call(ctx: Context, method: str, url: str, body: Any = None) -> Any:
    response = await ctx.admin.call(method, url, body=body, headers=COMPUTE_VERSION, missing=method == "GET")
    return response.json() if response.status_code != 404 and response.content else None


async def flavor(ctx: Context, path: Path, entry: dict[str, Any]) -> None:
    url = f"{ctx.admin.roots.compute}/flavors"
    listing = await _call(ctx, "GET", f"{url}/detail?is_public=none")
    found = next((f for f in listing["flavors"] if f["name"] == entry["name"]), None)
    wanted = FLAVOR_DEFAULTS | {k: entry[k] for k in FLAVOR_FIELDS if k in entry}
    current = None if found is None else {name: found.get(nova) for name, nova in FLAVOR_FIELDS.items()} | {
        "swap": found.get("swap") or 0, "extra_specs": found.get("extra_specs") or {}}

    async def create() -> dict[str, Any]:
        body = {"name": entry["name"]} | {FLAVOR_FIELDS[k]: v for k, v in wanted.items()} | (
            {"id": str(entry["id"])} if "id" in entry else {})
        made = (await _call(ctx, "POST", url, {"flavor": body}))["flavor"]
        if entry.get("extra_specs"):
            await _call(ctx, "POST", f"{url}/{made['id']}/os-extra_specs", {"extra_specs": entry["extra_specs"]})
        return made

    async def update(changes: dict[str, Any]) -> None:
        assert found is not None
        if "description" in changes:
            await _call(ctx, "PUT", f"{url}/{found['id']}", {"flavor": {"description": changes["description"]}})
        if "extra_specs" in changes:
            await _call(ctx, "POST", f"{url}/{found['id']}/os-extra_specs", {"extra_specs": entry["extra_specs"]})

    specs = {"extra_specs": (current or {}).get("extra_specs", {}) | entry["extra_specs"]} \
        if "extra_specs" in entry else {}
    mutable = {k: wanted[k] for k in ("description",) if k in wanted} | specs
    fixed = {k: v for k, v in wanted.items() if k != "description"}
    await ctx.converge(path, current, create, mutable, update, fixed)


async def keypair(ctx: Context, path: Path, entry: dict[str, Any]) -> None:
    user = await identity.user_id(ctx, entry.get("user", "admin"))
    url = f"{ctx.admin.roots.compute}/os-keypairs"
    found = await _call(ctx, "GET", f"{url}/{entry['name']}?user_id={user}")
    public_key = entry.get("public_key")
    if "public_key_file" in entry:
        public_key = ctx.doc.file(entry["public_key_file"]).read_text().strip()
    current = None if found is None else {"public_key": found["keypair"]["public_key"].strip(),
                                          "type": found["keypair"].get("type", "ssh")}

    async def create() -> dict[str, Any]:
        key = public_key or _generate(ctx.doc.file(entry["private_key_file"]) if "private_key_file" in entry
                                      else None)
        body = {"name": entry["name"], "public_key": key, "type": entry.get("type", "ssh"), "user_id": user}
        return (await _call(ctx, "POST", url, {"keypair": body}))["keypair"]

    fixed = {"type": entry.get("type", "ssh")} | ({"public_key": public_key.strip()} if public_key else {})
    await ctx.converge(path, current, create, {}, fixed=fixed)
    if current is not None and "private_key_file" in entry and not ctx.doc.file(entry["private_key_file"]).exists():
        ctx.report.add("differs", (*path, "private_key_file"),
                       "the key pair exists but its private key file does not (a private key is shown only once)")


def _generate(private_key_file: os.PathLike[str] | None) -> str:
    """A new Ed25519 key pair: the private half written (mode 0600) where the file says,
    the public half returned in OpenSSH's format."""
    private = ed25519.Ed25519PrivateKey.generate()
    if private_key_file is not None:
        pem = private.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.OpenSSH,
                                    serialization.NoEncryption())
        os.makedirs(os.path.dirname(os.path.abspath(private_key_file)), exist_ok=True)
        fd = os.open(private_key_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as fh:
            fh.write(pem)
    return private.public_key().public_bytes(serialization.Encoding.OpenSSH,
                                             serialization.PublicFormat.OpenSSH).decode()
