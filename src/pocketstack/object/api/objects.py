"""``/v1/AUTH_<project>/<container>/<object>``: upload, download, metadata, copy, delete."""

from __future__ import annotations

import json
import math
import mimetypes
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from urllib.parse import quote, unquote

from starlette.concurrency import iterate_in_threadpool, run_in_threadpool
from starlette.responses import Response

from pocketstack.common.api.request import ApiRequest
from pocketstack.common.api.routes import route
from pocketstack.common.errors import ApiError
from pocketstack.object import errors, expirer, timestamps
from pocketstack.object.api import (
    access,
    body,
    bulk,
    conditions,
    containersync,
    extract,
    formpost,
    large,
    metadata,
    names,
    quotas,
    staticweb,
    symlinks,
    tempurl,
    versioning,
)
from pocketstack.object.diskfile import ObjectState
from pocketstack.object.store import ObjectStore
from pocketstack.object.syncrealms import SyncConfig

OBJECT = "/v1/{account}/{container}/{obj:path}"
MAX_OBJECT_SIZE = 5 * 1024 ** 3
MAX_DELETE_AT = 9999999999  # Swift's X-Delete-At has ten digits at most
# Object headers kept with the data besides X-Object-Meta-*.
EXTRA = ("content-disposition", "content-encoding", "x-object-manifest")
# Metadata of a Static Large Object's manifest that a POST keeps.
SLO_KEYS = ("X-Static-Large-Object", "X-Slo-Etag", "X-Slo-Size")


# -- reading a request's headers --------------------------------------------------------------
def delete_at(headers: Mapping[str, str], now: float | None = None) -> str | None:
    """``X-Delete-At`` from X-Delete-At or X-Delete-After (400 when invalid or past),
    kept within ten digits as Swift keeps it (a later time is its last one)."""
    now = time.time() if now is None else now
    if "x-delete-after" in headers:
        after = _integer(headers["x-delete-after"], "X-Delete-After")
        if after <= 0:
            raise errors.DeleteAfterInPast()
        return str(min(int(now) + after, MAX_DELETE_AT))
    if "x-delete-at" in headers:
        at = min(_integer(headers["x-delete-at"], "X-Delete-At"), MAX_DELETE_AT)
        if at <= now:
            raise errors.DeleteAtInPast()
        return str(at)
    return None


def _integer(value: str, header: str) -> int:
    try:
        return int(value)
    except ValueError:
        raise errors.NonIntegerHeader(header=header) from None


def check_content_type(headers: Mapping[str, str]) -> None:
    """An object's Content-Type must be UTF-8 (Swift checks it on creation only)."""
    content_type = headers.get("content-type")
    if content_type and not metadata.is_utf8(content_type):
        raise errors.InvalidContentType()


def user_metadata(headers: Mapping[str, str], obj: str, current: dict | None = None) -> dict[str, str]:
    """What a PUT or POST sets: user metadata, type, disposition, encoding, manifest, expiry."""
    # An empty X-Object-Meta-* value is metadata too (kept, as Swift does); an empty
    # Content-Disposition and friends means "none".
    updates = {k: v for k, v in metadata.collect(headers, "object", EXTRA).items()
               if v != "" or k.lower().startswith("x-object-meta-")}
    content_type = headers.get("content-type")
    if not content_type or headers.get("x-detect-content-type", "").lower() == "true":
        content_type = (current or {}).get("Content-Type") or mimetypes.guess_type(obj)[0] \
            or "application/octet-stream"
    updates["Content-Type"] = content_type
    expiry = delete_at(headers)
    if expiry:
        updates["X-Delete-At"] = expiry
    if "X-Object-Manifest" in updates and "/" not in unquote(updates["X-Object-Manifest"]).lstrip("/"):
        raise errors.InvalidManifestHeader()
    return updates


def object_path(value: str) -> tuple[str, str] | None:
    """``(container, object)`` of a ``[/]<container>/<object>`` header (URL-encoded);
    None when either part is missing."""
    container, _, obj = unquote(value).lstrip("/").partition("/")
    return (container, obj) if container and obj else None


