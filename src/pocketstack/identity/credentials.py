"""Credentials (``/v3/credentials``, and EC2 credentials on top of them): a user's
secrets for other authentication schemes -- ``ec2`` access/secret pairs, ``totp``
seeds, ``cert`` data -- kept as an opaque JSON blob.

The blob is encrypted at rest with Fernet keys of their own (``credential-keys`` in the
data directory, rotated like the token keys), as Keystone's credential provider does;
each row names the key that encrypted it.  An ``ec2`` credential's id is the SHA-256 of
its access key, so ``/v3/ec2tokens`` finds it from the access key alone.
"""

from __future__ import annotations

import hashlib
import json

import sqlalchemy as sa
from sqlalchemy import exc as sa_exc
from sqlalchemy.orm import Session

from pocketstack.common.db import Database, new_id
from pocketstack.common.db.lookup import get_or_raise
from pocketstack.identity import errors
from pocketstack.identity import models as m
from pocketstack.identity.keys import KeyRepository

C = m.Credential
EC2 = "ec2"
# A credential made with a delegated token keeps its delegation: ec2tokens then issues
# a token of the same trust or application credential.  These keys cannot change.
SCOPE_KEYS = ("trust_id", "app_cred_id", "access_token_id", "access_id")


def hash_access_key(access: str) -> str:
    return hashlib.sha256(access.encode("utf-8")).hexdigest()


def ec2_blob(blob: str) -> dict:
    """An ec2 credential's blob, which must be a JSON object naming its ``access`` key."""
    try:
        parsed = json.loads(blob)
    except ValueError:
        raise errors.ValidationMessage(message="Invalid blob in credential") from None
    if not parsed or not isinstance(parsed, dict):
        raise errors.MissingAttribute(attribute="blob", target="credential")
    if parsed.get("access") is None:
        raise errors.MissingAttribute(attribute="access", target="credential")
    return parsed


class CredentialManager:
    def __init__(self, db: Database, keys: KeyRepository):
        self.db = db
        self.keys = keys

    # -- the blob at rest ---------------------------------------------------------------
    def _seal(self, row: m.Credential, blob: str) -> None:
        if not self.keys.path.exists():
            self.keys.ensure()
        row.encrypted_blob = self.keys.fernet().encrypt(blob.encode("utf-8")).decode("ascii")
        row.key_hash = self.keys.primary_hash()

    def blob(self, row: m.Credential) -> str:
        return self.keys.fernet().decrypt(row.encrypted_blob.encode("ascii")).decode("utf-8")

    # -- reading ------------------------------------------------------------------------
    @staticmethod
    def load(s: Session, credential_id: str) -> m.Credential:
        return get_or_raise(s, C, credential_id, lambda: errors.CredentialNotFound(credential_id=credential_id))

    def get(self, credential_id: str) -> m.Credential:
        with self.db.session(readonly=True) as s:
            return self.load(s, credential_id)

    def find(self, credential_id: str) -> m.Credential | None:
        with self.db.session(readonly=True) as s:
            return s.get(C, credential_id)

    def list_credentials(self, *, user_id: str | None = None, type: str | None = None) -> list[m.Credential]:
        stmt = sa.select(C).order_by(C.id)
        if user_id is not None:
            stmt = stmt.where(C.user_id == user_id)
        if type is not None:
            stmt = stmt.where(C.type == type)
        with self.db.session(readonly=True) as s:
            return list(s.scalars(stmt))

    # -- writing ------------------------------------------------------------------------
    def create(self, fields: dict, *, delegation: dict[str, str]) -> m.Credential:
        """Store the validated ``fields``; ``delegation`` (``trust_id``/``app_cred_id``
        of the caller's token) is written into an ec2 blob."""
        known = ("id", "user_id", "project_id", "type", "blob")
        extra = {k: v for k, v in fields.items() if k not in known}
        blob = fields["blob"]
        if fields["type"] == EC2:
            parsed = ec2_blob(blob)
            credential_id = hash_access_key(parsed["access"])
            if delegation:
                blob = json.dumps({**parsed, **delegation})
        else:
            credential_id = new_id()
        row = C(id=credential_id, user_id=fields["user_id"], project_id=fields.get("project_id"),
                type=fields["type"], extra=extra)
        self._seal(row, blob)
        try:
            with self.db.session() as s:
                s.add(row)
                s.flush()
        except sa_exc.IntegrityError:
            raise errors.DuplicateEntry(action="store credential",
                                        details=f"Duplicate entry found with id {credential_id}") from None
        return row

    def update(self, credential_id: str, changes: dict) -> m.Credential:
        with self.db.session() as s:
            row = self.load(s, credential_id)
            kind = changes.get("type", row.type)
            if kind == EC2 and "blob" in changes:
                new, old = ec2_blob(changes["blob"]), json.loads(self.blob(row))
                for key in SCOPE_KEYS:
                    if old.get(key) != new.get(key):
                        raise errors.ValidationMessage(message=f"{key} can not be updated for credential")
            for key in ("user_id", "project_id", "type"):
                if key in changes:
                    setattr(row, key, changes[key])
            if "blob" in changes:
                self._seal(row, changes["blob"])
            extra = {k: v for k, v in changes.items() if k not in ("id", "user_id", "project_id", "type", "blob")}
            if extra:
                row.extra = {**row.extra, **extra}
            s.flush()
            return row

    def delete(self, credential_id: str) -> None:
        with self.db.session() as s:
            s.delete(self.load(s, credential_id))

    @staticmethod
    def delete_for_user(s: Session, user_id: str) -> None:
        s.execute(sa.delete(C).where(C.user_id == user_id))
