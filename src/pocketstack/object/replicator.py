"""Replication: make every partition's primaries hold the newest copy of everything.

For each partition found on a device, the suffix directories of all devices that hold
the partition are compared by a hash of their file names (file names carry the
timestamps, so equal names mean equal replicas) -- or, for databases, whose file
names never change, of their contents.  Where they differ, each object's
decisive file -- the newest ``.data`` or ``.ts``, plus a newer ``.meta`` -- is copied
to every primary lacking it, so tombstones win over older data by timestamp.  A
device that holds a partition it is not a primary for (a handoff, or a device that
lost the partition in a rebalance) hands its data over, then drops it.  Account and
container databases are merged row by row instead (each row's timestamp decides).
Each pass first reclaims, as Swift's replicators do, temp files, tombstones and the
databases' deleted rows older than the reclaim age (``diskfile.reclaim_tmp``/
``reclaim_suffix``, ``Broker.reclaim``), so what it compares and copies no longer
includes them.
Blocking: call :meth:`Replicator.run_once` from a thread or a test.
"""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
import sqlite3
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

from pocketstack.object import diskfile, timestamps
from pocketstack.object.brokers import AccountBroker, ContainerBroker, db_path
from pocketstack.object.layout import DATA_DIRS, Cluster

LOG = logging.getLogger(__name__)
BROKERS = {"account": AccountBroker, "container": ContainerBroker}


@dataclass
class ReplicationStats:
    partitions: int = 0
    copied: int = 0
    merged: int = 0
    removed_handoffs: int = 0
    reclaimed: int = 0
    reclaimed_tmp: int = 0
    reclaimed_rows: int = 0


def suffix_hash(directory: Path) -> str:
    """Hash of every file name below a suffix directory: equal means in sync."""
    md5 = hashlib.md5(usedforsecurity=False)
    for hash_dir in sorted(os.listdir(directory)) if directory.is_dir() else []:
        md5.update(hash_dir.encode())
        for name in sorted(os.listdir(directory / hash_dir)):
            md5.update(name.encode())
    return md5.hexdigest()


def db_suffix_hash(broker_cls, directory: Path) -> str:
    """Hash of the databases below a suffix directory, by content: equal means in sync
    (their file names are the same on every replica whatever rows they hold)."""
    md5 = hashlib.md5(usedforsecurity=False)
    for hash_dir in sorted(os.listdir(directory)) if directory.is_dir() else []:
        md5.update(hash_dir.encode())
        broker = broker_cls(db_path(directory / hash_dir))
        try:
            md5.update(broker.digest().encode())
        except sqlite3.Error as error:  # merged (or logged) like any other difference
            LOG.warning("could not read %s: %s", broker.path, error)
            md5.update(b"unreadable")
    return md5.hexdigest()


