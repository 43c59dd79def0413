"""A cloud with ``token_provider = "jws"``: tokens issued, validated, revoked and
rotated through the Keystone v3 API, beside the Fernet cloud of the other tests (both
on one database, as two deployments of one Keystone database would be)."""

from __future__ import annotations

import dataclasses
import json
import time

import pytest
from starlette.testclient import TestClient
from test_identity_federation import FED, IDPS, PREFIX, put, rules_for, sign_in
from test_identity_mfa import (
    PASSWORD,
    RECEIPT,
    login,
    new_secret,
    passcode,
    password_method,
    set_rules,
    totp_method,
)

from pocketstack.cli.main import main as cli
from pocketstack.cloud import Cloud
from pocketstack.common import b64url
from pocketstack.identity.federation import TrustedAssertions
from pocketstack.identity.manager import Identity
from pocketstack.identity.tokens import SCOPE_UNSCOPED, TokenPayload

from conftest import ADMIN_PASSWORD, Api, unique
from test_identity_tokens import TOKENS, make_project, make_user, password_auth


@pytest.fixture(scope="module")
def jws_cloud(cloud, settings, tmp_path_factory):
    """Beside ``cloud`` (migrated and bootstrapped), on its database, with its credential
    keys (as every deployment of one database must share them: a credential another key
    sealed cannot be read, and Keystone's answer to that is a 500)."""
    data_dir = tmp_path_factory.mktemp("jws-data")
    cloud.identity.credential_keys.ensure()
    (data_dir / "credential-keys").symlink_to(cloud.identity.credential_keys.path)
    cloud = Cloud(dataclasses.replace(settings, token_provider="jws", data_dir=data_dir),
                  services=["identity"], migrate=False)
    cloud.identity.keys.ensure()  # what bootstrap does on a cloud's first start
    try:
        yield cloud
    finally:
        cloud.close()


@pytest.fixture(scope="module")
def jws(jws_cloud):
    with TestClient(jws_cloud.asgi_app(), base_url="http://127.0.0.1:8780") as client:
        yield Api(client, jws_cloud)


def validate(api: Api, token: str, method: str = "GET", auth: str | None = None):
    return api.request(method, TOKENS, auth or token, headers={"X-Subject-Token": token})


def test_tokens_are_es256_jws_with_keystones_claims(jws):
    scope = {"project": {"name": "admin", "domain": {"id": "default"}}}
    r = jws.request("POST", TOKENS, json=password_auth("admin", ADMIN_PASSWORD, scope))
    assert r.status_code == 201, r.text
    token = r.headers["X-Subject-Token"]
    header, claims, signature = token.split(".")
    assert json.loads(b64url.decode(header))["alg"] == "ES256"
    assert len(b64url.decode(signature)) == 64
    claims = json.loads(b64url.decode(claims))
    body = r.json()["token"]
    assert claims["sub"] == body["user"]["id"] and claims["openstack_project_id"] == body["project"]["id"]
    assert claims["openstack_methods"] == ["password"] and claims["openstack_audit_ids"] == body["audit_ids"]

    got = validate(jws, token)
    assert got.status_code == 200 and got.headers["X-Subject-Token"] == token
    assert got.json()["token"]["expires_at"] == body["expires_at"]
    assert got.json()["token"]["issued_at"] == body["issued_at"]
    assert {role["name"] for role in got.json()["token"]["roles"]} >= {"admin", "member"}
    assert any(s["type"] == "identity" for s in got.json()["token"]["catalog"])
    assert validate(jws, token, "HEAD").status_code == 200
    assert jws.request("GET", "/identity/v3/auth/projects", token).status_code == 200


