"""Deleted servers: the delete moves a server's row to ``compute_deleted_instance``.

Nova soft-deletes instances, and a few reads still see them: the instance actions of a
deleted server (2.21+) and an admin's ``servers/detail?deleted=True``.  Here the live
table holds only live servers, so nothing that counts, schedules or lists them has to
leave deleted ones out, and those few reads look in the archive instead.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Session

from pocketstack.common.db import Database, utcnow
from pocketstack.common.db.cas import changed_rows
from pocketstack.compute import states as st
from pocketstack.compute.models import DeletedInstance, Instance

_COLUMNS = tuple(c.key for c in Instance.__table__.columns)


def archive(s: Session, instance_id: str) -> bool:
    """Remove the server being deleted from the live table and keep it, as it was, in the
    archive (``deleted``, no task); False when another delete got there first."""
    row = s.execute(sa.select(Instance.__table__).where(Instance.id == instance_id)).mappings().first()
    if row is None or not changed_rows(s, sa.delete(Instance).where(Instance.id == instance_id,
                                                                   Instance.task_state == st.DELETING)):
        return False
    now = utcnow()
    values = {key: row[key] for key in _COLUMNS}
    values.update(vm_state=st.DELETED, task_state=None, updated_at=now, deleted_at=now)
    s.execute(sa.insert(DeletedInstance).values(**values))
    return True


def get_deleted(db: Database, instance_id: str) -> DeletedInstance | None:
    with db.session(readonly=True) as s:
        return s.get(DeletedInstance, instance_id)
