"""Container sync at the proxy: the ``X-Container-Sync-To`` a container may be given,
and the sync requests another container's syncer sends (Swift's container server
checks and its container_sync middleware).

``X-Container-Sync-To`` is ``//realm/cluster/account/container`` (a realm of the
realms file, ``syncrealms``) or a full ``http(s)`` URL whose host is one of
``object_container_sync_hosts``; anything else is Swift's 400.  A syncer's PUT or
DELETE of an object is let in without a token when it proves it knows the target
container's ``X-Container-Sync-Key``: signed with it and the realm's key
(``X-Container-Sync-Auth: <realm> <nonce> <signature>``), or -- old style, for full
URLs -- sending it as ``X-Container-Sync-Key`` with an ``X-Timestamp``.  Such a
request writes at the ``X-Timestamp`` it carries, the time of the original change, so
the newest version wins on both sides.
"""

from __future__ import annotations

import hmac
from collections.abc import Mapping
from urllib.parse import quote

from pocketstack.common.api.request import ApiRequest
from pocketstack.common.errors import BadRequest, Unauthorized
from pocketstack.object import timestamps
from pocketstack.object.syncrealms import SyncConfig, resolve, signature


class InvalidSyncAuth(Unauthorized):
    msg_fmt = "X-Container-Sync-Auth header not valid; contact cluster operator for support."


class InvalidTimestamp(BadRequest):
    msg_fmt = "X-Timestamp should be a UNIX timestamp float value; was {value!r}"


def check_updates(updates: Mapping[str, str], config: SyncConfig) -> None:
    """A container PUT or POST's ``X-Container-Sync-To`` must name a valid target."""
    if updates.get("X-Container-Sync-To"):
        resolve(updates["X-Container-Sync-To"], config)


def is_sync_request(headers: Mapping[str, str]) -> bool:
    return "x-container-sync-auth" in headers or "x-container-sync-key" in headers


def sync_key(container_info: dict | None) -> str:
    if container_info is None:
        return ""
    return container_info["metadata"].get("X-Container-Sync-Key", [""])[0]


def authorized(req: ApiRequest, container_info: dict | None, config: SyncConfig, path: str) -> bool:
    """Does ``req`` (to the object at ``path``, ``/v1/<account>/<container>/<object>``
    quoted) prove the container's sync key?  401 for a realm signature that does not
    hold; False for an old-style key that does not match (ordinary access rules then)."""
    key = sync_key(container_info)
    auth = req.headers.get("x-container-sync-auth")
    if auth is not None:
        parts = auth.split()
        if len(parts) != 3 or not key:
            raise InvalidSyncAuth(headers={"WWW-Authenticate": "SwiftContainerSync realm=\"unknown\""})
        realm, nonce, sig = parts
        stamp = req.headers.get("x-timestamp", "0")
        paths = (path, req.attributes.get("service_path", "") + path)
        if not any(hmac.compare_digest(sig, signature(req.method, p, stamp, nonce, realm_key, key))
                   for realm_key in config.realms.keys(realm) for p in paths):
            raise InvalidSyncAuth(headers={"WWW-Authenticate": "SwiftContainerSync realm=\"unknown\""})
        return True
    offered = req.headers.get("x-container-sync-key", "")
    return bool(key) and "x-timestamp" in req.headers and hmac.compare_digest(offered, key)


def request_timestamp(headers: Mapping[str, str]) -> str:
    """The ``X-Timestamp`` a sync request writes at (400 unless a valid timestamp)."""
    value = headers.get("x-timestamp", "")
    try:
        return timestamps.normalize(value)
    except ValueError:
        raise InvalidTimestamp(value=value) from None


def object_path(account: str, container: str, obj: str) -> str:
    return "/v1/" + "/".join(quote(n) for n in (account, container, obj))
