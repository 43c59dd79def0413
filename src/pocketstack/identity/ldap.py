"""The read-only LDAP directory of one domain (Keystone's ``ldap`` identity driver),
spoken through ``ldap3`` (pure Python, imported on first use: a cloud without an LDAP
domain never loads it).

:class:`LdapSettings` reads a domain's ``ldap`` options (Keystone's names and defaults);
:class:`Directory` searches users and groups and binds as a user to check a password.
Every failure to reach the server or to bind as the configured ``user`` is a
:class:`~pocketstack.identity.errors.DirectoryUnavailable` (503).
"""

from __future__ import annotations

import dataclasses
import importlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from pocketstack.common.lazy import lazy
from pocketstack.identity import errors
from pocketstack.identity.domain_config import WHITELISTED

if TYPE_CHECKING:
    import ldap3
else:
    ldap3 = lazy("ldap3")

CONNECT_TIMEOUT = 5  # seconds; Keystone's connection_timeout -1 means the library's own
TRUE = frozenset({"true", "1", "yes", "on", "enabled"})


def _bool(value: Any) -> bool:
    return value.strip().lower() in TRUE if isinstance(value, str) else bool(value)


def _int(value: Any, default: int = 0) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return default


@dataclass(frozen=True)
class LdapSettings:
    """The ``ldap`` options the driver uses (the other whitelisted ones are stored and
    shown but change nothing here)."""

    url: str
    user: str | None
    password: str | None
    suffix: str
    query_scope: str
    page_size: int
    user_tree_dn: str
    user_filter: str | None
    user_objectclass: str
    user_id_attribute: str
    user_name_attribute: str
    user_mail_attribute: str
    user_description_attribute: str
    user_enabled_attribute: str
    user_enabled_invert: bool
    user_enabled_mask: int
    user_enabled_default: str
    group_tree_dn: str
    group_filter: str | None
    group_objectclass: str
    group_id_attribute: str
    group_name_attribute: str
    group_member_attribute: str
    group_members_are_ids: bool
    group_desc_attribute: str
    use_tls: bool
    tls_cacertfile: str | None
    tls_req_cert: str

    @classmethod
    def from_config(cls, options: dict[str, Any]) -> LdapSettings:
        merged = {**WHITELISTED["ldap"], "password": None, **options}
        values: dict[str, Any] = {f.name: merged.get(f.name) for f in dataclasses.fields(cls)}
        suffix = str(merged["suffix"])
        values["user_tree_dn"] = merged["user_tree_dn"] or f"ou=Users,{suffix}"
        values["group_tree_dn"] = merged["group_tree_dn"] or f"ou=UserGroups,{suffix}"
        for key in ("page_size", "user_enabled_mask"):
            values[key] = _int(merged[key])
        for key in ("user_enabled_invert", "group_members_are_ids", "use_tls"):
            values[key] = _bool(merged[key])
        values["user_enabled_default"] = str(merged["user_enabled_default"])
        return cls(**values)


@dataclass(frozen=True)
class Entry:
    """A user or group as the directory holds it."""

    dn: str
    local_id: str
    name: str
    attributes: dict[str, list[Any]]

    def first(self, attribute: str) -> Any:
        values = self.attributes.get(attribute) or []
        return values[0] if values else None


def normalized_dn(dn: str) -> str:
    return ",".join(part.strip() for part in dn.lower().split(","))


