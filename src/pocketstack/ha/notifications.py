"""The record of failures and responses: notifications and their servers' moves.

Everything a recovery does is written here before and after it is done, each change a
compare-and-swap: a notification moves only from the ``generation`` its writer read
(:meth:`Notifications.advance`), a move only from the status its writer saw
(:meth:`Notifications.move_vmove`).  A writer that loses learns that another HA process
took the step, and stops.
"""

from __future__ import annotations

import builtins
import datetime as dt
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy import exc as sa_exc

from pocketstack.common.db import Database, utcnow
from pocketstack.common.db.cas import changed_rows
from pocketstack.common.db.lookup import find_or_raise
from pocketstack.common.pagination import Paging, apply_paging
from pocketstack.ha import errors
from pocketstack.ha.models import Notification, VMove

OPEN_STATUSES = ("new", "running")
# A moment's wording in the workflow details: Masakari's task names and states.
TaskLog = tuple[str, str, str]  # (task name, state, message)


@dataclass(frozen=True)
class NotificationFilters:
    source_host_uuid: str | None = None
    type: str | None = None
    status: str | None = None
    generated_since: dt.datetime | None = None


def stamp() -> str:
    return utcnow().strftime("%Y-%m-%dT%H:%M:%S.%f")


def log_task(details: list[dict[str, Any]], task: str, state: str, message: str) -> list[dict[str, Any]]:
    """``details`` with one more progress line of ``task`` (created when new), its state
    now ``state``: the shape of Masakari's ``recovery_workflow_details``."""
    details = [dict(d) for d in details]
    entry = next((d for d in details if d["name"] == task), None)
    if entry is None:
        entry = {"id": str(uuid.uuid5(uuid.NAMESPACE_OID, task)), "name": task, "state": "PENDING",
                 "progress": 0.0, "progress_details": []}
        details.append(entry)
    progress = 1.0 if state in ("SUCCESS", "FAILURE") else 0.5
    entry.update(state=state, progress=progress,
                 progress_details=[*entry["progress_details"],
                                   {"timestamp": stamp(), "message": message, "progress": progress}])
    return details


