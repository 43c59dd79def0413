"""The ``totp`` auth method, MFA rules and auth receipts through the Keystone v3 API."""

from __future__ import annotations

import base64
import os
import time

import pytest
from test_identity_trusts import TOKENS, assert_error

from pocketstack.identity.totp import decode_secret, totp

from conftest import ADMIN_PASSWORD, unique

RECEIPT = "Openstack-Auth-Receipt"
PASSWORD = "mfa-pw-1"


def new_secret() -> str:
    return base64.b32encode(os.urandom(20)).decode().rstrip("=")


def passcode(secret: str, at: float | None = None) -> str:
    return totp(decode_secret(secret), time.time() if at is None else at)


@pytest.fixture
def mfa_user(api, admin_token):
    """A user with a password and a ``totp`` credential: (user, secret)."""
    user = api.request("POST", "/identity/v3/users", admin_token,
                       json={"user": {"name": unique("mfa"), "password": PASSWORD}}).json()["user"]
    secret = new_secret()
    r = api.request("POST", "/identity/v3/credentials", admin_token,
                    json={"credential": {"type": "totp", "user_id": user["id"], "blob": secret}})
    assert r.status_code == 201, r.text
    return user, secret


def set_rules(api, admin_token, user_id, rules, enabled=True):
    r = api.request("PATCH", f"/identity/v3/users/{user_id}", admin_token, json={"user": {"options": {
        "multi_factor_auth_rules": rules, "multi_factor_auth_enabled": enabled}}})
    assert r.status_code == 200, r.text
    return r.json()["user"]


def totp_method(user_id, code):
    return {"totp": {"user": {"id": user_id, "passcode": code}}}


def password_method(user_id, password=PASSWORD):
    return {"password": {"user": {"id": user_id, "password": password}}}


def login(api, methods: dict, receipt: str | None = None):
    headers = {RECEIPT: receipt} if receipt else {}
    return api.request("POST", TOKENS, headers=headers,
                       json={"auth": {"identity": {"methods": list(methods), **methods}}})


def test_totp_issues_a_token(api, mfa_user):
    user, secret = mfa_user
    r = login(api, totp_method(user["id"], passcode(secret)))
    assert r.status_code == 201, r.text
    assert r.json()["token"]["methods"] == ["totp"] and r.json()["token"]["user"]["id"] == user["id"]
    # By name and domain too, and with the previous window's passcode (Keystone's default).
    r = api.request("POST", TOKENS, json={"auth": {"identity": {"methods": ["totp"], "totp": {"user": {
        "name": user["name"], "domain": {"name": "Default"}, "passcode": passcode(secret, time.time() - 30)}}}}})
    assert r.status_code == 201, r.text
    shown = api.request("GET", TOKENS, r.headers["X-Subject-Token"],
                        headers={"X-Subject-Token": r.headers["X-Subject-Token"]})
    assert shown.json()["token"]["methods"] == ["totp"]


def test_wrong_expired_and_missing_passcodes_are_401(api, admin_token, mfa_user):
    user, secret = mfa_user
    good = passcode(secret)
    wrong = f"{(int(good) + 1) % 1000000:06d}"
    for code in (wrong, passcode(secret, time.time() - 60), passcode(secret, time.time() + 60), ""):
        assert_error(login(api, totp_method(user["id"], code)), 401, "Invalid username or TOTP passcode")
    # A user without a totp credential, and a passcode of no one's.
    other = api.request("POST", "/identity/v3/users", admin_token,
                        json={"user": {"name": unique("nototp"), "password": PASSWORD}}).json()["user"]
    assert_error(login(api, totp_method(other["id"], good)), 401, "Invalid username or TOTP passcode")
    assert login(api, totp_method(unique("nobody"), good)).status_code == 401
    assert_error(login(api, {"totp": {"user": {"id": user["id"]}}}), 401, "Invalid username or TOTP passcode")
    # A passcode that is not a string is a schema error; a missing user a 400.
    assert login(api, totp_method(user["id"], 123456)).status_code == 400
    assert login(api, {"totp": {}}).status_code == 400
    # A disabled user's passcodes no longer work.
    api.request("PATCH", f"/identity/v3/users/{user['id']}", admin_token, json={"user": {"enabled": False}})
    assert login(api, totp_method(user["id"], passcode(secret))).status_code == 401


def test_a_method_not_enabled_is_401(api, cloud, mfa_user, monkeypatch):
    user, secret = mfa_user
    monkeypatch.setattr(cloud.identity.tokens, "methods", ["password", "token", "application_credential"])
    assert_error(login(api, totp_method(user["id"], passcode(secret))), 401,
                 "Attempted to authenticate with an unsupported method: totp.")