def declared_length(headers: Mapping[str, str]) -> int | None:
    """The upload's Content-Length; None for a chunked one (411 when neither)."""
    length = headers.get("content-length")
    if length is None:
        if headers.get("transfer-encoding", "").lower() != "chunked":
            raise errors.LengthRequired()
        return None
    if not length.isdigit():
        raise errors.InvalidContentLength()
    if int(length) > MAX_OBJECT_SIZE:
        raise errors.ObjectTooLarge()
    return int(length)


@dataclass(frozen=True)
class _Admitted:
    """What the checks before a PUT found: an ``X-Copy-From`` source (then nothing else),
    or the metadata to store, the container's info, a container syncer's timestamp, the
    check of the body once it has arrived and, for a symlink, what its listing shows."""

    source: tuple[str, str] | None = None
    updates: dict[str, str] = field(default_factory=dict)
    container_info: dict = field(default_factory=dict)
    synced_at: str | None = None
    check: Callable[[str, int], None] | None = None
    listed: tuple[int, str] | None = None


@dataclass(frozen=True)
class Expected:
    """What the client said of an upload's body, checked once it has all arrived."""

    length: int | None
    etag: str | None

    @classmethod
    def of(cls, headers: Mapping[str, str]) -> Expected:
        return cls(declared_length(headers), headers.get("etag", "").strip('"').lower() or None)

    def check(self, etag: str, size: int) -> None:
        if self.length is not None and size != self.length:
            raise errors.IncompleteBody()
        if size > MAX_OBJECT_SIZE:
            raise errors.ObjectTooLarge()
        if self.etag and self.etag != etag:
            raise errors.EtagMismatch()


def multipart_manifest(req: ApiRequest) -> str | None:
    """``?multipart-manifest=``; never for a TempURL, which (as in Swift) passes on only
    its own query parameters: its PUT stores a plain object, its GET the object's body."""
    return None if req.attributes.get("tempurl") else req.query.get("multipart-manifest")


# -- answers ----------------------------------------------------------------------------------
def object_headers(state: ObjectState, etag: str) -> dict[str, str]:
    meta = state.metadata
    headers = {name: value for name, value in meta.items()
               if name.lower().startswith("x-object-meta-") or name.lower() in EXTRA}
    headers.update({"Etag": etag, "Last-Modified": timestamps.http_date(state.timestamp),
                    "X-Timestamp": state.timestamp, "Accept-Ranges": "bytes"})
    if "X-Delete-At" in meta:
        headers["X-Delete-At"] = meta["X-Delete-At"]
    if large.is_slo(meta):
        headers["X-Static-Large-Object"] = "True"
    headers.update(symlinks.client_headers(meta))
    return headers


def created(etag: str, timestamp: str) -> Response:
    return Response(status_code=201, media_type="text/html; charset=UTF-8",
                    headers={"Etag": etag, "Last-Modified": timestamps.http_date(timestamp), "X-Timestamp": timestamp})


def copied(response: Response, updates: dict[str, str], source: tuple[str, str, str], state: ObjectState) -> Response:
    """Swift answers a copy with the new object's metadata and where it came from."""
    account, container, obj = source
    for name, value in updates.items():
        if name.lower().startswith("x-object-meta-") or name == "X-Delete-At":
            response.headers[name] = value
    response.headers["X-Copied-From"] = quote(f"{container}/{obj}")
    response.headers["X-Copied-From-Account"] = quote(account)
    response.headers["X-Copied-From-Last-Modified"] = timestamps.http_date(state.timestamp)
    return response


def _named(req: ApiRequest) -> tuple[str, str, str]:
    account, container, obj = (req.path_params[k] for k in ("account", "container", "obj"))
    names.check(account, container, obj)
    if not obj:
        raise errors.ResourceNotFound()
    return account, container, obj


