"""Manage and unmanage: adopting a backend's files as volumes and snapshots, and letting
volumes and snapshots go while their data stays (Cinder's ``os-volume-manage`` /
``manageable_volumes``, ``os-snapshot-manage`` / ``manageable_snapshots``, ``os-unmanage``).

A reference names a file of one backend's directory, ``{"source-name": "<file name>"}``
(as Cinder's LVM driver names a logical volume of its group).  It must be a plain name
of a regular file directly in that directory: a path separator, ``.``/``..``, a symbolic
link or anything but a regular file is refused (400), so no reference reaches outside the
backend.  The file of a managed volume or snapshot is never adopted twice.  An adopted
file is renamed to its new volume's or snapshot's name (as LVM renames the logical
volume) before the row is written, and renamed back if the row cannot be: a crash in
between leaves an unmanaged file, still listed as manageable, never lost data.  Its size
is rounded up to whole GiB (the file grown to it).  Unmanaging removes the row (worker:
``unmanage`` / ``snapshot_unmanage``, the quota released) and leaves the file.
"""

from __future__ import annotations

import math
import os
import stat
import uuid
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from pocketstack.common.context import RequestContext
from pocketstack.common.db.cas import run_in_transaction
from pocketstack.volume import errors, zones
from pocketstack.volume import models as m
from pocketstack.volume.backends import Backend
from pocketstack.volume.drivers.base import GiB
from pocketstack.volume.metadata import Items
from pocketstack.volume.states import DELETABLE, existing, move, move_snapshot

SNAPSHOT_PREFIX = "snapshot-"
VOLUME_PREFIX = "volume-"
NOT_SAFE_TO_UNMANAGE = ("Volume status must be available or error or error_restoring or error_extending or "
                        "error_managing and must not be migrating, attached, belong to a group, have snapshots, "
                        "awaiting a transfer, or be disassociated from snapshots after volume transfer.")


def reference_name(ref: Any) -> str:
    """The file name a reference gives (``source-name``), or Cinder's 400."""
    if not isinstance(ref, dict) or not isinstance(ref.get("source-name"), str):
        raise errors.ManageExistingInvalidReference(existing_ref=ref, reason="Reference must contain source-name.")
    name = ref["source-name"]
    if not name or name in (".", "..") or "/" in name or "\0" in name or name.endswith(".part"):
        raise errors.ManageExistingInvalidReference(existing_ref=ref, reason="not a file of the backend")
    return name


def regular_file(backend: Backend, name: str, ref: Any) -> os.stat_result:
    """The ``lstat`` of a plain file directly in the backend's directory (400 otherwise)."""
    try:
        info = (backend.driver.root / name).lstat()
    except OSError:
        raise errors.ManageExistingInvalidReference(existing_ref=ref, reason="no such file on the backend") from None
    if not stat.S_ISREG(info.st_mode):
        raise errors.ManageExistingInvalidReference(existing_ref=ref, reason="not a regular file")
    return info


def size_gb(info: os.stat_result) -> int:
    return max(1, math.ceil(info.st_size / GiB))


