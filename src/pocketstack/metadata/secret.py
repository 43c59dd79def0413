"""Where the metadata proxy's shared secret comes from, so that the metadata API and the
proxy in front of guests agree on it without an operator setting one.

The ``metadata_proxy_shared_secret`` setting wins.  Without it, ``pocketstack up``
generates a secret on first start and keeps it in ``<data_dir>/metadata-proxy-secret``
(mode 0600); the datapath's proxy and ``pocketstack metadata`` sharing that data
directory read the same file.  With neither, the secret is empty and the metadata API
refuses every request.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from pocketstack.common.config import Settings

FILE_NAME = "metadata-proxy-secret"


def secret_file(settings: Settings) -> Path:
    return settings.data_dir / FILE_NAME


def shared_secret(settings: Settings, create: bool = False) -> str:
    """The secret to sign and check requests with ("" when there is none); ``create``
    generates and keeps one when neither the setting nor the file has one."""
    if settings.metadata_proxy_shared_secret:
        return settings.metadata_proxy_shared_secret
    path = secret_file(settings)
    try:
        kept = path.read_text().strip()
    except FileNotFoundError:
        kept = ""
    if kept or not create:
        return kept
    path.parent.mkdir(parents=True, exist_ok=True)
    # Written aside, then linked into place: of two processes starting at once, both end
    # up with the first one's secret, and nobody ever reads a half-written file.
    staged = path.with_name(f".{FILE_NAME}.{os.getpid()}")
    fd = os.open(staged, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as out:
        out.write(secrets.token_hex(32) + "\n")
    try:
        os.link(staged, path)
    except FileExistsError:
        pass
    finally:
        staged.unlink()
    return path.read_text().strip()
