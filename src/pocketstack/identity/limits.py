"""Unified limits (``/v3/registered_limits``, ``/v3/limits``): the quota a service
enforces, kept in Keystone so every service reads the same numbers.

A *registered limit* is a service's default for one resource (in one region, or all);
a *limit* overrides it for one project or domain and takes its service, region and
resource name from it.  Enforcement is the services' business: Keystone only stores
the numbers and names its enforcement model, here the ``flat`` one (no hierarchy
checks), Keystone's default.  Keystone's rules kept here: a limit needs a matching
registered limit (403), a registered limit that limits refer to can be neither changed
nor deleted (403), each is unique (409), and unknown services, regions, projects or
domains are a 400 naming the attribute.
"""

from __future__ import annotations

from collections.abc import Iterable

import sqlalchemy as sa
from sqlalchemy.orm import Session

from pocketstack.common.db import Database, new_id
from pocketstack.common.db.lookup import get_or_raise
from pocketstack.identity import errors
from pocketstack.identity import models as m

RL, L = m.RegisteredLimit, m.Limit
FLAT_MODEL = {"name": "flat",
              "description": "Limit enforcement and validation does not take project hierarchy into consideration."}
REGISTERED_FIELDS = ("service_id", "region_id", "resource_name", "default_limit", "description")


def _same_region(column, region_id: str | None):
    return column.is_(None) if region_id is None else column == region_id


