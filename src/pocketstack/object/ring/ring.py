"""Ring: the read side used by proxy and storage processes.

Lookups are Swift's, bit for bit: the partition of ``/account/container/object`` is
the top ``part_power`` bits of the first four bytes (big-endian) of
``md5(prefix + b"/" + path + suffix)``.  The hash path prefix/suffix are per-cluster
secrets (Swift's ``swift_hash_path_prefix``/``_suffix``); every node of a cluster must
use the same values or objects will be looked for in the wrong place.

A ``Ring`` re-reads its file when the file changes, checking at most every
``reload_time`` seconds, so pushing a new ``*.ring.gz`` to a node is enough -- no
process restart, exactly like Swift.
"""

from __future__ import annotations

import hashlib
import os
import struct
import time
from collections.abc import Callable, Iterator
from itertools import chain
from typing import Any

from pocketstack.object.ring.errors import RingError
from pocketstack.object.ring.ringfile import RingData


def _b(value: str | bytes) -> bytes:
    return value if isinstance(value, bytes) else value.encode("utf-8")


def hash_path(account: str | bytes, container: str | bytes | None = None,
              obj: str | bytes | None = None, *, prefix: str | bytes = b"",
              suffix: str | bytes = b"") -> bytes:
    """Raw md5 digest of ``prefix + "/account[/container[/object]]" + suffix``."""
    if obj and not container:
        raise ValueError("container is required if object is provided")
    paths = [_b(account)]
    if container:
        paths.append(_b(container))
    if obj:
        paths.append(_b(obj))
    return hashlib.md5(_b(prefix) + b"/" + b"/".join(paths) + _b(suffix),
                       usedforsecurity=False).digest()


