"""Where things live: the three rings and the device directories they point at.

An account, container or object name hashes (with the cluster's secret suffix) to a
partition and a hash; its replicas live on the ring's devices under
``<device>/<kind>/<partition>/<suffix>/<hash>/`` where ``suffix`` is the hash's last
three hex digits -- Swift's layout, which lets the replicator compare a partition one
suffix directory at a time.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from pocketstack.object.ring import Ring, hash_path

KINDS = ("account", "container", "object")
DATA_DIRS = {"account": "accounts", "container": "containers", "object": "objects"}


@dataclass(frozen=True)
class Location:
    """One replica's home: a device directory and the path of the item below it."""

    device: Path
    partition: int
    name_hash: str
    kind: str
    handoff: bool = False

    @property
    def suffix(self) -> str:
        return self.name_hash[-3:]

    @property
    def directory(self) -> Path:
        return self.device / DATA_DIRS[self.kind] / str(self.partition) / self.suffix / self.name_hash


class Cluster:
    """The rings plus the local directory holding every device (all-in-one mode)."""

    def __init__(self, root: Path, hash_suffix: str):
        self.root = root
        self.devices_dir = root / "devices"
        self.hash_suffix = hash_suffix
        self.rings = {kind: Ring(root / f"{kind}.ring.gz", hash_suffix=hash_suffix, reload_time=1.0)
                      for kind in KINDS}

    def name_hash(self, account: str, container: str | None = None, obj: str | None = None) -> str:
        return hash_path(account, container, obj, suffix=self.hash_suffix).hex()

    def device_path(self, dev: dict) -> Path:
        return self.devices_dir / dev["device"]

    def device_available(self, dev: dict) -> bool:
        """A device is usable when its directory exists (an unmounted disk is absent)."""
        return os.path.isdir(self.device_path(dev))

    def primaries(self, kind: str, account: str, container: str | None = None,
                  obj: str | None = None) -> list[Location]:
        ring = self.rings[kind]
        part, nodes = ring.get_nodes(account, container, obj)
        name_hash = self.name_hash(account, container, obj)
        return [Location(self.device_path(n), part, name_hash, kind) for n in nodes]

    def write_targets(self, kind: str, account: str, container: str | None = None,
                      obj: str | None = None) -> list[Location]:
        """One location per replica: the primary, or a handoff standing in for a missing one."""
        ring = self.rings[kind]
        part, nodes = ring.get_nodes(account, container, obj)
        name_hash = self.name_hash(account, container, obj)
        handoffs = (h for h in ring.get_more_nodes(part) if self.device_available(h))
        targets = []
        for node in nodes:
            if self.device_available(node):
                targets.append(Location(self.device_path(node), part, name_hash, kind))
            else:
                spare = next(handoffs, None)
                if spare is not None:
                    targets.append(Location(self.device_path(spare), part, name_hash, kind, handoff=True))
        return targets

    def read_candidates(self, kind: str, account: str, container: str | None = None,
                        obj: str | None = None) -> list[Location]:
        """Primaries first, then every handoff, skipping absent devices."""
        ring = self.rings[kind]
        part, nodes = ring.get_nodes(account, container, obj)
        name_hash = self.name_hash(account, container, obj)
        found = [Location(self.device_path(n), part, name_hash, kind) for n in nodes if self.device_available(n)]
        found += [Location(self.device_path(h), part, name_hash, kind, handoff=True)
                  for h in ring.get_more_nodes(part) if self.device_available(h)]
        return found

    def local_devices(self) -> list[Path]:
        """Every device directory here, also ones no ring uses any more (to be drained)."""
        if not self.devices_dir.is_dir():
            return []
        return sorted(p for p in self.devices_dir.iterdir() if p.is_dir())
