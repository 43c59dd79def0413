"""Federation (OS-FEDERATION): identity providers, their protocols, mappings, and the
``mapped`` sign-in that turns an identity provider's assertion into a token.

An assertion is a dict of attributes (``REMOTE_USER``, ``SSL_CLIENT_S_DN_CN``,
``OIDC_CLAIM_EMAIL``…; several values ``;``-separated), as Apache's ``mod_auth_*``
hands them to Keystone in its request environment.  Pocketstack has no such module:
:class:`TrustedAssertions` reads them from request headers of a trusted front proxy
(off by default); an in-process front end (X.509, Kerberos, OIDC, SAML) hands
:meth:`FederationManager.authenticate` the same dict.

The mapping (``identity/mapping_rules.py``) yields an ephemeral user -- a shadow user in
the identity provider's domain, remembered by (identity provider, protocol, unique id)
-- with groups that hold for the token only, and projects to provision with roles; or
an existing local user.  As in keystone/auth/plugins/mapped.py.
"""

from __future__ import annotations

import hashlib
import ipaddress
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from urllib.parse import quote

import sqlalchemy as sa
from sqlalchemy import exc as sa_exc
from sqlalchemy.orm import Session

from pocketstack.common.db import Database, new_id
from pocketstack.common.db.lookup import get_or_raise
from pocketstack.identity import errors
from pocketstack.identity import models as m
from pocketstack.identity.mapping_rules import (
    EPHEMERAL,
    SYNC_SCHEMA_VERSION,
    Mapped,
    RuleProcessor,
    validate_mapping,
)

IDP, PROTOCOL, MAPPING, REMOTE, FED_USER = (m.IdentityProvider, m.FederationProtocol, m.Mapping, m.IdpRemoteId,
                                            m.FederatedUser)
# The protocols a mapped sign-in may use: Keystone's auth methods handled by its Mapped
# plugin (``mapped`` is in its default ``[auth] methods``; the others are the usual
# protocol names of its SAML, OpenID Connect and X.509 guides).
FEDERATED_METHODS = ("mapped", "saml2", "openid", "x509", "kerberos")


@dataclass(frozen=True)
class TrustedAssertions:
    """Where assertions come from over HTTP: the headers named ``prefix`` + attribute of
    a request whose peer is one of ``proxies`` (addresses or networks).  The attribute
    is the rest of the header name upper-cased with ``-`` as ``_``, as CGI names request
    headers (``X-Federation-Remote-User`` → ``REMOTE_USER``).  The proxy must drop such
    headers from its clients.  No proxies (the default): no request carries an assertion."""

    prefix: str = ""
    proxies: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...] = ()

    @classmethod
    def from_settings(cls, prefix: str, proxies: str) -> TrustedAssertions:
        try:
            networks = tuple(ipaddress.ip_network(p.strip(), strict=False) for p in proxies.split(",") if p.strip())
        except ValueError as exc:
            raise ValueError(f"setting 'federation_trusted_proxies': {exc}") from None
        return cls(prefix=prefix, proxies=networks)

    def trusts(self, peer: str | None) -> bool:
        if not peer or not self.prefix:
            return False
        try:
            address = ipaddress.ip_address(peer)
        except ValueError:
            return False
        return any(address in network for network in self.proxies)

    def read(self, headers: Iterable[tuple[str, str]], peer: str | None) -> dict[str, str]:
        if not self.trusts(peer):
            return {}
        prefix = self.prefix.lower()
        attributes: dict[str, str] = {}
        for name, value in headers:
            if name.lower().startswith(prefix) and len(name) > len(prefix):
                key = name[len(prefix):].upper().replace("-", "_")
                value = _utf8(value)
                attributes[key] = f"{attributes[key]};{value}" if key in attributes else value
        return attributes


def _utf8(value: str) -> str:
    """HTTP header values arrive as Latin-1; read them as the UTF-8 they usually are (Keystone too)."""
    try:
        return value.encode("latin-1").decode("utf-8")
    except (UnicodeEncodeError, UnicodeDecodeError):
        return value


