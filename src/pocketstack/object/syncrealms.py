"""Container sync realms: Swift's ``container-sync-realms.conf``.

An operator groups clusters that may sync containers with each other into realms; each
realm has a shared key (and an optional second one, for rotating it) and names the
endpoint of each of its clusters::

    [realm1]
    key = a-realm-secret
    key2 = the-next-secret
    cluster_name1 = http://127.0.0.1:8080/object-store/v1/

A container then syncs to ``//realm1/name1/AUTH_x/c`` with requests signed by the realm
key and the container's own ``X-Container-Sync-Key`` (:func:`signature`); names are
case-insensitive, as in Swift.  The file is read once, when the service starts.
"""

from __future__ import annotations

import configparser
import hashlib
import hmac
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlparse

from pocketstack.common.errors import BadRequest

CLUSTER_PREFIX = "cluster_"


@dataclass(frozen=True)
class Realm:
    key: str
    key2: str | None
    clusters: dict[str, str] = field(default_factory=dict)


class SyncRealms:
    """The realms of a realms file (none without one); ``current``: this cluster as
    ``//REALM/CLUSTER``, marked in ``/info``."""

    def __init__(self, realms: dict[str, Realm] | None = None, current: str = ""):
        self.realms = realms or {}
        realm, _, cluster = current.strip("/").upper().partition("/")
        self.current = (realm, cluster) if realm and cluster else None

    @classmethod
    def load(cls, path: str, current: str = "") -> SyncRealms:
        """The realms of the file at ``path`` (empty: none); a section without a key is no realm."""
        if not path:
            return cls(current=current)
        parser = configparser.ConfigParser(interpolation=None)
        parser.read_string(Path(path).read_text())
        realms = {}
        for section in parser.sections():
            values = parser[section]
            if not values.get("key"):
                continue
            clusters = {name[len(CLUSTER_PREFIX):].upper(): url for name, url in values.items()
                        if name.startswith(CLUSTER_PREFIX) and url}
            realms[section.upper()] = Realm(values["key"], values.get("key2") or None, clusters)
        return cls(realms, current)

    def keys(self, realm: str) -> list[str]:
        """The realm's keys (none for an unknown realm)."""
        found = self.realms.get(realm.upper())
        return [k for k in (found.key, found.key2) if k] if found else []

    def endpoint(self, realm: str, cluster: str) -> str | None:
        found = self.realms.get(realm.upper())
        return found.clusters.get(cluster.upper()) if found else None

    def info(self) -> dict:
        """``/info``'s ``container_sync.realms``: each realm's clusters, the current one marked."""
        out: dict = {}
        for name, realm in self.realms.items():
            if realm.clusters:
                out[name] = {"clusters": {c: {} for c in realm.clusters}}
        if self.current and self.current[1] in out.get(self.current[0], {}).get("clusters", {}):
            out[self.current[0]]["clusters"][self.current[1]]["current"] = True
        return out


class InvalidSyncTo(BadRequest):
    msg_fmt = "{reason}"


@dataclass(frozen=True)
class Target:
    """Where a container syncs to: the remote container's URL, and the realm's name and
    key when it was named through a realm (None: an old-style full URL)."""

    url: str
    realm: str | None = None
    realm_key: str | None = None


@dataclass(frozen=True)
class SyncConfig:
    """The cluster's realms and the hosts a full ``X-Container-Sync-To`` URL may name."""

    realms: SyncRealms
    hosts: frozenset[str]

    @classmethod
    def none(cls) -> SyncConfig:
        """No realms, no hosts: a container may sync nowhere."""
        return cls(SyncRealms(), frozenset())

    @classmethod
    def of(cls, realms: SyncRealms, hosts: str) -> SyncConfig:
        return cls(realms, frozenset(h.strip().strip("[]") for h in hosts.split(",") if h.strip()))


def resolve(value: str, config: SyncConfig) -> Target | None:
    """The target ``value`` names (None when it is empty: no sync); Swift's 400 text when invalid."""
    stripped = value.rstrip("/")
    if not stripped:
        return None
    if stripped.startswith("//"):
        parts = stripped[2:].split("/")
        if len(parts) != 4:
            raise InvalidSyncTo(reason=f"Invalid X-Container-Sync-To format {value!r}")
        realm, cluster, account, container = parts
        keys = config.realms.keys(realm)
        if not keys:
            raise InvalidSyncTo(reason=f"No realm key for {realm!r}")
        endpoint = config.realms.endpoint(realm, cluster)
        if not endpoint:
            raise InvalidSyncTo(reason=f"No cluster endpoint for {realm!r} {cluster!r}")
        return Target(f"{endpoint.rstrip('/')}/{account}/{container}", realm.upper(), keys[0])
    try:
        parsed = urlparse(stripped)
        host = parsed.hostname
    except ValueError:
        raise InvalidSyncTo(reason=f"Invalid X-Container-Sync-To format {value!r}") from None
    if parsed.scheme not in ("http", "https"):
        raise InvalidSyncTo(reason=f'Invalid scheme {parsed.scheme!r} in X-Container-Sync-To, must be "//", '
                                   '"http", or "https".')
    if not parsed.path:
        raise InvalidSyncTo(reason="Path required in X-Container-Sync-To")
    if parsed.params or parsed.query or parsed.fragment:
        raise InvalidSyncTo(reason="Params, queries, and fragments not allowed in X-Container-Sync-To")
    if host not in config.hosts:
        raise InvalidSyncTo(reason=f"Invalid host {host!r} in X-Container-Sync-To")
    return Target(stripped)


def signature(method: str, path: str, timestamp: str, nonce: str, realm_key: str, user_key: str) -> str:
    """Swift's X-Container-Sync-Auth signature: HMAC-SHA1 of the request by the realm's
    key, over the container's sync key too (``path`` URL-encoded, as sent)."""
    message = "\n".join([method, path, timestamp, nonce, user_key]).encode()
    return hmac.new(realm_key.encode(), message, hashlib.sha1).hexdigest()
