"""Object replication between storage nodes (Swift's object replicator, push model).

Every pass, a node walks the partitions on its devices.  For each, it asks every other
primary of the partition (per the object ring in its swift dir) for its per-suffix
hashes -- a hash of the file names below each suffix directory, and file names carry
the timestamps -- and, for each suffix that differs, for the file names it holds.
It then pushes each object's decisive file (the newest ``.data`` or ``.ts``, plus a
newer ``.meta``) wherever the peer's newest is older: timestamps decide, so a
tombstone spreads a delete and never loses to older data.  A node that was down is
repaired by its peers' passes; a replica the auditor quarantined reads as missing and
is pushed back.  A partition on a device that is not one of its primaries (a handoff)
is pushed to every primary and its pushed files removed.  Before a partition is
compared, its tombstones older than the reclaim age are removed (and every pass
removes the devices' temp files that old), as Swift's replicator does.

The protocol, served by ``server.py`` (Swift's ``REPLICATE`` verb does not get
through the node's HTTP parser, hence GETs on a ``replicate`` path)::

    GET /<device>/replicate/<partition>                  -> {suffix: hash}
    GET /<device>/replicate/<partition>/<sfx>-<sfx>...   -> {suffix: {hash: [file names]}}
    PUT /<device>/replicate/<partition>/<hash>/<file>    X-Backend-Metadata, body -> 201

A pushed ``.data`` is checked against its ETag and length before it is placed, so a
rotten copy is never spread.  Blocking: :meth:`ObjectReplicator.run_once` runs in a
thread (``background.every``).
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import httpx
else:  # only remote storage nodes are talked to over HTTP (pocketstack.common.lazy)
    from pocketstack.common.lazy import lazy

    httpx = lazy("httpx")

from pocketstack.object import diskfile, timestamps
from pocketstack.object.layout import DATA_DIRS, Location
from pocketstack.object.nodes import METADATA_HEADER, TIMEOUT, metadata_header
from pocketstack.object.replicator import suffix_hash
from pocketstack.object.ring import Ring

LOG = logging.getLogger(__name__)
SUFFIX = re.compile(r"^[0-9a-f]{3}$")
# Objects pushed to one peer at a time: each push waits on the peer's fsyncs.
PUSH_CONCURRENCY = 4
# Suffixes asked for in one listing request (keeps the URL well under the parsers' limits).
SUFFIXES_PER_LISTING = 256


class RefusedFile(ValueError):
    """A pushed file that must not be placed (bad name, or data not matching its ETag)."""


@dataclass
class ObjectReplicationStats:
    partitions: int = 0
    pushed: int = 0
    failed: int = 0
    removed_handoffs: int = 0
    reclaimed: int = 0
    reclaimed_tmp: int = 0


# -- the receiving node's side (called by server.py in threads) ---------------------

def suffix_hashes(part_dir: Path) -> dict[str, str]:
    """``{suffix: hash of its file names}`` for one partition of a device."""
    if not part_dir.is_dir():
        return {}
    return {suffix: suffix_hash(part_dir / suffix) for suffix in sorted(os.listdir(part_dir))}


def suffix_listing(part_dir: Path, suffixes: Iterable[str]) -> dict[str, dict[str, list[str]]]:
    """``{suffix: {object hash: [file names]}}`` for the asked suffixes (others are
    left out: not suffixes, or none here)."""
    listing = {}
    for suffix in suffixes:
        directory = part_dir / suffix
        if not SUFFIX.match(suffix) or not directory.is_dir():
            continue
        listing[suffix] = {name_hash: sorted(os.listdir(directory / name_hash))
                           for name_hash in sorted(os.listdir(directory))}
    return listing


def parse_file_name(name: str) -> tuple[str, str]:
    """``(timestamp, extension)`` of a replica file name, or :class:`RefusedFile`."""
    stem, dot, extension = name.rpartition(".")
    if not dot or "." + extension not in diskfile.EXTENSIONS:
        raise RefusedFile(f"not a replica file: {name}")
    try:
        timestamp = timestamps.normalize(stem)
    except ValueError:
        raise RefusedFile(f"bad timestamp in {name}") from None
    if timestamp != stem:
        raise RefusedFile(f"bad timestamp in {name}")
    return timestamp, "." + extension


class FileReceiver:
    """One pushed replica file: a ``.data`` streams into a temp file and is placed only
    if it matches its ETag and length; a ``.ts``/``.meta`` is placed as it comes."""

    def __init__(self, location: Location, name: str, metadata: dict):
        self.timestamp, self.extension = parse_file_name(name)
        self.location = location
        self.metadata = metadata
        self._md5 = hashlib.md5(usedforsecurity=False)
        self._size = 0
        self._writer = diskfile.ObjectWriter(location) if self.extension == ".data" else None

    def write(self, chunk: bytes) -> None:
        if self._writer is None:
            if chunk:
                raise RefusedFile(f"a {self.extension} file has no body")
            return
        self._md5.update(chunk)
        self._size += len(chunk)
        self._writer.write(chunk)

    def commit(self) -> None:
        if self._writer is None:
            diskfile.write_marker(self.location, self.timestamp, self.extension, self.metadata)
            return
        if (self._md5.hexdigest() != self.metadata.get("ETag")
                or str(self._size) != self.metadata.get("Content-Length")):
            self.abort()
            raise RefusedFile("the data does not match its ETag and Content-Length")
        self._writer.commit(self.timestamp, self.metadata)

    def abort(self) -> None:
        if self._writer is not None:
            self._writer.abort()


# -- the pushing node's side ---------------------------------------------------------

def _files_to_push(ours: list[str], theirs: list[str]) -> list[str]:
    """Our decisive files the peer needs: newer than what decides there."""
    our_decisive, our_meta = diskfile.newest_files(ours)
    their_decisive, their_meta = diskfile.newest_files(theirs)
    their_ts = their_decisive.rsplit(".", 1)[0] if their_decisive else ""
    push = []
    if our_decisive and our_decisive.rsplit(".", 1)[0] > their_ts:
        push.append(our_decisive)
        their_ts, their_meta = our_decisive.rsplit(".", 1)[0], None
    if our_meta and our_meta.rsplit(".", 1)[0] > max(their_ts, (their_meta or "").rsplit(".", 1)[0]):
        push.append(our_meta)
    return push


class ObjectReplicator:
    """Pushes the object replicas under ``devices`` of one node to the other primaries.

    ``is_mine(dev)`` says whether a ring device is one of this node's own;
    ``reclaim_age``: seconds after which tombstones and abandoned temp files go.
    """

    def __init__(self, devices: Path, swift_dir: Path, hash_suffix: str, is_mine: Callable[[dict], bool],
                 reclaim_age: float = diskfile.RECLAIM_AGE):
        self.devices = devices
        self.reclaim_age = reclaim_age
        self.ring_file = swift_dir / "object.ring.gz"
        self.hash_suffix = hash_suffix
        self.is_mine = is_mine
        self.ring: Ring | None = None
        self._http: httpx.Client | None = None
        self._pool: ThreadPoolExecutor | None = None

    @property
    def _client(self) -> httpx.Client:
        """The connection pool to peer nodes, opened at first use (closed by :meth:`close`)."""
        if self._http is None:
            self._http = httpx.Client(timeout=httpx.Timeout(**TIMEOUT))
        return self._http

    @property
    def _pushers(self) -> ThreadPoolExecutor:
        """The threads pushing files to peers, started at first use (stopped by :meth:`close`)."""
        if self._pool is None:
            self._pool = ThreadPoolExecutor(PUSH_CONCURRENCY, thread_name_prefix="object-replication-push")
        return self._pool

    def close(self) -> None:
        if self._http is not None:
            self._http.close()
            self._http = None
        if self._pool is not None:
            self._pool.shutdown()
            self._pool = None

    def run_once(self) -> ObjectReplicationStats:
        stats = ObjectReplicationStats()
        cutoff = time.time() - self.reclaim_age
        devices = sorted(p for p in self.devices.iterdir() if p.is_dir())
        for device in devices:  # also without a ring: proxies' uploads land here all the same
            stats.reclaimed_tmp += diskfile.reclaim_tmp(device, cutoff)
        if self.ring is None:
            if not self.ring_file.exists():
                return stats  # a node holding only databases
            self.ring = Ring(self.ring_file, hash_suffix=self.hash_suffix, reload_time=1.0)
        for device in devices:
            base = device / DATA_DIRS["object"]
            for part in sorted(os.listdir(base)) if base.is_dir() else []:
                if part.isdigit():
                    stats.partitions += 1
                    self._replicate_partition(self.ring, device, int(part), stats, cutoff)
        return stats

    def _replicate_partition(self, ring: Ring, device: Path, part: int, stats: ObjectReplicationStats,
                             cutoff: float) -> None:
        primaries = ring.get_part_nodes(part)
        is_primary = any(self.is_mine(d) and d["device"] == device.name for d in primaries)
        part_dir = device / DATA_DIRS["object"] / str(part)
        stats.reclaimed += sum(diskfile.reclaim_suffix(part_dir / suffix, cutoff) for suffix in os.listdir(part_dir))
        pushed_everywhere: dict[Path, list[str]] = {}
        all_ok = True
        for dev in primaries:
            if self.is_mine(dev) and dev["device"] == device.name:
                continue
            try:
                pushed = self._sync_with(part_dir, part, dev, stats)
            except (httpx.HTTPError, OSError, RefusedFile) as error:
                LOG.warning("object replication of partition %s to %s:%s/%s failed: %s", part, dev["ip"],
                            dev["port"], dev["device"], error)
                stats.failed += 1
                all_ok = False
                continue
            for directory, names in pushed.items():
                pushed_everywhere.setdefault(directory, []).extend(names)
        if not is_primary and all_ok:
            self._drop_handoff(part_dir, pushed_everywhere)
            stats.removed_handoffs += 1

    def _url(self, dev: dict, part: int, *rest: str) -> str:
        host = f"[{dev['ip']}]" if ":" in dev["ip"] else dev["ip"]
        return "/".join([f"http://{host}:{dev['port']}", dev["device"], "replicate", str(part), *rest])

    def _get_json(self, url: str) -> dict:
        response = self._client.get(url)
        if response.status_code != 200:
            raise OSError(f"GET {url}: {response.status_code}")
        return response.json()

    def _sync_with(self, part_dir: Path, part: int, dev: dict,
                   stats: ObjectReplicationStats) -> dict[Path, list[str]]:
        """Push what the peer ``dev`` lacks; ``{hash dir: names it now has}``."""
        theirs = self._get_json(self._url(dev, part))
        ours = suffix_hashes(part_dir)
        differing = [s for s, h in ours.items() if theirs.get(s) != h]
        in_sync: dict[Path, list[str]] = {}
        for suffix in set(ours) - set(differing):
            for name_hash in os.listdir(part_dir / suffix):
                in_sync[part_dir / suffix / name_hash] = os.listdir(part_dir / suffix / name_hash)
        if not differing:
            return in_sync
        listing = {}
        for start in range(0, len(differing), SUFFIXES_PER_LISTING):
            batch = differing[start:start + SUFFIXES_PER_LISTING]
            listing.update(self._get_json(self._url(dev, part, "-".join(batch))))
        pushes = []  # per object, its files in order
        for suffix in differing:
            for name_hash in sorted(os.listdir(part_dir / suffix)):
                directory = part_dir / suffix / name_hash
                names = os.listdir(directory)
                their_names = listing.get(suffix, {}).get(name_hash, [])
                pushes.append([(directory / name, self._url(dev, part, name_hash, name))
                               for name in _files_to_push(names, their_names)])
                in_sync[directory] = names
        stats.pushed += sum(self._pushers.map(self._push_object, pushes))
        return in_sync

    def _push_object(self, files: list[tuple[Path, str]]) -> int:
        for path, url in files:
            self._push_file(path, url)
        return len(files)

    def _push_file(self, path: Path, url: str) -> None:
        metadata = diskfile.read_metadata(path)
        response = self._client.put(url, content=diskfile.read_range(path, 0, diskfile.body_size(path)),
                                  headers={METADATA_HEADER: metadata_header(metadata)})
        if response.status_code != 201:
            raise OSError(f"PUT {url}: {response.status_code} {response.text[:200]}")

    @staticmethod
    def _drop_handoff(part_dir: Path, pushed: dict[Path, list[str]]) -> None:
        """Remove the handed-over files (not ones written since), then empty directories."""
        for directory, names in pushed.items():
            for name in names:
                try:
                    os.unlink(directory / name)
                except FileNotFoundError:
                    pass
        for root, _dirs, _files in os.walk(part_dir, topdown=False):
            try:
                os.rmdir(root)
            except OSError:
                pass  # not empty: a write arrived meanwhile; the next pass hands it over
