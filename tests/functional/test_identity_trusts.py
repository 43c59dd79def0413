"""Trusts (OS-TRUST) through the Keystone v3 API: create, read, delete, trust-scoped
tokens with and without impersonation, role subsets, remaining uses (exact under
concurrency), expiry, redelegation, and revocation of a trust's tokens."""

from __future__ import annotations

import datetime as dt
from concurrent.futures import ThreadPoolExecutor

import pytest

from conftest import unique

TOKENS = "/identity/v3/auth/tokens"
TRUSTS = "/identity/v3/OS-TRUST/trusts"
PASSWORD = "pw-trust-1"


def role_id(api, admin_token, name):
    return api.request("GET", f"/identity/v3/roles?name={name}", admin_token).json()["roles"][0]["id"]


def grant(api, admin_token, project_id, user_id, name):
    r = api.request("PUT", f"/identity/v3/projects/{project_id}/users/{user_id}/roles/"
                           f"{role_id(api, admin_token, name)}", admin_token)
    assert r.status_code == 204, r.text


def new_user(api, admin_token):
    r = api.request("POST", "/identity/v3/users", admin_token,
                    json={"user": {"name": unique("tu"), "password": PASSWORD}})
    assert r.status_code == 201, r.text
    return r.json()["user"]


def password_token(api, user, project_id=None, scope=None):
    auth = {"identity": {"methods": ["password"], "password": {
        "user": {"id": user["id"], "password": PASSWORD}}}}
    if project_id:
        auth["scope"] = {"project": {"id": project_id}}
    elif scope:
        auth["scope"] = scope
    return api.request("POST", TOKENS, json={"auth": auth})


def trust_token(api, user, trust_id):
    return password_token(api, user, scope={"OS-TRUST:trust": {"id": trust_id}})


@pytest.fixture
def party(api, admin_token):
    """A project; its trustor (member, so also reader by implication); a trustee with no
    role anywhere; the trustor's project token."""
    project = api.request("POST", "/identity/v3/projects", admin_token,
                          json={"project": {"name": unique("tp")}}).json()["project"]
    trustor, trustee = new_user(api, admin_token), new_user(api, admin_token)
    grant(api, admin_token, project["id"], trustor["id"], "member")
    token = password_token(api, trustor, project["id"]).headers["X-Subject-Token"]
    return {"project": project, "trustor": trustor, "trustee": trustee, "token": token}


def make_trust(api, party, **fields):
    body = {"trustor_user_id": party["trustor"]["id"], "trustee_user_id": party["trustee"]["id"],
            "project_id": party["project"]["id"], "impersonation": True, "roles": [{"name": "member"}], **fields}
    return api.request("POST", TRUSTS, party["token"], json={"trust": body})


def assert_error(response, code, message=None):
    assert response.status_code == code, response.text
    error = response.json()["error"]
    assert error["code"] == code and error["title"]
    if message is not None:
        assert error["message"] == message


def test_create_show_list_and_roles(api, admin_token, party):
    expires = (dt.datetime.utcnow() + dt.timedelta(hours=1)).replace(microsecond=0)
    r = make_trust(api, party, expires_at=expires.isoformat() + "Z", purpose="backups")
    assert r.status_code == 201, r.text
    trust = r.json()["trust"]
    assert trust["expires_at"] == expires.strftime("%Y-%m-%dT%H:%M:%S.000000Z")
    assert trust["impersonation"] is True and trust["remaining_uses"] is None and trust["purpose"] == "backups"
    assert trust["redelegation_count"] == 0 and trust["redelegated_trust_id"] is None
    assert [x["name"] for x in trust["roles"]] == ["member"]
    assert trust["links"]["self"].endswith(f"/v3/OS-TRUST/trusts/{trust['id']}")
    trustee_token = password_token(api, party["trustee"]).headers["X-Subject-Token"]
    for token in (party["token"], trustee_token, admin_token):
        shown = api.request("GET", f"{TRUSTS}/{trust['id']}", token)
        assert shown.status_code == 200 and shown.json()["trust"]["roles"][0]["name"] == "member"
    listed = api.request("GET", f"{TRUSTS}?trustor_user_id={party['trustor']['id']}", party["token"]).json()
    assert [t["id"] for t in listed["trusts"]] == [trust["id"]] and "roles" not in listed["trusts"][0]
    by_trustee = api.request("GET", f"{TRUSTS}?trustee_user_id={party['trustee']['id']}", trustee_token).json()
    assert [t["id"] for t in by_trustee["trusts"]] == [trust["id"]]
    assert trust["id"] in {t["id"] for t in api.request("GET", TRUSTS, admin_token).json()["trusts"]}
    roles = api.request("GET", f"{TRUSTS}/{trust['id']}/roles", trustee_token).json()
    assert [x["name"] for x in roles["roles"]] == ["member"] and roles["links"]["self"]
    member = role_id(api, admin_token, "member")
    assert api.request("GET", f"{TRUSTS}/{trust['id']}/roles/{member}", trustee_token).json()["role"]["id"] == member
    assert api.request("HEAD", f"{TRUSTS}/{trust['id']}/roles/{member}", trustee_token).status_code == 200
    reader = role_id(api, admin_token, "reader")
    assert_error(api.request("GET", f"{TRUSTS}/{trust['id']}/roles/{reader}", trustee_token), 404,
                 f"Could not find role: {reader}.")


