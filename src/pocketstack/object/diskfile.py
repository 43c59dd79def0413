"""Object replicas on one device, in Swift's on-disk layout.

A hash directory holds files named by timestamp: ``<ts>.data`` (the bytes, metadata
in the ``user.pocketstack.metadata`` xattr as JSON -- or, when larger than
:data:`XATTR_LIMIT`, as a JSON trailer after the bytes), ``<ts>.ts`` (a tombstone: the
object was deleted at ``ts``) and ``<ts>.meta`` (metadata set by a later POST).  The
newest ``.data``/``.ts`` decides whether the object exists; a ``.meta`` newer than it
replaces its user metadata.  Older files are removed after every change, so a
directory's file names alone say what a replica holds -- which is what the replicator
compares.  New files are written under ``<device>/tmp``, fsynced and renamed into
place, and the directory is fsynced, so a replica acknowledged to the client survives
a power cut.

What a crash leaves in ``tmp`` and deletions older than the reclaim age (Swift's
``reclaim_age``, a week by default) are removed by the replicators' passes
(:func:`reclaim_tmp`, :func:`reclaim_suffix`).

Everything here is blocking; callers run it in threads.
"""

from __future__ import annotations

import errno
import functools
import json
import os
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from pocketstack.object.layout import Location

XATTR = "user.pocketstack.metadata"
# Metadata whose JSON is larger than this is written after the file's body instead,
# TRAILER_XATTR saying where ("<offset> <length>"): ext4 keeps all extended attributes
# of a file in one block (usually 4 KiB), and Swift's limits allow some 40 KiB of
# object metadata (a Content-Type, Content-Disposition... of up to 8 KiB each besides
# 4 KiB of X-Object-Meta-*).  A replica's body is then the file up to the trailer.
XATTR_LIMIT = 2048
TRAILER_XATTR = "user.pocketstack.metadata-trailer"
# A large body's pages are handed to the disk every this many bytes while it is still
# arriving, so that the fsync at the end has little left to write (Swift's object server
# starts write-back for the same reason, with fdatasync every ``bytes_per_sync``).
WRITEBACK_BYTES = 8 * 1024 * 1024
# Swift's default reclaim_age: how long tombstones and abandoned temp files are kept.
RECLAIM_AGE = 7 * 24 * 3600
EXTENSIONS = (".data", ".ts", ".meta")
# Metadata a POST replaces (everything else belongs to the data file).
POST_KEYS_PREFIXES = ("x-object-meta-", "x-delete-at", "content-type", "content-disposition",
                      "content-encoding", "x-object-manifest")


def read_metadata(path: Path | str) -> dict:
    """A replica file's metadata: from its extended attribute, or the trailer it points at."""
    try:
        return json.loads(os.getxattr(path, XATTR))
    except OSError as error:
        if error.errno != errno.ENODATA:
            raise
    offset, length = _trailer(path)
    with open(path, "rb") as fh:
        fh.seek(offset)
        return json.loads(fh.read(length))


def body_size(path: Path | str) -> int:
    """How many bytes of the file are the replica's body (all of them, but a metadata trailer)."""
    try:
        return _trailer(path)[0]
    except OSError as error:
        if error.errno != errno.ENODATA:
            raise
    return os.path.getsize(path)


def _trailer(path: Path | str) -> tuple[int, int]:
    offset, length = os.getxattr(path, TRAILER_XATTR).split()
    return int(offset), int(length)


def _attach_metadata(fh, metadata: dict) -> None:
    """Store ``metadata`` with the open file ``fh``, whose body ends at its position."""
    encoded = json.dumps(metadata).encode()
    if len(encoded) <= XATTR_LIMIT:
        os.setxattr(fh.fileno(), XATTR, encoded)
        return
    offset = fh.tell()
    fh.write(encoded)
    fh.flush()
    os.setxattr(fh.fileno(), TRAILER_XATTR, f"{offset} {len(encoded)}".encode())


def tmp_dir(device: Path) -> Path:
    """Where a device's files are written before they are renamed into place."""
    return device / "tmp"


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _make_dirs(directory: Path) -> int:
    """``directory`` and its missing parents made; how many were made."""
    missing = []
    while not directory.exists():
        missing.append(directory)
        directory = directory.parent
    for path in reversed(missing):
        path.mkdir(exist_ok=True)  # a concurrent PUT may have made it meanwhile
    return len(missing)


def _place(tmp_path: Path, directory: Path, name: str) -> None:
    # The rename is tried first and the directories made only when it fails (as Swift's
    # renamer does): an existing object's directory is the common case, and a
    # ``mkdir(exist_ok=True)`` costs a failing system call and an exception every time.
    made = 0
    try:
        os.replace(tmp_path, directory / name)
    except FileNotFoundError:
        made = _make_dirs(directory)
        os.replace(tmp_path, directory / name)
    # The leaf directory holds the new name; each directory made here is itself a new name
    # in its parent, fsynced too (Swift's renamer), or a crash could lose the whole path.
    synced = directory
    for _ in range(made + 1):
        _fsync_dir(synced)
        synced = synced.parent
    cleanup(directory)


