"""What other services may call of object storage (the volume service's backups do:
Cinder's swift backup driver keeps chunks as objects of the owner's account), and what
its admin API reports of the cluster (the rings, the dispersion of copies).

Accounts are ``AUTH_<project_id>``.  The synchronous methods block (ring replicas,
databases): call them from a worker thread, never on the event loop; ``put_object`` is
a coroutine streaming the body to every replica at once.  Writes take Swift timestamps
(:meth:`ObjectContract.timestamp`): on every replica the newest write wins.
``Cloud.object_store`` hands out the implementation
(:class:`~pocketstack.object.manager.ObjectManager`).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any, Protocol

from pocketstack.object.diskfile import ObjectState
from pocketstack.object.dispersion import Report
from pocketstack.object.ring.report import RingSummary


class Listing(Protocol):
    """A container's listing (one replica of its database)."""

    def list(self, *, limit: int, marker: str = "", end_marker: str = "", prefix: str = "",
             delimiter: str = "", reverse: bool = False) -> list[dict[str, Any]]:
        """Rows (``name``, ``size``, ``etag``, ``content_type``, ``created_at``) in name
        order, at most ``limit``, after ``marker`` and below ``end_marker``."""


class ObjectContract(Protocol):
    def timestamp(self) -> str:
        """A Swift timestamp for now: what a write through this contract is stamped with."""

    def container(self, account: str, container: str) -> tuple[Listing, dict[str, Any]] | None:
        """The container's listing and info (counts, ``metadata``); None when it does not exist."""

    def put_container(self, account: str, container: str, metadata: dict[str, str], timestamp: str) -> bool:
        """Create (or re-create) the container, and its account as needed; True when it
        did not exist before."""

    async def put_object(self, account: str, container: str, obj: str, chunks: AsyncIterator[bytes],
                         metadata: dict[str, str], timestamp: str,
                         check: Callable[[str, int], None] | None = None,
                         listing: tuple[int, str] | None = None) -> tuple[str, int]:
        """Store ``chunks`` as the object on a quorum of replicas and list it; ``(etag,
        size)``.  ``metadata`` holds its headers (``Content-Type``, ``X-Object-Meta-*``);
        ``check(etag, size)`` may raise to refuse the body before it becomes visible."""

    def object_state(self, account: str, container: str, obj: str) -> ObjectState:
        """The newest state of the object any replica knows: ``exists``, ``metadata``
        (``Content-Length``, ``ETag``, ...) and ``read(start, length)`` for its bytes."""

    def remove_object(self, account: str, container: str, obj: str, state: ObjectState) -> None:
        """Delete the object whose current state is ``state``: tombstone every replica
        and drop it from the container's listing."""

    def ring(self, kind: str) -> RingSummary:
        """The ``account``, ``container`` or ``object`` ring as ``swift-ring-builder``
        shows it (read from its builder beside the ring file); :class:`KeyError` for
        another kind, :class:`~pocketstack.object.ring.RingError` when the builder cannot
        be read."""

    def dispersion(self, sample: int) -> Report:
        """``swift-dispersion-report``: of up to ``sample`` containers and ``sample``
        objects, how many copies are where the rings say (blocking: reads every copy)."""
