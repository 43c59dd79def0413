"""Multi-factor authentication: a user's MFA rules and the auth receipts of a login
that satisfied only part of them (Keystone's ``keystone/receipt``).

A user's options ``multi_factor_auth_rules`` (lists of method names) and
``multi_factor_auth_enabled`` decide which sets of methods may get a token.  A login
whose methods all succeeded but match no rule gets a 401 with a *receipt*: a Fernet
message naming the user, the methods already passed and an expiry, sealed with the
Fernet token keys (``<data_dir>/fernet-keys``, Keystone's default receipt key
repository) whatever the token provider -- made on first use on a JWS cloud.  Presented in
``Openstack-Auth-Receipt`` with the missing methods, it counts those methods as passed.
A receipt is never a token: its payload has a version of its own, which token
validation refuses (and the other way round).
"""

from __future__ import annotations

import base64
import time
from dataclasses import dataclass, field

import msgpack

from pocketstack.common import b64url
from pocketstack.identity.keys import KeyRepository
from pocketstack.identity.tokens import METHODS, _pack_id, _unpack_id, fernet

RECEIPT_HEADER = "Openstack-Auth-Receipt"
RECEIPT_VERSION = 101  # token payloads are version 1
MFA_RULES = "multi_factor_auth_rules"
MFA_ENABLED = "multi_factor_auth_enabled"


class ReceiptError(Exception):
    """The receipt cannot be read: bad format, wrong key or tampered with."""


class AuthReceiptIssued(Exception):
    """A login passed only part of its user's MFA rules: answer 401 with this receipt
    (``receipt_id`` for the header, ``body`` the receipt and the required methods)."""

    def __init__(self, receipt_id: str, body: dict):
        super().__init__("additional authentication methods are required")
        self.receipt_id = receipt_id
        self.body = body


@dataclass
class Receipt:
    user_id: str
    methods: list[str]
    expires_at: float
    issued_at: float = field(default_factory=time.time)


def method_order(methods) -> list[str]:
    """``methods`` without duplicates, in the order Keystone lists a token's or
    receipt's methods: decoded from their bit mask, highest bit (last configured) first
    (a name pocketstack does not know, from another Keystone's JWS token, last)."""
    return sorted(set(methods), key=lambda name: -METHODS.index(name) if name in METHODS else 1)


class ReceiptFormatter:
    def __init__(self, keys: KeyRepository):
        self.keys = keys

    def seal(self, receipt: Receipt) -> str:
        if not self.keys.path.exists():
            self.keys.ensure()
        methods = sum(1 << METHODS.index(name) for name in set(receipt.methods))
        raw = msgpack.packb([RECEIPT_VERSION, _pack_id(receipt.user_id), methods, receipt.expires_at,
                             receipt.issued_at])
        return self.keys.fernet().encrypt(raw).rstrip(b"=").decode()

    def open(self, receipt_id: str) -> Receipt:
        if not self.keys.path.exists():
            raise ReceiptError("No receipt was ever issued")
        try:
            raw = self.keys.fernet().decrypt(base64.urlsafe_b64encode(b64url.decode(receipt_id)))
            version, user_id, methods, expires_at, issued_at = msgpack.unpackb(raw)
        except (fernet.InvalidToken, UnicodeEncodeError, ValueError, TypeError, msgpack.UnpackException) as exc:
            raise ReceiptError("Could not recognize Fernet receipt") from exc
        user_id = _unpack_id(user_id)
        if version != RECEIPT_VERSION or not isinstance(user_id, str) or not isinstance(methods, int):
            raise ReceiptError("Could not recognize Fernet receipt")
        return Receipt(user_id=user_id, methods=[m for i, m in enumerate(METHODS) if methods & (1 << i)],
                       expires_at=expires_at, issued_at=issued_at)


def user_rules(options: dict | None, enabled_methods: list[str]) -> list[set[str]]:
    """The MFA rules that apply to a user with ``options``: none when
    ``multi_factor_auth_enabled`` is false (Keystone's code applies rules unless it
    is), each rule cut down to the enabled methods, malformed or emptied rules dropped
    (so a bad rule never locks a user out, as in Keystone)."""
    options = options or {}
    raw = options.get(MFA_RULES)
    if options.get(MFA_ENABLED, True) is False or not isinstance(raw, list):
        return []
    rules = []
    for rule in raw:
        if isinstance(rule, list) and rule and all(isinstance(name, str) for name in rule):
            wanted = set(rule) & set(enabled_methods)
            if wanted:
                rules.append(wanted)
    return rules


def satisfied(rules: list[set[str]], methods: set[str]) -> bool:
    """Whether ``methods`` (all passed) meet one of ``rules`` (or there are none)."""
    return not rules or any(rule <= methods for rule in rules)


def required_methods(rules: list[set[str]], methods: set[str]) -> list[list[str]]:
    """The rules a receipt lists as ``required_auth_methods``: those sharing a method
    with the ones already passed."""
    return [method_order(rule) for rule in rules if rule & methods]
