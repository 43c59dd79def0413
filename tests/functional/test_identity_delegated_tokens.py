"""What each kind of delegated token may manage, endpoint by endpoint, as Keystone
decides it (keystone/api/users.py, credentials.py, trusts.py, os_oauth1.py): tokens of an
OAuth 1.0a access token, of a trust, of a restricted and of an unrestricted application
credential, next to the user's own password token.  Every refusal is Keystone's 403 body
with Keystone's sentence."""

from __future__ import annotations

import json
import os

import pytest
from test_identity_credentials import EC2TOKENS, signed_v2
from test_identity_trusts import TOKENS, assert_error, grant, new_user, password_token, trust_token

from conftest import unique
from oauth1_flow import V3, delegate, oauth_token

if not os.environ.get("CI"):
    pytest.importorskip("oauthlib")

KINDS = ("password", "oauth", "trust", "restricted", "unrestricted")
NOT_ACTION = "You are not authorized to perform the requested action: "
APP_CREDS_DELEGATED = "Cannot manage application credentials with a token issued via delegation."
ACCESS_TOKENS_DELEGATED = "Cannot manage OAuth access tokens with a token issued via delegation."
RESTRICTED_APP_CREDS = (NOT_ACTION + "Using method 'application_credential' is not allowed for managing "
                        "additional application credentials..")  # Keystone doubles the period
RESTRICTED_CREDS = (NOT_ACTION + "Using method 'application_credential' is not allowed for managing additional "
                    "credentials..")
APP_CRED_TRUSTS = NOT_ACTION + "Using method 'application_credential' is not allowed for managing trusts.."
EC2_OUT_OF_SCOPE = NOT_ACTION + "EC2 credential project does not match the project scope of the delegated token."
CRED_OUT_OF_SCOPE = NOT_ACTION + "Credential project does not match the project scope of the delegated token."


def _app_cred(api, world, **fields):
    r = api.request("POST", f"{V3}/users/{world['user']['id']}/application_credentials", world["password"],
                    json={"application_credential": {"name": unique("dac"), **fields}})
    assert r.status_code == 201, r.text
    return r.json()["application_credential"]


def _app_cred_token(api, cred) -> str:
    r = api.request("POST", TOKENS, json={"auth": {"identity": {"methods": ["application_credential"],
                    "application_credential": {"id": cred["id"], "secret": cred["secret"]}}}})
    assert r.status_code == 201, r.text
    return r.headers["X-Subject-Token"]


@pytest.fixture
def world(api, admin_token):
    """A user with admin and member on a project (only admins authorize request tokens)
    and reader on a second one; an access rule of the user's; and a token of every kind,
    all acting as that user on the first project."""
    project, elsewhere = (api.request("POST", f"{V3}/projects", admin_token,
                                      json={"project": {"name": unique("dp")}}).json()["project"] for _ in range(2))
    user, trustee = new_user(api, admin_token), new_user(api, admin_token)
    for name in ("admin", "member"):
        grant(api, admin_token, project["id"], user["id"], name)
    grant(api, admin_token, elsewhere["id"], user["id"], "reader")
    world = {"user": user, "project": project, "elsewhere": elsewhere,
             "password": password_token(api, user, project["id"]).headers["X-Subject-Token"]}
    ruled = _app_cred(api, world, access_rules=[{"service": "compute", "method": "GET", "path": "/v2.1/servers"}])
    world["rule_id"] = ruled["access_rules"][0]["id"]
    consumer, access = delegate(api, admin_token, world["password"], project["id"], [{"name": "member"}])
    world["access_token_id"] = access["oauth_token"]
    world["oauth"] = oauth_token(api, consumer, access).headers["X-Subject-Token"]
    trust = api.request("POST", f"{V3}/OS-TRUST/trusts", world["password"], json={"trust": {
        "trustor_user_id": user["id"], "trustee_user_id": trustee["id"], "project_id": project["id"],
        "impersonation": True, "roles": [{"name": "member"}]}}).json()["trust"]
    world["trust"] = trust_token(api, trustee, trust["id"]).headers["X-Subject-Token"]
    world["restricted"] = _app_cred_token(api, _app_cred(api, world))
    world["unrestricted"] = _app_cred_token(api, _app_cred(api, world, unrestricted=True))
    return world


