"""Migration records for ``os-migrations``: one per resize, cold or live migration.

The API writes the record when it accepts a resize (with the id of the Placement
consumer the resize moves the old allocation to, which the instance's ``migration``
also carries), and notes ``confirming``/``reverting`` when it accepts a confirm or a
revert.  Everything else is read, not written: while the instance still names the
migration, its status follows the instance's task and vm states (the compute host never
has to know the records exist); once the instance has let go, the last decision is
final (``confirming`` → ``confirmed``, ``reverting`` → ``reverted``, anything else →
``error``: the resize failed before it finished).  A live migration has no decision to
wait for: its host writes ``completed`` (``error``, ``cancelled`` once aborted) with the
destination when it ends (:func:`record_outcome`).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import sqlalchemy as sa

from pocketstack.common.db import Database, utcnow
from pocketstack.compute import states as st
from pocketstack.compute.models import Instance, Migration

# The instance's task state -> the migration's status while it is in flight.
_IN_FLIGHT = {st.RESIZE_PREP: "pre-migrating", st.RESIZE_MIGRATING: "migrating", st.RESIZE_FINISH: "post-migrating",
              st.RESIZE_CONFIRMING: "confirming", st.RESIZE_REVERTING: "reverting", st.MIGRATING: "running"}
_FINAL = ("confirmed", "reverted", "completed", "done", "cancelled")
_SETTLED = {"confirming": "confirmed", "reverting": "reverted"}


def record_outcome(db: Database, migration_id: str, status: str, dest_compute: str | None) -> None:
    """How a live migration ended (``completed``/``error``/``cancelled``), written by its host."""
    with db.session() as s:
        s.execute(sa.update(Migration).where(Migration.uuid == migration_id)
                  .values(status=status, dest_compute=dest_compute, updated_at=utcnow()))


@dataclass
class MigrationView:
    id: int
    uuid: str
    instance_uuid: str
    project_id: str
    user_id: str
    migration_type: str
    source_compute: str | None
    dest_compute: str | None
    old_flavor_id: str
    new_flavor_id: str
    status: str
    created_at: dt.datetime
    updated_at: dt.datetime | None


class MigrationRecords:
    def __init__(self, db: Database):
        self.db = db

    def start(self, inst, migration_id: str, new_flavor_id: str, user_id: str, migration_type: str = "resize",
              project_id: str | None = None) -> None:
        """A resize's record, or a cold migration's (``migration_type="migration"``, the
        flavor unchanged); ``user_id`` and ``project_id`` are who asked for it (as Nova's,
        shown from 2.80; the server's project when no project asked)."""
        with self.db.session() as s:
            s.add(Migration(uuid=migration_id, instance_uuid=inst.id, project_id=project_id or inst.project_id,
                            user_id=user_id,
                            source_compute=inst.host, old_flavor_id=inst.flavor_id, new_flavor_id=new_flavor_id,
                            status="pre-migrating", migration_type=migration_type, created_at=utcnow()))

    def exists(self, migration_id: str) -> bool:
        with self.db.session(readonly=True) as s:
            return s.scalar(sa.select(Migration.id).where(Migration.uuid == migration_id)) is not None

    def decide(self, inst, status: str) -> None:
        """Note a confirm or revert the API accepted, and the destination the host chose."""
        migration = inst.migration or {}
        with self.db.session() as s:
            s.execute(sa.update(Migration).where(Migration.uuid == migration.get("id"))
                      .values(status=status, dest_compute=migration.get("dest_host"), updated_at=utcnow()))

    def list(self, *, instance_uuid: str | None = None, status: str | None = None, host: str | None = None,
             migration_type: str | None = None, source_compute: str | None = None, user_id: str | None = None,
             project_id: str | None = None) -> list[MigrationView]:
        stmt = sa.select(Migration).order_by(Migration.created_at.desc(), Migration.id.desc())
        if instance_uuid:
            stmt = stmt.where(Migration.instance_uuid == instance_uuid)
        if user_id is not None:
            stmt = stmt.where(Migration.user_id == user_id)
        if project_id is not None:
            stmt = stmt.where(Migration.project_id == project_id)
        if migration_type:
            stmt = stmt.where(Migration.migration_type == migration_type)
        with self.db.session(readonly=True) as s:
            rows = list(s.scalars(stmt))
            instances = {i.id: i for i in s.scalars(sa.select(Instance).where(
                Instance.id.in_({r.instance_uuid for r in rows})))} if rows else {}
        views = [self._view(r, instances.get(r.instance_uuid)) for r in rows]
        if status:
            views = [v for v in views if v.status == status]
        if host:
            views = [v for v in views if host in (v.source_compute, v.dest_compute)]
        elif source_compute:
            views = [v for v in views if v.source_compute == source_compute]
        return views

    @staticmethod
    def _view(row: Migration, inst: Instance | None) -> MigrationView:
        status, dest = row.status, row.dest_compute
        if inst is not None and inst.migration and inst.migration.get("id") == row.uuid:
            dest = inst.migration.get("dest_host") or dest
            if inst.vm_state == st.ERROR:
                status = "error"
            elif inst.task_state is not None and inst.task_state in _IN_FLIGHT:
                status = _IN_FLIGHT[inst.task_state]
            elif inst.vm_state == st.RESIZED:
                status = "finished"
        else:
            status = _SETTLED.get(status, status if status in _FINAL else "error")
        return MigrationView(row.id, row.uuid, row.instance_uuid, row.project_id, row.user_id, row.migration_type,
                             row.source_compute, dest, row.old_flavor_id, row.new_flavor_id, status,
                             row.created_at, row.updated_at)
