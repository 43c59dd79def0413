"""``pocketstack reset`` and ``pocketstack snapshot save|restore FILE``.

On a running cloud (its API answers at the configured URL) they go through the state API
as the admin (password from clouds.yaml, or ``--admin-password``); on a stopped one they
work on its database and data directory directly.
"""

from __future__ import annotations

import uuid
from pathlib import Path

import yaml

from pocketstack.common import config


def admin_password(settings: config.Settings) -> str:
    if settings.admin_password:
        return settings.admin_password
    path = settings.effective_clouds_file
    try:
        return str(yaml.safe_load(path.read_text())["clouds"]["pocketstack"]["auth"]["password"])
    except (OSError, KeyError, TypeError, yaml.YAMLError):
        raise ValueError(f"no admin password: give --admin-password (not found in {path})") from None


def _client(settings: config.Settings):
    """A state API client when the cloud runs, else None."""
    from pocketstack.testing.client import StateClient, running

    url = settings.effective_public_url
    return StateClient(url, admin_password(settings)) if running(url) else None


def _offline(settings: config.Settings):
    from pocketstack.cloud import Cloud

    return Cloud(settings)


def reset(settings: config.Settings) -> int:
    client = _client(settings)
    if client is not None:
        with client:
            result = client.reset()
        print(f"reset {settings.effective_public_url} to its bootstrapped state in {result['seconds']:.3f}s")
        return 0
    cloud = _offline(settings)
    try:
        cloud.state.put_back(cloud.state.baseline())
    finally:
        cloud.close()
    print(f"reset the stopped cloud in {settings.data_dir} to its bootstrapped state")
    return 0


def snapshot(settings: config.Settings, action: str, file: Path) -> int:
    from pocketstack.testing.snapshot import State

    client = _client(settings)
    name = f"cli-{uuid.uuid4().hex[:12]}"
    if client is not None:
        with client:
            if action == "save":
                client.save(name)
                try:
                    file.write_bytes(client.download(name))
                finally:
                    client.delete(name)
            else:
                client.upload(name, file.read_bytes())
                try:
                    client.restore(name)
                finally:
                    client.delete(name)
    else:
        cloud = _offline(settings)
        try:
            if action == "save":
                cloud.state.capture().save(file)
            else:
                cloud.state.put_back(State.load(file))
        finally:
            cloud.close()
    where = settings.effective_public_url if client is not None else f"the stopped cloud in {settings.data_dir}"
    print(f"saved the state of {where} to {file}" if action == "save" else f"restored {where} from {file}")
    return 0
