"""``/v1/AUTH_<project>/<container>/<object>``: upload, download, metadata, copy, delete."""

from __future__ import annotations

import json
import math
import mimetypes
import time
from urllib.parse import quote, unquote

from starlette.concurrency import iterate_in_threadpool, run_in_threadpool
from starlette.responses import Response

from pocketstack.common.api.request import ApiRequest
from pocketstack.common.api.routes import Router
from pocketstack.common.errors import BadRequest, NotFound, RequestEntityTooLarge
from pocketstack.object import expirer, timestamps
from pocketstack.object.api import access, body, bulk, conditions, extract, large, metadata, names, tempurl, versioning
from pocketstack.object.api.errors import LengthRequired, PreconditionFailed, Unprocessable
from pocketstack.object.store import ObjectStore

OBJECT = "/v1/{account}/{container}/{obj:path}"
MAX_OBJECT_SIZE = 5 * 1024 ** 3
MAX_DELETE_AT = 9999999999  # Swift's X-Delete-At has ten digits at most
NOT_FOUND = "The resource could not be found."
# Object headers kept with the data besides X-Object-Meta-*.
EXTRA = ("content-disposition", "content-encoding", "x-object-manifest")


def _target(req: ApiRequest) -> tuple[str, str, str]:
    account, container, obj = (req.path_params[k] for k in ("account", "container", "obj"))
    names.check(account, container, obj)
    if not obj:
        raise NotFound(NOT_FOUND)
    return account, container, obj


def _delete_at(headers) -> str | None:
    """``X-Delete-At`` from X-Delete-At or X-Delete-After (400 when invalid or past),
    kept within ten digits as Swift keeps it (a later time is its last one)."""
    now = time.time()
    if "x-delete-after" in headers:
        after = _integer(headers["x-delete-after"], "X-Delete-After")
        if after <= 0:
            raise BadRequest("X-Delete-After in past")
        return str(min(int(now) + after, MAX_DELETE_AT))
    if "x-delete-at" in headers:
        at = min(_integer(headers["x-delete-at"], "X-Delete-At"), MAX_DELETE_AT)
        if at <= now:
            raise BadRequest("X-Delete-At in past")
        return str(at)
    return None


def _integer(value: str, header: str) -> int:
    try:
        return int(value)
    except ValueError:
        raise BadRequest(f"Non-integer {header}") from None


def _check_content_type(headers) -> None:
    """An object's Content-Type must be UTF-8 (Swift checks it on creation only)."""
    content_type = headers.get("content-type")
    if content_type and not metadata.is_utf8(content_type):
        raise BadRequest("Invalid Content-Type")


def _user_metadata(req: ApiRequest, obj: str, current: dict | None = None) -> dict[str, str]:
    """What a PUT or POST sets: user metadata, type, disposition, encoding, manifest, expiry."""
    # An empty X-Object-Meta-* value is metadata too (kept, as Swift does); an empty
    # Content-Disposition and friends means "none".
    updates = {k: v for k, v in metadata.collect(req.headers, "object", EXTRA).items()
               if v != "" or k.lower().startswith("x-object-meta-")}
    content_type = req.headers.get("content-type")
    if not content_type or req.headers.get("x-detect-content-type", "").lower() == "true":
        content_type = (current or {}).get("Content-Type") or mimetypes.guess_type(obj)[0] \
            or "application/octet-stream"
    updates["Content-Type"] = content_type
    delete_at = _delete_at(req.headers)
    if delete_at:
        updates["X-Delete-At"] = delete_at
    if "X-Object-Manifest" in updates and "/" not in unquote(updates["X-Object-Manifest"]).lstrip("/"):
        raise BadRequest("X-Object-Manifest must be in the format container/prefix")
    return updates


