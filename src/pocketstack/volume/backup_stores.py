"""Where backup chunks and manifests live: a local directory or the object store.

The backup engine (:mod:`pocketstack.volume.backup`) only names blobs (``chunk-000007``,
``manifest.json``) of a backup; a store keeps them.  :class:`ObjectChunks` is Cinder's
swift backup driver's layout: every blob is an object ``backup_<id>/<name>`` in the
backup's container (``volumebackups`` unless the request named one) of the owner's
account ``AUTH_<project_id>``, written through the object service's contract, so
it gets the ring's replicas and quorum writes -- and shows in ``openstack object list``.
:class:`DirectoryChunks` keeps them under ``<root>/<backup_id>/`` (no object service).
"""

from __future__ import annotations

import asyncio
import functools
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Protocol

if TYPE_CHECKING:
    from pocketstack.object.contract import ObjectContract

DEFAULT_CONTAINER = "volumebackups"


class ChunkMissing(Exception):
    """A blob the manifest names is not in the store (deleted behind the backup's back)."""


@dataclass(frozen=True)
class BackupRef:
    """One backup's place in a store: its id, owner's project and container."""

    id: str
    project_id: str = ""
    container: str = DEFAULT_CONTAINER

    @property
    def prefix(self) -> str:
        return f"backup_{self.id}"


class ChunkStore(Protocol):
    def put(self, ref: BackupRef, name: str, data: bytes) -> None: ...
    def get(self, ref: BackupRef, name: str) -> bytes: ...
    def delete(self, ref: BackupRef) -> None: ...


class DirectoryChunks:
    """``<root>/<backup_id>/<name>`` files; the container is not used."""

    DRIVER = "cinder.backup.drivers.posix.PosixBackupDriver"  # the name Cinder's export records

    def __init__(self, root: Path):
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)

    def put(self, ref: BackupRef, name: str, data: bytes) -> None:
        directory = self.root / ref.id
        directory.mkdir(parents=True, exist_ok=True)
        part = directory / f"{name}.part"
        part.write_bytes(data)
        part.replace(directory / name)  # a manifest is never seen half-written

    def get(self, ref: BackupRef, name: str) -> bytes:
        try:
            return (self.root / ref.id / name).read_bytes()
        except FileNotFoundError as error:
            raise ChunkMissing(f"{name} of backup {ref.id} is missing") from error

    def delete(self, ref: BackupRef) -> None:
        shutil.rmtree(self.root / ref.id, ignore_errors=True)


class ObjectChunks:
    """Objects ``backup_<id>/<name>`` in ``AUTH_<project>/<container>``.

    Called from the volume worker's threads (never the event loop): each write runs the
    store's async quorum write on a short-lived loop of the calling thread.
    """

    DRIVER = "cinder.backup.drivers.swift.SwiftBackupDriver"  # the name Cinder's export records

    def __init__(self, store: Callable[[], ObjectContract]):
        self._store = store  # looked up at first use: services are built in any order

    @property
    def store(self) -> ObjectContract:
        return self._store()

    @staticmethod
    def _account(ref: BackupRef) -> str:
        return f"AUTH_{ref.project_id}"

    def put(self, ref: BackupRef, name: str, data: bytes) -> None:
        account = self._account(ref)
        if self.store.container(account, ref.container) is None:
            self.store.put_container(account, ref.container, {}, self.store.timestamp())
        asyncio.run(self.store.put_object(account, ref.container, f"{ref.prefix}/{name}", _once(data),
                                          {"Content-Type": "application/octet-stream"}, self.store.timestamp()))

    def get(self, ref: BackupRef, name: str) -> bytes:
        state = self.store.object_state(self._account(ref), ref.container, f"{ref.prefix}/{name}")
        if not state.exists:
            raise ChunkMissing(f"object {ref.prefix}/{name} of container {ref.container} is missing")
        return b"".join(state.read(0, int(state.metadata.get("Content-Length", 0))))

    def delete(self, ref: BackupRef) -> None:
        account = self._account(ref)
        found = self.store.container(account, ref.container)
        if found is None:
            return
        broker, _info = found
        for name in self._names(broker, f"{ref.prefix}/"):
            state = self.store.object_state(account, ref.container, name)
            if state.exists:
                self.store.remove_object(account, ref.container, name, state)

    @staticmethod
    def _names(broker, prefix: str) -> list[str]:
        """Every listed object name under ``prefix`` (the listing pages through the broker)."""
        names: list[str] = []
        while page := broker.list(limit=1000, marker=names[-1] if names else "", prefix=prefix):
            names.extend(row["name"] for row in page)
        return names


class ConfiguredChunks:
    """The store ``volume_backup_store`` names, picked at first use (the cloud builds its
    services in any order): by default the object store when the cloud runs the object
    service, else ``<data_dir>/backups``."""

    def __init__(self, cloud):
        self.cloud = cloud
        if cloud.settings.volume_backup_store not in ("", "object", "directory"):
            raise ValueError(f"volume_backup_store must be 'object' or 'directory', "
                             f"not {cloud.settings.volume_backup_store!r}")

    @functools.cached_property
    def chosen(self) -> DirectoryChunks | ObjectChunks:
        cloud = self.cloud
        kind = cloud.settings.volume_backup_store or ("object" if cloud.object_store is not None else "directory")
        if kind == "object":
            return ObjectChunks(self._object_store)
        return DirectoryChunks(cloud.settings.data_dir / "backups")

    def _object_store(self) -> ObjectContract:
        store = self.cloud.object_store
        if store is None:
            raise ChunkMissing("volume_backup_store is 'object' but the object service does not run here")
        return store

    @property
    def driver(self) -> str:
        """Cinder's name of the driver whose layout the chosen store keeps (export records)."""
        return self.chosen.DRIVER

    def put(self, ref: BackupRef, name: str, data: bytes) -> None:
        self.chosen.put(ref, name, data)

    def get(self, ref: BackupRef, name: str) -> bytes:
        return self.chosen.get(ref, name)

    def delete(self, ref: BackupRef) -> None:
        self.chosen.delete(ref)


async def _once(data: bytes):
    yield data
