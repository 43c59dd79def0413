"""TOTP passcodes against RFC 6238's test vectors, Keystone's accepted windows, and
the MFA rule logic of auth receipts."""

from __future__ import annotations

import base64

import pytest

from pocketstack.identity.receipts import method_order, required_methods, satisfied, user_rules
from pocketstack.identity.totp import accepted_passcodes, decode_secret, totp, verify

# RFC 6238, appendix B: the ASCII seeds of each hash, 8-digit codes.
SEEDS = {"sha1": b"12345678901234567890", "sha256": b"12345678901234567890123456789012",
         "sha512": b"1234567890123456789012345678901234567890123456789012345678901234"}
VECTORS = [
    (59, "94287082", "46119246", "90693936"),
    (1111111109, "07081804", "68084774", "25091201"),
    (1111111111, "14050471", "67062674", "99943326"),
    (1234567890, "89005924", "91819424", "93441116"),
    (2000000000, "69279037", "90698825", "38618901"),
    (20000000000, "65353130", "77737706", "47863826"),
]


@pytest.mark.parametrize("at, sha1, sha256, sha512", VECTORS)
def test_rfc6238_vectors(at, sha1, sha256, sha512):
    for digest, expected in (("sha1", sha1), ("sha256", sha256), ("sha512", sha512)):
        assert totp(SEEDS[digest], at, digits=8, digest=digest) == expected


def test_keystone_passcodes_are_six_digits_of_the_base32_secret():
    blob = base64.b32encode(SEEDS["sha1"]).decode().rstrip("=").lower()  # padding and case are optional
    assert decode_secret(blob) == SEEDS["sha1"]
    assert accepted_passcodes(blob, 59, 0) == {"287082"}
    # The current window and the previous ones (never a future one).
    assert accepted_passcodes(blob, 1111111111, 1) == {totp(SEEDS["sha1"], 1111111111),
                                                      totp(SEEDS["sha1"], 1111111111 - 30)}
    assert totp(SEEDS["sha1"], 1111111111 + 30) not in accepted_passcodes(blob, 1111111111, 1)
    assert verify(blob, "287082", 59 + 30, 1) and not verify(blob, "287082", 59 + 60, 1)
    assert not verify(blob, "28708", 59, 1) and not verify(blob, "é", 59, 1)
    with pytest.raises(ValueError):
        decode_secret("not base32!")


ENABLED = ["password", "token", "application_credential", "totp"]


def test_mfa_rules_as_keystone_parses_them():
    options = {"multi_factor_auth_rules": [["password", "totp"], ["password", "custom"], [], "junk", [1]]}
    rules = user_rules(options, ENABLED)
    # Disabled methods drop out of a rule; empty and malformed rules are ignored.
    assert rules == [{"password", "totp"}, {"password"}]
    assert user_rules({**options, "multi_factor_auth_enabled": False}, ENABLED) == []
    assert user_rules({"multi_factor_auth_rules": [["custom"]]}, ENABLED) == []
    assert user_rules(None, ENABLED) == []


def test_rules_satisfied_and_required_methods():
    rules = [{"password", "totp"}, {"application_credential"}]
    assert satisfied([], {"password"})
    assert not satisfied(rules, {"password"})
    assert satisfied(rules, {"password", "totp", "token"})
    assert required_methods(rules, {"password"}) == [["totp", "password"]]
    assert method_order(["password", "token", "password", "totp"]) == ["totp", "token", "password"]
    assert method_order(["mapped", "password"]) == ["mapped", "password"]  # Keystone: mapped's bit is higher
    assert method_order(["oauth1", "password"]) == ["oauth1", "password"]  # Keystone: oauth1's bit is higher
    assert method_order(["webauthn", "password"]) == ["password", "webauthn"]  # a name unknown here comes last
