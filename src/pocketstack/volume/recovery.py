"""Recovery: nothing stays in a ``*-ing`` state after a worker dies.

Two passes, both run by every volume process (:mod:`.rpc`):

* :func:`recover_own`, when the worker starts: every row whose ``task_owner`` is this
  worker's identity was being worked on by this worker's previous run, which is dead —
  handled at once, whatever its age;
* :func:`recover`, at start and periodically: a row whose ``*-ing`` state is older than
  the recovery window was abandoned by a worker that never came back (or by a cast
  nobody took).

Either way a row whose tooz lock somebody holds is being worked on (a live operation
holds its lock from start to finish) and is left alone.  Each state is handled the way
that is safe for it — the table is in docs/volume.md:

* resumed (idempotent work): ``deleting``, ``extending``, snapshot ``deleting``;
* rolled back (nothing was changed yet that matters): ``attaching``/``detaching``/
  ``reserved``-in-progress attachments, ``uploading``, ``backing-up``;
* failed with a reason (partial data is unusable): ``creating``, ``downloading``,
  ``restoring-backup``, snapshot ``creating``, backup ``creating``;
* backups: ``deleting`` resumed, ``restoring`` back to ``available``.

Every change is the same CAS as in normal operation, so a worker that is in fact alive
and finishes first simply wins.
"""

from __future__ import annotations

import datetime as dt
import functools
import logging
from collections.abc import Callable
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from pocketstack.common.coordination import LockTimeout
from pocketstack.common.db.base import utcnow
from pocketstack.common.db.cas import RetriesExhausted, run_in_transaction
from pocketstack.volume import models as m
from pocketstack.volume.attachments import settle_attachments
from pocketstack.volume.backups import move_backup
from pocketstack.volume.states import (
    GROUP_IN_PROGRESS,
    IN_PROGRESS,
    SNAPSHOT_IN_PROGRESS,
    move,
    move_snapshot,
)

LOG = logging.getLogger(__name__)

RESUME = {"deleting": "delete", "extending": "extend", "unmanaging": "unmanage"}
FAIL = {"creating": "error", "downloading": "error", "restoring-backup": "error_restoring"}
ROLL_BACK = ("uploading", "backing-up")


def recover(worker, window: float) -> dict[str, int]:
    """Resume, roll back or fail every operation abandoned longer than ``window`` seconds
    ago; returns counts by outcome."""
    cutoff = utcnow() - dt.timedelta(seconds=window)
    counts = _recover(worker, lambda model: model.task_started_at < cutoff)
    counts["resumed"] += _resume_groups(worker, cutoff)
    return counts


def _resume_groups(worker, cutoff: dt.datetime) -> int:
    """Re-cast the settle of every group and group snapshot left ``creating``/``deleting``
    since before ``cutoff`` (the cast its last member made was lost): settles are
    idempotent and wait for members still working (:mod:`.groups`)."""
    casts = []
    with worker.db.session(readonly=True) as s:
        for model, kind in ((m.Group, "group"), (m.GroupSnapshot, "group_snapshot")):
            for row_id, status in s.execute(sa.select(model.id, model.status).where(
                    model.status.in_(GROUP_IN_PROGRESS), model.task_started_at < cutoff)):
                casts.append((f"{kind}_{'create' if status == 'creating' else 'delete'}", row_id))
    for operation, row_id in casts:
        worker.cast(operation, row_id)
    return len(casts)


def recover_own(worker, owner: str) -> dict[str, int]:
    """Resume, roll back or fail what ``owner`` (this worker, restarted) was doing when it
    died; ``busy`` counts rows whose lock is still held (the dead process's lock until the
    coordination backend expires it, or an operation this run has started since)."""
    return _recover(worker, lambda model: model.task_owner == owner)


