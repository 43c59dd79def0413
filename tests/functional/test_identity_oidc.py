"""The OpenID Connect front end of federation against a real OpenID provider: Authlib's
OAuth 2.0 authorization server (password and client_credentials grants, RFC 9068 JWT
access tokens, RFC 7662 introspection) on a small Flask app on loopback, and
keystoneauth's real ``v3oidcpassword`` and ``v3oidcclientcredentials`` plugins signing
in to pocketstack served by uvicorn."""

from __future__ import annotations

import json
import os
import re
import subprocess
import threading
import time

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from keystoneauth1 import exceptions as ks_exc
from keystoneauth1 import loading, session
from test_identity_federation import FED, IDPS, V3, put
from test_identity_trusts import assert_error

from oidc_provider import AUDIENCE, Provider, serve_provider, standard_provider
from pocketstack.identity.oidc import OidcFrontEnd, OidcProvider, assertion
from pocketstack.testing.harness import free_port

from cloudproc import BIN
from conftest import unique


@pytest.fixture(scope="module")
def provider():
    port = free_port()
    provider = standard_provider(port)
    server = serve_provider(provider, port)
    thread = threading.Thread(target=server.serve_forever, name="oidc-provider", daemon=True)
    thread.start()
    yield provider
    server.shutdown()
    thread.join(timeout=10)


@pytest.fixture
def idp(api, admin_token, provider, monkeypatch):
    """An enabled identity provider (remote id: the issuer) whose ``openid`` protocol's
    mapping names users by ``preferred_username`` (services by ``client_id``), provisions
    a project and puts the ``staff`` group claim's members in a group."""
    group = api.request("POST", f"{V3}/groups", admin_token, json={"group": {"name": unique("og")}}).json()["group"]
    idp_id, mapping_id, project = unique("oidc"), unique("omap"), unique("oproj")
    put(api, admin_token, f"{FED}/mappings/{mapping_id}", "mapping", {"rules": [
        {"local": [{"user": {"name": "{0}", "email": "{1}"}},
                   {"projects": [{"name": project, "roles": [{"name": "member"}]}]}],
         "remote": [{"type": "OIDC_CLAIM_preferred_username"}, {"type": "OIDC_CLAIM_EMAIL"}]},
        {"local": [{"user": {"name": "svc-{0}"}}], "remote": [{"type": "OIDC_CLAIM_client_id"}]},
        {"local": [{"group": {"id": group["id"]}}],
         "remote": [{"type": "OIDC_CLAIM_groups", "any_one_of": ["staff"]}]},
    ]})
    body = put(api, admin_token, f"{IDPS}/{idp_id}", "identity_provider",
               {"enabled": True, "remote_ids": [provider.issuer]})
    put(api, admin_token, f"{IDPS}/{idp_id}/protocols/openid", "protocol",
        {"mapping_id": mapping_id, "remote_id_attribute": "HTTP_OIDC_ISS"})
    config = OidcProvider.from_table(idp_id, {"issuer": provider.issuer, "audience": AUDIENCE,
                                              "client_id": "introspector", "client_secret": "intro-secret",
                                              "jwks_min_refetch_interval": 0})
    monkeypatch.setattr(api.cloud.identity, "oidc", OidcFrontEnd({idp_id: config}))
    yield {"id": idp_id, "group": group, "project": project, "domain_id": body["domain_id"]}
    # The issuer is the remote id of one provider at a time.
    assert api.request("DELETE", f"{IDPS}/{idp_id}", admin_token).status_code == 204


def plugin(name: str, keystone_url: str, provider: Provider, idp_id: str, **options):
    return loading.get_plugin_loader(name).load_from_options(
        auth_url=keystone_url, identity_provider=idp_id, protocol="openid",
        discovery_endpoint=provider.issuer + "/.well-known/openid-configuration", **options)