class Replicator:
    """``reclaim_age``: seconds after which tombstones, deleted database rows and
    abandoned temp files go."""

    def __init__(self, cluster: Cluster, reclaim_age: float = diskfile.RECLAIM_AGE):
        self.cluster = cluster
        self.reclaim_age = reclaim_age

    def run_once(self) -> ReplicationStats:
        stats = ReplicationStats()
        cutoff = time.time() - self.reclaim_age
        for device in self.cluster.local_devices():
            stats.reclaimed_tmp += diskfile.reclaim_tmp(device, cutoff)
        for kind in ("account", "container", "object"):
            for part in self._partitions(kind):
                stats.partitions += 1
                self._replicate_partition(kind, part, stats, cutoff)
        return stats

    def _partitions(self, kind: str) -> list[int]:
        parts: set[int] = set()
        for device in self.cluster.local_devices():
            base = device / DATA_DIRS[kind]
            if base.is_dir():
                parts.update(int(p) for p in os.listdir(base) if p.isdigit())
        return sorted(parts)

    def _replicate_partition(self, kind: str, part: int, stats: ReplicationStats, cutoff: float) -> None:
        ring = self.cluster.rings[kind]
        part_nodes = ring.get_part_nodes(part)
        # Only this process's own devices: replicas on storage nodes are not reached
        # from here (yet), so a handoff is kept unless every primary is local.
        primaries = [self.cluster.device_path(d) for d in part_nodes
                     if self.cluster.is_local(d) and self.cluster.device_available(d)]
        all_local = all(self.cluster.is_local(d) for d in part_nodes)
        holders = [d for d in self.cluster.local_devices() if (d / DATA_DIRS[kind] / str(part)).is_dir()]
        for device in holders:
            part_dir = device / DATA_DIRS[kind] / str(part)
            if kind == "object":
                stats.reclaimed += sum(diskfile.reclaim_suffix(part_dir / suffix, cutoff)
                                       for suffix in os.listdir(part_dir))
            else:
                stats.reclaimed_rows += _reclaim_rows(BROKERS[kind], part_dir, cutoff)
        suffixes = set()
        for device in holders:
            suffixes.update(os.listdir(device / DATA_DIRS[kind] / str(part)))
        for suffix in sorted(suffixes):
            dirs = {d: d / DATA_DIRS[kind] / str(part) / suffix for d in set(holders) | set(primaries)}
            hashes = {d: suffix_hash(p) if kind == "object" else db_suffix_hash(BROKERS[kind], p)
                      for d, p in dirs.items()}
            if len(set(hashes.values())) == 1 and set(holders) <= set(primaries):
                continue
            names = set()
            for path in dirs.values():
                if path.is_dir():
                    names.update(os.listdir(path))
            for name_hash in sorted(names):
                copies = [dirs[d] / name_hash for d in dirs if (dirs[d] / name_hash).is_dir()]
                targets = [dirs[d] / name_hash for d in primaries]
                if kind == "object":
                    stats.copied += _sync_object(copies, targets)
                else:
                    stats.merged += _sync_db(BROKERS[kind], name_hash, copies, targets)
        for device in holders:
            if device not in primaries and primaries and all_local:
                shutil.rmtree(device / DATA_DIRS[kind] / str(part), ignore_errors=True)
                stats.removed_handoffs += 1


def _reclaim_rows(broker_cls, part_dir: Path, cutoff: float) -> int:
    """Drop the rows deleted before ``cutoff`` (Unix time) from every database of a partition."""
    before = timestamps.normalize(max(cutoff, 0))
    reclaimed = 0
    for suffix in os.listdir(part_dir):
        for name_hash in os.listdir(part_dir / suffix):
            broker = broker_cls(db_path(part_dir / suffix / name_hash))
            try:
                reclaimed += broker.reclaim(before) if broker.exists else 0
            except sqlite3.Error as error:
                LOG.warning("could not reclaim deleted rows of %s: %s", broker.path, error)
    return reclaimed


def _copy_file(source: Path, target_dir: Path) -> None:
    """Copy one replica file (data and xattrs) durably into ``target_dir``."""
    device = target_dir.parents[3]  # <device>/<kind>/<partition>/<suffix>/<hash>
    tmp_dir = diskfile.tmp_dir(device)
    tmp_dir.mkdir(parents=True, exist_ok=True)
    tmp = tmp_dir / uuid.uuid4().hex
    shutil.copy2(source, tmp)
    with open(tmp, "rb+") as fh:
        os.fsync(fh.fileno())
    target_dir.mkdir(parents=True, exist_ok=True)
    os.replace(tmp, target_dir / source.name)
    fd = os.open(target_dir, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _sync_object(copies: list[Path], targets: list[Path]) -> int:
    files: dict[str, Path] = {}
    for directory in copies:
        for name in os.listdir(directory):
            files.setdefault(name, directory / name)
    wanted = [name for name in diskfile.newest_files(list(files)) if name]
    copied = 0
    for target in targets:
        have = set(os.listdir(target)) if target.is_dir() else set()
        for name in wanted:
            if name not in have:
                _copy_file(files[name], target)
                copied += 1
        diskfile.cleanup(target)
    return copied


def _sync_db(broker_cls, name_hash: str, copies: list[Path], targets: list[Path]) -> int:
    """Merge every copy of a database into every primary's copy."""
    sources = [broker_cls(d / f"{name_hash}.db") for d in copies if (d / f"{name_hash}.db").exists()]
    merged = 0
    for target in targets:
        dest = broker_cls(target / f"{name_hash}.db")
        for source in sources:
            if source.path == dest.path:
                continue
            try:
                info = source.info()
                if info is None:
                    continue
                dest.merge_from(info, source.all_rows())
                merged += 1
            except sqlite3.Error:
                LOG.exception("could not merge %s into %s", source.path, dest.path)
    return merged