def _create_tmp(device: Path):
    """A new temp file under the device's ``tmp`` (made on first use): ``(path, file)``."""
    path = tmp_dir(device) / uuid.uuid4().hex
    try:
        return path, open(path, "wb")
    except FileNotFoundError:
        path.parent.mkdir(parents=True, exist_ok=True)
        return path, open(path, "wb")


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
        if self.data_path is None:
            return iter(())  # a tombstone or nothing: no data to read
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


@functools.cache
def _sync_file_range() -> Callable[[int, int, int, int], int] | None:
    """Linux's ``sync_file_range`` from the C library (not in :mod:`os`), or None."""
    import ctypes  # only once the first large body arrives

    try:
        func = ctypes.CDLL(None, use_errno=True).sync_file_range
    except (OSError, AttributeError):
        return None
    func.argtypes = (ctypes.c_int, ctypes.c_longlong, ctypes.c_longlong, ctypes.c_uint)
    return func


def start_writeback(fd: int, offset: int, length: int) -> None:
    """Ask the kernel to start writing ``length`` bytes from ``offset`` to the disk, without
    waiting (``SYNC_FILE_RANGE_WRITE``).  Durability is unchanged -- the file is still
    fsynced before it counts -- but the fsync then finds the data mostly written."""
    func = _sync_file_range()
    if func is not None:
        func(fd, offset, length, 2)  # SYNC_FILE_RANGE_WRITE; a failure only loses the head start


class ObjectWriter:
    """A new ``.data`` file being written; only visible after :meth:`commit`."""

    def __init__(self, location: Location):
        self.location = location
        self.tmp_path, self._file = _create_tmp(location.device)
        self._written = self._handed = 0  # bytes written; bytes handed to the disk early

    def write(self, chunk: bytes) -> None:
        self._file.write(chunk)
        self._written += len(chunk)
        if self._written - self._handed >= WRITEBACK_BYTES:
            self._file.flush()
            start_writeback(self._file.fileno(), self._handed, self._written - self._handed)
            self._handed = self._written

    def commit(self, timestamp: str, metadata: dict) -> None:
        self._file.flush()
        _attach_metadata(self._file, metadata)
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
    """A bodiless ``.ts`` (delete) or ``.meta`` (POST) file carrying ``metadata``."""
    tmp_path, fh = _create_tmp(location.device)
    with fh:
        _attach_metadata(fh, metadata)
        os.fsync(fh.fileno())
    _place(tmp_path, location.directory, timestamp + extension)


def reclaim_tmp(device: Path, cutoff: float) -> int:
    """Remove the device's temp files last modified before ``cutoff`` (Unix time): uploads
    a crash or a broken-off request left unfinished, which nothing else would ever
    rename or remove (Swift's replicator does the same).  How many went."""
    directory = tmp_dir(device)
    try:
        names = os.listdir(directory)
    except FileNotFoundError:
        return 0
    removed = 0
    for name in names:
        try:
            if os.stat(directory / name).st_mtime < cutoff:
                os.unlink(directory / name)
                removed += 1
        except FileNotFoundError:
            pass  # committed or aborted meanwhile
    return removed


def reclaim_suffix(suffix_dir: Path, cutoff: float) -> int:
    """Forget deletions older than ``cutoff`` below one suffix directory: a tombstone
    deciding its object, and a ``.meta`` left without data, are removed once their
    timestamp is older, then the emptied directories -- Swift's ``reclaim_age``.  (As in
    Swift, a replica away for longer than that may bring the object back.)  How many
    files went."""
    try:
        name_hashes = os.listdir(suffix_dir)
    except FileNotFoundError:
        return 0
    removed = sum(_reclaim_object(suffix_dir / name_hash, cutoff) for name_hash in name_hashes)
    _remove_if_empty(suffix_dir)
    return removed


def _reclaim_object(directory: Path, cutoff: float) -> int:
    try:
        decisive, meta = newest_files(os.listdir(directory))
    except (FileNotFoundError, NotADirectoryError):
        return 0
    if decisive is not None and not decisive.endswith(".ts"):
        return 0  # the object exists: nothing to forget
    removed = 0
    for name in (decisive, meta):
        if name and float(_ts_key(name)) < cutoff:
            try:
                os.unlink(directory / name)
                removed += 1
            except FileNotFoundError:
                pass
    _remove_if_empty(directory)
    return removed


def _remove_if_empty(directory: Path) -> None:
    try:
        os.rmdir(directory)
    except OSError:
        pass  # not empty (a write arrived meanwhile) or already gone


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