def test_mfa_rule_partly_met_gets_a_receipt_then_a_token(api, admin_token, mfa_user):
    user, secret = mfa_user
    set_rules(api, admin_token, user["id"], [["password", "totp"]])
    partial = login(api, password_method(user["id"]))
    assert partial.status_code == 401
    receipt = partial.headers[RECEIPT]
    body = partial.json()
    assert body["required_auth_methods"] == [["totp", "password"]]
    assert body["receipt"]["methods"] == ["password"]
    assert body["receipt"]["user"] == {"id": user["id"], "name": user["name"],
                                       "domain": {"id": "default", "name": "Default"}}
    assert body["receipt"]["expires_at"] > body["receipt"]["issued_at"]
    # The receipt and the missing method get the token, which lists both methods.
    r = login(api, totp_method(user["id"], passcode(secret)), receipt)
    assert r.status_code == 201, r.text
    assert r.json()["token"]["methods"] == ["totp", "password"]
    # Both methods at once need no receipt; a receipt is no token.
    both = login(api, {**password_method(user["id"]), **totp_method(user["id"], passcode(secret))})
    assert both.status_code == 201 and both.json()["token"]["methods"] == ["totp", "password"]
    assert api.request("GET", "/identity/v3/auth/projects", receipt).status_code == 401
    # The receipt does not stand in for a wrong second factor.
    assert login(api, totp_method(user["id"], "000000"), receipt).status_code == 401
    # Rescoping keeps the methods, which still meet the rule.
    token = r.headers["X-Subject-Token"]
    rescoped = api.request("POST", TOKENS, json={"auth": {"identity": {"methods": ["token"], "token": {"id": token}}}})
    assert rescoped.status_code == 201 and rescoped.json()["token"]["methods"] == ["totp", "token", "password"]
    # Rules switched off: the password alone is enough again.
    set_rules(api, admin_token, user["id"], [["password", "totp"]], enabled=False)
    assert login(api, password_method(user["id"])).status_code == 201


def test_a_single_method_rule_and_rules_of_disabled_methods(api, admin_token, mfa_user):
    user, secret = mfa_user
    # [["password"], ["password", "totp"]]: password alone is enough.
    set_rules(api, admin_token, user["id"], [["password"], ["password", "totp"]])
    assert login(api, password_method(user["id"])).status_code == 201
    # totp alone meets no rule: the receipt lists the rules it belongs to.
    partial = login(api, totp_method(user["id"], passcode(secret)))
    assert partial.status_code == 401 and partial.json()["required_auth_methods"] == [["totp", "password"]]
    # A rule naming only methods this cloud does not enable is ignored (no lock-out).
    set_rules(api, admin_token, user["id"], [["external", "mapped"]])
    assert login(api, password_method(user["id"])).status_code == 201


def test_bad_receipts_are_401(api, admin_token, cloud, mfa_user, monkeypatch):
    user, secret = mfa_user
    set_rules(api, admin_token, user["id"], [["password", "totp"]])
    receipt = login(api, password_method(user["id"])).headers[RECEIPT]
    middle = len(receipt) // 2
    tampered = receipt[:middle] + ("A" if receipt[middle] != "A" else "B") + receipt[middle + 1:]
    # A tampered receipt, garbage, and a token (which is no receipt).
    for bad in (tampered, "not-a-receipt", api.token("admin", ADMIN_PASSWORD)):
        assert_error(login(api, totp_method(user["id"], passcode(secret)), bad), 401,
                     f"Could not find auth receipt: {bad}.")
    # Another user's receipt.
    other = api.request("POST", "/identity/v3/users", admin_token,
                        json={"user": {"name": unique("mfa"), "password": PASSWORD}}).json()["user"]
    set_rules(api, admin_token, other["id"], [["password", "totp"]])
    theirs = login(api, password_method(other["id"])).headers[RECEIPT]
    assert login(api, totp_method(user["id"], passcode(secret)), theirs).status_code == 401
    # An expired receipt.
    monkeypatch.setattr(cloud.identity.tokens, "receipt_expiration", 0)
    expired = login(api, password_method(user["id"])).headers[RECEIPT]
    assert_error(login(api, totp_method(user["id"], passcode(secret)), expired), 401,
                 f"Could not find auth receipt: {expired}.")


def test_mfa_rule_options_are_validated(api, admin_token, mfa_user):
    user, _ = mfa_user
    for rules in ([[]], [["password", "password"]], [["password"], ["password"]], [[1]], "password", [["a"], "b"]):
        r = api.request("PATCH", f"/identity/v3/users/{user['id']}", admin_token,
                        json={"user": {"options": {"multi_factor_auth_rules": rules}}})
        assert r.status_code == 400, (rules, r.text)
    r = api.request("PATCH", f"/identity/v3/users/{user['id']}", admin_token,
                    json={"user": {"options": {"multi_factor_auth_enabled": "yes"}}})
    assert r.status_code == 400
    shown = set_rules(api, admin_token, user["id"], [["password", "totp"]])
    assert shown["options"] == {"multi_factor_auth_rules": [["password", "totp"]], "multi_factor_auth_enabled": True}
    cleared = api.request("PATCH", f"/identity/v3/users/{user['id']}", admin_token, json={"user": {"options": {
        "multi_factor_auth_rules": None, "multi_factor_auth_enabled": None}}})
    assert cleared.json()["user"]["options"] == {}
