"""Crash recovery and races, on every backend.

A dead worker is simulated by leaving rows in ``*-ing`` states with old timestamps; a
new service object's recovery must leave nothing stuck and quota usage equal to what
really exists.  The race test drives 100 concurrent attach requests through two
independent service objects ("two volume workers"): a volume without multiattach is
never attached twice, and a multiattach volume counts every attachment.
"""

from __future__ import annotations

import datetime as dt
import threading
import uuid

import sqlalchemy as sa

from pocketstack.common.context import RequestContext
from pocketstack.common.db.cas import RetriesExhausted, run_in_transaction
from pocketstack.common.errors import BadRequest
from pocketstack.volume import models as m
from pocketstack.volume.manager import VolumeManager
from pocketstack.volume.recovery import recover, recover_own

from conftest import unique


def make_project_context() -> RequestContext:
    return RequestContext(user_id=uuid.uuid4().hex, project_id=uuid.uuid4().hex, roles=["member", "reader"])


def make_volume(service, context, **spec):
    volume = service.volumes.create(context, {"size": 1, "name": unique("v"), **spec})
    # No event loop runs this service object, so the worker ran the create inline.
    assert service.volumes.get(context, volume.id).status == "available"
    return volume


def abandon(cloud, volume_id, status, **values):
    values.setdefault("task_started_at", dt.datetime.utcnow() - dt.timedelta(hours=1))
    with cloud.db.session() as s:
        s.execute(sa.update(m.Volume).where(m.Volume.id == volume_id).values(status=status, **values))


def test_recovery_leaves_nothing_stuck(cloud):
    service = VolumeManager(cloud)
    context = make_project_context()
    creating = make_volume(service, context)
    deleting = make_volume(service, context)
    extending = make_volume(service, context)
    attaching = make_volume(service, context)
    uploading = make_volume(service, context)
    attachment = service.attachments.create(context, attaching.id, str(uuid.uuid4()), {"host": "h"})
    abandon(cloud, creating.id, "creating")
    abandon(cloud, deleting.id, "deleting")
    # The extend request reserved its gigabytes before the worker died.
    run_in_transaction(cloud.db, lambda s: service.quotas.reserve(s, context.project_id, "__DEFAULT__", gigabytes=2))
    abandon(cloud, extending.id, "extending", task_args={"new_size": 3})
    abandon(cloud, attaching.id, "attaching")
    abandon(cloud, uploading.id, "uploading", task_args={"previous": "available", "image_id": "x"})
    backing_up = make_volume(service, context)
    backup = m.Backup(id=str(uuid.uuid4()), project_id=context.project_id, volume_id=backing_up.id, size=1,
                      status="creating", task_started_at=dt.datetime.utcnow() - dt.timedelta(hours=1))
    with cloud.db.session() as s:
        s.add(backup)
    abandon(cloud, backing_up.id, "backing-up", task_args={"previous": "available", "backup_id": backup.id})
    fresh = make_volume(service, context)
    abandon(cloud, fresh.id, "deleting", task_started_at=dt.datetime.utcnow())  # in progress elsewhere

    restarted = VolumeManager(cloud)  # a new process: its recovery runs before it serves
    counts = recover(restarted.worker, window=300)
    assert counts["resumed"] >= 2 and counts["failed"] >= 1 and counts["rolled_back"] >= 2

    get = lambda v: restarted.volumes.get(context, v.id)  # noqa: E731
    assert get(creating).status == "error" and "interrupted" in get(creating).status_reason
    assert get(extending).status == "available" and get(extending).size == 3
    assert restarted.backends.all[0].driver.path(extending.id).stat().st_size == 3 * 1024 ** 3
    assert get(attaching).status == "available" and get(attaching).attach_count == 0
    assert get(uploading).status == "available"
    assert get(backing_up).status == "available"
    assert restarted.backups.get(context, backup.id).status == "error"
    assert get(fresh).status == "deleting"  # young: not ours to touch
    with cloud.db.session(readonly=True) as s:
        assert s.get(m.Volume, deleting.id) is None
        assert s.get(m.Attachment, attachment.id) is None
        real = s.execute(sa.select(sa.func.count(), sa.func.sum(m.Volume.size)).where(
            m.Volume.project_id == context.project_id)).one()
    usage = restarted.quotas.usage(context.project_id)
    assert usage["volumes"] == real[0] and usage["gigabytes"] == real[1]


def own(cloud, model, row_id, status, owner, **values):
    """Leave a row in ``status`` as worker ``owner`` had claimed it a moment ago."""
    with cloud.db.session() as s:
        s.execute(sa.update(model).where(model.id == row_id).values(
            status=status, task_owner=owner, task_started_at=dt.datetime.utcnow(), **values))


