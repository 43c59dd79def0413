"""Credentials (``/v3/credentials``), EC2 credentials (``/v3/users/{id}/credentials/OS-EC2``)
and ``POST /v3/ec2tokens`` through the Keystone v3 API.  Signed requests are signed by
keystoneclient's ``Ec2Signer`` (the signer Keystone itself checks with), an
implementation independent of pocketstack's."""

from __future__ import annotations

import datetime as dt
import hashlib
import json

import pytest
import sqlalchemy as sa
from keystoneclient.contrib.ec2.utils import Ec2Signer
from test_identity_trusts import TOKENS, assert_error, grant, make_trust, new_user, password_token, trust_token

from pocketstack.identity import models as m

from conftest import unique

CREDS = "/identity/v3/credentials"
EC2TOKENS = "/identity/v3/ec2tokens"
EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()


@pytest.fixture
def owner(api, admin_token):
    """A member of a fresh project and their project token."""
    project = api.request("POST", "/identity/v3/projects", admin_token,
                          json={"project": {"name": unique("cp")}}).json()["project"]
    user = new_user(api, admin_token)
    grant(api, admin_token, project["id"], user["id"], "member")
    token = password_token(api, user, project["id"]).headers["X-Subject-Token"]
    return {"user": user, "project": project, "token": token}


def ec2_path(user_id, access=""):
    return f"/identity/v3/users/{user_id}/credentials/OS-EC2" + (f"/{access}" if access else "")


def create_ec2(api, owner):
    r = api.request("POST", ec2_path(owner["user"]["id"]), owner["token"], json={"tenant_id": owner["project"]["id"]})
    assert r.status_code == 201, r.text
    return r.json()["credential"]


def test_credential_crud_and_encryption_at_rest(api, cloud, owner):
    blob = json.dumps({"seed": "JBSWY3DPEHPK3PXP"})
    r = api.request("POST", CREDS, owner["token"], json={"credential": {
        "user_id": owner["user"]["id"], "type": "totp", "blob": blob, "label": "phone"}})
    assert r.status_code == 201, r.text
    cred = r.json()["credential"]
    assert cred["blob"] == blob and cred["type"] == "totp" and cred["label"] == "phone"
    assert cred["links"]["self"].endswith(f"/v3/credentials/{cred['id']}")
    with cloud.identity.db.session(readonly=True) as s:
        row = s.get(m.Credential, cred["id"])
        assert "JBSWY3DPEHPK3PXP" not in row.encrypted_blob and len(row.key_hash) == 64
    assert api.request("GET", f"{CREDS}/{cred['id']}", owner["token"]).json()["credential"]["blob"] == blob
    mine = api.request("GET", f"{CREDS}?type=totp", owner["token"]).json()["credentials"]
    assert [c["id"] for c in mine] == [cred["id"]]
    r = api.request("PATCH", f"{CREDS}/{cred['id']}", owner["token"], json={"credential": {"blob": "{\"seed\":1}"}})
    assert r.status_code == 200 and r.json()["credential"]["blob"] == "{\"seed\":1}"
    assert api.request("DELETE", f"{CREDS}/{cred['id']}", owner["token"]).status_code == 204
    assert_error(api.request("GET", f"{CREDS}/{cred['id']}", owner["token"]), 403)


def test_ec2_credential_id_is_the_access_key_hash(api, owner):
    access = unique("ak")
    r = api.request("POST", CREDS, owner["token"], json={"credential": {
        "user_id": owner["user"]["id"], "project_id": owner["project"]["id"], "type": "ec2",
        "blob": json.dumps({"access": access, "secret": "s3cr3t"})}})
    assert r.status_code == 201, r.text
    assert r.json()["credential"]["id"] == hashlib.sha256(access.encode()).hexdigest()
    again = api.request("POST", CREDS, owner["token"], json={"credential": {
        "user_id": owner["user"]["id"], "project_id": owner["project"]["id"], "type": "ec2",
        "blob": json.dumps({"access": access, "secret": "other"})}})
    assert_error(again, 409)


