"""The volume and snapshot state machines, and the one way to move along them.

Every status change is ``UPDATE ... WHERE id = :id AND status = :expected``: if another
request or worker changed the row first, the update matches nothing and the caller
gets :class:`ConcurrentUpdate` (retried by ``run_in_transaction`` or turned into a 400).
``*-ing`` states record ``task_started_at`` so recovery can tell work that a dead worker
abandoned from work in progress; every status change clears ``task_owner`` (the worker
that takes up the new state's operation records itself there, see ``worker.py``).  The table
is documented in docs/volume.md.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar, cast

from sqlalchemy.engine import CursorResult, Result
from sqlalchemy.orm import Session

from pocketstack.common.db.base import utcnow
from pocketstack.common.db.cas import cas_update
from pocketstack.volume import errors
from pocketstack.volume import models as m
from pocketstack.volume.errors import InvalidTransition

# Stable states from which a volume may be deleted (Cinder's rule).
DELETABLE = ("available", "error", "error_restoring", "error_extending", "error_managing")

# status -> statuses it may move to.  Anything else is a programming error.
VOLUME_TRANSITIONS: dict[str, tuple[str, ...]] = {
    "creating": ("available", "error"),
    "available": ("deleting", "extending", "reserved", "attaching", "backing-up",
                  "uploading", "downloading", "restoring-backup", "awaiting-transfer", "available",
                  "maintenance", "retyping", "unmanaging"),
    "reserved": ("attaching", "in-use", "available", "downloading"),
    "attaching": ("in-use", "available", "error_attaching"),
    "in-use": ("detaching", "in-use", "available", "uploading", "backing-up", "extending"),
    "detaching": ("available", "in-use"),
    "extending": ("available", "in-use", "error_extending"),  # in-use: an attached volume's extend (3.42)
    "deleting": ("deleted", "error_deleting"),
    "uploading": ("available", "in-use"),
    "downloading": ("available", "error", "reserved"),  # reserved: a re-image of a reserved volume (3.68)
    "backing-up": ("available", "in-use"),
    "restoring-backup": ("available", "error_restoring"),
    "awaiting-transfer": ("available",),  # transfer accepted (new owner) or deleted
    "error": ("deleting", "available", "in-use", "downloading", "unmanaging"),  # available / in-use: a (force-)detach
    "retyping": ("available",),  # a retype that migrates the volume to another backend (migration.py)
    "unmanaging": ("deleted",),  # os-unmanage: the row goes, the data stays (manage.py)
    "error_deleting": ("deleting",),
    "error_extending": ("deleting",),
    "error_restoring": ("deleting",),
    "error_attaching": ("available", "in-use"),
    "maintenance": ("available", "deleting", "in-use"),  # only an admin's os-reset_status puts a volume here
}

IN_PROGRESS = ("creating", "deleting", "extending", "attaching", "detaching", "uploading",
               "downloading", "backing-up", "restoring-backup", "unmanaging")

SNAPSHOT_IN_PROGRESS = ("creating", "deleting", "unmanaging")


def move(session: Session, volume_id: str, expected: str, status: str, *,
         extra_where: dict[str, Any] | None = None, **values: Any) -> None:
    """CAS ``volume_id`` from ``expected`` to ``status`` (plus ``values``)."""
    if status not in VOLUME_TRANSITIONS.get(expected, ()) and status != expected:
        raise InvalidTransition(volume_id=volume_id, expected=expected, target=status)
    values.setdefault("task_started_at", utcnow() if status in IN_PROGRESS else None)
    if status not in IN_PROGRESS:
        values.setdefault("task_args", None)
    if status != expected:
        values.setdefault("task_owner", None)
    cas_update(session, m.Volume, where={"id": volume_id, "status": expected, **(extra_where or {})},
               values={"status": status, "updated_at": utcnow(), **values})


def move_snapshot(session: Session, snapshot_id: str, expected: str, status: str, **values: Any) -> None:
    values.setdefault("task_started_at", utcnow() if status in SNAPSHOT_IN_PROGRESS else None)
    if status != expected:
        values.setdefault("task_owner", None)
    cas_update(session, m.Snapshot, where={"id": snapshot_id, "status": expected},
               values={"status": status, "updated_at": utcnow(), **values})


# Groups and group snapshots: the statuses the worker still has to settle.
GROUP_IN_PROGRESS = ("creating", "deleting")


def move_group(session: Session, model: type[m.Group] | type[m.GroupSnapshot], row_id: str, expected: str,
               status: str, *, extra_where: dict[str, Any] | None = None, **values: Any) -> None:
    """CAS a group or group snapshot from ``expected`` (and ``extra_where``, e.g. the
    group's ``generation`` the caller decided on) to ``status``; a group's generation is
    bumped.  ``task_started_at`` dates the ``creating``/``deleting`` it enters (for the
    recovery sweep)."""
    values.setdefault("task_started_at", utcnow() if status in GROUP_IN_PROGRESS else None)
    if model is m.Group:
        values["generation"] = m.Group.generation + 1
    cas_update(session, model, where={"id": row_id, "status": expected, **(extra_where or {})},
               values={"status": status, "updated_at": utcnow(), **values})


_Row = TypeVar("_Row", m.Volume, m.Snapshot, m.Backup, m.Attachment, m.VolumeType, m.Group, m.GroupSnapshot)
_MISSING: dict[type, Callable[[str], errors.NotFound]] = {
    m.Volume: lambda key: errors.VolumeNotFound(volume_id=key),
    m.Snapshot: lambda key: errors.SnapshotNotFound(snapshot_id=key),
    m.Backup: lambda key: errors.BackupNotFound(backup_id=key),
    m.Attachment: lambda key: errors.AttachmentNotFound(attachment_id=key),
    m.VolumeType: lambda key: errors.VolumeTypeNotFound(volume_type_id=key),
    m.Group: lambda key: errors.GroupNotFound(group_id=key),
    m.GroupSnapshot: lambda key: errors.GroupSnapshotNotFound(group_snapshot_id=key),
}


def existing(s: Session, model: type[_Row], key: str) -> _Row:
    """The row ``key`` of ``model`` that the caller has just seen: one deleted meanwhile (a
    concurrent delete won) is the resource's 404, never an AttributeError on None."""
    row = s.get(model, key)
    if row is None:
        raise _MISSING[model](key)
    return row


def rowcount(result: Result[Any]) -> int:
    """The rows a DELETE or UPDATE statement's ``result`` touched."""
    return cast("CursorResult[Any]", result).rowcount