def test_v3oidcpassword_signs_in_a_shadow_user(api, admin_token, keystone_url, provider, idp):
    auth = plugin("v3oidcpassword", keystone_url, provider, idp["id"], client_id="pocketstack",
                  client_secret="cli-secret", username="alice", password="wonderland", project_name=idp["project"],
                  project_domain_id=idp["domain_id"])
    access = auth.get_access(session.Session())
    assert access.project_name == idp["project"] and "member" in access.role_names
    assert access._data["token"]["methods"] == ["openid", "token"]
    user = api.request("GET", f"{V3}/users/{access.user_id}", admin_token).json()["user"]
    assert (user["name"], user["domain_id"], user["email"]) == ("alice", idp["domain_id"], "alice@example.org")
    # The unscoped token is the federated one: the provider, protocol and mapped group.
    unscoped = plugin("v3oidcpassword", keystone_url, provider, idp["id"], client_id="pocketstack",
                      client_secret="cli-secret", username="alice", password="wonderland")
    token = unscoped.get_access(session.Session())
    assert token.user_id == access.user_id and token.project_id is None
    # The real CLI, as a user would run it.
    env = {k: v for k, v in os.environ.items() if not k.startswith("OS_")}
    cli = subprocess.run([str(BIN / "openstack"), "--os-auth-type", "v3oidcpassword", "--os-auth-url", keystone_url,
                          "--os-identity-provider", idp["id"], "--os-protocol", "openid",
                          "--os-client-id", "pocketstack", "--os-client-secret", "cli-secret",
                          "--os-discovery-endpoint", provider.issuer + "/.well-known/openid-configuration",
                          "--os-username", "alice", "--os-password", "wonderland", "--os-project-name", idp["project"],
                          "--os-project-domain-id", idp["domain_id"], "token", "issue", "-f", "json"],
                         env=env, capture_output=True, text=True, timeout=120)
    assert cli.returncode == 0, cli.stderr
    issued = json.loads(cli.stdout)
    assert (issued["user_id"], issued["project_id"]) == (access.user_id, access.project_id)
    assert token._data["token"]["user"]["OS-FEDERATION"] == {
        "groups": [{"id": idp["group"]["id"]}], "identity_provider": {"id": idp["id"]}, "protocol": {"id": "openid"}}


def test_v3oidcclientcredentials_es256(api, admin_token, keystone_url, provider, idp):
    access = plugin("v3oidcclientcredentials", keystone_url, provider, idp["id"], client_id="robot",
                    client_secret="robot-secret").get_access(session.Session())
    user = api.request("GET", f"{V3}/users/{access.user_id}", admin_token).json()["user"]
    assert (user["name"], user["domain_id"]) == ("svc-robot", idp["domain_id"])
    assert access._data["token"]["user"]["OS-FEDERATION"]["groups"] == []
    # Another client's token (its audience is that client) is refused.
    with pytest.raises(ks_exc.Unauthorized) as refused:
        plugin("v3oidcclientcredentials", keystone_url, provider, idp["id"], client_id="other-app",
               client_secret="other-secret").get_access(session.Session())
    assert "its audience is not 'pocketstack'" in str(refused.value)


def test_opaque_token_by_introspection(api, provider, idp):
    token = provider.sign({}, "rsa-1")  # a JWT for comparison: accepted without introspection
    assert sign_in(api, idp["id"], token).status_code == 201
    r = httpx.post(provider.issuer + "/token", data={"grant_type": "client_credentials", "scope": "openid"},
                                 auth=("opaque-app", "opaque-secret"))
    assert r.status_code == 200, r.text
    opaque = r.json()["access_token"]
    assert opaque.count(".") != 2
    r = sign_in(api, idp["id"], opaque)
    assert r.status_code == 201, r.text
    assert r.json()["token"]["user"]["name"] == "svc-opaque-app"
    assert_error(sign_in(api, idp["id"], "not-a-token-it-knows"), 401,
                 "Invalid OpenID Connect access token: the identity provider says it is not active")


def sign_in(api, idp_id: str, token: str | None, protocol: str = "openid"):
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return api.client.post(f"{IDPS}/{idp_id}/protocols/{protocol}/auth", headers=headers)


