"""Write or merge ``clouds.yaml`` entries so the ``openstack`` CLI finds the cloud.

Other clouds in the file are left untouched; our entries are updated in place (their
passwords only when we know a new one), and the file is replaced atomically.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import yaml


def write_clouds(path: Path, auth_url: str, region: str, passwords: dict[str, str],
                 regions: list[str] | None = None) -> None:
    """``region`` is the default; ``regions`` the further ones a client may name
    (``--os-region-name``), which openstacksdk checks against the entry's list."""
    data: dict[str, Any] = {}
    if path.exists():
        data = yaml.safe_load(path.read_text()) or {}
    clouds = data.setdefault("clouds", {})
    for entry, user, project in (("pocketstack", "admin", "admin"), ("pocketstack-demo", "demo", "demo")):
        cloud = clouds.setdefault(entry, {})
        auth = cloud.setdefault("auth", {})
        auth.update({"auth_url": auth_url, "username": user, "project_name": project,
                     "user_domain_name": "Default", "project_domain_name": "Default"})
        if user in passwords:
            auth["password"] = passwords[user]
        cloud.update({"region_name": region, "identity_api_version": 3, "interface": "public"})
        if regions:
            cloud["regions"] = [region, *regions]
        else:
            cloud.pop("regions", None)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        yaml.safe_dump(data, fh, default_flow_style=False, sort_keys=False)
    os.replace(tmp, path)
