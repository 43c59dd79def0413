"""The auditor: re-reads every object replica and quarantines the ones that rotted.

A ``.data`` file whose MD5 or length no longer matches the ETag and Content-Length it
was written with is moved (its whole hash directory) to
``<device>/quarantined/objects/<hash>``, and logged as Swift does; the replicator then
restores a good copy from the other replicas.  Blocking: run it in a thread.
"""

from __future__ import annotations

import hashlib
import logging
import os
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from pocketstack.object import diskfile

LOG = logging.getLogger(__name__)


@dataclass
class AuditStats:
    checked: int = 0
    quarantined: int = 0


class Devices(Protocol):
    """Where the auditor looks: a proxy's ``Cluster`` or a storage node's devices."""

    def local_devices(self) -> list[Path]: ...


class Auditor:
    def __init__(self, cluster: Devices):
        self.cluster = cluster

    def run_once(self) -> AuditStats:
        stats = AuditStats()
        for device in self.cluster.local_devices():
            base = device / "objects"
            for root, _dirs, files in os.walk(base):
                for name in files:
                    if name.endswith(".data"):
                        stats.checked += 1
                        stats.quarantined += self._audit(device, os.path.join(root, name))
        return stats

    def _audit(self, device, path: str) -> int:
        try:
            meta = diskfile.read_metadata(path)
            md5, size = hashlib.md5(usedforsecurity=False), 0
            for chunk in diskfile.read_range(Path(path), 0, diskfile.body_size(path), 1 << 20):
                md5.update(chunk)
                size += len(chunk)
        except FileNotFoundError:
            return 0  # replaced by a newer write while we walked
        except (OSError, ValueError) as exc:
            reason = f"unreadable: {exc}"
        else:
            if md5.hexdigest() == meta.get("ETag") and str(size) == meta.get("Content-Length"):
                return 0
            reason = f"ETag {meta.get('ETag')} and file's md5 {md5.hexdigest()} do not match"
        hash_dir = os.path.dirname(path)
        target = device / "quarantined" / "objects" / os.path.basename(hash_dir)
        if target.exists():
            target = target.with_name(f"{target.name}-{uuid.uuid4().hex[:8]}")
        target.parent.mkdir(parents=True, exist_ok=True)
        os.rename(hash_dir, target)
        LOG.error("ERROR Object %s failed audit and was quarantined: %s", hash_dir, reason)
        return 1