def test_a_restarted_worker_recovers_its_own_work_at_once(cloud):
    """Every ``*-ing`` state a worker claims, left by its killed previous run moments ago
    (well inside the recovery window): ``recover_own`` settles them all; another worker's
    rows and rows whose lock is held are left alone."""
    service = VolumeManager(cloud)
    context = make_project_context()
    service.quotas.set_limits(context.project_id, {"volumes": -1, "gigabytes": -1, "snapshots": -1})
    vols = {name: make_volume(service, context).id for name in (
        "creating", "deleting", "extending", "uploading", "backing-up", "restoring-backup", "theirs", "locked")}
    source = make_volume(service, context)
    snap_creating = service.snapshots.create(context, source.id, "a", None, False, {})
    snap_deleting = service.snapshots.create(context, source.id, "b", None, False, {})
    backup_creating = service.backups.create(context, source.id, "c", None, False, False)
    backup_restoring = service.backups.create(context, source.id, "d", None, False, False)
    backup_deleting = service.backups.create(context, source.id, "e", None, False, False)
    run_in_transaction(cloud.db, lambda s: service.quotas.reserve(s, context.project_id, "__DEFAULT__", gigabytes=2))
    for status in ("creating", "deleting", "uploading", "restoring-backup"):
        own(cloud, m.Volume, vols[status], status, "host-a", task_args={"previous": "available"})
    own(cloud, m.Volume, vols["extending"], "extending", "host-a", task_args={"new_size": 3})
    own(cloud, m.Volume, vols["backing-up"], "backing-up", "host-a",
        task_args={"previous": "available", "backup_id": backup_creating.id})
    own(cloud, m.Volume, vols["theirs"], "deleting", "host-b")
    own(cloud, m.Volume, vols["locked"], "deleting", "host-a")
    own(cloud, m.Snapshot, snap_creating.id, "creating", "host-a")
    own(cloud, m.Snapshot, snap_deleting.id, "deleting", "host-a")
    own(cloud, m.Backup, backup_creating.id, "creating", "host-a")
    own(cloud, m.Backup, backup_restoring.id, "restoring", "host-a", restore_volume_id=vols["restoring-backup"])
    own(cloud, m.Backup, backup_deleting.id, "deleting", "host-a")

    restarted = VolumeManager(cloud)
    assert recover(restarted.worker, window=300) == {"resumed": 0, "rolled_back": 0, "failed": 0, "busy": 0}
    with cloud.coordinator.lock(f"volume-{vols['locked']}"):  # a live operation holds it
        counts = recover_own(restarted.worker, "host-a")
    assert counts == {"resumed": 4, "rolled_back": 3, "failed": 4, "busy": 1}

    with cloud.db.session(readonly=True) as s:
        status = {name: getattr(s.get(m.Volume, vid), "status", None) for name, vid in vols.items()}
        extended = s.get(m.Volume, vols["extending"])
        assert extended.size == 3 and extended.task_owner is None
        assert s.get(m.Snapshot, snap_creating.id).status == "error"
        assert s.get(m.Snapshot, snap_deleting.id) is None
        assert s.get(m.Backup, backup_creating.id).status == "error"
        assert s.get(m.Backup, backup_restoring.id).status == "available"
        assert s.get(m.Backup, backup_deleting.id) is None
    assert status == {"creating": "error", "deleting": None, "extending": "available", "uploading": "available",
                      "backing-up": "available", "restoring-backup": "error_restoring", "theirs": "deleting",
                      "locked": "deleting"}
    with cloud.db.session(readonly=True) as s:
        volumes = s.execute(sa.select(sa.func.count(), sa.func.sum(m.Volume.size)).where(
            m.Volume.project_id == context.project_id)).one()
        snapshots = s.execute(sa.select(sa.func.count(), sa.func.coalesce(sa.func.sum(m.Snapshot.size), 0)).where(
            m.Snapshot.project_id == context.project_id)).one()
    usage = restarted.quotas.usage(context.project_id)
    assert usage["volumes"] == volumes[0] and usage["snapshots"] == snapshots[0]
    assert usage["gigabytes"] == volumes[1] + snapshots[1]


def race(service_objects, context, volume_ids, per_volume):
    """``per_volume`` threads per volume, alternating between the service objects."""
    results: list[tuple[str, bool]] = []
    lock = threading.Lock()
    start = threading.Barrier(len(volume_ids) * per_volume)

    def attach(service, volume_id):
        start.wait()
        try:
            service.attachments.create(context, volume_id, str(uuid.uuid4()), None)
            ok = True
        except (BadRequest, RetriesExhausted):
            ok = False
        with lock:
            results.append((volume_id, ok))

    threads = [threading.Thread(target=attach, args=(service_objects[i % 2], vid))
               for vid in volume_ids for i in range(per_volume)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def test_racing_attaches_never_double_attach(cloud):
    workers = [VolumeManager(cloud), VolumeManager(cloud)]
    context = make_project_context()
    workers[0].quotas.set_limits(context.project_id, {"volumes": 50, "gigabytes": 50})
    volumes = [make_volume(workers[0], context).id for _ in range(10)]
    results = race(workers, context, volumes, per_volume=10)
    assert len(results) == 100
    with cloud.db.session(readonly=True) as s:
        for volume_id in volumes:
            wins = sum(ok for vid, ok in results if vid == volume_id)
            rows = s.scalar(sa.select(sa.func.count()).select_from(m.Attachment).where(
                m.Attachment.volume_id == volume_id))
            volume = s.get(m.Volume, volume_id)
            assert wins == 1 and rows == 1 and volume.attach_count == 1 and volume.status == "reserved"


def test_racing_multiattach_counts_every_attachment(cloud):
    workers = [VolumeManager(cloud), VolumeManager(cloud)]
    context = make_project_context()
    volume = make_volume(workers[0], context, multiattach=True)
    results = race(workers, context, [volume.id], per_volume=12)
    with cloud.db.session(readonly=True) as s:
        rows = s.scalar(sa.select(sa.func.count()).select_from(m.Attachment).where(
            m.Attachment.volume_id == volume.id))
        assert s.get(m.Volume, volume.id).attach_count == rows == sum(ok for _, ok in results) == 12
