"""Moving a volume to another backend: ``os-migrate_volume``, and ``os-retype`` with
``migration_policy=on-demand`` when the volume's backend does not serve the new type.

A driver-assisted migration in Cinder's terms: the worker copies the volume's file into
the destination backend's directory itself, so no temporary volume is made and
``os-migrate_volume_completion`` is never needed for it.  The request moves the volume
(``available``, no snapshots, not in a group, not already migrating, and another host)
into ``maintenance`` (a migration: as Cinder with ``lock_volume``) or ``retyping`` (a
retype) with ``migration_status`` ``migrating``; a retype moves the per-type quota to the
new type in the same transaction.  The worker copies the file, then one CAS puts the
volume on its new host, back in its status, with ``migration_status`` ``success`` (and
its new type); only then is the source file removed.  A failed copy, or a migration
abandoned by a dead worker (recovery), is rolled back: the partial copy removed,
``migration_status`` ``error``, host and type unchanged, the quota moved back.
"""

from __future__ import annotations

import logging

import sqlalchemy as sa
from sqlalchemy.orm import Session

from pocketstack.common.context import RequestContext
from pocketstack.common.db.base import utcnow
from pocketstack.common.db.cas import RetriesExhausted, run_in_transaction
from pocketstack.volume import errors
from pocketstack.volume import models as m
from pocketstack.volume.backends import Backend
from pocketstack.volume.states import existing, move
from pocketstack.volume.worker import load_if

LOG = logging.getLogger(__name__)

MIGRATING = "migrating"


def move_type_usage(quotas, s: Session, row: m.Volume, old: str | None, new: str | None, snapshots: list[int]) -> None:
    """The per-type usage of a volume (and of its snapshots, which follow its type) moved
    from type ``old`` to type ``new`` by CAS; 413 when ``new``'s limits refuse it."""
    moved = {"volumes": 1, "gigabytes": row.size + sum(snapshots), "snapshots": len(snapshots)}
    if new is not None:
        quotas.reserve(s, row.project_id, None, **{f"{k}_{new}": v for k, v in moved.items()})
    if old is not None:
        quotas.reserve(s, row.project_id, None, **{f"{k}_{old}": -v for k, v in moved.items()})


