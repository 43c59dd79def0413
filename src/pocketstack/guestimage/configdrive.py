"""A config drive in OpenStack's ``config-2`` format, as Nova writes it.

An ISO 9660 filesystem (Rock Ridge and Joliet, volume label ``config-2``) holding
``openstack/<version>/meta_data.json``, ``user_data``, ``network_data.json`` and
``vendor_data.json`` for ``latest`` and a dated version, and ``openstack/content/NNNN``
for the files injected with the server.  Nova runs ``genisoimage`` with
these options; ``xorriso -as mkisofs`` takes the same ones, so either Debian package
will do.  The tiny image's init reads it, and so do cirros and cloud-init.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
from pathlib import Path

from pocketstack.guestimage.errors import BuildError

LABEL = "config-2"
VERSIONS = ("2013-10-17", "latest")


class ConfigDriveError(BuildError):
    """No ISO 9660 tool is installed, or it failed."""


def iso_tool() -> list[str]:
    """The mkisofs-compatible command line prefix available here."""
    if tool := shutil.which("genisoimage"):
        return [tool]
    if tool := shutil.which("xorriso"):
        return [tool, "-as", "mkisofs"]
    if tool := shutil.which("mkisofs"):
        return [tool]
    raise ConfigDriveError("a config drive needs genisoimage or xorriso (Debian packages of those names)")


def files(meta_data: dict, user_data: bytes | None = None, network_data: dict | None = None,
          vendor_data: dict | None = None, injected: list[tuple[str, bytes]] | None = None) -> dict[str, bytes]:
    """The drive's files by path, for every metadata version; ``injected`` are the
    server's personality files by their ``openstack/content/`` names."""
    content: dict[str, bytes] = {f"openstack/content/{name}": data for name, data in injected or ()}
    for version in VERSIONS:
        base = f"openstack/{version}"
        content[f"{base}/meta_data.json"] = json.dumps(meta_data).encode()
        content[f"{base}/network_data.json"] = json.dumps(network_data or {}).encode()
        content[f"{base}/vendor_data.json"] = json.dumps(vendor_data or {}).encode()
        if user_data is not None:
            content[f"{base}/user_data"] = user_data
    return content


def write(path: Path, meta_data: dict, user_data: bytes | None = None, network_data: dict | None = None,
          vendor_data: dict | None = None, injected: list[tuple[str, bytes]] | None = None) -> Path:
    """Write the config drive ISO to ``path``."""
    with tempfile.TemporaryDirectory(prefix=".config-drive-", dir=path.parent) as staging_name:
        staging = Path(staging_name)
        for name, data in files(meta_data, user_data, network_data, vendor_data, injected).items():
            target = staging / name
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
        argv = [*iso_tool(), "-o", str(path), "-ldots", "-allow-lowercase", "-allow-multidot", "-l",
                "-publisher", "pocketstack", "-quiet", "-J", "-r", "-V", LABEL, str(staging)]
        done = subprocess.run(argv, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            raise ConfigDriveError(f"{' '.join(argv[:3])} failed: {done.stderr.strip()}")
    return path
