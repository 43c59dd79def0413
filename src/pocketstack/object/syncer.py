"""The container syncer (Swift's swift-container-sync): sends each change of a container
that has ``X-Container-Sync-To`` and ``X-Container-Sync-Key`` to the remote container.

Every pass walks the container databases on this node's devices (each container once,
whichever replica is found first) and, for each syncing container, the listing rows
newer than its *sync point*: a live row becomes a PUT of the object -- its body,
metadata and original ``X-Timestamp`` -- and a deleted one a DELETE, both authorized
by the container's sync key (signed with the realm's key for a ``//realm/cluster/...``
target, sent as ``X-Container-Sync-Key`` for a full URL; ``api/containersync.py`` is
the receiving end).  A 409 (the remote has something newer) or the 404 of a DELETE
counts as done.  The sync point -- the timestamp of the newest row sent -- is kept in
the container's system metadata with the target it applies to, so a new target starts
from the beginning; a failure stops the container's pass there, to be retried next
time.  Rows are taken in timestamp order, so a row that arrives late with an older
timestamp (by replication) than the point is not sent; Swift's row-id sync points
avoid that.  Static large object manifests are not synced (Swift sends the manifest
as is, which needs the remote's SLO override); they are skipped and logged.
"""

from __future__ import annotations

import json
import logging
import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import quote, urlparse

from pocketstack.object import timestamps
from pocketstack.object.brokers import ContainerBroker, db_path
from pocketstack.object.diskfile import ObjectState
from pocketstack.object.layout import DATA_DIRS, Cluster
from pocketstack.object.store import ObjectStore
from pocketstack.object.syncrealms import InvalidSyncTo, SyncConfig, Target, resolve, signature

if TYPE_CHECKING:
    import httpx

LOG = logging.getLogger(__name__)
POINT = "X-Container-Sysmeta-Sync-Point"
# Object headers a synced PUT carries besides X-Object-Meta-*.
CARRIED = ("Content-Type", "Content-Disposition", "Content-Encoding", "X-Object-Manifest", "X-Delete-At")
TIMEOUT = 30.0


@dataclass
class SyncStats:
    containers: int = 0
    puts: int = 0
    deletes: int = 0
    skipped: int = 0
    failures: int = 0


def sync_point(metadata: dict, sync_to: str) -> str:
    """The timestamp of the newest row sent to ``sync_to`` ("" when none was)."""
    stored = metadata.get(POINT, [""])[0]
    point, _, target = stored.partition(" ")
    return point if target == sync_to else ""


