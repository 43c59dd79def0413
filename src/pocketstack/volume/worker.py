"""The volume worker: does the slow part of every operation the API has accepted.

The API persists the ``*-ing`` state first (a CAS), then *casts* the operation over RPC
(the ``volume`` topic, :mod:`.rpc`); an operation is addressed only by ids and re-reads
everything it needs from the database.  Each operation runs as an asyncio task
that holds the tooz lock of its volume (two workers on one backend can run
active/active) and does the blocking data work in a thread.  It finishes with a CAS out
of the ``*-ing`` state; if the row is no longer in the state the operation was cast
for (an admin reset it, another worker finished it), the operation does nothing.

Before its work an operation *claims* its rows: it records this worker's identity (its
host name) as their ``task_owner``.  A worker that is killed and started again thus knows
at once which ``*-ing`` rows were its own, and recovers them when it starts instead of
waiting out the recovery window (:func:`~.recovery.recover_own`).
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import Callable

import sqlalchemy as sa
from sqlalchemy.orm import Session

from pocketstack.common import rpc
from pocketstack.common.context import RequestContext
from pocketstack.common.db.cas import run_in_transaction
from pocketstack.common.rpc.bridge import submit
from pocketstack.volume import messages
from pocketstack.volume import models as m
from pocketstack.volume.backends import Backends, VolumeData
from pocketstack.volume.metadata import Items
from pocketstack.volume.states import move, move_snapshot, rowcount
from pocketstack.volume.volumes import image_metadata_of

LOG = logging.getLogger(__name__)


# Records ``owner`` as the owner of the rows an operation on ``resource_id`` works on.
Claim = Callable[[Session, str, str], None]


def claim_row(model, status: str) -> Claim:
    """A claim of the ``model`` row ``resource_id`` while it is in ``status`` (a row that
    moved on is left alone: the operation will find nothing to do)."""
    def claim(s: Session, resource_id: str, owner: str) -> None:
        s.execute(sa.update(model).where(model.id == resource_id, model.status == status).values(task_owner=owner))
    return claim


def load_if(db, model, row_id: str, **expected):
    """The ``model`` row ``row_id``, detached from its session, if its columns hold the
    ``expected`` values: an operation acts only on a row still in the state it was cast
    for (an admin reset it, another worker finished it: nothing to do)."""
    with db.session(readonly=True) as s:
        row = s.get(model, row_id)
        if row is None or any(getattr(row, column) != value for column, value in expected.items()):
            return None
        s.expunge(row)
        return row


class VolumeWorker:
    def __init__(self, cloud, driver: VolumeData, quotas, types, backends: Backends):
        self.cloud = cloud
        self.db = cloud.db
        self.image_items = Items(cloud.db, m.VolumeImageMetadata, "volume_id")
        self.driver = driver  # each volume's data, on its backend
        self.backends = backends
        self.quotas = quotas
        self.types = types
        self.loop: asyncio.AbstractEventLoop | None = None
        self.client: rpc.RPCClient | None = None  # casts to the volume topic, once started
        self.delay = cloud.settings.volume_operation_delay
        self.tasks: set[asyncio.Task] = set()
        # Operations other modules run through this worker (backups), by name.
        self.handlers: dict[str, Callable[[str], None]] = {}
        # This worker's name as the owner of the rows it works on (set when it serves the
        # volume topic), and how each operation claims its rows.
        self.identity: str | None = None
        self.claims: dict[str, Claim] = {
            "create": claim_row(m.Volume, "creating"), "delete": claim_row(m.Volume, "deleting"),
            "reimage": claim_row(m.Volume, "downloading"),
            "extend": claim_row(m.Volume, "extending"), "upload_image": claim_row(m.Volume, "uploading"),
            "snapshot_create": claim_row(m.Snapshot, "creating"), "snapshot_delete": claim_row(m.Snapshot, "deleting"),
            "unmanage": claim_row(m.Volume, "unmanaging"), "snapshot_unmanage": claim_row(m.Snapshot, "unmanaging")}

    # -- dispatch --------------------------------------------------------------------
    def cast(self, operation: str, resource_id: str) -> None:
        """Have ``operation`` run on ``resource_id`` by a volume process: an RPC cast on the
        ``volume`` topic once the service is started (see :mod:`.rpc`), inline when nothing
        is started (a bare ``Cloud`` used by a script or a process that only borrows the
        managers)."""
        if self.loop is None or self.client is None:
            with self.cloud.coordinator.lock(self._lock_name(operation, resource_id)):
                self._method(operation)(resource_id)
            return
        submit(self.loop, self._send(operation, resource_id), self.tasks)

    async def _send(self, operation: str, resource_id: str) -> None:
        assert self.client is not None  # cast() sends only once the service started
        try:
            await self.client.cast("run", operation=operation, resource_id=resource_id)
        except rpc.Timeout:
            # The volume is already in its *-ing state: the recovery sweep deals with it.
            LOG.error("cast %s of %s not confirmed by the broker", operation, resource_id)

    def _method(self, operation: str) -> Callable[[str], None]:
        return self.handlers.get(operation) or getattr(self, "do_" + operation)

    async def run(self, operation: str, resource_id: str) -> None:
        """Run one cast operation here (the RPC endpoint): under the resource's tooz lock,
        the blocking work in a thread, after the configured test delay."""
        try:
            async with self.cloud.coordinator.alock(self._lock_name(operation, resource_id)):
                await asyncio.to_thread(self._claim_then_run, operation, resource_id)
        except Exception:
            LOG.exception("volume operation %s on %s failed", operation, resource_id)

    def _claim_then_run(self, operation: str, resource_id: str) -> None:
        """Claim the rows (before the test delay, so a kill during it leaves them owned),
        then run the operation."""
        claim, identity = self.claims.get(operation), self.identity
        if identity is not None and claim is not None:
            run_in_transaction(self.db, lambda s: claim(s, resource_id, identity))
        if self.delay:
            time.sleep(self.delay)  # volume_operation_delay: lets crash tests kill mid-operation
        self._method(operation)(resource_id)

    @staticmethod
    def _lock_name(operation: str, resource_id: str) -> str:
        kind = operation.split("_")[0] if operation.startswith(("snapshot_", "backup_")) else "volume"
        return f"{kind}-{resource_id}"

    async def drain(self) -> None:
        if self.tasks:
            await asyncio.gather(*list(self.tasks), return_exceptions=True)

    # -- helpers ---------------------------------------------------------------------
    def load(self, volume_id: str, status: str) -> m.Volume | None:
        return load_if(self.db, m.Volume, volume_id, status=status)

    def _finish(self, volume_id: str, expected: str, status: str, **values) -> bool:
        def work(s: Session) -> None:
            move(s, volume_id, expected, status, **values)
        try:
            run_in_transaction(self.db, work, attempts=1)
        except Exception as error:  # noqa: BLE001 - the row moved on without us
            LOG.warning("volume %s left %s before the worker finished: %s", volume_id, expected, error)
            return False
        return True

    def _fail_create(self, volume: m.Volume, reason: str, action: tuple[str, str], detail: tuple[str, str],
                     **values) -> None:
        """``creating`` → ``error`` and the user message that says why, in one transaction."""
        def work(s: Session) -> None:
            move(s, volume.id, "creating", "error", status_reason=reason, **values)
            messages.record(s, volume.project_id, (volume.task_args or {}).get("request_id"), messages.VOLUME,
                            volume.id, action, detail)
        try:
            run_in_transaction(self.db, work, attempts=1)
        except Exception as error:  # noqa: BLE001 - the row moved on without us
            LOG.warning("volume %s left creating before the worker finished: %s", volume.id, error)

    def _settle(self, operation: str, group_id: str | None) -> None:
        """Let the group (or group snapshot) of a member that just finished settle (see
        :mod:`.groups`)."""
        if group_id is not None:
            self.cast(operation, group_id)

    # -- operations ------------------------------------------------------------------
    def do_create(self, volume_id: str) -> None:
        volume = self.load(volume_id, "creating")
        if volume is not None:
            self._create(volume)
            self._settle("group_create", volume.group_id)

    def _create(self, volume: m.Volume) -> None:
        """The scheduler's check first (Cinder's: a type whose extra specs no backend
        matches leaves the volume in ``error``, on no host, with a user message), then the
        driver's work (a failure there is ``error`` with its own message)."""
        volume_id = volume.id
        args = volume.task_args or {}
        vtype = self.types.get_by_id(volume.volume_type_id)
        backend = self.backends.by_host(volume.host)
        if backend is None or (vtype is not None and not self.backends.capabilities(backend).serves(
                vtype.extra_specs or {})):
            LOG.error("volume %s: no valid backend for volume type %s", volume_id, vtype and vtype.name)
            self._fail_create(volume, "No valid backend was found.", messages.SCHEDULE_ALLOCATE_VOLUME,
                              messages.NO_BACKEND_AVAILABLE, host=None)
            return

        def work() -> dict | None:
            self.cloud.faults.check("volume", "create")
            if volume.snapshot_id:
                self.driver.volume_from_snapshot(volume.snapshot_id, volume.id, volume.size)
                return {"bootable": self._source_bootable(snapshot_id=volume.snapshot_id)}
            elif volume.source_volid:
                self.driver.clone_volume(volume.source_volid, volume.id, volume.size)
                return {"bootable": self._source_bootable(volume_id=volume.source_volid)}
            elif volume.image_id:
                images = self.cloud.image
                if images is None:
                    raise ValueError("the image service is not running")
                image, chunks = images.open_data(RequestContext.admin(), volume.image_id)
                if chunks is None:
                    raise ValueError(f"image {volume.image_id} has no data")
                self.driver.write_image(volume.id, chunks, args.get("disk_format") or image.disk_format,
                                        volume.size)
                return {"bootable": True}
            else:
                self.driver.create_volume(volume.id, volume.size)
            return None

        try:
            values = work() or {}
        except Exception as error:  # noqa: BLE001 - any driver failure ends in error
            LOG.error("volume %s: creating failed: %s", volume_id, error)
            self._fail_create(volume, str(error), messages.CREATE_VOLUME_FROM_BACKEND, messages.DRIVER_FAILED_CREATE)
            return
        self._finish(volume_id, "creating", "available", status_reason=None, **values)

    def _source_bootable(self, volume_id: str | None = None, snapshot_id: str | None = None) -> bool:
        """A clone, or a volume from a snapshot, is as bootable as the volume it copies."""
        with self.db.session(readonly=True) as s:
            if snapshot_id is not None:
                volume_id = s.scalar(sa.select(m.Snapshot.volume_id).where(m.Snapshot.id == snapshot_id))
            return bool(s.scalar(sa.select(m.Volume.bootable).where(m.Volume.id == volume_id)))

    def do_delete(self, volume_id: str) -> None:
        volume = self.load(volume_id, "deleting")
        if volume is not None:
            self._delete(volume)
            self._settle("group_delete", volume.group_id)

    def _delete(self, volume: m.Volume) -> None:
        """Delete the volume, after the snapshots a cascade delete moved to ``deleting``
        with it; a snapshot that cannot be deleted leaves the volume ``error_deleting``."""
        volume_id = volume.id
        with self.db.session(readonly=True) as s:
            snapshot_ids = list(s.scalars(sa.select(m.Snapshot.id).where(m.Snapshot.volume_id == volume_id,
                                                                          m.Snapshot.status == "deleting")))
        for snapshot_id in snapshot_ids:
            self.do_snapshot_delete(snapshot_id)
        if snapshot_ids and self._snapshots_left(volume_id):
            self._finish(volume_id, "deleting", "error_deleting", status_reason="a snapshot could not be deleted")
            return
        try:
            self.driver.delete_volume(volume_id)
        except Exception as error:  # noqa: BLE001
            self._finish(volume_id, "deleting", "error_deleting", status_reason=str(error))
            return
        self.remove_volume_row(volume, "deleting")

    def remove_volume_row(self, volume: m.Volume, status: str) -> None:
        """The row of a volume deleted (or unmanaged) in ``status``, its metadata,
        attachments and quota, in one transaction."""
        volume_id = volume.id
        vtype = self.types.get_by_id(volume.volume_type_id)

        def work(s: Session) -> None:
            result = s.execute(sa.delete(m.Volume).where(m.Volume.id == volume_id, m.Volume.status == status))
            if rowcount(result) != 1:
                LOG.warning("volume %s: %s finished after the row moved on", volume_id, status)
                return
            s.execute(sa.delete(m.VolumeMetadata).where(m.VolumeMetadata.volume_id == volume_id))
            s.execute(sa.delete(m.Attachment).where(m.Attachment.volume_id == volume_id))
            self.quotas.reserve(s, volume.project_id, vtype.name if vtype else None,
                                volumes=-1, gigabytes=-volume.size)
        run_in_transaction(self.db, work)

    def _snapshots_left(self, volume_id: str) -> int:
        with self.db.session(readonly=True) as s:
            return s.scalar(sa.select(sa.func.count()).select_from(m.Snapshot)
                            .where(m.Snapshot.volume_id == volume_id)) or 0

    def do_extend(self, volume_id: str) -> None:
        volume = self.load(volume_id, "extending")
        if volume is None:
            return
        new_size = (volume.task_args or {}).get("new_size")
        if not isinstance(new_size, int):  # an admin reset the volume to extending
            self._fail_extend(volume_id, "the extend has no new size")
            return
        try:
            self.driver.extend_volume(volume_id, new_size)
        except Exception as error:  # noqa: BLE001 - any driver failure ends in error_extending
            LOG.error("volume %s: extending failed: %s", volume_id, error)
            self._fail_extend(volume_id, str(error))
            return
        # Cinder's extend_volume_completion: back to the status the attachments give.
        status = "in-use" if volume.attach_count else "available"
        if self._finish(volume_id, "extending", status, status_reason=None, size=new_size) and volume.attach_count:
            self._notify_extended(volume_id)

    def _notify_extended(self, volume_id: str) -> None:
        """Cinder's ``nova_api.extend_volume``: a ``volume-extended`` event (tag: the
        volume) for every server the volume is attached to, so its host resizes the
        guest's disk; a server Compute does not accept the event for is skipped."""
        compute = self.cloud.compute
        if compute is None:
            return
        with self.db.session(readonly=True) as s:
            instances = sorted(set(s.scalars(sa.select(m.Attachment.instance_uuid).where(
                m.Attachment.volume_id == volume_id, m.Attachment.instance_uuid.is_not(None)))))
        request_id = f"req-{uuid.uuid4()}"
        for instance_id in instances:
            if compute.deliver_event(instance_id, "volume-extended") != 200:
                LOG.warning("volume %s extended: compute refused the event for server %s", volume_id, instance_id)
                continue
            compute.volume_extended(instance_id, volume_id, request_id, None, None)

    def _fail_extend(self, volume_id: str, reason: str) -> None:
        """``error_extending`` at the old size, and the reserved gigabytes given back, in one
        transaction (as Cinder rolls back the extend's reservation)."""
        def work(s: Session) -> None:
            row = s.get(m.Volume, volume_id)
            if row is None or row.status != "extending":
                return  # an admin reset or force-deleted it meanwhile, and released the gigabytes
            self.quotas.release_extension(s, row)
            move(s, volume_id, "extending", "error_extending", status_reason=reason)
        run_in_transaction(self.db, work)

    def do_reimage(self, volume_id: str) -> None:
        """``os-reimage`` (3.68): the image written over the volume's data, its image
        metadata replaced, the volume back to its status (``error`` when the write fails)."""
        volume = self.load(volume_id, "downloading")
        if volume is None:
            return
        args = volume.task_args or {}
        try:
            images = self.cloud.image
            if images is None:
                raise ValueError("the image service is not running")
            image, chunks = images.open_data(RequestContext.admin(), args["image_id"])
            if chunks is None:
                raise ValueError(f"image {args['image_id']} has no data")
            self.driver.write_image(volume_id, chunks, args.get("disk_format") or image.disk_format, volume.size)
        except Exception as error:  # noqa: BLE001 - any failure leaves the volume in error, as in Cinder
            LOG.error("volume %s: re-image failed: %s", volume_id, error)
            self._finish(volume_id, "downloading", "error")
            return

        def work(s: Session) -> None:
            move(s, volume_id, "downloading", args.get("previous") or "available", bootable=True)
            self.image_items.replace_in(s, volume_id, image_metadata_of(image))
        try:
            run_in_transaction(self.db, work, attempts=1)
        except Exception as error:  # noqa: BLE001 - the row moved on without us (an admin's reset)
            LOG.warning("volume %s left downloading before the re-image finished: %s", volume_id, error)

    def do_upload_image(self, volume_id: str) -> None:
        volume = self.load(volume_id, "uploading")
        if volume is None:
            return
        args = volume.task_args or {}
        images = self.cloud.image
        try:
            if images is None:
                raise ValueError("the image service is not running")
            images.upload(RequestContext.admin(), args["image_id"], self.driver.read_volume(volume_id, 1 << 20))
        except Exception as error:  # noqa: BLE001 - the image is killed; the volume is unharmed
            LOG.error("volume %s: upload to image %s failed: %s", volume_id, args.get("image_id"), error)
        self._finish(volume_id, "uploading", args.get("previous", "available"))

    def do_snapshot_create(self, snapshot_id: str) -> None:
        snapshot = self.load_snapshot(snapshot_id, "creating")
        if snapshot is None:
            return
        try:
            with self.cloud.coordinator.lock(f"volume-{snapshot.volume_id}"):
                self.driver.create_snapshot(snapshot.volume_id, snapshot_id)
            status, reason = "available", None
        except Exception as error:  # noqa: BLE001
            status, reason = "error", str(error)
        self._finish_snapshot(snapshot_id, "creating", status, status_reason=reason)
        self._settle("group_snapshot_create", snapshot.group_snapshot_id)

    def do_snapshot_delete(self, snapshot_id: str) -> None:
        snapshot = self.load_snapshot(snapshot_id, "deleting")
        if snapshot is None:
            return
        try:
            self.driver.delete_snapshot(snapshot_id)
        except Exception as error:  # noqa: BLE001
            self._finish_snapshot(snapshot_id, "deleting", "error_deleting", status_reason=str(error))
        else:
            self.remove_snapshot(snapshot, "deleting")
        self._settle("group_snapshot_delete", snapshot.group_snapshot_id)

    def remove_snapshot(self, snapshot: m.Snapshot, status: str) -> None:
        """The row of a snapshot deleted (or unmanaged) in ``status``, its metadata and
        quota, in one transaction."""
        snapshot_id = snapshot.id
        with self.db.session(readonly=True) as s:
            volume = s.get(m.Volume, snapshot.volume_id)
            type_name = (self.types.get_by_id(volume.volume_type_id).name
                         if volume is not None and volume.volume_type_id else None)

        def work(s: Session) -> None:
            s.execute(sa.delete(m.SnapshotMetadata).where(m.SnapshotMetadata.snapshot_id == snapshot_id))
            result = s.execute(sa.delete(m.Snapshot).where(m.Snapshot.id == snapshot_id,
                                                           m.Snapshot.status == status))
            if rowcount(result) == 1:
                self.quotas.reserve(s, snapshot.project_id, type_name, snapshots=-1, gigabytes=-snapshot.size)
        run_in_transaction(self.db, work)

    def load_snapshot(self, snapshot_id: str, status: str) -> m.Snapshot | None:
        return load_if(self.db, m.Snapshot, snapshot_id, status=status)

    def _finish_snapshot(self, snapshot_id: str, expected: str, status: str, **values) -> None:
        try:
            run_in_transaction(self.db, lambda s: move_snapshot(s, snapshot_id, expected, status, **values),
                               attempts=1)
        except Exception as error:  # noqa: BLE001
            LOG.warning("snapshot %s left %s before the worker finished: %s", snapshot_id, expected, error)

