"""What other services may call of the Block Storage service: compute's boot from volume
(``block_device_mapping_v2``) and its ``os-volume_attachments`` API.

``Cloud.volume`` hands out the implementation (:class:`~pocketstack.volume.manager.VolumeManager`),
or None when the cloud does not run the volume service.  Every call acts as ``context``
(a volume of another project is a :class:`~pocketstack.volume.errors.VolumeNotFound`
unless the context is an admin's), blocks on the database, and raises the service's
named errors (:class:`~pocketstack.common.errors.ApiError` subclasses) when refused.
The records returned are detached rows of the volume tables, re-exported here.
"""

from __future__ import annotations

from typing import Any, Protocol

from pocketstack.common.context import RequestContext
from pocketstack.volume.models import Attachment, Snapshot, Volume

__all__ = ["Attachment", "AttachmentRecords", "Snapshot", "SnapshotRecords", "Volume", "VolumeContract",
           "VolumeRecords"]


class VolumeRecords(Protocol):
    """The volumes (``cloud.volume.volumes``)."""

    def get(self, context: RequestContext, volume_id: str) -> Volume:
        """The volume, if ``context`` may see it; else ``VolumeNotFound``."""
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


class SnapshotRecords(Protocol):
    """The snapshots (``cloud.volume.snapshots``)."""

    def get(self, context: RequestContext, snapshot_id: str) -> Snapshot:
        """The snapshot, if ``context`` may see it; else ``SnapshotNotFound``."""
        ...

    def create(self, context: RequestContext, volume_id: str, name: str | None, description: str | None,
               force: bool, metadata: dict[str, str]) -> Snapshot:
        """Start a snapshot of the volume (``creating`` until the worker has copied it);
        ``force`` allows a volume in use (a server's, as Nova's volume-backed snapshot)."""
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

    def volume_file(self, volume_id: str) -> str:
        """The local file holding the volume's raw bytes, for a hypervisor on this machine
        to give a guest (the file backend's ``local_path``; no access check: compute asks
        only for volumes attached to its instances)."""
        ...
