"""The data files of a cloud's state: volumes, images, object storage, backups.

Each area is a directory under the data directory that a service fills as users create
resources (``volumes/``, ``images/``, ``object/devices/`` …); the configuration beside
them — token keys, object rings, the database file — is not state and is never touched.
Files are held by their data extents (read with SEEK_DATA/SEEK_HOLE), so a sparse 10 GiB
volume costs what was written to it, in memory and in a snapshot file, and with their
extended attributes (object storage keeps an object's metadata in one).
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from pathlib import Path

from pocketstack.volume.drivers.file import data_extents

# Relative to the data directory.  A directory is recreated empty if it existed.
AREAS = ("volumes", "backups", "images", "image-staging", "object/devices")


@dataclass
class FileEntry:
    """A directory (``size`` None) or a file: its size and the data at each offset."""

    path: str                      # relative to the data directory, "/"-separated
    size: int | None = None
    extents: tuple[tuple[int, bytes], ...] = ()
    xattrs: tuple[tuple[str, bytes], ...] = ()

    @property
    def is_dir(self) -> bool:
        return self.size is None


def _read(path: Path, relative: str) -> FileEntry:
    with open(path, "rb") as f:
        size = os.fstat(f.fileno()).st_size
        extents = []
        for offset, length in data_extents(f.fileno(), size):
            f.seek(offset)
            extents.append((offset, f.read(length)))
    return FileEntry(relative, size, tuple(extents), _xattrs(path))


def _xattrs(path: Path) -> tuple[tuple[str, bytes], ...]:
    return tuple((name, os.getxattr(path, name)) for name in sorted(os.listxattr(path)))


def capture(data_dir: Path) -> list[FileEntry]:
    """Every directory and file of the state areas, parents before children."""
    entries: list[FileEntry] = []
    for area in AREAS:
        root = data_dir / area
        if not root.is_dir():
            continue
        for folder, dirs, files in os.walk(root):
            dirs.sort()
            here = Path(folder)
            entries.append(FileEntry(here.relative_to(data_dir).as_posix(), xattrs=_xattrs(here)))
            for name in sorted(files):
                entries.append(_read(here / name, (here / name).relative_to(data_dir).as_posix()))
    return entries


def restore(data_dir: Path, entries: list[FileEntry]) -> None:
    """Make the state areas hold exactly ``entries``: everything else in them is removed."""
    for area in AREAS:
        shutil.rmtree(data_dir / area, ignore_errors=True)
    root = data_dir.resolve()
    for entry in entries:
        target = (data_dir / entry.path).resolve()
        if not target.is_relative_to(root) or not any(
                target.is_relative_to(root / area) for area in AREAS):
            raise ValueError(f"the state holds a file outside the data areas: {entry.path!r}")
        if entry.is_dir:
            target.mkdir(parents=True, exist_ok=True)
        else:
            target.parent.mkdir(parents=True, exist_ok=True)
            with open(target, "wb") as f:
                for offset, data in entry.extents:
                    f.seek(offset)
                    f.write(data)
                f.truncate(entry.size)
        for name, value in entry.xattrs:
            os.setxattr(target, name, value)
