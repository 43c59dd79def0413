"""Access rules of application credentials: Keystone keeps them, every service enforces
them (keystonemiddleware's part, common/access_rules.py)."""

from __future__ import annotations

import pytest
from test_identity_credentials import owner  # noqa: F401 - the fixture, used by name
from test_identity_trusts import TOKENS, assert_error

from pocketstack.common.access_rules import Rule, permits

from conftest import unique

V3 = "/identity/v3"


def app_cred(api, owner, rules, **extra):
    r = api.request("POST", f"{V3}/users/{owner['user']['id']}/application_credentials", owner["token"],
                    json={"application_credential": {"name": unique("ar"), "access_rules": rules, **extra}})
    return r


def app_cred_token(api, cred):
    auth = {"identity": {"methods": ["application_credential"],
                         "application_credential": {"id": cred["id"], "secret": cred["secret"]}}}
    r = api.request("POST", TOKENS, json={"auth": auth})
    assert r.status_code == 201, r.text
    return r.headers["X-Subject-Token"], r.json()["token"]


SERVERS = {"service": "compute", "method": "GET", "path": "/v2.1/servers"}
ONE_SERVER = {"service": "compute", "method": "GET", "path": "/v2.1/servers/{server_id}"}
NETWORKS = {"service": "network", "method": "GET", "path": "/v2.0/networks"}


def test_a_token_of_a_credential_with_access_rules_reaches_only_what_they_allow(api, owner):
    made = app_cred(api, owner, [SERVERS, ONE_SERVER, NETWORKS])
    assert made.status_code == 201, made.text
    cred = made.json()["application_credential"]
    assert sorted((r["service"], r["method"], r["path"]) for r in cred["access_rules"]) == \
        sorted((r["service"], r["method"], r["path"]) for r in (SERVERS, ONE_SERVER, NETWORKS))
    assert all(r["id"] for r in cred["access_rules"])
    token, body = app_cred_token(api, cred)
    assert {r["path"] for r in body["application_credential"]["access_rules"]} == \
        {"/v2.1/servers", "/v2.1/servers/{server_id}", "/v2.0/networks"}
    assert api.request("GET", "/compute/v2.1/servers", token).status_code == 200
    assert api.request("GET", "/compute/v2.1/servers/00000000-0000-0000-0000-000000000000",
                       token).status_code == 404  # allowed, and not there
    assert api.request("GET", "/network/v2.0/networks", token).status_code == 200
    # Not in the rules: another method, path, or service -- 401 as keystonemiddleware answers.
    assert api.request("GET", "/compute/v2.1/flavors", token).status_code == 401
    assert api.request("POST", "/compute/v2.1/servers", token, json={"server": {}}).status_code == 401
    assert api.request("GET", "/compute/v2.1/os-keypairs", token).status_code == 401
    assert api.request("GET", "/network/v2.0/ports", token).status_code == 401
    assert api.request("GET", "/image/v2/images", token).status_code == 401
    assert api.request("GET", f"{V3}/projects", token).status_code == 401
    # The same user's unrestricted tokens are not affected.
    assert api.request("GET", "/compute/v2.1/flavors", owner["token"]).status_code == 200


def test_wildcards_and_service_type_aliases():
    rules = [Rule("1", "compute", "/v2.1/servers/*/action", "POST"),
             Rule("2", "volumev3", "/v3/**", "GET"),
             Rule("3", "image", "/v2/images/{image_id}/file", "PUT")]
    assert permits(rules, "compute", "POST", "/v2.1/servers/abc/action")
    assert not permits(rules, "compute", "POST", "/v2.1/servers/abc/def/action")
    assert not permits(rules, "compute", "GET", "/v2.1/servers/abc/action")
    assert permits(rules, "block-storage", "GET", "/v3/p1/volumes/detail")
    assert not permits(rules, "block-storage", "POST", "/v3/p1/volumes")
    assert permits(rules, "image", "PUT", "/v2/images/i-1/file")
    assert not permits(rules, "image", "PUT", "/v2/images/file")
    assert not permits(rules, "network", "POST", "/v2.1/servers/abc/action")
    # A rule's path is a pattern, not a regular expression.
    assert not permits([Rule("4", "compute", "/v2.1/servers.+", "GET")], "compute", "GET", "/v2.1/serversX")
    # Validating a token is always allowed (keystonemiddleware's exception).
    assert permits([], "identity", "GET", "/v3/auth/tokens")


