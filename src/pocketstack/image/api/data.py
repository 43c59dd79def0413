"""``/v2/images/{image_id}/file``: streaming upload and (ranged) download.

The upload handler runs on the event loop only to receive the body: bytes are batched
into ~1 MiB blocks and each block is hashed and written in a worker thread, so neither
the loop blocks nor the whole image is held in memory.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable

from starlette.concurrency import run_in_threadpool
from starlette.requests import ClientDisconnect
from starlette.responses import Response, StreamingResponse

from pocketstack.common.api.request import ApiRequest
from pocketstack.common.api.routes import route
from pocketstack.image import errors
from pocketstack.image.api.common import authorize_image
from pocketstack.image.data import Upload
from pocketstack.image.manager import ImageManager

FILE = "/v2/images/{image_id}/file"
FLUSH_BYTES = 1 << 20
_RANGE = re.compile(r"^\s*bytes\s*=\s*(\d*)\s*-\s*(\d*)\s*$")


def byte_range(header: str | None, size: int) -> tuple[int, int] | None:
    """``(offset, length)`` for a single-range ``Range`` header, None to send it all.

    A header that is not a byte range is ignored (RFC 9110); a range that cannot be
    satisfied, or a multi-range request, is a 416.
    """
    if not header:
        return None
    if "," in header:
        raise _unsatisfiable(size)
    match = _RANGE.match(header)
    if not match or match.groups() == ("", ""):
        return None
    first, last = match.groups()
    if first == "":
        suffix = int(last)
        if suffix == 0 or size == 0:
            raise _unsatisfiable(size)
        start = max(size - suffix, 0)
        return start, size - start
    start = int(first)
    end = min(int(last), size - 1) if last else size - 1
    if start >= size or end < start:
        raise _unsatisfiable(size)
    return start, end - start + 1


def _unsatisfiable(size: int) -> errors.RangeUnsatisfiable:
    return errors.RangeUnsatisfiable(headers={"Content-Range": f"bytes */{size}"})


def upload_media_type(content_type: str | None) -> None:
    """415 unless the upload says ``application/octet-stream``."""
    if (content_type or "").split(";")[0].strip().lower() != "application/octet-stream":
        raise errors.UploadNotOctetStream()


def check_upload_headers(req: ApiRequest, size_cap: int) -> None:
    """415 unless octet-stream; 413 when the declared length is over the cap."""
    upload_media_type(req.headers.get("content-type"))
    declared = req.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > size_cap:
        raise errors.ImageTooLarge(cap=size_cap)


async def receive(req: ApiRequest, upload: Upload, fail: Callable[[Upload], None]) -> None:
    """Stream the request body into ``upload``; on any failure (a client that went
    away: 400) ``fail(upload)`` runs, even if the request is cancelled."""
    try:
        block = bytearray()
        async for chunk in req.raw.stream():
            block += chunk
            if len(block) >= FLUSH_BYTES:
                await run_in_threadpool(upload.write, bytes(block))
                block.clear()
        if block:
            await run_in_threadpool(upload.write, bytes(block))
    except BaseException as error:
        await asyncio.shield(run_in_threadpool(fail, upload))
        if isinstance(error, ClientDisconnect):
            raise errors.UploadDisconnected() from None
        raise


class DataApi:
    def __init__(self, manager: ImageManager):
        self.manager = manager
        self.data = manager.data

    @route.put(FILE, policy="upload_image", stream=True)
    async def upload(self, req: ApiRequest) -> None:
        data = self.data
        check_upload_headers(req, data.size_cap)
        image = await run_in_threadpool(authorize_image, req, self.manager, "upload_image")
        # The store to write to (Glance reads the header only with several stores).
        store_id = req.headers.get("x-image-meta-store") if data.store.multiple else None
        upload = await run_in_threadpool(data.begin, req.caller, image.id, store_id)
        await receive(req, upload, data.fail)
        await run_in_threadpool(data.finish, req.caller, upload)

    @route.get(FILE, policy="download_image")
    def download(self, req: ApiRequest) -> Response:
        image = authorize_image(req, self.manager, "download_image")
        span = byte_range(req.headers.get("range"), image.size or 0) if image.size is not None else None
        offset, length = span if span else (0, None)
        image, chunks = self.manager.open_data(req.caller, image.id, offset, length)
        if chunks is None:
            return Response(status_code=204)
        headers = {"Content-Length": str(length if span else image.size)}
        if image.checksum:
            headers["Content-MD5"] = image.checksum
        status = 200
        if span:
            status = 206
            headers["Content-Range"] = f"bytes {offset}-{offset + (length or 0) - 1}/{image.size}"
        return StreamingResponse(chunks, status_code=status, headers=headers, media_type="application/octet-stream")
