"""Form POST: browser uploads straight into a container (Swift's ``formpost`` middleware).

A ``POST`` of ``multipart/form-data`` to ``/v1/AUTH_<project>/<container>[/<prefix>]``
carries the fields ``redirect``, ``max_file_size``, ``max_file_count``, ``expires`` and
``signature`` -- an HMAC (SHA-1, SHA-256, SHA-512; hex or ``<digest>:`` + base64) of
``"<path>\\n<redirect>\\n<max_file_size>\\n<max_file_count>\\n<expires>"`` under one of
the account's or container's TempURL keys -- and, optionally, ``x_delete_at``,
``x_delete_after``, ``content-type`` and ``content-encoding``.  Each file part after
them becomes the object ``<prefix><filename>``; fields after a file do not apply to it.

No token is needed: the signature is the authorization (401 ``FormPost: Invalid
Signature`` or ``FormPost: Form Expired``), and the uploads are held to the container's
and account's quotas like any other.  The answer is the last upload's status as plain
text, or, with a ``redirect``, a 303 to it with ``status`` and ``message`` added.
"""

from __future__ import annotations

import hmac
import time
from collections.abc import Awaitable, Callable
from typing import Protocol
from urllib.parse import quote

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile
from starlette.formparsers import MultiPartException
from starlette.responses import Response

from pocketstack.common.api.request import ApiRequest
from pocketstack.common.errors import ApiError, BadRequest, Unauthorized
from pocketstack.object.api import access, tempurl

# The longest field value kept (Swift's MAX_VALUE_LENGTH); the rest is dropped.
MAX_VALUE_LENGTH = 4096
DIGESTS = sorted(tempurl.DIGESTS)
DEPRECATED_DIGESTS = ["sha1"]
Upload = Callable[[str, dict[str, str], bytes], Awaitable[tuple[str, bytes]]]


class ObjectPages(Protocol):
    """What serves objects (``ObjectsApi``): a container hands it its forms and web pages."""

    async def form(self, req: ApiRequest, account: str, container: str, prefix: str | None) -> Response: ...

    def serve(self, req: ApiRequest, account: str, container: str, obj: str) -> Response: ...


class FormInvalid(BadRequest):
    msg_fmt = "FormPost: {reason}"


class FormUnauthorized(Unauthorized):
    msg_fmt = "FormPost: {reason}"


def is_form(req: ApiRequest) -> bool:
    """Is this POST a form upload (``multipart/form-data`` with a boundary)?"""
    kind, _, params = req.headers.get("content-type", "").partition(";")
    return kind.strip().lower() == "multipart/form-data" and "boundary=" in params.lower()


def _integer(attributes: dict[str, str], name: str, reason: str) -> int:
    try:
        return int(attributes.get(name) or 0)
    except ValueError:
        raise FormInvalid(reason=reason) from None


def check_signature(attributes: dict[str, str], paths: list[str], keys: list[str], now: float) -> None:
    """401 unless the form is unexpired and signed for one of ``paths`` under one of ``keys``."""
    if _integer(attributes, "expires", "expired not an integer") < now:
        raise FormUnauthorized(reason="Form Expired")
    try:
        digest_name, given = tempurl.parse_signature(attributes.get("signature", ""))
    except ApiError:
        raise FormUnauthorized(reason="Invalid Signature") from None
    fields = [attributes.get("redirect") or "", attributes.get("max_file_size") or "0",
              attributes.get("max_file_count") or "0", attributes.get("expires") or "0"]
    for key in keys:
        for path in paths:
            signed = "\n".join([path, *fields]).encode()
            if hmac.compare_digest(hmac.new(key.encode(), signed, tempurl.DIGESTS[digest_name]).digest(), given):
                return
    raise FormUnauthorized(reason="Invalid Signature")


