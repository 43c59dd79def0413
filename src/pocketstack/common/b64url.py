"""Base64url without padding (RFC 7515 §2), the spelling of Fernet and JWS tokens."""

from __future__ import annotations

import base64


def encode(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def decode(text: str) -> bytes:
    """The bytes behind ``text``, which must be exactly as :func:`encode` writes them.
    Python's decoder would also take the standard alphabet, padding, extra ``=``, stray
    characters and non-zero trailing bits, so one token could be presented in many
    spellings (each a distinct cache key and log value); re-encoding the decoded bytes
    and comparing admits exactly one.  Raises ``ValueError`` (``UnicodeEncodeError`` for
    non-ASCII text)."""
    encoded = text.encode("ascii")
    raw = base64.b64decode(encoded + b"=" * (-len(encoded) % 4), altchars=b"-_", validate=True)
    if encode(raw) != text:
        raise ValueError("not in canonical base64url form")
    return raw
