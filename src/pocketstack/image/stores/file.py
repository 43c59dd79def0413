"""The file store: image data as plain files under ``<data_dir>/images/``.

Layout::

    images/<image_id>                      committed data
    images/.partial/<image_id>.<upload_id> an upload in progress

An upload writes to its partial file, fsyncs it and renames it over the final name
(atomic on POSIX), then fsyncs the directory, so a crash leaves either the complete
old state or a partial file that start-up recovery removes — never a torn image.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Iterator
from pathlib import Path

from pocketstack.image.stores import StoreNotFound

SCHEME = "file://"


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class FileSink:
    def __init__(self, partial: Path, final: Path):
        self._partial, self._final = partial, final
        self._file = open(partial, "wb")

    def write(self, data: bytes) -> None:
        self._file.write(data)

    def commit(self) -> str:
        self._file.flush()
        os.fsync(self._file.fileno())
        self._file.close()
        os.replace(self._partial, self._final)
        _fsync_dir(self._final.parent)
        return SCHEME + str(self._final)

    def abort(self) -> None:
        if not self._file.closed:
            self._file.close()
        self._partial.unlink(missing_ok=True)


class FileStore:
    def __init__(self, root: Path):
        self.root = Path(root)
        self.partials = self.root / ".partial"
        self.partials.mkdir(parents=True, exist_ok=True)
        self.node = f"{socket.gethostname()}:{self.root.resolve()}"

    def open_sink(self, image_id: str, upload_id: str) -> FileSink:
        return FileSink(self.partials / f"{image_id}.{upload_id}", self.root / image_id)

    def location_of(self, image_id: str) -> str:
        """Where this store keeps (or would keep) the committed data of ``image_id``."""
        return SCHEME + str(self.root / image_id)

    def owns(self, location: str) -> bool:
        try:
            self._path(location)
        except StoreNotFound:
            return False
        return True

    def _path(self, location: str) -> Path:
        if not location.startswith(SCHEME):
            raise StoreNotFound(location)
        path = Path(location[len(SCHEME):])
        if path.parent != self.root:
            raise StoreNotFound(location)
        return path

    def read(self, location: str, offset: int = 0, length: int | None = None,
             chunk_size: int = 65536) -> Iterator[bytes]:
        try:
            handle = open(self._path(location), "rb")
        except FileNotFoundError:
            raise StoreNotFound(location) from None
        return self._chunks(handle, offset, length, chunk_size)

    @staticmethod
    def _chunks(handle, offset: int, length: int | None, chunk_size: int) -> Iterator[bytes]:
        with handle:
            handle.seek(offset)
            remaining = length
            while remaining is None or remaining > 0:
                data = handle.read(chunk_size if remaining is None else min(chunk_size, remaining))
                if not data:
                    return
                if remaining is not None:
                    remaining -= len(data)
                yield data

    def delete(self, location: str) -> None:
        try:
            self._path(location).unlink(missing_ok=True)
        except StoreNotFound:
            pass

    def discard_partials(self) -> None:
        for path in self.partials.iterdir():
            path.unlink(missing_ok=True)

    def discard_orphans(self, known_ids: set[str]) -> None:
        for path in self.root.iterdir():
            if path.is_file() and path.name not in known_ids:
                path.unlink(missing_ok=True)
