"""``/v1/AUTH_<project>/<container>``: create, stat, metadata, ACLs, listing, delete."""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from pocketstack.common.api.request import ApiRequest
from pocketstack.common.api.routes import route
from pocketstack.object import errors, timestamps
from pocketstack.object.api import (
    access,
    acl,
    containersync,
    extract,
    formpost,
    listing,
    metadata,
    names,
    quotas,
    staticweb,
    versioning,
)
from pocketstack.object.api.formpost import ObjectPages
from pocketstack.object.api.objects import ObjectsApi
from pocketstack.object.brokers import ContainerBroker
from pocketstack.object.remotedb import RemoteBroker
from pocketstack.object.store import ObjectStore
from pocketstack.object.syncrealms import SyncConfig

CONTAINER = "/v1/{account}/{container}"
# Container headers kept besides X-Container-Meta-*: ACLs, versioning, sync.
EXTRA = ("x-container-read", "x-container-write", "x-versions-location", "x-history-location",
         "x-container-sync-to", "x-container-sync-key")


# The container's own bookkeeping (the syncer's sync point), never shown.
SYSMETA = "x-container-sysmeta-"


def container_headers(info: dict) -> dict[str, str]:
    return {
        "X-Container-Object-Count": str(info["object_count"]),
        "X-Container-Bytes-Used": str(info["bytes_used"]),
        "X-Timestamp": info["created_at"],
        "X-Put-Timestamp": info["put_timestamp"],
        "Last-Modified": timestamps.http_date(info["put_timestamp"]),
        "X-Storage-Policy": "Policy-0",
        "Accept-Ranges": "bytes",
        **{k: v for k, v in metadata.render(info["metadata"]).items() if not k.lower().startswith(SYSMETA)},
    }


def container_updates(headers, sync: SyncConfig | None = None) -> dict[str, str]:
    """What a container PUT or POST sets: metadata, ACLs (400 unless Swift can read them),
    versioning (setting one mode clears the other) and sync (400 for a target ``sync``
    does not allow)."""
    quotas.check_container_headers(headers)
    updates = metadata.collect(headers, "container", EXTRA)
    containersync.check_updates(updates, sync or SyncConfig.none())
    for name in ("X-Container-Read", "X-Container-Write"):
        if updates.get(name):
            acl.parse(updates[name])
    versioning.normalize_container_updates(updates)
    return updates


def _named(req: ApiRequest) -> tuple[str, str]:
    account, container = req.path_params["account"], req.path_params["container"]
    names.check(account, container)
    return account, container


class ContainersApi:
    """The account's owner writes containers; reading one is also open to its ACLs'
    grantees (``access.authorize``)."""

    def __init__(self, store: ObjectStore, objects: ObjectPages | None = None, sync: SyncConfig | None = None):
        self.store = store
        self.sync = sync or SyncConfig.none()
        # Its form uploads and web pages are served by the objects' API.
        self.objects: ObjectPages = objects or ObjectsApi(store)

    def _existing(self, account: str, container: str) -> tuple[ContainerBroker | RemoteBroker, dict]:
        found = self.store.container(account, container)
        if found is None:
            raise errors.ResourceNotFound()
        return found

    def _stat(self, req: ApiRequest) -> tuple[str, ContainerBroker | RemoteBroker, dict]:
        account, container = _named(req)
        access.authorize(req, self.store, account, container)
        broker, info = self._existing(account, container)
        return account, broker, info

    @route.put(CONTAINER, public=True, stream=True)
    async def create(self, req: ApiRequest) -> Response:
        """201 for a new container, 202 for an existing one (its metadata updated);
        ``?extract-archive`` unpacks the body's archive into it."""
        account, container = _named(req)
        await run_in_threadpool(access.authorize_account, req, account, True)
        if "extract-archive" in req.query:
            return await extract.extract(req, self.store, account, container)
        created = await run_in_threadpool(self.store.put_container, account, container,
                                          container_updates(req.headers, self.sync), timestamps.now())
        return Response(status_code=201 if created else 202, media_type="text/html; charset=UTF-8")

    @route.post(CONTAINER, public=True, stream=True)
    async def post(self, req: ApiRequest) -> Response:
        """A form upload into the container (``formpost``), else a metadata update."""
        if formpost.is_form(req):
            return await self.objects.form(req, req.path_params["account"], req.path_params["container"], None)
        return await run_in_threadpool(self.update, req)

    def update(self, req: ApiRequest) -> Response:
        account, container = _named(req)
        access.authorize_account(req, account, write=True)
        updates = container_updates(req.headers, self.sync)
        self._existing(account, container)
        self.store.post_container(account, container, updates, timestamps.now())
        return Response(status_code=204)

    def _site(self, req: ApiRequest) -> Response | None:
        """A web request's page of the container as a site (``staticweb``); None if it is none."""
        if not staticweb.applies(req):
            return None
        account, container = _named(req)
        return staticweb.Site(req, self.store, self.objects.serve, account, container).container_page(slash=False)

    @route.head(CONTAINER, public=True)
    def head(self, req: ApiRequest) -> Response:
        page = self._site(req)
        if page is not None:
            return page
        account, _broker, info = self._stat(req)
        return Response(status_code=204, headers=access.owner_view(req, account, container_headers(info)),
                        media_type="text/plain; charset=utf-8")

    @route.get(CONTAINER, public=True)
    def list_objects(self, req: ApiRequest) -> Response:
        page = self._site(req)
        if page is not None:
            return page
        fmt = listing.negotiate(req.query, req.headers)
        query = listing.params(req.query)
        account, broker, info = self._stat(req)
        return listing.render("container", req.path_params["container"], broker.list(**query), fmt,
                              access.owner_view(req, account, container_headers(info)), account)

    @route.delete(CONTAINER, public=True)
    def delete(self, req: ApiRequest) -> Response:
        """Only an empty container (409 otherwise)."""
        account, container = _named(req)
        access.authorize_account(req, account, write=True)
        self._existing(account, container)
        self.store.delete_container(account, container, timestamps.now())
        return Response(status_code=204)
