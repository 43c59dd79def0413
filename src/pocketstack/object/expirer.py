"""The object expirer: objects past their ``X-Delete-At`` really go away.

An expired object reads as 404 at once (:func:`expired`), but its data, its listing
row and its bytes in the container's counts stay until something deletes it.  As in
Swift, every write that sets ``X-Delete-At`` also files a queue entry: a listing row
``<delete_at>-<account>/<container>/<object>`` in a container named after the day
(``<delete_at // 86400 * 86400>``) of the hidden account ``.expiring_objects``.  The
queue is ordinary container databases, so it is replicated like any listing.

:meth:`Expirer.run_once` walks the days that have begun, and for each due entry
deletes the object -- but only if it still carries that ``X-Delete-At`` (a newer
upload or POST that changed or removed it wins): it writes a tombstone on every
replica at the expiry time and marks the listing row deleted, so replication spreads
the deletion instead of resurrecting the data, and a newer upload still wins by
timestamp.  Then the entry, and a past day's container left empty, are removed.  Stale
entries (object gone or changed) are simply dropped, so writers never need to
withdraw one.  Runs in the all-in-one service's background loop and as
``pocketstack object expirer --once``.  Blocking: call it from a thread.
"""

from __future__ import annotations

import logging
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from pocketstack.common.errors import ApiError
from pocketstack.object import timestamps
from pocketstack.object.nodes import Nodes
from pocketstack.object.rings import open_cluster
from pocketstack.object.store import ObjectStore

LOG = logging.getLogger(__name__)

QUEUE_ACCOUNT = ".expiring_objects"
DIVISOR = 86400  # one queue container per day, Swift's expiring_objects_container_divisor
BATCH = 10000    # listing page size


def expired(metadata: dict, now: float | None = None) -> bool:
    """Is an object with this metadata past its ``X-Delete-At``?"""
    delete_at = metadata.get("X-Delete-At")
    if not delete_at:
        return False
    return int(delete_at) <= (time.time() if now is None else now)


def queue_container(delete_at: int) -> str:
    return f"{delete_at // DIVISOR * DIVISOR:010d}"


def queue_entry(delete_at: int, account: str, container: str, obj: str) -> str:
    return f"{delete_at:010d}-{account}/{container}/{obj}"


def enqueue(store: ObjectStore, account: str, container: str, obj: str, metadata: dict) -> None:
    """File the queue entry for an object just written with ``X-Delete-At`` (if any)."""
    if not metadata.get("X-Delete-At"):
        return
    delete_at = int(metadata["X-Delete-At"])
    bucket = queue_container(delete_at)
    timestamp = timestamps.now()
    if store.container(QUEUE_ACCOUNT, bucket) is None:
        store.put_container(QUEUE_ACCOUNT, bucket, {}, timestamp)
    store.update_listing(QUEUE_ACCOUNT, bucket, queue_entry(delete_at, account, container, obj), timestamp,
                         0, "application/x-expiring-object", "", False)


@dataclass
class ExpirerStats:
    expired: int = 0     # objects deleted
    stale: int = 0       # entries whose object was already gone or changed
    failed: int = 0      # entries kept for the next pass
    containers_removed: int = 0


class Expirer:
    def __init__(self, store: ObjectStore):
        self.store = store

    def run_once(self, now: float | None = None) -> ExpirerStats:
        """Process every queue entry due at ``now`` (default: the current time)."""
        now = time.time() if now is None else now
        stats = ExpirerStats()
        broker, _info = self.store.account(QUEUE_ACCOUNT)
        if broker is None:
            return stats
        for row in broker.list(limit=BATCH):
            bucket = row["name"]
            if not bucket.isdigit() or int(bucket) > now:
                break
            self._process_container(bucket, now, stats)
        if stats.expired or stats.stale or stats.failed:
            LOG.info("object expirer pass: %d expired, %d stale entries dropped, %d failed",
                     stats.expired, stats.stale, stats.failed)
        return stats

    def _process_container(self, bucket: str, now: float, stats: ExpirerStats) -> None:
        found = self.store.container(QUEUE_ACCOUNT, bucket)
        if found is None:
            return
        for entry in found[0].list(limit=BATCH):
            delete_at_text, _, path = entry["name"].partition("-")
            if not delete_at_text.isdigit() or path.count("/") < 2:
                self._drop(bucket, entry["name"])
                continue
            delete_at = int(delete_at_text)
            if delete_at > now:
                break
            account, container, obj = path.split("/", 2)
            try:
                if self._expire(account, container, obj, delete_at):
                    stats.expired += 1
                else:
                    stats.stale += 1
                self._drop(bucket, entry["name"])
            except (OSError, ApiError):
                LOG.exception("could not expire /%s/%s/%s; will retry", account, container, obj)
                stats.failed += 1
        # Only a day that is over: new entries (X-Delete-At is never in the past) can no
        # longer be filed into it while it is being removed.
        info = self.store.container(QUEUE_ACCOUNT, bucket)
        if int(bucket) + DIVISOR <= now and info is not None and info[1]["object_count"] == 0:
            try:
                self.store.delete_container(QUEUE_ACCOUNT, bucket, timestamps.now())
                stats.containers_removed += 1
            except ApiError:
                pass  # an entry arrived meanwhile: the next pass sees it

    def _expire(self, account: str, container: str, obj: str, delete_at: int) -> bool:
        state = self.store.object_state(account, container, obj)
        if not state.exists or state.metadata.get("X-Delete-At") != str(delete_at):
            return False
        # The tombstone carries the expiry time, so an upload made after it still wins.
        self.store.tombstone(account, container, obj, state, timestamps.normalize(delete_at))
        LOG.debug("expired /%s/%s/%s (X-Delete-At %s)", account, container, obj, delete_at)
        return True

    def _drop(self, bucket: str, name: str) -> None:
        self.store.update_listing(QUEUE_ACCOUNT, bucket, name, timestamps.now(), 0, "", "", True)


def run(root: Path, once: bool, interval: float) -> int:
    """``pocketstack object expirer``: passes over a data directory's object store
    (safe next to a running cloud: every change is an atomic file or SQLite write)."""
    cluster = open_cluster(root)
    with ThreadPoolExecutor(max_workers=8, thread_name_prefix="object-expirer") as pool:
        nodes = Nodes()
        try:
            expirer = Expirer(ObjectStore(cluster, pool, nodes))
            while True:
                stats = expirer.run_once()
                print(f"expired {stats.expired} objects, dropped {stats.stale} stale entries, "
                      f"{stats.failed} failed, removed {stats.containers_removed} queue containers", flush=True)
                if once:
                    return 1 if stats.failed else 0
                time.sleep(interval)
        finally:
            nodes.close()