def _expect(response, outcome):
    """``outcome``: a success status, or the message of the expected 403."""
    if isinstance(outcome, int):
        assert response.status_code == outcome, response.text
    else:
        assert_error(response, 403, outcome)


APP_CRED_READS = {"password": 200, "oauth": APP_CREDS_DELEGATED, "trust": APP_CREDS_DELEGATED,
                  "restricted": 200, "unrestricted": 200}
APP_CRED_WRITES = {"password": 201, "oauth": APP_CREDS_DELEGATED, "trust": APP_CREDS_DELEGATED,
                   "restricted": RESTRICTED_APP_CREDS, "unrestricted": 201}


@pytest.mark.parametrize("kind", KINDS)
def test_application_credentials(api, world, kind):
    path, token = f"{V3}/users/{world['user']['id']}/application_credentials", world[kind]
    victim = _app_cred(api, world)
    _expect(api.request("GET", path, token), APP_CRED_READS[kind])
    _expect(api.request("GET", f"{path}/{victim['id']}", token), APP_CRED_READS[kind])
    _expect(api.request("POST", path, token, json={"application_credential": {"name": unique("dac")}}),
            APP_CRED_WRITES[kind])
    _expect(api.request("DELETE", f"{path}/{victim['id']}", token),
            204 if APP_CRED_WRITES[kind] == 201 else APP_CRED_WRITES[kind])


@pytest.mark.parametrize("kind", KINDS)
def test_access_rules(api, world, kind):
    path, token = f"{V3}/users/{world['user']['id']}/access_rules", world[kind]
    _expect(api.request("GET", path, token), APP_CRED_READS[kind])
    _expect(api.request("GET", f"{path}/{world['rule_id']}", token), APP_CRED_READS[kind])
    # In use by its credential: Keystone refuses the delete itself, after the guard.
    deleted = api.request("DELETE", f"{path}/{world['rule_id']}", token)
    if isinstance(APP_CRED_READS[kind], str):
        assert_error(deleted, 403, APP_CRED_READS[kind])
    else:
        assert deleted.status_code == 403 and "in use" in deleted.json()["error"]["message"], deleted.text


EC2_CREATES = {"password": 201, "oauth": 201, "trust": 201, "restricted": RESTRICTED_APP_CREDS, "unrestricted": 201}


@pytest.mark.parametrize("kind", KINDS)
def test_ec2_credentials_stay_in_the_delegated_project(api, world, kind):
    user_id, token = world["user"]["id"], world[kind]
    path = f"{V3}/users/{user_id}/credentials/OS-EC2"
    home = api.request("POST", path, world["password"], json={"tenant_id": world["project"]["id"]}).json()
    away = api.request("POST", path, world["password"], json={"tenant_id": world["elsewhere"]["id"]}).json()
    home, away = home["credential"]["access"], away["credential"]["access"]
    _expect(api.request("POST", path, token, json={"tenant_id": world["project"]["id"]}), EC2_CREATES[kind])
    listed = api.request("GET", path, token)
    assert listed.status_code == 200, listed.text
    accesses = {c["access"] for c in listed.json()["credentials"]}
    assert home in accesses and (away in accesses) == (kind == "password")
    out_of_scope = 200 if kind == "password" else EC2_OUT_OF_SCOPE
    _expect(api.request("GET", f"{path}/{away}", token), out_of_scope)
    _expect(api.request("DELETE", f"{path}/{away}", token), 204 if kind == "password" else EC2_OUT_OF_SCOPE)
    assert api.request("GET", f"{path}/{home}", token).status_code == 200
    if kind != "password":
        _expect(api.request("POST", path, token, json={"tenant_id": world["elsewhere"]["id"]}),
                RESTRICTED_APP_CREDS if kind == "restricted" else EC2_OUT_OF_SCOPE)


CREDENTIAL_CREATES = {"password": 201, "oauth": 201, "trust": 201, "restricted": RESTRICTED_CREDS,
                      "unrestricted": 201}