def test_bad_tokens_are_refused(api, admin_token, provider, idp):
    now = int(time.time())
    stranger = rsa.generate_private_key(65537, 2048)
    prefix = "Invalid OpenID Connect access token: "
    for token, reason in [
        (provider.sign({"exp": now - 120}, "rsa-1"), "it has expired"),
        (provider.sign({"nbf": now + 120}, "rsa-1"), "it is not valid yet (nbf)"),
        (provider.sign({"aud": "someone-else"}, "rsa-1"), "its audience is not 'pocketstack'"),
        (provider.sign({"iss": "https://evil.example"}, "rsa-1"), f"its issuer is not '{provider.issuer}'"),
        (provider.sign({}, "rsa-1", key=stranger),
         f"its signature does not verify with the keys of identity provider {idp['id']}"),
        (provider.sign({}, "stranger", key=stranger),
         f"it is not signed by a key of identity provider {idp['id']} (unknown key id 'stranger')"),
        (provider.sign({}, "rsa-1", key=provider.keys["ec-1"], algorithm="ES256"),
         f"key 'rsa-1' of identity provider {idp['id']} is not a signing key for ES256"),
        (provider.sign({}, "ec-1", key=provider.keys["rsa-1"], algorithm="RS256"),
         f"key 'ec-1' of identity provider {idp['id']} is not a signing key for RS256"),
        (jwt.encode({"iss": provider.issuer, "aud": AUDIENCE, "sub": "alice", "exp": now + 60}, None,
                    algorithm="none"), "signature algorithm 'none' is not accepted (only RS256, ES256)"),
        (jwt.encode({"iss": provider.issuer, "aud": AUDIENCE, "sub": "alice", "exp": now + 60}, "s" * 32,
                    algorithm="HS256"), "signature algorithm 'HS256' is not accepted (only RS256, ES256)"),
        (provider.sign({"exp": None}, "rsa-1"), 'Token is missing the "exp" claim'),
    ]:
        assert_error(sign_in(api, idp["id"], token), 401, prefix + reason)
    assert_error(sign_in(api, idp["id"], None), 401, f"Identity provider {idp['id']} signs in with an OpenID "
                                                     "Connect access token: send it as 'Authorization: Bearer <token>'")
    # Within the leeway (30 s) an expired token still passes.
    assert sign_in(api, idp["id"], provider.sign({"exp": now - 5}, "rsa-1")).status_code == 201
    # A key the provider adds is fetched again for its unknown key id.
    provider.keys["rsa-2"] = rsa.generate_private_key(65537, 2048)
    try:
        assert sign_in(api, idp["id"], provider.sign({}, "rsa-2")).status_code == 201
    finally:
        del provider.keys["rsa-2"]
    # A disabled identity provider: Keystone's 403, whatever the token.
    r = api.request("PATCH", f"{IDPS}/{idp['id']}", admin_token, json={"identity_provider": {"enabled": False}})
    assert r.status_code == 200, r.text
    assert_error(sign_in(api, idp["id"], provider.sign({}, "rsa-1")), 403, f"Identity Provider {idp['id']} is disabled")
    # A provider the front end does not know takes no bearer token (its mapping maps nothing).
    other = unique("idp")
    put(api, admin_token, f"{IDPS}/{other}", "identity_provider", {"enabled": True})
    mapping = api.request("GET", f"{IDPS}/{idp['id']}/protocols/openid", admin_token).json()["protocol"]["mapping_id"]
    put(api, admin_token, f"{IDPS}/{other}/protocols/openid", "protocol", {"mapping_id": mapping})
    assert sign_in(api, other, provider.sign({}, "rsa-1")).status_code == 401


def test_claims_as_mod_auth_openidc_exports_them():
    assert assertion({"iss": "https://op", "sub": "u1", "email": "a@b", "groups": ["x", "y"], "email_verified": True,
                      "address": {"country": "FR"}}) == {
        "OIDC_CLAIM_iss": "https://op", "OIDC_CLAIM_ISS": "https://op", "OIDC_CLAIM_sub": "u1", "OIDC_CLAIM_SUB": "u1",
        "OIDC_CLAIM_email": "a@b", "OIDC_CLAIM_EMAIL": "a@b", "OIDC_CLAIM_groups": "x;y", "OIDC_CLAIM_GROUPS": "x;y",
        "OIDC_CLAIM_email_verified": "true", "OIDC_CLAIM_EMAIL_VERIFIED": "true",
        "OIDC_CLAIM_address": '{"country":"FR"}', "OIDC_CLAIM_ADDRESS": '{"country":"FR"}',
        "HTTP_OIDC_ISS": "https://op", "REMOTE_USER": "u1"}


def test_configuration_file(tmp_path):
    path = tmp_path / "oidc.toml"
    path.write_text('[corp]\nissuer = "https://op.example"\naudience = "openstack"\n'
                    'algorithms = ["ES256"]\nleeway = 5\n')
    front = OidcFrontEnd.from_file(str(path))
    assert front.handles("corp", "openid") and not front.handles("corp", "mapped") and not front.handles("x", "openid")
    assert front.verifiers["corp"].provider == OidcProvider(idp_id="corp", issuer="https://op.example",
                                                            audience="openstack", algorithms=("ES256",), leeway=5)
    for table, message in [
        ('audience = "a"', "'issuer' is required"),
        ('issuer = "https://op"\naudience = "a"\ncolour = 1', "unknown keys colour"),
        ('issuer = "ftp://op"\naudience = "a"', "'issuer' must be an http(s) URL"),
        ('issuer = "https://op"\naudience = "a"\nalgorithms = ["HS256"]', "'algorithms' must be a list of"),
        ('issuer = "https://op"\naudience = "a"\nleeway = -1', "'leeway' must be a number of seconds"),
        ('issuer = "https://op"\naudience = "a"\nintrospection_endpoint = "https://op/i"', "needs 'client_id'"),
        ('issuer = "https://op"\naudience = "a"\nauthorization_endpoint = "javascript:x"',
         "'authorization_endpoint' must be an http(s) URL"),
        ('issuer = "https://op"\naudience = "a"\nscope = 1', "'scope' must be a string"),
    ]:
        path.write_text("[corp]\n" + table + "\n")
        with pytest.raises(ValueError, match=re.escape(message)):
            OidcFrontEnd.from_file(str(path))