def test_policies_keep_strangers_out(api, admin_token, party):
    trust = make_trust(api, party).json()["trust"]
    stranger = new_user(api, admin_token)
    grant(api, admin_token, party["project"]["id"], stranger["id"], "member")
    token = password_token(api, stranger, party["project"]["id"]).headers["X-Subject-Token"]
    for method, path in (("GET", f"{TRUSTS}/{trust['id']}"), ("DELETE", f"{TRUSTS}/{trust['id']}"),
                         ("GET", f"{TRUSTS}/{trust['id']}/roles"), ("GET", TRUSTS),
                         ("GET", f"{TRUSTS}?trustor_user_id={party['trustor']['id']}")):
        assert_error(api.request(method, path, token), 403)
    # The trustee may read but not delete; a missing trust is 404 before any policy.
    trustee_token = password_token(api, party["trustee"]).headers["X-Subject-Token"]
    assert_error(api.request("DELETE", f"{TRUSTS}/{trust['id']}", trustee_token), 403)
    assert_error(api.request("GET", f"{TRUSTS}/nope", token), 404, "Could not find trust: nope.")


@pytest.mark.parametrize("fields, code, message", [
    ({"impersonation": None}, 400, None),
    ({"roles": [{"id": "x", "name": "y"}]}, 400, None),
    ({"remaining_uses": 0}, 400, None),
    ({"expires_at": "bad.123Z"}, 400, "Timestamp not in expected format. The server could not comply with the "
     "request since it is either malformed or otherwise incorrect. The client is assumed to be in error."),
    ({"expires_at": "2000-01-01T00:00:00Z"}, 400, "The 'expires_at' must not be before now. The server could not "
     "comply with the request since it is either malformed or otherwise incorrect. The client is assumed to be in "
     "error."),
    ({"roles": []}, 403, "You are not authorized to perform the requested action: At least one role should be "
     "specified."),
    ({"trustee_user_id": "nobody"}, 404, "Could not find user: nobody."),
    ({"roles": [{"name": "admin"}]}, 404, None),
    ({"project_id": "nope"}, 404, "Could not find project: nope."),
    ({"allow_redelegation": True, "remaining_uses": 2}, 400,
     "remaining_uses must not be set if redelegation is allowed"),
    ({"allow_redelegation": True, "redelegation_count": 4}, 403,
     "Requested redelegation depth of 4 is greater than allowed 3"),
])
def test_bad_trust_requests(api, party, fields, code, message):
    assert_error(make_trust(api, party, **fields), code, message)


def test_trustor_must_be_the_caller(api, admin_token, party):
    other = new_user(api, admin_token)
    assert_error(make_trust(api, party, trustor_user_id=other["id"]), 403)