@pytest.mark.parametrize("credential, code, message", [
    ({"type": "totp", "blob": "x", "user_id": None}, 400, None),
    ({"type": "ec2", "blob": "{\"access\": \"a\"}"}, 400, None),         # ec2 without project_id
    ({"type": "ec2", "blob": "not json", "project_id": "p"}, 400, "Invalid blob in credential"),
    ({"type": "ec2", "blob": "[1]", "project_id": "p"}, 400, "Expecting to find blob in credential. The server could "
     "not comply with the request since it is either malformed or otherwise incorrect. The client is assumed to be "
     "in error."),
    ({"type": "ec2", "blob": "{\"secret\": 1}", "project_id": "p"}, 400, "Expecting to find access in credential. The "
     "server could not comply with the request since it is either malformed or otherwise incorrect. The client is "
     "assumed to be in error."),
    ({"type": 7, "blob": "x"}, 400, None),
])
def test_bad_credentials(api, owner, credential, code, message):
    credential = {k: v for k, v in {"user_id": owner["user"]["id"], **credential}.items() if v is not None}
    assert_error(api.request("POST", CREDS, owner["token"], json={"credential": credential}), code, message)


def test_users_see_and_manage_only_their_own(api, admin_token, owner):
    other = new_user(api, admin_token)
    grant(api, admin_token, owner["project"]["id"], other["id"], "member")
    other_token = password_token(api, other, owner["project"]["id"]).headers["X-Subject-Token"]
    cred = api.request("POST", CREDS, owner["token"], json={"credential": {
        "user_id": owner["user"]["id"], "type": "cert", "blob": "pem"}}).json()["credential"]
    assert_error(api.request("POST", CREDS, other_token, json={"credential": {
        "user_id": owner["user"]["id"], "type": "cert", "blob": "x"}}), 403)
    for method in ("GET", "DELETE"):
        assert_error(api.request(method, f"{CREDS}/{cred['id']}", other_token), 403)
    # Handing one's credential to someone else is refused too.
    assert_error(api.request("PATCH", f"{CREDS}/{cred['id']}", owner["token"],
                             json={"credential": {"user_id": other["id"]}}), 403)
    assert_error(api.request("PATCH", f"{CREDS}/{cred['id']}", owner["token"],
                             json={"credential": {"id": "x"}}), 400, "Cannot change ID")
    assert cred["id"] not in {c["id"] for c in api.request("GET", CREDS, other_token).json()["credentials"]}
    assert cred["id"] in {c["id"] for c in api.request("GET", CREDS, admin_token).json()["credentials"]}
    assert_error(api.request("GET", f"{CREDS}/missing", admin_token), 404, "Could not find credential: missing.")


def test_ec2_credentials_crud(api, admin_token, owner):
    cred = create_ec2(api, owner)
    assert cred["tenant_id"] == owner["project"]["id"] and cred["user_id"] == owner["user"]["id"]
    assert len(cred["access"]) == 32 and len(cred["secret"]) == 32 and cred["trust_id"] is None
    assert cred["links"]["self"].endswith(f"/credentials/OS-EC2/{cred['access']}")
    user_id = owner["user"]["id"]
    listed = api.request("GET", ec2_path(user_id), owner["token"]).json()["credentials"]
    assert [c["access"] for c in listed] == [cred["access"]]
    shown = api.request("GET", ec2_path(user_id, cred["access"]), owner["token"]).json()["credential"]
    assert shown["secret"] == cred["secret"]
    # The same credential through /v3/credentials, under the access key's hash.
    v3 = api.request("GET", f"{CREDS}/{hashlib.sha256(cred['access'].encode()).hexdigest()}", owner["token"])
    assert json.loads(v3.json()["credential"]["blob"])["secret"] == cred["secret"]
    stranger = new_user(api, admin_token)
    stranger_token = password_token(api, stranger).headers["X-Subject-Token"]
    assert_error(api.request("GET", ec2_path(user_id), stranger_token), 403)
    assert_error(api.request("DELETE", ec2_path(user_id, cred["access"]), stranger_token), 403)
    assert api.request("DELETE", ec2_path(user_id, cred["access"]), owner["token"]).status_code == 204
    assert_error(api.request("GET", ec2_path(user_id, cred["access"]), owner["token"]), 404)
    assert_error(api.request("POST", ec2_path(user_id), owner["token"], json={"tenant_id": "nope"}), 404,
                 "Could not find project: nope.")
    assert_error(api.request("POST", ec2_path(user_id), owner["token"], json={}), 404)


