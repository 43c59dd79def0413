"""Where image data lives: a small driver interface and its implementations.

A store writes one image's bytes through a :class:`Sink` (temporary until
``commit``) and reads them back by the location URI it returned.  The manager keeps
the location in the image row and never interprets it, so an object-store driver can
slot in beside :mod:`.file` without touching the state machine.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Protocol


class StoreNotFound(Exception):
    """The location names data the store does not have."""


class Sink(Protocol):
    """An upload in progress: bytes go to temporary storage until :meth:`commit`."""

    def write(self, data: bytes) -> None: ...

    def commit(self) -> str:
        """Make the data durable and visible; return its location URI."""

    def abort(self) -> None:
        """Throw the partial data away (safe to call more than once)."""


class Store(Protocol):
    #: Identifies the storage this process writes to (crash recovery is per node).
    node: str

    def open_sink(self, image_id: str, upload_id: str) -> Sink: ...

    def read(self, location: str, offset: int = 0, length: int | None = None,
             chunk_size: int = 65536) -> Iterator[bytes]:
        """Iterate over ``length`` bytes from ``offset``; :class:`StoreNotFound` if absent."""

    def delete(self, location: str) -> None:
        """Remove the data at ``location``; absent data is not an error."""

    def discard_partials(self) -> None:
        """Remove every upload in progress (start-up recovery: none can still be running)."""

    def discard_orphans(self, known_ids: set[str]) -> None:
        """Remove committed data of images not in ``known_ids`` (deleted before a crash
        let the data follow)."""