@pytest.mark.parametrize("impersonation", [True, False])
def test_trust_scoped_token(api, admin_token, party, impersonation):
    trust = make_trust(api, party, impersonation=impersonation).json()["trust"]
    r = trust_token(api, party["trustee"], trust["id"])
    assert r.status_code == 201, r.text
    body = r.json()["token"]
    expected_user = party["trustor"] if impersonation else party["trustee"]
    assert body["user"]["id"] == expected_user["id"]
    assert body["project"]["id"] == party["project"]["id"]
    assert {x["name"] for x in body["roles"]} == {"member", "reader"}
    assert body["OS-TRUST:trust"] == {"id": trust["id"], "impersonation": impersonation,
                                      "trustor_user": {"id": party["trustor"]["id"]},
                                      "trustee_user": {"id": party["trustee"]["id"]}}
    token = r.headers["X-Subject-Token"]
    shown = api.request("GET", TOKENS, admin_token, headers={"X-Subject-Token": token}).json()["token"]
    assert shown["OS-TRUST:trust"]["id"] == trust["id"] and shown["user"]["id"] == expected_user["id"]
    # The token works on other services as the user it shows, in the trust's project.
    me = api.request("GET", f"/identity/v3/users/{expected_user['id']}", token)
    assert me.status_code == 200
    assert_error(api.request("POST", TOKENS, json={"auth": {"identity": {"methods": ["token"], "token": {
        "id": token}}}}), 403, "You are not authorized to perform the requested action: Using trust-scoped token to "
        "create another token. Create a new trust-scoped token instead.")


def test_role_subset_and_trustee_only(api, admin_token, party):
    grant(api, admin_token, party["project"]["id"], party["trustor"]["id"], "manager")
    token = password_token(api, party["trustor"], party["project"]["id"]).headers["X-Subject-Token"]
    party = {**party, "token": token}
    trust = make_trust(api, party, roles=[{"name": "reader"}]).json()["trust"]
    body = trust_token(api, party["trustee"], trust["id"]).json()["token"]
    assert [x["name"] for x in body["roles"]] == ["reader"]
    assert_error(trust_token(api, party["trustor"], trust["id"]), 403, "User is not a trustee.")
    assert_error(trust_token(api, party["trustee"], "missing"), 401, "Could not find trust: missing.")


def test_trust_used_revoked_then_refused(api, admin_token, party):
    trust = make_trust(api, party, impersonation=False).json()["trust"]
    token = trust_token(api, party["trustee"], trust["id"]).headers["X-Subject-Token"]
    assert api.request("GET", f"/identity/v3/projects/{party['project']['id']}", token).status_code == 200
    assert api.request("DELETE", f"{TRUSTS}/{trust['id']}", party["token"]).status_code == 204
    assert_error(api.request("GET", TOKENS, admin_token, headers={"X-Subject-Token": token}), 404,
                 f"Could not find trust: {trust['id']}.")
    assert api.request("GET", f"/identity/v3/projects/{party['project']['id']}", token).status_code == 401
    assert_error(trust_token(api, party["trustee"], trust["id"]), 401)
    assert_error(api.request("GET", f"{TRUSTS}/{trust['id']}", party["token"]), 404)


def test_trustor_losing_the_role_revokes_the_tokens(api, admin_token, party):
    trust = make_trust(api, party).json()["trust"]
    token = trust_token(api, party["trustee"], trust["id"]).headers["X-Subject-Token"]
    member = role_id(api, admin_token, "member")
    r = api.request("DELETE", f"/identity/v3/projects/{party['project']['id']}/users/{party['trustor']['id']}"
                              f"/roles/{member}", admin_token)
    assert r.status_code == 204
    assert_error(api.request("GET", TOKENS, admin_token, headers={"X-Subject-Token": token}), 403,
                 "Trustee has no delegated roles.")
    assert_error(trust_token(api, party["trustee"], trust["id"]), 403, "Trustee has no delegated roles.")


def test_trust_expiry_bounds_the_token(api, party):
    expires = dt.datetime.utcnow() + dt.timedelta(minutes=5)
    trust = make_trust(api, party, expires_at=expires.isoformat()).json()["trust"]
    body = trust_token(api, party["trustee"], trust["id"]).json()["token"]
    assert body["expires_at"] <= expires.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def test_remaining_uses_exact_under_concurrency(api, party):
    trust = make_trust(api, party, remaining_uses=3).json()["trust"]
    with ThreadPoolExecutor(8) as pool:
        codes = sorted(pool.map(lambda _: trust_token(api, party["trustee"], trust["id"]).status_code, range(8)))
    assert codes.count(201) == 3 and set(codes[3:]) <= {401, 403}, codes
    # Used up: the trust is no longer shown, and the last token issued still works.
    assert_error(api.request("GET", f"{TRUSTS}/{trust['id']}", party["token"]), 404)
    assert_error(trust_token(api, party["trustee"], trust["id"]), 401, f"Could not find trust: {trust['id']}.")