class ObjectsApi:
    """Objects, plain and large, as their container's ACLs, the account's ownership or
    a TempURL allow (``access.authorize``); an overwritten or deleted object of a
    versioned container is archived first (``versioning``)."""

    def __init__(self, store: ObjectStore, sync: SyncConfig | None = None):
        self.store = store
        self.sync = sync or SyncConfig.none()

    def _load(self, account: str, container: str, obj: str) -> ObjectState:
        state = self.store.object_state(account, container, obj)
        if not versioning.live(state):
            raise errors.ResourceNotFound()
        return state

    def _container_info(self, account: str, container: str) -> dict:
        found = self.store.container(account, container)
        if found is None:
            raise errors.ResourceNotFound()
        return found[1]

    def _check_quotas(self, req: ApiRequest, account: str, container_info: dict, length: int) -> None:
        """413 when ``length`` more bytes (one more object) would break a container or account quota."""
        quotas.check_container(container_info, length)
        _broker, account_info = self.store.account(account)
        quotas.check_account(req, account_info, length)

    # -- reading ------------------------------------------------------------------------------
    @route.get(OBJECT, public=True)
    @route.head(OBJECT, public=True)
    def get(self, req: ApiRequest) -> Response:
        """The object; for a web request (``staticweb``), the site's page at this path."""
        if not staticweb.applies(req):
            return self.serve(req, *_named(req))
        account, container, obj = (req.path_params[k] for k in ("account", "container", "obj"))
        names.check(account, container)
        site = staticweb.Site(req, self.store, self.serve, account, container)
        if not obj:  # the container's path with a slash
            return site.container_page(slash=True) or self.serve(req, *_named(req))
        try:
            found = self.serve(req, account, container, obj)
        except ApiError as error:
            return site.object_page(obj, error, None)
        return site.object_page(obj, None, found)

    def serve(self, req: ApiRequest, account: str, container: str, obj: str) -> Response:
        """GET or HEAD ``obj`` as ``req``'s caller may (blocking)."""
        names.check(account, container, obj)
        access.authorize(req, self.store, account, container, obj)
        state = self._load(account, container, obj)
        location = None
        if req.query.get("symlink") != "get":
            (account, _container, _obj), state, location = symlinks.follow(
                (account, container, obj), state, self._load,
                lambda *target: access.authorize(req, self.store, *target))
        if multipart_manifest(req) == "get" and large.is_slo(state.metadata):
            manifest = json.dumps(large.read_manifest(state)).encode()
            headers = object_headers(state, state.metadata["ETag"])
            return Response(manifest if req.method == "GET" else b"", headers=headers,
                            media_type="application/json; charset=utf-8")
        pieces, etag = large.pieces(self.store, account, state, access.SegmentAccess(req, self.store, account))
        headers = object_headers(state, etag)
        if location is not None:
            headers["Content-Location"] = location
        grant = req.attributes.get("tempurl")
        if grant is not None:
            headers = tempurl.outgoing(headers)
        conditions.check(req.headers, etag.strip('"'), math.ceil(float(state.timestamp)), req.method, headers)
        if grant is not None:
            headers.update(tempurl.download_headers(req.query, obj, headers, grant))
        return body.respond(req.method, req.headers.get("range"), pieces, headers,
                            state.metadata.get("Content-Type", "application/octet-stream"))

    # -- writing ------------------------------------------------------------------------------
    @route.put(OBJECT, public=True, stream=True)
    async def put(self, req: ApiRequest) -> Response:
        """Upload the body (``?multipart-manifest=put``: an SLO manifest), copy
        ``X-Copy-From``, or unpack ``?extract-archive`` below the object's path."""
        account, container, obj = _named(req)
        if "extract-archive" in req.query:
            await run_in_threadpool(access.authorize_account, req, account, True)
            return await extract.extract(req, self.store, account, f"{container}/{obj}")
        admitted = await run_in_threadpool(self._admit_put, req, account, container, obj)
        if admitted.source is not None:
            return await self._copy(req, (account, *admitted.source), (account, container, obj))
        updates, container_info = admitted.updates, admitted.container_info
        if multipart_manifest(req) == "put" and admitted.listed is None:
            return await self._put_manifest(req, (account, container, obj), updates, container_info)
        await self._archive(req, account, container, obj, container_info)
        timestamp = admitted.synced_at or timestamps.now()
        etag, _size = await self.store.put_object(account, container, obj, req.raw.stream(), updates, timestamp,
                                                  admitted.check, admitted.listed)
        if updates.get("X-Delete-At"):  # otherwise there is nothing to queue: no thread trip
            await run_in_threadpool(expirer.enqueue, self.store, account, container, obj, updates)
        return created(etag, timestamp)

    def _admit_put(self, req: ApiRequest, account: str, container: str, obj: str) -> _Admitted:
        """Every check before an upload, in one thread trip (blocking), in this order:
        the caller may write (a container syncer at its own timestamp), the Content-Type
        is valid, then either the ``X-Copy-From`` source (nothing else) or the metadata to
        store (a symlink's, checked), the container's info once it exists, the quotas
        allow the upload and ``If-None-Match`` holds."""
        synced_at = self._authorize_write(req, account, container, obj)
        check_content_type(req.headers)
        if "x-copy-from" in req.headers:
            source = object_path(req.headers["x-copy-from"])
            if source is None:
                raise errors.InvalidCopyFrom()
            return _Admitted(source=source)
        check: Callable[[str, int], None] = Expected.of(req.headers).check
        listed = None
        if symlinks.requested(req.headers):
            updates = self._link(req, (account, container, obj))
            check, listed = symlinks.empty_body, (0, symlinks.listed_etag(updates, symlinks.EMPTY_ETAG))
        else:
            updates = user_metadata(req.headers, obj)
        container_info = self._container_info(account, container)
        length = req.headers.get("content-length", "")
        self._check_quotas(req, account, container_info, int(length) if length.isdigit() else 0)
        self._check_if_none_match(req, account, container, obj)
        return _Admitted(None, updates, container_info, synced_at, check, listed)

    def _authorize_write(self, req: ApiRequest, account: str, container: str, obj: str) -> str | None:
        """Let a PUT or DELETE in (blocking): a container syncer's that proves the
        container's sync key, at the timestamp it carries (returned; 409 when the object
        is newer already), else as ``access.authorize`` says."""
        if containersync.is_sync_request(req.headers):
            found = self.store.container(account, container)
            path = containersync.object_path(account, container, obj)
            if containersync.authorized(req, found[1] if found else None, self.sync, path):
                stamp = containersync.request_timestamp(req.headers)
                if self.store.object_state(account, container, obj).timestamp >= stamp:
                    raise errors.SyncedOlder()
                req.attributes["container_sync"] = True
                return stamp
        access.authorize(req, self.store, account, container, obj, write=True)
        return None

    def _link(self, req: ApiRequest, here: tuple[str, str, str]) -> dict[str, str]:
        """A symlink PUT's metadata (blocking): its target, checked now for a static link,
        whose type it takes unless the request gives one.  A container syncer's copy of a
        static link is taken as it comes (Swift's symlink_override): its target was
        checked where the link was made."""
        symlinks.check_empty(req.headers)
        link = symlinks.parse(req.headers, here)
        size = None
        default = symlinks.CONTENT_TYPE
        if link.etag and req.attributes.get("container_sync"):
            size = req.headers.get("x-symlink-target-bytes", "0")
        elif link.etag:
            access.authorize(req, self.store, link.account, link.container, link.obj)
            state = self.store.object_state(link.account, link.container, link.obj)
            symlinks.check_static(link, state if versioning.live(state) else None)
            default = state.metadata.get("Content-Type", default)
            size = str(symlinks.size_of(state))
        updates = user_metadata(req.headers, here[2], {"Content-Type": default})
        if "content-type" not in req.headers:
            updates["Content-Type"] = default
        return {**updates, **symlinks.sysmeta(link, here[0], size)}

    async def _archive(self, req: ApiRequest, account: str, container: str, obj: str, container_info: dict) -> None:
        """Keep the object being overwritten when its container is versioned."""
        versions = versioning.location(container_info)
        if versions is not None:
            await versioning.archive_current(req, self.store, account, container, obj, versions[0])

    def _check_if_none_match(self, req: ApiRequest, account: str, container: str, obj: str) -> None:
        value = req.headers.get("if-none-match")
        if value is None:
            return
        if value.strip() != "*":
            raise errors.IfNoneMatchNotStar()
        if versioning.live(self.store.object_state(account, container, obj)):
            raise errors.PreconditionFailed()

    async def _put_manifest(self, req: ApiRequest, target: tuple[str, str, str], updates: dict[str, str],
                            container_info: dict) -> Response:
        account, container, obj = target
        raw = b""
        async for chunk in req.raw.stream():
            raw += chunk
            if len(raw) > large.MAX_MANIFEST:
                raise errors.ManifestTooLarge(limit=large.MAX_MANIFEST)
        manifest, size, slo_etag = await run_in_threadpool(large.build_manifest, self.store, account, raw,
                                                           access.SegmentAccess(req, self.store, account))
        expected = req.headers.get("etag", "").strip('"').lower()
        if expected and expected != slo_etag:
            raise errors.EtagMismatch()
        updates = {**updates, "X-Static-Large-Object": "True", "X-Slo-Etag": slo_etag, "X-Slo-Size": str(size)}
        updates.pop("X-Object-Manifest", None)
        await self._archive(req, account, container, obj, container_info)
        timestamp = timestamps.now()
        await self.store.put_object(account, container, obj, body.once(manifest), updates, timestamp,
                                    listing=(size, slo_etag))
        await run_in_threadpool(expirer.enqueue, self.store, account, container, obj, updates)
        return created(f'"{slo_etag}"', timestamp)

    async def _copy(self, req: ApiRequest, source: tuple[str, str, str],
                    destination: tuple[str, str, str]) -> Response:
        """Write ``source``'s whole body (a large object's segments joined) as ``destination``,
        with its metadata unless ``X-Fresh-Metadata``, updated by the request's."""
        names.check(*source)
        names.check(*destination)
        await run_in_threadpool(access.authorize, req, self.store, *source)
        state = await run_in_threadpool(self._load, *source)
        as_link = req.query.get("symlink") == "get" and symlinks.is_link(state.metadata)
        if not as_link:
            source, state, _location = await run_in_threadpool(
                symlinks.follow, source, state, self._load,
                lambda *target: access.authorize(req, self.store, *target))
        src_account = source[0]
        container_info = await run_in_threadpool(self._container_info, *destination[:2])
        pieces, _etag = await run_in_threadpool(large.pieces, self.store, src_account, state,
                                                access.SegmentAccess(req, self.store, src_account))
        await run_in_threadpool(self._check_quotas, req, destination[0], container_info, body.total(pieces))
        await self._archive(req, *destination, container_info)
        fresh = req.headers.get("x-fresh-metadata", "").lower() in ("true", "1", "yes")
        inherited = {} if fresh else {k: v for k, v in state.metadata.items()
                                      if k.lower().startswith("x-object-meta-") or k.lower() in EXTRA}
        current = {"Content-Type": state.metadata.get("Content-Type")}
        updates = {**inherited, **user_metadata(req.headers, destination[2], current)}
        listed = None
        if as_link:  # ?symlink=get: the copy is the same link
            updates.update({k: state.metadata[k] for k in symlinks.SYSMETA if k in state.metadata})
            listed = (0, symlinks.listed_etag(updates, symlinks.EMPTY_ETAG))
        timestamp = timestamps.now()
        etag, _size = await self.store.put_object(*destination, iterate_in_threadpool(body.stream(pieces)), updates,
                                                  timestamp, listing=listed)
        await run_in_threadpool(expirer.enqueue, self.store, *destination, updates)
        return copied(created(etag, timestamp), updates, source, state)

    @route("COPY", OBJECT, public=True, stream=True)
    async def copy(self, req: ApiRequest) -> Response:
        """Swift's COPY verb: this object to ``Destination`` (in ``Destination-Account``)."""
        account, container, obj = _named(req)
        destination = object_path(req.headers.get("destination", ""))
        if destination is None:
            raise errors.InvalidDestination()
        dst_account = req.headers.get("destination-account", account)
        await run_in_threadpool(access.authorize, req, self.store, dst_account, *destination, write=True)
        check_content_type(req.headers)
        return await self._copy(req, (account, container, obj), (dst_account, *destination))

    @route.post(OBJECT, public=True, stream=True)
    async def post(self, req: ApiRequest) -> Response:
        """A form upload below this path (``formpost``), else a metadata update."""
        if formpost.is_form(req):
            account, container, prefix = (req.path_params[k] for k in ("account", "container", "obj"))
            return await self.form(req, account, container, prefix)
        return await run_in_threadpool(self.update, req)

    async def form(self, req: ApiRequest, account: str, container: str, prefix: str | None) -> Response:
        """Swift's formpost: each file of the form uploaded as ``<prefix><filename>``."""
        names.check(account, container)
        keys = await formpost.keys_of(self.store, account, container)

        async def put(obj: str, headers: dict[str, str], data: bytes) -> tuple[str, bytes]:
            try:
                await self._form_upload(req, (account, container, obj), headers, data)
            except ApiError as error:
                return formpost.status_of(error), error.message.encode()
            return "201 Created", b""

        return await formpost.handle(req, account, container, prefix, keys, put)

    async def _form_upload(self, req: ApiRequest, target: tuple[str, str, str], headers: dict[str, str],
                           data: bytes) -> None:
        """One file of a form: a PUT authorized by the form's signature (as Swift's
        pre-authorized subrequest), held to the quotas."""
        account, container, obj = target
        names.check(account, container, obj)
        check_content_type(headers)
        updates = user_metadata(headers, obj)
        container_info = await run_in_threadpool(self._container_info, account, container)
        # Swift sends the file on chunked: the quotas see no Content-Length.
        await run_in_threadpool(self._check_quotas, req, account, container_info, 0)
        await self._archive(req, account, container, obj, container_info)
        timestamp = timestamps.now()
        await self.store.put_object(account, container, obj, body.once(data), updates, timestamp,
                                    Expected(None, None).check)
        await run_in_threadpool(expirer.enqueue, self.store, account, container, obj, updates)

    def update(self, req: ApiRequest) -> Response:
        """Replace the object's metadata (a ``.meta`` on every replica); a new
        Content-Type is listed too."""
        account, container, obj = _named(req)
        if symlinks.requested(req.headers):
            raise errors.PostTarget()
        access.authorize(req, self.store, account, container, obj, write=True)
        state = self._load(account, container, obj)
        updates = user_metadata(req.headers, obj, state.metadata)
        updates.update({key: state.metadata[key] for key in SLO_KEYS if key in state.metadata})
        timestamp = timestamps.now()
        self.store.write_marker(account, container, obj, timestamp, ".meta", {**updates, "X-Timestamp": timestamp})
        expirer.enqueue(self.store, account, container, obj, updates)
        if "content-type" in req.headers:
            # The container lists the new type, as Swift's object server reports it.
            meta = state.metadata
            size = int(meta.get("X-Slo-Size", meta["Content-Length"]))
            self.store.update_listing(account, container, obj, timestamp, size, updates["Content-Type"],
                                      symlinks.listed_etag(meta, meta.get("X-Slo-Etag", meta["ETag"])), False)
        if symlinks.is_link(state.metadata):
            return symlinks.posted_to_link(state.metadata, account)
        return Response(status_code=202, media_type="text/html; charset=UTF-8")

    # -- deleting -----------------------------------------------------------------------------
    @route.delete(OBJECT, public=True)
    async def delete(self, req: ApiRequest) -> Response:
        """Delete the object (in a versioned container: pop or push a version first);
        ``?multipart-manifest=delete`` deletes an SLO's segments with it."""
        account, container, obj = _named(req)
        synced_at = await run_in_threadpool(self._authorize_write, req, account, container, obj)
        found = await run_in_threadpool(self.store.container, account, container)
        versions = versioning.location(found[1] if found else None)
        if versions is not None and req.query.get("multipart-manifest") != "delete":
            archive, mode = versions
            if mode == "history":
                await versioning.push_delete(req, self.store, account, container, obj, archive)
            elif await versioning.pop_delete(req, self.store, account, container, obj, archive):
                return Response(status_code=204)
        return await run_in_threadpool(self._delete, req, account, container, obj, synced_at)

    def _delete(self, req: ApiRequest, account: str, container: str, obj: str, synced_at: str | None) -> Response:
        state = self.store.object_state(account, container, obj)
        if state.exists and expirer.expired(state.metadata):
            # Like Swift's object server: the expired object is deleted now, but was
            # already gone as far as the client is concerned.
            self.store.remove_object(account, container, obj, state)
        if not versioning.live(state):
            raise errors.ResourceNotFound()
        if req.query.get("multipart-manifest") == "delete" and large.is_slo(state.metadata):
            lines = "\n".join(large.segment_paths(state) + [f"/{container}/{obj}"])
            req.body = lines.encode()
            return bulk.delete(req, self.store, account, access.SegmentAccess(req, self.store, account, write=True))
        self.store.tombstone(account, container, obj, state, synced_at or timestamps.now())
        return Response(status_code=204)
