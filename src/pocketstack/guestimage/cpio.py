"""The initramfs as a ``newc`` cpio archive written here, byte for byte.

Writing the archive ourselves (rather than running ``cpio`` over a staging directory)
is what lets an unprivileged build produce a root filesystem owned by root, with
``/dev/console`` as a real character device, and makes the result reproducible: every
entry has the same fixed mtime, uid/gid 0 and a stable inode number, and entries are
written in sorted order.  The kernel unpacks ``newc`` (format ``070701``) archives,
gzip-compressed here (``CONFIG_RD_GZIP=y`` in every Debian kernel).
"""

from __future__ import annotations

import gzip
import io
import stat
from dataclasses import dataclass, field

TRAILER = "TRAILER!!!"


@dataclass(frozen=True)
class Entry:
    path: str  # relative, no leading "/": "bin/busybox"
    mode: int  # including the file type bits (stat.S_IFREG | 0o755)
    data: bytes = b""
    rdev: tuple[int, int] = (0, 0)  # character/block devices: (major, minor)
    uid: int = 0
    gid: int = 0


@dataclass
class Tree:
    """An in-memory file tree: what the guest's ``/`` holds when the kernel starts ``/init``."""

    entries: dict[str, Entry] = field(default_factory=dict)

    def _parents(self, path: str) -> None:
        parts = path.split("/")[:-1]
        for depth in range(1, len(parts) + 1):
            parent = "/".join(parts[:depth])
            if parent not in self.entries:
                self.entries[parent] = Entry(parent, stat.S_IFDIR | 0o755)

    def directory(self, path: str, mode: int = 0o755) -> None:
        path = path.strip("/")
        self._parents(path)
        self.entries[path] = Entry(path, stat.S_IFDIR | mode)

    def file(self, path: str, data: bytes | str, mode: int = 0o644, uid: int = 0, gid: int = 0) -> None:
        path = path.strip("/")
        self._parents(path)
        payload = data.encode() if isinstance(data, str) else data
        self.entries[path] = Entry(path, stat.S_IFREG | mode, payload, uid=uid, gid=gid)

    def symlink(self, path: str, target: str) -> None:
        path = path.strip("/")
        self._parents(path)
        self.entries[path] = Entry(path, stat.S_IFLNK | 0o777, target.encode())

    def device(self, path: str, kind: int, major: int, minor: int, mode: int = 0o600) -> None:
        path = path.strip("/")
        self._parents(path)
        self.entries[path] = Entry(path, kind | mode, rdev=(major, minor))


def _header(ino: int, entry: Entry, mtime: int, name: bytes) -> bytes:
    fields = (ino, entry.mode, entry.uid, entry.gid, 2 if stat.S_ISDIR(entry.mode) else 1, mtime,
              len(entry.data), 0, 0, entry.rdev[0], entry.rdev[1], len(name) + 1, 0)
    return b"070701" + b"".join(b"%08X" % value for value in fields)


def _pad(length: int) -> bytes:
    return b"\0" * (-length % 4)


def archive(tree: Tree, mtime: int = 0) -> bytes:
    """The tree as an uncompressed ``newc`` archive (parents before children, sorted)."""
    out = io.BytesIO()
    for ino, path in enumerate(sorted(tree.entries), start=1):
        entry = tree.entries[path]
        name = path.encode()
        head = _header(ino, entry, mtime, name) + name + b"\0"
        out.write(head + _pad(len(head)))
        out.write(entry.data + _pad(len(entry.data)))
    trailer = _header(0, Entry(TRAILER, 0), 0, TRAILER.encode()) + TRAILER.encode() + b"\0"
    out.write(trailer + _pad(len(trailer)))
    return out.getvalue()


def initramfs(tree: Tree, mtime: int = 0) -> bytes:
    """The tree as a gzip-compressed ``newc`` archive with no timestamp in the gzip header."""
    return gzip.compress(archive(tree, mtime), compresslevel=9, mtime=0)


def read_archive(data: bytes) -> list[Entry]:
    """Parse a ``newc`` archive back (the tests use it to check what the guest gets)."""
    entries: list[Entry] = []
    offset = 0
    while True:
        if data[offset:offset + 6] != b"070701":
            raise ValueError(f"bad cpio magic at offset {offset}")
        values = [int(data[offset + 6 + 8 * i:offset + 14 + 8 * i], 16) for i in range(13)]
        namesize, filesize = values[11], values[6]
        start = offset + 110
        name = data[start:start + namesize - 1].decode()
        start += namesize
        start += -start % 4
        payload = data[start:start + filesize]
        offset = start + filesize
        offset += -offset % 4
        if name == TRAILER:
            return entries
        entries.append(Entry(name, values[1], payload, (values[9], values[10]), values[2], values[3]))
