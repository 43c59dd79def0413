"""Backups: requests (create, restore, delete) and the worker operations that run them.

Create moves the volume ``available``/``in-use`` → ``backing-up`` and inserts the backup in
``creating`` in one transaction (with ``backups``/``backup_gigabytes`` quota); the worker
runs :class:`~pocketstack.volume.backup.BackupStore` in its thread and moves both back.
Restore targets an existing ``available`` volume or a new one created directly in
``restoring-backup``; the backup is ``restoring`` meanwhile.  A backup with incremental
children cannot be deleted (their unchanged chunks live in it).  The blobs live in the
backup's ``container`` (Cinder's ``volumebackups`` by default) of the owner's account.
"""

from __future__ import annotations

import base64
import binascii
import builtins
import json
import logging
import uuid
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, cast

import sqlalchemy as sa
from sqlalchemy.orm import Session

from pocketstack.common.context import RequestContext
from pocketstack.common.db.base import utcnow
from pocketstack.common.db.cas import ConcurrentUpdate, cas_update, run_in_transaction
from pocketstack.common.pagination import Paging, apply_paging
from pocketstack.volume import errors, listing, messages, zones
from pocketstack.volume import models as m
from pocketstack.volume.backup import BackupStore
from pocketstack.volume.backup_stores import DEFAULT_CONTAINER, BackupRef
from pocketstack.volume.states import existing, move, move_snapshot, rowcount
from pocketstack.volume.worker import Claim, claim_row, load_if

if TYPE_CHECKING:
    from pocketstack.volume.volumes import References

LOG = logging.getLogger(__name__)
# The availability zone of the one cinder-backup service (the services list's), and what a
# backup asked for elsewhere fails with (Cinder's scheduler).
BACKUP_ZONE = zones.ZONE
NO_BACKUP_SERVICE = "Service not found for creating backup."


# Cinder's volume_id of an imported backup, which has no volume here.
IMPORT_VOLUME_ID = "00000000-0000-0000-0000-000000000000"
# What an exported record must carry to be imported (Cinder's required_import_options).
IMPORT_REQUIRED = ("display_name", "display_description", "container", "size", "service_metadata", "object_count",
                   "id")


def ref(backup: m.Backup) -> BackupRef:
    """Where the store keeps ``backup``'s blobs (an imported backup's are its record's)."""
    return BackupRef(backup.data_id or backup.id, backup.data_project_id or backup.project_id, backup.container)


def decode_record(backup_url: str) -> dict:
    """Cinder's ``decode_record``: base64 of a JSON object."""
    try:
        record = json.loads(base64.b64decode(backup_url, validate=True))
    except (binascii.Error, ValueError):
        raise errors.BackupRecordUnparsable() from None
    if not isinstance(record, dict):
        raise errors.BackupRecordUnparsable()
    return record


def move_backup(s: Session, backup_id: str, expected: str, status: str, **values) -> None:
    values.setdefault("task_started_at", utcnow() if status in ("creating", "restoring", "deleting") else None)
    if status != expected:
        values.setdefault("task_owner", None)
    cas_update(s, m.Backup, where={"id": backup_id, "status": expected},
               values={"status": status, "updated_at": utcnow(), **values})


def _require_available(backup: m.Backup) -> None:
    if backup.status != "available":
        raise errors.InvalidBackup(reason=f"Backup status must be available but is {backup.status}.")


def _start_restore(s: Session, backup_id: str, target_id: str) -> None:
    """Claim the backup for a restore into ``target_id``; a 400 when another request
    claimed (or deleted) it since the caller looked."""
    backup = s.get(m.Backup, backup_id)
    if backup is None:
        raise errors.BackupNotFound(backup_id=backup_id)
    _require_available(backup)
    move_backup(s, backup_id, "available", "restoring", restore_volume_id=target_id)


