"""Access rules as Keystone keeps them: what a token from an application credential may
call (matched against requests by :mod:`pocketstack.common.access_rules`).

Rules belong to their user: a credential naming a rule the user already has (by id, or
by the same service, path and method) shares it, and a rule is deleted only when no
credential uses it.
"""

from __future__ import annotations

from collections.abc import Iterable

import sqlalchemy as sa
from sqlalchemy import exc as sa_exc
from sqlalchemy.orm import Session

from pocketstack.common.access_rules import Rule
from pocketstack.common.db import Database, new_id
from pocketstack.identity import errors
from pocketstack.identity import models as m


def rule_of(row: m.AccessRule) -> Rule:
    return Rule(row.id, row.service, row.path, row.method)


class AccessRuleManager:
    def __init__(self, db: Database):
        self.db = db

    @staticmethod
    def for_credential(s: Session, cred_id: str) -> list[Rule]:
        rows = s.scalars(sa.select(m.AccessRule).join(
            m.ApplicationCredentialAccessRule, m.ApplicationCredentialAccessRule.access_rule_id == m.AccessRule.id)
            .where(m.ApplicationCredentialAccessRule.application_credential_id == cred_id)
            .order_by(m.AccessRule.service, m.AccessRule.path, m.AccessRule.method))
        return [rule_of(row) for row in rows]

    @staticmethod
    def attach(s: Session, user_id: str, cred_id: str, wanted: Iterable[dict]) -> None:
        """Give credential ``cred_id`` the ``wanted`` rules: each an existing rule of the
        user's (by id, else by service, path and method) or a new one."""
        attached: set[str] = set()
        for item in wanted:
            row = s.get(m.AccessRule, item["id"]) if item.get("id") else None
            if (row is not None and row.user_id != user_id) or (row is None and "service" not in item):
                raise errors.AccessRuleNotFound(rule_id=item["id"])  # named by an id the user has not
            if row is None:
                row = s.scalars(sa.select(m.AccessRule).where(
                    m.AccessRule.user_id == user_id, m.AccessRule.service == item["service"],
                    m.AccessRule.path == item["path"], m.AccessRule.method == item["method"])).first()
            if row is None:
                row = m.AccessRule(id=item.get("id") or new_id(), user_id=user_id, service=item["service"],
                                   path=item["path"], method=item["method"])
                s.add(row)
                s.flush()
            if row.id not in attached:
                attached.add(row.id)
                s.add(m.ApplicationCredentialAccessRule(application_credential_id=cred_id, access_rule_id=row.id))

    def list_for(self, user_id: str, filters: dict[str, str]) -> list[Rule]:
        with self.db.session(readonly=True) as s:
            stmt = sa.select(m.AccessRule).where(m.AccessRule.user_id == user_id)
            for name in ("service", "path", "method"):
                if filters.get(name):
                    stmt = stmt.where(getattr(m.AccessRule, name) == filters[name])
            return [rule_of(row) for row in s.scalars(stmt.order_by(m.AccessRule.service, m.AccessRule.path,
                                                                     m.AccessRule.method, m.AccessRule.id))]

    @staticmethod
    def _load(s: Session, user_id: str, rule_id: str) -> m.AccessRule:
        row = s.get(m.AccessRule, rule_id)
        if row is None or row.user_id != user_id:
            raise errors.AccessRuleNotFound(rule_id=rule_id)
        return row

    def get(self, user_id: str, rule_id: str) -> Rule:
        with self.db.session(readonly=True) as s:
            return rule_of(self._load(s, user_id, rule_id))

    def delete(self, user_id: str, rule_id: str) -> None:
        """Delete a rule no credential uses (403 otherwise, as Keystone).  A credential
        taking the rule meanwhile makes the delete fail on the foreign key: in use too."""
        try:
            with self.db.session() as s:
                row = self._load(s, user_id, rule_id)
                used = s.scalars(sa.select(m.ApplicationCredentialAccessRule.application_credential_id).where(
                    m.ApplicationCredentialAccessRule.access_rule_id == rule_id).limit(1)).first()
                if used is not None:
                    raise errors.AccessRuleInUse()
                s.delete(row)
        except sa_exc.IntegrityError:
            raise errors.AccessRuleInUse() from None
