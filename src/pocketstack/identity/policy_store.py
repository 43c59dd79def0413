"""Policy blobs (``/v3/policies``): opaque documents -- a ``type`` (a MIME type such as
``application/json``) and a ``blob`` string -- that Keystone keeps for services to
fetch.  Keystone never enforces them, and neither does pocketstack (its own rules are
``policies.py`` and the policy file)."""

from __future__ import annotations

import sqlalchemy as sa

from pocketstack.common.db import Database, new_id
from pocketstack.common.db.lookup import get_or_raise
from pocketstack.identity import errors
from pocketstack.identity import models as m


class PolicyStore:
    def __init__(self, db: Database):
        self.db = db

    @staticmethod
    def _load(s, policy_id: str) -> m.Policy:
        return get_or_raise(s, m.Policy, policy_id, lambda: errors.PolicyNotFound(policy_id=policy_id))

    def get(self, policy_id: str) -> m.Policy:
        with self.db.session(readonly=True) as s:
            return self._load(s, policy_id)

    def list(self, filters: dict) -> list[m.Policy]:
        stmt = sa.select(m.Policy).order_by(m.Policy.id)
        if "type" in filters:
            stmt = stmt.where(m.Policy.type == filters["type"])
        with self.db.session(readonly=True) as s:
            return list(s.scalars(stmt))

    def create(self, *, type: str, blob: str, extra: dict) -> m.Policy:
        with self.db.session() as s:
            row = m.Policy(id=new_id(), type=type, blob=blob, extra=extra)
            s.add(row)
            return row

    def update(self, policy_id: str, changes: dict) -> m.Policy:
        with self.db.session() as s:
            row = self._load(s, policy_id)
            for key in ("type", "blob"):
                if key in changes:
                    setattr(row, key, changes[key])
            if "extra" in changes:
                row.extra = {**row.extra, **changes["extra"]}
            return row

    def delete(self, policy_id: str) -> None:
        with self.db.session() as s:
            s.delete(self._load(s, policy_id))
