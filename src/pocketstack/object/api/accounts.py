"""``/v1/AUTH_<project>``: account stats, metadata, container listing, bulk delete and upload."""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from pocketstack.common.api.request import ApiRequest
from pocketstack.common.api.routes import route
from pocketstack.object import errors, timestamps
from pocketstack.object.api import access, bulk, extract, listing, metadata, names, quotas
from pocketstack.object.brokers import AccountBroker
from pocketstack.object.remotedb import RemoteBroker
from pocketstack.object.store import ObjectStore

# Swift serves an account with and without a trailing slash.
ACCOUNT = "/v1/{account}"
ACCOUNT_SLASH = ACCOUNT + "/"


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
        **quotas.account_view(metadata.render(info["metadata"])),
    }


def _named(req: ApiRequest) -> str:
    account = req.path_params["account"]
    names.check(account)
    return account


class AccountsApi:
    """The account's owner reads and writes it (``access.authorize_account``); a missing
    account reads as an empty one, as Swift's ``account_autocreate`` has it."""

    def __init__(self, store: ObjectStore):
        self.store = store

    def _stat(self, req: ApiRequest) -> tuple[str, AccountBroker | RemoteBroker | None, dict]:
        account = _named(req)
        access.authorize_account(req, account)
        broker, info = self.store.account(account)
        return account, broker, info

    @route.head(ACCOUNT, public=True)
    @route.head(ACCOUNT_SLASH, public=True)
    def head(self, req: ApiRequest) -> Response:
        account, _broker, info = self._stat(req)
        return Response(status_code=204, headers=access.owner_view(req, account, account_headers(info)),
                        media_type="text/plain; charset=utf-8")

    @route.get(ACCOUNT, public=True)
    @route.get(ACCOUNT_SLASH, public=True)
    def list_containers(self, req: ApiRequest) -> Response:
        fmt = listing.negotiate(req.query, req.headers)
        query = listing.params(req.query)
        account, broker, info = self._stat(req)
        rows = broker.list(**query) if broker else []
        return listing.render("account", account, rows, fmt, access.owner_view(req, account, account_headers(info)))

    @route.post(ACCOUNT, public=True)
    @route.post(ACCOUNT_SLASH, public=True)
    def update(self, req: ApiRequest) -> Response:
        """Set metadata; ``?bulk-delete`` deletes the objects and containers the body lists."""
        account = _named(req)
        # Swift's account_quotas judges quota headers before the proxy authorizes.
        quota_updates = quotas.account_updates(req)
        access.authorize_account(req, account, write=True)
        if "bulk-delete" in req.query:
            return bulk.delete(req, self.store, account)
        updates = {**metadata.collect(req.headers, "account", ()), **quota_updates}
        self.store.post_account(account, updates, timestamps.now())
        return Response(status_code=204)

    @route.delete(ACCOUNT, public=True)
    @route.delete(ACCOUNT_SLASH, public=True)
    def bulk_delete(self, req: ApiRequest) -> Response:
        """Only ``?bulk-delete``: an account itself is never deleted through the API."""
        account = req.path_params["account"]
        access.authorize_account(req, account, write=True)
        if "bulk-delete" in req.query:
            return bulk.delete(req, self.store, account)
        raise errors.NotAllowedOnAccount()

    @route.put(ACCOUNT, public=True, stream=True)
    @route.put(ACCOUNT_SLASH, public=True, stream=True)
    async def extract_archive(self, req: ApiRequest) -> Response:
        """Only ``?extract-archive``: the archive's files become objects of the account."""
        if "extract-archive" not in req.query:
            raise errors.NotAllowedOnAccount()
        account = _named(req)
        await run_in_threadpool(access.authorize_account, req, account, True)
        return await extract.extract(req, self.store, account)