def test_rules_are_the_users_shared_by_identical_requests_and_deleted_once_unused(api, owner, admin_token):
    user_id = owner["user"]["id"]
    first = app_cred(api, owner, [SERVERS]).json()["application_credential"]
    rule_id = first["access_rules"][0]["id"]
    second = app_cred(api, owner, [{"id": rule_id}, NETWORKS]).json()["application_credential"]
    third = app_cred(api, owner, [SERVERS]).json()["application_credential"]
    assert rule_id in {r["id"] for r in second["access_rules"]}
    assert third["access_rules"][0]["id"] == rule_id  # the same triple: the same rule
    base = f"{V3}/users/{user_id}/access_rules"
    listed = api.request("GET", base, owner["token"]).json()["access_rules"]
    assert sorted(r["path"] for r in listed) == ["/v2.0/networks", "/v2.1/servers"]
    assert all(r["links"]["self"].endswith(f"/v3/users/{user_id}/access_rules/{r['id']}") for r in listed)
    assert [r["path"] for r in api.request("GET", base + "?service=network", owner["token"]).json()[
        "access_rules"]] == ["/v2.0/networks"]
    shown = api.request("GET", f"{base}/{rule_id}", owner["token"])
    assert shown.status_code == 200 and shown.json()["access_rule"]["method"] == "GET"
    assert_error(api.request("DELETE", f"{base}/{rule_id}", owner["token"]), 403, "May not delete access rule in use")
    for cred in (first, second, third):
        assert api.request("DELETE", f"{V3}/users/{user_id}/application_credentials/{cred['id']}",
                           owner["token"]).status_code == 204
    assert api.request("DELETE", f"{base}/{rule_id}", owner["token"]).status_code == 204
    assert_error(api.request("GET", f"{base}/{rule_id}", owner["token"]), 404,
                 f"Could not find Access Rule: {rule_id}.")
    # Nobody else's: another user sees none of them; an admin does.
    assert api.request("GET", f"{V3}/users/{user_id}/access_rules", admin_token).status_code == 200


def test_another_users_rules_are_out_of_reach(api, owner, admin_token):
    from test_identity_trusts import grant, new_user, password_token

    cred = app_cred(api, owner, [SERVERS]).json()["application_credential"]
    rule_id = cred["access_rules"][0]["id"]
    other = new_user(api, admin_token)
    grant(api, admin_token, owner["project"]["id"], other["id"], "member")
    token = password_token(api, other, owner["project"]["id"]).headers["X-Subject-Token"]
    assert api.request("GET", f"{V3}/users/{owner['user']['id']}/access_rules", token).status_code == 403
    assert api.request("GET", f"{V3}/users/{other['id']}/access_rules/{rule_id}", token).status_code == 404
    # Naming someone else's rule by id does not borrow it.
    r = api.request("POST", f"{V3}/users/{other['id']}/application_credentials", token,
                    json={"application_credential": {"name": unique("ar"), "access_rules": [{"id": rule_id}]}})
    assert_error(r, 404, f"Could not find Access Rule: {rule_id}.")
    r = api.request("POST", f"{V3}/users/{other['id']}/application_credentials", token,
                    json={"application_credential": {"name": unique("ar"), "access_rules": [{"id": "nosuchrule"}]}})
    assert_error(r, 404, "Could not find Access Rule: nosuchrule.")


@pytest.mark.parametrize("rule", [
    {"service": "compute", "method": "FETCH", "path": "/v2.1/servers"},
    {"service": "compute", "method": "GET", "path": "v2.1/servers"},
    {"service": "com pute", "method": "GET", "path": "/v2.1/servers"},
    {"service": "compute", "method": "GET"},
    {"service": "compute", "method": "GET", "path": "/" + "a" * 300},
    {"service": "compute", "method": "GET", "path": "/x", "extra": 1},
    "GET /v2.1/servers",
])
def test_bad_rules_are_refused(api, owner, rule):
    assert_error(app_cred(api, owner, [rule]), 400)


def test_a_service_that_does_not_enforce_access_rules_cannot_validate_such_a_token(api, owner, admin_token):
    """Keystone's guard against an older keystonemiddleware: a token with access rules
    validates only for a service that says it enforces them."""
    cred = app_cred(api, owner, [SERVERS]).json()["application_credential"]
    token, _ = app_cred_token(api, cred)
    plain = api.request("GET", TOKENS, admin_token, headers={"X-Subject-Token": token})
    assert_error(plain, 404, "Failed to validate token")
    assert api.request("HEAD", TOKENS, admin_token, headers={"X-Subject-Token": token}).status_code == 404
    told = api.request("GET", TOKENS, admin_token,
                       headers={"X-Subject-Token": token, "OpenStack-Identity-Access-Rules": "1.0"})
    assert told.status_code == 200, told.text
    assert told.json()["token"]["application_credential"]["access_rules"][0]["path"] == "/v2.1/servers"
    # Without access rules nothing changes.
    free = app_cred(api, owner, []).json()["application_credential"]
    free_token, body = app_cred_token(api, free)
    assert "access_rules" not in body["application_credential"]
    assert api.request("GET", TOKENS, admin_token, headers={"X-Subject-Token": free_token}).status_code == 200
    assert api.request("GET", "/compute/v2.1/flavors", free_token).status_code == 200