class ContainerSyncer:
    """One node's syncer: the containers on ``cluster``'s local devices, read and
    written through ``store``; ``client``: what sends the requests (a new HTTP client
    every pass by default)."""

    def __init__(self, cluster: Cluster, store: ObjectStore, config: SyncConfig, client: httpx.Client | None = None):
        self.cluster, self.store, self.config = cluster, store, config
        self.client = client

    def run_once(self) -> SyncStats:
        import httpx  # on first use: not at every start

        stats = SyncStats()
        client = self.client or httpx.Client(timeout=TIMEOUT)
        try:
            for account, container in self._containers():
                self._sync_container(client, account, container, stats)
        finally:
            if client is not self.client:
                client.close()
        return stats

    def _containers(self) -> Iterator[tuple[str, str]]:
        """``(account, container)`` of every live container database here, each once."""
        seen = set()
        for device in self.cluster.local_devices():
            base = device / DATA_DIRS["container"]
            for path in _databases(base):
                try:
                    info = ContainerBroker(path).info()
                except Exception:  # a database being replaced under us: next pass
                    continue
                if info is None or info["deleted"]:
                    continue
                names = json.loads(info["name"])
                key = (names.get("account", ""), names.get("container", ""))
                if all(key) and key not in seen:
                    seen.add(key)
                    yield key

    def _sync_container(self, client: httpx.Client, account: str, container: str, stats: SyncStats) -> None:
        found = self.store.container(account, container)
        if found is None:
            return
        broker, info = found
        meta = info["metadata"]
        sync_to = meta.get("X-Container-Sync-To", [""])[0]
        key = meta.get("X-Container-Sync-Key", [""])[0]
        if not sync_to or not key:
            return
        try:
            target = resolve(sync_to, self.config)
        except InvalidSyncTo as error:
            LOG.warning("container %s/%s: cannot sync to %r: %s", account, container, sync_to, error.message)
            return
        if target is None:
            return
        stats.containers += 1
        point = sync_point(meta, sync_to)
        rows = sorted((r for r in broker.all_rows() if r["created_at"] > point), key=lambda r: r["created_at"])
        for row in rows:
            if not self._send(client, target, key, (account, container, row["name"]), row, stats):
                stats.failures += 1
                break
            self.store.post_container(account, container, {POINT: f"{row['created_at']} {sync_to}"},
                                      timestamps.now())

    def _send(self, client: httpx.Client, target: Target, key: str, names: tuple[str, str, str], row: dict,
              stats: SyncStats) -> bool:
        """One row to the remote container; True when it is there (or something newer is)."""
        url = f"{target.url}/{quote(names[2])}"
        if row["deleted"]:
            response = self._request(client, "DELETE", url, target, key, row["created_at"], {}, b"")
            stats.deletes += 1
            return response is not None and (response.is_success or response.status_code in (404, 409))
        state = self.store.object_state(*names)
        if not state.exists:
            return True  # deleted since: its tombstone's row comes later
        if state.metadata.get("X-Static-Large-Object"):
            LOG.warning("container sync skips the static large object manifest %s", "/".join(names))
            stats.skipped += 1
            return True
        response = self._request(client, "PUT", url, target, key, state.timestamp, _object_headers(state),
                                 _body(state))
        stats.puts += 1
        return response is not None and (response.is_success or response.status_code == 409)

    def _request(self, client: httpx.Client, method: str, url: str, target: Target, key: str, timestamp: str,
                 headers: dict[str, str], content) -> httpx.Response | None:
        headers = {**headers, "X-Timestamp": timestamp}
        if target.realm is not None and target.realm_key is not None:
            nonce = uuid.uuid4().hex
            sig = signature(method, urlparse(url).path, timestamp, nonce, target.realm_key, key)
            headers["X-Container-Sync-Auth"] = f"{target.realm} {nonce} {sig}"
        else:
            headers["X-Container-Sync-Key"] = key
        import httpx

        try:
            response = client.request(method, url, headers=headers, content=content)
        except httpx.HTTPError as error:
            LOG.warning("container sync %s %s failed: %s", method, url, error)
            return None
        if not (response.is_success or response.status_code in (404, 409)):
            LOG.warning("container sync %s %s: %s %s", method, url, response.status_code, response.text[:200])
        return response


def _databases(base: Path) -> Iterator[Path]:
    """Every database file below a device's containers directory."""
    if not base.is_dir():
        return
    for part in os.listdir(base):
        for suffix in _listdir(base / part):
            for name_hash in _listdir(base / part / suffix):
                path = db_path(base / part / suffix / name_hash)
                if path.exists():
                    yield path


def _listdir(path: Path) -> list[str]:
    try:
        return os.listdir(path)
    except (NotADirectoryError, FileNotFoundError):
        return []


def _object_headers(state: ObjectState) -> dict[str, str]:
    """What a synced PUT says of the object: its metadata, type, etag and a symlink's target."""
    from pocketstack.object.api import symlinks  # the API's package: not imported at start

    meta = state.metadata
    headers = {k: v for k, v in meta.items() if k.lower().startswith("x-object-meta-") or k in CARRIED}
    headers["Etag"] = meta.get("ETag", "")
    if symlinks.is_link(meta):
        headers.update(symlinks.client_headers(meta))
        headers.pop("Etag")
    headers["Content-Length"] = meta.get("Content-Length", "0")
    return headers


def _body(state: ObjectState) -> Iterator[bytes]:
    return state.read(0, int(state.metadata.get("Content-Length", "0")))
