"""``/v1/AUTH_<project>/<container>``: create, stat, metadata, ACLs, listing, delete."""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from pocketstack.common.api.request import ApiRequest
from pocketstack.common.api.routes import Router
from pocketstack.common.errors import NotFound
from pocketstack.object import timestamps
from pocketstack.object.api import access, acl, extract, listing, metadata, names, versioning
from pocketstack.object.store import ObjectStore

CONTAINER = "/v1/{account}/{container}"
EXTRA = ("x-container-read", "x-container-write", "x-versions-location", "x-history-location",
         "x-container-sync-to", "x-container-sync-key")
NOT_FOUND = "The resource could not be found."


def container_headers(info: dict) -> dict[str, str]:
    return {
        "X-Container-Object-Count": str(info["object_count"]),
        "X-Container-Bytes-Used": str(info["bytes_used"]),
        "X-Timestamp": info["created_at"],
        "X-Put-Timestamp": info["put_timestamp"],
        "Last-Modified": timestamps.http_date(info["put_timestamp"]),
        "X-Storage-Policy": "Policy-0",
        "Accept-Ranges": "bytes",
        **metadata.render(info["metadata"]),
    }


def _updates(req: ApiRequest) -> dict[str, str]:
    updates = metadata.collect(req.headers, "container", EXTRA)
    for name in ("X-Container-Read", "X-Container-Write"):
        if updates.get(name):
            acl.parse(updates[name])
    versioning.normalize_container_updates(updates)
    return updates


def register(router: Router, store: ObjectStore) -> None:
    def target(req: ApiRequest) -> tuple[str, str]:
        account, container = req.path_params["account"], req.path_params["container"]
        names.check(account, container)
        return account, container

    def existing(account: str, container: str) -> dict:
        found = store.container(account, container)
        if found is None:
            raise NotFound(NOT_FOUND)
        return found

    @router.put(CONTAINER, public=True, stream=True)
    async def put_container(req: ApiRequest):
        account, container = target(req)
        await run_in_threadpool(access.authorize_account, req, account, True)
        if "extract-archive" in req.query:
            return await extract.extract(req, store, account, container)
        created = await run_in_threadpool(store.put_container, account, container, _updates(req), timestamps.now())
        return Response(status_code=201 if created else 202, media_type="text/html; charset=UTF-8")

    @router.post(CONTAINER, public=True)
    def post_container(req: ApiRequest):
        account, container = target(req)
        access.authorize_account(req, account, write=True)
        updates = _updates(req)
        existing(account, container)
        store.post_container(account, container, updates, timestamps.now())
        return Response(status_code=204)

    def stat(req: ApiRequest) -> tuple[str, str, object, dict]:
        account, container = target(req)
        access.authorize(req, store, account, container)
        broker, info = existing(account, container)
        return account, container, broker, info

    @router.head(CONTAINER, public=True)
    def head_container(req: ApiRequest):
        account, _container, _broker, info = stat(req)
        return Response(status_code=204, headers=access.owner_view(req, account, container_headers(info)),
                        media_type="text/plain; charset=utf-8")

    @router.get(CONTAINER, public=True)
    def get_container(req: ApiRequest):
        fmt = listing.negotiate(req.query, req.headers)
        query = listing.params(req.query)
        account, container, broker, info = stat(req)
        return listing.render("container", container, broker.list(**query), fmt,
                              access.owner_view(req, account, container_headers(info)))

    @router.delete(CONTAINER, public=True)
    def delete_container(req: ApiRequest):
        account, container = target(req)
        access.authorize_account(req, account, write=True)
        existing(account, container)
        store.delete_container(account, container, timestamps.now())
        return Response(status_code=204)