@pytest.mark.parametrize("kind", KINDS)
def test_v3_ec2_credentials_keep_the_delegation(api, world, kind):
    user_id, token = world["user"]["id"], world[kind]
    blob = {"access": unique("acc"), "secret": "s3cret"}

    def create(project_id):
        return api.request("POST", f"{V3}/credentials", token, json={"credential": {
            "user_id": user_id, "project_id": project_id, "type": "ec2", "blob": json.dumps(blob)}})

    made = create(world["project"]["id"])
    _expect(made, CREDENTIAL_CREATES[kind])
    if kind not in ("password", "restricted"):
        _expect(create(world["elsewhere"]["id"]), CRED_OUT_OF_SCOPE)
    if kind == "oauth":
        kept = json.loads(made.json()["credential"]["blob"])
        assert kept["access_token_id"] == world["access_token_id"]


def test_ec2tokens_of_an_oauth_made_credential_carry_the_access_token(api, admin_token, world):
    path = f"{V3}/users/{world['user']['id']}/credentials/OS-EC2"
    made = api.request("POST", f"{V3}/credentials", world["oauth"], json={"credential": {
        "user_id": world["user"]["id"], "project_id": world["project"]["id"], "type": "ec2",
        "blob": json.dumps({"access": unique("acc"), "secret": "s3cret"})}}).json()["credential"]
    cred = api.request("GET", f"{path}/{json.loads(made['blob'])['access']}", world["password"]).json()["credential"]
    issued = api.request("POST", EC2TOKENS, admin_token, json={"credentials": signed_v2(cred)})
    assert issued.status_code == 200, issued.text
    token = issued.json()["token"]
    assert token["OS-OAUTH1"]["access_token_id"] == world["access_token_id"]
    roles = {r["name"] for r in token["roles"]}
    assert "member" in roles and "admin" not in roles  # the delegated roles, not all the user holds


TRUST_CREATES = {"password": 201, "oauth": NOT_ACTION + "Redelegation allowed for delegated by trust only.",
                 "restricted": APP_CRED_TRUSTS, "unrestricted": APP_CRED_TRUSTS}


@pytest.mark.parametrize("kind", ["password", "oauth", "restricted", "unrestricted"])
def test_trusts(api, admin_token, world, kind):
    token = world[kind]
    trustee = new_user(api, admin_token)
    r = api.request("POST", f"{V3}/OS-TRUST/trusts", token, json={"trust": {
        "trustor_user_id": world["user"]["id"], "trustee_user_id": trustee["id"],
        "project_id": world["project"]["id"], "impersonation": False, "roles": [{"name": "reader"}]}})
    _expect(r, TRUST_CREATES[kind])
    if kind == "oauth":  # Keystone looks the trustee up before it refuses the redelegation
        r = api.request("POST", f"{V3}/OS-TRUST/trusts", token, json={"trust": {
            "trustor_user_id": world["user"]["id"], "trustee_user_id": "0" * 32,
            "project_id": world["project"]["id"], "impersonation": False, "roles": [{"name": "member"}]}})
        assert r.status_code == 404, r.text
    listed = api.request("GET", f"{V3}/OS-TRUST/trusts?trustor_user_id={world['user']['id']}", token)
    _expect(listed, 200 if kind in ("password", "oauth") else APP_CRED_TRUSTS)


@pytest.mark.parametrize("kind", KINDS)
def test_oauth_access_tokens(api, world, kind):
    """Listing and showing need an admin (Keystone's policy): the delegations holding
    the user's admin role meet the guard there; deleting is the owner's, so every
    delegation meets it."""
    path = f"{V3}/users/{world['user']['id']}/OS-OAUTH1/access_tokens"
    if kind in ("password", "restricted", "unrestricted"):
        listed = api.request("GET", path, world[kind])
        _expect(listed, 200 if kind == "password" else ACCESS_TOKENS_DELEGATED)
    _expect(api.request("DELETE", f"{path}/{world['access_token_id']}", world[kind]),
            204 if kind == "password" else ACCESS_TOKENS_DELEGATED)
