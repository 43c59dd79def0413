"""Block device mappings: the volumes a server boots from or has attached.

Nova's side of volumes, kept in ``compute_block_device_mapping`` and carried out through
the Block Storage service's manager in process (the calls Nova makes over Cinder's API):

* the API validates ``block_device_mapping_v2`` (:func:`parse`) and stores one row per
  volume with the instance, in the transaction that creates it;
* the build's ``block_device_mapping`` step (:meth:`BlockDevices.prepare`) creates each
  volume that does not exist yet (from an image, a snapshot or blank), waits until it is
  ``available``, and attaches it to the instance (attachment create → complete); every
  step records what it did in the row first, so a build resumed after a restart carries on
  instead of creating a second volume;
* a failed build and a server delete (:meth:`BlockDevices.release`) detach every volume
  and delete those marked ``delete_on_termination``.
"""

from __future__ import annotations

import contextlib
import logging
import math
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import sqlalchemy as sa

from pocketstack.common.context import RequestContext
from pocketstack.common.db import Database
from pocketstack.common.db.cas import cas_update
from pocketstack.common.errors import ApiError, NotFound
from pocketstack.compute import errors
from pocketstack.compute.models import BlockDeviceMapping, Instance

if TYPE_CHECKING:
    from pocketstack.compute.drivers.base import Driver
    from pocketstack.image.contract import ImageView
    from pocketstack.volume.contract import VolumeContract

LOG = logging.getLogger(__name__)

GiB = 1 << 30
# Nova's block_device_allocate_retries (60) x block_device_allocate_retries_interval (3 s).
VOLUME_WAIT_SECONDS = 180.0
ROOT_DEVICE = "/dev/vda"
_BAD_BOOT_SEQUENCE = "Boot sequence for the instance and image/block device mapping combination is not valid."


class BlockDeviceError(Exception):
    """A volume could not be created or attached: the build fails with this message."""


@dataclass
class BootDisks:
    """What ``block_device_mapping_v2`` asks for, validated."""

    boot_from_volume: bool
    image_id: str  # the image to boot; "" for a volume-backed server
    image_properties: dict
    rows: list[dict]  # column values of the compute_block_device_mapping rows to store


def _bool(value, name: str) -> bool:
    text = str(value).lower()
    if text in ("true", "1", "yes", "on"):
        return True
    if text in ("false", "0", "no", "off"):
        return False
    raise errors.InvalidBlockDeviceField(name=name, value=value)


def _int(value, name: str) -> int | None:
    if value is None or value == "":
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        raise errors.InvalidBlockDeviceField(name=name, value=value) from None