def test_redelegation_chain(api, admin_token, party):
    root = make_trust(api, party, impersonation=False, allow_redelegation=True, redelegation_count=2).json()["trust"]
    assert root["redelegation_count"] == 2
    trustee_token = trust_token(api, party["trustee"], root["id"]).headers["X-Subject-Token"]
    third = new_user(api, admin_token)
    body = {"trustor_user_id": party["trustee"]["id"], "trustee_user_id": third["id"],
            "project_id": party["project"]["id"], "impersonation": False, "roles": [{"name": "member"}],
            "allow_redelegation": True}
    r = api.request("POST", TRUSTS, trustee_token, json={"trust": body})
    assert r.status_code == 201, r.text
    child = r.json()["trust"]
    assert child["redelegated_trust_id"] == root["id"] and child["redelegation_count"] == 1
    # Wider or impersonating redelegations are refused.
    assert_error(api.request("POST", TRUSTS, trustee_token, json={"trust": {**body, "impersonation": True}}), 403,
                 "Impersonation is not allowed because redelegated trust does not specify impersonation. "
                 f"Redelegated trust id: {root['id']}")
    assert_error(api.request("POST", TRUSTS, trustee_token, json={"trust": {**body, "redelegation_count": 2}}), 403)
    third_token = trust_token(api, third, child["id"])
    assert third_token.status_code == 201, third_token.text
    assert {x["name"] for x in third_token.json()["token"]["roles"]} == {"member", "reader"}
    # The end of the chain: depth 0 cannot be redelegated again.
    fourth = new_user(api, admin_token)
    grandchild = api.request("POST", TRUSTS, third_token.headers["X-Subject-Token"], json={"trust": {
        **body, "trustor_user_id": third["id"], "trustee_user_id": fourth["id"]}})
    assert grandchild.status_code == 201 and grandchild.json()["trust"]["redelegation_count"] == 0
    end_token = trust_token(api, fourth, grandchild.json()["trust"]["id"]).headers["X-Subject-Token"]
    assert_error(api.request("POST", TRUSTS, end_token, json={"trust": {
        **body, "trustor_user_id": fourth["id"], "trustee_user_id": third["id"]}}), 403,
        "Remaining redelegation depth of 0 out of allowed range of [0..3]")
    # Deleting the root deletes the chain and its tokens.
    assert api.request("DELETE", f"{TRUSTS}/{root['id']}", party["token"]).status_code == 204
    assert_error(api.request("GET", f"{TRUSTS}/{child['id']}", admin_token), 404)
    assert_error(api.request("GET", TOKENS, admin_token,
                             headers={"X-Subject-Token": third_token.headers["X-Subject-Token"]}), 404)


def test_application_credential_tokens_cannot_manage_trusts(api, party):
    r = api.request("POST", f"/identity/v3/users/{party['trustor']['id']}/application_credentials", party["token"],
                    json={"application_credential": {"name": unique("ac")}})
    cred = r.json()["application_credential"]
    token = api.request("POST", TOKENS, json={"auth": {"identity": {"methods": ["application_credential"],
                        "application_credential": {"id": cred["id"], "secret": cred["secret"]}}}})
    assert_error(make_trust(api, {**party, "token": token.headers["X-Subject-Token"]}), 403,
                 "You are not authorized to perform the requested action: Using method 'application_credential' is "
                 "not allowed for managing trusts..")  # Keystone doubles the period


def test_deleting_the_trustee_deletes_the_trust(api, admin_token, party):
    trust = make_trust(api, party).json()["trust"]
    assert api.request("DELETE", f"/identity/v3/users/{party['trustee']['id']}", admin_token).status_code == 204
    assert_error(api.request("GET", f"{TRUSTS}/{trust['id']}", admin_token), 404)