def test_revocation_as_for_fernet_tokens(jws):
    admin = jws.token("admin", ADMIN_PASSWORD, project="admin")
    token = jws.token("admin", ADMIN_PASSWORD, project="admin")
    assert validate(jws, token, auth=admin).status_code == 200  # cached now
    assert validate(jws, token, "DELETE", auth=admin).status_code == 204
    r = validate(jws, token, auth=admin)
    assert r.status_code == 404 and r.json()["error"]["message"] == "The token has been revoked."
    assert validate(jws, token, "HEAD", auth=admin).status_code == 404
    assert jws.request("GET", "/identity/v3/auth/projects", token).status_code == 401

    # Events other than an explicit revocation: a password change, a role removed.
    project = make_project(jws, admin)
    user = make_user(jws, admin, password="pw-jws", project=project["id"])
    mine = jws.token(user["name"], "pw-jws", project=project["name"])
    r = jws.request("POST", f"/identity/v3/users/{user['id']}/password", mine,
                    json={"user": {"password": "pw-jws-2", "original_password": "pw-jws"}})
    assert r.status_code == 204, r.text
    assert jws.request("GET", "/identity/v3/auth/projects", mine).status_code == 401
    fresh = jws.token(user["name"], "pw-jws-2", project=project["name"])  # issued in the same second
    assert jws.request("GET", "/identity/v3/auth/projects", fresh).status_code == 200
    member = jws.request("GET", "/identity/v3/roles?name=member", admin).json()["roles"][0]["id"]
    jws.request("DELETE", f"/identity/v3/projects/{project['id']}/users/{user['id']}/roles/{member}", admin)
    assert jws.request("GET", "/identity/v3/auth/projects", fresh).status_code == 401


def test_rescoped_and_expired_tokens(jws, jws_cloud):
    unscoped = jws.token("admin", ADMIN_PASSWORD)
    r = jws.request("POST", TOKENS, json={"auth": {
        "identity": {"methods": ["token"], "token": {"id": unscoped}},
        "scope": {"project": {"name": "admin", "domain": {"id": "default"}}}}})
    assert r.status_code == 201, r.text
    original = validate(jws, unscoped).json()["token"]
    assert r.json()["token"]["expires_at"] == original["expires_at"]
    assert r.json()["token"]["audit_ids"][1] == original["audit_ids"][0]

    expired = jws_cloud.identity.tokens.formatter.seal(TokenPayload(
        user_id=original["user"]["id"], methods=["password"], expires_at=time.time() - 1, scope_type=SCOPE_UNSCOPED))
    r = validate(jws, expired, auth=unscoped)
    assert r.status_code == 404 and r.json()["error"]["message"] == "The token has expired."
    assert jws.request("GET", "/identity/v3/auth/projects", expired).status_code == 401


def test_tokens_of_the_other_provider_are_refused_cleanly(api, jws):
    fernet = api.token("admin", ADMIN_PASSWORD, project="admin")
    signed = jws.token("admin", ADMIN_PASSWORD, project="admin")
    r = validate(jws, fernet, auth=signed)
    assert r.status_code == 404, r.text
    assert r.json()["error"]["message"] == f"Could not find token: {fernet}."  # Keystone's JWS provider
    assert jws.request("GET", "/identity/v3/auth/projects", fernet).status_code == 401
    r = validate(api, signed, auth=fernet)
    assert r.status_code == 404 and r.json()["error"]["message"] == "Could not recognize Fernet token"
    assert api.request("GET", "/identity/v3/auth/projects", signed).status_code == 401


