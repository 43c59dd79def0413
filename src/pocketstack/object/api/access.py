"""Who may do what to an account, container or object.

The owner is a token scoped to the account's project (``AUTH_<project_id>``) with a
member or admin role, or any cloud admin (Swift keystoneauth's operator and reseller
admin roles); a ``reader`` in the project may only read (the rules
``object:account_owner`` and ``object:account_reader``, ``policies.py``).  Everyone else needs a
container ACL grant, a public-read ACL, or a valid TempURL signature.  Requests
without a token that are refused get 401, callers with a token 403 -- as in Swift.
What a request reaches besides its target (the segments of a large object, a copy's
source) is checked the same way, as Swift checks its subrequests.
"""

from __future__ import annotations

from pocketstack.common.api.request import ApiRequest
from pocketstack.common.errors import ApiError
from pocketstack.object import errors
from pocketstack.object.api import acl, tempurl
from pocketstack.object.store import ObjectStore

# Swift's ``swift_owner_headers``: secrets and ACLs only the account's operators see.
# Anyone else who may read the account or container -- a project reader, an ACL
# grantee (read or write) -- gets the rest of its metadata without them.
OWNER_HEADERS = frozenset(name.lower() for name in (
    "X-Account-Meta-Temp-Url-Key", "X-Account-Meta-Temp-Url-Key-2", "X-Account-Access-Control",
    "X-Container-Read", "X-Container-Write", "X-Container-Sync-Key", "X-Container-Sync-To",
    "X-Container-Meta-Temp-Url-Key", "X-Container-Meta-Temp-Url-Key-2"))


def project_of(account: str) -> str | None:
    return account[5:] if account.startswith("AUTH_") else None


def is_owner(req: ApiRequest, account: str, write: bool) -> bool:
    """May the caller write (or read) ``account`` as its owner, whatever the ACLs say?"""
    target = {"project_id": project_of(account)}
    if write:
        return req.allowed("object:account_owner", target)
    return req.allowed("object:account_reader", target)


def owner_view(req: ApiRequest, account: str, headers: dict[str, str]) -> dict[str, str]:
    """``headers`` of the account or one of its containers as the caller may see them:
    whole for Swift's ``swift_owner`` (who may write the account), else without
    :data:`OWNER_HEADERS` -- a TempURL key seen is a TempURL key usable."""
    if is_owner(req, account, write=True):
        return headers
    return {name: value for name, value in headers.items() if name.lower() not in OWNER_HEADERS}


def refusal(req: ApiRequest) -> ApiError:
    """401 for a caller without an identity (no token, or a TempURL), 403 for one with a token."""
    if req.context is None or req.attributes.get("tempurl") is not None:
        return errors.AccessDenied()
    return errors.AccessForbidden()


def authorize_account(req: ApiRequest, account: str, write: bool = False) -> None:
    if not is_owner(req, account, write):
        raise refusal(req)


def authorize(req: ApiRequest, store: ObjectStore, account: str, container: str, obj: str | None = None,
              *, write: bool = False) -> None:
    """The request's target: a TempURL signature (objects), else :func:`allowed`; blocking
    (reads databases).  A valid signature is kept as the request's ``tempurl`` grant,
    which then decides whatever else the request touches (segments, a copy's source)."""
    if obj is not None and "tempurl" not in req.attributes and tempurl.signed(req.query, req.method):
        req.attributes["tempurl"] = _verify_tempurl(req, store, account, container, obj)
        return
    if not allowed(req, store, account, container, obj, write=write):
        raise refusal(req)


def allowed(req: ApiRequest, store: ObjectStore, account: str, container: str, obj: str | None = None,
            *, write: bool = False) -> bool:
    """May the caller read (or write) this container, or an object in it?  Its TempURL
    grant, else ownership, else the container's ACLs (blocking)."""
    grant = req.attributes.get("tempurl")
    if grant is not None:
        return grant.covers(account, container)
    if is_owner(req, account, write):
        return True
    found = store.container(account, container)
    if found is None:
        return False
    meta = found[1]["metadata"]
    if write:
        return acl.grants(acl.parse(meta.get("X-Container-Write", ["", ""])[0]), req.context)
    items = acl.parse(meta.get("X-Container-Read", ["", ""])[0])
    public = acl.allows_public_read(items) if obj is not None else acl.allows_public_listing(items)
    return public or acl.grants(items, req.context)


class SegmentAccess:
    """The caller's access to the segments of a large object in ``account``.

    Swift fetches, checks and deletes segments with subrequests authorized as the
    caller, so a manifest never reaches what its reader could not; each container's
    answer is looked up once per request.  Blocking.
    """

    def __init__(self, req: ApiRequest, store: ObjectStore, account: str, *, write: bool = False):
        self.req, self.store, self.account, self.write = req, store, account, write
        self._answers: dict[tuple[str, bool], bool] = {}

    def allows(self, container: str, obj: str | None = None) -> bool:
        """May the caller read (write) ``obj`` in ``container``, or list it when ``obj`` is None?"""
        key = (container, obj is None)
        if key not in self._answers:
            self._answers[key] = allowed(self.req, self.store, self.account, container, obj, write=self.write)
        return self._answers[key]

    def refusal(self) -> ApiError:
        return refusal(self.req)


def _verify_tempurl(req: ApiRequest, store: ObjectStore, account: str, container: str, obj: str) -> tempurl.Grant:
    keys = tempurl_keys(store, account, container)
    prefix = req.attributes["service_path"]
    roots = [f"/v1/{account}/{container}/", f"{prefix}/v1/{account}/{container}/"]
    container_key, expires = tempurl.verify(req.method, req.query, roots, obj, keys)
    tempurl.refuse_pointer_headers(req.method, req.headers)
    return tempurl.Grant(account, container if container_key else None, expires)


def tempurl_keys(store: ObjectStore, account: str, container: str) -> list[tuple[str, bool]]:
    """``(key, is a container key)`` for every TempURL key set on the account and container."""
    keys = []
    _broker, info = store.account(account)
    for name in ("X-Account-Meta-Temp-Url-Key", "X-Account-Meta-Temp-Url-Key-2"):
        keys.append((info["metadata"].get(name, ["", ""])[0], False))
    found = store.container(account, container)
    if found is not None:
        for name in ("X-Container-Meta-Temp-Url-Key", "X-Container-Meta-Temp-Url-Key-2"):
            keys.append((found[1]["metadata"].get(name, ["", ""])[0], True))
    return [(key, scoped) for key, scoped in keys if key]