@dataclass
class FederatedLogin:
    """Who an assertion signs in: for an ephemeral user also the identity provider,
    protocol and groups the token carries (``idp_id`` None: a local user)."""

    user_id: str
    idp_id: str | None = None
    protocol_id: str | None = None
    group_ids: list[str] = field(default_factory=list)


def shadow_user_id(domain_id: str, unique_id: str) -> str:
    """Keystone's public id of a federated user (its sha256 id generator)."""
    return hashlib.sha256((domain_id + "user" + unique_id).encode()).hexdigest()


class FederationManager:
    def __init__(self, db: Database, identity, assertions: TrustedAssertions):
        self.db = db
        self.identity = identity
        self.assertions = assertions

    # -- identity providers ----------------------------------------------------------
    @staticmethod
    def load_idp(s: Session, idp_id: str) -> m.IdentityProvider:
        return get_or_raise(s, IDP, idp_id, lambda: errors.IdentityProviderNotFound(idp_id=idp_id))

    @staticmethod
    def remote_ids(s: Session, idp_ids: Iterable[str]) -> dict[str, list[str]]:
        found: dict[str, list[str]] = {i: [] for i in idp_ids}
        if found:
            for row in s.scalars(sa.select(REMOTE).where(REMOTE.idp_id.in_(found)).order_by(REMOTE.remote_id)):
                found[row.idp_id].append(row.remote_id)
        return found

    def get_idp(self, idp_id: str) -> tuple[m.IdentityProvider, list[str]]:
        with self.db.session(readonly=True) as s:
            return self.load_idp(s, idp_id), self.remote_ids(s, [idp_id])[idp_id]

    def list_idps(self, filters: Mapping) -> list[tuple[m.IdentityProvider, list[str]]]:
        stmt = sa.select(IDP).order_by(IDP.id)
        if "id" in filters:
            stmt = stmt.where(IDP.id == filters["id"])
        if "enabled" in filters:
            stmt = stmt.where(IDP.enabled.is_(filters["enabled"]))
        with self.db.session(readonly=True) as s:
            idps = list(s.scalars(stmt))
            remote = self.remote_ids(s, [i.id for i in idps])
        return [(idp, remote[idp.id]) for idp in idps]

    @staticmethod
    def _store_remote_ids(s: Session, idp_id: str, remote_ids: list[str]) -> None:
        """Replace the identity provider's remote ids; 409 for one another provider has."""
        s.execute(sa.delete(REMOTE).where(REMOTE.idp_id == idp_id))
        if remote_ids:
            taken = s.scalar(sa.select(REMOTE.remote_id).where(REMOTE.remote_id.in_(remote_ids)).limit(1))
            if taken is not None:
                raise errors.DuplicateEntry(action="store identity_provider", details=f"Duplicate remote ID: {taken}.")
            s.add_all(REMOTE(remote_id=r, idp_id=idp_id) for r in remote_ids)

    def create_idp(self, idp_id: str, fields: dict) -> tuple[m.IdentityProvider, list[str]]:
        """Keystone's order: the named domain must exist (404), else a domain is made for
        the provider, and dropped again if the provider cannot be stored (409)."""
        remote_ids = fields.get("remote_ids") or []
        domain_id = fields.get("domain_id")
        made = None
        if domain_id:
            self.identity.resource.get_domain(domain_id)
        else:
            made = new_id()
            self.identity.resource.create_domain(name=made, domain_id=made, description=(
                f"Auto generated federated domain for Identity Provider: {idp_id}"))
        try:
            with self.db.session() as s:
                if s.get(IDP, idp_id) is not None:
                    raise errors.DuplicateEntry(action="store identity_provider", details=f"Duplicate entry: {idp_id}.")
                idp = IDP(id=idp_id, enabled=bool(fields.get("enabled", False)), description=fields.get("description"),
                          domain_id=domain_id or made, authorization_ttl=fields.get("authorization_ttl"))
                s.add(idp)
                s.flush()
                self._store_remote_ids(s, idp_id, remote_ids)
        except (errors.Conflict, sa_exc.IntegrityError) as exc:
            if made:
                with self.db.session() as s:
                    s.execute(sa.delete(m.Project).where(m.Project.id == made))
            if isinstance(exc, errors.Conflict):
                raise
            raise errors.DuplicateEntry(action="store identity_provider",
                                        details=f"Duplicate entry: {idp_id}.") from None
        return idp, sorted(remote_ids)

    def update_idp(self, idp_id: str, changes: dict) -> tuple[m.IdentityProvider, list[str]]:
        try:
            with self.db.session() as s:
                idp = self.load_idp(s, idp_id)
                for key in ("enabled", "description", "authorization_ttl"):
                    if key in changes:
                        setattr(idp, key, changes[key])
                if "remote_ids" in changes:
                    self._store_remote_ids(s, idp_id, changes["remote_ids"] or [])
                s.flush()
                return idp, self.remote_ids(s, [idp_id])[idp_id]
        except sa_exc.IntegrityError:
            raise errors.DuplicateEntry(action="store identity_provider", details="Duplicate remote ID.") from None

    def delete_idp(self, idp_id: str) -> None:
        """The provider, its protocols and remote ids, and the shadow users it made."""
        with self.db.session() as s:
            idp = self.load_idp(s, idp_id)
            self._drop_shadow_users(s, FED_USER.idp_id == idp_id)
            s.execute(sa.delete(PROTOCOL).where(PROTOCOL.idp_id == idp_id))
            s.execute(sa.delete(REMOTE).where(REMOTE.idp_id == idp_id))
            s.delete(idp)

    def _drop_shadow_users(self, s: Session, which) -> None:
        """Forget the federated links ``which`` selects; a user left with none goes too."""
        user_ids = set(s.scalars(sa.select(FED_USER.user_id).where(which)))
        s.execute(sa.delete(FED_USER).where(which))
        for user_id in sorted(user_ids):
            still = s.scalar(sa.select(FED_USER.id).where(FED_USER.user_id == user_id).limit(1))
            user = s.get(m.User, user_id)
            if still is None and user is not None:
                self.identity.users.purge_user(s, user)

    # -- protocols -------------------------------------------------------------------
    @staticmethod
    def load_protocol(s: Session, idp_id: str, protocol_id: str) -> m.FederationProtocol:
        return get_or_raise(s, PROTOCOL, (idp_id, protocol_id),
                            lambda: errors.FederatedProtocolNotFound(protocol_id=protocol_id, idp_id=idp_id))

    def get_protocol(self, idp_id: str, protocol_id: str) -> m.FederationProtocol:
        with self.db.session(readonly=True) as s:
            return self.load_protocol(s, idp_id, protocol_id)

    def list_protocols(self, idp_id: str) -> list[m.FederationProtocol]:
        with self.db.session(readonly=True) as s:
            return list(s.scalars(sa.select(PROTOCOL).where(PROTOCOL.idp_id == idp_id).order_by(PROTOCOL.id)))

    @staticmethod
    def _check_mapping(s: Session, mapping_id: str) -> None:
        if s.get(MAPPING, mapping_id) is None:
            raise errors.ValidationMessage(message=f"Invalid mapping id: {mapping_id}")

    def create_protocol(self, idp_id: str, protocol_id: str, fields: dict) -> m.FederationProtocol:
        try:
            with self.db.session() as s:
                self._check_mapping(s, fields["mapping_id"])
                self.load_idp(s, idp_id)
                if s.get(PROTOCOL, (idp_id, protocol_id)) is not None:
                    raise self._duplicate_protocol(protocol_id)
                protocol = PROTOCOL(idp_id=idp_id, id=protocol_id, mapping_id=fields["mapping_id"],
                                    remote_id_attribute=fields.get("remote_id_attribute"))
                s.add(protocol)
                s.flush()
                return protocol
        except sa_exc.IntegrityError:
            raise self._duplicate_protocol(protocol_id) from None

    @staticmethod
    def _duplicate_protocol(protocol_id: str) -> errors.DuplicateEntry:
        return errors.DuplicateEntry(action="store federation_protocol",
                                     details=f"Duplicate entry found with ID {protocol_id}.")

    def update_protocol(self, idp_id: str, protocol_id: str, changes: dict) -> m.FederationProtocol:
        with self.db.session() as s:
            self._check_mapping(s, changes["mapping_id"])
            protocol = self.load_protocol(s, idp_id, protocol_id)
            for key in ("mapping_id", "remote_id_attribute"):
                if key in changes:
                    setattr(protocol, key, changes[key])
            return protocol

    def delete_protocol(self, idp_id: str, protocol_id: str) -> None:
        with self.db.session() as s:
            s.delete(self.load_protocol(s, idp_id, protocol_id))
            self._drop_shadow_users(s, sa.and_(FED_USER.idp_id == idp_id, FED_USER.protocol_id == protocol_id))

    def protocol_idps(self, protocol_id: str) -> list[tuple[str, str | None]]:
        """The identity providers that have protocol ``protocol_id``, with its
        ``remote_id_attribute`` (how the protocol-wide websso URL finds its provider)."""
        with self.db.session(readonly=True) as s:
            rows = s.execute(sa.select(PROTOCOL.idp_id, PROTOCOL.remote_id_attribute)
                             .where(PROTOCOL.id == protocol_id).order_by(PROTOCOL.idp_id)).all()
        return [(idp_id, attribute) for idp_id, attribute in rows]

    def idp_of_remote_id(self, remote_id: str) -> str:
        """The identity provider whose remote id ``remote_id`` is (Keystone's
        ``get_idp_from_remote_id``); 404 when none."""
        with self.db.session(readonly=True) as s:
            idp_id = s.scalar(sa.select(REMOTE.idp_id).where(REMOTE.remote_id == remote_id))
        if idp_id is None:
            raise errors.IdentityProviderNotFound(idp_id=remote_id)
        return idp_id

    # -- mappings --------------------------------------------------------------------
    @staticmethod
    def load_mapping(s: Session, mapping_id: str) -> m.Mapping:
        return get_or_raise(s, MAPPING, mapping_id, lambda: errors.MappingNotFound(mapping_id=mapping_id))

    def get_mapping(self, mapping_id: str) -> m.Mapping:
        with self.db.session(readonly=True) as s:
            return self.load_mapping(s, mapping_id)

    def list_mappings(self) -> list[m.Mapping]:
        with self.db.session(readonly=True) as s:
            return list(s.scalars(sa.select(MAPPING).order_by(MAPPING.id)))

    def create_mapping(self, mapping_id: str, fields: dict) -> m.Mapping:
        validate_mapping(fields)
        try:
            with self.db.session() as s:
                if s.get(MAPPING, mapping_id) is not None:
                    raise self._duplicate_mapping()
                mapping = MAPPING(id=mapping_id, rules=fields["rules"], schema_version=fields["schema_version"])
                s.add(mapping)
                s.flush()
                return mapping
        except sa_exc.IntegrityError:
            raise self._duplicate_mapping() from None

    @staticmethod
    def _duplicate_mapping() -> errors.DuplicateEntry:
        return errors.DuplicateEntry(action="store mapping", details="Duplicate entry.")

    def update_mapping(self, mapping_id: str, fields: dict) -> m.Mapping:
        validate_mapping(fields)
        with self.db.session() as s:
            mapping = self.load_mapping(s, mapping_id)
            mapping.rules, mapping.schema_version = fields["rules"], fields["schema_version"]
            return mapping

    def delete_mapping(self, mapping_id: str) -> None:
        with self.db.session() as s:
            s.delete(self.load_mapping(s, mapping_id))

    # -- signing in ------------------------------------------------------------------
    def check_enabled(self, s: Session, idp_id: str) -> m.IdentityProvider:
        idp = self.load_idp(s, idp_id)
        if not idp.enabled:
            raise errors.IdentityProviderDisabled(idp_id=idp_id)
        return idp

    def evaluate(self, idp_id: str, protocol_id: str, assertion: Mapping[str, str]) -> tuple[
            m.IdentityProvider, Mapped, list[str], str]:
        """Map ``assertion`` through the protocol's mapping (Keystone's ``evaluate``):
        the provider, what the rules yield, the group ids (each checked) and the
        mapping's schema version; 403 for a disabled provider, 401 when nothing maps."""
        with self.db.session(readonly=True) as s:
            idp = self.check_enabled(s, idp_id)
            protocol = self.load_protocol(s, idp_id, protocol_id)
            remote_ids = self.remote_ids(s, [idp_id])[idp_id]
            mapping = self.load_mapping(s, protocol.mapping_id)
            rules, version = mapping.rules, mapping.schema_version
        try:
            if protocol.remote_id_attribute and remote_ids:
                if protocol.remote_id_attribute not in assertion:
                    raise errors.ValidationMessage(message="Could not find Identity Provider identifier in environment")
                if assertion[protocol.remote_id_attribute] not in remote_ids:
                    raise errors.RemoteIdNotAccepted()
            mapped = RuleProcessor(mapping.id, rules, version).process(dict(assertion))
            group_ids = self._group_ids(mapped, mapping.id)
        except errors.BadRequest as error:
            raise errors.FederatedAuthFailed(reason=error.message) from None
        return idp, mapped, group_ids, version

    def authenticate(self, idp_id: str, protocol_id: str, assertion: Mapping[str, str]) -> FederatedLogin:
        """Map ``assertion`` (:meth:`evaluate`) and sign its user in: a local user, or
        the shadow user of an ephemeral one, its projects provisioned."""
        idp, mapped, group_ids, version = self.evaluate(idp_id, protocol_id, assertion)
        if mapped.user["type"] != EPHEMERAL:
            return FederatedLogin(user_id=self.local_user(mapped.user).id)
        user = self._prepare_user(mapped.user, idp.domain_id, assertion)
        roles = self._check_project_roles(mapped.projects, user["domain"]["id"], idp_id)
        user_id = self._shadow(idp_id, protocol_id, user)
        self._provision(user_id, mapped.projects, roles, idp.domain_id, sync=version == SYNC_SCHEMA_VERSION)
        return FederatedLogin(user_id=user_id, idp_id=idp_id, protocol_id=protocol_id, group_ids=group_ids)

    def _domain_id(self, s: Session, ref: dict) -> str:
        return ref["id"] if "id" in ref else self.identity.resource.find_domain_by_name(s, ref.get("name", "")).id

    def _group_ids(self, mapped: Mapped, mapping_id: str) -> list[str]:
        """The mapped group ids (each must exist) and the groups named that exist."""
        with self.db.session(readonly=True) as s:
            for group_id in mapped.group_ids:
                if s.get(m.Group, group_id) is None:
                    raise errors.ValidationMessage(
                        message=f"Group {group_id} returned by mapping {mapping_id} was not found in the backend.")
            found = dict.fromkeys(mapped.group_ids)
            for ref in mapped.group_names:
                group = s.scalar(sa.select(m.Group).where(
                    m.Group.name == ref["name"], m.Group.domain_id == self._domain_id(s, ref["domain"] or {})))
                if group is not None:
                    found[group.id] = None
        return list(found)

    def local_user(self, ref: dict) -> m.User:
        """A ``local`` user: one that exists, by id or by name in a domain."""
        with self.db.session(readonly=True) as s:
            if ref.get("id"):
                user = s.get(m.User, ref["id"])
            elif ref.get("name") and isinstance(ref.get("domain"), dict):
                user = s.scalar(sa.select(m.User).where(m.User.name == ref["name"],
                                                        m.User.domain_id == self._domain_id(s, ref["domain"])))
            else:
                raise errors.MissingAttribute(attribute="domain", target="user")
        if user is None or not user.enabled:
            raise errors.AuthenticationRequired()
        return user

    def _prepare_user(self, user: dict, idp_domain_id: str, assertion: Mapping[str, str]) -> dict:
        """Keystone's ``validate_and_prepare_federated_user``: a name or an id (either
        stands for the other; ``REMOTE_USER`` for a name), the id URL-quoted, the
        domain resolved to an id (the provider's by default)."""
        user = dict(user)
        name = user.get("name") or assertion.get("REMOTE_USER")
        unique = user.get("id") or name
        if not unique:
            raise errors.FederatedAuthFailed(
                reason="Could not map user while setting ephemeral user identity. Either mapping rules must specify "
                       "user id/name or REMOTE_USER environment variable must be set.")
        user["name"] = name or unique
        user["id"] = quote(unique)
        with self.db.session(readonly=True) as s:
            user["domain"] = {"id": self._domain_id(s, user.get("domain") or {"id": idp_domain_id})}
        return user

    def _check_project_roles(self, projects: list[dict], user_domain_id: str, idp_id: str) -> dict[str, m.Role]:
        """The roles by name; each a provisioned project names must exist (404), and a
        domain-specific one must be of the user's domain (403)."""
        roles: dict[str, m.Role] = {}
        with self.db.session(readonly=True) as s:
            for row in s.scalars(sa.select(m.Role).order_by(m.Role.id)):
                if row.name not in roles or row.domain_id == m.NULL_DOMAIN_ID:
                    roles[row.name] = row
        for project in projects:
            for ref in project["roles"]:
                role = roles.get(ref["name"])
                if role is None:
                    raise errors.RoleNotFound(role_id=ref["name"])
                if role.domain_id not in (m.NULL_DOMAIN_ID, user_domain_id):
                    raise errors.DomainRoleOutsideIdpDomain(role_name=ref["name"], idp_id=idp_id)
        return roles

    def _shadow(self, idp_id: str, protocol_id: str, user: dict) -> str:
        """The shadow user of (provider, protocol, unique id), made on first sign-in in
        the mapped domain; its name follows the assertion's."""
        domain_id = user["domain"]["id"]
        try:
            with self.db.session() as s:
                link = s.scalar(sa.select(FED_USER).where(
                    FED_USER.idp_id == idp_id, FED_USER.protocol_id == protocol_id, FED_USER.unique_id == user["id"]))
                if link is not None:
                    link.display_name = user["name"]
                    shadow = s.get(m.User, link.user_id)
                    if shadow is not None and shadow.name != user["name"]:
                        shadow.name = user["name"]
                    return link.user_id
                user_id = shadow_user_id(domain_id, user["id"])
                if s.get(m.User, user_id) is None:
                    extra = {"email": user["email"]} if user.get("email") else {}
                    s.add(m.User(id=user_id, name=user["name"], domain_id=domain_id, enabled=True, extra=extra))
                    s.flush()
                s.add(FED_USER(user_id=user_id, idp_id=idp_id, protocol_id=protocol_id, unique_id=user["id"],
                               display_name=user["name"]))
                return user_id
        except sa_exc.IntegrityError:
            raise errors.DuplicateEntry(action="store user", details=f"Duplicate entry found with name {user['name']} "
                                                                     f"at domain ID {domain_id}.") from None

    def _provision(self, user_id: str, projects: list[dict], roles: dict[str, m.Role], idp_domain_id: str, *,
                   sync: bool) -> None:
        """Keystone's auto-provisioning: each project (by name, in its domain or the
        provider's) is made if missing, and the user granted its roles there.  With
        ``sync`` (schema 3.0) the user's other project roles are revoked."""
        given: set[tuple[str, str]] = set()
        for ref in projects:
            with self.db.session(readonly=True) as s:
                domain_id = self._domain_id(s, ref.get("domain") or {"id": idp_domain_id})
                try:
                    project_id = self.identity.resource.find_project_by_name(s, ref["name"], domain_id).id
                except errors.ProjectNotFound:
                    project_id = None
            if project_id is None:
                project_id = self.identity.resource.create_project(name=ref["name"], domain_id=domain_id).id
            for role in ref["roles"]:
                self.identity.assignment.grant("user", user_id, "project", project_id, roles[role["name"]].id)
                given.add((project_id, roles[role["name"]].id))
        if not sync:
            return
        with self.db.session(readonly=True) as s:
            held = list(s.execute(sa.select(m.Assignment.target_id, m.Assignment.role_id).where(
                m.Assignment.actor_id == user_id, m.Assignment.type == "UserProject",
                m.Assignment.inherited.is_(False))))
        for project_id, role_id in held:
            if (project_id, role_id) not in given:
                self.identity.assignment.revoke_grant("user", user_id, "project", project_id, role_id)
