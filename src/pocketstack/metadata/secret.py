"""Where the metadata proxy's shared secret comes from, so that the metadata API and the
proxy in front of guests agree on it without an operator setting one.

The ``metadata_proxy_shared_secret`` setting wins.  Without it, ``pocketstack up``
generates a secret on first start and keeps it in ``<data_dir>/metadata-proxy-secret``
(mode 0600); the datapath's proxy and ``pocketstack metadata`` sharing that data
directory read the same file.  With neither, the secret is empty and the metadata API
refuses every request.
"""

from __future__ import annotations

from pathlib import Path

from pocketstack.common.config import Settings
from pocketstack.common.kept_secret import kept_secret

FILE_NAME = "metadata-proxy-secret"


def secret_file(settings: Settings) -> Path:
    return settings.data_dir / FILE_NAME


def shared_secret(settings: Settings, create: bool = False) -> str:
    """The secret to sign and check requests with ("" when there is none); ``create``
    generates and keeps one when neither the setting nor the file has one."""
    if settings.metadata_proxy_shared_secret:
        return settings.metadata_proxy_shared_secret
    return kept_secret(secret_file(settings), create)
