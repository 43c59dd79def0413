"""Volume type encryption (Cinder's ``/types/{id}/encryption``): which provider, cipher,
key size and control location a type's volumes would be encrypted with.

The specs are stored and served as Cinder serves them; they cannot change while volumes
of the type exist.  Encrypting a volume needs a key from a key manager (Barbican), which
this cloud does not run, so a volume of an encrypted type is refused (and a retype to or
from one): no volume here is ever ``encrypted``.
"""

from __future__ import annotations

import uuid
from typing import Any

import sqlalchemy as sa
from sqlalchemy import exc as sa_exc
from sqlalchemy.orm import Session

from pocketstack.common.context import RequestContext
from pocketstack.common.db.base import utcnow
from pocketstack.common.db.cas import run_in_transaction
from pocketstack.volume import errors
from pocketstack.volume import models as m
from pocketstack.volume.states import rowcount

FIELDS = ("provider", "control_location", "cipher", "key_size")


class Encryptions:
    def __init__(self, db, types):
        self.db = db
        self.types = types

    def get(self, type_id: str | None) -> m.VolumeTypeEncryption | None:
        with self.db.session(readonly=True) as s:
            row = s.get(m.VolumeTypeEncryption, type_id) if type_id else None
            if row is not None:
                s.expunge(row)
            return row

    def show(self, context: RequestContext, type_id: str) -> m.VolumeTypeEncryption | None:
        self.types.get(context, type_id)
        return self.get(type_id)

    @staticmethod
    def _check_unused(s: Session, type_id: str, action: str) -> None:
        if s.scalar(sa.select(sa.func.count()).select_from(m.Volume).where(m.Volume.volume_type_id == type_id)):
            raise errors.EncryptedTypeInUse(action=action)

    def create(self, context: RequestContext, type_id: str, specs: dict[str, Any]) -> str:
        """Cinder's order: in use (400), the type (404), already encrypted (400); the new
        ``encryption_id``.  The type's primary key makes a racing second create lose."""
        def work(s: Session) -> str:
            self._check_unused(s, type_id, "create")
            self.types.get(context, type_id)
            if s.get(m.VolumeTypeEncryption, type_id) is not None:
                raise errors.VolumeTypeEncryptionExists(type_id=type_id)
            row = m.VolumeTypeEncryption(volume_type_id=type_id, encryption_id=str(uuid.uuid4()),
                                         **{k: specs.get(k) for k in FIELDS})
            s.add(row)
            s.flush()
            return row.encryption_id
        try:
            return run_in_transaction(self.db, work)
        except sa_exc.IntegrityError:
            raise errors.VolumeTypeEncryptionExists(type_id=type_id) from None

    def update(self, context: RequestContext, type_id: str, specs: dict[str, Any]) -> None:
        self.types.get(context, type_id)

        def work(s: Session) -> None:
            self._check_unused(s, type_id, "update")
            values = {k: specs[k] for k in FIELDS if k in specs}
            if not rowcount(s.execute(sa.update(m.VolumeTypeEncryption).where(
                    m.VolumeTypeEncryption.volume_type_id == type_id).values(updated_at=utcnow(), **values))):
                raise errors.VolumeTypeEncryptionNotFound(type_id=type_id)
        run_in_transaction(self.db, work)

    def delete(self, context: RequestContext, type_id: str) -> None:
        def work(s: Session) -> None:
            self._check_unused(s, type_id, "delete")
            if not rowcount(s.execute(sa.delete(m.VolumeTypeEncryption).where(
                    m.VolumeTypeEncryption.volume_type_id == type_id))):
                raise errors.VolumeTypeEncryptionNotFound(type_id=type_id)
        run_in_transaction(self.db, work)