class Ring:
    """A loaded ``*.ring.gz``, reloaded automatically when the file changes."""

    def __init__(self, path: str | os.PathLike, *, hash_prefix: str | bytes = b"",
                 hash_suffix: str | bytes = b"", reload_time: float = 15.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.path = os.fspath(path)
        self.hash_prefix = _b(hash_prefix)
        self.hash_suffix = _b(hash_suffix)
        self.reload_time = reload_time
        self._clock = clock
        self._stat: tuple[int, int, int] | None = None
        self._next_check = 0.0
        self._reload(force=True)

    # ------------------------------------------------------------- loading

    def _file_stat(self) -> tuple[int, int, int]:
        st = os.stat(self.path)
        # The inode changes on an atomic replace even within one mtime tick.
        return st.st_mtime_ns, st.st_size, st.st_ino

    def has_changed(self) -> bool:
        """True when the file on disk is not the one currently loaded."""
        try:
            return self._file_stat() != self._stat
        except FileNotFoundError:
            return False

    def _reload(self, force: bool = False) -> None:
        self._next_check = self._clock() + self.reload_time
        if not force and not self.has_changed():
            return
        stat = self._file_stat()
        data = RingData.load(self.path)
        self._apply(data)
        self._stat = stat

    def _maybe_reload(self) -> None:
        if self._clock() >= self._next_check:
            try:
                self._reload()
            except (OSError, RingError):
                # Keep serving the ring we have; a half-copied file is retried later.
                self._next_check = self._clock() + self.reload_time

    def _apply(self, data: RingData) -> None:
        self._data = data
        self._rows = data.replica2part2dev
        self._devs = data.devs
        self._part_shift = data.part_shift
        assigned: set[int] = set()
        for row in self._rows:
            assigned.update(set(row))
        # Only devices that hold partitions can ever be offered as handoffs.
        live = [dev for dev in (data.devs[i] for i in assigned) if dev is not None]
        self._num_regions = len({d["region"] for d in live})
        self._num_zones = len({(d["region"], d["zone"]) for d in live})
        self._num_ips = len({(d["region"], d["zone"], d["ip"]) for d in live})
        self._num_assigned_devs = len(assigned)

    # ---------------------------------------------------------- properties

    @property
    def replica_count(self) -> int:
        """Number of replica rows (full or partial), as Swift reports it."""
        return len(self._rows)

    @property
    def replicas(self) -> float:
        """Exact replica count, e.g. 2.5."""
        return self._data.replicas

    @property
    def partition_count(self) -> int:
        return len(self._rows[0]) if self._rows else 0

    @property
    def part_power(self) -> int:
        return 32 - self._part_shift

    @property
    def version(self) -> int | None:
        return self._data.version

    @property
    def devs(self) -> list[dict[str, Any] | None]:
        """Device dicts indexed by id (``None`` for removed ids)."""
        self._maybe_reload()
        return self._devs

    # -------------------------------------------------------------- lookups

    def get_part(self, account: str | bytes, container: str | bytes | None = None,
                 obj: str | bytes | None = None) -> int:
        """Partition of an account, container or object."""
        key = hash_path(account, container, obj, prefix=self.hash_prefix,
                        suffix=self.hash_suffix)
        self._maybe_reload()
        return struct.unpack_from(">I", key)[0] >> self._part_shift

    def _part_nodes(self, part: int) -> list[dict[str, Any]]:
        nodes: list[dict[str, Any]] = []
        seen: set[int] = set()
        for row in self._rows:
            if part < len(row):
                dev_id = row[part]
                if dev_id not in seen:
                    seen.add(dev_id)
                    nodes.append(dict(self._devs[dev_id], index=len(nodes)))
        return nodes

    def get_part_nodes(self, part: int) -> list[dict[str, Any]]:
        """Primary devices of ``part`` (each once, with its replica ``index``)."""
        self._maybe_reload()
        return self._part_nodes(part)

    def get_nodes(self, account: str | bytes, container: str | bytes | None = None,
                  obj: str | bytes | None = None) -> tuple[int, list[dict[str, Any]]]:
        """``(partition, primary devices)`` for an account, container or object."""
        part = self.get_part(account, container, obj)
        return part, self._part_nodes(part)

    def get_more_nodes(self, part: int) -> Iterator[dict[str, Any]]:
        """Handoff devices for ``part``, best failure domains first.

        First one device in each region holding no primary, then in each unused zone,
        then on each unused server, then every other device.  Candidates are taken
        from the assignment rows of other partitions, starting at a position derived
        from the partition number, so handoffs follow device weights, differ between
        partitions and stay mostly stable when the ring changes (Swift's algorithm).
        """
        self._maybe_reload()
        rows, devs = self._rows, self._devs
        primaries = self._part_nodes(part)
        used = {d["id"] for d in primaries}
        regions = {d["region"] for d in primaries}
        zones = {(d["region"], d["zone"]) for d in primaries}
        ips = {(d["region"], d["zone"], d["ip"]) for d in primaries}
        parts = len(rows[0])
        start = struct.unpack_from(
            ">I", hashlib.md5(str(part).encode("ascii"), usedforsecurity=False).digest()
        )[0] >> self._part_shift
        inc = parts // 65536 or 1
        index = 0

        def candidates() -> Iterator[dict[str, Any]]:
            for handoff in chain(range(start, parts, inc),
                                 range(inc - ((parts - start) % inc), start, inc)):
                for row in rows:
                    if handoff < len(row) and row[handoff] not in used:
                        yield devs[row[handoff]]

        def take(dev: dict[str, Any]) -> dict[str, Any]:
            nonlocal index
            used.add(dev["id"])
            regions.add(dev["region"])
            zones.add((dev["region"], dev["zone"]))
            ips.add((dev["region"], dev["zone"], dev["ip"]))
            index += 1
            return dict(dev, handoff_index=index - 1)

        levels = (
            (lambda d: d["region"], regions, self._num_regions),
            (lambda d: (d["region"], d["zone"]), zones, self._num_zones),
            (lambda d: (d["region"], d["zone"], d["ip"]), ips, self._num_ips),
        )
        for key, seen, total in levels:
            if len(seen) >= total:
                continue
            for dev in candidates():
                if key(dev) not in seen:
                    yield take(dev)
                    if len(seen) >= total:
                        break
        if len(used) < self._num_assigned_devs:
            for dev in candidates():
                if dev["id"] not in used:
                    yield take(dev)
                    if len(used) >= self._num_assigned_devs:
                        break
