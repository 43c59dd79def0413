"""bcrypt hashing and the verified-secret cache in front of it."""

from __future__ import annotations

import time

from pocketstack.identity import passwords
from pocketstack.identity.passwords import VerifiedSecrets, hash_password


def count_bcrypt(monkeypatch):
    calls = []
    real = passwords.check_password

    def counting(secret, hashed):
        calls.append(secret)
        return real(secret, hashed)

    monkeypatch.setattr(passwords, "check_password", counting)
    return calls


def test_hits_skip_bcrypt_and_misses_always_pay(monkeypatch):
    calls = count_bcrypt(monkeypatch)
    cache = VerifiedSecrets(ttl=60)
    hashed = hash_password("right", 4)
    assert cache.check("right", hashed) and cache.check("right", hashed)
    assert len(calls) == 1, "the second correct check must not run bcrypt"
    assert not cache.check("wrong", hashed) and not cache.check("wrong", hashed)
    assert calls[1:] == ["wrong", "wrong"], "wrong guesses are never cached"


def test_new_hash_and_expiry_and_disabled(monkeypatch):
    calls = count_bcrypt(monkeypatch)
    cache = VerifiedSecrets(ttl=0.2)
    old, new = hash_password("pw", 4), hash_password("pw2", 4)
    assert cache.check("pw", old)
    assert not cache.check("pw", new), "a changed password (new hash) misses the cache"
    time.sleep(0.25)
    assert cache.check("pw", old)
    assert len(calls) == 3
    off = VerifiedSecrets(ttl=0)
    assert off.check("pw", old) and off.check("pw", old)
    assert len(calls) == 5
    assert not cache.check(None, old) and not cache.check("pw", None)
