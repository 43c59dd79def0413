"""Snapshots: a point-in-time copy of a volume's data, taken by the worker.

A snapshot of an attached volume needs ``force`` (Cinder's rule: the data may be in
flight).  Creating one reserves quota (``snapshots`` and ``gigabytes``) in the same
transaction that inserts the row in ``creating``.
"""

from __future__ import annotations

import builtins
import uuid

import sqlalchemy as sa
from sqlalchemy.orm import Session

from pocketstack.common.context import RequestContext
from pocketstack.common.db.base import utcnow
from pocketstack.common.db.cas import run_in_transaction
from pocketstack.common.pagination import Paging
from pocketstack.volume import errors, listing
from pocketstack.volume import models as m
from pocketstack.volume.metadata import Items
from pocketstack.volume.states import existing, move_snapshot

# os-update_snapshot_status: the statuses a snapshot may report from each status.
UPDATE_STATUS_MAP = {"creating": ("creating", "available", "error"), "deleting": ("deleting", "error_deleting")}

class Snapshots:
    def __init__(self, db, worker, volumes, quotas, types):
        self.db = db
        self.worker = worker
        self.volumes = volumes
        self.quotas = quotas
        self.types = types
        self.items = Items(db, m.SnapshotMetadata, "snapshot_id")

    def get(self, context: RequestContext, snapshot_id: str) -> m.Snapshot:
        with self.db.session(readonly=True) as s:
            row = s.get(m.Snapshot, snapshot_id)
            if row is None or not (context.is_admin or row.project_id == context.project_id):
                raise errors.SnapshotNotFound(snapshot_id=snapshot_id)
            s.expunge(row)
            return row

    def count_for_volume(self, volume_id: str) -> int:
        with self.db.session(readonly=True) as s:
            return s.scalar(sa.select(sa.func.count()).select_from(m.Snapshot).where(
                m.Snapshot.volume_id == volume_id)) or 0

    def metadata(self, snapshot_ids: list[str]) -> dict[str, dict[str, str]]:
        return self.items.read(snapshot_ids)

    def list(self, context: RequestContext, filters: dict, paging: Paging, all_projects: bool,
             offset: int = 0) -> list[m.Snapshot]:
        return listing.page(self.db, m.Snapshot, self.conditions(context, filters, all_projects), paging, offset)

    def count(self, context: RequestContext, filters: dict, all_projects: bool) -> int:
        return listing.count(self.db, m.Snapshot, self.conditions(context, filters, all_projects))

    @staticmethod
    def conditions(context: RequestContext, filters: dict, all_projects: bool) -> builtins.list:
        conditions = []
        if not (all_projects and context.is_admin):
            conditions.append(m.Snapshot.project_id == context.project_id)
        for key in ("name", "status", "volume_id"):
            if key in filters:
                conditions.append(getattr(m.Snapshot, key) == filters[key])
        if filters.get("consumes_quota") is False:  # 3.65: every snapshot here consumes quota
            conditions.append(sa.false())
        return conditions

    def create(self, context: RequestContext, volume_id: str, name: str | None, description: str | None,
               force: bool, metadata: dict) -> m.Snapshot:
        volume = self.volumes.get(context, volume_id)
        allowed = ("available", "in-use") if force else ("available",)
        if volume.status not in allowed:
            raise errors.InvalidVolume(reason=f"Volume {volume_id} status must be available, but current status "
                                               f"is: {volume.status}.")
        vtype = self.types.get_by_id(volume.volume_type_id)
        snapshot = m.Snapshot(id=str(uuid.uuid4()), project_id=volume.project_id, user_id=context.user_id,
                              volume_id=volume_id, name=name, description=description, size=volume.size,
                              status="creating", task_started_at=utcnow())

        def work(s: Session) -> None:
            self.quotas.reserve(s, volume.project_id, vtype.name if vtype else None,
                                snapshots=1, gigabytes=volume.size)
            s.add(snapshot)
            s.flush()
            self.items.add(s, snapshot.id, metadata)
        run_in_transaction(self.db, work)
        self.worker.cast("snapshot_create", snapshot.id)
        return self.get(context, snapshot.id)

    def update(self, context: RequestContext, snapshot_id: str, values: dict) -> m.Snapshot:
        snapshot = self.get(context, snapshot_id)
        run_in_transaction(self.db, lambda s: move_snapshot(s, snapshot_id, snapshot.status, snapshot.status,
                                                            task_started_at=snapshot.task_started_at, **values))
        return self.get(context, snapshot_id)

    def set_metadata(self, context: RequestContext, snapshot_id: str, metadata: dict, replace: bool) -> dict:
        self.get(context, snapshot_id)
        return self.items.write(snapshot_id, metadata, replace)

    def delete_metadata(self, context: RequestContext, snapshot_id: str, key: str) -> None:
        self.get(context, snapshot_id)
        if not self.items.remove(snapshot_id, key):
            raise errors.SnapshotMetadataKeyNotFound(metadata_key=key, snapshot_id=snapshot_id)

    def delete(self, context: RequestContext, snapshot_id: str, force: bool = False) -> None:
        """Delete from ``available``/``error``; ``force`` (the admin's ``os-force_delete``)
        from any status."""
        self.get(context, snapshot_id)

        def work(s: Session) -> None:
            row = s.get(m.Snapshot, snapshot_id)
            if row is None:  # a racing delete finished first
                raise errors.SnapshotNotFound(snapshot_id=snapshot_id)
            if row.status == "deleting" and force:
                move_snapshot(s, snapshot_id, "deleting", "deleting")  # restart the clock; cast again
                return
            if row.status not in ("available", "error", "error_deleting") and not force:
                raise errors.InvalidSnapshot(reason=f"Volume Snapshot status must be available or error, but current "
                                                    f"status is: {row.status}.")
            if row.group_snapshot_id is not None and not force:  # it goes with its group snapshot
                raise errors.InvalidSnapshot(reason="Snapshot status must be available or error and must not be part "
                                                    "of a group.")
            in_use = s.scalar(sa.select(sa.func.count()).select_from(m.Volume).where(
                m.Volume.snapshot_id == snapshot_id, m.Volume.status == "creating"))
            if in_use:
                raise errors.InvalidSnapshot(reason=f"snapshot {snapshot_id} is being used to create a volume.")
            move_snapshot(s, snapshot_id, row.status, "deleting")
        run_in_transaction(self.db, work)
        self.worker.cast("snapshot_delete", snapshot_id)

    def update_status(self, context: RequestContext, snapshot_id: str, status: str, progress: str | None) -> None:
        """``os-update_snapshot_status``: what a driver creating or deleting the snapshot
        outside Cinder reports; Cinder allows only creating → creating/available/error and
        deleting → deleting/error_deleting (400 otherwise, in its words)."""
        self.get(context, snapshot_id)

        def work(s: Session) -> None:
            current = existing(s, m.Snapshot, snapshot_id).status
            allowed = UPDATE_STATUS_MAP.get(current)
            if allowed is None:
                raise errors.SnapshotStatusNotReportable(current=current)
            if status not in allowed:
                raise errors.SnapshotStatusNotAllowed(requested=status, current=current)
            values = {"progress": progress} if progress else {}
            move_snapshot(s, snapshot_id, current, status, **values)
        run_in_transaction(self.db, work)

    def reset_status(self, context: RequestContext, snapshot_id: str, status: str) -> None:
        self.get(context, snapshot_id)
        if status not in ("available", "error", "creating", "deleting", "error_deleting"):
            raise errors.InvalidInput(reason=f"Invalid snapshot status {status!r}.")

        def work(s: Session) -> None:
            move_snapshot(s, snapshot_id, existing(s, m.Snapshot, snapshot_id).status, status)
        run_in_transaction(self.db, work)