def parse(volume_service: VolumeContract | None, context: RequestContext, mappings: list[dict], image_ref: str,
          max_count: int, bootable_image: Callable[[str], ImageView], volume_types: bool = False,
          multiattach: bool = False) -> BootDisks | None:
    """Validate ``block_device_mapping_v2`` as Nova does (a 400 for anything wrong);
    ``None`` when nothing in it involves a volume (the server boots from ``image_ref``).
    With ``volume_types`` (2.67) a mapping's ``volume_type`` names the type of the volume
    the build creates (a type the caller may see); with ``multiattach`` (2.60) an existing
    volume may be a multiattach one, which may be in use by other servers already."""
    rows: list[dict] = []
    boot: dict | None = None
    boot_indexes = []
    volumes = None
    for bdm in mappings:
        source = bdm.get("source_type") or "image"
        destination = bdm.get("destination_type") or "local"
        boot_index = _int(bdm.get("boot_index"), "boot_index")
        if boot_index is not None and boot_index >= 0:
            boot_indexes.append(boot_index)
        volume_type = bdm.get("volume_type") if volume_types else None
        if destination == "local":
            if source not in ("image", "blank"):
                raise errors.InvalidBlockDeviceMapping(reason="Mapping image to local is not supported.")
            if volume_type:
                raise errors.InvalidBlockDeviceMapping(
                    reason="Specifying a volume_type with destination_type=local is not supported.")
            continue  # local disks (the image root, ephemerals) are the hypervisor's business
        if volumes is None:
            volumes = volume_service
            if volumes is None:
                raise errors.InvalidBlockDeviceMapping(
                    reason="the block storage service is not running in this cloud.")
        size = _int(bdm.get("volume_size"), "volume_size")
        if size is not None and size < 1:
            raise errors.InvalidBlockDeviceField(name="volume_size", value=size)
        row = {"source_type": source, "destination_type": "volume", "boot_index": boot_index,
               "volume_size": size, "device_name": bdm.get("device_name") or None,
               "delete_on_termination": _bool(bdm.get("delete_on_termination", False), "delete_on_termination"),
               "image_id": None, "snapshot_id": None, "volume_id": None, "volume_type": None,
               "tag": bdm.get("tag") or None}
        if volume_type:
            if source == "volume":
                raise errors.InvalidBlockDeviceMapping(
                    reason="Specifying volume type to existing volume is not supported.")
            try:
                row["volume_type"] = volumes.types.resolve(context, volume_type).id
            except NotFound:
                raise errors.BootVolumeTypeNotFound(volume_type=volume_type) from None
        uuid_ = bdm.get("uuid")
        if source in ("image", "volume", "snapshot") and not uuid_:
            raise errors.InvalidBlockDeviceMapping(reason="Missing device UUID.")
        if source == "image":
            if not size:
                raise errors.ImageVolumeSizeMissing()
            image = bootable_image(str(uuid_))
            needed = max(math.ceil((image.size or 0) / GiB), image.min_disk or 0, 1)
            if size < needed:
                raise errors.VolumeSmallerThanImage(size=size * GiB, minimum=needed * GiB)
            row["image_id"] = image.id
        elif source == "blank":
            if not size:
                raise errors.InvalidBlockDeviceMapping(reason="Blank volumes need a volume_size.")
        elif source == "snapshot":
            try:
                snapshot = volumes.snapshots.get(context, str(uuid_))
            except NotFound:
                raise errors.InvalidBlockDeviceMapping(reason=f"failed to get snapshot {uuid_}.") from None
            row["snapshot_id"] = snapshot.id
        else:  # an existing volume
            try:
                volume = volumes.volumes.get(context, str(uuid_))
            except NotFound:
                raise errors.InvalidBlockDeviceMapping(reason=f"failed to get volume {uuid_}.") from None
            if volume.multiattach and not multiattach:
                raise errors.MultiattachNotSupportedOldMicroversion()
            if volume.status != "available" and not (volume.multiattach and volume.status == "in-use"):
                raise errors.VolumeNotAvailable(volume_id=volume.id, volume_status=volume.status)
            if max_count > 1:
                raise errors.VolumeForMultipleInstances()
            if boot_index == 0 and not volume.bootable and not image_ref:
                # Nova asks a boot volume to be bootable only when no imageRef describes
                # the server (``get_bdm_image_metadata``); with one, any volume may be the root.
                raise errors.VolumeNotBootable(volume_id=volume.id)
            row["volume_id"] = volume.id
            row["image_id"] = volume.image_id
        if boot_index == 0:
            boot = row
        rows.append(row)
    if sorted(boot_indexes) != list(range(len(boot_indexes))):
        raise errors.InvalidBlockDeviceMapping(reason=_BAD_BOOT_SEQUENCE)
    if not rows:
        return None
    devices = iter(f"/dev/vd{letter}" for letter in "bcdefghijklmnopqrstuvwxyz")
    for row in rows:
        if row is boot:
            row["device_name"] = ROOT_DEVICE
        elif not row["device_name"]:
            row["device_name"] = next(devices)
    if boot is None:
        if not image_ref:
            raise errors.InvalidBlockDeviceMapping(reason=_BAD_BOOT_SEQUENCE)
        image = bootable_image(image_ref)
        return BootDisks(False, image.id, dict(image.properties), rows)
    if image_ref:  # Nova records the imageRef (and boots with its metadata) whatever the root disk
        image = bootable_image(image_ref)
        return BootDisks(True, image.id, dict(image.properties), rows)
    properties: dict = {}
    if boot["image_id"] and boot["source_type"] in ("image", "volume"):
        try:
            properties = dict(bootable_image(boot["image_id"]).properties)
        except ApiError:
            properties = {}  # the volume outlived its image: boot it without image properties
    return BootDisks(True, "", properties, rows)  # Nova records no image for a volume-backed server