def _claim_with_volume(status: str, volume_column, volume_status: str) -> Claim:
    """Claim the backup and the volume its operation reads or writes (in
    ``volume_status``): after a crash, both are the restarted worker's to recover."""
    claim_backup = claim_row(m.Backup, status)

    def claim(s: Session, backup_id: str, owner: str) -> None:
        claim_backup(s, backup_id, owner)
        volume_id = sa.select(volume_column).where(m.Backup.id == backup_id).scalar_subquery()
        s.execute(sa.update(m.Volume).where(m.Volume.id == volume_id, m.Volume.status == volume_status)
                  .values(task_owner=owner))
    return claim



def end_backing_up(s: Session, backup: m.Backup, previous: str) -> None:
    """The source of a finished (or abandoned) backup leaves ``backing-up``: the snapshot
    back to ``available``, or the volume to the status it had."""
    if backup.snapshot_id:
        move_snapshot(s, backup.snapshot_id, "backing-up", "available")
    else:
        move(s, backup.volume_id, "backing-up", previous)

class Backups:
    def __init__(self, db, worker, volumes, quotas, store: BackupStore, driver: Callable[[], str]):
        self.db = db
        self.worker = worker
        self.volumes = volumes
        self.quotas = quotas
        self.store = store
        self.driver = driver  # Cinder's name of the backup driver the store stands for
        worker.handlers.update({"backup_create": self.do_create, "backup_restore": self.do_restore,
                                "backup_delete": self.do_delete, "backup_import": self.do_import})
        worker.claims.update({"backup_create": _claim_with_volume("creating", m.Backup.volume_id, "backing-up"),
                              "backup_restore": _claim_with_volume("restoring", m.Backup.restore_volume_id,
                                                                   "restoring-backup"),
                              "backup_delete": claim_row(m.Backup, "deleting")})

    # -- requests --------------------------------------------------------------------
    def get(self, context: RequestContext, backup_id: str) -> m.Backup:
        with self.db.session(readonly=True) as s:
            row = s.get(m.Backup, backup_id)
            if row is None or not (context.is_admin or row.project_id == context.project_id):
                raise errors.BackupNotFound(backup_id=backup_id)
            s.expunge(row)
            return row

    def has_children(self, backup_ids: list[str]) -> set[str]:
        with self.db.session(readonly=True) as s:
            return set(s.scalars(sa.select(m.Backup.parent_id).where(m.Backup.parent_id.in_(backup_ids))))

    def list(self, context: RequestContext, filters: dict, paging: Paging, all_projects: bool) -> list[m.Backup]:
        conditions = self.conditions(context, filters, all_projects)
        with self.db.session(readonly=True) as s:
            marker = s.get(m.Backup, paging.marker) if paging.marker else None
            if paging.marker and marker is None:
                raise errors.MarkerNotFound(marker=paging.marker)
            rows = list(s.scalars(apply_paging(sa.select(m.Backup).where(*conditions), m.Backup, paging, marker)))
            s.expunge_all()
            return rows

    def count(self, context: RequestContext, filters: dict, all_projects: bool) -> int:
        return listing.count(self.db, m.Backup, self.conditions(context, filters, all_projects))

    @staticmethod
    def conditions(context: RequestContext, filters: dict, all_projects: bool) -> builtins.list:
        conditions = [] if all_projects and context.is_admin else [m.Backup.project_id == context.project_id]
        for key in ("name", "status", "volume_id"):
            if key in filters:
                conditions.append(getattr(m.Backup, key) == filters[key])
        return conditions

    def create(self, context: RequestContext, volume_id: str, name: str | None, description: str | None,
               incremental: bool, force: bool, container: str | None = None,
               snapshot_id: str | None = None, availability_zone: str | None = None) -> m.Backup:
        """A backup of the volume (or of its snapshot ``snapshot_id``).  In an
        ``availability_zone`` (3.51) without a backup service the backup is accepted and
        fails at once, as Cinder's scheduler fails it: ``error``, with a user message,
        the volume untouched."""
        volume = self.volumes.get(context, volume_id)
        allowed = ("available", "in-use") if force else ("available",)
        snapshot = self._snapshot(context, volume_id, snapshot_id) if snapshot_id else None
        if snapshot is None and volume.status not in allowed:
            raise errors.InvalidVolume(reason=f"Volume to be backed up must be available or in-use, but the current "
                             f"status is \"{volume.status}\".")
        # The backup is the caller's project's (Cinder's), whoever owns the volume: an
        # admin's backup of a project's volume counts in the admin's quota, and an
        # incremental one builds on the latest backup of the volume its own project made.
        owner = context.project_id or volume.project_id
        parent_id = None
        if incremental:
            with self.db.session(readonly=True) as s:
                parent_id = s.scalar(sa.select(m.Backup.id).where(
                    m.Backup.volume_id == volume_id, m.Backup.project_id == owner,
                    m.Backup.status == "available").order_by(m.Backup.created_at.desc(), m.Backup.id).limit(1))
            if parent_id is None:
                raise errors.InvalidBackup(reason="No backups available to do an incremental backup.")
        backup = m.Backup(id=str(uuid.uuid4()), project_id=owner, user_id=context.user_id,
                          volume_id=volume_id, parent_id=parent_id, name=name, description=description,
                          size=snapshot.size if snapshot else volume.size, status="creating",
                          task_started_at=utcnow(), container=container or DEFAULT_CONTAINER,
                          snapshot_id=snapshot_id, data_timestamp=snapshot.created_at if snapshot else None,
                          availability_zone=availability_zone or BACKUP_ZONE)
        if backup.availability_zone != BACKUP_ZONE:
            return self._unschedulable(context, backup)

        def work(s: Session) -> None:
            if snapshot is not None:  # Cinder: the snapshot is backing-up, the volume untouched
                self.quotas.reserve(s, owner, None, backups=1, backup_gigabytes=backup.size)
                try:
                    move_snapshot(s, snapshot.id, "available", "backing-up")
                except ConcurrentUpdate:
                    current = existing(s, m.Snapshot, snapshot.id).status
                    raise errors.InvalidSnapshot(reason=f"Snapshot to be backed up must be available, but the "
                                                        f"current status is \"{current}\".") from None
                s.add(backup)
                return
            row = existing(s, m.Volume, volume_id)
            if row.status not in allowed:
                raise errors.InvalidVolume(reason=f"Volume to be backed up must be available or in-use, but the "
                                 f"current status is \"{row.status}\".")
            self.quotas.reserve(s, owner, None, backups=1, backup_gigabytes=volume.size)
            move(s, volume_id, row.status, "backing-up", task_args={"previous": row.status, "backup_id": backup.id})
            s.add(backup)
        run_in_transaction(self.db, work)
        self.worker.cast("backup_create", backup.id)
        return self.get(context, backup.id)

    def _unschedulable(self, context: RequestContext, backup: m.Backup) -> m.Backup:
        backup.status, backup.fail_reason, backup.task_started_at = "error", NO_BACKUP_SERVICE, None

        def work(s: Session) -> None:
            self.quotas.reserve(s, backup.project_id, None, backups=1, backup_gigabytes=backup.size)
            s.add(backup)
            s.flush()
            messages.record(s, backup.project_id, context.request_id, messages.VOLUME_BACKUP, backup.id,
                            messages.BACKUP_CREATE, messages.BACKUP_SCHEDULE_ERROR)
        run_in_transaction(self.db, work)
        return self.get(context, backup.id)

    def _snapshot(self, context: RequestContext, volume_id: str, snapshot_id: str) -> m.Snapshot:
        """Cinder's checks of a backup's snapshot: visible (404), of the volume named, and
        ``available`` (400s in its words)."""
        with self.db.session(readonly=True) as s:
            snapshot = s.get(m.Snapshot, snapshot_id)
            if snapshot is not None:
                s.expunge(snapshot)
        if snapshot is None or not (context.is_admin or snapshot.project_id == context.project_id):
            raise errors.SnapshotNotFound(snapshot_id=snapshot_id)
        if snapshot.volume_id != volume_id:
            raise errors.InvalidVolume(reason=f"Volume {volume_id} does not match with snapshot.volume_id "
                                              f"{snapshot.volume_id}.")
        if snapshot.status != "available":
            raise errors.InvalidSnapshot(reason=f"Snapshot to be backed up must be available, but the current "
                                                f"status is \"{snapshot.status}\".")
        return snapshot

    def restore(self, context: RequestContext, backup_id: str, volume_id: str | None,
                name: str | None) -> m.Volume:
        """Into a new volume (inserted with its quota in the transaction that claims the
        backup: a restore that loses the backup to another leaves nothing behind) or into
        an existing ``available`` volume at least as large."""
        backup = self.get(context, backup_id)
        _require_available(backup)
        if volume_id is None:
            return self.create_volume(context, backup, {"name": name or f"restore_backup_{backup_id}"})
        target = self.volumes.get(context, volume_id)
        if target.size < backup.size:
            raise errors.InvalidVolume(reason=f"volume size {target.size}GB is too small to restore backup of "
                             f"size {backup.size}GB.")

        def work(s: Session) -> None:
            row = existing(s, m.Volume, volume_id)
            if row.status != "available":
                raise errors.InvalidVolume(reason=f"Volume to be restored to must be available, but the "
                                 f"current status is \"{row.status}\".")
            move(s, volume_id, "available", "restoring-backup")
            _start_restore(s, backup_id, volume_id)
        run_in_transaction(self.db, work)
        self.worker.cast("backup_restore", backup_id)
        return target

    def create_volume(self, context: RequestContext, backup: m.Backup, spec: dict,
                      named: References | None = None) -> m.Volume:
        """A new volume holding ``backup``'s data: a restore into a new volume, or a
        volume create naming ``backup_id`` (3.47), whose ``spec`` may ask for a larger
        size and any type."""
        _require_available(backup)
        size = spec.get("size") or backup.size
        if size < backup.size:
            raise errors.InvalidInput(reason=f"Volume size {size}GB cannot be smaller than the backup size "
                                             f"{backup.size}GB.")
        volume = self.volumes.create(context, {**spec, "size": size}, status="restoring-backup",
                                     also=lambda s, v: _start_restore(s, backup.id, v.id), named=named)
        self.worker.cast("backup_restore", backup.id)
        return volume

    def update(self, context: RequestContext, backup_id: str, values: dict) -> None:
        """Name and description (3.9): plain fields, no state involved."""
        self.get(context, backup_id)
        if values:
            with self.db.session() as s:
                s.execute(sa.update(m.Backup).where(m.Backup.id == backup_id).values(**values))

    def reset_status(self, context: RequestContext, backup_id: str, status: str) -> None:
        """``os-reset_status`` (admin): ``available`` or ``error`` from any status, as
        Cinder's backup manager sets it (a worker still on the backup then loses its
        compare-and-swap, and recovery rolls its volume back)."""
        self.get(context, backup_id)

        def work(s: Session) -> None:
            move_backup(s, backup_id, existing(s, m.Backup, backup_id).status, status)
        run_in_transaction(self.db, work)

    def delete(self, context: RequestContext, backup_id: str) -> None:
        self.get(context, backup_id)
        if self.has_children([backup_id]):
            raise errors.InvalidBackup(reason="Incremental backups exist for this backup.")

        def work(s: Session) -> None:
            row = existing(s, m.Backup, backup_id)
            if row.status not in ("available", "error"):
                raise errors.InvalidBackup(reason=f"Backup status must be available or error, but is {row.status}.")
            move_backup(s, backup_id, row.status, "deleting")
        run_in_transaction(self.db, work)
        self.worker.cast("backup_delete", backup_id)

    def export_record(self, context: RequestContext, backup_id: str) -> dict[str, str]:
        """Cinder's backup record: the driver's name and the base64 JSON of the row, which
        ``import_record`` turns back into a backup of the same data (after a database loss,
        or in another cloud sharing the store)."""
        backup = self.get(context, backup_id)
        if backup.status != "available":
            raise errors.InvalidBackup(reason=f"Backup status must be available and not {backup.status}.")
        data = ref(backup)
        record = {"id": backup.id, "display_name": backup.name, "display_description": backup.description,
                  "container": backup.container, "size": backup.size, "object_count": backup.object_count,
                  "service_metadata": json.dumps({"id": data.id, "project_id": data.project_id}),
                  "volume_id": backup.volume_id, "snapshot_id": backup.snapshot_id, "parent_id": backup.parent_id,
                  "project_id": backup.project_id, "user_id": backup.user_id, "status": backup.status,
                  "service": self.driver(), "availability_zone": "nova",
                  "created_at": backup.created_at.isoformat(),
                  "data_timestamp": backup.data_timestamp.isoformat() if backup.data_timestamp else None}
        return {"backup_service": self.driver(),
                "backup_url": base64.b64encode(json.dumps(record).encode()).decode()}

    def import_record(self, context: RequestContext, backup_service: str, backup_url: str) -> m.Backup:
        """A backup row with the record's id, in the caller's project, ``creating`` with its
        quota; the worker checks its data can be read (``available``) or fails it
        (``error``), as Cinder's backup manager.  A record of another driver, or missing
        what an import needs, is such an ``error`` at once (Cinder fails it the same way,
        after its 201)."""
        record = decode_record(backup_url)
        if "id" not in record:
            raise errors.InvalidInput(reason="Provided backup record is missing an id")
        if "size" not in record:
            raise errors.InvalidInput(reason="Provided backup record is missing size attribute")
        fail_reason = None
        missing = [key for key in IMPORT_REQUIRED if key not in record]
        if backup_service != self.driver():
            fail_reason = (f"Import record failed, cannot find backup service to perform the import. Request "
                           f"service {backup_service}.")
        elif missing:
            fail_reason = (f"Driver successfully decoded imported backup data, but there are missing fields "
                           f"({', '.join(missing)}).")
        try:
            data = json.loads(record.get("service_metadata") or "{}")
            size = int(record["size"])
            backup = m.Backup(
                id=str(uuid.UUID(str(record["id"]))), project_id=context.project_id, user_id=context.user_id,
                volume_id=IMPORT_VOLUME_ID, name=record.get("display_name"),
                description=record.get("display_description"), size=size,
                object_count=int(record.get("object_count") or 0),
                container=record.get("container") or DEFAULT_CONTAINER, data_id=str(data.get("id") or record["id"]),
                data_project_id=str(data.get("project_id") or context.project_id),
                status="error" if fail_reason else "creating", fail_reason=fail_reason,
                task_started_at=None if fail_reason else utcnow())
        except (TypeError, ValueError, AttributeError):
            raise errors.BackupRecordUnparsable() from None

        def work(s: Session) -> None:
            if s.get(m.Backup, backup.id) is not None:
                raise errors.InvalidBackup(reason="Backup already exists in database.")
            self.quotas.reserve(s, context.project_id, None, backups=1, backup_gigabytes=size)
            s.add(backup)
        run_in_transaction(self.db, work)
        if not fail_reason:
            self.worker.cast("backup_import", backup.id)
        return self.get(context, backup.id)

    # -- worker operations -----------------------------------------------------------
    def do_import(self, backup_id: str) -> None:
        """An imported backup is ``available`` once its manifest can be read."""
        backup = self._load(backup_id, "creating")
        if backup is None:
            return
        status, reason = "available", None
        try:
            self.store.manifest(ref(backup))
        except Exception as error:  # noqa: BLE001 - the record names data this store does not have
            status, reason = "error", f"the imported backup's data cannot be read: {error}"
        run_in_transaction(self.db, lambda s: move_backup(s, backup_id, "creating", status, fail_reason=reason))

    def _volume_lock(self, volume_id: str):
        """The volume's lock, held while its data is read or written: recovery takes a
        volume whose lock is free for abandoned, so a long backup must hold it too."""
        return self.worker.cloud.coordinator.lock(f"volume-{volume_id}")

    def _row(self, backup_id: str) -> m.Backup | None:
        with self.db.session(readonly=True) as s:
            row = s.get(m.Backup, backup_id)
            if row is not None:
                s.expunge(row)
            return row

    def _load(self, backup_id: str, status: str) -> m.Backup | None:
        return load_if(self.db, m.Backup, backup_id, status=status)

    def do_create(self, backup_id: str) -> None:
        backup = self._load(backup_id, "creating")
        if backup is None:
            return
        with self.db.session(readonly=True) as s:
            previous = (s.get(m.Volume, backup.volume_id).task_args or {}).get("previous", "available")
            kept = {"volume_metadata": dict(s.execute(sa.select(m.VolumeMetadata.key, m.VolumeMetadata.value).where(
                m.VolumeMetadata.volume_id == backup.volume_id)).all()),
                "volume_image_metadata": dict(s.execute(sa.select(
                    m.VolumeImageMetadata.key, m.VolumeImageMetadata.value).where(
                    m.VolumeImageMetadata.volume_id == backup.volume_id)).all())}
        driver = self.worker.driver
        source = (driver.snapshot_local_path(backup.snapshot_id) if backup.snapshot_id
                  else driver.local_path(backup.volume_id))
        try:
            self.worker.cloud.faults.check("volume", "backup")
            parent = self._row(backup.parent_id) if backup.parent_id else None
            with self._volume_lock(backup.volume_id):
                result = self.store.backup(source, ref(backup), ref(parent) if parent else None, kept)
            values: dict[str, Any] = {"object_count": result.object_count, "fail_reason": None}
            status = "available"
        except Exception as error:  # noqa: BLE001 - the backup fails; the volume is unharmed
            LOG.error("backup %s failed: %s", backup_id, error)
            self.store.delete(ref(backup))
            status, values = "error", {"fail_reason": str(error)}

        def work(s: Session) -> None:
            move_backup(s, backup_id, "creating", status, **values)
            end_backing_up(s, backup, previous)
        run_in_transaction(self.db, work)

    def do_restore(self, backup_id: str) -> None:
        backup = self._load(backup_id, "restoring")
        if backup is None:
            return
        target = cast(str, backup.restore_volume_id)  # set whenever the backup is restoring
        try:
            with self._volume_lock(target):
                kept = self.store.restore(ref(backup), self.worker.driver.local_path(target))
            status, reason = "available", None
        except Exception as error:  # noqa: BLE001
            LOG.error("restore of backup %s to %s failed: %s", backup_id, target, error)
            kept, status, reason = {}, "error_restoring", str(error)

        def work(s: Session) -> None:
            """The source volume's metadata merged in; its image metadata replacing the
            target's and making it bootable (Cinder's ``_restore_vol_glance_meta``)."""
            move_backup(s, backup_id, "restoring", "available", restore_volume_id=None)
            for key, value in kept.get("volume_metadata", {}).items():
                s.merge(m.VolumeMetadata(volume_id=target, key=key, value=value))
            image = kept.get("volume_image_metadata", {})
            if image:
                s.execute(sa.delete(m.VolumeImageMetadata).where(m.VolumeImageMetadata.volume_id == target))
                s.add_all(m.VolumeImageMetadata(volume_id=target, key=k, value=v) for k, v in image.items())
            bootable: dict[str, Any] = {"bootable": True} if image else {}
            move(s, target, "restoring-backup", status, status_reason=reason, **bootable)
        run_in_transaction(self.db, work)

    def do_delete(self, backup_id: str) -> None:
        backup = self._load(backup_id, "deleting")
        if backup is None:
            return
        data = ref(backup)
        with self.db.session(readonly=True) as s:  # an imported copy of the record still needs the data
            shared = s.scalar(sa.select(sa.func.count()).select_from(m.Backup).where(
                m.Backup.id != backup_id, sa.or_(m.Backup.id == data.id, m.Backup.data_id == data.id)))
        if not shared:
            self.store.delete(data)

        def work(s: Session) -> None:
            if rowcount(s.execute(sa.delete(m.Backup).where(m.Backup.id == backup_id, m.Backup.status == "deleting"))):
                self.quotas.reserve(s, backup.project_id, None, backups=-1, backup_gigabytes=-backup.size)
        run_in_transaction(self.db, work)
