"""Token revocation events.

Tokens are not stored, so revoking one means recording *which* tokens are no longer
valid: an event matches a token when every field it sets equals the token's and the
token was issued at or before ``issued_before``.  Events outlive the longest-lived token
they can match and are then pruned.
"""

from __future__ import annotations

import time

import sqlalchemy as sa
from sqlalchemy.orm import Session

from pocketstack.common.db import Database
from pocketstack.common.db.cas import changed_rows
from pocketstack.identity import models as m
from pocketstack.identity.tokens import TokenPayload

E = m.RevocationEvent


class RevokeManager:
    def __init__(self, db: Database, max_token_age: float):
        self.db = db
        self.max_token_age = max_token_age

    def add(self, session: Session, **fields) -> None:
        """Record an event in the caller's transaction, so it commits with the change."""
        now = time.time()
        session.add(E(issued_before=now, revoked_at=now, **fields))

    def revoke_token(self, payload: TokenPayload) -> None:
        with self.db.session() as s:
            self.add(s, audit_id=payload.audit_ids[0])

    def is_revoked(self, session: Session, payload: TokenPayload, *, user_ids: list[str],
                   user_domain_id: str | None,
                   project_id: str | None, scope_domain_ids: list[str]) -> bool:
        domains = [d for d in [user_domain_id, *scope_domain_ids] if d]
        stmt = sa.select(E.id).where(
            E.issued_before >= payload.issued_at,
            # The token's user and, for a trust-scoped token, its trustor too.
            sa.or_(E.user_id.is_(None), E.user_id.in_(user_ids)),
            sa.or_(E.project_id.is_(None), E.project_id == project_id),
            sa.or_(E.audit_id.is_(None), E.audit_id == payload.audit_ids[0]),
            sa.or_(E.audit_chain_id.is_(None), E.audit_chain_id == payload.audit_chain_id),
            sa.or_(E.domain_id.is_(None), E.domain_id.in_(domains) if domains else sa.false()),
        ).limit(1)
        return session.scalar(stmt) is not None

    def prune(self) -> int:
        """Delete the expired events.  Only when there is one: a DELETE on an identity
        table moves the validation caches' generation (identity/validation_cache.py)
        whatever it deleted, so a sweep that writes for nothing would empty every
        process's caches, and make each start's first sweep a write."""
        expired = E.revoked_at < time.time() - self.max_token_age
        with self.db.session(readonly=True) as s:
            if s.scalar(sa.select(E.id).where(expired).limit(1)) is None:
                return 0
        with self.db.session() as s:
            return changed_rows(s, sa.delete(E).where(expired))
