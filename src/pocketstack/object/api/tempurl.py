"""TempURLs: time-limited object links signed with an account or container key.

The signature is an HMAC (SHA-1, SHA-256 or SHA-512; hex, or ``<digest>:`` followed by
base64) of ``"<METHOD>\\n<expires>\\n<path>"`` -- or ``"...\\nprefix:<path prefix>"``
when ``temp_url_prefix`` is given -- under any of the keys set with
``X-Account-Meta-Temp-URL-Key(-2)`` or ``X-Container-Meta-Temp-URL-Key(-2)``.

What a signature grants is Swift's: the signed method on the object, and through it
(segments of a large object, the source of ``X-Copy-From``) the key's scope only --
its container for a container key, its account for an account key.  A write may not
plant a pointer (``X-Object-Manifest``, ``X-Symlink-Target``: CVE-2015-5223), only
the TempURL's own query parameters count, and answers hide private object metadata.
"""

from __future__ import annotations

import base64
import binascii
import calendar
import hashlib
import hmac
import time
from dataclasses import dataclass
from urllib.parse import quote

from pocketstack.object import errors, timestamps

DIGESTS = {"sha1": hashlib.sha1, "sha256": hashlib.sha256, "sha512": hashlib.sha512}
_HEX_LENGTHS = {40: "sha1", 64: "sha256", 128: "sha512"}
METHODS = ("GET", "HEAD", "PUT")
# Headers a signed write may not carry: they would point at data the signature does
# not cover (Swift's DISALLOWED_INCOMING_HEADERS).
DISALLOWED_HEADERS = ("X-Object-Manifest", "X-Symlink-Target")
# Object metadata a TempURL answer keeps (Swift's outgoing_allow_headers); other
# X-Object-Meta-* are removed (outgoing_remove_headers).
PUBLIC_METADATA = "x-object-meta-public-"
# The last moment an HTTP date can name (31 Dec 9999): a later expiry is announced as that.
LAST_HTTP_DATE = 253402300799


@dataclass(frozen=True)
class Grant:
    """What a valid signature allows: the account, and the container for a container key."""

    account: str
    container: str | None
    expires: int

    def covers(self, account: str, container: str) -> bool:
        return account == self.account and self.container in (None, container)


def signed(query, method: str) -> bool:
    """Is this request a TempURL (rather than a token or anonymous) request?"""
    return "temp_url_sig" in query and method in METHODS


def _expires(value: str) -> int:
    try:
        return int(value)
    except ValueError:
        pass
    try:
        return calendar.timegm(time.strptime(value, "%Y-%m-%dT%H:%M:%SZ"))
    except ValueError:
        raise errors.TempUrlInvalid(reason="temp_url_expires was not valid") from None


def parse_signature(sig: str) -> tuple[str, bytes]:
    try:
        if ":" in sig:
            name, _, encoded = sig.partition(":")
            if name not in DIGESTS:
                raise ValueError(name)
            return name, base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4))
        if len(sig) in _HEX_LENGTHS:
            return _HEX_LENGTHS[len(sig)], binascii.unhexlify(sig)
    except (ValueError, binascii.Error):
        pass
    raise errors.TempUrlInvalid(reason="temp_url_sig was not valid")


def verify(method: str, query, roots: list[str], obj: str, keys: list[tuple[str, bool]]) -> tuple[bool, int]:
    """``(signed with a container key, expires)``; 401 unless ``query`` holds a valid,
    unexpired signature for ``obj`` under one of ``keys`` (``(key, is a container key)``).

    ``roots`` are the container paths the client may have signed (``/v1/AUTH_a/c/``,
    with or without this cloud's ``/object-store`` mount prefix).
    """
    sig, expires_text = query.get("temp_url_sig"), query.get("temp_url_expires")
    if not sig or not expires_text or not keys:
        raise errors.AccessDenied()
    expires = _expires(expires_text)
    if expires < time.time():
        raise errors.TempUrlInvalid(reason="temp_url_expires was in the past")
    digest_name, given = parse_signature(sig)
    prefix = query.get("temp_url_prefix")
    if prefix is not None and not obj.startswith(prefix):
        raise errors.AccessDenied()
    paths = [f"prefix:{root}{prefix}" if prefix is not None else root + obj for root in roots]
    # A HEAD may use a signature made for GET (or PUT), as in Swift.
    signed_methods = ("HEAD", "GET", "PUT") if method == "HEAD" else (method,)
    for key, container_key in keys:
        for signed_method in signed_methods:
            for path in paths:
                body = f"{signed_method}\n{expires}\n{path}".encode()
                expected = hmac.new(key.encode(), body, DIGESTS[digest_name]).digest()
                if hmac.compare_digest(expected, given):
                    return container_key, expires
    raise errors.AccessDenied()


def refuse_pointer_headers(method: str, headers) -> None:
    """400 for a signed write carrying a header that would point at other data."""
    if method in ("GET", "HEAD"):
        return
    for name in DISALLOWED_HEADERS:
        if name in headers:
            raise errors.HeaderNotAllowedInTempUrl(name=name)


def outgoing(headers: dict[str, str]) -> dict[str, str]:
    """An object's response headers without its private metadata."""
    return {name: value for name, value in headers.items()
            if not name.lower().startswith("x-object-meta-") or name.lower().startswith(PUBLIC_METADATA)}


def download_headers(query, obj: str, headers: dict[str, str], grant: Grant) -> dict[str, str]:
    """What a successful TempURL GET or HEAD adds: how to save it, and until when the link works."""
    return {"Content-Disposition": disposition(query, obj, headers.get("Content-Disposition")),
            "Expires": timestamps.http_date(str(min(grant.expires, LAST_HTTP_DATE)))}


def disposition(query, obj: str, existing: str | None) -> str:
    """``Content-Disposition`` of a TempURL GET: ``?inline``, ``?filename=``, the object's
    own, or a download named after the object -- Swift's order of preference."""
    filename = query.get("filename")
    if "inline" in query:
        return _disposition("inline", filename) if filename else "inline"
    if filename:
        return _disposition("attachment", filename)
    if existing:
        return existing
    return _disposition("attachment", obj.rstrip("/").rsplit("/", 1)[-1])


def _disposition(kind: str, filename: str) -> str:
    return f"{kind}; filename=\"{quote(filename, safe=' /')}\"; filename*=UTF-8''{quote(filename)}"
