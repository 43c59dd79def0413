"""Security compliance through the Keystone v3 API: lockout, password regex, history,
minimum age, expiry, change at first use, ``lock_password``, and the
``/v3/domains/default/config/security_compliance`` reads, with Keystone's messages.

Each test configures the cloud's rules for its own duration (the shared cloud runs
with all of them off, as Keystone does by default)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import time

import pytest
import sqlalchemy as sa
from test_identity_trusts import TOKENS, assert_error

from pocketstack.identity import models as m
from pocketstack.identity.compliance import SecurityCompliance

from conftest import unique

CONFIG = "/identity/v3/domains/default/config/security_compliance"


@pytest.fixture
def rules(cloud):
    """Set the cloud's security compliance rules: ``rules(lockout_failure_attempts=3)``."""
    identity = cloud.identity
    original = identity.compliance

    def configure(**settings):
        identity.compliance = dataclasses.replace(SecurityCompliance(), **settings)

    yield configure
    identity.compliance = original


def create_user(api, admin_token, password, **more):
    return api.request("POST", "/identity/v3/users", admin_token,
                       json={"user": {"name": unique("sc"), "password": password, **more}})


def login(api, user_id, password):
    return api.request("POST", TOKENS, json={"auth": {"identity": {"methods": ["password"], "password": {
        "user": {"id": user_id, "password": password}}}}})


def change(api, user_id, original, new):
    return api.request("POST", f"/identity/v3/users/{user_id}/password",
                       json={"user": {"original_password": original, "password": new}})


def test_lockout_after_failed_attempts_then_unlock(api, admin_token, rules):
    rules(lockout_failure_attempts=3, lockout_duration=1)
    user = create_user(api, admin_token, "right-pw-1").json()["user"]
    for _ in range(3):
        assert_error(login(api, user["id"], "wrong-pw"), 401, "The request you have made requires authentication.")
    assert_error(login(api, user["id"], "right-pw-1"), 401, f"The account is locked for user: {user['id']}.")
    time.sleep(1.1)
    assert login(api, user["id"], "right-pw-1").status_code == 201
    # A success resets the count: two more failures do not lock.
    for _ in range(2):
        login(api, user["id"], "wrong-pw")
    assert login(api, user["id"], "right-pw-1").status_code == 201


def test_lockout_can_be_ignored_per_user(api, admin_token, rules):
    rules(lockout_failure_attempts=1, lockout_duration=0)
    user = create_user(api, admin_token, "right-pw-1", options={"ignore_lockout_failure_attempts": True}).json()["user"]
    for _ in range(3):
        login(api, user["id"], "wrong-pw")
    assert login(api, user["id"], "right-pw-1").status_code == 201


def test_password_regex(api, admin_token, rules):
    rules(password_regex=r"^(?=.*\d)(?=.*[a-zA-Z]).{7,}$",
          password_regex_description="at least 1 letter, 1 digit and 7 characters")
    message = "The password does not match the requirements: at least 1 letter, 1 digit and 7 characters."
    assert_error(create_user(api, admin_token, "short"), 400, message)
    user = create_user(api, admin_token, "long-enough-1").json()["user"]
    assert_error(api.request("PATCH", f"/identity/v3/users/{user['id']}", admin_token,
                             json={"user": {"password": "nodigits"}}), 400, message)
    assert_error(change(api, user["id"], "long-enough-1", "x"), 400, message)
    assert change(api, user["id"], "long-enough-1", "another-one-2").status_code == 204
    config = api.request("GET", CONFIG, admin_token).json()["config"]["security_compliance"]
    assert config == {"password_regex": r"^(?=.*\d)(?=.*[a-zA-Z]).{7,}$",
                      "password_regex_description": "at least 1 letter, 1 digit and 7 characters"}


