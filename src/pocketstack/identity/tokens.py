"""Tokens: what a token carries, and the Fernet provider that seals it.

A token is never stored.  It is a msgpack payload encrypted and authenticated with the
primary key of the :class:`KeyRepository`; validation decrypts it and re-checks
everything that can change (user, scope, roles, revocations) against the database.
Ids that are 32-character hex uuids are packed as 16 raw bytes to keep tokens short.
The other provider, JWS (``token_provider = "jws"``), signs the same payload as JSON
claims instead (:mod:`pocketstack.identity.jws`).
"""

from __future__ import annotations

import base64
import os
import threading
import time
import uuid
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Protocol

import msgpack

from pocketstack.common import b64url
from pocketstack.common.lazy import lazy
from pocketstack.identity.keys import KeyRepository

# Imported by the first token sealed or opened (KeyRepository.fernet), not at start.
fernet = lazy("cryptography.fernet")

PAYLOAD_VERSION = 1
# Bit positions are part of the token format: append, never reorder.  Five are the
# federation protocols a mapped sign-in may use (identity/federation.py).
METHODS = ("password", "token", "application_credential", "totp", "ec2credential",
           "mapped", "saml2", "openid", "x509", "kerberos", "oauth1")
SCOPE_UNSCOPED, SCOPE_PROJECT, SCOPE_DOMAIN, SCOPE_SYSTEM = 0, 1, 2, 3


class TokenError(Exception):
    """The token cannot be read: bad format, wrong key or tampered with."""


def new_audit_id() -> str:
    return b64url.encode(os.urandom(16))


def _pack_id(value: str | None) -> bytes | str | None:
    if value and len(value) == 32:
        try:
            return uuid.UUID(hex=value).bytes
        except ValueError:
            pass
    return value


def _unpack_id(value: bytes | str | None) -> str | None:
    if isinstance(value, bytes):
        return uuid.UUID(bytes=value).hex
    return value


def _pack_audit(audit_id: str) -> bytes:
    return base64.urlsafe_b64decode(audit_id + "==")


@dataclass
class TokenPayload:
    user_id: str
    methods: list[str]
    expires_at: float
    issued_at: float = field(default_factory=time.time)
    scope_type: int = SCOPE_UNSCOPED
    scope_id: str | None = None  # project or domain id; "all" for system
    audit_ids: list[str] = field(default_factory=lambda: [new_audit_id()])
    application_credential_id: str | None = None
    trust_id: str | None = None  # set on trust-scoped tokens (scope_type is then SCOPE_PROJECT)
    # A federated (ephemeral) user's token: the identity provider and protocol it signed
    # in through, and the groups its mapping gave it (they hold for this token only).
    idp_id: str | None = None
    protocol_id: str | None = None
    group_ids: list[str] = field(default_factory=list)
    # An OAuth 1.0a token (OS-OAUTH1): the access token it was issued from (identity/oauth1.py).
    access_token_id: str | None = None

    @property
    def audit_chain_id(self) -> str:
        return self.audit_ids[-1]


class Formatter(Protocol):
    """A token provider: seals a payload into a token and opens it again (raising
    :class:`TokenError` for anything it did not seal, or no longer can check)."""

    def seal(self, payload: TokenPayload) -> str: ...

    def open(self, token: str) -> TokenPayload: ...


class TokenFormatter:
    """The Fernet provider (Keystone's default, ``token_provider = "fernet"``).

    Tokens opened are remembered (a bounded LRU) with the key set that opened them: while
    :meth:`KeyRepository.fernet` returns that same key set, opening the token again gives
    the same payload, so the decryption is skipped; once the keys change (rotation, a key
    removed) every token is decrypted afresh with the new set."""

    def __init__(self, keys: KeyRepository, max_opened: int = 10_000):
        self.keys = keys
        self.max_opened = max_opened
        self._opened: OrderedDict[str, tuple[object, TokenPayload]] = OrderedDict()
        self._lock = threading.Lock()

    def seal(self, payload: TokenPayload) -> str:
        methods = sum(1 << METHODS.index(m) for m in payload.methods)
        raw = msgpack.packb([
            PAYLOAD_VERSION, _pack_id(payload.user_id), methods, payload.expires_at, payload.issued_at,
            payload.scope_type, _pack_id(payload.scope_id), [_pack_audit(a) for a in payload.audit_ids],
            _pack_id(payload.application_credential_id), _pack_id(payload.trust_id),
            [payload.idp_id, payload.protocol_id, [_pack_id(g) for g in payload.group_ids]]
            if payload.idp_id else None,
            *([_pack_id(payload.access_token_id)] if payload.access_token_id else []),
        ])
        return self.keys.fernet().encrypt(raw).rstrip(b"=").decode()

    def open(self, token: str) -> TokenPayload:
        keys = self.keys.fernet()
        with self._lock:
            hit = self._opened.get(token)
            if hit is not None and hit[0] is keys:
                self._opened.move_to_end(token)
                return hit[1]
        payload = self._open(keys, token)
        with self._lock:
            self._opened[token] = (keys, payload)
            self._opened.move_to_end(token)
            while len(self._opened) > self.max_opened:
                self._opened.popitem(last=False)
        return payload

    @staticmethod
    def _open(keys, token: str) -> TokenPayload:
        try:
            raw = keys.decrypt(base64.urlsafe_b64encode(b64url.decode(token)))
            # Tokens sealed before trusts (federation, OAuth) existed lack those fields: read them as None.
            (version, user_id, methods, expires_at, issued_at, scope_type, scope_id, audit_ids,
             app_cred_id, trust_id, federated, access_token_id) = [*msgpack.unpackb(raw), None, None, None][:12]
            idp_id, protocol_id, group_ids = federated or (None, None, [])
        except (fernet.InvalidToken, UnicodeEncodeError, ValueError, TypeError, msgpack.UnpackException) as exc:
            raise TokenError("Could not recognize Fernet token") from exc
        if version != PAYLOAD_VERSION:
            raise TokenError("Unsupported token version")
        user_id = _unpack_id(user_id)
        if user_id is None:
            raise TokenError("Could not recognize Fernet token")
        return TokenPayload(
            user_id=user_id,
            methods=[m for i, m in enumerate(METHODS) if methods & (1 << i)],
            expires_at=expires_at, issued_at=issued_at, scope_type=scope_type,
            scope_id=_unpack_id(scope_id), audit_ids=[b64url.encode(a) for a in audit_ids],
            application_credential_id=_unpack_id(app_cred_id), trust_id=_unpack_id(trust_id),
            idp_id=idp_id, protocol_id=protocol_id, group_ids=[g for g in map(_unpack_id, group_ids) if g],
            access_token_id=_unpack_id(access_token_id),
        )