class Directory:
    """One domain's LDAP server: searches run bound as ``user`` (anonymous without one)."""

    def __init__(self, domain_id: str, settings: LdapSettings):
        self.domain_id = domain_id
        self.settings = settings

    # -- connections ------------------------------------------------------------------
    def _server(self) -> ldap3.Server:
        cfg = self.settings
        tls = None
        if cfg.use_tls or cfg.url.startswith("ldaps://"):
            import ssl
            validate = ssl.CERT_NONE if cfg.tls_req_cert == "never" else ssl.CERT_REQUIRED
            tls = ldap3.Tls(validate=validate, ca_certs_file=cfg.tls_cacertfile)
        return ldap3.Server(cfg.url, tls=tls, connect_timeout=CONNECT_TIMEOUT, get_info=ldap3.NONE)

    def _unavailable(self, reason: object) -> errors.DirectoryUnavailable:
        return errors.DirectoryUnavailable(domain_id=self.domain_id, reason=str(reason) or type(reason).__name__)

    def _require_library(self) -> None:
        try:
            importlib.import_module("ldap3")
        except ImportError:
            raise self._unavailable("the ldap3 library is not installed") from None

    def _open(self, user: str | None, password: str | None) -> ldap3.Connection:
        conn = ldap3.Connection(self._server(), user=user, password=password, receive_timeout=CONNECT_TIMEOUT,
                                raise_exceptions=False, read_only=True)
        conn.open()
        if self.settings.use_tls:
            conn.start_tls()
        return conn

    @contextmanager
    def _bound(self) -> Iterator[ldap3.Connection]:
        self._require_library()
        try:
            conn = self._open(self.settings.user, self.settings.password)
            if not conn.bind():
                raise self._unavailable(f"bind as {self.settings.user or 'anonymous'} refused "
                                        f"({(conn.result or {}).get('description')})")
        except ldap3.core.exceptions.LDAPException as exc:
            raise self._unavailable(exc) from None
        try:
            yield conn
        except ldap3.core.exceptions.LDAPException as exc:
            raise self._unavailable(exc) from None
        finally:
            conn.unbind()

    def authenticate(self, dn: str, password: str) -> bool:
        """Bind as ``dn`` with ``password`` (never with an empty one: that would be an
        unauthenticated bind, which servers accept)."""
        if not password:
            return False
        self._require_library()
        try:
            conn = self._open(dn, password)
            try:
                return bool(conn.bind())
            finally:
                conn.unbind()
        except ldap3.core.exceptions.LDAPException as exc:
            raise self._unavailable(exc) from None

    # -- searches ---------------------------------------------------------------------
    def _search(self, base: str, conditions: list[str], attributes: list[str], *,
                scope: str | None = None) -> list[tuple[str, dict[str, list[Any]]]]:
        query = "(&" + "".join(conditions) + ")"
        scope = scope or (ldap3.SUBTREE if self.settings.query_scope == "sub" else ldap3.LEVEL)
        with self._bound() as conn:
            if self.settings.page_size > 0:
                found = conn.extend.standard.paged_search(base, query, search_scope=scope, attributes=attributes,
                                                          paged_size=self.settings.page_size, generator=False)
            else:
                conn.search(base, query, search_scope=scope, attributes=attributes)
                found = conn.response
            result = conn.result or {}
            if result.get("result") not in (0, 32, None):  # 32: noSuchObject (an empty tree)
                raise self._unavailable(f"search of {base} failed ({result.get('description')})")
        return [(item["dn"], dict(item.get("attributes") or {}))
                for item in found or [] if item.get("type") == "searchResEntry"]

    @staticmethod
    def _eq(attribute: str, value: str) -> str:
        return f"({attribute}={ldap3.utils.conv.escape_filter_chars(value)})"

    def _entries(self, kind: str, extra: list[str], attributes: list[str]) -> list[Entry]:
        cfg = self.settings
        base, objectclass, id_attr, name_attr, own_filter = (
            (cfg.user_tree_dn, cfg.user_objectclass, cfg.user_id_attribute, cfg.user_name_attribute, cfg.user_filter)
            if kind == "user" else
            (cfg.group_tree_dn, cfg.group_objectclass, cfg.group_id_attribute, cfg.group_name_attribute,
             cfg.group_filter))
        conditions = [f"(objectClass={objectclass})", *extra, *([own_filter] if own_filter else [])]
        entries = []
        for dn, attrs in self._search(base, conditions, [id_attr, name_attr, *attributes]):
            local_id, name = _single(attrs.get(id_attr)), _single(attrs.get(name_attr))
            if local_id is not None and name is not None:
                entries.append(Entry(dn=dn, local_id=str(local_id), name=str(name), attributes=attrs))
        return entries

    def _user_attributes(self) -> list[str]:
        cfg = self.settings
        return [cfg.user_mail_attribute, cfg.user_description_attribute, cfg.user_enabled_attribute]

    def users(self, name: str | None = None) -> list[Entry]:
        extra = [self._eq(self.settings.user_name_attribute, name)] if name is not None else []
        return self._entries("user", extra, self._user_attributes())

    def user(self, local_id: str) -> Entry | None:
        found = self._entries("user", [self._eq(self.settings.user_id_attribute, local_id)], self._user_attributes())
        return found[0] if found else None

    def groups(self, name: str | None = None) -> list[Entry]:
        extra = [self._eq(self.settings.group_name_attribute, name)] if name is not None else []
        return self._entries("group", extra, [self.settings.group_desc_attribute])

    def group(self, local_id: str) -> Entry | None:
        found = self._entries("group", [self._eq(self.settings.group_id_attribute, local_id)],
                              [self.settings.group_desc_attribute, self.settings.group_member_attribute])
        return found[0] if found else None

    def groups_of(self, user: Entry) -> list[Entry]:
        member = user.local_id if self.settings.group_members_are_ids else user.dn
        return self._entries("group", [self._eq(self.settings.group_member_attribute, member)],
                             [self.settings.group_desc_attribute])

    def members(self, group: Entry) -> list[Entry]:
        """The users a group lists (members that are not users of the tree are skipped,
        as Keystone does)."""
        values = {str(v) for v in group.attributes.get(self.settings.group_member_attribute) or []}
        if self.settings.group_members_are_ids:
            return [user for user in self.users() if user.local_id in values]
        wanted = {normalized_dn(v) for v in values}
        return [user for user in self.users() if normalized_dn(user.dn) in wanted]

    def enabled(self, user: Entry) -> bool:
        """Keystone's reading of ``user_enabled_attribute``: its default when absent, a
        bit mask when ``user_enabled_mask`` is set, else a boolean (``invert`` flips it)."""
        cfg = self.settings
        value = user.first(cfg.user_enabled_attribute)
        if value is None:
            return _bool(cfg.user_enabled_default)
        if cfg.user_enabled_mask:
            return not (_int(value) & cfg.user_enabled_mask)
        enabled = _bool(value)
        return not enabled if cfg.user_enabled_invert else enabled


def _single(values: Any) -> Any:
    if isinstance(values, list):
        return values[0] if values else None
    return values