def test_password_history(api, admin_token, rules):
    rules(unique_last_password_count=2)
    user = create_user(api, admin_token, "first-pw-1").json()["user"]
    assert change(api, user["id"], "first-pw-1", "second-pw-2").status_code == 204
    message = ("The new password cannot be identical to a previous password. The total number which includes the new "
               "password must be unique is 2.")
    assert_error(change(api, user["id"], "second-pw-2", "first-pw-1"), 400, message)
    assert_error(change(api, user["id"], "second-pw-2", "second-pw-2"), 400, message)
    assert change(api, user["id"], "second-pw-2", "third-pw-3").status_code == 204
    # Only the last two count; and an administrator's reset is not held to the history.
    assert change(api, user["id"], "third-pw-3", "first-pw-1").status_code == 204
    r = api.request("PATCH", f"/identity/v3/users/{user['id']}", admin_token, json={"user": {"password": "first-pw-1"}})
    assert r.status_code == 200


def test_minimum_password_age(api, admin_token, rules):
    rules(minimum_password_age=1)
    user = create_user(api, admin_token, "first-pw-1").json()["user"]
    # The administrator's password may be changed at once; the user's own not for a day.
    assert change(api, user["id"], "first-pw-1", "second-pw-2").status_code == 204
    assert_error(change(api, user["id"], "second-pw-2", "third-pw-3"), 400,
                 "You cannot change your password at this time due to the minimum password age. Once you change your "
                 "password, it must be used for 1 day(s) before it can be changed. Please try again in 0 day(s) or "
                 "contact your administrator to reset your password.")


def test_password_expiry(api, cloud, admin_token, rules):
    rules(password_expires_days=30)
    user = create_user(api, admin_token, "first-pw-1").json()["user"]
    expires = dt.datetime.fromisoformat(user["password_expires_at"])
    assert abs(expires - (dt.datetime.utcnow() + dt.timedelta(days=30))) < dt.timedelta(minutes=1)
    with cloud.identity.db.session() as s:
        s.execute(sa.update(m.User).where(m.User.id == user["id"]).values(
            password_expires_at=dt.datetime.utcnow() - dt.timedelta(seconds=1)))
    assert_error(login(api, user["id"], "first-pw-1"), 401,
                 f"The password is expired and needs to be changed for user: {user['id']}.")
    assert change(api, user["id"], "first-pw-1", "second-pw-2").status_code == 204
    assert login(api, user["id"], "second-pw-2").status_code == 201


def test_change_password_upon_first_use(api, admin_token, rules):
    rules(change_password_upon_first_use=True)
    user = create_user(api, admin_token, "given-pw-1").json()["user"]
    assert_error(login(api, user["id"], "given-pw-1"), 401,
                 f"The password is expired and needs to be changed for user: {user['id']}.")
    assert change(api, user["id"], "given-pw-1", "chosen-pw-2").status_code == 204
    assert login(api, user["id"], "chosen-pw-2").status_code == 201
    # An administrator's reset must be changed again; a user exempted need not.
    api.request("PATCH", f"/identity/v3/users/{user['id']}", admin_token, json={"user": {"password": "reset-pw-3"}})
    assert_error(login(api, user["id"], "reset-pw-3"), 401)
    exempt = create_user(api, admin_token, "given-pw-1",
                         options={"ignore_change_password_upon_first_use": True}).json()["user"]
    assert login(api, exempt["id"], "given-pw-1").status_code == 201


def test_lock_password_forbids_self_service(api, admin_token, rules):
    rules()
    user = create_user(api, admin_token, "first-pw-1", options={"lock_password": True}).json()["user"]
    assert_error(change(api, user["id"], "first-pw-1", "second-pw-2"), 400,
                 "You cannot change your password at this time due to password policy disallowing password changes. "
                 "Please contact your administrator to reset your password.")


def test_security_compliance_config_reads(api, admin_token, demo_token, rules):
    rules()
    body = api.request("GET", CONFIG, demo_token).json()
    assert body == {"config": {"security_compliance": {"password_regex": None, "password_regex_description": None}}}
    rules(password_regex="^.{8,}$")
    regex = api.request("GET", CONFIG + "/password_regex", demo_token).json()
    assert regex == {"config": {"password_regex": "^.{8,}$"}}
    assert_error(api.request("GET", CONFIG + "/lockout_duration", demo_token), 403,
                 "Invalid domain specific configuration: Reading security compliance values other than password_regex "
                 "and password_regex_description is not allowed..")
    assert_error(api.request("GET", "/identity/v3/domains/other/config/security_compliance", demo_token), 403)
    assert api.request("GET", CONFIG).status_code == 401
