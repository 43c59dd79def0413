"""Where a seed is applied from: inside the process serving the cloud (``pocketstack up
--seed``: ``Cloud.api_client``, no socket) or from outside against a running cloud
(``pocketstack seed``: HTTP, the admin credentials of a clouds.yaml entry)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
import yaml

from pocketstack.seed.apply import apply
from pocketstack.seed.client import connect, login
from pocketstack.seed.context import Report
from pocketstack.seed.document import SeedDocument

if TYPE_CHECKING:
    from pocketstack.cloud import Cloud


async def seed_cloud(cloud: Cloud, doc: SeedDocument) -> Report:
    """Apply ``doc`` to the cloud this process serves, through its own public APIs."""
    async with cloud.api_client() as http:
        # The bootstrap admin, whose password this process may not know.
        token = cloud.identity.issue_token("admin", "admin")
        admin = await connect(http, "/identity/v3", token)
        return await apply(doc, admin)


def clouds_entry(name: str, clouds_file: str | None = None) -> dict[str, Any]:
    """The clouds.yaml entry ``name``, found where openstacksdk looks for the file."""
    candidates = [clouds_file] if clouds_file else [
        os.environ.get("OS_CLIENT_CONFIG_FILE"), "clouds.yaml", "~/.config/openstack/clouds.yaml",
        "/etc/openstack/clouds.yaml"]
    for candidate in filter(None, candidates):
        path = Path(candidate).expanduser()
        if path.is_file():
            clouds = (yaml.safe_load(path.read_text()) or {}).get("clouds") or {}
            if name not in clouds:
                raise ValueError(f"{path}: no cloud named {name!r} (it has: {', '.join(clouds) or 'none'})")
            return clouds[name]
    raise ValueError(f"no clouds.yaml found (looked for {', '.join(filter(None, candidates))})")


def password_auth(auth: dict[str, Any]) -> dict[str, Any]:
    """Keystone's password auth body for a clouds.yaml ``auth`` section."""
    def domain(kind: str) -> dict[str, str]:
        if auth.get(f"{kind}_domain_id"):
            return {"id": auth[f"{kind}_domain_id"]}
        return {"name": auth.get(f"{kind}_domain_name") or "Default"}

    body: dict[str, Any] = {"identity": {"methods": ["password"], "password": {"user": {
        "name": auth["username"], "domain": domain("user"), "password": auth.get("password", "")}}}}
    if auth.get("project_id"):
        body["scope"] = {"project": {"id": auth["project_id"]}}
    else:
        body["scope"] = {"project": {"name": auth.get("project_name", "admin"), "domain": domain("project")}}
    return body


async def seed_remote(doc: SeedDocument, cloud_name: str, clouds_file: str | None = None) -> Report:
    """Apply ``doc`` to a running cloud over HTTP as the clouds.yaml entry's user."""
    entry = clouds_entry(cloud_name, clouds_file)
    auth = entry.get("auth") or {}
    if not auth.get("auth_url") or not auth.get("username"):
        raise ValueError(f"cloud {cloud_name!r}: the seeder needs auth_url, username and password")
    identity_v3 = auth["auth_url"].rstrip("/")
    identity_v3 += "" if identity_v3.endswith("/v3") else "/v3"
    verify = entry.get("cacert") or entry.get("verify", True)
    async with httpx.AsyncClient(timeout=120, verify=verify) as http:
        admin = await connect(http, identity_v3, await login(http, identity_v3, password_auth(auth)))
        return await apply(doc, admin)
