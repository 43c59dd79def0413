"""Volumes: what the API asks for, checked and persisted, with the slow part cast to the worker.

Every state-changing request follows one pattern: validate, CAS the volume into its
``*-ing`` state (committed), then ``worker.cast``.  A request that loses the CAS race
sees the volume's new status and gets Cinder's 400 ``Invalid volume`` answer.
"""

from __future__ import annotations

import builtins
import dataclasses
import json
import logging
import math
import operator
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from pocketstack.common.context import RequestContext
from pocketstack.common.db.base import utcnow
from pocketstack.common.db.cas import cas_update, run_in_transaction
from pocketstack.common.errors import ApiError
from pocketstack.common.pagination import Paging, apply_paging
from pocketstack.volume import errors, listing, zones
from pocketstack.volume import models as m
from pocketstack.volume.drivers.base import GiB
from pocketstack.volume.metadata import Items
from pocketstack.volume.states import DELETABLE, VOLUME_TRANSITIONS, existing, move, move_snapshot

if TYPE_CHECKING:
    from pocketstack.image.contract import ImageContract

LOG = logging.getLogger(__name__)

ADMIN_STATUSES = tuple(VOLUME_TRANSITIONS)
# The operators of a listing's time filters (3.60).
TIME_COMPARISONS: dict[str, Callable[[Any, Any], Any]] = {
    "gt": operator.gt, "gte": operator.ge, "eq": operator.eq, "neq": operator.ne, "lt": operator.lt,
    "lte": operator.le}
# The image's own attributes a volume created from it records (Cinder's glance metadata).
IMAGE_KEYS = ("checksum", "container_format", "disk_format", "min_disk", "min_ram", "size")


def image_metadata_of(image: Any) -> dict[str, Any]:
    """What a volume written from ``image`` records of it (``volume_image_metadata``)."""
    recorded = {key: getattr(image, key) for key in IMAGE_KEYS if getattr(image, key, None) is not None}
    return {**recorded, "image_id": image.id, "image_name": image.name}


def check_image_fits(image: Any, size: int) -> None:
    """Cinder's ``check_image_metadata``: an active image whose data and ``min_disk``
    fit in ``size`` GB (400s in its words)."""
    if image.status != "active":
        raise errors.InvalidInput(reason=f"Image {image.id} is not active.")
    image_gb = math.ceil((image.size or 0) / GiB)
    if image_gb > size:
        raise errors.InvalidInput(reason=f"Size of specified image {image_gb}GB is larger than volume size {size}GB.")
    if size < (image.min_disk or 0):
        raise errors.InvalidInput(reason=f"Volume size {size}GB cannot be smaller than the image minDisk size "
                                         f"{image.min_disk}GB.")


def invalid(volume_id: str, action: str, allowed: str, status: str) -> errors.InvalidVolumeStatus:
    return errors.InvalidVolumeStatus(volume_id=volume_id, action=action, allowed=allowed, current=status)


def check_group(s: Session, context: RequestContext, group_id: str, volume_type_id: str) -> None:
    """A volume created into a group (in the volume's transaction): the caller's group,
    ``available`` or ``creating``, allowing the volume's type (Cinder's checks)."""
    group = s.get(m.Group, group_id)
    if group is None or not (context.is_admin or group.project_id == context.project_id):
        raise errors.GroupNotFound(group_id=group_id)
    if group.status not in ("available", "creating"):
        raise errors.InvalidGroup(reason="Originating group status must be one of 'available, creating' values")
    if s.get(m.GroupVolumeType, (group_id, volume_type_id)) is None:
        raise errors.InvalidInput(reason=f"Invalid volume_type provided: {volume_type_id} (requested type must be "
                                         f"supported by this group).")
    # A new member changes the group: a delete that read its members before loses its CAS.
    cas_update(s, m.Group, where={"id": group_id, "generation": group.generation},
               values={"generation": group.generation + 1})


@dataclass(frozen=True)
class References:
    """The type, snapshot, source volume and image a volume create names."""

    vtype: m.VolumeType
    snapshot: m.Snapshot | None = None
    origin: m.Volume | None = None
    image: Any = None


