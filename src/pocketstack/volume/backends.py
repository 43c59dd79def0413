"""Several named file backends (Cinder's ``enabled_backends``), and where each volume's data is.

Each backend is the host ``pocketstack@<name>#<name>`` (host, backend, pool, as Cinder
writes them): its own directory and its own capabilities, ``volume_backend_name`` being
its name.  A volume's ``host`` column says which backend holds its file; a snapshot lives
on its volume's backend (a volume with snapshots never migrates, as in Cinder).

:class:`VolumeData` is what the worker, recovery and backups call to reach a volume's or a
snapshot's data: it finds the backend from the database, so none of them need to know
there is more than one.  The scheduler's choice is :meth:`Backends.schedule`: the
backends whose capabilities the volume type's extra specs match, the one with the most
free space first (Cinder's capacity weigher).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa

from pocketstack.volume import models as m
from pocketstack.volume.drivers.base import Capabilities
from pocketstack.volume.drivers.file import FileDriver

HOST = "pocketstack"
NAME = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


@dataclass(frozen=True)
class Backend:
    name: str
    driver: FileDriver

    @property
    def service_host(self) -> str:
        """The cinder-volume service's host (``host@backend``)."""
        return f"{HOST}@{self.name}"

    @property
    def host(self) -> str:
        """A volume's host on this backend's one pool (``host@backend#pool``)."""
        return f"{self.service_host}#{self.name}"


def directory(data_dir: Path, name: str) -> Path:
    """``volumes`` for the backend ``file`` (where the one backend always kept its data),
    ``volumes-<name>`` for any other."""
    return data_dir / ("volumes" if name == "file" else f"volumes-{name}")


class Backends:
    def __init__(self, db, data_dir: Path, names: list[str], capacity_gb: int):
        bad = [n for n in names if not NAME.match(n)]
        if bad or not names:
            raise ValueError(f"volume_backends: names are letters, digits, '_' and '-' (got {names!r})")
        self.db = db
        self.all = [Backend(n, FileDriver(directory(data_dir, n), capacity_gb, n)) for n in names]

    def by_host(self, host: str | None) -> Backend | None:
        """The backend a host names: ``host@backend`` or ``host@backend#pool`` (its pool)."""
        if not host:
            return None
        for backend in self.all:
            if host in (backend.service_host, backend.host):
                return backend
        return None

    def capabilities(self, backend: Backend) -> Capabilities:
        """What ``backend`` offers now (its free space counts the volumes it holds)."""
        with self.db.session(readonly=True) as s:
            allocated = s.scalar(sa.select(sa.func.coalesce(sa.func.sum(m.Volume.size), 0))
                                 .where(m.Volume.host == backend.host)) or 0
        return backend.driver.capabilities(int(allocated))

    def serving(self, extra_specs: dict | None) -> list[Backend]:
        """The backends a volume type's extra specs let the scheduler pick, the most free
        space first (ties: in the configured order)."""
        offers = [(b, self.capabilities(b)) for b in self.all]
        fit = [(b, c) for b, c in offers if c.serves(extra_specs or {})]
        return [b for b, _ in sorted(fit, key=lambda bc: -bc[1].free_capacity_gb)]

    def serves(self, extra_specs: dict | None) -> bool:
        return bool(self.serving(extra_specs))

    def schedule(self, extra_specs: dict | None, source_host: str | None = None) -> Backend | None:
        """Where a new volume goes: with a source (a snapshot's or a cloned volume's
        host) its backend, if the type allows it (Cinder's ``snapshot_same_host``), else
        none; without, the best serving backend."""
        serving = self.serving(extra_specs)
        if source_host is not None:
            source = self.by_host(source_host)
            return source if source in serving else None
        return serving[0] if serving else None


class VolumeData:
    """The data of volumes and snapshots wherever their backend keeps it, for the callers
    that address them by id only (worker, recovery, backups, connection info)."""

    def __init__(self, backends: Backends):
        self.backends = backends

    def of_volume(self, volume_id: str) -> FileDriver | None:
        with self.backends.db.session(readonly=True) as s:
            host = s.scalar(sa.select(m.Volume.host).where(m.Volume.id == volume_id))
        backend = self.backends.by_host(host)
        return backend.driver if backend is not None else None

    def of_snapshot(self, snapshot_id: str) -> FileDriver | None:
        with self.backends.db.session(readonly=True) as s:
            host = s.scalar(sa.select(m.Volume.host).join(m.Snapshot, m.Snapshot.volume_id == m.Volume.id)
                            .where(m.Snapshot.id == snapshot_id))
        backend = self.backends.by_host(host)
        return backend.driver if backend is not None else None

    def _volume(self, volume_id: str) -> FileDriver:
        driver = self.of_volume(volume_id)
        if driver is None:
            raise LookupError(f"volume {volume_id} is on no backend")
        return driver

    def _snapshot(self, snapshot_id: str) -> FileDriver:
        driver = self.of_snapshot(snapshot_id)
        if driver is None:
            raise LookupError(f"snapshot {snapshot_id} is on no backend")
        return driver

    def create_volume(self, volume_id: str, size_gb: int) -> None:
        self._volume(volume_id).create_volume(volume_id, size_gb)

    def delete_volume(self, volume_id: str) -> None:
        """A volume on no backend (its scheduling failed) has no data to remove."""
        driver = self.of_volume(volume_id)
        if driver is not None:
            driver.delete_volume(volume_id)

    def extend_volume(self, volume_id: str, size_gb: int) -> None:
        self._volume(volume_id).extend_volume(volume_id, size_gb)

    def clone_volume(self, source_id: str, volume_id: str, size_gb: int) -> None:
        self._volume(volume_id).copy_in(self._volume(source_id).path(source_id), volume_id, size_gb)

    def create_snapshot(self, volume_id: str, snapshot_id: str) -> None:
        self._volume(volume_id).create_snapshot(volume_id, snapshot_id)

    def delete_snapshot(self, snapshot_id: str) -> None:
        driver = self.of_snapshot(snapshot_id)
        if driver is not None:
            driver.delete_snapshot(snapshot_id)

    def volume_from_snapshot(self, snapshot_id: str, volume_id: str, size_gb: int) -> None:
        source = self._snapshot(snapshot_id).snapshot_path(snapshot_id)
        self._volume(volume_id).copy_in(source, volume_id, size_gb)

    def write_image(self, volume_id: str, chunks: Iterable[bytes], disk_format: str, size_gb: int) -> None:
        self._volume(volume_id).write_image(volume_id, chunks, disk_format, size_gb)

    def read_volume(self, volume_id: str, chunk_size: int) -> Iterator[bytes]:
        return self._volume(volume_id).read_volume(volume_id, chunk_size)

    def local_path(self, volume_id: str) -> Path:
        return self._volume(volume_id).local_path(volume_id)

    def snapshot_local_path(self, snapshot_id: str) -> Path:
        return self._snapshot(snapshot_id).snapshot_local_path(snapshot_id)
