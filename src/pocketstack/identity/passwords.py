"""Password hashing with bcrypt.

Hashing costs ~2^rounds work on purpose, so it is never done inside a database
transaction.  bcrypt only reads the first 72 bytes of a password; longer passwords are
truncated the way bcrypt always has, explicitly, so bcrypt>=5 accepts them.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import threading
import time
from concurrent.futures import Future

import bcrypt

MAX_PASSWORD_LENGTH = 4096

# Hashes started ahead of need (hash_ahead), by (password, rounds); checks started ahead
# of need (check_ahead), by (password, hash).
_ahead: dict[tuple[str, int], Future[str]] = {}
_checks: dict[tuple[str, str], Future[bool]] = {}
_ahead_lock = threading.Lock()


def _prepare(password: str) -> bytes:
    return password.encode("utf-8")[:72]


def generate_password() -> str:
    return secrets.token_urlsafe(12)


def hash_password(password: str, rounds: int) -> str:
    with _ahead_lock:
        ahead = _ahead.pop((password, rounds), None)
    if ahead is not None:
        return ahead.result()
    return bcrypt.hashpw(_prepare(password), bcrypt.gensalt(rounds)).decode("ascii")


def hash_ahead(password: str, rounds: int) -> None:
    """Start hashing ``password`` in a background thread; the next :func:`hash_password`
    of it takes that hash (a fresh salt all the same: it is made now instead of then).

    A server start knows the passwords bootstrap will hash (admin's, demo's) long before
    it gets there, and bcrypt releases the GIL: on a machine with a free core the hashes
    are made while start-up imports and migrates, instead of after."""
    future: Future[str] = Future()

    def run() -> None:
        try:
            future.set_result(bcrypt.hashpw(_prepare(password), bcrypt.gensalt(rounds)).decode("ascii"))
        except BaseException as error:  # handed to hash_password's caller
            future.set_exception(error)

    with _ahead_lock:
        _ahead[(password, rounds)] = future
    threading.Thread(target=run, name="bcrypt ahead", daemon=True).start()


def check_ahead(password: str, hashed: str) -> None:
    """Start checking ``password`` against ``hashed`` in a background thread; the next
    :func:`matches` of the two takes the answer.  A restart given the admin password
    checks the stored hash (Keystone's bootstrap resets the password only when the
    check fails) while start-up imports, as :func:`hash_ahead` hashes."""
    future: Future[bool] = Future()

    def run() -> None:
        try:
            future.set_result(check_password(password, hashed))
        except BaseException as error:  # handed to matches' caller
            future.set_exception(error)

    with _ahead_lock:
        _checks[(password, hashed)] = future
    threading.Thread(target=run, name="bcrypt check ahead", daemon=True).start()


def matches(password: str, hashed: str | None) -> bool:
    """Whether ``password`` matches ``hashed``: the answer of :func:`check_ahead`, or
    checked now."""
    if not hashed:
        return False
    with _ahead_lock:
        ahead = _checks.pop((password, hashed), None)
    return ahead.result() if ahead is not None else check_password(password, hashed)


def forget_ahead() -> None:
    """Drop the hashes and checks made ahead that nothing used (a user that already
    existed): the passwords they are keyed by do not stay in memory."""
    with _ahead_lock:
        _ahead.clear()
        _checks.clear()


def check_password(password: str | None, hashed: str | None) -> bool:
    if not password or not hashed:
        return False
    try:
        return bcrypt.checkpw(_prepare(password), hashed.encode("ascii"))
    except ValueError:
        return False


class VerifiedSecrets:
    """Remembers, for a short while, that a secret matched a bcrypt hash.

    Clients authenticate again and again with the same password or application
    credential (a CI job issues a token per step); a full bcrypt check each time makes
    token issue cost ~2^rounds work per request.  After a successful check this keeps
    ``HMAC-SHA256(process key, hash || secret)`` keyed by the hash, so the next
    request with the same secret is answered by one HMAC.

    What bcrypt protects is unchanged: the database still holds only bcrypt hashes; a
    wrong guess is never cached and always pays the full bcrypt price, so online
    guessing is as slow as before; the process key is random per process and never
    leaves memory; a changed password has a new hash and so misses the cache.
    ``ttl=0`` turns it off.
    """

    def __init__(self, ttl: float, max_entries: int = 10_000):
        self.ttl = ttl
        self.max_entries = max_entries
        self._key = os.urandom(32)
        self._entries: dict[str, tuple[bytes, float]] = {}
        self._lock = threading.Lock()

    def _digest(self, secret: str, hashed: str) -> bytes:
        return hmac.new(self._key, hashed.encode() + b"\0" + secret.encode("utf-8"), hashlib.sha256).digest()

    def check(self, secret: str | None, hashed: str | None) -> bool:
        if not secret or not hashed:
            return False
        if self.ttl > 0:
            with self._lock:
                entry = self._entries.get(hashed)
            if entry and entry[1] > time.monotonic() and hmac.compare_digest(entry[0], self._digest(secret, hashed)):
                return True
        if not check_password(secret, hashed):
            return False
        if self.ttl > 0:
            with self._lock:
                if len(self._entries) >= self.max_entries:
                    now = time.monotonic()
                    self._entries = {h: e for h, e in self._entries.items() if e[1] > now}
                    if len(self._entries) >= self.max_entries:
                        self._entries.clear()
                self._entries[hashed] = (self._digest(secret, hashed), time.monotonic() + self.ttl)
        return True
