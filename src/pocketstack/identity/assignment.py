"""Roles, implied roles and role assignments, and the effective roles they add up to.

An assignment grants a role to an actor (user or group) on a target (project, domain or
the system).  The roles a token carries are computed at validation time, never stored:
direct and group grants on the target, grants inherited from the project's ancestors or
its domain, then every role those imply (``admin`` ⇒ ``member`` ⇒ ``reader``).
Domain-specific roles never appear in tokens themselves, only the global roles they
imply, as in Keystone.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy import exc as sa_exc
from sqlalchemy.orm import Session

from pocketstack.common.db import Database, new_id
from pocketstack.common.db.lookup import get_or_raise
from pocketstack.identity import errors
from pocketstack.identity import models as m

SYSTEM_TARGET = "system"
PROHIBITED_IMPLIED_ROLES = ("admin",)
A = m.Assignment


@dataclass(frozen=True)
class Grant:
    """One assignment as listed by ``/v3/role_assignments``."""

    role_id: str
    actor_type: str  # "user" | "group"
    actor_id: str
    scope_type: str  # "project" | "domain" | "system"
    scope_id: str
    inherited: bool = False
    via_group: str | None = None  # set on effective user entries derived from a group
    prior_role_id: str | None = None  # set on entries derived through an implied role


def assignment_type(actor_type: str, scope_type: str) -> str:
    return actor_type.capitalize() + scope_type.capitalize()


class AssignmentManager:
    def __init__(self, db: Database, identity):
        self.db = db
        self.identity = identity

    # -- roles -----------------------------------------------------------------------
    @staticmethod
    def load_role(session: Session, role_id: str) -> m.Role:
        return get_or_raise(session, m.Role, role_id, lambda: errors.RoleNotFound(role_id=role_id))

    def get_role(self, role_id: str) -> m.Role:
        with self.db.session(readonly=True) as s:
            return self.load_role(s, role_id)

    def find_role_by_name(self, session: Session, name: str, domain_id: str | None = None) -> m.Role:
        role = session.scalar(sa.select(m.Role).where(
            m.Role.name == name, m.Role.domain_id == (domain_id or m.NULL_DOMAIN_ID)))
        if role is None:
            raise errors.RoleNotFound(role_id=name)
        return role

    def list_roles(self, filters: dict) -> list[m.Role]:
        with self.db.session(readonly=True) as s:
            stmt = sa.select(m.Role).where(m.Role.domain_id == (filters.get("domain_id") or m.NULL_DOMAIN_ID))
            if "name" in filters:
                stmt = stmt.where(m.Role.name == filters["name"])
            return list(s.scalars(stmt.order_by(m.Role.name)))

    def create_role(self, *, name: str, domain_id: str | None = None, description: str | None = None,
                    options: dict | None = None, role_id: str | None = None, extra: dict | None = None) -> m.Role:
        try:
            with self.db.session() as s:
                if domain_id:
                    self.identity.resource.load_project(s, domain_id, domain=True)
                role = m.Role(id=role_id or new_id(), name=name, domain_id=domain_id or m.NULL_DOMAIN_ID,
                              description=description, options=options or {}, extra=extra or {})
                s.add(role)
                s.flush()
        except sa_exc.IntegrityError:
            raise errors.DuplicateEntry(action="store role",
                                        details=f"Duplicate entry found with name {name}.") from None
        return role

    def update_role(self, role_id: str, changes: dict) -> m.Role:
        try:
            with self.db.session() as s:
                role = self.load_role(s, role_id)
                if role.options.get("immutable") and not ("options" in changes and
                                                          changes["options"].get("immutable") is False):
                    raise errors.ImmutableRole(role_id=role_id)
                if "domain_id" in changes and (changes["domain_id"] or m.NULL_DOMAIN_ID) != role.domain_id:
                    raise errors.ImmutableAttribute(attribute="domain_id", kind="role")
                for key in ("name", "description"):
                    if key in changes:
                        setattr(role, key, changes[key])
                if "options" in changes:
                    role.options = {k: v for k, v in {**role.options, **changes["options"]}.items()
                                    if v is not None}
                if "extra" in changes:
                    role.extra = {**role.extra, **changes["extra"]}
                s.flush()
        except sa_exc.IntegrityError:
            raise errors.DuplicateEntry(action="update role", details="Duplicate entry found.") from None
        return role

    def delete_role(self, role_id: str) -> None:
        with self.db.session() as s:
            role = self.load_role(s, role_id)
            if role.options.get("immutable"):
                raise errors.ImmutableRole(role_id=role_id)
            self._revoke_holders(s, s.scalars(sa.select(A).where(A.role_id == role_id)))
            s.execute(sa.delete(A).where(A.role_id == role_id))
            s.execute(sa.delete(m.ImpliedRole).where(sa.or_(m.ImpliedRole.prior_role_id == role_id,
                                                            m.ImpliedRole.implied_role_id == role_id)))
            s.delete(role)

    # -- implied roles ---------------------------------------------------------------
    def create_implied_role(self, prior_id: str, implied_id: str) -> tuple[m.Role, m.Role]:
        with self.db.session() as s:
            prior, implied = self.load_role(s, prior_id), self.load_role(s, implied_id)
            # As in Keystone, only global -> domain-specific is refused; domain roles may imply
            # roles of other domains and global ones.
            if prior.domain_id == m.NULL_DOMAIN_ID and implied.domain_id != m.NULL_DOMAIN_ID:
                raise errors.GlobalRoleImpliesDomainRole()
            if implied.name in PROHIBITED_IMPLIED_ROLES and implied.domain_id == m.NULL_DOMAIN_ID:
                # Keystone's prohibited_implied_role: nothing may silently grant admin.
                raise errors.ProhibitedImpliedRole(name=implied.name)
            if prior_id in self._implied_closure(s, [implied_id]):
                raise errors.ImpliedRoleCycle(implied_id=implied_id)
            if s.get(m.ImpliedRole, (prior_id, implied_id)) is None:
                s.add(m.ImpliedRole(prior_role_id=prior_id, implied_role_id=implied_id))
            return prior, implied

    def get_implied_role(self, prior_id: str, implied_id: str) -> tuple[m.Role, m.Role]:
        with self.db.session(readonly=True) as s:
            prior, implied = self.load_role(s, prior_id), self.load_role(s, implied_id)
            if s.get(m.ImpliedRole, (prior_id, implied_id)) is None:
                raise errors.ImpliedRoleNotFound(prior_id=prior_id, implied_id=implied_id)
            return prior, implied

    def delete_implied_role(self, prior_id: str, implied_id: str) -> None:
        with self.db.session() as s:
            row = s.get(m.ImpliedRole, (prior_id, implied_id))
            if row is None:
                raise errors.ImpliedRoleNotFound(prior_id=prior_id, implied_id=implied_id)
            s.delete(row)

    def list_implied_roles(self, prior_id: str | None = None) -> dict[str, list[m.Role]]:
        with self.db.session(readonly=True) as s:
            stmt = sa.select(m.ImpliedRole)
            if prior_id:
                self.load_role(s, prior_id)
                stmt = stmt.where(m.ImpliedRole.prior_role_id == prior_id)
            result: dict[str, list[m.Role]] = {}
            for row in s.scalars(stmt):
                implied = s.get(m.Role, row.implied_role_id)
                if implied is not None:  # a foreign key: always, but typed Optional
                    result.setdefault(row.prior_role_id, []).append(implied)
            return result

    @staticmethod
    def _implied_closure(session: Session, role_ids: Iterable[str]) -> set[str]:
        closure = set(role_ids)
        frontier = set(closure)
        while frontier:
            implied = set(session.scalars(sa.select(m.ImpliedRole.implied_role_id).where(
                m.ImpliedRole.prior_role_id.in_(frontier))))
            frontier = implied - closure
            closure |= implied
        return closure

    # -- grants ----------------------------------------------------------------------
    def _check_parties(self, s: Session, actor_type: str, actor_id: str, scope_type: str,
                       scope_id: str, role_id: str) -> m.Role:
        if actor_type == "user":
            self.identity.users.load_user(s, actor_id)
        else:
            self.identity.users.load_group(s, actor_id)
        if scope_type == "project":
            target = self.identity.resource.load_project(s, scope_id, domain=False)
            target_domain = target.domain_id
        elif scope_type == "domain":
            self.identity.resource.load_project(s, scope_id, domain=True)
            target_domain = scope_id
        else:
            target_domain = None
        role = self.load_role(s, role_id)
        if role.domain_id != m.NULL_DOMAIN_ID and role.domain_id != target_domain:
            raise errors.DomainRoleOutsideDomain()
        return role

    def grant(self, actor_type: str, actor_id: str, scope_type: str, scope_id: str, role_id: str,
              inherited: bool = False) -> None:
        with self.db.session() as s:
            self._check_parties(s, actor_type, actor_id, scope_type, scope_id, role_id)
            key = (assignment_type(actor_type, scope_type), actor_id, scope_id, role_id, inherited)
            if s.get(A, key) is None:
                s.add(A(type=key[0], actor_id=actor_id, target_id=scope_id, role_id=role_id, inherited=inherited))

    def check_grant(self, actor_type: str, actor_id: str, scope_type: str, scope_id: str, role_id: str,
                    inherited: bool = False) -> None:
        with self.db.session(readonly=True) as s:
            self._check_parties(s, actor_type, actor_id, scope_type, scope_id, role_id)
            if s.get(A, (assignment_type(actor_type, scope_type), actor_id, scope_id, role_id, inherited)) is None:
                raise errors.RoleAssignmentNotFound(role_id=role_id, actor_type=actor_type, actor_id=actor_id,
                                                    scope_type=scope_type, scope_id=scope_id)

    def revoke_grant(self, actor_type: str, actor_id: str, scope_type: str, scope_id: str, role_id: str,
                     inherited: bool = False) -> None:
        with self.db.session() as s:
            row = s.get(A, (assignment_type(actor_type, scope_type), actor_id, scope_id, role_id, inherited))
            if row is None:
                raise errors.RoleAssignmentNotFound(role_id=role_id, actor_type=actor_type, actor_id=actor_id,
                                                    scope_type=scope_type, scope_id=scope_id)
            self._revoke_holders(s, [row])
            s.delete(row)

    def _revoke_holders(self, s: Session, rows: Iterable[m.Assignment]) -> None:
        """Removing a grant invalidates the affected users' tokens on that target."""
        for row in rows:
            users = [row.actor_id]
            if row.type.startswith("Group"):
                users = list(s.scalars(sa.select(m.GroupMembership.user_id).where(
                    m.GroupMembership.group_id == row.actor_id)))
            for user_id in users:
                if row.type.endswith("Project") and not row.inherited:
                    self.identity.revoke.add(s, user_id=user_id, project_id=row.target_id)
                else:
                    self.identity.revoke.add(s, user_id=user_id)

    def list_grant_roles(self, actor_type: str, actor_id: str, scope_type: str, scope_id: str,
                         inherited: bool = False) -> list[m.Role]:
        with self.db.session(readonly=True) as s:
            if actor_type == "user":
                self.identity.users.load_user(s, actor_id)
            else:
                self.identity.users.load_group(s, actor_id)
            if scope_type != "system":
                self.identity.resource.load_project(s, scope_id, domain=scope_type == "domain")
            return list(s.scalars(sa.select(m.Role).join(A, A.role_id == m.Role.id).where(
                A.type == assignment_type(actor_type, scope_type), A.actor_id == actor_id,
                A.target_id == scope_id, A.inherited.is_(inherited)).order_by(m.Role.name)))

    # -- effective roles -------------------------------------------------------------
    def _actor_ids(self, s: Session, user_id: str, groups: Iterable[str] = ()) -> list[str]:
        """The user, their groups, and ``groups`` (a federated token's, held for it only)."""
        members = s.scalars(sa.select(m.GroupMembership.group_id).where(m.GroupMembership.user_id == user_id))
        return list(dict.fromkeys([user_id, *members, *groups]))

    def effective_roles(self, s: Session, user_id: str, *, project: m.Project | None = None,
                        domain_id: str | None = None, system: bool = False,
                        groups: Iterable[str] = ()) -> list[m.Role]:
        """The roles a token scoped this way carries, implied roles included."""
        actors = self._actor_ids(s, user_id, groups)
        if project is not None:
            inherited_targets = [p.id for p in self.identity.resource.ancestors(s, project)] + [project.domain_id]
            cond = sa.or_(
                sa.and_(A.target_id == project.id, A.inherited.is_(False)),
                sa.and_(A.target_id.in_(inherited_targets), A.inherited.is_(True)),
            )
        elif domain_id is not None:
            cond = sa.and_(A.target_id == domain_id, A.inherited.is_(False),
                           A.type.in_(("UserDomain", "GroupDomain")))
        elif system:
            cond = A.target_id == SYSTEM_TARGET
        else:
            return []
        direct = set(s.scalars(sa.select(A.role_id).where(A.actor_id.in_(actors), cond)))
        if not direct:
            return []
        closure = self._implied_closure(s, direct)
        roles = s.scalars(sa.select(m.Role).where(m.Role.id.in_(closure), m.Role.domain_id == m.NULL_DOMAIN_ID))
        return sorted(roles, key=lambda r: r.name)

    def projects_for_user(self, user_id: str, groups: Iterable[str] = ()) -> list[m.Project]:
        """Projects on which the user (or one of a federated token's ``groups``) has any
        effective role (for /v3/auth/projects)."""
        with self.db.session(readonly=True) as s:
            actors = self._actor_ids(s, user_id, groups)
            rows = list(s.execute(sa.select(A.target_id, A.inherited, A.type).where(
                A.actor_id.in_(actors), A.type.in_(("UserProject", "GroupProject", "UserDomain", "GroupDomain")))))
            project_ids: set[str] = set()
            for target_id, inherited, kind in rows:
                if kind.endswith("Project"):
                    if not inherited:
                        project_ids.add(target_id)
                    project_ids.update(p.id for p in self.identity.resource.subtree(s, target_id))
                elif inherited:
                    project_ids.update(s.scalars(sa.select(m.Project.id).where(
                        m.Project.domain_id == target_id, m.Project.is_domain.is_(False))))
            if not project_ids:
                return []
            return list(s.scalars(sa.select(m.Project).where(m.Project.id.in_(project_ids)).order_by(m.Project.name)))

    def domains_for_user(self, user_id: str, groups: Iterable[str] = ()) -> list[m.Project]:
        with self.db.session(readonly=True) as s:
            actors = self._actor_ids(s, user_id, groups)
            ids = set(s.scalars(sa.select(A.target_id).where(
                A.actor_id.in_(actors), A.type.in_(("UserDomain", "GroupDomain")), A.inherited.is_(False))))
            if not ids:
                return []
            return list(s.scalars(sa.select(m.Project).where(m.Project.id.in_(ids)).order_by(m.Project.name)))

    # -- /v3/role_assignments --------------------------------------------------------
    def list_assignments(self, *, user_id=None, group_id=None, role_id=None, project_id=None,
                         domain_id=None, system=None, inherited=None, effective=False,
                         include_subtree=False) -> list[Grant]:
        with self.db.session(readonly=True) as s:
            grants = [self._to_grant(row) for row in s.scalars(sa.select(A))]
            if effective:
                grants = self._expand(s, grants)
                # Domain-specific roles only imply other roles and never reach a token: the effective
                # view leaves them out (Keystone's strip_domain_roles).
                domain_roles = set(s.scalars(sa.select(m.Role.id).where(m.Role.domain_id != m.NULL_DOMAIN_ID)))
                grants = [g for g in grants if g.role_id not in domain_roles]
            targets = None
            if project_id:
                targets = {project_id}
                if include_subtree:
                    targets |= {p.id for p in self.identity.resource.subtree(s, project_id)}

            def keep(g: Grant) -> bool:
                if user_id and not (g.actor_type == "user" and g.actor_id == user_id):
                    return False
                if group_id and not (g.actor_type == "group" and g.actor_id == group_id):
                    return False
                if role_id and g.role_id != role_id:
                    return False
                if targets is not None and not (g.scope_type == "project" and g.scope_id in targets):
                    return False
                if domain_id and not (g.scope_type == "domain" and g.scope_id == domain_id):
                    return False
                if system and g.scope_type != "system":
                    return False
                if inherited is not None and g.inherited != inherited:
                    return False
                return True

            return [g for g in grants if keep(g)]

    @staticmethod
    def _to_grant(row: m.Assignment) -> Grant:
        actor_type = "user" if row.type.startswith("User") else "group"
        scope_type = row.type[len(actor_type):].lower()
        return Grant(row.role_id, actor_type, row.actor_id, scope_type, row.target_id, row.inherited)

    def _expand(self, s: Session, grants: list[Grant]) -> list[Grant]:
        """Effective view: groups → members, inherited → the projects they reach, implied roles."""
        members: dict[str, list[str]] = {}
        for membership in s.scalars(sa.select(m.GroupMembership)):
            members.setdefault(membership.group_id, []).append(membership.user_id)
        implied: dict[str, list[str]] = {}
        for row in s.scalars(sa.select(m.ImpliedRole)):
            implied.setdefault(row.prior_role_id, []).append(row.implied_role_id)
        result: list[Grant] = []
        for g in grants:
            if g.inherited:
                if g.scope_type == "domain":
                    targets = list(s.scalars(sa.select(m.Project.id).where(
                        m.Project.domain_id == g.scope_id, m.Project.is_domain.is_(False))))
                else:
                    targets = [p.id for p in self.identity.resource.subtree(s, g.scope_id)]
                scoped = [Grant(g.role_id, g.actor_type, g.actor_id, "project", t, False) for t in targets]
            else:
                scoped = [g]
            for sg in scoped:
                users = ([(sg.actor_id, None)] if sg.actor_type == "user"
                         else [(u, sg.actor_id) for u in members.get(sg.actor_id, [])])
                for uid, via in users:
                    base = Grant(sg.role_id, "user", uid, sg.scope_type, sg.scope_id, g.inherited, via)
                    result.append(base)
                    seen = {sg.role_id}
                    frontier = [(sg.role_id, r) for r in implied.get(sg.role_id, [])]
                    while frontier:
                        prior, role = frontier.pop()
                        if role in seen:
                            continue
                        seen.add(role)
                        result.append(Grant(role, "user", uid, sg.scope_type, sg.scope_id, g.inherited, via, prior))
                        frontier.extend((role, r) for r in implied.get(role, []))
        return result