class LimitManager:
    def __init__(self, db: Database):
        self.db = db

    # -- references --------------------------------------------------------------------
    @staticmethod
    def _check_references(s: Session, fields: dict, target: str) -> None:
        """400 naming the first attribute that refers to nothing (Keystone's
        ``_assert_resource_exist``); a ``project_id`` naming a domain becomes
        ``domain_id`` (a domain's limit), in ``fields`` itself."""
        def missing(attribute: str) -> errors.MissingAttribute:
            return errors.MissingAttribute(attribute=attribute, target=target)

        if fields.get("service_id") is not None and s.get(m.Service, fields["service_id"]) is None:
            raise missing("service_id")
        if fields.get("region_id") is not None and s.get(m.Region, fields["region_id"]) is None:
            raise missing("region_id")
        if fields.get("project_id") is not None:
            project = s.get(m.Project, fields["project_id"])
            if project is None:
                raise missing("project_id")
            if project.is_domain:
                fields["domain_id"] = fields.pop("project_id")
        if fields.get("domain_id") is not None:
            domain = s.get(m.Project, fields["domain_id"])
            if domain is None or not domain.is_domain:
                raise missing("domain_id")

    # -- registered limits ---------------------------------------------------------------
    @staticmethod
    def load_registered(s: Session, registered_limit_id: str) -> m.RegisteredLimit:
        return get_or_raise(s, RL, registered_limit_id,
                            lambda: errors.RegisteredLimitNotFound(limit_id=registered_limit_id))

    def get_registered(self, registered_limit_id: str) -> m.RegisteredLimit:
        with self.db.session(readonly=True) as s:
            return self.load_registered(s, registered_limit_id)

    @staticmethod
    def _registered_matching(s: Session, service_id: str, resource_name: str,
                             region_id: str | None) -> m.RegisteredLimit | None:
        return s.scalars(sa.select(RL).where(RL.service_id == service_id, RL.resource_name == resource_name,
                                             _same_region(RL.region_id, region_id)).limit(1)).first()

    def list_registered(self, filters: dict) -> list[m.RegisteredLimit]:
        stmt = sa.select(RL).order_by(RL.service_id, RL.resource_name, RL.id)
        for key in ("service_id", "region_id", "resource_name"):
            if key in filters:
                stmt = stmt.where(getattr(RL, key) == filters[key])
        with self.db.session(readonly=True) as s:
            return list(s.scalars(stmt))

    def create_registered(self, items: list[dict]) -> list[m.RegisteredLimit]:
        """Create all of ``items`` or none of them."""
        with self.db.session() as s:
            for fields in items:
                self._check_references(s, fields, "registered_limit")
            created = []
            for fields in items:
                if self._registered_matching(s, fields["service_id"], fields["resource_name"],
                                             fields.get("region_id")):
                    raise errors.DuplicateEntry(action="store registered_limit", details="Duplicate entry.")
                row = RL(id=new_id(), **{k: fields.get(k) for k in REGISTERED_FIELDS})
                s.add(row)
                s.flush()
                created.append(row)
            return created

    def _refuse_if_referenced(self, s: Session, row: m.RegisteredLimit) -> None:
        if s.scalar(sa.select(L.id).where(L.registered_limit_id == row.id).limit(1)):
            raise errors.RegisteredLimitInUse(limit_id=row.id)

    def update_registered(self, registered_limit_id: str, changes: dict) -> m.RegisteredLimit:
        with self.db.session() as s:
            row = self.load_registered(s, registered_limit_id)
            self._check_references(s, changes, "registered_limit")
            self._refuse_if_referenced(s, row)
            for key in REGISTERED_FIELDS:
                if key in changes:
                    setattr(row, key, changes[key])
            s.flush()
            if s.scalar(sa.select(RL.id).where(RL.id != row.id, RL.service_id == row.service_id,
                                               RL.resource_name == row.resource_name,
                                               _same_region(RL.region_id, row.region_id)).limit(1)):
                raise errors.DuplicateEntry(action="store registered_limit", details="Duplicate entry.")
            return row

    def delete_registered(self, registered_limit_id: str) -> None:
        with self.db.session() as s:
            row = self.load_registered(s, registered_limit_id)
            self._refuse_if_referenced(s, row)
            s.delete(row)

    # -- limits --------------------------------------------------------------------------
    @staticmethod
    def load(s: Session, limit_id: str) -> tuple[m.Limit, m.RegisteredLimit]:
        row = s.get(L, limit_id)
        if row is None:
            raise errors.LimitNotFound(limit_id=limit_id)
        return row, s.get_one(RL, row.registered_limit_id)

    def find(self, limit_id: str) -> tuple[m.Limit, m.RegisteredLimit] | None:
        with self.db.session(readonly=True) as s:
            try:
                return self.load(s, limit_id)
            except errors.LimitNotFound:
                return None

    def list_limits(self, filters: dict) -> list[tuple[m.Limit, m.RegisteredLimit]]:
        stmt = sa.select(L, RL).join(RL, L.registered_limit_id == RL.id).order_by(
            RL.service_id, RL.resource_name, L.id)
        for key in ("service_id", "region_id", "resource_name"):
            if key in filters:
                stmt = stmt.where(getattr(RL, key) == filters[key])
        for key in ("project_id", "domain_id"):
            if key in filters:
                stmt = stmt.where(getattr(L, key) == filters[key])
        with self.db.session(readonly=True) as s:
            return [(limit, registered) for limit, registered in s.execute(stmt)]

    def create_limits(self, items: list[dict]) -> list[tuple[m.Limit, m.RegisteredLimit]]:
        """Create all of ``items`` or none of them: each names a registered limit by its
        service, region and resource name, and a project or a domain."""
        with self.db.session() as s:
            for fields in items:
                self._check_references(s, fields, "limit")
            created = []
            for fields in items:
                registered = self._registered_matching(s, fields["service_id"], fields["resource_name"],
                                                       fields.get("region_id"))
                if registered is None:
                    raise errors.NoLimitReference()
                owner = L.project_id if fields.get("project_id") else L.domain_id
                owner_id = fields.get("project_id") or fields.get("domain_id")
                if s.scalar(sa.select(L.id).where(L.registered_limit_id == registered.id, owner == owner_id).limit(1)):
                    raise errors.DuplicateEntry(action="store limit", details="Duplicate entry.")
                row = L(id=new_id(), registered_limit_id=registered.id, project_id=fields.get("project_id"),
                        domain_id=fields.get("domain_id"), resource_limit=fields["resource_limit"],
                        description=fields.get("description"))
                s.add(row)
                s.flush()
                created.append((row, registered))
            return created

    def update_limit(self, limit_id: str, changes: dict) -> tuple[m.Limit, m.RegisteredLimit]:
        with self.db.session() as s:
            row, registered = self.load(s, limit_id)
            for key in ("resource_limit", "description"):
                if key in changes:
                    setattr(row, key, changes[key])
            s.flush()
            return row, registered

    def delete_limit(self, limit_id: str) -> None:
        with self.db.session() as s:
            s.delete(self.load(s, limit_id)[0])

    @staticmethod
    def delete_for(s: Session, owner_ids: Iterable[str]) -> None:
        """Drop the limits of deleted projects or domains (Keystone's
        ``delete_limits_for_project``, and a domain's own)."""
        ids = list(owner_ids)
        if ids:
            s.execute(sa.delete(L).where(sa.or_(L.project_id.in_(ids), L.domain_id.in_(ids))))

    @staticmethod
    def refuse_if_named(s: Session, kind: str, ident: str) -> None:
        """409 for deleting a service or region that registered limits name."""
        column = RL.service_id if kind == "service" else RL.region_id
        if s.scalar(sa.select(RL.id).where(column == ident).limit(1)):
            raise errors.RegisteredLimitsRefer(kind=kind, ident=ident)
