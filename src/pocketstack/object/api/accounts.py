"""``/v1/AUTH_<project>``: account stats, metadata, container listing, bulk delete and upload."""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from pocketstack.common.api.request import ApiRequest
from pocketstack.common.api.routes import Router
from pocketstack.common.errors import MethodNotAllowed
from pocketstack.object import timestamps
from pocketstack.object.api import access, bulk, extract, listing, metadata, names
from pocketstack.object.store import ObjectStore

ACCOUNT = "/v1/{account}"


def account_headers(info: dict) -> dict[str, str]:
    created = info["created_at"] or timestamps.now()
    return {
        "X-Account-Container-Count": str(info["container_count"]),
        "X-Account-Object-Count": str(info["object_count"]),
        "X-Account-Bytes-Used": str(info["bytes_used"]),
        "X-Account-Storage-Policy-Policy-0-Container-Count": str(info["container_count"]),
        "X-Account-Storage-Policy-Policy-0-Object-Count": str(info["object_count"]),
        "X-Account-Storage-Policy-Policy-0-Bytes-Used": str(info["bytes_used"]),
        "X-Timestamp": created,
        "X-Put-Timestamp": created,
        "Last-Modified": timestamps.http_date(created),
        "Accept-Ranges": "bytes",
        **metadata.render(info["metadata"]),
    }


def register(router: Router, store: ObjectStore) -> None:
    def stat(req: ApiRequest):
        account = req.path_params["account"]
        names.check(account)
        access.authorize_account(req, account)
        broker, info = store.account(account)
        return account, broker, info

    @router.head(ACCOUNT, public=True)
    @router.head(ACCOUNT + "/", public=True)
    def head_account(req: ApiRequest):
        account, _broker, info = stat(req)
        return Response(status_code=204, headers=access.owner_view(req, account, account_headers(info)),
                        media_type="text/plain; charset=utf-8")

    @router.get(ACCOUNT, public=True)
    @router.get(ACCOUNT + "/", public=True)
    def get_account(req: ApiRequest):
        fmt = listing.negotiate(req.query, req.headers)
        query = listing.params(req.query)
        account, broker, info = stat(req)
        rows = broker.list(**query) if broker else []
        return listing.render("account", account, rows, fmt, access.owner_view(req, account, account_headers(info)))

    @router.post(ACCOUNT, public=True)
    @router.post(ACCOUNT + "/", public=True)
    def post_account(req: ApiRequest):
        account = req.path_params["account"]
        names.check(account)
        access.authorize_account(req, account, write=True)
        if "bulk-delete" in req.query:
            return bulk.delete(req, store, account)
        updates = metadata.collect(req.headers, "account", ())
        store.post_account(account, updates, timestamps.now())
        return Response(status_code=204)

    @router.delete(ACCOUNT, public=True)
    @router.delete(ACCOUNT + "/", public=True)
    def delete_account(req: ApiRequest):
        account = req.path_params["account"]
        access.authorize_account(req, account, write=True)
        if "bulk-delete" in req.query:
            return bulk.delete(req, store, account)
        raise MethodNotAllowed("Method Not Allowed")

    @router.put(ACCOUNT, public=True, stream=True)
    @router.put(ACCOUNT + "/", public=True, stream=True)
    async def put_account(req: ApiRequest):
        if "extract-archive" not in req.query:
            raise MethodNotAllowed("Method Not Allowed")
        account = req.path_params["account"]
        names.check(account)
        await run_in_threadpool(access.authorize_account, req, account, True)
        return await extract.extract(req, store, account)
