"""Where things live: the three rings and the device directories they point at.

An account, container or object name hashes (with the cluster's secret suffix) to a
partition and a hash; a ring device is either one of this process's own directories
(port 0, or this process's own loopback address) or a storage node's device reached
over HTTP (``pocketstack object-server``); its replicas live on the ring's devices under
``<device>/<kind>/<partition>/<suffix>/<hash>/`` where ``suffix`` is the hash's last
three hex digits -- Swift's layout, which lets the replicator compare a partition one
suffix directory at a time.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cached_property
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
    # ``http://ip:port`` of the storage node holding ``device`` (its name there), or
    # None when ``device`` is a directory of this process.
    node: str | None = None

    @property
    def suffix(self) -> str:
        return self.name_hash[-3:]

    @cached_property
    def directory(self) -> Path:
        """Computed once per location (a write asks several times; pathlib joins are slow)."""
        return self.device.joinpath(DATA_DIRS[self.kind], str(self.partition), self.suffix, self.name_hash)


LOOPBACK = frozenset({"127.0.0.1", "localhost", "::1"})


class Cluster:
    """The rings plus the local directory holding this process's devices.

    ``own_port`` is the port this process serves on: ring devices at a loopback
    address with that port (or port 0) are local directories.  Offline tools pass
    None and take every loopback device as local (all-in-one).
    """

    def __init__(self, root: Path, hash_suffix: str, own_port: int | None = None):
        self.root = root
        self.devices_dir = root / "devices"
        self.hash_suffix = hash_suffix
        self.own_port = own_port
        self._device_paths: dict[str, Path] = {}
        self.rings = {kind: Ring(root / f"{kind}.ring.gz", hash_suffix=hash_suffix, reload_time=1.0)
                      for kind in KINDS}

    def name_hash(self, account: str, container: str | None = None, obj: str | None = None) -> str:
        return hash_path(account, container, obj, suffix=self.hash_suffix).hex()

    def device_path(self, dev: dict) -> Path:
        """``devices/<name>``, one Path per device name (every request asks for several)."""
        path = self._device_paths.get(dev["device"])
        if path is None:
            path = self._device_paths[dev["device"]] = self.devices_dir / dev["device"]
        return path

    def is_local(self, dev: dict) -> bool:
        if dev["port"] == 0:
            return True
        return dev["ip"] in LOOPBACK and (self.own_port is None or dev["port"] == self.own_port)

    def device_available(self, dev: dict) -> bool:
        """A local device is usable when its directory exists (an unmounted disk is
        absent); a remote one is assumed up until a request to it fails."""
        return not self.is_local(dev) or os.path.isdir(self.device_path(dev))

    def location(self, dev: dict, part: int, name_hash: str, kind: str, handoff: bool = False) -> Location:
        if self.is_local(dev):
            return Location(self.device_path(dev), part, name_hash, kind, handoff)
        host = f"[{dev['ip']}]" if ":" in dev["ip"] else dev["ip"]
        return Location(Path(dev["device"]), part, name_hash, kind, handoff, node=f"http://{host}:{dev['port']}")

    def primaries(self, kind: str, account: str, container: str | None = None,
                  obj: str | None = None) -> list[Location]:
        ring = self.rings[kind]
        part, nodes = ring.get_nodes(account, container, obj)
        name_hash = self.name_hash(account, container, obj)
        return [self.location(n, part, name_hash, kind) for n in nodes]

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
                targets.append(self.location(node, part, name_hash, kind))
            else:
                spare = next(handoffs, None)
                if spare is not None:
                    targets.append(self.location(spare, part, name_hash, kind, handoff=True))
        return targets

    def read_candidates(self, kind: str, account: str, container: str | None = None,
                        obj: str | None = None) -> list[Location]:
        """Primaries first, then every handoff, skipping absent devices."""
        primaries, handoffs = self.read_locations(kind, account, container, obj)
        return primaries + list(handoffs)

    def read_locations(self, kind: str, account: str, container: str | None = None,
                       obj: str | None = None) -> tuple[list[Location], Iterator[Location]]:
        """The available primaries, and the available handoffs as a lazy iterator (a
        read that finds the item on a primary never computes them)."""
        ring = self.rings[kind]
        part, nodes = ring.get_nodes(account, container, obj)
        name_hash = self.name_hash(account, container, obj)
        primaries = [self.location(n, part, name_hash, kind) for n in nodes if self.device_available(n)]
        handoffs = (self.location(h, part, name_hash, kind, handoff=True)
                    for h in ring.get_more_nodes(part) if self.device_available(h))
        return primaries, handoffs

    def local_devices(self) -> list[Path]:
        """Every device directory here, also ones no ring uses any more (to be drained)."""
        if not self.devices_dir.is_dir():
            return []
        return sorted(p for p in self.devices_dir.iterdir() if p.is_dir())
