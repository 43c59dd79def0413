"""Volume transfers: hand an ``available`` volume (and its snapshots) to another project.

Creating a transfer moves the volume ``available`` → ``awaiting-transfer`` by CAS and
inserts the transfer row in the same transaction (``volume_id`` is unique, so a volume
has at most one pending transfer).  The random auth key is returned once; only its salted
SHA-256 is stored.  Accepting checks the key, then in one transaction: charges the
recipient's quota and releases the donor's (both by CAS on the usage rows), moves the
volume back to ``available`` under its new owner (CAS on ``(id, status, project_id)``),
re-owns its snapshots (project and user, unless the transfer leaves them, 3.55) and
deletes the transfer row.  ``awaiting-transfer`` is a resting state, not a ``*-ing``
one: nothing is in flight, so there is nothing to recover.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import uuid
from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa
from sqlalchemy import exc as sa_exc
from sqlalchemy.orm import Session

from pocketstack.common.context import RequestContext
from pocketstack.common.db.cas import ConcurrentUpdate, run_in_transaction
from pocketstack.common.pagination import Paging
from pocketstack.volume import errors, listing
from pocketstack.volume import models as m
from pocketstack.volume.states import existing, move, rowcount
from pocketstack.volume.volumes import invalid


def _filter(key: str, value: Any) -> Any:
    """The condition of one list filter, or None when it can match nothing (a column
    Cinder's transfers lack, a flag that is no boolean): a pending transfer is never
    ``accepted`` and has no ``destination_project_id`` yet."""
    columns = {"id": m.Transfer.id, "volume_id": m.Transfer.volume_id, "display_name": m.Transfer.name,
               "source_project_id": m.Transfer.project_id, "project_id": m.Transfer.project_id}
    if key in columns:
        return columns[key] == value
    if key == "no_snapshots" and isinstance(value, bool):
        return m.Transfer.no_snapshots.is_(value)
    if key == "accepted" and value is False:
        return sa.true()
    return None


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

    def list(self, context: RequestContext, all_projects: bool, filters: Mapping[str, Any] | None = None,
             paging: Paging | None = None, offset: int = 0) -> list[m.Transfer]:
        """The pending transfers the caller may list, matching ``filters`` (Cinder's: any
        column of its transfer table; one it does not have matches nothing), a page of
        them with ``paging`` (3.59) or else all, oldest first."""
        conditions = [] if all_projects and context.is_admin else [m.Transfer.project_id == context.project_id]
        for key, value in (filters or {}).items():
            condition = _filter(key, value)
            if condition is None:
                return []
            conditions.append(condition)
        if paging is None:
            paging = Paging(sort=[("created_at", "asc"), ("id", "asc")])
        elif paging.marker:
            self.get(context, paging.marker)  # Cinder looks the marker up as a transfer: a 404
        return listing.page(self.db, m.Transfer, conditions, paging, offset)

    def create(self, context: RequestContext, volume_id: str, name: str | None,
               no_snapshots: bool = False) -> tuple[m.Transfer, str]:
        """The new transfer and its auth key (shown to the caller once); with
        ``no_snapshots`` (3.55) the snapshots are not part of it."""
        volume = self.volumes.get(context, volume_id)
        auth_key, salt = secrets.token_hex(8), secrets.token_hex(8)
        transfer = m.Transfer(id=str(uuid.uuid4()), volume_id=volume.id, project_id=volume.project_id, name=name,
                              salt=salt, key_hash=_hash(salt, auth_key), no_snapshots=no_snapshots)

        def work(s: Session) -> None:
            row = existing(s, m.Volume, volume_id)
            if row.status != "available":
                raise invalid(volume_id, "transfer", "available", row.status)
            busy = None if no_snapshots else s.scalar(sa.select(m.Snapshot.id).where(
                m.Snapshot.volume_id == volume_id, m.Snapshot.status != "available").limit(1))
            if busy:
                raise errors.InvalidSnapshot(reason=f"snapshot: {busy} status must be available")
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
        """Give the volume to the caller's project (its own too, as Cinder allows: the
        accepting user becomes the owner); 400 for a wrong key, 413 when the recipient's
        quota cannot take it or the volume is over its ``per_volume_gigabytes``."""
        with self.db.session(readonly=True) as s:
            transfer = s.get(m.Transfer, transfer_id)
            if transfer is None:
                raise errors.TransferNotFound(transfer_id=transfer_id)
            s.expunge(transfer)
        if not hmac.compare_digest(transfer.key_hash, _hash(transfer.salt, auth_key)):
            raise errors.InvalidAuthKey(transfer_id=transfer_id)
        volume = self._volume(transfer.volume_id)
        self.quotas.check_volume_size(context.project_id, volume.size)
        vtype = self.types.get_by_id(volume.volume_type_id) if volume.volume_type_id else None
        type_name = vtype.name if vtype else None

        def work(s: Session) -> None:
            if rowcount(s.execute(sa.delete(m.Transfer).where(m.Transfer.id == transfer_id))) != 1:
                raise errors.TransferNotFound(transfer_id=transfer_id)  # accepted or deleted meanwhile
            row = s.get(m.Volume, transfer.volume_id)
            if row is None or row.status != "awaiting-transfer":
                raise invalid(transfer.volume_id, "accept transfer", "awaiting-transfer",
                              row.status if row else "deleted")
            snapshots = [] if transfer.no_snapshots else list(s.execute(
                sa.select(m.Snapshot.id, m.Snapshot.status, m.Snapshot.size).where(m.Snapshot.volume_id == row.id)))
            busy = next((snapshot_id for snapshot_id, status, _ in snapshots if status != "available"), None)
            if busy:
                raise errors.InvalidSnapshot(reason=f"Transfer {transfer_id}: Snapshot {busy} is not in the "
                                                    f"expected available state.")
            sizes = [size for _, _, size in snapshots]
            moved = {"volumes": 1, "gigabytes": row.size + sum(sizes), "snapshots": len(sizes)}
            self.quotas.reserve(s, context.project_id, type_name, **moved)
            self.quotas.reserve(s, row.project_id, type_name, **{k: -v for k, v in moved.items()})
            move(s, row.id, "awaiting-transfer", "available", extra_where={"project_id": row.project_id},
                 project_id=context.project_id, user_id=context.user_id)
            if transfer.no_snapshots:
                return
            # CAS on the snapshots too: one that started deleting meanwhile re-runs the check.
            result = s.execute(sa.update(m.Snapshot).where(m.Snapshot.volume_id == row.id,
                                                           m.Snapshot.status == "available")
                               .values(project_id=context.project_id, user_id=context.user_id))
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