def signed_v2(cred, host="127.0.0.1:8773", params=None):
    request = {"access": cred["access"], "host": host, "verb": "GET", "path": "/services/Cloud",
               "params": {"SignatureVersion": "2", "SignatureMethod": "HmacSHA256", "Action": "DescribeRegions",
                          "AWSAccessKeyId": cred["access"],
                          "Timestamp": dt.datetime.utcnow().strftime("%Y-%m-%dT%H:%M:%SZ"), **(params or {})}}
    request["signature"] = Ec2Signer(cred["secret"]).generate(json.loads(json.dumps(request)))
    return request


def signed_v4(cred, *, query: bool):
    now = dt.datetime.utcnow()
    stamp, day = now.strftime("%Y%m%dT%H%M%SZ"), now.strftime("%Y%m%d")
    scope = f"{cred['access']}/{day}/RegionOne/ec2/aws4_request"
    request = {"access": cred["access"], "host": "ec2.example.org", "verb": "GET", "path": "/",
               "params": {"Action": "DescribeInstances"}, "body_hash": EMPTY_SHA256,
               "headers": {"Host": "ec2.example.org"}}
    if query:
        request["params"].update({"X-Amz-Algorithm": "AWS4-HMAC-SHA256", "X-Amz-Credential": scope,
                                  "X-Amz-Date": stamp, "X-Amz-SignedHeaders": "host"})
    else:
        request["headers"].update({"X-Amz-Date": stamp, "Authorization": f"AWS4-HMAC-SHA256 Credential={scope}, "
                                   "SignedHeaders=host;x-amz-date, Signature=ignored"})
    request["signature"] = Ec2Signer(cred["secret"]).generate(json.loads(json.dumps(request)))
    return request


@pytest.mark.parametrize("sign", [signed_v2, lambda c: signed_v4(c, query=False), lambda c: signed_v4(c, query=True)],
                         ids=["v2", "v4-header", "v4-query"])
def test_ec2tokens_issues_a_project_token(api, admin_token, owner, sign):
    cred = create_ec2(api, owner)
    r = api.request("POST", EC2TOKENS, admin_token, json={"credentials": sign(cred)})
    assert r.status_code == 200, r.text
    token = r.json()["token"]
    assert token["methods"] == ["ec2credential"] and token["user"]["id"] == owner["user"]["id"]
    assert token["project"]["id"] == owner["project"]["id"] and token["catalog"]
    shown = api.request("GET", TOKENS, admin_token, headers={"X-Subject-Token": r.headers["X-Subject-Token"]})
    assert shown.status_code == 200 and shown.json()["token"]["methods"] == ["ec2credential"]


def test_ec2tokens_accepts_a_host_signed_without_its_port(api, admin_token, owner):
    cred = create_ec2(api, owner)
    request = signed_v2(cred, host="127.0.0.1")
    assert api.request("POST", EC2TOKENS, admin_token,
                       json={"ec2Credentials": {**request, "host": "127.0.0.1:8773"}}).status_code == 200