class Migrations:
    def __init__(self, db, worker, volumes, types, quotas):
        self.db = db
        self.worker = worker
        self.volumes = volumes
        self.types = types
        self.quotas = quotas
        worker.handlers["migrate"] = self.run
        worker.claims["migrate"] = self._claim
        worker.handlers["migrate_roll_back"] = self.recover

    @staticmethod
    def _claim(s: Session, volume_id: str, owner: str) -> None:
        s.execute(sa.update(m.Volume).where(m.Volume.id == volume_id, m.Volume.migration_status == MIGRATING)
                  .values(task_owner=owner))

    # -- requests --------------------------------------------------------------------
    def migrate(self, context: RequestContext, volume_id: str, host: str) -> None:
        """``os-migrate_volume`` to ``host`` (``host@backend`` or its pool)."""
        self.volumes.get(context, volume_id)
        dest = self.worker.backends.by_host(host)
        if dest is None:
            raise errors.InvalidHost(reason=f"No available service named '{host}'")
        self.start(volume_id, dest, "maintenance")

    def start(self, volume_id: str, dest: Backend, status: str, new_type: m.VolumeType | None = None) -> None:
        """Move the volume into ``status`` with ``migration_status`` ``migrating`` and cast
        the copy (Cinder's conditions, in its words)."""
        def work(s: Session) -> None:
            row = existing(s, m.Volume, volume_id)
            snapshots = list(s.scalars(sa.select(m.Snapshot.size).where(m.Snapshot.volume_id == volume_id)))
            if (row.status != "available" or row.migration_status == MIGRATING or snapshots
                    or row.group_id is not None or row.host == dest.host):
                raise errors.InvalidVolume(reason=(
                    f"Volume {volume_id} status must be available or in-use, must not be migrating, have "
                    "snapshots, be replicated, be part of a group and destination host/cluster must be "
                    "different than the current one"))
            if new_type is not None and s.get(m.VolumeTypeEncryption, new_type.id) is not None:
                raise errors.InvalidInput(reason="Retype cannot change encryption requirements.")
            args: dict[str, str | None] = {"dest": dest.host, "previous": row.status}
            if new_type is not None:
                old = self.types.get_by_id(row.volume_type_id)
                move_type_usage(self.quotas, s, row, old.name if old else None, new_type.name, [])
                args.update(new_type_id=new_type.id, old_type_id=row.volume_type_id)
            move(s, volume_id, row.status, status, migration_status=MIGRATING, task_args=args,
                 task_started_at=utcnow())
        run_in_transaction(self.db, work)
        self.worker.cast("migrate", volume_id)

    # -- the worker's part -----------------------------------------------------------
    def _load(self, volume_id: str) -> m.Volume | None:
        return load_if(self.db, m.Volume, volume_id, migration_status=MIGRATING)

    def run(self, volume_id: str) -> None:
        """Copy the file to the destination backend, switch the volume over, remove the source."""
        row = self._load(volume_id)
        if row is None:
            return
        args = row.task_args or {}
        backends = self.worker.backends
        source, dest = backends.by_host(row.host), backends.by_host(args.get("dest"))
        try:
            if source is None or dest is None:
                raise LookupError(f"no backend {row.host if source is None else args.get('dest')}")
            dest.driver.copy_in(source.driver.path(volume_id), volume_id, row.size)
        except Exception as error:  # noqa: BLE001 - any failure rolls the migration back
            LOG.error("volume %s: migration to %s failed: %s", volume_id, args.get("dest"), error)
            self.roll_back(volume_id, row.status, str(error))
            return

        def work(s: Session) -> None:
            values: dict = {"host": dest.host, "migration_status": "success", "status_reason": None}
            if "new_type_id" in args:
                new_type = self.types.get_by_id(args["new_type_id"])
                values["volume_type_id"] = args["new_type_id"]
                values["multiattach"] = bool(new_type and self.types.is_multiattach(new_type))
            move(s, volume_id, row.status, args.get("previous", "available"),
                 extra_where={"migration_status": MIGRATING}, **values)
        try:
            run_in_transaction(self.db, work, attempts=1)
        except Exception as error:  # noqa: BLE001 - an admin reset or deleted it meanwhile: keep the source
            LOG.warning("volume %s left migrating before its copy finished: %s", volume_id, error)
            dest.driver.delete_volume(volume_id)
            return
        source.driver.delete_volume(volume_id)

    def roll_back(self, volume_id: str, status: str, reason: str) -> None:
        """The migration undone: the destination's copy removed, the volume back in its
        status on its host and type, ``migration_status`` ``error``, the quota moved back."""
        with self.db.session(readonly=True) as s:
            row = s.get(m.Volume, volume_id)
            args = (row.task_args or {}) if row is not None else {}
        dest = self.worker.backends.by_host(args.get("dest"))
        if dest is not None:
            dest.driver.delete_volume(volume_id)

        def work(s: Session) -> None:
            row = existing(s, m.Volume, volume_id)
            if "new_type_id" in args:
                old, new = (self.types.get_by_id(args.get(k)) for k in ("old_type_id", "new_type_id"))
                move_type_usage(self.quotas, s, row, new.name if new else None, old.name if old else None, [])
            move(s, volume_id, status, args.get("previous", "available"), extra_where={"migration_status": MIGRATING},
                 migration_status="error", status_reason=reason)
        run_in_transaction(self.db, work, attempts=1)

    def recover(self, volume_id: str) -> str:
        """A migration whose worker died: rolled back (called holding the volume's lock)."""
        row = self._load(volume_id)
        if row is None:
            raise RetriesExhausted(f"volume {volume_id} is no longer migrating")
        self.roll_back(volume_id, row.status, "the migration was interrupted by a worker restart")
        return "rolled_back"

    # -- os-migrate_volume_completion ----------------------------------------------------
    def complete(self, context: RequestContext, volume_id: str, new_volume_id: str, error: bool) -> str:
        """Cinder's checks of a generic migration's end; the id of the volume to keep.
        Migrations here never make a ``target:`` volume, so only a volume an admin set so
        with ``os-reset_status`` gets past them: then the new volume's data becomes the
        volume's (the source file removed, the new volume's row gone), or with ``error``
        the volume's migration ends in ``error`` and the new volume is left as it is."""
        volume = self.volumes.get(context, volume_id)
        new = self.volumes.get(context, new_volume_id)
        if not (volume.migration_status or new.migration_status):
            return new.id
        if not volume.migration_status:
            raise errors.InvalidVolume(reason="Source volume not mid-migration.")
        if not new.migration_status:
            raise errors.InvalidVolume(reason="Destination volume not mid-migration.")
        expected = f"target:{volume.id}"
        if new.migration_status != expected:
            raise errors.InvalidVolume(reason=f"Destination has migration_status {new.migration_status}, "
                                              f"expected {expected}.")
        with self.worker.cloud.coordinator.lock(f"volume-{volume.id}"):
            if error:
                run_in_transaction(self.db, lambda s: move(s, volume.id, volume.status, volume.status,
                                                           migration_status="error"))
                return volume.id
            self._take_over(volume, new)
        return volume.id

    def _take_over(self, volume: m.Volume, new: m.Volume) -> None:
        """The volume takes the new volume's data and host; the new volume's row goes."""
        backends = self.worker.backends
        source, dest = backends.by_host(volume.host), backends.by_host(new.host)
        if dest is None:
            raise errors.InvalidVolume(reason=f"Destination volume {new.id} is on no backend.")
        dest.driver.path(new.id).replace(dest.driver.path(volume.id))

        def work(s: Session) -> None:
            move(s, volume.id, volume.status, volume.status, host=new.host, migration_status="success")
            s.execute(sa.delete(m.VolumeMetadata).where(m.VolumeMetadata.volume_id == new.id))
            s.execute(sa.delete(m.Volume).where(m.Volume.id == new.id))
            vtype = self.types.get_by_id(new.volume_type_id)
            self.quotas.reserve(s, new.project_id, vtype.name if vtype else None, volumes=-1, gigabytes=-new.size)
        run_in_transaction(self.db, work)
        if source is not None and source is not dest:
            source.driver.delete_volume(volume.id)