def test_rotation_keeps_tokens_valid_until_their_public_key_goes(jws, jws_cloud, capsys):
    keys = jws_cloud.identity.keys
    old = jws.token("admin", ADMIN_PASSWORD, project="admin")
    rotate = ["--data-dir", str(jws_cloud.settings.data_dir), "token-keys", "rotate", "--provider", "jws"]
    assert cli(rotate) == 0
    assert "signs from now on" in capsys.readouterr().out
    keys._checked_at = 0  # do not wait for the once-a-second directory check
    new = jws.token("admin", ADMIN_PASSWORD, project="admin")
    assert json.loads(b64url.decode(new.split(".")[0]))["kid"] != json.loads(b64url.decode(old.split(".")[0]))["kid"]
    assert validate(jws, old, auth=new).status_code == 200
    numbered = sorted(p for p in keys.public_dir.iterdir() if p.stem.isdigit())
    for _ in range(keys.max_active_keys - 1):  # until the old token's public key is pruned
        assert jws.request("GET", "/identity/v3/auth/projects", old).status_code == 200
        assert cli(rotate) == 0
    assert not numbered[0].exists()
    keys._checked_at = 0  # do not wait for the once-a-second directory check
    r = validate(jws, old, auth=new)
    assert r.status_code == 404 and r.json()["error"]["message"] == f"Could not find token: {old}."
    assert jws.request("GET", "/identity/v3/auth/projects", old).status_code == 401
    assert validate(jws, new).status_code == 200


def test_token_provider_setting_is_checked(settings, jws_cloud):
    with pytest.raises(ValueError, match="'token_provider': 'uuid' is not one of fernet, jws"):
        Identity(jws_cloud.db, dataclasses.replace(settings, token_provider="uuid"))


def test_mfa_receipts_on_a_jws_cloud(jws, jws_cloud):
    """Receipts stay Fernet messages (the Fernet key repository is made on first use)
    and lead to a JWS token listing both methods."""
    admin = jws.token("admin", ADMIN_PASSWORD, project="admin")
    user = make_user(jws, admin, password=PASSWORD)
    secret = new_secret()
    jws.request("POST", "/identity/v3/credentials", admin, json={"credential": {
        "type": "totp", "user_id": user["id"], "blob": secret}}).raise_for_status()
    set_rules(jws, admin, user["id"], [["password", "totp"]])
    partial = login(jws, password_method(user["id"]))
    assert partial.status_code == 401 and partial.json()["required_auth_methods"] == [["totp", "password"]]
    assert (jws_cloud.settings.data_dir / "fernet-keys").is_dir()
    r = login(jws, totp_method(user["id"], passcode(secret)), partial.headers[RECEIPT])
    assert r.status_code == 201, r.text
    assert r.json()["token"]["methods"] == ["totp", "password"] and r.headers["X-Subject-Token"].count(".") == 2


def test_federated_tokens_carry_keystones_claims(api, admin_token, jws, monkeypatch):
    """A federated sign-in on the JWS cloud: the provider, protocol and groups travel in
    Keystone's ``openstack_idp_id``, ``openstack_protocol_id`` and ``openstack_group_ids``."""
    monkeypatch.setattr(jws.cloud.identity.federation, "assertions", TrustedAssertions.from_settings(PREFIX, "::1"))
    group = api.request("POST", "/identity/v3/groups", admin_token,
                        json={"group": {"name": unique("jg")}}).json()["group"]
    mapping_id, idp_id = unique("map"), unique("idp")
    put(api, admin_token, f"{FED}/mappings/{mapping_id}", "mapping", {"rules": rules_for(group["id"], unique("jp"))})
    put(api, admin_token, f"{IDPS}/{idp_id}", "identity_provider", {"enabled": True})
    put(api, admin_token, f"{IDPS}/{idp_id}/protocols/mapped", "protocol", {"mapping_id": mapping_id})
    proxy = TestClient(jws.cloud.asgi_app(), base_url="http://127.0.0.1:8780", client=("::1", 40000))
    r = sign_in(proxy, idp_id, REMOTE_USER="dora", EMAIL="dora@example.com", ORG_ROLE="staff")
    assert r.status_code == 201, r.text
    token = r.headers["X-Subject-Token"]
    claims = json.loads(b64url.decode(token.split(".")[1]))
    assert (claims["openstack_idp_id"], claims["openstack_protocol_id"], claims["openstack_group_ids"]) == (
        idp_id, "mapped", [group["id"]])
    assert validate(jws, token).json()["token"]["user"]["OS-FEDERATION"] == {
        "groups": [{"id": group["id"]}], "identity_provider": {"id": idp_id}, "protocol": {"id": "mapped"}}
