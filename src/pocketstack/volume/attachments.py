"""Attachments (Cinder's new-style attach flow): reserve → update(connector) → complete → delete.

The rule that a volume without ``multiattach`` is never attached twice is enforced by
the database, not by a lock: reserving compares-and-swaps the volume's ``status`` *and*
``attach_count`` (``WHERE status = 'available' AND attach_count = 0``), so of any number
of racing reservations through any number of workers exactly one matches the row.
"""

from __future__ import annotations

import uuid

import sqlalchemy as sa
from sqlalchemy.orm import Session

from pocketstack.common.context import RequestContext
from pocketstack.common.db.base import utcnow
from pocketstack.common.db.cas import cas_update, run_in_transaction
from pocketstack.volume import errors
from pocketstack.volume import models as m
from pocketstack.volume.states import existing, move, rowcount

ATTACHABLE = ("available", "reserved", "attaching", "in-use")
# An attachment created without a mode (Cinder stores the string "null"): the connector's decides.
UNSET_MODE = "null"
# Statuses a detach replaces with the one the remaining attachments give.
DETACH_SETTLES = ATTACHABLE + ("detaching", "error", "maintenance", "error_attaching")


def settle_attachments(s: Session, volume_id: str, expected: str) -> None:
    """Drop attachments that never completed and set the volume's status from the ones
    that did (recovery of an interrupted attach or detach)."""
    s.execute(sa.delete(m.Attachment).where(m.Attachment.volume_id == volume_id,
                                             m.Attachment.attach_status != "attached"))
    attached = s.scalar(sa.select(sa.func.count()).select_from(m.Attachment).where(
        m.Attachment.volume_id == volume_id)) or 0
    status = "in-use" if attached else "available"
    cas_update(s, m.Volume, where={"id": volume_id, "status": expected},
               values={"status": status, "attach_count": attached, "task_started_at": None, "task_owner": None,
                       "attach_status": "attached" if attached else "detached", "updated_at": utcnow()})