def _recover(worker, selected: Callable[[Any], sa.ColumnElement[bool]]) -> dict[str, int]:
    counts = {"resumed": 0, "rolled_back": 0, "failed": 0, "busy": 0}
    with worker.db.session(readonly=True) as s:
        volumes = [(v.id, v.status, v.task_args) for v in s.scalars(sa.select(m.Volume).where(
            m.Volume.status.in_(IN_PROGRESS), selected(m.Volume)))]
        snapshots = [(x.id, x.status) for x in s.scalars(sa.select(m.Snapshot).where(
            m.Snapshot.status.in_(SNAPSHOT_IN_PROGRESS), selected(m.Snapshot)))]
        migrating = list(s.scalars(sa.select(m.Volume.id).where(m.Volume.migration_status == "migrating",
                                                                 selected(m.Volume))))
        backups = [(b.id, b.status) for b in s.scalars(sa.select(m.Backup).where(
            m.Backup.status.in_(("creating", "restoring", "deleting")), selected(m.Backup)))]
    for volume_id, status, args in volumes:
        try:
            # Holding the volume's lock: a live worker holds it for its whole operation, so
            # a volume whose lock is taken is being worked on, however long that takes.
            with worker.cloud.coordinator.lock(f"volume-{volume_id}", timeout=0):
                outcome = _recover_volume(worker, volume_id, status, args or {})
        except LockTimeout:
            counts["busy"] += 1
            continue
        except RetriesExhausted:
            continue  # the row moved on meanwhile (its worker finished)
        except Exception:  # noqa: BLE001 - one bad row must not stop the others
            LOG.exception("recovering volume %s from %s failed", volume_id, status)
            continue
        if status in RESUME:
            worker.cast(RESUME[status], volume_id)  # outside the lock: the operation takes it
        counts[outcome] += 1
        LOG.warning("volume %s was left %s: %s", volume_id, status, outcome.replace("_", " "))
    for volume_id in migrating:  # a copy to another backend: rolled back (migration.py)
        roll_back = worker.handlers["migrate_roll_back"]
        _count(worker, counts, f"volume-{volume_id}", functools.partial(roll_back, volume_id))
    for backup_id, status in backups:
        _count(worker, counts, f"backup-{backup_id}", functools.partial(_recover_backup, worker, backup_id, status))
    for snapshot_id, status in snapshots:
        _count(worker, counts, f"snapshot-{snapshot_id}",
               functools.partial(_recover_snapshot, worker, snapshot_id, status))
    return counts


def _count(worker, counts: dict[str, int], lock_name: str, recover_one: Callable[[], str]) -> None:
    """Recover one backup or snapshot unless its lock is held; count the outcome."""
    if _busy(worker, lock_name):
        counts["busy"] += 1
        return
    try:
        counts[recover_one()] += 1
    except RetriesExhausted:
        pass  # it moved on meanwhile: its worker finished after all
    except Exception:  # noqa: BLE001 - one bad row must not stop the others
        LOG.exception("recovering %s failed", lock_name)


def _recover_snapshot(worker, snapshot_id: str, status: str) -> str:
    """``deleting`` and ``unmanaging`` resume; an interrupted snapshot fails (its partial
    copy is removed)."""
    if status in ("deleting", "unmanaging"):
        worker.cast({"deleting": "snapshot_delete", "unmanaging": "snapshot_unmanage"}[status], snapshot_id)
        return "resumed"
    worker.driver.delete_snapshot(snapshot_id)
    run_in_transaction(worker.db, lambda s: move_snapshot(
        s, snapshot_id, "creating", "error", status_reason="snapshot creation was interrupted"), attempts=1)
    return "failed"


def _busy(worker, lock_name: str) -> bool:
    """True when some worker holds ``lock_name``: it holds it for the whole operation, so
    the operation is alive, not abandoned."""
    try:
        with worker.cloud.coordinator.lock(lock_name, timeout=0):
            return False
    except LockTimeout:
        return True


def _recover_backup(worker, backup_id: str, status: str) -> str:
    """``deleting`` resumes; an interrupted backup fails (its volume is rolled back with
    the volumes above); an interrupted restore leaves the backup intact (its target
    volume fails with the volumes above)."""
    if status == "deleting":
        worker.cast("backup_delete", backup_id)
        return "resumed"
    target = "error" if status == "creating" else "available"

    def work(s: Session) -> None:
        move_backup(s, backup_id, status, target, fail_reason=f"{status} was interrupted by a worker restart",
                    restore_volume_id=None)
        backup = s.get(m.Backup, backup_id)
        if status == "creating" and backup is not None and backup.snapshot_id:
            move_snapshot(s, backup.snapshot_id, "backing-up", "available")  # a volume is rolled back above
    run_in_transaction(worker.db, work, attempts=1)
    return "failed" if status == "creating" else "rolled_back"


def _recover_volume(worker, volume_id: str, status: str, args: dict) -> str:
    """Called holding the volume's lock; a resumed operation is cast by the caller."""
    if status in RESUME:
        # Refresh the timestamp first so a second recovering process does not also resume it.
        run_in_transaction(worker.db, lambda s: move(s, volume_id, status, status, task_args=args),
                           attempts=1)
        return "resumed"
    if status in FAIL:
        with worker.db.session(readonly=True) as s:
            if s.scalar(sa.select(m.Volume.status).where(m.Volume.id == volume_id)) != status:
                raise RetriesExhausted(f"volume {volume_id} left {status}")  # finished meanwhile
        if status == "creating":
            worker.driver.delete_volume(volume_id)
        reason = f"{status} was interrupted by a worker restart"
        run_in_transaction(worker.db, lambda s: move(s, volume_id, status, FAIL[status], status_reason=reason),
                           attempts=1)
        return "failed"
    if status in ROLL_BACK:
        run_in_transaction(worker.db, lambda s: move(s, volume_id, status, args.get("previous", "available")),
                           attempts=1)
        return "rolled_back"

    def settle(s: Session) -> None:  # attaching / detaching
        settle_attachments(s, volume_id, status)
    run_in_transaction(worker.db, settle, attempts=1)
    return "rolled_back"
