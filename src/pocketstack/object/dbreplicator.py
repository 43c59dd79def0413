"""Account and container database replication between storage nodes.

Each node pushes every database replica on its devices to the other primaries of
its partition (per the account/container rings in its swift dir): the receiver
merges rows, metadata and deletion, each decided by its timestamp
(``Broker.merge_from``), as Swift's db replicator does.  A node that was down comes
back with stale databases; its peers' next passes bring them up to date, and its own
pass hands the others whatever only it had.  Each container replica also reports its
counts to the account replicas every pass (Swift's container updater), so account
counts that missed a change converge too.  Before a replica is pushed, its rows
deleted longer than the reclaim age ago are dropped, as Swift's db replicator
reclaims them.  A replica on a device that is not a primary of its partition (a
handoff, or after a rebalance) is removed once every primary has taken it.
Databases are sent whole: simple, and fine for the sizes of a first slice (Swift
sends only the rows after a per-peer sync point).

Blocking: :meth:`DbReplicator.run_once` runs in a thread (``background.every``).
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import httpx
else:  # only remote storage nodes are talked to over HTTP (pocketstack.common.lazy)
    from pocketstack.common.lazy import lazy

    httpx = lazy("httpx")

from pocketstack.object import diskfile, timestamps
from pocketstack.object.brokers import db_path
from pocketstack.object.layout import DATA_DIRS, LOOPBACK, Location
from pocketstack.object.remotedb import BROKERS, RemoteBroker
from pocketstack.object.ring import Ring, hash_path

LOG = logging.getLogger(__name__)
TIMEOUT = {"timeout": 30.0, "connect": 3.0}  # httpx.Timeout(**TIMEOUT)


@dataclass
class DbReplicationStats:
    databases: int = 0
    pushed: int = 0
    failed: int = 0
    removed_handoffs: int = 0
    reclaimed_rows: int = 0


class DbReplicator:
    """Pushes the databases under ``devices`` of the node at ``host:port``, first
    dropping their rows deleted longer than ``reclaim_age`` seconds ago."""

    def __init__(self, devices: Path, swift_dir: Path, hash_suffix: str, host: str, port: int,
                 reclaim_age: float = diskfile.RECLAIM_AGE):
        self.devices = devices
        self.reclaim_age = reclaim_age
        self.swift_dir = swift_dir
        self.hash_suffix = hash_suffix
        self.port = port
        self.addresses = {host} | (LOOPBACK if host in LOOPBACK | {"0.0.0.0", "::"} else set())
        self.rings: dict[str, Ring] = {}
        self._http: httpx.Client | None = None

    def _load_rings(self) -> bool:
        """The account and container rings, once both are in the swift dir (they reload
        themselves when they change); False until then -- an object-only node."""
        if not self.rings:
            files = {kind: self.swift_dir / f"{kind}.ring.gz" for kind in BROKERS}
            if not all(f.exists() for f in files.values()):
                return False
            self.rings = {kind: Ring(f, hash_suffix=self.hash_suffix, reload_time=1.0) for kind, f in files.items()}
        return True

    @property
    def _client(self) -> httpx.Client:
        """The connection pool to peer nodes, opened at first use (closed by :meth:`close`)."""
        if self._http is None:
            self._http = httpx.Client(timeout=httpx.Timeout(**TIMEOUT))
        return self._http

    def close(self) -> None:
        if self._http is not None:
            self._http.close()
            self._http = None

    def is_mine(self, dev: dict) -> bool:
        return dev["port"] == self.port and dev["ip"] in self.addresses and (self.devices / dev["device"]).is_dir()

    def run_once(self) -> DbReplicationStats:
        stats = DbReplicationStats()
        if not self._load_rings():
            return stats
        cutoff = timestamps.normalize(max(time.time() - self.reclaim_age, 0))
        for device in sorted(p for p in self.devices.iterdir() if p.is_dir()):
            for kind in BROKERS:
                base = device / DATA_DIRS[kind]
                for part in sorted(os.listdir(base)) if base.is_dir() else []:
                    if part.isdigit():
                        self._replicate_partition(device, kind, int(part), stats, cutoff)
        return stats

    def _replicate_partition(self, device: Path, kind: str, part: int, stats: DbReplicationStats,
                             cutoff: str) -> None:
        primaries = self.rings[kind].get_part_nodes(part)
        is_primary = any(self.is_mine(d) and d["device"] == device.name for d in primaries)
        part_dir = device / DATA_DIRS[kind] / str(part)
        all_pushed = True
        for suffix in sorted(os.listdir(part_dir)):
            for name_hash in sorted(os.listdir(part_dir / suffix)):
                directory = part_dir / suffix / name_hash
                all_pushed &= self._push(kind, Location(device, part, name_hash, kind), directory, primaries,
                                         stats, cutoff)
        if not is_primary and all_pushed:
            shutil.rmtree(part_dir, ignore_errors=True)
            stats.removed_handoffs += 1

    def _target(self, kind: str, dev: dict, partition: int, name_hash: str):
        """The broker of the replica on ``dev``: a device of this node, or a peer's."""
        if self.is_mine(dev):
            return BROKERS[kind](db_path(Location(self.devices / dev["device"], partition, name_hash,
                                                  kind).directory))
        host = f"[{dev['ip']}]" if ":" in dev["ip"] else dev["ip"]
        return RemoteBroker(self._client, Location(Path(dev["device"]), partition, name_hash, kind,
                                                 node=f"http://{host}:{dev['port']}"))

    def _report_to_account(self, info: dict) -> None:
        """A container replica's counts to every account replica, as Swift's container
        updater does: account counts missed while a node was down catch up."""
        names = json.loads(info["name"])
        account, container = names.get("account"), names.get("container")
        if not account or not container:
            return
        ring = self.rings["account"]
        part, primaries = ring.get_nodes(account)
        name_hash = hash_path(account, suffix=self.hash_suffix).hex()
        for dev in primaries:
            try:
                target = self._target("account", dev, part, name_hash)
                if target.exists:
                    target.report(container, lambda: info)
            except (OSError, sqlite3.Error) as error:
                LOG.warning("could not report container %s to account %s on %s: %s", container, account,
                            dev["device"], error)

    def _push(self, kind: str, location: Location, directory: Path, primaries: list[dict],
              stats: DbReplicationStats, cutoff: str) -> bool:
        """Send one database replica, without its rows deleted before ``cutoff``, to every
        other primary; True when all took it."""
        source = BROKERS[kind](db_path(directory))
        info = source.info()
        if info is None:
            return True
        stats.databases += 1
        stats.reclaimed_rows += source.reclaim(cutoff)
        rows = source.all_rows()
        ok = True
        if kind == "container" and not (info["deleted"] and info["delete_timestamp"] < cutoff):
            # A container deleted before the cutoff is no longer listed by its account
            # (the account's row of it is reclaimed): it has nothing left to report.
            self._report_to_account(info)
        for dev in primaries:
            if self.is_mine(dev) and dev["device"] == location.device.name:
                continue
            try:
                self._target(kind, dev, location.partition, location.name_hash).merge_from(info, rows)
                stats.pushed += 1
            except (OSError, sqlite3.Error) as error:
                LOG.warning("could not push %s database %s to %s: %s", kind, location.name_hash,
                            dev["device"], error)
                stats.failed += 1
                ok = False
        return ok