def object_headers(state, etag: str) -> dict[str, str]:
    meta = state.metadata
    headers = {name: value for name, value in meta.items()
               if name.lower().startswith("x-object-meta-") or name.lower() in EXTRA}
    headers.update({"Etag": etag, "Last-Modified": timestamps.http_date(state.timestamp),
                    "X-Timestamp": state.timestamp, "Accept-Ranges": "bytes"})
    if "X-Delete-At" in meta:
        headers["X-Delete-At"] = meta["X-Delete-At"]
    if large.is_slo(meta):
        headers["X-Static-Large-Object"] = "True"
    return headers


def register(router: Router, store: ObjectStore) -> None:
    def load(account: str, container: str, obj: str):
        state = store.object_state(account, container, obj)
        if not versioning.live(state):
            raise NotFound(NOT_FOUND)
        return state

    @router.get(OBJECT, public=True)
    @router.head(OBJECT, public=True)
    def get_object(req: ApiRequest):
        account, container, obj = _target(req)
        access.authorize(req, store, account, container, obj)
        state = load(account, container, obj)
        if _multipart_manifest(req) == "get" and large.is_slo(state.metadata):
            manifest = json.dumps(large.read_manifest(state)).encode()
            headers = object_headers(state, state.metadata["ETag"])
            return Response(manifest if req.method == "GET" else b"", headers=headers,
                            media_type="application/json; charset=utf-8")
        pieces, etag = large.pieces(store, account, state, access.SegmentAccess(req, store, account))
        headers = object_headers(state, etag)
        grant = req.attributes.get("tempurl")
        if grant is not None:
            headers = tempurl.outgoing(headers)
        conditions.check(req.headers, etag.strip('"'), math.ceil(float(state.timestamp)), req.method, headers)
        if grant is not None:
            headers.update(tempurl.download_headers(req.query, obj, headers, grant))
        return body.respond(req.method, req.headers.get("range"), pieces, headers,
                            state.metadata.get("Content-Type", "application/octet-stream"))

    @router.put(OBJECT, public=True, stream=True)
    async def put_object(req: ApiRequest):
        account, container, obj = _target(req)
        if "extract-archive" in req.query:
            await run_in_threadpool(access.authorize_account, req, account, True)
            return await extract.extract(req, store, account, f"{container}/{obj}")
        await run_in_threadpool(access.authorize, req, store, account, container, obj, write=True)
        _check_content_type(req.headers)
        if "x-copy-from" in req.headers:
            source = unquote(req.headers["x-copy-from"]).lstrip("/")
            src_container, _, src_obj = source.partition("/")
            if not src_container or not src_obj:
                raise PreconditionFailed("X-Copy-From header must be of the form <container name>/<object name>")
            return await _copy(req, account, src_container, src_obj, account, container, obj)
        updates = _user_metadata(req, obj)
        found = await run_in_threadpool(store.container, account, container)
        if found is None:
            raise NotFound(NOT_FOUND)
        await run_in_threadpool(_check_if_none_match, req, account, container, obj)
        if _multipart_manifest(req) == "put":
            return await _put_manifest(req, account, container, obj, updates, found[1])
        declared = _declared_length(req)
        expected_etag = req.headers.get("etag", "").strip('"').lower() or None

        def check(etag: str, size: int) -> None:
            if declared is not None and size != declared:
                raise BadRequest("Client disconnected before sending the whole body (499)")
            if size > MAX_OBJECT_SIZE:
                raise RequestEntityTooLarge("Your request is too large.")
            if expected_etag and expected_etag != etag:
                raise Unprocessable("Unprocessable Entity")

        await _archive(req, account, container, obj, found[1])
        timestamp = timestamps.now()
        etag, _size = await store.put_object(account, container, obj, req.raw.stream(), updates, timestamp, check)
        await run_in_threadpool(expirer.enqueue, store, account, container, obj, updates)
        return _created(etag, timestamp)

    async def _archive(req: ApiRequest, account: str, container: str, obj: str, container_info: dict) -> None:
        """Keep the object being overwritten when its container is versioned."""
        versions = versioning.location(container_info)
        if versions is not None:
            await versioning.archive_current(req, store, account, container, obj, versions[0])

    def _check_if_none_match(req: ApiRequest, account: str, container: str, obj: str) -> None:
        value = req.headers.get("if-none-match")
        if value is None:
            return
        if value.strip() != "*":
            raise BadRequest("If-None-Match only supports *")
        if versioning.live(store.object_state(account, container, obj)):
            raise PreconditionFailed("Precondition Failed")

    async def _put_manifest(req, account, container, obj, updates, container_info):
        raw = b""
        async for chunk in req.raw.stream():
            raw += chunk
            if len(raw) > large.MAX_MANIFEST:
                raise RequestEntityTooLarge("Manifest File > 2097152 bytes")
        manifest, size, slo_etag = await run_in_threadpool(large.build_manifest, store, account, raw,
                                                           access.SegmentAccess(req, store, account))
        expected = req.headers.get("etag", "").strip('"').lower()
        if expected and expected != slo_etag:
            raise Unprocessable("Unprocessable Entity")
        updates = {**updates, "X-Static-Large-Object": "True", "X-Slo-Etag": slo_etag, "X-Slo-Size": str(size)}
        updates.pop("X-Object-Manifest", None)
        await _archive(req, account, container, obj, container_info)
        timestamp = timestamps.now()
        await store.put_object(account, container, obj, _once(manifest), updates, timestamp,
                               listing=(size, slo_etag))
        await run_in_threadpool(expirer.enqueue, store, account, container, obj, updates)
        return _created(f'"{slo_etag}"', timestamp)

    async def _copy(req, src_account, src_container, src_obj, dst_account, dst_container, dst_obj):
        names.check(src_account, src_container, src_obj)
        names.check(dst_account, dst_container, dst_obj)
        await run_in_threadpool(access.authorize, req, store, src_account, src_container, src_obj)
        state = await run_in_threadpool(load, src_account, src_container, src_obj)
        found = await run_in_threadpool(store.container, dst_account, dst_container)
        if found is None:
            raise NotFound(NOT_FOUND)
        await _archive(req, dst_account, dst_container, dst_obj, found[1])
        pieces, _etag = await run_in_threadpool(large.pieces, store, src_account, state,
                                                access.SegmentAccess(req, store, src_account))
        fresh = req.headers.get("x-fresh-metadata", "").lower() in ("true", "1", "yes")
        inherited = {} if fresh else {k: v for k, v in state.metadata.items()
                                      if k.lower().startswith("x-object-meta-") or k.lower() in EXTRA}
        current = {"Content-Type": state.metadata.get("Content-Type")}
        updates = {**inherited, **_user_metadata(req, dst_obj, current)}
        timestamp = timestamps.now()
        etag, _size = await store.put_object(dst_account, dst_container, dst_obj,
                                             iterate_in_threadpool(body.stream(pieces)), updates, timestamp)
        await run_in_threadpool(expirer.enqueue, store, dst_account, dst_container, dst_obj, updates)
        response = _created(etag, timestamp)
        # Swift answers a copy with the new object's metadata as well.
        for name, value in updates.items():
            if name.lower().startswith("x-object-meta-") or name == "X-Delete-At":
                response.headers[name] = value
        response.headers["X-Copied-From"] = quote(f"{src_container}/{src_obj}")
        response.headers["X-Copied-From-Account"] = quote(src_account)
        response.headers["X-Copied-From-Last-Modified"] = timestamps.http_date(state.timestamp)
        return response

    @router.route("COPY", OBJECT, public=True, stream=True)
    async def copy_object(req: ApiRequest):
        account, container, obj = _target(req)
        destination = unquote(req.headers.get("destination", "")).lstrip("/")
        dst_container, _, dst_obj = destination.partition("/")
        if not dst_container or not dst_obj:
            raise PreconditionFailed("Destination header must be of the form <container name>/<object name>")
        dst_account = req.headers.get("destination-account", account)
        await run_in_threadpool(access.authorize, req, store, dst_account, dst_container, dst_obj, write=True)
        _check_content_type(req.headers)
        return await _copy(req, account, container, obj, dst_account, dst_container, dst_obj)

    @router.post(OBJECT, public=True)
    def post_object(req: ApiRequest):
        account, container, obj = _target(req)
        access.authorize(req, store, account, container, obj, write=True)
        state = load(account, container, obj)
        updates = _user_metadata(req, obj, state.metadata)
        for key in ("X-Static-Large-Object", "X-Slo-Etag", "X-Slo-Size"):
            if key in state.metadata:
                updates[key] = state.metadata[key]
        timestamp = timestamps.now()
        store.write_marker(account, container, obj, timestamp, ".meta", {**updates, "X-Timestamp": timestamp})
        expirer.enqueue(store, account, container, obj, updates)
        if "content-type" in req.headers:
            # The container lists the new type, as Swift's object server reports it.
            meta = state.metadata
            size = int(meta.get("X-Slo-Size", meta["Content-Length"]))
            store.update_listing(account, container, obj, timestamp, size, updates["Content-Type"],
                                 meta.get("X-Slo-Etag", meta["ETag"]), False)
        return Response(status_code=202, media_type="text/html; charset=UTF-8")

    @router.delete(OBJECT, public=True)
    async def delete_object(req: ApiRequest):
        account, container, obj = _target(req)
        await run_in_threadpool(access.authorize, req, store, account, container, obj, write=True)
        found = await run_in_threadpool(store.container, account, container)
        versions = versioning.location(found[1] if found else None)
        if versions is not None and req.query.get("multipart-manifest") != "delete":
            archive, mode = versions
            if mode == "history":
                await versioning.push_delete(req, store, account, container, obj, archive)
            elif await versioning.pop_delete(req, store, account, container, obj, archive):
                return Response(status_code=204)
        return await run_in_threadpool(_delete, req, account, container, obj)

    def _delete(req: ApiRequest, account: str, container: str, obj: str):
        state = store.object_state(account, container, obj)
        if state.exists and expirer.expired(state.metadata):
            # Like Swift's object server: the expired object is deleted now, but was
            # already gone as far as the client is concerned.
            bulk.remove_object(store, account, container, obj, state)
        if not versioning.live(state):
            raise NotFound(NOT_FOUND)
        if req.query.get("multipart-manifest") == "delete" and large.is_slo(state.metadata):
            lines = "\n".join(large.segment_paths(state) + [f"/{container}/{obj}"])
            req.body = lines.encode()
            return bulk.delete(req, store, account, access.SegmentAccess(req, store, account, write=True))
        bulk.remove_object(store, account, container, obj, state)
        return Response(status_code=204)


def _multipart_manifest(req: ApiRequest) -> str | None:
    """``?multipart-manifest=``; never for a TempURL, which (as in Swift) passes on only
    its own query parameters: its PUT stores a plain object, its GET the object's body."""
    return None if req.attributes.get("tempurl") else req.query.get("multipart-manifest")


def _declared_length(req: ApiRequest) -> int | None:
    length = req.headers.get("content-length")
    if length is None:
        if req.headers.get("transfer-encoding", "").lower() != "chunked":
            raise LengthRequired("Length Required")
        return None
    if not length.isdigit():
        raise BadRequest("Invalid Content-Length")
    if int(length) > MAX_OBJECT_SIZE:
        raise RequestEntityTooLarge("Your request is too large.")
    return int(length)


def _created(etag: str, timestamp: str) -> Response:
    return Response(status_code=201, media_type="text/html; charset=UTF-8",
                    headers={"Etag": etag, "Last-Modified": timestamps.http_date(timestamp), "X-Timestamp": timestamp})


async def _once(data: bytes):
    yield data