class Notifications:
    def __init__(self, db: Database):
        self.db = db

    # -- notifications ---------------------------------------------------------------------
    def create(self, type_: str, host: str, host_uuid: str, payload: Mapping[str, Any], status: str, stage: str,
               open_key: str | None, log: TaskLog | None = None,
               generated_time: dt.datetime | None = None) -> Notification | None:
        """A new notification; None when ``open_key`` is already open (that failure is
        known: the unique key makes this safe between any number of monitors)."""
        row = Notification(notification_uuid=str(uuid.uuid4()), type=type_, source_host_uuid=host_uuid,
                           hostname=host, generated_time=generated_time or utcnow(), payload=dict(payload),
                           status=status, stage=stage, open_key=open_key, generation=0,
                           details=log_task([], *log) if log else [], updated_at=utcnow())
        try:
            with self.db.session() as s:
                s.add(row)
        except sa_exc.IntegrityError:
            return None
        return self.get(row.notification_uuid)

    def get(self, notification_uuid: str) -> Notification:
        with self.db.session(readonly=True) as s:
            row: Notification = find_or_raise(s, Notification.notification_uuid, notification_uuid,
                                              lambda: errors.NotificationNotFound(id=notification_uuid))
        return row

    def open_ones(self) -> builtins.list[Notification]:
        """The notifications a recovery still has to finish, oldest first."""
        with self.db.session(readonly=True) as s:
            return builtins.list(s.scalars(sa.select(Notification).where(Notification.status.in_(OPEN_STATUSES))
                                           .order_by(Notification.id)))

    def open_keys(self) -> set[str]:
        with self.db.session(readonly=True) as s:
            return set(s.scalars(sa.select(Notification.open_key).where(Notification.open_key.is_not(None))))

    def close_episode(self, open_key: str) -> None:
        """The failure behind ``open_key`` is over (its host checks in again): a new one
        may be reported.  Only a finished notification's key is released."""
        with self.db.session() as s:
            s.execute(sa.update(Notification).where(Notification.open_key == open_key,
                                                    Notification.status.not_in(OPEN_STATUSES))
                      .values(open_key=None, updated_at=utcnow()))

    def advance(self, row: Notification, *logs: TaskLog, **values: Any) -> Notification | None:
        """Apply ``values`` (a new stage, status...) and workflow lines if ``row`` is still
        the generation we read; the new row, or None when another writer got there first."""
        details = row.details
        for log in logs:
            details = log_task(details, *log)
        with self.db.session() as s:
            won = changed_rows(s, sa.update(Notification).where(Notification.id == row.id,
                                                                Notification.generation == row.generation)
                               .values(generation=row.generation + 1, details=details, updated_at=utcnow(),
                                       **values)) == 1
        return self.get(row.notification_uuid) if won else None

    def list(self, filters: NotificationFilters, paging: Paging) -> builtins.list[Notification]:
        stmt = sa.select(Notification)
        for column, value in ((Notification.source_host_uuid, filters.source_host_uuid),
                              (Notification.type, filters.type), (Notification.status, filters.status)):
            if value is not None:
                stmt = stmt.where(column == value)
        if filters.generated_since is not None:
            stmt = stmt.where(Notification.generated_time >= filters.generated_since)
        marker = self.get(paging.marker) if paging.marker else None
        with self.db.session(readonly=True) as s:
            return builtins.list(s.scalars(apply_paging(stmt, Notification, paging, marker)))

    # -- the moves of a recovery -----------------------------------------------------------
    def add_vmoves(self, notification_uuid: str, source_host: str, statuses: Mapping[str, tuple[str, str | None]]
                   ) -> None:
        """One move per server (``instance id -> (status, message)``); a server that has
        one already keeps it (a resumed recovery adds nothing twice)."""
        have = {v.instance_uuid for v in self.vmoves(notification_uuid)}
        now = utcnow()
        for instance_id, (status, message) in statuses.items():
            if instance_id in have:
                continue
            done = status in ("ignored", "failed")
            try:
                with self.db.session() as s:
                    s.add(VMove(uuid=str(uuid.uuid4()), notification_uuid=notification_uuid,
                                instance_uuid=instance_id, source_host=source_host, status=status, message=message,
                                end_time=now if done else None, updated_at=now))
            except sa_exc.IntegrityError:
                continue  # another HA process added it meanwhile

    def vmoves(self, notification_uuid: str, paging: Paging | None = None) -> builtins.list[VMove]:
        stmt = sa.select(VMove).where(VMove.notification_uuid == notification_uuid)
        marker = self.vmove(notification_uuid, paging.marker) if paging and paging.marker else None
        stmt = apply_paging(stmt, VMove, paging, marker) if paging else stmt.order_by(VMove.id)
        with self.db.session(readonly=True) as s:
            return builtins.list(s.scalars(stmt))

    def vmove(self, notification_uuid: str, vmove_uuid: str) -> VMove:
        with self.db.session(readonly=True) as s:
            row = s.scalar(sa.select(VMove).where(VMove.notification_uuid == notification_uuid,
                                                  VMove.uuid == vmove_uuid))
        if row is None:
            raise errors.VMoveNotFound(id=vmove_uuid)
        return row

    def note_vmove(self, row: VMove, message: str) -> bool:
        """A word on ``row`` (its ``message`` and ``updated_at``) while its status is still
        the one we read; False when another writer moved it."""
        with self.db.session() as s:
            return changed_rows(s, sa.update(VMove).where(VMove.id == row.id, VMove.status == row.status)
                                .values(message=message, updated_at=utcnow())) == 1

    def move_vmove(self, row: VMove, status: str, **values: Any) -> bool:
        """``row`` from the status we read to ``status``; False when another writer moved it."""
        now = utcnow()
        if status == "ongoing":
            values.setdefault("start_time", now)
        if status in ("succeeded", "failed", "ignored"):
            values.setdefault("end_time", now)
        with self.db.session() as s:
            return changed_rows(s, sa.update(VMove).where(VMove.id == row.id, VMove.status == row.status)
                                .values(status=status, updated_at=now, **values)) == 1
