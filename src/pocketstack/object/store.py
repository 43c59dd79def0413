"""The proxy's logic: accounts, containers and objects over their ring replicas.

Every write goes to one location per replica (primaries, handoffs standing in for
absent devices) in parallel threads and succeeds when a quorum (a majority) of them
did; reads take the newest of the replicas that answer, falling back over handoffs.
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
from typing import Any

from pocketstack.common.api.errors import Conflict, ServiceUnavailable
from pocketstack.object import diskfile
from pocketstack.object.brokers import AccountBroker, ContainerBroker, db_path
from pocketstack.object.layout import Cluster, Location


def quorum(replicas: int) -> int:
    return replicas // 2 + 1


class ObjectStore:
    """``pool`` runs only leaf disk and database work; callers wait on it from other threads."""

    def __init__(self, cluster: Cluster, pool: ThreadPoolExecutor):
        self.cluster = cluster
        self.pool = pool

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
            broker = broker_cls(db_path(location.directory))
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
        self._on_all(targets, lambda loc: AccountBroker(db_path(loc.directory)).initialize(timestamp, account=account),
                     self._quorum("account"))

    def post_account(self, account: str, metadata: dict[str, str], timestamp: str) -> None:
        self.ensure_account(account, timestamp)
        targets = self.cluster.write_targets("account", account)
        self._on_all(targets, lambda loc: AccountBroker(db_path(loc.directory)).update_metadata(metadata, timestamp),
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
            broker = ContainerBroker(db_path(loc.directory))
            broker.initialize(timestamp, account=account, container=container)
            if metadata:
                broker.update_metadata(metadata, timestamp)

        self._on_all(self.cluster.write_targets("container", account, container), create, self._quorum("container"))
        self._report(account, container)
        return not existed

    def post_container(self, account: str, container: str, metadata: dict[str, str], timestamp: str) -> None:
        targets = self.cluster.write_targets("container", account, container)
        self._on_all(targets, lambda loc: ContainerBroker(db_path(loc.directory)).update_metadata(
            metadata, timestamp) if db_path(loc.directory).exists() else None, self._quorum("container"))

    def delete_container(self, account: str, container: str, timestamp: str) -> None:
        found = self.container(account, container)
        if found and found[1]["object_count"] > 0:
            raise Conflict("There was a conflict when trying to complete your request.")
        targets = self.cluster.write_targets("container", account, container)

        def delete(loc: Location):
            broker = ContainerBroker(db_path(loc.directory))
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
            broker = ContainerBroker(db_path(c_loc.directory))
            if change is not None and broker.exists:
                change(broker)
            account_broker = AccountBroker(db_path(a_loc.directory)) if a_loc else None
            if account_broker is not None and account_broker.exists:
                account_broker.report(container, broker.info)

        self._on_all(pairs, apply, self._quorum("container") if change else 1)

    # ------------------------------------------------------------- objects

    def object_state(self, account: str, container: str, obj: str) -> diskfile.ObjectState:
        """The newest state any replica knows (a newer tombstone hides older data)."""
        primaries = self.cluster.primaries("object", account, container, obj)
        best = diskfile.ObjectState()
        for index, location in enumerate(self.cluster.read_candidates("object", account, container, obj)):
            state = diskfile.read_state(location)
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
        writers = [w for w in await asyncio.gather(
            *(loop.run_in_executor(self.pool, _open_writer, t) for t in targets)) if w is not None]
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
        self._on_all(targets, lambda loc: diskfile.write_marker(loc, timestamp, extension, metadata),
                     self._quorum("object"))


def _open_writer(location: Location) -> diskfile.ObjectWriter | None:
    try:
        return diskfile.ObjectWriter(location)
    except OSError:
        return None


def _write(writer: diskfile.ObjectWriter, chunk: bytes) -> bool:
    try:
        writer.write(chunk)
        return True
    except OSError:
        writer.abort()
        return False


def _commit(writer: diskfile.ObjectWriter, timestamp: str, metadata: dict) -> bool:
    try:
        writer.commit(timestamp, metadata)
        return True
    except OSError:
        writer.abort()
        return False
