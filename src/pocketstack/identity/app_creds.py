"""Application credentials: a user delegates (some of) their roles on one project to a
secret that authenticates without the user's password.

The secret is shown once at creation and stored only as a bcrypt hash.  A credential
that is not ``unrestricted`` cannot create or delete other application credentials,
so a leaked secret cannot mint itself a longer life.
"""

from __future__ import annotations

import base64
import datetime as dt
import os

import sqlalchemy as sa
from sqlalchemy import exc as sa_exc
from sqlalchemy.orm import Session

from pocketstack.common.access_rules import Rule
from pocketstack.common.db import Database, new_id, utcnow
from pocketstack.identity import errors
from pocketstack.identity import models as m
from pocketstack.identity.access_rules import AccessRuleManager
from pocketstack.identity.passwords import hash_password


def generate_secret() -> str:
    return base64.urlsafe_b64encode(os.urandom(64)).rstrip(b"=").decode()


class AppCredentialManager:
    def __init__(self, db: Database, identity, bcrypt_rounds: int):
        self.db = db
        self.identity = identity
        self.bcrypt_rounds = bcrypt_rounds

    @staticmethod
    def load(session: Session, cred_id: str, user_id: str | None = None) -> m.ApplicationCredential:
        cred = session.get(m.ApplicationCredential, cred_id)
        if cred is None or (user_id is not None and cred.user_id != user_id):
            raise errors.ApplicationCredentialNotFound(cred_id=cred_id)
        return cred

    def get(self, user_id: str, cred_id: str) -> m.ApplicationCredential:
        with self.db.session(readonly=True) as s:
            return self.load(s, cred_id, user_id)

    def list_for(self, user_id: str, name: str | None = None) -> list[m.ApplicationCredential]:
        with self.db.session(readonly=True) as s:
            self.identity.users.load_user(s, user_id)
            stmt = sa.select(m.ApplicationCredential).where(m.ApplicationCredential.user_id == user_id)
            if name:
                stmt = stmt.where(m.ApplicationCredential.name == name)
            return list(s.scalars(stmt.order_by(m.ApplicationCredential.name)))

    def create(self, *, user_id: str, project_id: str | None, caller_roles: list[m.Role], name: str,
               secret: str | None, description: str | None, expires_at: dt.datetime | None,
               unrestricted: bool, requested_roles: list[dict] | None,
               access_rules: list[dict] | None = None) -> tuple[m.ApplicationCredential, str]:
        if project_id is None:
            raise errors.ProjectScopeRequired()
        if expires_at is not None and expires_at <= utcnow():
            raise errors.ExpiryInPast()
        held = {r.id: r for r in caller_roles}
        if requested_roles:
            chosen = []
            for wanted in requested_roles:
                match = next((r for r in caller_roles if r.id == wanted.get("id") or
                              (not wanted.get("id") and r.name == wanted.get("name"))), None)
                if match is None:
                    raise errors.RoleNotDelegable()
                chosen.append(match)
        else:
            chosen = list(held.values())
        secret = secret or generate_secret()
        secret_hash = hash_password(secret, self.bcrypt_rounds)
        # Two tries: a rule another credential of the user's created meanwhile is found
        # (and shared) by the second; a name already taken fails both.
        for attempt in range(2):
            try:
                with self.db.session() as s:
                    cred = m.ApplicationCredential(
                        id=new_id(), name=name, secret_hash=secret_hash, description=description,
                        user_id=user_id, project_id=project_id, expires_at=expires_at,
                        unrestricted=unrestricted,
                        roles=[{"id": r.id, "name": r.name, "domain_id": None} for r in chosen])
                    s.add(cred)
                    s.flush()
                    AccessRuleManager.attach(s, user_id, cred.id, access_rules or [])
                return cred, secret
            except sa_exc.IntegrityError:
                if attempt == 1 or not access_rules:
                    raise errors.DuplicateEntry(action="store application_credential",
                                                details=f"Duplicate entry found with name {name}.") from None
        raise AssertionError("unreachable")

    def rules_of(self, cred_id: str) -> list[Rule]:
        with self.db.session(readonly=True) as s:
            return AccessRuleManager.for_credential(s, cred_id)

    def delete(self, user_id: str, cred_id: str) -> None:
        with self.db.session() as s:
            cred = self.load(s, cred_id, user_id)
            s.delete(cred)
