"""Time-based one-time passwords (RFC 6238), as Keystone's ``totp`` auth method uses them.

A ``totp`` credential's blob is the user's shared secret in base32 (padding optional,
as authenticator apps show it).  Keystone's passcodes are 6 digits of HMAC-SHA1 over
30-second windows; it accepts the current window's passcode and those of
``included_previous_windows`` windows before it (never a future one).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import struct

PASSCODE_LENGTH = 6
TIME_STEP = 30


def hotp(key: bytes, counter: int, digits: int = PASSCODE_LENGTH, digest: str = "sha1") -> str:
    """RFC 4226's HOTP value of ``counter`` (with RFC 6238's choice of hash)."""
    mac = hmac.new(key, struct.pack(">Q", counter), getattr(hashlib, digest)).digest()
    offset = mac[-1] & 0x0F
    code = struct.unpack(">I", mac[offset:offset + 4])[0] & 0x7FFFFFFF
    return str(code % 10 ** digits).zfill(digits)


def totp(key: bytes, at: float, digits: int = PASSCODE_LENGTH, digest: str = "sha1") -> str:
    """RFC 6238's TOTP value at Unix time ``at`` (T0 = 0, 30-second steps)."""
    return hotp(key, int(at // TIME_STEP), digits, digest)


def decode_secret(blob: str) -> bytes:
    """The key behind a base32 ``blob``; ValueError if it is not base32."""
    text = blob.strip().upper()
    try:
        return base64.b32decode(text + "=" * (-len(text) % 8))
    except (binascii.Error, ValueError) as exc:
        raise ValueError("the TOTP secret is not base32") from exc


def accepted_passcodes(blob: str, now: float, previous_windows: int) -> set[str]:
    """The passcodes a credential with secret ``blob`` accepts at ``now``."""
    key = decode_secret(blob)
    return {totp(key, now - window * TIME_STEP) for window in range(previous_windows + 1)}


def verify(blob: str, passcode: str, now: float, previous_windows: int) -> bool:
    """Whether ``passcode`` is one of them (compared in constant time); ValueError if
    ``blob`` is not base32."""
    given = passcode.encode("utf-8")
    return any(hmac.compare_digest(given, code.encode("ascii"))
               for code in accepted_passcodes(blob, now, previous_windows))