class Attachments:
    def __init__(self, db, volumes):
        self.db = db
        self.volumes = volumes

    def get(self, context: RequestContext, attachment_id: str) -> m.Attachment:
        with self.db.session(readonly=True) as s:
            row = s.get(m.Attachment, attachment_id)
            if row is None or not (context.is_admin or row.project_id == context.project_id):
                raise errors.AttachmentNotFound(attachment_id=attachment_id)
            s.expunge(row)
            return row

    def list(self, context: RequestContext, all_projects: bool = False, volume_id: str | None = None,
             instance_id: str | None = None) -> list[m.Attachment]:
        with self.db.session(readonly=True) as s:
            stmt = sa.select(m.Attachment).order_by(m.Attachment.created_at.desc(), m.Attachment.id)
            if not (all_projects and context.is_admin):
                stmt = stmt.where(m.Attachment.project_id == context.project_id)
            if volume_id:
                stmt = stmt.where(m.Attachment.volume_id == volume_id)
            if instance_id:
                stmt = stmt.where(m.Attachment.instance_uuid == instance_id)
            rows = list(s.scalars(stmt))
            s.expunge_all()
            return rows

    def create(self, context: RequestContext, volume_id: str, instance_uuid: str | None,
               connector: dict | None = None, mode: str = "rw") -> m.Attachment:
        """Reserve the volume for one more attachment (CAS on status and count).  A
        read-only volume's attachment is ``ro`` whatever the mode asked for (Cinder's
        deprecated admin-metadata override)."""
        volume = self.volumes.get(context, volume_id)
        if volume.readonly:
            mode = "ro"
        attachment_id = str(uuid.uuid4())

        def work(s: Session) -> None:
            row = s.get(m.Volume, volume_id)
            if row is None:
                raise errors.VolumeNotFound(volume_id=volume_id)
            if row.status not in ATTACHABLE or (row.attach_count and not row.multiattach):
                raise errors.InvalidVolume(reason=f"Volume {volume_id} status must be available or "
                                 f"downloading to reserve, but the current status is {row.status}.")
            if row.status == "in-use" or (row.multiattach and row.attach_count):
                status = row.status
            else:
                status = "attaching" if connector else "reserved"
            move(s, volume_id, row.status, status, extra_where={"attach_count": row.attach_count},
                 attach_count=row.attach_count + 1)
            s.add(m.Attachment(id=attachment_id, volume_id=volume_id, project_id=volume.project_id,
                               instance_uuid=instance_uuid, attach_mode=mode, connector=connector,
                               mountpoint=(connector or {}).get("mountpoint"),
                               attach_status="attaching" if connector else "reserved"))
        run_in_transaction(self.db, work)
        return self.get(context, attachment_id)

    def update(self, context: RequestContext, attachment_id: str, connector: dict) -> m.Attachment:
        """Record the host connector: the attachment is now being attached, in the mode
        given at create or else the connector's (``rw`` by default)."""
        attachment = self.get(context, attachment_id)
        mode = attachment.attach_mode if attachment.attach_mode != UNSET_MODE else connector.get("mode") or "rw"

        def work(s: Session) -> None:
            row = existing(s, m.Volume, attachment.volume_id)
            if row.status == "reserved":
                move(s, row.id, "reserved", "attaching")
            cas_update(s, m.Attachment, where={"id": attachment_id}, values={
                "connector": connector, "attach_status": "attaching", "attach_mode": mode,
                "mountpoint": connector.get("mountpoint")})
        run_in_transaction(self.db, work)
        return self.get(context, attachment_id)

    def complete(self, context: RequestContext, attachment_id: str) -> None:
        attachment = self.get(context, attachment_id)

        def work(s: Session) -> None:
            row = existing(s, m.Volume, attachment.volume_id)
            current = s.get(m.Attachment, attachment_id)
            if current is None:
                raise errors.AttachmentNotFound(attachment_id=attachment_id)
            cas_update(s, m.Attachment, where={"id": attachment_id, "attach_status": current.attach_status},
                       values={"attach_status": "attached", "attached_at": utcnow()})
            move(s, row.id, row.status, "in-use", attach_status="attached")
        run_in_transaction(self.db, work)

    def delete(self, context: RequestContext, attachment_id: str) -> None:
        attachment = self.get(context, attachment_id)

        def work(s: Session) -> None:
            row = existing(s, m.Volume, attachment.volume_id)
            result = s.execute(sa.delete(m.Attachment).where(m.Attachment.id == attachment_id))
            if rowcount(result) != 1:
                return  # already deleted by a concurrent request
            remaining = row.attach_count - 1
            # Cinder's volume_detached: the status follows the attachments left, whatever an
            # admin reset it to (a force-detach of an ``error`` volume leaves it ``available``).
            # A volume in the middle of an operation (uploading, backing-up…) keeps its status:
            # the operation's end sets it, as Cinder does for uploading.
            status = "in-use" if remaining else "available"
            if row.status not in DETACH_SETTLES:
                status = row.status
            move(s, row.id, row.status, status, extra_where={"attach_count": row.attach_count},
                 attach_count=remaining, attach_status="attached" if remaining else "detached")
        run_in_transaction(self.db, work)

    def begin_detaching(self, context: RequestContext, attachment_id: str) -> None:
        """Cinder's ``os-begin_detaching``: the volume of this attachment goes from ``in-use``
        to ``detaching`` while the host takes the disk away from the guest (a 400 when the
        volume is not in use); :meth:`delete` or :meth:`roll_detaching` ends it."""
        attachment = self.get(context, attachment_id)

        def work(s: Session) -> None:
            row = existing(s, m.Volume, attachment.volume_id)
            if row.status != "in-use" or attachment.attach_status != "attached":
                raise errors.InvalidVolume(reason=f"Volume {row.id} status must be in-use to detach, "
                                                  f"but the current status is {row.status}.")
            move(s, row.id, "in-use", "detaching")
        run_in_transaction(self.db, work)

    def roll_detaching(self, context: RequestContext, attachment_id: str) -> None:
        """Cinder's ``os-roll_detaching``: the guest kept the disk, the volume is ``in-use``
        again (a no-op unless it is ``detaching``)."""
        attachment = self.get(context, attachment_id)

        def work(s: Session) -> None:
            row = existing(s, m.Volume, attachment.volume_id)
            if row.status == "detaching":
                move(s, row.id, "detaching", "in-use")
        run_in_transaction(self.db, work)

    def check_user_detach(self, context: RequestContext, attachment: m.Attachment) -> None:
        """Cinder's ``attachment_deletion_allowed`` (OSSA-2023-003): a user may not delete
        an attachment through which compute has given the volume to a server -- the host
        would keep the device, and with it the data, after the volume went to somebody
        else.  Allowed for a service (the ``service`` role), for an attachment no server
        uses (no instance, no connector, or one compute does not know); otherwise 409,
        "Detach volume from instance ... using the Compute API"."""
        if "service" in context.roles or not attachment.instance_uuid or not attachment.connector:
            return
        compute = self.volumes.cloud.compute
        if compute is None or compute.volume_attachment_id(attachment.instance_uuid,
                                                           attachment.volume_id) != attachment.id:
            return
        raise errors.ConflictNovaUsingAttachment(instance_id=attachment.instance_uuid)