def upload_headers(attributes: dict[str, str], part: UploadFile) -> dict[str, str]:
    """The headers of the PUT a file part becomes."""
    headers: dict[str, str] = {}
    if "x_delete_at" in attributes:
        headers["x-delete-at"] = str(_integer(attributes, "x_delete_at",
                                              "x_delete_at not an integer: Unix timestamp required."))
    if "x_delete_after" in attributes:
        headers["x-delete-after"] = str(_integer(attributes, "x_delete_after",
                                                 "x_delete_after not an integer: Number of seconds required."))
    content_type = attributes.get("content-type", part.headers.get("content-type"))
    if content_type is not None:
        headers["content-type"] = content_type or "application/octet-stream"
    encoding = attributes.get("content-encoding", part.headers.get("content-encoding"))
    if encoding is not None:
        headers["content-encoding"] = encoding
    return headers


async def handle(req: ApiRequest, account: str, container: str, prefix: str | None, keys: list[str],
                 put: Upload) -> Response:
    """Upload the form's files with ``put(obj, headers, data) -> (status line, error body)``."""
    root = req.attributes["service_path"]
    path = f"/v1/{account}/{container}" + (f"/{prefix}" if prefix is not None else "")
    try:
        form = await req.raw.form(max_files=10000, max_fields=10000)
    except (MultiPartException, ValueError):  # starlette's, or python-multipart's parse errors
        raise FormInvalid(reason="invalid starting boundary") from None
    attributes: dict[str, str] = {}
    status, message, failure = "", "", b""
    file_count = 0
    try:
        for name, value in form.multi_items():
            if not isinstance(value, UploadFile) or not value.filename:
                text = value if isinstance(value, str) else await _field_text(value)
                attributes[name.lower()] = text.encode()[:MAX_VALUE_LENGTH].decode(errors="ignore").rstrip("\r\n-")
                continue
            file_count += 1
            if file_count > _integer(attributes, "max_file_count", "max_file_count not an integer"):
                status, message = "400 Bad Request", "max file count exceeded"
                break
            # Swift's order of checks: keys, max_file_size, expiry headers, expiry, signature.
            if not keys:
                raise FormUnauthorized(reason="Invalid Signature")
            _integer(attributes, "max_file_size", "max_file_size not an integer")
            headers = upload_headers(attributes, value)
            check_signature(attributes, [path, root + path], keys, time.time())
            data = await value.read()
            if len(data) > _integer(attributes, "max_file_size", "max_file_size not an integer"):
                raise FormInvalid(reason="max_file_size exceeded")
            obj = (prefix or "") + value.filename
            status, failure = await put(obj, headers, data)
            if not status.startswith("2"):
                break
    finally:
        await form.close()
    return _answer(status or "400 Bad Request", message if status else "no files to process", failure,
                   attributes.get("redirect"))


async def _field_text(part: UploadFile) -> str:
    """A field sent as a file without a name: its first bytes as text (400 unless UTF-8)."""
    try:
        return (await part.read(MAX_VALUE_LENGTH)).decode()
    except UnicodeDecodeError:
        raise FormInvalid(reason="field value is not UTF-8") from None


def _answer(status: str, message: str, failure: bytes, redirect: str | None) -> Response:
    code = int(status.split(" ", 1)[0])
    if not redirect:
        text = status + ("\r\nFormPost: " + message.title() if message else "")
        body = failure if code >= 300 and failure else text.encode()
        return Response(body, status_code=code, media_type="text/plain")
    location = redirect + ("&" if "?" in redirect else "?") + f"status={quote(str(code))}&message={quote(message)}"
    body = f'<html><body><p><a href="{location}">Click to continue...</a></p></body></html>'.encode()
    return Response(body, status_code=303, headers={"Location": location}, media_type="text/html")


async def keys_of(store, account: str, container: str) -> list[str]:
    """The account's and the container's TempURL keys: any of them signs a form."""
    return [key for key, _scoped in await run_in_threadpool(access.tempurl_keys, store, account, container)]


def status_of(error: ApiError) -> str:
    return f"{error.status} {error.title}"

