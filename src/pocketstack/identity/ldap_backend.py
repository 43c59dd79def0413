"""Users and groups of the domains whose ``identity.driver`` is ``ldap``.

The directory is the truth; the identity tables keep a *shadow* row of every user and
group read from it, under the public ID Keystone's ``id_mapping`` gives it (a SHA-256 of
the domain, the entity type and its local ID: the same on every start and node), so
role assignments, tokens, trusts and application credentials refer to them like to any
other user.  Every read through the API (list, show, a password authentication, a
user's groups, a group's members) refreshes the rows it returns from the directory; the
memberships a token's group roles come from are refreshed when the user authenticates.
Writes are refused (403, Keystone's read-only LDAP driver).  Like Keystone, a change in
the directory revokes no token: it shows in the tokens issued after it.
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
from collections.abc import Callable
from typing import TypeVar

import sqlalchemy as sa
from sqlalchemy import exc as sa_exc
from sqlalchemy.orm import Session

from pocketstack.common.db import Database
from pocketstack.common.db.cas import run_in_transaction
from pocketstack.identity import errors
from pocketstack.identity import models as m
from pocketstack.identity.ldap import Directory, Entry, LdapSettings

LOG = logging.getLogger(__name__)
USER, GROUP = "user", "group"
# Two requests reading the same new entries race to insert their rows: the loser reads
# the winner's on its next attempt.
SYNC_ATTEMPTS = 5
T = TypeVar("T")


def public_id(domain_id: str, local_id: str, entity_type: str) -> str:
    """keystone/identity/id_generators/sha256.py: the mapping's values hashed in the
    order of their sorted keys (domain_id, entity_type, local_id)."""
    digest = hashlib.sha256()
    for value in (domain_id, entity_type, local_id):
        digest.update(value.encode("utf-8"))
    return digest.hexdigest()


class LdapBackend:
    def __init__(self, db: Database, identity):
        self.db = db
        self.identity = identity
        self._directories: dict[str, tuple[str, Directory]] = {}
        self._lock = threading.Lock()

    # -- which domains ----------------------------------------------------------------
    def directory(self, domain_id: str | None) -> Directory | None:
        """The domain's directory when its driver is ``ldap`` (rebuilt whenever its
        configuration changed, so every process sees an update at its next request)."""
        if not domain_id:
            return None
        config = self.identity.domain_config.with_sensitive(domain_id)
        if config.get("identity", {}).get("driver") != "ldap":
            return None
        key = json.dumps(config, sort_keys=True, default=str)
        with self._lock:
            cached = self._directories.get(domain_id)
            if cached is None or cached[0] != key:
                cached = (key, Directory(domain_id, LdapSettings.from_config(config.get("ldap", {}))))
                self._directories[domain_id] = cached
        return cached[1]

    def mapping(self, public: str) -> m.IdMapping | None:
        with self.db.session(readonly=True) as s:
            return s.get(m.IdMapping, public)

    def in_use(self) -> bool:
        """Whether any domain has a configured identity driver or any user or group was
        ever mapped from a directory: without either, nothing of a login can be LDAP's."""
        with self.db.session(readonly=True) as s:
            configured = s.scalar(sa.select(m.DomainConfigOption.domain_id).where(
                m.DomainConfigOption.group == "identity", m.DomainConfigOption.option == "driver").limit(1))
            return configured is not None or s.scalar(sa.select(m.IdMapping.public_id).limit(1)) is not None

    def owns(self, public: str) -> bool:
        """Whether a user or group ID is one of a directory's."""
        return self.mapping(public) is not None

    def refuse_write(self, *, domain_id: str | None = None, entity_id: str | None = None) -> None:
        if (domain_id is not None and self.directory(domain_id)) or (entity_id is not None and self.owns(entity_id)):
            raise errors.LdapReadOnly()

    def _directory_of(self, mapping: m.IdMapping) -> Directory:
        directory = self.directory(mapping.domain_id)
        if directory is None:  # the domain went back to SQL: its directory rows are gone from view
            raise (errors.UserNotFound(user_id=mapping.public_id) if mapping.entity_type == USER
                   else errors.GroupNotFound(group_id=mapping.public_id))
        return directory

    # -- shadow rows ------------------------------------------------------------------
    def _sync(self, work: Callable[[Session], T]) -> T:
        for attempt in range(SYNC_ATTEMPTS):
            try:
                return run_in_transaction(self.db, work)
            except sa_exc.IntegrityError:
                if attempt == SYNC_ATTEMPTS - 1:
                    raise
                LOG.debug("directory rows written by a concurrent request; reading them again")
        raise AssertionError("unreachable")

    def _mapped(self, s: Session, domain_id: str, entry: Entry, entity_type: str) -> str:
        pid = public_id(domain_id, entry.local_id, entity_type)
        if s.get(m.IdMapping, pid) is None:
            s.add(m.IdMapping(public_id=pid, domain_id=domain_id, local_id=entry.local_id, entity_type=entity_type))
        return pid

    def _clear_name(self, s: Session, model: type[m.User] | type[m.Group], domain_id: str, name: str,
                    pid: str) -> bool:
        """Free the name for ``pid`` from a stale shadow row (a user renamed or gone in
        the directory); False when a row of this cloud's own holds it."""
        for other_id in s.scalars(sa.select(model.id).where(model.domain_id == domain_id, model.name == name,
                                                            model.id != pid)):
            if s.get(m.IdMapping, other_id) is None:
                LOG.warning("LDAP %s %r of domain %s hidden by a SQL row of the same name", model.__name__, name,
                            domain_id)
                return False
            s.delete(s.get(model, other_id))
        s.flush()
        return True

    def _user_row(self, s: Session, directory: Directory, entry: Entry) -> m.User | None:
        domain_id = directory.domain_id
        pid = self._mapped(s, domain_id, entry, USER)
        if not self._clear_name(s, m.User, domain_id, entry.name, pid):
            return None
        user = s.get(m.User, pid) or m.User(id=pid, domain_id=domain_id, options={})
        cfg = directory.settings
        user.name, user.enabled = entry.name, directory.enabled(entry)
        mail = entry.first(cfg.user_mail_attribute)
        user.extra = {"email": str(mail)} if mail is not None else {}
        description = entry.first(cfg.user_description_attribute)
        user.description = str(description) if description is not None else None
        if user not in s:
            s.add(user)
        s.flush()
        return user

    def _group_row(self, s: Session, directory: Directory, entry: Entry) -> m.Group | None:
        domain_id = directory.domain_id
        pid = self._mapped(s, domain_id, entry, GROUP)
        if not self._clear_name(s, m.Group, domain_id, entry.name, pid):
            return None
        group = s.get(m.Group, pid) or m.Group(id=pid, domain_id=domain_id, extra={})
        description = entry.first(directory.settings.group_desc_attribute)
        group.name, group.description = entry.name, str(description) if description is not None else ""
        if group not in s:
            s.add(group)
        s.flush()
        return group

    def _users(self, directory: Directory, entries: list[Entry]) -> list[m.User]:
        def work(s: Session) -> list[m.User]:
            rows = [self._user_row(s, directory, entry) for entry in entries]
            return sorted((row for row in rows if row is not None), key=lambda row: row.name)
        return self._sync(work)

    def _groups(self, directory: Directory, entries: list[Entry]) -> list[m.Group]:
        def work(s: Session) -> list[m.Group]:
            rows = [self._group_row(s, directory, entry) for entry in entries]
            return sorted((row for row in rows if row is not None), key=lambda row: row.name)
        return self._sync(work)

    # -- reads ------------------------------------------------------------------------
    def list_users(self, directory: Directory, name: str | None = None) -> list[m.User]:
        return self._users(directory, directory.users(name))

    def list_groups(self, directory: Directory, name: str | None = None) -> list[m.Group]:
        return self._groups(directory, directory.groups(name))

    def _user_entry(self, mapping: m.IdMapping) -> tuple[Directory, Entry]:
        directory = self._directory_of(mapping)
        entry = directory.user(mapping.local_id)
        if entry is None:
            raise errors.UserNotFound(user_id=mapping.public_id)
        return directory, entry

    def _group_entry(self, mapping: m.IdMapping) -> tuple[Directory, Entry]:
        directory = self._directory_of(mapping)
        entry = directory.group(mapping.local_id)
        if entry is None:
            raise errors.GroupNotFound(group_id=mapping.public_id)
        return directory, entry

    def refresh_user(self, mapping: m.IdMapping) -> m.User:
        directory, entry = self._user_entry(mapping)
        users = self._users(directory, [entry])
        if not users:
            raise errors.UserNotFound(user_id=mapping.public_id)
        return users[0]

    def refresh_group(self, mapping: m.IdMapping) -> m.Group:
        directory, entry = self._group_entry(mapping)
        groups = self._groups(directory, [entry])
        if not groups:
            raise errors.GroupNotFound(group_id=mapping.public_id)
        return groups[0]

    def user_by_name(self, directory: Directory, name: str) -> m.User | None:
        users = [u for u in self.list_users(directory, name) if u.name == name]
        return users[0] if users else None

    # -- memberships ------------------------------------------------------------------
    def sync_user_groups(self, mapping: m.IdMapping) -> None:
        """The user's memberships as the directory has them now (one gone from the
        directory revokes nothing, as in Keystone: tokens issued before keep their roles
        until they expire)."""
        directory, entry = self._user_entry(mapping)
        groups = self._groups(directory, directory.groups_of(entry))
        wanted = {group.id for group in groups}

        def work(s: Session) -> None:
            held = set(s.scalars(sa.select(m.GroupMembership.group_id).join(
                m.IdMapping, m.IdMapping.public_id == m.GroupMembership.group_id).where(
                m.GroupMembership.user_id == mapping.public_id)))
            for group_id in wanted - held:
                s.add(m.GroupMembership(user_id=mapping.public_id, group_id=group_id))
            if held - wanted:
                s.execute(sa.delete(m.GroupMembership).where(m.GroupMembership.user_id == mapping.public_id,
                                                             m.GroupMembership.group_id.in_(held - wanted)))
        self._sync(work)

    def sync_group_members(self, mapping: m.IdMapping) -> None:
        directory, entry = self._group_entry(mapping)
        self._groups(directory, [entry])
        wanted = {user.id for user in self._users(directory, directory.members(entry))}

        def work(s: Session) -> None:
            held = set(s.scalars(sa.select(m.GroupMembership.user_id).where(
                m.GroupMembership.group_id == mapping.public_id)))
            for user_id in wanted - held:
                s.add(m.GroupMembership(user_id=user_id, group_id=mapping.public_id))
            if held - wanted:
                s.execute(sa.delete(m.GroupMembership).where(m.GroupMembership.user_id.in_(held - wanted),
                                                             m.GroupMembership.group_id == mapping.public_id))
        self._sync(work)

    # -- authentication ---------------------------------------------------------------
    def prepare_login(self, ref: dict) -> None:
        """Before a password authentication reads the user's row: refresh it (found by
        name in an LDAP domain, or by a mapped ID) and its groups from the directory."""
        if not isinstance(ref, dict):
            return
        if isinstance(ref.get("id"), str) and ref["id"]:
            mapping = self.mapping(ref["id"])
            if mapping is not None and mapping.entity_type == USER:
                self.refresh_user(mapping)
                self.sync_user_groups(mapping)
            return
        domain = ref.get("domain")
        if not isinstance(ref.get("name"), str) or not isinstance(domain, dict):
            return
        domain_id = domain.get("id")
        if not isinstance(domain_id, str) and isinstance(domain.get("name"), str):
            with self.db.session(readonly=True) as s:
                domain_id = s.scalar(sa.select(m.Project.id).where(m.Project.is_domain.is_(True),
                                                                   m.Project.name == domain["name"]))
        directory = self.directory(domain_id if isinstance(domain_id, str) else None)
        if directory is None:
            return
        user = self.user_by_name(directory, ref["name"])
        if user is not None:
            mapping = self.mapping(user.id)
            if mapping is not None:
                self.sync_user_groups(mapping)

    def authenticate(self, user: m.User, password: str) -> bool:
        mapping = self.mapping(user.id)
        if mapping is None:
            return False
        directory, entry = self._user_entry(mapping)
        return directory.authenticate(entry.dn, password)

    def forget_domain(self, s: Session, domain_id: str) -> None:
        s.execute(sa.delete(m.IdMapping).where(m.IdMapping.domain_id == domain_id))
        with self._lock:
            self._directories.pop(domain_id, None)
