"""Users, groups and group membership.

Password hashing (deliberately slow) happens before the transaction opens.  Changing a
password, disabling or deleting a user revokes every token the user holds.  Setting a
password obeys the security compliance rules (:mod:`~pocketstack.identity.compliance`):
an administrator's is checked against the regex and may have to be changed at first
use; a user's own change also against the minimum age and the password history.

The users and groups of a domain whose driver is ``ldap`` come from its directory
(:mod:`~pocketstack.identity.ldap_backend`): reads refresh them, writes are refused.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy import exc as sa_exc
from sqlalchemy.orm import Session

from pocketstack.common.db import Database, new_id, utcnow
from pocketstack.common.db.lookup import get_or_raise
from pocketstack.identity import errors
from pocketstack.identity import models as m
from pocketstack.identity.compliance import recent_hashes, remember_password
from pocketstack.identity.passwords import hash_password
from pocketstack.identity.resource import DEFAULT_DOMAIN_ID


class UserManager:
    def __init__(self, db: Database, identity, bcrypt_rounds: int):
        self.db = db
        self.identity = identity
        self.bcrypt_rounds = bcrypt_rounds

    # -- users -----------------------------------------------------------------------
    @staticmethod
    def load_user(session: Session, user_id: str) -> m.User:
        return get_or_raise(session, m.User, user_id, lambda: errors.UserNotFound(user_id=user_id))

    def get_user(self, user_id: str) -> m.User:
        with self.db.session(readonly=True) as s:
            user = self.load_user(s, user_id)
            mapping = s.get(m.IdMapping, user_id)
        return self.identity.ldap.refresh_user(mapping) if mapping is not None else user

    def find_user_by_name(self, session: Session, name: str, domain_id: str) -> m.User:
        user = session.scalar(sa.select(m.User).where(m.User.name == name, m.User.domain_id == domain_id))
        if user is None:
            raise errors.UserNotFound(user_id=name)
        return user

    def list_users(self, filters: dict) -> list[m.User]:
        directory = self.identity.ldap.directory(filters.get("domain_id"))
        if directory is not None:
            users = self.identity.ldap.list_users(directory, filters.get("name"))
            return [u for u in users if "enabled" not in filters or u.enabled == filters["enabled"]]
        with self.db.session(readonly=True) as s:
            # A directory's users show only while their domain reads its directory.
            stmt = sa.select(m.User).where(m.User.id.not_in(sa.select(m.IdMapping.public_id)))
            for key in ("name", "domain_id", "enabled"):
                if key in filters:
                    stmt = stmt.where(getattr(m.User, key) == filters[key])
            return list(s.scalars(stmt.order_by(m.User.name)))

    def create_user(self, *, name: str, domain_id: str | None = None, password: str | None = None,
                    enabled: bool = True, default_project_id: str | None = None,
                    description: str | None = None, options: dict | None = None,
                    extra: dict | None = None, user_id: str | None = None) -> m.User:
        self.identity.ldap.refuse_write(domain_id=domain_id or DEFAULT_DOMAIN_ID)
        if password:
            self.identity.compliance.check_requirements(password)
        password_hash = hash_password(password, self.bcrypt_rounds) if password else None
        domain_id = domain_id or DEFAULT_DOMAIN_ID
        try:
            with self.db.session() as s:
                self.identity.resource.load_project(s, domain_id, domain=True)
                if default_project_id:
                    self.identity.resource.load_project(s, default_project_id, domain=False)
                user = m.User(id=user_id or new_id(), name=name, domain_id=domain_id, enabled=enabled,
                              default_project_id=default_project_id,
                              description=description, options=options or {}, extra=extra or {})
                s.add(user)
                s.flush()
                if password_hash:
                    self._set_password(s, user, password_hash, self_service=False)
        except sa_exc.IntegrityError:
            raise errors.DuplicateEntry(action="store user", details=f"Duplicate entry found with name {name} at "
                                                                  f"domain ID {domain_id}.") from None
        return user

    def _set_password(self, s: Session, user: m.User, password_hash: str | None, *, self_service: bool) -> None:
        now = utcnow()
        user.password_hash = password_hash
        user.password_created_at = now if password_hash else None
        user.password_self_service = self_service
        user.password_expires_at = (self.identity.compliance.expires_at(user, self_service=self_service, now=now)
                                    if password_hash else None)
        if password_hash:
            remember_password(s, user, password_hash, self.identity.compliance.unique_last_password_count)

    def update_user(self, user_id: str, changes: dict, *, self_service: bool = False) -> m.User:
        self.identity.ldap.refuse_write(entity_id=user_id)
        if changes.get("password"):
            self.identity.compliance.check_requirements(changes["password"])
        password_hash = (hash_password(changes["password"], self.bcrypt_rounds)
                         if changes.get("password") else None)
        try:
            with self.db.session() as s:
                user = self.load_user(s, user_id)
                if "domain_id" in changes and changes["domain_id"] != user.domain_id:
                    raise errors.ImmutableAttribute(attribute="domain_id", kind="user")
                for key in ("name", "enabled", "default_project_id", "description"):
                    if key in changes:
                        setattr(user, key, changes[key])
                if "options" in changes:
                    user.options = {k: v for k, v in {**user.options, **changes["options"]}.items()
                                    if v is not None}
                if "extra" in changes:
                    user.extra = {**user.extra, **changes["extra"]}
                if "password" in changes:
                    self._set_password(s, user, password_hash, self_service=self_service)
                if "password" in changes or changes.get("enabled") is False:
                    self.identity.revoke.add(s, user_id=user.id)
                s.flush()
        except sa_exc.IntegrityError:
            raise errors.DuplicateEntry(action="update user", details=f"Duplicate entry found with name "
                                                                   f"{changes.get('name')}.") from None
        return user

    def change_password(self, user_id: str, original: str, new: str) -> None:
        """Self-service change: the caller proves the current password first (an expired
        one still counts: changing it is how it stops being expired)."""
        self.identity.ldap.refuse_write(entity_id=user_id)
        user = self.get_user(user_id)
        self.identity.tokens.verify_password(user, original, allow_expired=True)
        compliance = self.identity.compliance
        with self.db.session(readonly=True) as s:
            history = recent_hashes(s, user.id, compliance.unique_last_password_count)
        compliance.check_self_service_change(user, new, history)
        self.update_user(user_id, {"password": new}, self_service=True)

    def delete_user(self, user_id: str) -> None:
        self.identity.ldap.refuse_write(entity_id=user_id)
        with self.db.session() as s:
            self.purge_user(s, self.load_user(s, user_id))

    def purge_user(self, s: Session, user: m.User) -> None:
        """Delete ``user`` and everything that is theirs, revoking their tokens (also
        for the shadow users an identity provider or protocol takes with it)."""
        s.execute(sa.delete(m.Assignment).where(m.Assignment.actor_id == user.id))
        s.execute(sa.delete(m.GroupMembership).where(m.GroupMembership.user_id == user.id))
        s.execute(sa.delete(m.ApplicationCredential).where(m.ApplicationCredential.user_id == user.id))
        s.execute(sa.delete(m.FederatedUser).where(m.FederatedUser.user_id == user.id))
        self.identity.trusts.delete_for_user(s, user.id)
        self.identity.credentials.delete_for_user(s, user.id)
        self.identity.revoke.add(s, user_id=user.id)
        s.delete(user)

    # -- groups ----------------------------------------------------------------------
    @staticmethod
    def load_group(session: Session, group_id: str) -> m.Group:
        return get_or_raise(session, m.Group, group_id, lambda: errors.GroupNotFound(group_id=group_id))

    def get_group(self, group_id: str) -> m.Group:
        with self.db.session(readonly=True) as s:
            group = self.load_group(s, group_id)
            mapping = s.get(m.IdMapping, group_id)
        return self.identity.ldap.refresh_group(mapping) if mapping is not None else group

    def list_groups(self, filters: dict, user_id: str | None = None) -> list[m.Group]:
        ldap = self.identity.ldap
        directory = None if user_id else ldap.directory(filters.get("domain_id"))
        if directory is not None:
            return ldap.list_groups(directory, filters.get("name"))
        mapping = ldap.mapping(user_id) if user_id else None
        if mapping is not None:
            ldap.sync_user_groups(mapping)
        with self.db.session(readonly=True) as s:
            stmt = sa.select(m.Group)
            if mapping is None:
                stmt = stmt.where(m.Group.id.not_in(sa.select(m.IdMapping.public_id)))
            if user_id:
                self.load_user(s, user_id)
                stmt = stmt.join(m.GroupMembership, m.GroupMembership.group_id == m.Group.id).where(
                    m.GroupMembership.user_id == user_id)
            for key in ("name", "domain_id"):
                if key in filters:
                    stmt = stmt.where(getattr(m.Group, key) == filters[key])
            return list(s.scalars(stmt.order_by(m.Group.name)))

    def create_group(self, *, name: str, domain_id: str | None, description: str = "",
                     extra: dict | None = None) -> m.Group:
        domain_id = domain_id or DEFAULT_DOMAIN_ID
        self.identity.ldap.refuse_write(domain_id=domain_id)
        try:
            with self.db.session() as s:
                self.identity.resource.load_project(s, domain_id, domain=True)
                group = m.Group(id=new_id(), name=name, domain_id=domain_id,
                                description=description or "", extra=extra or {})
                s.add(group)
                s.flush()
        except sa_exc.IntegrityError:
            raise errors.DuplicateEntry(action="store group",
                                        details=f"Duplicate entry found with name {name}.") from None
        return group

    def update_group(self, group_id: str, changes: dict) -> m.Group:
        self.identity.ldap.refuse_write(entity_id=group_id)
        try:
            with self.db.session() as s:
                group = self.load_group(s, group_id)
                if "domain_id" in changes and changes["domain_id"] != group.domain_id:
                    raise errors.ImmutableAttribute(attribute="domain_id", kind="group")
                for key in ("name", "description"):
                    if key in changes:
                        setattr(group, key, changes[key] or "")
                if "extra" in changes:
                    group.extra = {**group.extra, **changes["extra"]}
                s.flush()
        except sa_exc.IntegrityError:
            raise errors.DuplicateEntry(action="update group", details="Duplicate entry found.") from None
        return group

    def delete_group(self, group_id: str) -> None:
        self.identity.ldap.refuse_write(entity_id=group_id)
        with self.db.session() as s:
            group = self.load_group(s, group_id)
            self._revoke_members(s, group.id)
            s.execute(sa.delete(m.Assignment).where(m.Assignment.actor_id == group.id))
            s.delete(group)

    def _revoke_members(self, s: Session, group_id: str) -> None:
        for user_id in s.scalars(sa.select(m.GroupMembership.user_id).where(
                m.GroupMembership.group_id == group_id)):
            self.identity.revoke.add(s, user_id=user_id)

    def _sync_members(self, group_id: str) -> None:
        mapping = self.identity.ldap.mapping(group_id)
        if mapping is not None:
            self.identity.ldap.sync_group_members(mapping)

    def _refuse_membership_change(self, group_id: str, user_id: str) -> None:
        """A directory's group changes in the directory only; a SQL group takes no
        directory user (Keystone's ``CrossBackendNotAllowed``)."""
        with self.db.session(readonly=True) as s:
            self.load_group(s, group_id)
            self.load_user(s, user_id)
        ldap = self.identity.ldap
        if ldap.owns(group_id):
            raise errors.LdapReadOnly()
        if ldap.owns(user_id):
            raise errors.CrossBackendMembership(group_id=group_id, user_id=user_id)

    def list_members(self, group_id: str) -> list[m.User]:
        self._sync_members(group_id)
        with self.db.session(readonly=True) as s:
            self.load_group(s, group_id)
            return list(s.scalars(sa.select(m.User).join(
                m.GroupMembership, m.GroupMembership.user_id == m.User.id).where(
                m.GroupMembership.group_id == group_id).order_by(m.User.name)))

    def add_member(self, group_id: str, user_id: str) -> None:
        self._refuse_membership_change(group_id, user_id)
        with self.db.session() as s:
            self.load_group(s, group_id)
            self.load_user(s, user_id)
            if s.get(m.GroupMembership, (user_id, group_id)) is None:
                s.add(m.GroupMembership(user_id=user_id, group_id=group_id))

    def check_member(self, group_id: str, user_id: str) -> None:
        self._sync_members(group_id)
        with self.db.session(readonly=True) as s:
            self.load_group(s, group_id)
            self.load_user(s, user_id)
            if s.get(m.GroupMembership, (user_id, group_id)) is None:
                raise errors.MembershipNotFound(user_id=user_id, group_id=group_id)

    def remove_member(self, group_id: str, user_id: str) -> None:
        self._refuse_membership_change(group_id, user_id)
        with self.db.session() as s:
            self.load_group(s, group_id)
            self.load_user(s, user_id)
            membership = s.get(m.GroupMembership, (user_id, group_id))
            if membership is None:
                raise errors.MembershipNotFound(user_id=user_id, group_id=group_id)
            s.delete(membership)
            self.identity.revoke.add(s, user_id=user_id)