class Manage:
    def __init__(self, db, worker, volumes, snapshots, types, quotas):
        self.db = db
        self.worker = worker
        self.backends = worker.backends
        self.volumes = volumes
        self.snapshots = snapshots
        self.types = types
        self.quotas = quotas
        self.volume_items = Items(db, m.VolumeMetadata, "volume_id")
        self.snapshot_items = Items(db, m.SnapshotMetadata, "snapshot_id")
        worker.handlers.update(unmanage=self.forget_volume, snapshot_unmanage=self.forget_snapshot)

    # -- what is managed ---------------------------------------------------------------
    def _managed(self, model, name: str, prefix: str) -> str | None:
        """The id of the volume or snapshot whose file ``name`` is, if it is one."""
        if not name.startswith(prefix):
            return None
        with self.db.session(readonly=True) as s:
            return s.scalar(sa.select(model.id).where(model.id == name[len(prefix):]))

    def _adoptable(self, backend: Backend, ref: Any) -> tuple[str, os.stat_result]:
        name = reference_name(ref)
        info = regular_file(backend, name, ref)
        if self._managed(m.Volume, name, VOLUME_PREFIX) or self._managed(m.Snapshot, name, SNAPSHOT_PREFIX):
            raise errors.InvalidVolume(reason="Unable to manage existing volume. The volume is already managed")
        return name, info

    def backend(self, host: str | None, cluster: str | None) -> Backend:
        """Cinder's ``get_cluster_host`` then its service lookup (no clusters here).  An
        unknown host is a 404 (Cinder's manage answers 503 there; bad input is never a 5xx here)."""
        if cluster:
            raise errors.HostNotFound(host=cluster)
        backend = self.backends.by_host(host)
        if backend is None:
            raise errors.HostNotFound(host=host)
        return backend

    # -- manage ------------------------------------------------------------------------
    def manage_volume(self, context: RequestContext, spec: dict) -> m.Volume:
        backend = self.backend(spec.get("host"), spec.get("cluster"))
        requested = spec.get("volume_type")
        try:
            vtype = self.types.resolve(context, requested)
        except errors.NotFound:
            raise errors.InvalidVolumeType(reason=f"Cannot find requested '{requested}' volume type") from None
        with self.db.session(readonly=True) as s:
            if s.get(m.VolumeTypeEncryption, vtype.id) is not None:
                raise errors.InvalidVolumeType(reason="Managing to an encrypted volume type is not supported.")
        if not self.backends.capabilities(backend).serves(vtype.extra_specs or {}):
            raise errors.InvalidVolumeType(reason=f"No valid backend was found for volume type {vtype.name}.")
        zone = zones.volume_zone(spec.get("availability_zone"), vtype)
        name, info = self._adoptable(backend, spec["ref"])
        size = size_gb(info)
        volume = m.Volume(id=str(uuid.uuid4()), project_id=context.project_id, user_id=context.user_id,
                          name=(spec.get("name") or "").strip() or None,
                          description=(spec.get("description") or "").strip() or None, size=size,
                          status="available", multiattach=self.types.is_multiattach(vtype),
                          volume_type_id=vtype.id, availability_zone=zone, host=backend.host,
                          bootable=bool(spec.get("bootable")))
        metadata = spec.get("metadata") or {}

        def work(s: Session) -> None:
            self.quotas.reserve(s, context.project_id, vtype.name, volumes=1, gigabytes=size)
            s.add(volume)
            s.flush()
            self.volume_items.add(s, volume.id, metadata)
        self._adopt(backend.driver.root / name, backend.driver.path(volume.id), size, work)
        return self.volumes.get(context, volume.id)

    def manage_snapshot(self, context: RequestContext, volume: m.Volume, spec: dict) -> m.Snapshot:
        backend = self.backends.by_host(volume.host)
        if backend is None:
            raise errors.HostNotFound(host=volume.host)
        if volume.status not in ("available", "in-use"):
            raise errors.InvalidVolume(reason=f"Volume {volume.id} status must be available or in-use, "
                                              f"but current status is: {volume.status}.")
        name, info = self._adoptable(backend, spec["ref"])
        size = size_gb(info)
        vtype = self.types.get_by_id(volume.volume_type_id)
        snapshot = m.Snapshot(id=str(uuid.uuid4()), project_id=context.project_id, user_id=context.user_id,
                              volume_id=volume.id, name=spec.get("name"), description=spec.get("description"),
                              size=size, status="available")
        metadata = spec.get("metadata") or {}

        def work(s: Session) -> None:
            existing(s, m.Volume, volume.id)
            self.quotas.reserve(s, context.project_id, vtype.name if vtype else None, snapshots=1, gigabytes=size)
            s.add(snapshot)
            s.flush()
            self.snapshot_items.add(s, snapshot.id, metadata)
        self._adopt(backend.driver.root / name, backend.driver.snapshot_path(snapshot.id), size, work)
        return self.snapshots.get(context, snapshot.id)

    def _adopt(self, source: Path, target: Path, size: int, record) -> None:
        """Rename the file to its new name, grown to whole GiB, then write its row; the
        rename undone if the row cannot be written."""
        try:
            source.rename(target)
        except FileNotFoundError:  # a concurrent manage took it first
            raise errors.ManageExistingInvalidReference(existing_ref={"source-name": source.name},
                                                        reason="no such file on the backend") from None
        try:
            with open(target, "r+b") as fh:
                fh.truncate(max(size * GiB, os.fstat(fh.fileno()).st_size))
            run_in_transaction(self.db, record)
        except BaseException:
            target.rename(source)
            raise

    # -- unmanage ----------------------------------------------------------------------
    def unmanage_volume(self, context: RequestContext, volume_id: str) -> None:
        self.volumes.get(context, volume_id)

        def work(s: Session) -> None:
            row = existing(s, m.Volume, volume_id)
            snapshots = s.scalar(sa.select(sa.func.count()).select_from(m.Snapshot)
                                 .where(m.Snapshot.volume_id == volume_id))
            if (row.status not in DELETABLE or row.attach_count or row.group_id is not None or snapshots
                    or row.migration_status == "migrating"):
                raise errors.InvalidVolume(reason=NOT_SAFE_TO_UNMANAGE)
            move(s, volume_id, row.status, "unmanaging", extra_where={"attach_count": 0})
        run_in_transaction(self.db, work)
        self.worker.cast("unmanage", volume_id)

    def unmanage_snapshot(self, context: RequestContext, snapshot_id: str) -> None:
        self.snapshots.get(context, snapshot_id)

        def work(s: Session) -> None:
            row = existing(s, m.Snapshot, snapshot_id)
            if row.status not in ("available", "error") or row.group_snapshot_id is not None:
                raise errors.InvalidSnapshot(reason="Volume Snapshot status must be available or error, but "
                                                    f"current status is: {row.status}.")
            move_snapshot(s, snapshot_id, row.status, "unmanaging")
        run_in_transaction(self.db, work)
        self.worker.cast("snapshot_unmanage", snapshot_id)

    def forget_volume(self, volume_id: str) -> None:
        """The worker's part of ``os-unmanage``: the row goes, the file stays."""
        volume = self.worker.load(volume_id, "unmanaging")
        if volume is not None:
            self.worker.remove_volume_row(volume, "unmanaging")

    def forget_snapshot(self, snapshot_id: str) -> None:
        snapshot = self.worker.load_snapshot(snapshot_id, "unmanaging")
        if snapshot is not None:
            self.worker.remove_snapshot(snapshot, "unmanaging")

    # -- manageable listings -------------------------------------------------------------
    def manageable(self, host: str | None, cluster: str | None, snapshots: bool) -> list[dict]:
        """Every file of the backend a manage request could name (volumes: files not named
        as snapshots; snapshots: ``snapshot-*``), each with whether it is safe to manage."""
        backend = self.backend(host, cluster)
        entries = []
        for path in sorted(backend.driver.root.iterdir()):
            name = path.name
            if name.endswith(".part") or name.startswith(".") or name.startswith(SNAPSHOT_PREFIX) != snapshots:
                continue
            info = path.lstat()
            if not stat.S_ISREG(info.st_mode):
                continue
            entries.append(self._entry(name, info, snapshots))
        return entries

    def _entry(self, name: str, info: os.stat_result, snapshots: bool) -> dict[str, Any]:
        model, prefix = (m.Snapshot, SNAPSHOT_PREFIX) if snapshots else (m.Volume, VOLUME_PREFIX)
        cinder_id = self._managed(model, name, prefix)
        entry: dict[str, Any] = {
            "reference": {"source-name": name}, "size": size_gb(info), "safe_to_manage": cinder_id is None,
            "reason_not_safe": "already managed" if cinder_id else None, "cinder_id": cinder_id, "extra_info": None}
        if snapshots:
            with self.db.session(readonly=True) as s:
                parent = s.scalar(sa.select(m.Snapshot.volume_id).where(m.Snapshot.id == cinder_id)) \
                    if cinder_id else None
            entry["source_reference"] = {"source-name": f"{VOLUME_PREFIX}{parent}"} if parent else None
        return entry
