"""The proxy's logic: accounts, containers and objects over their ring replicas.

Every write goes to one location per replica (primaries, handoffs standing in for
absent devices) in parallel threads and succeeds when a quorum (a majority) of them
did; reads take the newest of the replicas that answer, falling back over handoffs.
Object replicas are read and written through ``nodes`` and account/container
database replicas through their brokers -- local files, or ``remotedb`` on a storage
node.  An object write then updates every container replica's listing, and each
container replica reports its counts to the matching account replica, as Swift's
object and container servers do; a small object's replica write and its paired
listing update run in one thread trip.
"""

from __future__ import annotations

import asyncio
import hashlib
import itertools
import logging
import sqlite3
from collections.abc import AsyncIterator, Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from pocketstack.object import diskfile, timestamps
from pocketstack.object.brokers import AccountBroker, ContainerBroker, db_path
from pocketstack.object.errors import ContainerNotEmpty, QuorumNotReached
from pocketstack.object.layout import Cluster, Location
from pocketstack.object.nodes import Nodes, ReplicaWriter
from pocketstack.object.remotedb import BROKERS, RemoteBroker

LOG = logging.getLogger(__name__)
# Bodies up to this size are gathered in memory before any replica is opened.
SMALL_BODY = 256 * 1024
# Larger bodies go to the replicas in pieces of about this size.
STREAM_CHUNK = 1024 * 1024


def quorum(replicas: int) -> int:
    return replicas // 2 + 1


class ObjectStore:
    """``pool`` runs only leaf disk and database work; callers wait on it from other threads.
    ``nodes`` reaches each object replica (its own, by default)."""

    def __init__(self, cluster: Cluster, pool: ThreadPoolExecutor, nodes: Nodes | None = None):
        self.cluster = cluster
        self.pool = pool
        self.nodes = nodes or Nodes()

    # ------------------------------------------------------------ helpers

    def _quorum(self, kind: str) -> int:
        """A majority of the ring's replicas, however many locations are reachable."""
        return quorum(self.cluster.rings[kind].replica_count)

    def _on_all(self, targets: list[Any], work: Callable[[Any], Any], need: int) -> list[Any]:
        """Run ``work`` on every target in parallel; 503 unless ``need`` of them succeeded."""
        futures = [self.pool.submit(work, t) for t in targets]
        results = []
        for future in futures:
            try:
                results.append(future.result())
            except (OSError, sqlite3.Error):
                continue
        if len(results) < need:
            raise QuorumNotReached()
        return results

    def _first_db(self, kind: str, *names: str):
        """``(broker, info)`` of the first replica holding the database: primaries, then handoffs."""
        primaries, handoffs = self.cluster.read_locations(kind, *names)
        for location in itertools.chain(primaries, handoffs):
            broker = self._db(location)
            try:
                info = broker.info()
            except OSError:
                continue  # a storage node that does not answer: try the next replica
            if info is not None:
                return broker, info
        return None

    def _db(self, location: Location):
        """The broker of a database replica: a local file or a storage node's (``remotedb``)."""
        if location.node is not None:
            return RemoteBroker(self.nodes.http(), location)
        return BROKERS[location.kind](db_path(location.directory))

    # ------------------------------------------------------------ accounts

    def account(self, account: str) -> tuple[AccountBroker | RemoteBroker | None, dict]:
        """An account's broker and info; a missing account reads as an empty one."""
        found = self._first_db("account", account)
        if found is None or found[1]["deleted"]:
            return None, {"metadata": {}, "created_at": None, "container_count": 0, "object_count": 0,
                          "bytes_used": 0}
        broker, info = found
        return broker, {**info, **broker.totals()}

    def ensure_account(self, account: str, timestamp: str) -> None:
        targets = self.cluster.write_targets("account", account)
        self._on_all(targets, lambda loc: self._db(loc).initialize(timestamp, account=account),
                     self._quorum("account"))

    def post_account(self, account: str, metadata: dict[str, str], timestamp: str) -> None:
        self.ensure_account(account, timestamp)
        targets = self.cluster.write_targets("account", account)
        self._on_all(targets, lambda loc: self._db(loc).update_metadata(metadata, timestamp),
                     self._quorum("account"))

    # ---------------------------------------------------------- containers

    def container(self, account: str, container: str) -> tuple[ContainerBroker | RemoteBroker, dict] | None:
        found = self._first_db("container", account, container)
        if found is None or found[1]["deleted"]:
            return None
        return found

    def put_container(self, account: str, container: str, metadata: dict[str, str], timestamp: str) -> bool:
        """Create (or re-create) a container; True when it did not exist before."""
        existed = self.container(account, container) is not None
        self.ensure_account(account, timestamp)

        def create(loc: Location):
            broker = self._db(loc)
            broker.initialize(timestamp, account=account, container=container)
            if metadata:
                broker.update_metadata(metadata, timestamp)

        self._on_all(self.cluster.write_targets("container", account, container), create, self._quorum("container"))
        self._report(account, container)
        return not existed

    def post_container(self, account: str, container: str, metadata: dict[str, str], timestamp: str) -> None:
        targets = self.cluster.write_targets("container", account, container)
        def update(loc: Location):
            broker = self._db(loc)
            if broker.exists:
                broker.update_metadata(metadata, timestamp)

        self._on_all(targets, update, self._quorum("container"))

    def delete_container(self, account: str, container: str, timestamp: str) -> None:
        found = self.container(account, container)
        if found and found[1]["object_count"] > 0:
            raise ContainerNotEmpty()
        targets = self.cluster.write_targets("container", account, container)

        def delete(loc: Location):
            broker = self._db(loc)
            if broker.exists:
                broker.mark_deleted(timestamp)

        self._on_all(targets, delete, self._quorum("container"))
        self._report(account, container)

    def _report(self, account: str, container: str,
                change: Callable[[ContainerBroker], None] | None = None) -> None:
        """Apply ``change`` to each container replica, which then tells the account
        replica of the same index its counts (one task per replica pair)."""
        self._on_all(self._report_pairs(account, container),
                     lambda pair: self._report_pair(pair, container, change),
                     self._quorum("container") if change else 1)

    def _report_pairs(self, account: str, container: str) -> list[tuple[Location, Location | None]]:
        containers = self.cluster.write_targets("container", account, container)
        accounts = self.cluster.write_targets("account", account)
        return [(c, accounts[i] if i < len(accounts) else None) for i, c in enumerate(containers)]

    def _report_pair(self, pair: tuple[Location, Location | None], container: str,
                     change: Callable[[ContainerBroker], None] | None) -> None:
        """``change`` on one container replica, then its counts to the paired account replica."""
        c_loc, a_loc = pair
        broker = self._db(c_loc)
        if change is not None and broker.exists:
            change(broker)
        if a_loc is None:
            return
        try:
            account_broker = self._db(a_loc)
            if account_broker.exists:
                account_broker.report(container, broker.info)
        except (OSError, sqlite3.Error) as error:
            # The container replica has the change; the account's counts catch up with
            # the next report (the storage nodes' replicator reports every pass).
            LOG.warning("could not report container %s to account replica %s: %s", container, a_loc, error)

    # ------------------------------------------------------------- objects

    def object_state(self, account: str, container: str, obj: str) -> diskfile.ObjectState:
        """The newest state any replica knows (a newer tombstone hides older data)."""
        primaries, handoffs = self.cluster.read_locations("object", account, container, obj)
        best = diskfile.ObjectState()
        for location in primaries:
            state = self.nodes.client_for(location, account, container, obj).object_state(location)
            if state.timestamp > best.timestamp:
                best = state
        if best.timestamp:
            return best
        for location in handoffs:
            state = self.nodes.client_for(location, account, container, obj).object_state(location)
            if state.timestamp:
                return state
        return best

    def update_listing(self, account: str, container: str, obj: str, timestamp: str, size: int,
                       content_type: str, etag: str, deleted: bool) -> None:
        self._report(account, container,
                     lambda broker: broker.put_object(obj, timestamp, size, content_type, etag, deleted))

    async def _update_listing_async(self, account: str, container: str, obj: str, timestamp: str, size: int,
                                    content_type: str, etag: str, pairs: list, need: int | None = None) -> None:
        """List a new object in the container replicas of ``pairs`` from the loop (one
        pool task each); 503 unless ``need`` (default: a quorum) of them did."""
        loop = asyncio.get_running_loop()

        def change(broker: ContainerBroker) -> None:
            broker.put_object(obj, timestamp, size, content_type, etag, False)

        results = await asyncio.gather(
            *(loop.run_in_executor(self.pool, self._report_pair, pair, container, change) for pair in pairs),
            return_exceptions=True)
        failed = [r for r in results if isinstance(r, BaseException)]
        for error in failed:
            if not isinstance(error, (OSError, sqlite3.Error)):
                raise error
        if len(results) - len(failed) < (self._quorum("container") if need is None else need):
            raise QuorumNotReached()

    async def put_object(self, account: str, container: str, obj: str, chunks: AsyncIterator[bytes],
                         metadata: dict[str, str], timestamp: str,
                         check: Callable[[str, int], None] | None = None,
                         listing: tuple[int, str] | None = None) -> tuple[str, int]:
        """Stream ``chunks`` to every replica at once; ``(etag, size)`` once a quorum committed.

        ``check(etag, size)`` may raise to refuse the upload before anything becomes visible;
        ``listing`` overrides the size and etag the container lists (SLO manifests).
        """
        loop = asyncio.get_running_loop()
        targets = self.cluster.write_targets("object", account, container, obj)
        need = self._quorum("object")
        if len(targets) < need:
            raise QuorumNotReached()
        chunks = aiter(chunks)
        head, more = await _read_head(chunks, SMALL_BODY)
        content_type = metadata.get("Content-Type", "")
        if more:
            etag, size = await self._stream_object(targets, account, container, obj, head, chunks, metadata,
                                                   timestamp, check)
            listed_size, listed_etag = listing or (size, etag)
            await self._update_listing_async(account, container, obj, timestamp, listed_size, content_type,
                                             listed_etag, self._report_pairs(account, container))
            return etag, size
        # A small body is in memory already: one thread trip per replica writes, fsyncs
        # and places it, then (as Swift's object servers do) updates the paired
        # container replica; pairs left over are updated after.
        etag, size = hashlib.md5(head, usedforsecurity=False).hexdigest(), len(head)
        if check:
            check(etag, size)
        full = {**metadata, "X-Timestamp": timestamp, "ETag": etag, "Content-Length": str(size)}
        listed_size, listed_etag = listing or (size, etag)

        def change(broker: ContainerBroker) -> None:
            broker.put_object(obj, timestamp, listed_size, content_type, listed_etag, False)

        pairs = self._report_pairs(account, container)
        outcomes = await asyncio.gather(
            *(loop.run_in_executor(self.pool, self._write_whole, t, (account, container, obj), head, timestamp,
                                   full, pairs[i] if i < len(pairs) else None, container, change)
              for i, t in enumerate(targets)))
        if sum(written for written, _listed in outcomes) < need:
            raise QuorumNotReached()
        listed = sum(done for _written, done in outcomes)
        # A pair whose object replica failed still has its container replica updated, as
        # Swift's proxy hands that update to whichever node stands in: with only a quorum
        # listing the object, a listing read from another replica would miss it.
        rest = [pair for i, pair in enumerate(pairs) if i >= len(outcomes) or not outcomes[i][1]]
        if rest:
            await self._update_listing_async(account, container, obj, timestamp, listed_size, content_type,
                                             listed_etag, rest, max(0, self._quorum("container") - listed))
        return etag, size

    async def _stream_object(self, targets: list[Location], account: str, container: str, obj: str,
                             head: bytes, chunks: AsyncIterator[bytes], metadata: dict[str, str],
                             timestamp: str, check: Callable[[str, int], None] | None) -> tuple[str, int]:
        """A large body: every chunk to every replica in parallel, then commit on a quorum."""
        loop = asyncio.get_running_loop()
        need = self._quorum("object")
        opening = {**metadata, "X-Timestamp": timestamp}
        writers = [w for w in await asyncio.gather(
            *(loop.run_in_executor(self.pool, self._open_writer, t, account, container, obj, timestamp, opening)
              for t in targets)) if w is not None]
        md5 = hashlib.md5(usedforsecurity=False)
        size = 0
        chunk: bytes | None = head
        try:
            while chunk is not None:
                if len(writers) < need:
                    raise QuorumNotReached()
                size += len(chunk)
                # The next piece arrives from the network while this one goes to disk
                # (the writes always finish before anything else touches the writers).
                writing = asyncio.gather(loop.run_in_executor(self.pool, md5.update, chunk),
                                         *(loop.run_in_executor(self.pool, _write, w, chunk) for w in writers))
                try:
                    chunk = await _read_chunk(chunks, STREAM_CHUNK)
                finally:
                    results = await writing
                writers = [w for w, ok in zip(writers, results[1:]) if ok]
            if len(writers) < need:
                raise QuorumNotReached()
            etag = md5.hexdigest()
            if check:
                check(etag, size)
            full = {**metadata, "X-Timestamp": timestamp, "ETag": etag, "Content-Length": str(size)}
            committed = await asyncio.gather(
                *(loop.run_in_executor(self.pool, _commit, w, timestamp, full) for w in writers))
        except BaseException:
            await asyncio.gather(*(loop.run_in_executor(self.pool, w.abort) for w in writers))
            raise
        if sum(committed) < need:
            raise QuorumNotReached()
        return etag, size

    def _write_whole(self, location: Location, names: tuple[str, str, str], data: bytes, timestamp: str,
                     metadata: dict, pair: tuple[Location, Location | None] | None, container: str,
                     change: Callable[[ContainerBroker], None]) -> tuple[bool, bool]:
        """Write one replica; once it is committed, list it in ``pair``. ``(written, listed)``"""
        writer = self._open_writer(location, *names, timestamp, {**metadata})
        if writer is None or not (_write(writer, data) and _commit(writer, timestamp, metadata)):
            return False, False
        if pair is None:
            return True, False
        try:
            self._report_pair(pair, container, change)
        except (OSError, sqlite3.Error):
            return True, False
        return True, True

    def remove_object(self, account: str, container: str, obj: str, state: diskfile.ObjectState) -> None:
        """Delete an object now: tombstone every replica and drop it from the listing."""
        self.tombstone(account, container, obj, state, timestamps.now())

    def tombstone(self, account: str, container: str, obj: str, state: diskfile.ObjectState,
                  timestamp: str) -> None:
        """Tombstone every replica at ``timestamp`` and mark the listing row deleted.
        The tombstone must be newer than ``state`` (the data it hides) to win on every
        replica, so a ``timestamp`` not after the object's own is moved just past it."""
        if timestamp <= state.timestamp:
            timestamp = timestamps.normalize(float(state.timestamp) + 0.00001)
        self.write_marker(account, container, obj, timestamp, ".ts", {"X-Timestamp": timestamp})
        self.update_listing(account, container, obj, timestamp, 0, "", "", True)

    def write_marker(self, account: str, container: str, obj: str, timestamp: str, extension: str,
                     metadata: dict) -> None:
        """A tombstone (``.ts``) or a metadata update (``.meta``) on every replica."""
        targets = self.cluster.write_targets("object", account, container, obj)
        self._on_all(targets, lambda loc: self.nodes.client_for(loc, account, container, obj).write_marker(
            loc, timestamp, extension, metadata), self._quorum("object"))

    def _open_writer(self, location: Location, account: str, container: str, obj: str, timestamp: str,
                     metadata: dict) -> ReplicaWriter | None:
        try:
            return self.nodes.client_for(location, account, container, obj).open_writer(location, timestamp, metadata)
        except OSError:
            return None


async def _read_head(chunks: AsyncIterator[bytes], limit: int) -> tuple[bytes, bool]:
    """The body's first bytes, at least ``limit`` of them unless it is shorter; and
    whether more follows."""
    parts, size = [], 0
    async for chunk in chunks:
        parts.append(chunk)
        size += len(chunk)
        if size >= limit:
            return b"".join(parts), True
    return b"".join(parts), False


async def _read_chunk(chunks: AsyncIterator[bytes], size: int) -> bytes | None:
    """The next ``size`` bytes or so of the body (None at its end): the replicas are
    written in rounds of this size, not per network read, to keep thread trips few."""
    parts, total = [], 0
    async for chunk in chunks:
        parts.append(chunk)
        total += len(chunk)
        if total >= size:
            break
    return b"".join(parts) if parts else None


def _write(writer: ReplicaWriter, chunk: bytes) -> bool:
    try:
        writer.write(chunk)
        return True
    except OSError:
        writer.abort()
        return False


def _commit(writer: ReplicaWriter, timestamp: str, metadata: dict) -> bool:
    try:
        writer.commit(timestamp, metadata)
        return True
    except OSError:
        writer.abort()
        return False