def test_ec2tokens_refusals(api, admin_token, owner):
    cred = create_ec2(api, owner)
    good = signed_v2(cred)
    assert_error(api.request("POST", EC2TOKENS, owner["token"], json={"credentials": good}), 403)
    assert_error(api.request("POST", EC2TOKENS, admin_token, json={"credentials": {**good, "signature": "forged"}}),
                 401, "Invalid EC2 signature.")
    assert_error(api.request("POST", EC2TOKENS, admin_token, json={"credentials": {**good, "signature": None}}),
                 401, "EC2 signature not supplied.")
    assert_error(api.request("POST", EC2TOKENS, admin_token, json={"credentials": {"signature": "x"}}), 401,
                 "EC2 Signature not supplied")
    assert_error(api.request("POST", EC2TOKENS, admin_token, json={"credentials": {**good, "access": "unknown"}}),
                 404, "EC2 access key not found.")
    assert_error(api.request("POST", EC2TOKENS, admin_token), 400, "request must include a request body")
    stale = signed_v2(cred, params={"Timestamp": "2020-01-01T00:00:00Z"})
    assert_error(api.request("POST", EC2TOKENS, admin_token, json={"credentials": stale}), 401, "Credential is expired")
    garbled = signed_v2(cred, params={"Timestamp": "yesterday"})
    r = api.request("POST", EC2TOKENS, admin_token, json={"credentials": garbled})
    assert_error(r, 401)
    assert r.json()["error"]["message"].startswith("Credential timestamp is invalid")


def test_ec2tokens_after_the_role_is_gone(api, admin_token, owner):
    cred = create_ec2(api, owner)
    member = api.request("GET", "/identity/v3/roles?name=member", admin_token).json()["roles"][0]["id"]
    api.request("DELETE", f"/identity/v3/projects/{owner['project']['id']}/users/{owner['user']['id']}/roles/{member}",
                admin_token)
    assert_error(api.request("POST", EC2TOKENS, admin_token, json={"credentials": signed_v2(cred)}), 401,
                 "User not valid for project.")


def test_ec2_credential_made_through_a_trust_gives_trust_tokens(api, admin_token):
    project = api.request("POST", "/identity/v3/projects", admin_token,
                          json={"project": {"name": unique("tp")}}).json()["project"]
    trustor, trustee = new_user(api, admin_token), new_user(api, admin_token)
    grant(api, admin_token, project["id"], trustor["id"], "member")
    party = {"project": project, "trustor": trustor, "trustee": trustee,
             "token": password_token(api, trustor, project["id"]).headers["X-Subject-Token"]}
    trust = make_trust(api, party, impersonation=False, remaining_uses=5).json()["trust"]
    token = trust_token(api, trustee, trust["id"]).headers["X-Subject-Token"]
    r = api.request("POST", ec2_path(trustee["id"]), token, json={"tenant_id": project["id"]})
    assert r.status_code == 201, r.text
    cred = r.json()["credential"]
    assert cred["trust_id"] == trust["id"]
    issued = api.request("POST", EC2TOKENS, admin_token, json={"credentials": signed_v2(cred)})
    assert issued.status_code == 200, issued.text
    assert issued.json()["token"]["OS-TRUST:trust"]["id"] == trust["id"]
    # Keystone counts trust uses at /v3/auth/tokens only.
    assert api.request("GET", f"/identity/v3/OS-TRUST/trusts/{trust['id']}",
                       party["token"]).json()["trust"]["remaining_uses"] == 4
    # A delegated token cannot make a credential for another project.
    other = api.request("POST", "/identity/v3/projects", admin_token,
                        json={"project": {"name": unique("tp")}}).json()["project"]
    assert_error(api.request("POST", ec2_path(trustee["id"]), token, json={"tenant_id": other["id"]}), 403)


def test_deleting_the_user_deletes_their_credentials(api, cloud, admin_token, owner):
    cred = create_ec2(api, owner)
    assert api.request("DELETE", f"/identity/v3/users/{owner['user']['id']}", admin_token).status_code == 204
    with cloud.identity.db.session(readonly=True) as s:
        assert s.scalar(sa.select(sa.func.count()).select_from(m.Credential).where(
            m.Credential.id == hashlib.sha256(cred["access"].encode()).hexdigest())) == 0