def _instance_context(inst: Instance) -> RequestContext:
    """Who a build's volumes are created for: the server's project."""
    return RequestContext(user_id=inst.user_id, project_id=inst.project_id, roles=["member", "reader"])


# The host's own authority over the attachments of its servers' volumes (Nova's compute
# elevates its context the same way): the API already decided who may attach what, and an
# admin may attach a volume of another project than the server's, which the server's
# project cannot see.  Lists are of every project's attachments, narrowed to the server.
_HOST = RequestContext.admin()


class BlockDevices:
    def __init__(self, db: Database, volumes: Callable[[], VolumeContract | None]):
        self.db = db
        self.volumes = volumes  # -> the volume service's contract, None when there is none

    # -- reading ---------------------------------------------------------------------
    def for_instance(self, instance_id: str) -> list[BlockDeviceMapping]:
        with self.db.session(readonly=True) as s:
            rows = list(s.scalars(sa.select(BlockDeviceMapping)
                                  .where(BlockDeviceMapping.instance_id == instance_id)
                                  .order_by(BlockDeviceMapping.boot_index.is_(None), BlockDeviceMapping.boot_index,
                                            BlockDeviceMapping.created_at, BlockDeviceMapping.id)))
            s.expunge_all()
            return rows

    def for_volume(self, volume_id: str) -> list[BlockDeviceMapping]:
        """The mappings of a volume: one per server it is attached to."""
        with self.db.session(readonly=True) as s:
            rows = list(s.scalars(sa.select(BlockDeviceMapping).where(BlockDeviceMapping.volume_id == volume_id)
                                  .order_by(BlockDeviceMapping.created_at, BlockDeviceMapping.id)))
            s.expunge_all()
            return rows

    def volumes_attached(self, instance_ids: list[str]) -> dict[str, list[BlockDeviceMapping]]:
        """The volume mappings of many servers in one query (server list rendering)."""
        result: dict[str, list[BlockDeviceMapping]] = {i: [] for i in instance_ids}
        if not instance_ids:
            return result
        with self.db.session(readonly=True) as s:
            for row in s.scalars(sa.select(BlockDeviceMapping)
                                 .where(BlockDeviceMapping.instance_id.in_(instance_ids),
                                        BlockDeviceMapping.volume_id.is_not(None))
                                 .order_by(BlockDeviceMapping.created_at, BlockDeviceMapping.id)):
                result[row.instance_id].append(row)
            s.expunge_all()
        return result

    def root_volume(self, instance_id: str) -> tuple[str, str] | None:
        """The local file and the id of the volume a server boots from (boot index 0),
        for a hypervisor on this machine; None when it boots from an image."""
        root = next((row for row in self.for_instance(instance_id)
                     if row.boot_index == 0 and row.destination_type == "volume" and row.volume_id), None)
        manager = self.volumes()
        if root is None or root.volume_id is None or manager is None:
            return None
        return manager.volume_file(root.volume_id), root.volume_id

    # -- attach / detach of existing volumes (os-volume_attachments) --------------------
    def add(self, instance_id: str, volume_id: str, device_name: str, delete_on_termination: bool = False,
            tag: str | None = None) -> str:
        row = BlockDeviceMapping(id=str(uuid.uuid4()), instance_id=instance_id, source_type="volume",
                                 destination_type="volume", volume_id=volume_id, device_name=device_name,
                                 delete_on_termination=delete_on_termination, tag=tag)
        with self.db.session() as s:
            s.add(row)
        return row.id

    def record_attachment(self, bdm_id: str, attachment_id: str) -> None:
        with self.db.session() as s:
            cas_update(s, BlockDeviceMapping, where={"id": bdm_id}, values={"attachment_id": attachment_id})

    def set_delete_on_termination(self, bdm_id: str, value: bool) -> None:
        with self.db.session() as s:
            s.execute(sa.update(BlockDeviceMapping).where(BlockDeviceMapping.id == bdm_id)
                      .values(delete_on_termination=value))

    def remove(self, bdm_id: str) -> None:
        with self.db.session() as s:
            s.execute(sa.delete(BlockDeviceMapping).where(BlockDeviceMapping.id == bdm_id))

    # -- on the host: volumes given to and taken from a guest ----------------------------
    def guest_volumes(self, inst: Instance) -> list[tuple[str, str]]:
        """(file, volume id) of every volume attached to ``inst`` but its root volume, in
        attach order: the disks a guest (re)started by a build, rebuild or resize gets
        besides its own.  A reservation whose host step has not run yet is left to it."""
        manager = self.volumes()
        if manager is None:
            return []
        attached = {a.volume_id for a in manager.attachments.list(_HOST, True, instance_id=inst.id)
                    if a.attach_status == "attached"}
        if not attached:  # most builds: no volume, so no mappings to read
            return []
        return [(manager.volume_file(row.volume_id), row.volume_id) for row in self.for_instance(inst.id)
                if row.volume_id in attached and row.boot_index != 0 and row.destination_type == "volume"]

    def shared_volumes(self, inst: Instance) -> list[str]:
        """The ids of ``inst``'s multiattach volumes (its root volume included): disks the
        hypervisor must open shared."""
        manager = self.volumes()
        ids = [row.volume_id for row in self.for_instance(inst.id) if row.volume_id]
        if manager is None or not ids:
            return []
        shared = []
        for volume_id in ids:
            with contextlib.suppress(NotFound):
                if manager.volumes.get(_HOST, volume_id).multiattach:
                    shared.append(volume_id)
        return shared

    def attach_to_guest(self, inst: Instance, volume_id: str, driver: Driver) -> None:
        """The host's half of ``POST os-volume_attachments`` (Nova's ``attach_volume``):
        the connector is recorded (volume ``attaching``), the volume's file is hot-plugged
        into the guest, the attachment completed (``in-use``).  When the guest cannot take
        it, the reservation is undone (volume ``available``, mapping gone) and the error
        raised.  Safe to repeat: the driver ignores a disk the guest has already."""
        manager = self._manager()
        row = self._mapping(inst.id, volume_id)
        if row is None or row.attachment_id is None:
            return  # detached (or never recorded) meanwhile: nothing to give the guest
        context = _HOST
        try:
            attachment = manager.attachments.get(context, row.attachment_id)
        except NotFound:  # the volume service rolled an abandoned reservation back
            self.remove(row.id)
            return
        done = attachment.attach_status == "attached"
        if not done:
            try:
                manager.attachments.update(context, attachment.id, {"host": inst.host, "mountpoint": row.device_name})
            except NotFound:  # released meanwhile (a detach or the server's delete)
                self.remove(row.id)
                return
        shared = manager.volumes.get(context, volume_id).multiattach
        try:
            driver.attach_volume(inst.id, manager.volume_file(volume_id), volume_id, shared=shared)
        except Exception:
            with contextlib.suppress(NotFound):
                manager.attachments.delete(context, attachment.id)
            self.remove(row.id)
            raise
        if not done:
            manager.attachments.complete(context, attachment.id)

    def detach_from_guest(self, inst: Instance, volume_id: str, driver: Driver) -> None:
        """The host's half of ``DELETE os-volume_attachments/{volume}``: the disk is taken
        away from the guest, then the attachment deleted and the mapping dropped.  A guest
        that does not release the disk keeps it: the volume goes back to ``in-use`` and the
        error is raised (Nova's roll_detaching)."""
        manager = self._manager()
        context = _HOST
        attachments = manager.attachments.list(context, True, volume_id=volume_id, instance_id=inst.id)
        try:
            driver.detach_volume(inst.id, volume_id)
        except Exception:
            for attachment in attachments:
                with contextlib.suppress(NotFound):
                    manager.attachments.roll_detaching(context, attachment.id)
            raise
        for attachment in attachments:
            with contextlib.suppress(NotFound):
                manager.attachments.delete(context, attachment.id)
        row = self._mapping(inst.id, volume_id)
        if row is not None:
            self.remove(row.id)

    def extend_in_guest(self, inst: Instance, volume_id: str, driver: Driver) -> None:
        """The host's half of a ``volume-extended`` event (Nova's ``extend_volume``): the
        mapping records the volume's new size and the hypervisor resizes the guest's disk.
        A volume the server no longer has is left alone (Nova logs it and returns)."""
        row = self._mapping(inst.id, volume_id)
        if row is None:
            LOG.warning("volume %s extended, but it is not attached to instance %s", volume_id, inst.id)
            return
        size = self._manager().volumes.get(_HOST, volume_id).size
        with self.db.session() as s:
            s.execute(sa.update(BlockDeviceMapping).where(BlockDeviceMapping.id == row.id).values(volume_size=size))
        driver.extend_volume(inst.id, volume_id, size * GiB)

    def unfinished(self, inst: Instance) -> tuple[list[str], list[str]]:
        """The volumes whose attach to ``inst`` and whose detach from it its host had not
        finished (reserved or attaching; detaching): what a restarted host carries on with."""
        manager = self.volumes()
        if manager is None:
            return [], []
        context = _HOST
        attaching, detaching = [], []
        for attachment in manager.attachments.list(context, True, instance_id=inst.id):
            if attachment.attach_status != "attached":
                attaching.append(attachment.volume_id)
            elif manager.volumes.get(context, attachment.volume_id).status == "detaching":
                detaching.append(attachment.volume_id)
        return attaching, detaching

    def _manager(self) -> VolumeContract:
        manager = self.volumes()
        if manager is None:
            raise BlockDeviceError("the block storage service is not running")
        return manager

    def _mapping(self, instance_id: str, volume_id: str) -> BlockDeviceMapping | None:
        return next((row for row in self.for_instance(instance_id) if row.volume_id == volume_id), None)

    # -- the build step ----------------------------------------------------------------
    def prepare(self, inst: Instance) -> list[BlockDeviceMapping]:
        """Create, wait for and attach every volume of ``inst`` and return the mappings as
        they now are; raises :class:`BlockDeviceError` with the fault message when a volume
        cannot be had."""
        rows = self.for_instance(inst.id)
        if not rows:
            return []
        manager = self.volumes()
        if manager is None:
            raise BlockDeviceError("Block Device Mapping is Invalid: the block storage service is not running.")
        context = _instance_context(inst)
        for row in rows:
            volume_id = row.volume_id if row.source_type == "volume" else self._create(manager, context, row)
            if volume_id is None:  # parse() gives every existing-volume mapping its volume
                raise BlockDeviceError(f"Build of instance {inst.id} aborted: a volume mapping names no volume.")
            row.volume_id = volume_id
            self._wait_available(manager, context, volume_id, inst.id)
            self._attach(manager, context, inst, row, volume_id)
        return rows

    def _create(self, manager, context: RequestContext, row: BlockDeviceMapping) -> str:
        """Plan the volume's id in the row first (CAS from no volume), then create it unless
        it exists: a resumed build finds the id and never creates a second volume."""
        volume_id = row.volume_id
        if volume_id is None:
            volume_id = str(uuid.uuid4())
            with self.db.session() as s:
                cas_update(s, BlockDeviceMapping, where={"id": row.id, "volume_id": None},
                           values={"volume_id": volume_id})
        else:
            try:
                manager.volumes.get(context, volume_id)
                return volume_id
            except NotFound:
                pass  # planned, but the previous build stopped before creating it
        spec = {"size": row.volume_size, "name": ""}
        if row.source_type == "image":
            spec["imageRef"] = row.image_id
        elif row.source_type == "snapshot":
            spec["snapshot_id"] = row.snapshot_id
        if row.volume_type:
            spec["volume_type"] = row.volume_type
        try:
            manager.volumes.create(context, spec, volume_id=volume_id)
        except ApiError as error:
            raise BlockDeviceError(f"Build of instance {row.instance_id} aborted: {error.message}") from error
        return volume_id

    def _wait_available(self, manager, context: RequestContext, volume_id: str, instance_id: str) -> None:
        started = time.monotonic()
        delay = 0.05
        attempts = 0
        while True:
            attempts += 1
            try:
                volume = manager.volumes.get(context, volume_id)
            except NotFound:
                raise BlockDeviceError(f"Build of instance {instance_id} aborted: Volume {volume_id} could not "
                                       f"be found.") from None
            if volume.status in ("available", "in-use", "attaching", "reserved"):
                return
            waited = time.monotonic() - started
            if volume.status not in ("creating", "downloading") or waited > VOLUME_WAIT_SECONDS:
                raise BlockDeviceError(f"Build of instance {instance_id} aborted: Volume {volume_id} did not "
                                       f"finish being created even after we waited {int(waited)} seconds or "
                                       f"{attempts} attempts. And its status is {volume.status}.")
            time.sleep(delay)
            delay = min(delay * 2, 1.0)

    def _attach(self, manager, context: RequestContext, inst: Instance, row: BlockDeviceMapping,
                volume_id: str) -> None:
        attachment_id = row.attachment_id
        if attachment_id is None:
            mine = [a for a in manager.attachments.list(context, volume_id=volume_id, instance_id=inst.id)]
            if mine:  # attached by a build that stopped before recording it
                attachment_id = mine[0].id
            else:
                try:
                    attachment_id = manager.attachments.create(
                        context, volume_id, inst.id, {"host": inst.host, "mountpoint": row.device_name}).id
                except ApiError as error:
                    raise BlockDeviceError(f"Build of instance {inst.id} aborted: {error.message}") from error
            self.record_attachment(row.id, attachment_id)
        if manager.attachments.get(context, attachment_id).attach_status != "attached":
            manager.attachments.complete(context, attachment_id)

    # -- rebuild of a volume-backed server (2.93) ----------------------------------------
    def reimage_root(self, inst: Instance, image_id: str) -> None:
        """Nova's ``_rebuild_volume_backed_instance``, with the guest gone: the root
        volume's attachment is replaced by a reservation (no other server can take the
        volume meanwhile), Block Storage writes the image over it (``os-reimage`` of a
        reserved volume), and the new attachment is completed for the guest to come."""
        root = next((row for row in self.for_instance(inst.id)
                     if row.boot_index == 0 and row.destination_type == "volume" and row.volume_id), None)
        if root is None or root.volume_id is None:
            raise BlockDeviceError(f"Rebuild of instance {inst.id} aborted: it has no root volume.")
        manager = self._manager()
        if root.attachment_id is not None:
            with contextlib.suppress(NotFound):  # a resumed rebuild dropped it already
                manager.attachments.delete(_HOST, root.attachment_id)
        context = _instance_context(inst)
        try:
            reserved = manager.attachments.create(context, root.volume_id, inst.id)
            self.record_attachment(root.id, reserved.id)
            manager.volumes.reimage(context, manager.volumes.get(context, root.volume_id), image_id, True)
        except ApiError as error:
            raise BlockDeviceError(f"Rebuild of instance {inst.id} aborted: {error.message}") from error
        self._wait_available(manager, _HOST, root.volume_id, inst.id)
        manager.attachments.update(_HOST, reserved.id, {"host": inst.host, "mountpoint": root.device_name})
        manager.attachments.complete(_HOST, reserved.id)

    # -- failed build, server delete ----------------------------------------------------
    def release(self, inst: Instance, rows: list[BlockDeviceMapping] | None = None, forget: bool = False) -> None:
        """Detach every volume of ``inst`` (or of ``rows``, the mappings a build made for an
        instance deleted meanwhile) and delete those marked delete_on_termination; with
        ``forget`` drop the mappings too (a failed build).  Safe to repeat."""
        rows = self.for_instance(inst.id) if rows is None else rows
        if not rows:
            return
        manager = self.volumes()
        if manager is None:
            return
        context = _HOST
        for row in rows:
            if row.volume_id is None:
                continue
            for attachment in manager.attachments.list(context, True, volume_id=row.volume_id, instance_id=inst.id):
                try:
                    manager.attachments.delete(context, attachment.id)
                except NotFound:
                    pass  # detached meanwhile
            if row.delete_on_termination:
                self._delete_volume(manager, context, row.volume_id)
        if forget:
            with self.db.session() as s:
                s.execute(sa.delete(BlockDeviceMapping).where(BlockDeviceMapping.instance_id == inst.id))

    @staticmethod
    def _delete_volume(manager, context: RequestContext, volume_id: str) -> None:
        try:
            volume = manager.volumes.get(context, volume_id)
        except NotFound:
            return
        if volume.status in ("deleting",):
            return
        if volume.status == "creating":
            # A create the build gave up waiting for: the worker finishes it, then it can go.
            LOG.warning("volume %s is still being created; it is left for its owner to delete", volume_id)
            return
        try:
            manager.volumes.delete(context, volume_id)
        except ApiError as error:
            LOG.warning("volume %s of a deleted server could not be deleted: %s", volume_id, error.message)
