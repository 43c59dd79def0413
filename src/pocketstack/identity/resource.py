"""Domains and projects (Keystone's "resource" backend).

Domains are projects with ``is_domain`` set (see :mod:`.models`).  A top-level project's
``parent_id`` is its domain, as in Keystone, so the hierarchy walks straight up to the
domain.  Deleting or disabling a domain or project revokes the tokens scoped to it.
"""

from __future__ import annotations

from collections.abc import Iterable

import sqlalchemy as sa
from sqlalchemy import exc as sa_exc
from sqlalchemy.orm import Session

from pocketstack.common.db import Database, new_id
from pocketstack.identity import endpoint_filter, errors
from pocketstack.identity import models as m

MAX_TREE_DEPTH = 5
DEFAULT_DOMAIN_ID = "default"


class ResourceManager:
    def __init__(self, db: Database, identity):
        self.db = db
        self.identity = identity

    # -- reading ---------------------------------------------------------------------
    @staticmethod
    def load_project(session: Session, project_id: str, *, domain: bool | None = None) -> m.Project:
        project = session.get(m.Project, project_id)
        if project is None or (domain is not None and project.is_domain != domain):
            if domain:
                raise errors.DomainNotFound(domain_id=project_id)
            raise errors.ProjectNotFound(project_id=project_id)
        return project

    def get_project(self, project_id: str, *, domain: bool | None = False) -> m.Project:
        with self.db.session(readonly=True) as s:
            return self.load_project(s, project_id, domain=domain)

    def get_domain(self, domain_id: str) -> m.Project:
        with self.db.session(readonly=True) as s:
            return self.load_project(s, domain_id, domain=True)

    def find_domain_by_name(self, session: Session, name: str) -> m.Project:
        domain = session.scalar(sa.select(m.Project).where(
            m.Project.is_domain.is_(True), m.Project.name == name))
        if domain is None:
            raise errors.DomainNotFound(domain_id=name)
        return domain

    def find_project_by_name(self, session: Session, name: str, domain_id: str) -> m.Project:
        project = session.scalar(sa.select(m.Project).where(
            m.Project.is_domain.is_(False), m.Project.name == name, m.Project.domain_id == domain_id))
        if project is None:
            raise errors.ProjectNotFound(project_id=name)
        return project

    def tags(self, session: Session, project_ids: Iterable[str]) -> dict[str, list[str]]:
        ids = list(project_ids)
        result: dict[str, list[str]] = {pid: [] for pid in ids}
        if ids:
            for tag in session.scalars(sa.select(m.ProjectTag).where(m.ProjectTag.project_id.in_(ids))):
                result[tag.project_id].append(tag.name)
        for names in result.values():
            names.sort()
        return result

    def list_projects(self, *, domain: bool, filters: dict) -> list[m.Project]:
        with self.db.session(readonly=True) as s:
            stmt = sa.select(m.Project).where(m.Project.is_domain.is_(domain))
            for key in ("name", "domain_id", "parent_id", "enabled", "is_domain"):
                if key in filters:
                    stmt = stmt.where(getattr(m.Project, key) == filters[key])
            if "ids" in filters:
                stmt = stmt.where(m.Project.id.in_(filters["ids"]))
            projects = list(s.scalars(stmt.order_by(m.Project.name)))
            if any(k in filters for k in ("tags", "tags-any", "not-tags", "not-tags-any")):
                tags = self.tags(s, [p.id for p in projects])
                projects = [p for p in projects if _tags_match(set(tags[p.id]), filters)]
            return projects

    def ancestors(self, session: Session, project: m.Project) -> list[m.Project]:
        """Parents from the nearest up to (excluding) the domain."""
        chain: list[m.Project] = []
        current = project
        while current.parent_id and current.parent_id != current.domain_id:
            parent = session.get(m.Project, current.parent_id)
            if parent is None:
                break
            chain.append(parent)
            current = parent
        return chain

    def subtree(self, session: Session, project_id: str) -> list[m.Project]:
        """Every descendant of ``project_id`` (breadth first)."""
        found: list[m.Project] = []
        frontier = [project_id]
        while frontier:
            children = list(session.scalars(sa.select(m.Project).where(
                m.Project.parent_id.in_(frontier), m.Project.is_domain.is_(False))))
            found.extend(children)
            frontier = [c.id for c in children]
        return found

    # -- writing ---------------------------------------------------------------------
    def create_domain(self, *, name: str, description: str = "", enabled: bool = True,
                      domain_id: str | None = None, tags: list[str] | None = None,
                      extra: dict | None = None) -> m.Project:
        domain = m.Project(id=domain_id or new_id(), name=name, domain_id=m.ROOT_DOMAIN_ID,
                           parent_id=None, is_domain=True, enabled=enabled,
                           description=description or "", extra=extra or {})
        return self._insert(domain, tags or [], "domain")

    def create_project(self, *, name: str, domain_id: str | None, parent_id: str | None = None,
                       description: str = "", enabled: bool = True, is_domain: bool = False,
                       tags: list[str] | None = None, extra: dict | None = None,
                       project_id: str | None = None) -> m.Project:
        if is_domain:
            if parent_id:
                raise errors.DomainWithParent()
            return self.create_domain(name=name, description=description, enabled=enabled,
                                      tags=tags, extra=extra, domain_id=project_id)
        with self.db.session(readonly=True) as s:
            if parent_id:
                parent = s.get(m.Project, parent_id)
                if parent is None:
                    raise errors.ProjectNotFound(project_id=parent_id)
                parent_domain = parent.id if parent.is_domain else parent.domain_id
                if domain_id and domain_id != parent_domain:
                    raise errors.ParentInOtherDomain()
                domain_id = parent_domain
                if not parent.is_domain and len(self.ancestors(s, parent)) + 2 > MAX_TREE_DEPTH:
                    raise errors.MaxHierarchyDepth(parent_id=parent_id)
            domain_id = domain_id or DEFAULT_DOMAIN_ID
            self.load_project(s, domain_id, domain=True)
        project = m.Project(id=project_id or new_id(), name=name, domain_id=domain_id,
                            parent_id=parent_id or domain_id, is_domain=False, enabled=enabled,
                            description=description or "", extra=extra or {})
        return self._insert(project, tags or [], "project")

    def _insert(self, project: m.Project, tags: list[str], kind: str) -> m.Project:
        try:
            with self.db.session() as s:
                s.add(project)
                s.flush()
                s.add_all(m.ProjectTag(project_id=project.id, name=t) for t in set(tags))
        except sa_exc.IntegrityError:
            raise errors.DuplicateEntry(action=f"store {kind}",
                                        details=f"Duplicate entry found with name {project.name}.") from None
        return project

    def update_project(self, project_id: str, changes: dict, *, domain: bool | None) -> m.Project:
        """``domain=None`` (the projects API) accepts a project acting as a domain too, as Keystone does."""
        try:
            with self.db.session() as s:
                project = self.load_project(s, project_id, domain=domain)
                if "domain_id" in changes and changes["domain_id"] != project.domain_id:
                    raise errors.ImmutableAttribute(attribute="domain_id", kind="project")
                if "parent_id" in changes and changes["parent_id"] != project.parent_id:
                    raise errors.ImmutableAttribute(attribute="parent_id", kind="project")
                if "is_domain" in changes and changes["is_domain"] != project.is_domain:
                    raise errors.ImmutableIsDomain()
                for key in ("name", "description", "enabled"):
                    if key in changes:
                        setattr(project, key, changes[key] if changes[key] is not None else "")
                if "extra" in changes:
                    project.extra = {**project.extra, **changes["extra"]}
                if "tags" in changes:
                    s.execute(sa.delete(m.ProjectTag).where(m.ProjectTag.project_id == project.id))
                    s.add_all(m.ProjectTag(project_id=project.id, name=t) for t in set(changes["tags"]))
                if changes.get("enabled") is False:
                    self.identity.revoke.add(s, **({"domain_id": project.id} if project.is_domain else
                                                   {"project_id": project.id}))
                s.flush()
        except sa_exc.IntegrityError:
            raise errors.DuplicateEntry(action="update", details=f"Duplicate entry found with name "
                                                              f"{changes.get('name')}.") from None
        return project

    def delete_project(self, project_id: str, *, domain: bool | None) -> None:
        with self.db.session() as s:
            project = self.load_project(s, project_id, domain=domain)
            if project.is_domain:
                if project.enabled:
                    raise errors.DomainEnabled()
                self._delete_domain_contents(s, project.id)
                self.identity.revoke.add(s, domain_id=project.id)
            else:
                if s.scalar(sa.select(m.Project.id).where(m.Project.parent_id == project.id).limit(1)):
                    raise errors.ProjectNotLeaf(project_id=project.id)
                self.identity.revoke.add(s, project_id=project.id)
            s.execute(sa.delete(m.Assignment).where(m.Assignment.target_id == project.id))
            s.execute(sa.delete(m.ProjectTag).where(m.ProjectTag.project_id == project.id))
            self.identity.limits.delete_for(s, [project.id])
            endpoint_filter.forget(s, project_ids=[project.id])
            s.delete(project)

    def _delete_domain_contents(self, s: Session, domain_id: str) -> None:
        project_ids = list(s.scalars(sa.select(m.Project.id).where(
            m.Project.domain_id == domain_id, m.Project.is_domain.is_(False))))
        user_ids = list(s.scalars(sa.select(m.User.id).where(m.User.domain_id == domain_id)))
        group_ids = list(s.scalars(sa.select(m.Group.id).where(m.Group.domain_id == domain_id)))
        for ids, column in ((project_ids, m.Assignment.target_id), (user_ids + group_ids, m.Assignment.actor_id)):
            if ids:
                s.execute(sa.delete(m.Assignment).where(column.in_(ids)))
        self.identity.limits.delete_for(s, project_ids)
        endpoint_filter.forget(s, project_ids=project_ids)
        if project_ids:
            s.execute(sa.delete(m.ProjectTag).where(m.ProjectTag.project_id.in_(project_ids)))
            s.execute(sa.delete(m.Project).where(m.Project.id.in_(project_ids)))
        if user_ids:
            s.execute(sa.delete(m.FederatedUser).where(m.FederatedUser.user_id.in_(user_ids)))
        s.execute(sa.delete(m.User).where(m.User.domain_id == domain_id))
        s.execute(sa.delete(m.Group).where(m.Group.domain_id == domain_id))
        s.execute(sa.delete(m.Role).where(m.Role.domain_id == domain_id))
        self.identity.domain_config.forget(s, domain_id)
        self.identity.ldap.forget_domain(s, domain_id)


def _tags_match(tags: set[str], filters: dict) -> bool:
    def split(key):
        return set(filters[key].split(",")) if key in filters else None

    every, any_, not_every, not_any = split("tags"), split("tags-any"), split("not-tags"), split("not-tags-any")
    if every is not None and not every <= tags:
        return False
    if any_ is not None and not (any_ & tags):
        return False
    if not_every is not None and not_every <= tags:
        return False
    if not_any is not None and (not_any & tags):
        return False
    return True