class Volumes:
    def __init__(self, db, worker, types, quotas, cloud):
        self.db = db
        self.worker = worker
        self.types = types
        self.quotas = quotas
        self.cloud = cloud  # for ``cloud.image`` (create from, upload to an image)
        self.items = Items(db, m.VolumeMetadata, "volume_id")
        self.image_items = Items(db, m.VolumeImageMetadata, "volume_id")
        # The service's snapshots (which need the volumes first): set by the manager.
        self.snapshots: Any = None

    # -- reading ---------------------------------------------------------------------
    def get(self, context: RequestContext, volume_id: str) -> m.Volume:
        with self.db.session(readonly=True) as s:
            volume = s.get(m.Volume, volume_id)
            if volume is None or not (context.is_admin or volume.project_id == context.project_id):
                raise errors.VolumeNotFound(volume_id=volume_id)
            s.expunge(volume)
            return volume

    def metadata(self, volume_ids: list[str]) -> dict[str, dict[str, str]]:
        return self.items.read(volume_ids)

    def image_metadata(self, volume_ids: list[str]) -> dict[str, dict[str, str]]:
        return self.image_items.read(volume_ids)

    def attachments(self, volume_ids: list[str]) -> dict[str, list[m.Attachment]]:
        result: dict[str, list[m.Attachment]] = {i: [] for i in volume_ids}
        with self.db.session(readonly=True) as s:
            for row in s.scalars(sa.select(m.Attachment).where(m.Attachment.volume_id.in_(volume_ids),
                                                               m.Attachment.attach_status == "attached")):
                result[row.volume_id].append(row)
            s.expunge_all()
        return result

    def list(self, context: RequestContext, filters: Mapping[str, Any], paging: Paging,
             all_projects: bool = False) -> list[m.Volume]:
        conditions = self.conditions(context, filters, all_projects)
        with self.db.session(readonly=True) as s:
            marker = None
            if paging.marker:
                marker = s.get(m.Volume, paging.marker)
                if marker is None or not (all_projects and context.is_admin or marker.project_id == context.project_id):
                    raise errors.MarkerNotFound(marker=paging.marker)
            rows = list(s.scalars(apply_paging(sa.select(m.Volume).where(*conditions), m.Volume, paging, marker)))
            s.expunge_all()
            return rows

    def count(self, context: RequestContext, filters: Mapping[str, Any], all_projects: bool = False) -> int:
        return listing.count(self.db, m.Volume, self.conditions(context, filters, all_projects))

    def conditions(self, context: RequestContext, filters: Mapping[str, Any], all_projects: bool) -> builtins.list:
        """The listing's ``WHERE``: the caller's project (or any, for an admin asking for
        all), then each filter."""
        conditions = []
        if not (all_projects and context.is_admin):
            conditions.append(m.Volume.project_id == context.project_id)
        elif filters.get("project_id"):
            conditions.append(m.Volume.project_id == filters["project_id"])
        if filters.get("consumes_quota") is False:  # 3.65: every volume here consumes quota
            conditions.append(sa.false())
        for key in ("name", "status", "availability_zone", "bootable", "multiattach", "group_id"):
            if key in filters:
                conditions.append(getattr(m.Volume, key) == filters[key])
        if "volume_type" in filters:
            conditions.append(m.Volume.volume_type_id == self.types.resolve(context, filters["volume_type"]).id)
        for key in ("created_at", "updated_at"):
            for comparison, when in (filters.get(key) or {}).items():
                conditions.append(TIME_COMPARISONS[comparison](getattr(m.Volume, key), when))
        for key, value in (filters.get("metadata") or {}).items():
            conditions.append(sa.exists().where(m.VolumeMetadata.volume_id == m.Volume.id,
                                                m.VolumeMetadata.key == key, m.VolumeMetadata.value == str(value)))
        return conditions

    def summary(self, context: RequestContext, all_projects: bool) -> tuple[int, int, dict[str, builtins.list[str]]]:
        """``/volumes/summary``: count, total size and every metadata key's values."""
        where = [] if all_projects and context.is_admin else [m.Volume.project_id == context.project_id]
        with self.db.session(readonly=True) as s:
            count, size = s.execute(sa.select(sa.func.count(), sa.func.coalesce(sa.func.sum(m.Volume.size), 0))
                                    .where(*where)).one()
            metadata: dict[str, list[str]] = {}
            for key, value in s.execute(sa.select(m.VolumeMetadata.key, m.VolumeMetadata.value).distinct()
                                        .join(m.Volume, m.Volume.id == m.VolumeMetadata.volume_id).where(*where)):
                metadata.setdefault(key, []).append(value)
        return int(count), int(size), metadata

    def usage_on_host(self, host: str) -> dict[str, tuple[int, int, int, int]]:
        """Per project: volumes and their gigabytes, snapshots and theirs, on backend
        ``host`` (its pools included, as Cinder's ``volume_get_all_by_host``)."""
        on_host = sa.or_(m.Volume.host == host, m.Volume.host.startswith(host + "#", autoescape=True))
        with self.db.session(readonly=True) as s:
            volumes = s.execute(sa.select(m.Volume.project_id, sa.func.count(), sa.func.coalesce(
                sa.func.sum(m.Volume.size), 0)).where(on_host).group_by(m.Volume.project_id)).all()
            snapshots = dict((p, (c, g)) for p, c, g in s.execute(sa.select(
                m.Snapshot.project_id, sa.func.count(), sa.func.coalesce(sa.func.sum(m.Snapshot.size), 0))
                .join(m.Volume, m.Volume.id == m.Snapshot.volume_id).where(on_host).group_by(m.Snapshot.project_id)))
        result = {}
        for project, count, size in volumes:
            snap_count, snap_size = snapshots.get(project, (0, 0))
            result[project] = (int(count), int(size), int(snap_count), int(snap_size))
        return result

    # -- creating --------------------------------------------------------------------
    def references(self, context: RequestContext, spec: dict, nova_images: bool = False) -> References:
        """What a create names, looked up as the caller in Cinder's order (type, snapshot,
        source volume, image): what the caller cannot see is a 404.  The API does this
        before the create policy, as Cinder's controller does.  With ``nova_images``
        (3.46) an image of a volume-backed server makes the volume from the snapshot of
        its boot volume instead (see ``boot_snapshot``)."""
        snapshot_id, source_volid, image_ref = spec.get("snapshot_id"), spec.get("source_volid"), spec.get("imageRef")
        named = References(
            vtype=self.types.resolve(context, spec.get("volume_type")),
            snapshot=self.snapshots.get(context, snapshot_id) if snapshot_id else None,
            origin=self.get(context, source_volid) if source_volid else None,
            image=self._image(context, image_ref) if image_ref else None)
        boot = self.boot_snapshot(context, named.image) if named.image is not None else None
        if nova_images and boot is not None:
            return dataclasses.replace(named, snapshot=boot, image=None)
        if named.image is not None and not spec.get("volume_type"):
            named = dataclasses.replace(named, vtype=self._image_type(context, named.image, named.vtype))
        return named

    def _image_type(self, context: RequestContext, image: Any, default: m.VolumeType) -> m.VolumeType:
        """Cinder's ``cinder_img_volume_type``: a volume made from an image with that
        property and no type of its own gets the type it names -- the default when no such
        type is visible (Cinder logs it and goes on)."""
        wanted = (image.properties or {}).get("cinder_img_volume_type")
        if not wanted:
            return default
        try:
            return self.types.resolve(context, str(wanted))
        except (errors.VolumeTypeNotFound, errors.VolumeTypeNotFoundByName):
            LOG.warning("volume type %r of image %s not found: the default type is used", wanted, image.id)
            return default

    def boot_snapshot(self, context: RequestContext, image: Any) -> m.Snapshot | None:
        """The snapshot a Nova image (a volume-backed server's, data-less) maps at boot
        index 0 -- Cinder's ``_get_image_snapshot``, which looks at every version (a missing
        snapshot is a 404 then) though only 3.46+ creates from it."""
        stored = (image.properties or {}).get("block_device_mapping")
        try:
            mappings = json.loads(stored) if isinstance(stored, str) else stored
        except ValueError:
            return None
        if not isinstance(mappings, list):
            return None
        boot = [b for b in mappings if isinstance(b, dict)
                and b.get("source_type") == "snapshot" and b.get("boot_index") == 0]
        if not boot:
            return None
        snapshot_id = boot[0].get("snapshot_id")
        try:
            return self.snapshots.get(context, str(snapshot_id))
        except errors.SnapshotNotFound:
            raise errors.NovaImageSnapshotNotFound(snapshot_id=snapshot_id) from None

    def create(self, context: RequestContext, spec: dict, status: str = "creating",
               volume_id: str | None = None, also: Callable[[Session, m.Volume], None] | None = None,
               named: References | None = None) -> m.Volume:
        """A new volume; with ``status="restoring-backup"`` the row only (a backup restore
        then fills it) instead of casting the create to the worker.  ``volume_id`` is the id
        a caller planned in advance (Nova's boot from volume records it before creating).
        ``also`` runs in the transaction that inserts the volume and reserves its quota: when
        it refuses, neither the volume nor its reservation remain (a restore that lost its
        backup to another one).  ``named``: the spec's references when the caller already
        looked them up (see ``references``).  ``spec["group_id"]`` puts the volume in that
        group."""
        volume = self.insert(context, spec, status, volume_id, also, named)
        if status == "creating":
            self.worker.cast("create", volume.id)
        return volume

    def insert(self, context: RequestContext, spec: dict, status: str = "creating", volume_id: str | None = None,
               also: Callable[[Session, m.Volume], None] | None = None,
               named: References | None = None) -> m.Volume:
        """``create`` without the cast: the caller casts (a group created from a source
        casts its volumes once all of them exist)."""
        named = named or self.references(context, spec)
        size = spec.get("size")
        source: dict[str, Any] = {}
        image_metadata: dict[str, Any] = {}
        # The request's id, for the user message should the create fail later (Cinder's).
        task_args: dict[str, Any] = {"request_id": context.request_id}
        if (snapshot := named.snapshot) is not None:
            if snapshot.status != "available":
                raise errors.InvalidSnapshot(reason="Originating snapshot status must be one of 'available' values")
            size = size or snapshot.size
            if size < snapshot.size:
                raise errors.InvalidInput(reason=f"Volume size '{size}'GB cannot be smaller than the snapshot size "
                                                 f"{snapshot.size}GB. They must be >= original snapshot size.")
            source["snapshot_id"] = snapshot.id
            image_metadata = self.image_metadata([snapshot.volume_id])[snapshot.volume_id]
        elif (origin := named.origin) is not None:
            if origin.status not in ("available", "in-use"):
                raise invalid(origin.id, "clone", "available or in-use", origin.status)
            size = size or origin.size
            if size < origin.size:
                raise errors.InvalidInput(reason=f"Volume size '{size}'GB cannot be smaller than the source volume "
                                                 f"size {origin.size}GB.")
            source["source_volid"] = origin.id
            image_metadata = self.image_metadata([origin.id])[origin.id]
        elif (image := named.image) is not None:
            if image.status != "active":
                raise errors.InvalidImageRef(image_id=image.id, image_status=image.status)
            needed = max(math.ceil((image.size or 0) / GiB), image.min_disk or 0, 1)
            if size is None:
                raise errors.InvalidInput(reason="size is required when creating a volume from an image.")
            if size < needed:
                raise errors.InvalidInput(reason=f"Image {image.id} requires {needed} GB of disk, larger than the "
                                                 f"requested volume size {size} GB.")
            source["image_id"] = image.id
            task_args["disk_format"] = image.disk_format
            image_metadata = image_metadata_of(image)
        if not isinstance(size, int) or isinstance(size, bool) or size < 1:
            raise errors.InvalidInput(reason=f"Volume size '{size}' must be an integer and greater than 0.")
        vtype = named.vtype
        source_zone = named.origin.availability_zone if named.origin is not None else None
        if named.snapshot is not None:
            with self.db.session(readonly=True) as s:
                source_zone = s.scalar(sa.select(m.Volume.availability_zone).where(
                    m.Volume.id == named.snapshot.volume_id))
        zone = zones.volume_zone(spec.get("availability_zone"), vtype, source_zone)
        multiattach = bool(spec.get("multiattach")) or self.types.is_multiattach(vtype)
        volume = m.Volume(id=volume_id or str(uuid.uuid4()), project_id=context.project_id, user_id=context.user_id,
                          name=spec.get("name"), description=spec.get("description"), size=size,
                          status=status, multiattach=multiattach, volume_type_id=vtype.id,
                          availability_zone=zone, host=self.placement(vtype, named),
                          task_started_at=utcnow(), task_args=task_args, group_id=spec.get("group_id"), **source)
        metadata = spec.get("metadata") or {}
        self.quotas.check_volume_size(context.project_id, size)

        def work(s: Session) -> None:
            if s.get(m.VolumeTypeEncryption, vtype.id) is not None:  # no key manager here (encryption.py)
                raise errors.NoKeyManager(type_name=vtype.name)
            if volume.group_id:
                check_group(s, context, volume.group_id, vtype.id)
            self.quotas.reserve(s, context.project_id, vtype.name, volumes=1, gigabytes=size)
            s.add(volume)
            s.flush()
            self.items.add(s, volume.id, metadata)
            self.image_items.add(s, volume.id, image_metadata)
            if also is not None:
                also(s, volume)
        run_in_transaction(self.db, work)
        return self.get(context, volume.id)

    def placement(self, vtype: m.VolumeType, named) -> str | None:
        """The scheduler's choice of host for a new volume (None: no backend serves its
        type; the worker then fails the create with Cinder's user message)."""
        with self.db.session(readonly=True) as s:
            if named.snapshot is not None:
                source = s.scalar(sa.select(m.Volume.host).where(m.Volume.id == named.snapshot.volume_id))
            else:
                source = named.origin.host if named.origin is not None else None
        has_source = named.snapshot is not None or named.origin is not None
        backend = self.worker.backends.schedule(vtype.extra_specs, source if has_source else None)
        return backend.host if backend is not None else None

    def _image(self, context: RequestContext, image_id: str):
        images = self._images()
        try:
            image = images.get_image(context, image_id)
        except ApiError:
            raise errors.ImageNotFound(image_id=image_id) from None
        return image

    def _images(self) -> ImageContract:
        images = self.cloud.image
        if images is None:
            raise errors.InvalidInput(reason="the image service is not running.")
        return images

    # -- changing --------------------------------------------------------------------
    def connection_info(self, volume_id: str) -> dict:
        """Cinder's ``connection_info`` for the file backend's volume: os-brick's ``local``
        type, the file's path."""
        return {"driver_volume_type": "local",
                "data": {"device_path": str(self.worker.driver.local_path(volume_id)), "volume_id": volume_id}}

    def update(self, context: RequestContext, volume_id: str, values: dict) -> m.Volume:
        self.get(context, volume_id)
        allowed = {k: values[k] for k in ("name", "description") if k in values}

        def work(s: Session) -> None:
            row = existing(s, m.Volume, volume_id)
            move(s, volume_id, row.status, row.status, task_started_at=row.task_started_at,
                 task_args=row.task_args, **allowed)
            if "metadata" in values:
                self.items.replace_in(s, volume_id, values["metadata"])
        run_in_transaction(self.db, work)
        return self.get(context, volume_id)

    def set_metadata(self, context: RequestContext, volume_id: str, metadata: dict, replace: bool) -> dict:
        self.get(context, volume_id)
        return self.items.write(volume_id, metadata, replace)

    def reimage(self, context: RequestContext, volume: m.Volume, image_id: str, reserved: bool) -> None:
        """``os-reimage`` (3.68): the volume's data replaced by the image's.  The volume
        (``available`` or ``error``; also ``reserved`` with ``reimage_reserved``) moves to
        ``downloading`` and back to its status once the worker has written the image;
        one attached to more than one server is a 409."""
        image = self._image(context, image_id)
        if len(self.attachments([volume.id])[volume.id]) > 1:
            raise errors.ReimageMultiattached()
        allowed = ("available", "error", "reserved") if reserved else ("available", "error")

        def work(s: Session) -> None:
            row = existing(s, m.Volume, volume.id)
            if row.status not in allowed:
                raise errors.InvalidVolume(reason=f"Volume {volume.id} status must be {', '.join(allowed[:-1])} or "
                                                  f"{allowed[-1]}, but current status is {row.status}.")
            check_image_fits(image, row.size)
            move(s, volume.id, row.status, "downloading", task_started_at=utcnow(), task_args={
                "previous": row.status, "image_id": image.id, "disk_format": image.disk_format,
                "request_id": context.request_id})
        run_in_transaction(self.db, work)
        self.worker.cast("reimage", volume.id)

    def set_image_metadata(self, context: RequestContext, volume_id: str, metadata: dict) -> dict:
        """``os-set_image_metadata``: add or overwrite keys, keep the others."""
        self.get(context, volume_id)
        return self.image_items.write(volume_id, metadata)

    def unset_image_metadata(self, context: RequestContext, volume_id: str, key: str) -> None:
        self.get(context, volume_id)
        if not self.image_items.remove(volume_id, key):
            raise errors.GlanceMetadataNotFound(volume_id=volume_id, key=key)

    def delete_metadata(self, context: RequestContext, volume_id: str, key: str) -> None:
        self.get(context, volume_id)
        if not self.items.remove(volume_id, key):
            raise errors.VolumeMetadataNotFound(volume_id=volume_id, metadata_key=key)

    def _transition(self, volume_id: str, allowed: tuple[str, ...], action: str, target: str, **values) -> None:
        """CAS the volume from any of ``allowed`` to ``target``; 400 when not allowed."""
        def work(s: Session) -> None:
            row = existing(s, m.Volume, volume_id)
            if row.status not in allowed:
                raise invalid(volume_id, action, " or ".join(allowed), row.status)
            move(s, volume_id, row.status, target, **values)
        run_in_transaction(self.db, work)

    def delete(self, context: RequestContext, volume_id: str, cascade: bool = False) -> None:
        """Refused while attached or while it has snapshots, unless ``cascade``: then its
        snapshots (each ``available`` or ``error``, as Cinder requires) go to ``deleting``
        in the same transaction as the volume, and the worker deletes them before it."""
        volume = self.get(context, volume_id)
        if volume.attach_count or volume.status == "in-use":
            raise errors.VolumeNotDeletable()

        def work(s: Session) -> None:
            row = existing(s, m.Volume, volume_id)
            allowed = DELETABLE + ("error_deleting",)
            if row.status not in allowed:
                raise invalid(volume_id, "delete", " or ".join(allowed), row.status)
            if row.group_id is not None:  # a group's volume goes with its group (delete-volumes)
                raise errors.VolumeNotDeletable()
            snapshots = list(s.scalars(sa.select(m.Snapshot).where(m.Snapshot.volume_id == volume_id)))
            if snapshots and (not cascade or any(x.status not in ("available", "error") for x in snapshots)):
                raise errors.VolumeNotDeletable()
            for snapshot in snapshots:
                move_snapshot(s, snapshot.id, snapshot.status, "deleting")
            move(s, volume_id, row.status, "deleting", extra_where={"attach_count": 0})
        run_in_transaction(self.db, work)
        self.worker.cast("delete", volume_id)

    def force_delete(self, context: RequestContext, volume_id: str) -> None:
        volume = self.get(context, volume_id)

        def work(s: Session) -> None:
            row = existing(s, m.Volume, volume_id)
            self.quotas.release_extension(s, row)
            s.execute(sa.delete(m.Attachment).where(m.Attachment.volume_id == volume_id))
            cas_update(s, m.Volume, where={"id": volume_id, "status": row.status},
                       values={"status": "deleting", "attach_count": 0, "attach_status": "detached",
                               "task_started_at": utcnow(), "task_owner": None, "updated_at": utcnow()})
        run_in_transaction(self.db, work)
        self.worker.cast("delete", volume.id)

    def extend(self, context: RequestContext, volume_id: str, new_size: Any, attached: bool = False) -> None:
        """``os-extend``: from ``available``, or with ``attached`` (3.42, Cinder's
        ``extend_attached_volume``) from ``in-use``; the worker grows the file, puts the
        volume back in the status its attachments give and tells Compute of each server
        that has it (``volume-extended``)."""
        volume = self.get(context, volume_id)
        expected = "in-use" if attached else "available"
        if not isinstance(new_size, int) or isinstance(new_size, bool) or new_size <= volume.size:
            raise errors.InvalidInput(reason=f"New size for extend must be greater than current size. "
                                             f"(current: {volume.size}, extended: {new_size}).")
        vtype = self.types.get_by_id(volume.volume_type_id)
        self.quotas.check_volume_size(volume.project_id, new_size)

        def work(s: Session) -> None:
            row = existing(s, m.Volume, volume_id)
            if row.status != expected:
                raise invalid(volume_id, "extend", expected, row.status)
            self.quotas.reserve(s, row.project_id, vtype.name if vtype else None, gigabytes=new_size - row.size)
            move(s, volume_id, expected, "extending", task_args={"new_size": new_size})
        run_in_transaction(self.db, work)
        self.worker.cast("extend", volume_id)

    def set_flag(self, context: RequestContext, volume_id: str, **values: bool) -> None:
        """``os-set_bootable``: a field, not a transition."""
        volume = self.get(context, volume_id)
        if volume.status in ("creating", "deleting", "error_deleting"):
            raise invalid(volume_id, "update", "available or in-use", volume.status)
        self.update_fields(volume_id, **values)

    def set_readonly(self, context: RequestContext, volume_id: str, flag: bool) -> None:
        """``os-update_readonly_flag``: Cinder's ``readonly`` admin metadata, only while the
        volume is ``available`` (the check and the write in one transaction)."""
        self.get(context, volume_id)

        def work(s: Session) -> None:
            row = existing(s, m.Volume, volume_id)
            if row.status != "available":
                raise errors.InvalidVolume(reason=f"Volume {volume_id} status must be available to update readonly "
                                                  f"flag, but current status is: {row.status}.")
            move(s, volume_id, "available", "available", task_started_at=row.task_started_at,
                 task_args=row.task_args, readonly=flag)
        run_in_transaction(self.db, work)

    def update_fields(self, volume_id: str, **values) -> None:
        def work(s: Session) -> None:
            row = existing(s, m.Volume, volume_id)
            move(s, volume_id, row.status, row.status, task_started_at=row.task_started_at,
                 task_args=row.task_args, **values)
        run_in_transaction(self.db, work)

    def reset_status(self, context: RequestContext, volume_id: str, status: str | None,
                     attach_status: str | None) -> None:
        self.get(context, volume_id)
        if status is not None and status not in ADMIN_STATUSES:
            raise errors.InvalidInput(reason=f"Invalid volume status {status!r}.")
        if attach_status is not None and attach_status not in ("attached", "detached"):
            raise errors.InvalidInput(reason=f"Invalid attach_status {attach_status!r}.")

        def work(s: Session) -> None:
            row = existing(s, m.Volume, volume_id)
            self.quotas.release_extension(s, row)  # the reset drops the extend's task_args
            values: dict[str, Any] = {"updated_at": utcnow(), "task_started_at": None, "task_args": None,
                                      "task_owner": None}
            if status is not None:
                values["status"] = status
            if attach_status is not None:
                values["attach_status"] = attach_status
            cas_update(s, m.Volume, where={"id": volume_id, "status": row.status}, values=values)
        run_in_transaction(self.db, work)

    def upload_to_image(self, context: RequestContext, volume_id: str, props: dict) -> dict:
        volume = self.get(context, volume_id)
        force = props.get("force", False)
        allowed = ("available", "in-use") if force else ("available",)
        if volume.status not in allowed:
            raise invalid(volume_id, "upload to image", " or ".join(allowed), volume.status)
        images = self._images()
        image = images.create_image(context, name=props.get("image_name") or volume.name or volume.id,
                                    disk_format=props.get("disk_format", "raw"),
                                    container_format=props.get("container_format", "bare"),
                                    visibility=props.get("visibility", "private"))
        try:
            self._transition(volume_id, allowed, "upload to image", "uploading",
                             task_args={"image_id": image.id, "previous": volume.status})
        except BaseException:
            images.delete_image(context, image.id)
            raise
        self.worker.cast("upload_image", volume_id)
        return {"id": volume.id, "updated_at": volume.updated_at, "status": "uploading",
                "display_description": volume.description, "size": volume.size,
                "volume_type": self.types.get_by_id(volume.volume_type_id).name if volume.volume_type_id else None,
                "image_id": image.id, "container_format": image.container_format,
                "disk_format": image.disk_format, "image_name": image.name}
