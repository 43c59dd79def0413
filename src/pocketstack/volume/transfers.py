"""Volume transfers: hand an ``available`` volume (and its snapshots) to another project.

Creating a transfer moves the volume ``available`` → ``awaiting-transfer`` by CAS and
inserts the transfer row in the same transaction (``volume_id`` is unique, so a volume
has at most one pending transfer).  The random auth key is returned once; only its salted
SHA-256 is stored.  Accepting checks the key, then in one transaction: charges the
recipient's quota and releases the donor's (both by CAS on the usage rows), moves the
volume back to ``available`` under its new owner (CAS on ``(id, status, project_id)``),
re-owns its snapshots and deletes the transfer row.  ``awaiting-transfer`` is a resting
state, not a ``*-ing`` one: nothing is in flight, so there is nothing to recover.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import uuid

import sqlalchemy as sa
from sqlalchemy import exc as sa_exc
from sqlalchemy.orm import Session

from pocketstack.common.context import RequestContext
from pocketstack.common.db.cas import ConcurrentUpdate, run_in_transaction
from pocketstack.volume import errors
from pocketstack.volume import models as m
from pocketstack.volume.states import existing, move, rowcount
from pocketstack.volume.volumes import invalid


def _hash(salt: str, auth_key: str) -> str:
    return hashlib.sha256((salt + auth_key).encode()).hexdigest()


class Transfers:
    def __init__(self, db, volumes, quotas, types):
        self.db = db
        self.volumes = volumes
        self.quotas = quotas
        self.types = types

    def get(self, context: RequestContext, transfer_id: str) -> m.Transfer:
        """A transfer its own project (or an admin) may see."""
        with self.db.session(readonly=True) as s:
            transfer = s.get(m.Transfer, transfer_id)
            if transfer is None or not (context.is_admin or transfer.project_id == context.project_id):
                raise errors.TransferNotFound(transfer_id=transfer_id)
            s.expunge(transfer)
            return transfer

    def list(self, context: RequestContext, all_projects: bool) -> list[m.Transfer]:
        query = sa.select(m.Transfer).order_by(m.Transfer.created_at.desc(), m.Transfer.id)
        if not (all_projects and context.is_admin):
            query = query.where(m.Transfer.project_id == context.project_id)
        with self.db.session(readonly=True) as s:
            rows = list(s.scalars(query))
            s.expunge_all()
            return rows

    def create(self, context: RequestContext, volume_id: str, name: str | None) -> tuple[m.Transfer, str]:
        """The new transfer and its auth key (shown to the caller once)."""
        volume = self.volumes.get(context, volume_id)
        auth_key, salt = secrets.token_hex(8), secrets.token_hex(8)
        transfer = m.Transfer(id=str(uuid.uuid4()), volume_id=volume.id, project_id=volume.project_id, name=name,
                              salt=salt, key_hash=_hash(salt, auth_key))

        def work(s: Session) -> None:
            row = existing(s, m.Volume, volume_id)
            if row.status != "available":
                raise invalid(volume_id, "transfer", "available", row.status)
            busy = s.scalar(sa.select(m.Snapshot.id).where(m.Snapshot.volume_id == volume_id,
                                                           m.Snapshot.status != "available").limit(1))
            if busy:
                raise errors.InvalidSnapshot(reason=f"Snapshot {busy} is not in available status.")
            move(s, volume_id, "available", "awaiting-transfer")
            s.add(transfer)
            s.flush()
        try:
            run_in_transaction(self.db, work)
        except sa_exc.IntegrityError:
            raise errors.InvalidVolume(reason=f"Volume {volume_id} already has a pending transfer.") from None
        return self.get(context, transfer.id), auth_key

    def delete(self, context: RequestContext, transfer_id: str) -> None:
        """Cancel: the transfer row goes, the volume is ``available`` to its owner again."""
        transfer = self.get(context, transfer_id)

        def work(s: Session) -> None:
            if rowcount(s.execute(sa.delete(m.Transfer).where(m.Transfer.id == transfer_id))) != 1:
                raise errors.TransferNotFound(transfer_id=transfer_id)
            row = s.get(m.Volume, transfer.volume_id)
            if row is not None and row.status == "awaiting-transfer":
                move(s, row.id, "awaiting-transfer", "available")
        run_in_transaction(self.db, work)

    def accept(self, context: RequestContext, transfer_id: str, auth_key: str) -> m.Transfer:
        """Give the volume to the caller's project; 400 for a wrong key, 413 when the
        recipient's quota cannot take it."""
        with self.db.session(readonly=True) as s:
            transfer = s.get(m.Transfer, transfer_id)
            if transfer is None:
                raise errors.TransferNotFound(transfer_id=transfer_id)
            s.expunge(transfer)
        if not hmac.compare_digest(transfer.key_hash, _hash(transfer.salt, auth_key)):
            raise errors.InvalidAuthKey(transfer_id=transfer_id)
        volume = self._volume(transfer.volume_id)
        vtype = self.types.get_by_id(volume.volume_type_id) if volume.volume_type_id else None
        type_name = vtype.name if vtype else None

        def work(s: Session) -> None:
            if rowcount(s.execute(sa.delete(m.Transfer).where(m.Transfer.id == transfer_id))) != 1:
                raise errors.TransferNotFound(transfer_id=transfer_id)  # accepted or deleted meanwhile
            row = s.get(m.Volume, transfer.volume_id)
            if row is None or row.status != "awaiting-transfer":
                raise invalid(transfer.volume_id, "accept transfer", "awaiting-transfer",
                              row.status if row else "deleted")
            snapshots = list(s.execute(sa.select(m.Snapshot.status, m.Snapshot.size)
                                       .where(m.Snapshot.volume_id == row.id)))
            if any(status != "available" for status, _ in snapshots):
                raise errors.InvalidSnapshot(reason=f"the snapshots of volume {row.id} must all be available "
                                 f"to accept its transfer.")
            sizes = [size for _, size in snapshots]
            moved = {"volumes": 1, "gigabytes": row.size + sum(sizes), "snapshots": len(sizes)}
            self.quotas.reserve(s, context.project_id, type_name, **moved)
            self.quotas.reserve(s, row.project_id, type_name, **{k: -v for k, v in moved.items()})
            move(s, row.id, "awaiting-transfer", "available", extra_where={"project_id": row.project_id},
                 project_id=context.project_id, user_id=context.user_id)
            # CAS on the snapshots too: one that started deleting meanwhile re-runs the check.
            result = s.execute(sa.update(m.Snapshot).where(m.Snapshot.volume_id == row.id,
                                                           m.Snapshot.status == "available")
                               .values(project_id=context.project_id))
            if rowcount(result) != len(sizes):
                raise ConcurrentUpdate(f"snapshots of volume {row.id} changed meanwhile")
        run_in_transaction(self.db, work)
        return transfer

    def _volume(self, volume_id: str) -> m.Volume:
        with self.db.session(readonly=True) as s:
            volume = s.get(m.Volume, volume_id)
            if volume is None:
                raise errors.VolumeNotFound(volume_id=volume_id)
            s.expunge(volume)
            return volume
