"""Who may do what to an account, container or object.

The owner is a token scoped to the account's project (``AUTH_<project_id>``) with a
member or admin role, or any cloud admin (Swift keystoneauth's operator and reseller
admin roles); a ``reader`` in the project may only read.  Everyone else needs a
container ACL grant, a public-read ACL, or a valid TempURL signature.  Requests
without a token that are refused get 401, callers with a token 403 -- as in Swift.
"""

from __future__ import annotations

from pocketstack.common.api.app import ApiRequest
from pocketstack.common.api.errors import Forbidden, Unauthorized
from pocketstack.object.api import acl, tempurl
from pocketstack.object.store import ObjectStore

WRITE_ROLES = {"admin", "member", "swiftoperator"}
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
    ctx = req.context
    if ctx is None:
        return False
    if ctx.is_admin:
        return True
    if ctx.project_id is None or project_of(account) != ctx.project_id:
        return False
    return not write or bool(WRITE_ROLES & set(ctx.roles))


def owner_view(req: ApiRequest, account: str, headers: dict[str, str]) -> dict[str, str]:
    """``headers`` of the account or one of its containers as the caller may see them:
    whole for Swift's ``swift_owner`` (who may write the account), else without
    :data:`OWNER_HEADERS` -- a TempURL key seen is a TempURL key usable."""
    if is_owner(req, account, write=True):
        return headers
    return {name: value for name, value in headers.items() if name.lower() not in OWNER_HEADERS}


def _refuse(req: ApiRequest):
    if req.context is None:
        raise Unauthorized("Unauthorized. This server could not verify that you are authorized to access "
                           "the document you requested.")
    raise Forbidden("Forbidden. Access was denied to this resource.")


def authorize_account(req: ApiRequest, account: str, write: bool = False) -> None:
    if not is_owner(req, account, write):
        _refuse(req)


def authorize(req: ApiRequest, store: ObjectStore, account: str, container: str, obj: str | None = None,
              *, write: bool = False) -> None:
    """Owner, TempURL (objects), then the container's ACLs; blocking (reads databases)."""
    if obj is not None and "temp_url_sig" in req.query and req.method in tempurl.METHODS:
        keys = _tempurl_keys(store, account, container)
        prefix = req.attributes["service_path"]
        roots = [f"/v1/{account}/{container}/", f"{prefix}/v1/{account}/{container}/"]
        tempurl.verify(req.method, req.query, roots, obj, keys)
        req.attributes["tempurl"] = True
        return
    if is_owner(req, account, write):
        return
    found = store.container(account, container)
    if found is not None:
        meta = found[1]["metadata"]
        if write:
            items = acl.parse(meta.get("X-Container-Write", ["", ""])[0])
            if acl.grants(items, req.context):
                return
        else:
            items = acl.parse(meta.get("X-Container-Read", ["", ""])[0])
            public = acl.allows_public_read(items) if obj is not None else acl.allows_public_listing(items)
            if public or acl.grants(items, req.context):
                return
    _refuse(req)


def _tempurl_keys(store: ObjectStore, account: str, container: str) -> list[str]:
    keys = []
    _broker, info = store.account(account)
    for name in ("X-Account-Meta-Temp-Url-Key", "X-Account-Meta-Temp-Url-Key-2"):
        keys.append(info["metadata"].get(name, ["", ""])[0])
    found = store.container(account, container)
    if found is not None:
        for name in ("X-Container-Meta-Temp-Url-Key", "X-Container-Meta-Temp-Url-Key-2"):
            keys.append(found[1]["metadata"].get(name, ["", ""])[0])
    return [k for k in keys if k]
