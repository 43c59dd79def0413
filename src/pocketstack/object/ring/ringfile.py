"""The compact ``*.ring.gz`` file that storage and proxy processes load.

The layout is Swift's "v1" ring format, so the files are interchangeable with
Swift's own tools::

    gzip(
        b"R1NG" + uint16 version (=1)          -- magic
        uint32 length + JSON header            -- devs, part_shift, replica_count, ...
        raw array('H') rows, one per replica   -- replica2part2dev, in header byteorder
    )

A fractional replica count gives a last, shorter row; readers take its length from
``row_lengths`` (or, like Swift, from what is left in the file).  Files are written
with a fixed gzip mtime so identical rings are byte-identical, and atomically
(temporary file + rename) so a process reloading a ring never sees half a file.
"""

from __future__ import annotations

import gzip
import json
import os
import struct
import sys
import tempfile
from array import array
from dataclasses import dataclass, field
from typing import Any

from pocketstack.object.ring.errors import RingError

MAGIC = b"R1NG"
FORMAT_VERSION = 1
DEV_ID_BYTES = 2


@dataclass
class RingData:
    """Everything a ring reader needs: the assignment table and the device list."""

    replica2part2dev: list[array]
    devs: list[dict[str, Any] | None]
    part_shift: int
    replicas: float = 0.0
    version: int | None = None
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def part_power(self) -> int:
        return 32 - self.part_shift

    @property
    def partition_count(self) -> int:
        return 1 << self.part_power

    def save(self, path: str | os.PathLike) -> None:
        """Write the gzip'd ring file atomically."""
        header = {
            "devs": self.devs,
            "part_shift": self.part_shift,
            "part_power": self.part_power,
            "replica_count": len(self.replica2part2dev),
            "replicas": self.replicas,
            "row_lengths": [len(row) for row in self.replica2part2dev],
            "byteorder": sys.byteorder,
            "dev_id_bytes": DEV_ID_BYTES,
            "version": self.version,
            **({"meta": self.meta} if self.meta else {}),
        }
        text = json.dumps(header, sort_keys=True, ensure_ascii=True).encode("ascii")
        payload = b"".join(
            [MAGIC, struct.pack("!HI", FORMAT_VERSION, len(text)), text]
            + [row.tobytes() for row in self.replica2part2dev])
        atomic_write(path, gzip.compress(payload, compresslevel=6, mtime=0))

    @classmethod
    def load(cls, path: str | os.PathLike) -> RingData:
        """Read a ring file written by :meth:`save` (or by Swift's v1 writer)."""
        try:
            with gzip.open(path, "rb") as fh:
                raw = fh.read()
        except (OSError, EOFError) as exc:
            raise RingError(f"cannot read ring file {os.fspath(path)}: {exc}") from exc
        if raw[:4] != MAGIC or len(raw) < 10:
            raise RingError(f"{os.fspath(path)} is not a ring file (bad magic)")
        try:
            return cls._parse(raw, os.fspath(path))
        except (ValueError, KeyError, TypeError) as exc:
            raise RingError(f"{os.fspath(path)}: corrupt ring file: {exc}") from exc

    @classmethod
    def _parse(cls, raw: bytes, path: str) -> RingData:
        version, length = struct.unpack_from("!HI", raw, 4)
        if version != FORMAT_VERSION:
            raise RingError(f"{path}: unsupported ring format version {version}")
        offset = 10 + length
        header = json.loads(raw[10:offset])
        byteswap = header.get("byteorder", sys.byteorder) != sys.byteorder
        parts = 1 << (32 - header["part_shift"])
        lengths = header.get("row_lengths") or [parts] * header["replica_count"]
        rows = []
        for length_ in lengths:
            row = array("H")
            row.frombytes(raw[offset:offset + 2 * length_])
            offset += 2 * length_
            if byteswap:
                row.byteswap()
            rows.append(row)
        if offset != len(raw):
            raise RingError(f"{path}: ring file is truncated or has trailing data")
        replicas = header.get("replicas") or sum(len(r) for r in rows) / parts
        return cls(rows, header["devs"], header["part_shift"], replicas,
                   header.get("version"), header.get("meta") or {})


def atomic_write(path: str | os.PathLike, data: bytes) -> None:
    """Replace ``path`` with ``data`` so readers see either the old or the new file."""
    path = os.fspath(path)
    directory = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", dir=directory)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise
