"""The proxy's logic: accounts, containers and objects over their ring replicas.

Every write goes to one location per replica (primaries, handoffs standing in for
absent devices) in parallel threads and succeeds when a quorum (a majority) of them
did; reads take the newest of the replicas that answer, falling back over handoffs.
Object replicas are read and written through ``nodes`` (local disk or a storage node
over HTTP); account and container databases are still local to the proxy.
An object write then updates every container replica's listing, and each container
replica reports its counts to the matching account replica, as Swift's object and
container servers do.
"""

from __future__ import annotations

import asyncio
import hashlib
import sqlite3
from collections.abc import AsyncIterator, Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from pocketstack.common.api.errors import Conflict, ServiceUnavailable
from pocketstack.object import diskfile
from pocketstack.object.brokers import AccountBroker, ContainerBroker, db_path
from pocketstack.object.layout import Cluster, Location
from pocketstack.object.nodes import Nodes, ReplicaWriter


def quorum(replicas: int) -> int:
    return replicas // 2 + 1


def _db_file(location: Location) -> Path:
    """A database replica's file; databases on storage nodes are not served yet, so a
    ring sending one there fails that replica (``OSError``) instead of writing here."""
    if location.node is not None:
        raise OSError(f"account/container databases on storage node {location.node} are not supported")
    return db_path(location.directory)


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
            raise ServiceUnavailable("Service Unavailable")
        return results

    def _first_db(self, kind: str, broker_cls, *names: str):
        """``(broker, info)`` of the first replica holding the database: primaries, then handoffs."""
        for location in self.cluster.read_candidates(kind, *names):
            if location.node is not None:
                continue
            broker = broker_cls(_db_file(location))
            info = broker.info()
            if info is not None:
                return broker, info
        return None

    # ------------------------------------------------------------ accounts

    def account(self, account: str) -> tuple[AccountBroker | None, dict]:
        """An account's broker and info; a missing account reads as an empty one."""
        found = self._first_db("account", AccountBroker, account)
        if found is None or found[1]["deleted"]:
            return None, {"metadata": {}, "created_at": None, "container_count": 0, "object_count": 0,
                          "bytes_used": 0}
        broker, info = found
        return broker, {**info, **broker.totals()}

    def ensure_account(self, account: str, timestamp: str) -> None:
        targets = self.cluster.write_targets("account", account)
        self._on_all(targets, lambda loc: AccountBroker(_db_file(loc)).initialize(timestamp, account=account),
                     self._quorum("account"))

    def post_account(self, account: str, metadata: dict[str, str], timestamp: str) -> None:
        self.ensure_account(account, timestamp)
        targets = self.cluster.write_targets("account", account)
        self._on_all(targets, lambda loc: AccountBroker(_db_file(loc)).update_metadata(metadata, timestamp),
                     self._quorum("account"))

    # ---------------------------------------------------------- containers

    def container(self, account: str, container: str) -> tuple[ContainerBroker, dict] | None:
        found = self._first_db("container", ContainerBroker, account, container)
        if found is None or found[1]["deleted"]:
            return None
        return found

    def put_container(self, account: str, container: str, metadata: dict[str, str], timestamp: str) -> bool:
        """Create (or re-create) a container; True when it did not exist before."""
        existed = self.container(account, container) is not None
        self.ensure_account(account, timestamp)

        def create(loc: Location):
            broker = ContainerBroker(_db_file(loc))
            broker.initialize(timestamp, account=account, container=container)
            if metadata:
                broker.update_metadata(metadata, timestamp)

        self._on_all(self.cluster.write_targets("container", account, container), create, self._quorum("container"))
        self._report(account, container)
        return not existed

    def post_container(self, account: str, container: str, metadata: dict[str, str], timestamp: str) -> None:
        targets = self.cluster.write_targets("container", account, container)
        self._on_all(targets, lambda loc: ContainerBroker(_db_file(loc)).update_metadata(
            metadata, timestamp) if _db_file(loc).exists() else None, self._quorum("container"))

    def delete_container(self, account: str, container: str, timestamp: str) -> None:
        found = self.container(account, container)
        if found and found[1]["object_count"] > 0:
            raise Conflict("There was a conflict when trying to complete your request.")
        targets = self.cluster.write_targets("container", account, container)

        def delete(loc: Location):
            broker = ContainerBroker(_db_file(loc))
            if broker.exists:
                broker.mark_deleted(timestamp)

        self._on_all(targets, delete, self._quorum("container"))
        self._report(account, container)

    def _report(self, account: str, container: str,
                change: Callable[[ContainerBroker], None] | None = None) -> None:
        """Apply ``change`` to each container replica, which then tells the account
        replica of the same index its counts (one task per replica pair)."""
        containers = self.cluster.write_targets("container", account, container)
        accounts = self.cluster.write_targets("account", account)
        pairs = [(c, accounts[i] if i < len(accounts) else None) for i, c in enumerate(containers)]

        def apply(pair: tuple[Location, Location | None]):
            c_loc, a_loc = pair
            broker = ContainerBroker(_db_file(c_loc))
            if change is not None and broker.exists:
                change(broker)
            account_broker = AccountBroker(_db_file(a_loc)) if a_loc else None
            if account_broker is not None and account_broker.exists:
                account_broker.report(container, broker.info)

        self._on_all(pairs, apply, self._quorum("container") if change else 1)

    # ------------------------------------------------------------- objects

    def object_state(self, account: str, container: str, obj: str) -> diskfile.ObjectState:
        """The newest state any replica knows (a newer tombstone hides older data)."""
        primaries = self.cluster.primaries("object", account, container, obj)
        best = diskfile.ObjectState()
        for index, location in enumerate(self.cluster.read_candidates("object", account, container, obj)):
            state = self.nodes.client_for(location, account, container, obj).object_state(location)
            if state.timestamp > best.timestamp:
                best = state
            if best.timestamp and index >= len(primaries) - 1:
                break
        return best

    def update_listing(self, account: str, container: str, obj: str, timestamp: str, size: int,
                       content_type: str, etag: str, deleted: bool) -> None:
        self._report(account, container,
                     lambda broker: broker.put_object(obj, timestamp, size, content_type, etag, deleted))

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
        opening = {**metadata, "X-Timestamp": timestamp}
        writers = [w for w in await asyncio.gather(
            *(loop.run_in_executor(self.pool, self._open_writer, t, account, container, obj, timestamp, opening)
              for t in targets)) if w is not None]
        md5 = hashlib.md5(usedforsecurity=False)
        size = 0
        try:
            if len(writers) < need:
                raise ServiceUnavailable("Service Unavailable")
            async for chunk in chunks:
                if not chunk:
                    continue
                size += len(chunk)
                results = await asyncio.gather(
                    loop.run_in_executor(self.pool, md5.update, chunk),
                    *(loop.run_in_executor(self.pool, _write, w, chunk) for w in writers))
                writers = [w for w, ok in zip(writers, results[1:]) if ok]
                if len(writers) < need:
                    raise ServiceUnavailable("Service Unavailable")
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
            raise ServiceUnavailable("Service Unavailable")
        listed_size, listed_etag = listing or (size, etag)
        # Not on self.pool: update_listing fans out to the pool itself, and a pool
        # thread waiting on its own pool could starve it.
        await asyncio.to_thread(lambda: self.update_listing(
            account, container, obj, timestamp, listed_size, metadata.get("Content-Type", ""), listed_etag, False))
        return etag, size

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
