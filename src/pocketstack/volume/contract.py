"""What other services may call of the Block Storage service: compute's boot from volume
(``block_device_mapping_v2``), its ``os-volume_attachments`` API and its ``os-volumes`` /
``os-snapshots`` proxy.

``Cloud.volume`` hands out the implementation (:class:`~pocketstack.volume.manager.VolumeManager`),
or None when the cloud does not run the volume service.  Every call acts as ``context``
(a volume of another project is a :class:`~pocketstack.volume.errors.VolumeNotFound`
unless the context is an admin's), blocks on the database, and raises the service's
named errors (:class:`~pocketstack.common.errors.ApiError` subclasses) when refused.
The records returned are detached rows of the volume tables, re-exported here.
"""

from __future__ import annotations

import builtins
from collections.abc import Iterable, Mapping
from typing import Any, Protocol

from pocketstack.common.context import RequestContext
from pocketstack.common.pagination import Paging
from pocketstack.volume.models import Attachment, Snapshot, Volume, VolumeType

__all__ = ["Attachment", "AttachmentRecords", "Snapshot", "SnapshotRecords", "TypeRecords", "Volume",
           "VolumeContract", "VolumeRecords", "VolumeType"]


class VolumeRecords(Protocol):
    """The volumes (``cloud.volume.volumes``)."""

    def get(self, context: RequestContext, volume_id: str) -> Volume:
        """The volume, if ``context`` may see it; else ``VolumeNotFound``."""
        ...

    def list(self, context: RequestContext, filters: Mapping[str, Any], paging: Paging,
             all_projects: bool = False) -> list[Volume]:
        """``context``'s volumes (every project's for an admin asking ``all_projects``)
        matching Cinder's list ``filters`` (``name``, ``status``, ...), in ``paging``'s
        order (default: newest first)."""
        ...

    def metadata(self, volume_ids: builtins.list[str]) -> dict[str, dict[str, str]]:
        """Each volume's metadata."""
        ...

    def image_metadata(self, volume_ids: builtins.list[str]) -> dict[str, dict[str, str]]:
        """Each volume's ``volume_image_metadata`` (``image_id``: the image it holds)."""
        ...

    def attachments(self, volume_ids: builtins.list[str]) -> dict[str, builtins.list[Attachment]]:
        """Each volume's attachments."""
        ...

    def create(self, context: RequestContext, spec: dict[str, Any], status: str = "creating",
               volume_id: str | None = None, also: Any = None, named: Any = None) -> Volume:
        """Create a volume of ``context``'s project from ``spec`` (the API's create body:
        ``size``, ``name``, ``imageRef``, ``snapshot_id``, ...) with the id ``volume_id``
        when the caller planned one; the data is written by the worker (status
        ``creating`` until then).  A 400/404/413 error when the spec is refused."""
        ...

    def delete(self, context: RequestContext, volume_id: str, cascade: bool = False) -> None:
        """Start deleting the volume (refused while it is attached, or has snapshots unless
        ``cascade``: then they are deleted first)."""
        ...

    def reimage(self, context: RequestContext, volume: Volume, image_id: str, reserved: bool) -> None:
        """``os-reimage``: the image written over the volume (``downloading`` until the
        worker is done; a ``reserved`` volume only with ``reserved``)."""
        ...


class SnapshotRecords(Protocol):
    """The snapshots (``cloud.volume.snapshots``)."""

    def get(self, context: RequestContext, snapshot_id: str) -> Snapshot:
        """The snapshot, if ``context`` may see it; else ``SnapshotNotFound``."""
        ...

    def list(self, context: RequestContext, filters: dict[str, Any], paging: Paging, all_projects: bool,
             offset: int = 0) -> builtins.list[Snapshot]:
        """``context``'s snapshots, as :meth:`VolumeRecords.list`."""
        ...

    def create(self, context: RequestContext, volume_id: str, name: str | None, description: str | None,
               force: bool, metadata: dict[str, Any]) -> Snapshot:
        """Start a snapshot of the volume (``available``; ``in-use`` too with ``force``):
        ``creating`` until the worker has copied it."""
        ...

    def delete(self, context: RequestContext, snapshot_id: str, force: bool = False) -> None:
        """Start deleting the snapshot (``available`` or ``error``)."""
        ...

    def update_status(self, context: RequestContext, snapshot_id: str, status: str, progress: str | None) -> None:
        """What a hypervisor taking or deleting the snapshot for a remotefs backend reports
        (``os-update_snapshot_status``): creating → creating/available/error, deleting →
        deleting/error_deleting; a 400 otherwise."""
        ...


class TypeRecords(Protocol):
    """The volume types (``cloud.volume.types``)."""

    def names(self, type_ids: Iterable[str]) -> dict[str, str]:
        """Each type's name, by id."""
        ...

    def resolve(self, context: RequestContext, name_or_id: str | None) -> VolumeType:
        """The type named (by id or name) among those ``context`` may see, or the default
        type for None; else ``VolumeTypeNotFound``."""
        ...


class AttachmentRecords(Protocol):
    """The attachments of volumes to instances (``cloud.volume.attachments``)."""

    def get(self, context: RequestContext, attachment_id: str) -> Attachment:
        """The attachment, if ``context`` may see it; else ``AttachmentNotFound``."""
        ...

    def list(self, context: RequestContext, all_projects: bool = False, volume_id: str | None = None,
             instance_id: str | None = None) -> list[Attachment]:
        """``context``'s attachments (every project's for an admin asking ``all_projects``),
        newest first, of one volume and/or one instance."""
        ...

    def create(self, context: RequestContext, volume_id: str, instance_uuid: str | None,
               connector: dict[str, Any] | None = None, mode: str = "rw") -> Attachment:
        """Reserve the volume for the instance (``connector``: ``host``, ``mountpoint``);
        the attachment is ``reserved`` until :meth:`complete`.  A 400 when the volume
        cannot be attached (status, or attached already and not multiattach)."""
        ...

    def update(self, context: RequestContext, attachment_id: str, connector: dict[str, Any]) -> Attachment:
        """Record the host's connector (``host``, ``mountpoint``): the volume is
        ``attaching`` while the host gives it to the guest."""
        ...

    def complete(self, context: RequestContext, attachment_id: str) -> None:
        """Mark the attachment ``attached`` (the volume becomes ``in-use``)."""
        ...

    def begin_detaching(self, context: RequestContext, attachment_id: str) -> None:
        """The volume goes from ``in-use`` to ``detaching`` while a host takes it away from
        its guest (a 400 ``InvalidVolume`` when it is not in use)."""
        ...

    def roll_detaching(self, context: RequestContext, attachment_id: str) -> None:
        """The guest kept the disk: the volume is ``in-use`` again."""
        ...

    def delete(self, context: RequestContext, attachment_id: str) -> None:
        """Detach: drop the attachment (the volume is ``available`` again after its last)."""
        ...


class VolumeContract(Protocol):
    """What compute calls of the volume service."""

    volumes: VolumeRecords
    snapshots: SnapshotRecords
    attachments: AttachmentRecords
    types: TypeRecords

    def volume_file(self, volume_id: str) -> str:
        """The local file holding the volume's raw bytes, for a hypervisor on this machine
        to give a guest (the file backend's ``local_path``; no access check: compute asks
        only for volumes attached to its instances)."""
        ...
