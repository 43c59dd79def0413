"""AWS request signatures, as ``/v3/ec2tokens`` checks them.

An EC2 API front end forwards the request it received -- verb, host, path, query
parameters, headers and the body's SHA-256 -- with the client's signature; Identity
recomputes the signature with the credential's secret.  Versions 0, 1 and 2 sign the
query parameters (HMAC-SHA1 or HMAC-SHA256, base64); version 4 signs a canonical
request under a key derived from the date, region and service of its credential scope
(``Authorization: AWS4-HMAC-SHA256 Credential=..., SignedHeaders=..., Signature=...``
or the ``X-Amz-*`` query parameters of a presigned request).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import urllib.parse
from collections.abc import Mapping

V4_ALGORITHM = "AWS4-HMAC-SHA256"
_AUTH_FIELD = re.compile(r"(\w+)=([^,\s]+)")


class SignatureError(ValueError):
    """The request description cannot be signed (missing or malformed fields)."""


def _quote(value: str) -> str:
    return urllib.parse.quote(value, safe="-_~")


def _hmac_b64(key: str, message: str, digest) -> str:
    return base64.b64encode(hmac.new(key.encode("utf-8"), message.encode("utf-8"), digest).digest()).decode()


def _v4_fields(params: Mapping[str, str], headers: Mapping[str, str]) -> dict[str, str] | None:
    """The signature-v4 fields of a request, or None when it is not signed with v4."""
    if params.get("X-Amz-Algorithm") == V4_ALGORITHM:
        return {"Credential": params.get("X-Amz-Credential", ""),
                "SignedHeaders": params.get("X-Amz-SignedHeaders", ""),
                "Date": params.get("X-Amz-Date", "")}
    authorization = headers.get("authorization", "")
    if authorization.startswith(V4_ALGORITHM):
        fields = dict(_AUTH_FIELD.findall(authorization[len(V4_ALGORITHM):]))
        fields["Date"] = headers.get("x-amz-date") or params.get("X-Amz-Date", "")
        return fields
    return None


def _sign_v4(secret: str, verb: str, path: str, params: Mapping[str, str], headers: Mapping[str, str],
             body_hash: str, fields: Mapping[str, str]) -> str:
    try:
        _, date, region, service, terminal = fields["Credential"].split("/")
    except (KeyError, ValueError):
        raise SignatureError("malformed v4 credential scope") from None
    if not fields["Date"].startswith(date):
        raise SignatureError("Request date mismatch error")
    signed = fields.get("SignedHeaders", "")
    # Keystone's signer: signed headers the front end did not forward are left out, and
    # a POST's parameters travel in its (hashed) body, not in the canonical query.
    canonical_headers = "".join(f"{h}:{headers[h]}\n" for h in signed.split(";") if h in headers) or "\n"
    query = "" if verb.upper() == "POST" else _query(params, "X-Amz-Signature")
    canonical = "\n".join([verb.upper(), path, query, canonical_headers, signed, body_hash])
    scope = f"{date}/{region}/{service}/{terminal}"
    to_sign = "\n".join([V4_ALGORITHM, fields["Date"], scope, hashlib.sha256(canonical.encode()).hexdigest()])
    key = ("AWS4" + secret).encode("utf-8")
    for part in (date, region, service, terminal):
        key = hmac.new(key, part.encode("utf-8"), hashlib.sha256).digest()
    return hmac.new(key, to_sign.encode("utf-8"), hashlib.sha256).hexdigest()


def _query(params: Mapping[str, str], signature_key: str) -> str:
    """The canonical query string: names and values percent-encoded, sorted by name."""
    return "&".join(f"{_quote(k)}={_quote(v)}" for k, v in sorted(params.items()) if k != signature_key)


def _sign_v2(secret: str, verb: str, host: str, path: str, params: Mapping[str, str]) -> str:
    # Keystone signs version 2 with HMAC-SHA256 whatever SignatureMethod says.
    query = _query({**params, "SignatureMethod": "HmacSHA256"}, "Signature")
    return _hmac_b64(secret, f"{verb}\n{host}\n{path}\n{query}", hashlib.sha256)


def signature(secret: str, request: Mapping) -> str:
    """The signature ``request`` (the ``credentials`` object of an ec2tokens body) should carry."""
    params = {str(k): str(v) for k, v in (request.get("params") or {}).items()}
    headers = {str(k).lower().strip(): str(v).strip() for k, v in (request.get("headers") or {}).items()}
    verb, host, path = (str(request.get(k) or "") for k in ("verb", "host", "path"))
    fields = _v4_fields(params, headers)
    version = params.get("SignatureVersion")
    if fields is not None and version not in ("0", "1", "2"):
        body_hash = str(request.get("body_hash") or hashlib.sha256(b"").hexdigest())
        return _sign_v4(secret, verb, path or "/", params, headers, body_hash, fields)
    if version == "2":
        return _sign_v2(secret, verb, host, path, params)
    if version == "1":
        text = "".join(k + params[k] for k in sorted(params, key=str.lower) if k != "Signature")
        return _hmac_b64(secret, text, hashlib.sha1)
    if version == "0":
        return _hmac_b64(secret, params.get("Action", "") + params.get("Timestamp", ""), hashlib.sha1)
    if version is None:
        raise SignatureError("Unexpected signature format")
    raise SignatureError(f"Unknown signature version: {version}")


def matches(secret: str, request: Mapping, given: str) -> bool:
    """Whether ``given`` signs ``request``; like Keystone, a host signed without its port
    is accepted too (some clients drop it)."""
    if hmac.compare_digest(signature(secret, request), given):
        return True
    host = str(request.get("host") or "")
    if ":" in host:
        bare = urllib.parse.urlsplit("//" + host).hostname or ""
        return hmac.compare_digest(signature(secret, {**request, "host": bare}), given)
    return False
