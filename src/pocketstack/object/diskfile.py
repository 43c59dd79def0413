"""Object replicas on one device, in Swift's on-disk layout.

A hash directory holds files named by timestamp: ``<ts>.data`` (the bytes, metadata
in the ``user.pocketstack.metadata`` xattr as JSON), ``<ts>.ts`` (a tombstone: the
object was deleted at ``ts``) and ``<ts>.meta`` (metadata set by a later POST).  The
newest ``.data``/``.ts`` decides whether the object exists; a ``.meta`` newer than it
replaces its user metadata.  Older files are removed after every change, so a
directory's file names alone say what a replica holds -- which is what the replicator
compares.  New files are written under ``<device>/tmp``, fsynced and renamed into
place, and the directory is fsynced, so a replica acknowledged to the client survives
a power cut.

Everything here is blocking; callers run it in threads.
"""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from pocketstack.object.layout import Location

XATTR = "user.pocketstack.metadata"
EXTENSIONS = (".data", ".ts", ".meta")
# Metadata a POST replaces (everything else belongs to the data file).
POST_KEYS_PREFIXES = ("x-object-meta-", "x-delete-at", "content-type", "content-disposition",
                      "content-encoding", "x-object-manifest")


def read_metadata(path: Path | str) -> dict:
    return json.loads(os.getxattr(path, XATTR))


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _place(tmp_path: Path, directory: Path, name: str) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    os.replace(tmp_path, directory / name)
    _fsync_dir(directory)
    cleanup(directory)


@dataclass
class ObjectState:
    """What one replica holds: data (with metadata), a tombstone, or nothing.

    The data is a local ``data_path`` or, for a replica on a storage node, a
    ``reader(start, length)`` fetching it over HTTP.
    """

    timestamp: str = ""
    deleted: bool = False
    data_path: Path | None = None
    metadata: dict = field(default_factory=dict)
    reader: Callable[[int, int], Iterator[bytes]] | None = None

    @property
    def exists(self) -> bool:
        return (self.data_path is not None or self.reader is not None) and not self.deleted

    def read(self, start: int, length: int) -> Iterator[bytes]:
        """Chunks of the data (blocking generator: iterate it in a thread)."""
        if self.reader is not None:
            return self.reader(start, length)
        return read_range(self.data_path, start, length)


def newest_files(names: list[str]) -> tuple[str | None, str | None]:
    """The file that decides (newest ``.data``/``.ts``) and a ``.meta`` newer than it."""
    decisive = max((n for n in names if n.endswith((".data", ".ts"))), default=None, key=_ts_key)
    meta = max((n for n in names if n.endswith(".meta")), default=None, key=_ts_key)
    if meta and decisive and _ts_key(meta) <= _ts_key(decisive):
        meta = None
    return decisive, meta


def _ts_key(name: str) -> str:
    return name.rsplit(".", 1)[0]


def cleanup(directory: Path) -> None:
    """Remove files made obsolete by newer ones (Swift's hash_cleanup_listdir)."""
    try:
        names = os.listdir(directory)
    except FileNotFoundError:
        return
    keep = set(newest_files(names))
    for name in names:
        if name not in keep:
            try:
                os.unlink(directory / name)
            except FileNotFoundError:
                pass


def read_state(location: Location) -> ObjectState:
    directory = location.directory
    try:
        names = os.listdir(directory)
    except FileNotFoundError:
        return ObjectState()
    decisive, meta = newest_files(names)
    if decisive is None:
        return ObjectState()
    try:
        metadata = read_metadata(directory / decisive)
        if meta:
            posted = read_metadata(directory / meta)
            metadata = {k: v for k, v in metadata.items() if not k.lower().startswith(POST_KEYS_PREFIXES)}
            metadata.update(posted)
    except FileNotFoundError:
        # Replaced by a concurrent write between listdir and open: read again.
        return read_state(location)
    if decisive.endswith(".ts"):
        return ObjectState(timestamp=_ts_key(decisive), deleted=True, metadata=metadata)
    return ObjectState(timestamp=_ts_key(decisive), data_path=directory / decisive, metadata=metadata)


class ObjectWriter:
    """A new ``.data`` file being written; only visible after :meth:`commit`."""

    def __init__(self, location: Location):
        self.location = location
        tmp_dir = location.device / "tmp"
        tmp_dir.mkdir(parents=True, exist_ok=True)
        self.tmp_path = tmp_dir / uuid.uuid4().hex
        self._file = open(self.tmp_path, "wb")

    def write(self, chunk: bytes) -> None:
        self._file.write(chunk)

    def commit(self, timestamp: str, metadata: dict) -> None:
        self._file.flush()
        os.setxattr(self._file.fileno(), XATTR, json.dumps(metadata).encode())
        os.fsync(self._file.fileno())
        self._file.close()
        _place(self.tmp_path, self.location.directory, timestamp + ".data")

    def abort(self) -> None:
        self._file.close()
        try:
            os.unlink(self.tmp_path)
        except FileNotFoundError:
            pass


def write_marker(location: Location, timestamp: str, extension: str, metadata: dict) -> None:
    """An empty ``.ts`` (delete) or ``.meta`` (POST) file carrying ``metadata``."""
    tmp_dir = location.device / "tmp"
    tmp_dir.mkdir(parents=True, exist_ok=True)
    tmp_path = tmp_dir / uuid.uuid4().hex
    with open(tmp_path, "wb") as fh:
        os.setxattr(fh.fileno(), XATTR, json.dumps(metadata).encode())
        os.fsync(fh.fileno())
    _place(tmp_path, location.directory, timestamp + extension)


def read_range(path: Path, start: int, length: int, chunk_size: int = 65536):
    """Chunks of ``length`` bytes from ``start`` (a generator; the caller threads each step)."""
    with open(path, "rb") as fh:
        fh.seek(start)
        left = length
        while left > 0:
            chunk = fh.read(min(chunk_size, left))
            if not chunk:
                return
            left -= len(chunk)
            yield chunk
