"""Federation (``/v3/OS-FEDERATION``) through the Keystone v3 API: identity providers,
protocols and mappings, and the mapped sign-in of an assertion a trusted front proxy
hands over as headers (keystone/api/os_federation.py, keystone/auth/plugins/mapped.py)."""

from __future__ import annotations

import pytest
from starlette.testclient import TestClient
from test_identity_trusts import assert_error, role_id

from pocketstack.identity.federation import TrustedAssertions

from conftest import unique

V3 = "/identity/v3"
FED = f"{V3}/OS-FEDERATION"
IDPS = f"{FED}/identity_providers"
PREFIX = "X-Federation-"


def put(api, token, path, key, body):
    r = api.request("PUT", path, token, json={key: body})
    assert r.status_code == 201, r.text
    return r.json()[key]


def rules_for(group_id: str, project: str) -> list[dict]:
    """Keystone's guide's shape: the user from REMOTE_USER, a group for staff, a
    provisioned project with the member role for everyone."""
    return [
        {"local": [{"user": {"name": "{0}", "email": "{1}"}},
                   {"projects": [{"name": project, "roles": [{"name": "member"}]}]}],
         "remote": [{"type": "REMOTE_USER"}, {"type": "EMAIL"}]},
        {"local": [{"group": {"id": group_id}}],
         "remote": [{"type": "ORG_ROLE", "any_one_of": ["staff"]}]},
    ]


@pytest.fixture
def proxy(api, monkeypatch):
    """A front proxy on 127.0.0.1 that the cloud trusts (the shared client, whose peer
    is ``testclient``, stays untrusted)."""
    monkeypatch.setattr(api.cloud.identity.federation, "assertions",
                        TrustedAssertions.from_settings(PREFIX, "127.0.0.0/8"))
    # Not entered: the cloud's services already run (the shared client started them).
    return TestClient(api.cloud.asgi_app(), base_url="http://127.0.0.1:8780", client=("127.0.0.1", 40000))


@pytest.fixture
def idp(api, admin_token):
    """An enabled identity provider with a ``mapped`` protocol, its mapping, a group
    holding the reader role on a project of its own, and the project name to provision."""
    group = api.request("POST", f"{V3}/groups", admin_token, json={"group": {"name": unique("fg")}}).json()["group"]
    readers = api.request("POST", f"{V3}/projects", admin_token,
                          json={"project": {"name": unique("fgp")}}).json()["project"]
    r = api.request("PUT", f"{V3}/projects/{readers['id']}/groups/{group['id']}/roles/"
                           f"{role_id(api, admin_token, 'reader')}", admin_token)
    assert r.status_code == 204, r.text
    idp_id, mapping_id, project = unique("idp"), unique("map"), unique("fedp")
    put(api, admin_token, f"{FED}/mappings/{mapping_id}", "mapping", {"rules": rules_for(group["id"], project)})
    body = put(api, admin_token, f"{IDPS}/{idp_id}", "identity_provider",
               {"enabled": True, "remote_ids": [f"https://{idp_id}.example/"]})
    put(api, admin_token, f"{IDPS}/{idp_id}/protocols/mapped", "protocol", {"mapping_id": mapping_id})
    return {"id": idp_id, "mapping": mapping_id, "group": group, "readers": readers, "project": project,
            "domain_id": body["domain_id"]}


def sign_in(client, idp_id, protocol="mapped", **attributes):
    headers = {PREFIX + name.replace("_", "-"): value for name, value in attributes.items()}
    return client.post(f"{FED}/identity_providers/{idp_id}/protocols/{protocol}/auth", headers=headers)


def test_identity_provider_crud(api, admin_token):
    idp_id, domain = unique("idp"), api.request("POST", f"{V3}/domains", admin_token,
                                                json={"domain": {"name": unique("fd")}}).json()["domain"]
    created = put(api, admin_token, f"{IDPS}/{idp_id}", "identity_provider",
                  {"description": "ACME", "remote_ids": ["acme_id_2", "acme_id_1"], "domain_id": domain["id"]})
    assert created == {"id": idp_id, "enabled": False, "description": "ACME", "domain_id": domain["id"],
                       "authorization_ttl": None, "remote_ids": ["acme_id_1", "acme_id_2"],
                       "links": {"self": f"http://127.0.0.1:8780{IDPS}/{idp_id}",
                                 "protocols": f"http://127.0.0.1:8780{IDPS}/{idp_id}/protocols"}}
    assert api.request("GET", f"{IDPS}/{idp_id}", admin_token).json()["identity_provider"] == created
    listed = api.request("GET", f"{IDPS}?id={idp_id}&enabled=false", admin_token).json()["identity_providers"]
    assert [i["id"] for i in listed] == [idp_id]
    assert api.request("GET", f"{IDPS}?id={idp_id}&enabled=true", admin_token).json()["identity_providers"] == []
    r = api.request("PATCH", f"{IDPS}/{idp_id}", admin_token,
                    json={"identity_provider": {"enabled": True, "remote_ids": ["acme_id_3"], "authorization_ttl": 5}})
    assert r.status_code == 200, r.text
    assert {k: r.json()["identity_provider"][k] for k in ("enabled", "remote_ids", "authorization_ttl")} == {
        "enabled": True, "remote_ids": ["acme_id_3"], "authorization_ttl": 5}
    # Remote ids are unique across identity providers; a domain is made when none is named.
    other = unique("idp")
    assert_error(api.request("PUT", f"{IDPS}/{other}", admin_token,
                             json={"identity_provider": {"remote_ids": ["acme_id_3"]}}), 409,
                 "Conflict occurred attempting to store identity_provider - Duplicate remote ID: acme_id_3.")
    auto = put(api, admin_token, f"{IDPS}/{other}", "identity_provider", {})
    made = api.request("GET", f"{V3}/domains/{auto['domain_id']}", admin_token).json()["domain"]
    assert made["name"] == auto["domain_id"]
    assert made["description"] == f"Auto generated federated domain for Identity Provider: {other}"
    assert_error(api.request("PUT", f"{IDPS}/{other}", admin_token, json={"identity_provider": {}}), 409,
                 f"Conflict occurred attempting to store identity_provider - Duplicate entry: {other}.")
    for idp in (idp_id, other):
        assert api.request("DELETE", f"{IDPS}/{idp}", admin_token).status_code == 204
    assert_error(api.request("GET", f"{IDPS}/{idp_id}", admin_token), 404,
                 f"Could not find Identity Provider: {idp_id}.")


@pytest.mark.parametrize("body", [
    {"identity_provider": {"id": "x"}}, {"identity_provider": {"enabled": "yes"}},
    {"identity_provider": {"remote_ids": ["a", "a"]}}, {"identity_provider": {"authorization_ttl": -1}},
    {"identity_provider": {"remote_ids": ["x" * 65]}},
])
def test_identity_provider_validation(api, admin_token, body):
    assert_error(api.request("PUT", f"{IDPS}/{unique('idp')}", admin_token, json=body), 400)


def test_identity_provider_errors(api, admin_token):
    assert_error(api.request("PUT", f"{IDPS}/{unique('idp')}", admin_token,
                             json={"identity_provider": {"domain_id": "nope"}}), 404, "Could not find domain: nope.")
    assert_error(api.request("PATCH", f"{IDPS}/nope", admin_token, json={"identity_provider": {"enabled": True}}),
                 404, "Could not find Identity Provider: nope.")
    assert_error(api.request("PATCH", f"{IDPS}/nope", admin_token, json={"identity_provider": {}}), 400)


def test_protocol_and_mapping_crud(api, admin_token, idp):
    base = f"{IDPS}/{idp['id']}/protocols"
    assert_error(api.request("PUT", f"{base}/saml2", admin_token, json={"protocol": {"mapping_id": "nope"}}), 400,
                 "Invalid mapping id: nope")
    assert_error(api.request("PUT", f"{IDPS}/nope/protocols/saml2", admin_token,
                             json={"protocol": {"mapping_id": idp["mapping"]}}), 404,
                 "Could not find Identity Provider: nope.")
    created = put(api, admin_token, f"{base}/saml2", "protocol",
                  {"mapping_id": idp["mapping"], "remote_id_attribute": "IDP_ENTITY"})
    assert created == {"id": "saml2", "mapping_id": idp["mapping"], "links": {
        "self": f"http://127.0.0.1:8780{base}/saml2",
        "identity_provider": f"http://127.0.0.1:8780{IDPS}/{idp['id']}"}}
    assert_error(api.request("PUT", f"{base}/saml2", admin_token, json={"protocol": {"mapping_id": idp["mapping"]}}),
                 409, "Conflict occurred attempting to store federation_protocol - Duplicate entry found with ID "
                      "saml2.")
    listed = api.request("GET", base, admin_token).json()["protocols"]
    assert {(p["id"], p["idp_id"], p["remote_id_attribute"]) for p in listed} == {
        ("mapped", idp["id"], None), ("saml2", idp["id"], "IDP_ENTITY")}
    assert api.request("GET", f"{base}/saml2", admin_token).json()["protocol"] == created
    assert_error(api.request("PATCH", f"{base}/saml2", admin_token, json={"protocol": {"remote_id_attribute": "X"}}),
                 400)
    assert api.request("PATCH", f"{base}/saml2", admin_token,
                       json={"protocol": {"mapping_id": idp["mapping"]}}).status_code == 200
    assert api.request("DELETE", f"{base}/saml2", admin_token).status_code == 204
    assert_error(api.request("GET", f"{base}/saml2", admin_token), 404,
                 f"Could not find federated protocol saml2 for Identity Provider: {idp['id']}.")

    path = f"{FED}/mappings/{idp['mapping']}"
    mapping = api.request("GET", path, admin_token).json()["mapping"]
    assert mapping["schema_version"] == "1.0" and mapping["links"]["self"].endswith(path)
    assert idp["mapping"] in [mp["id"] for mp in api.request("GET", f"{FED}/mappings", admin_token).json()["mappings"]]
    assert_error(api.request("PUT", path, admin_token, json={"mapping": {"rules": mapping["rules"]}}), 409,
                 "Conflict occurred attempting to store mapping - Duplicate entry.")
    rules = [{"local": [{"user": {"name": "{0}"}}], "remote": [{"type": "REMOTE_USER"}]}]
    r = api.request("PATCH", path, admin_token, json={"mapping": {"rules": rules, "schema_version": "2.0"}})
    assert r.status_code == 200, r.text
    assert r.json()["mapping"]["rules"] == rules and r.json()["mapping"]["schema_version"] == "2.0"
    assert_error(api.request("PUT", f"{FED}/mappings/{unique('m')}", admin_token, json={"mapping": {"rules": [
        {"local": [{"user": {"name": "{0}"}}], "remote": [{"type": "A", "whatever": 1}]}]}}), 400,
        "{'type': 'A', 'whatever': 1} is not valid under any of the given schemas\n")
    assert_error(api.request("PUT", f"{FED}/mappings/{unique('m')}", admin_token, json={"mapping": {}}), 400,
                 "'rules' is a required property\n")
    assert_error(api.request("PATCH", f"{FED}/mappings/nope", admin_token, json={"mapping": {"rules": rules}}), 404,
                 "Could not find mapping: nope.")


def test_mapped_sign_in_provisions_and_scopes(api, admin_token, idp, proxy):
    r = sign_in(proxy, idp["id"], REMOTE_USER="alice", EMAIL="alice@example.com", ORG_ROLE="staff;dev")
    assert r.status_code == 201, r.text
    token, body = r.headers["X-Subject-Token"], r.json()["token"]
    assert body["methods"] == ["mapped"] and "roles" not in body and "catalog" not in body
    user = body["user"]
    assert user["name"] == "alice" and user["domain"]["id"] == idp["domain_id"] and "password_expires_at" not in user
    assert user["OS-FEDERATION"] == {"groups": [{"id": idp["group"]["id"]}], "identity_provider": {"id": idp["id"]},
                                     "protocol": {"id": "mapped"}}
    # The shadow user is a user of the provider's domain; signing in again finds it.
    shadow = api.request("GET", f"{V3}/users/{user['id']}", admin_token).json()["user"]
    assert shadow["domain_id"] == idp["domain_id"] and shadow["email"] == "alice@example.com"
    again = sign_in(proxy, idp["id"], REMOTE_USER="alice", EMAIL="alice@example.com")
    assert again.json()["token"]["user"]["id"] == user["id"]
    assert again.json()["token"]["user"]["OS-FEDERATION"]["groups"] == []

    # The provisioned project (member) and the group's project (reader) are listed.
    for path in (f"{V3}/auth/projects", f"{FED}/projects"):
        names = {p["name"] for p in api.request("GET", path, token).json()["projects"]}
        assert names == {idp["project"], idp["readers"]["name"]}
    provisioned = next(p for p in api.request("GET", f"{V3}/auth/projects", token).json()["projects"]
                       if p["name"] == idp["project"])
    assert provisioned["domain_id"] == idp["domain_id"]
    assert api.request("GET", f"{FED}/domains", token).json()["domains"] == []

    # Rescoped, the token keeps its federation and carries the group's roles.
    r = api.request("POST", f"{V3}/auth/tokens", json={"auth": {
        "identity": {"methods": ["token"], "token": {"id": token}},
        "scope": {"project": {"id": idp["readers"]["id"]}}}})
    assert r.status_code == 201, r.text
    scoped = r.json()["token"]
    assert scoped["methods"] == ["mapped", "token"] and [x["name"] for x in scoped["roles"]] == ["reader"]
    assert scoped["user"]["OS-FEDERATION"]["groups"] == [{"id": idp["group"]["id"]}]
    # ... and works on another service.
    member = api.request("POST", f"{V3}/auth/tokens", json={"auth": {
        "identity": {"methods": ["token"], "token": {"id": token}},
        "scope": {"project": {"id": provisioned["id"]}}}}).headers["X-Subject-Token"]
    assert api.request("GET", "/compute/v2.1/servers", member).status_code == 200
    validated = api.request("GET", f"{V3}/auth/tokens", admin_token, headers={"X-Subject-Token": member})
    assert validated.json()["token"]["user"]["OS-FEDERATION"]["identity_provider"] == {"id": idp["id"]}


def test_mapped_sign_in_refusals(api, admin_token, idp, proxy):
    # No rule matches: 401 with Keystone's sentence.
    assert_error(sign_in(proxy, idp["id"], EMAIL="x@example.com"), 401,
                 "Could not map any federated user properties to identity values. Check debug logs or the mapping "
                 "used for additional details.")
    # The same headers from an untrusted peer carry no assertion.
    headers = {f"{PREFIX}Remote-User": "mallory", f"{PREFIX}Email": "m@example.com"}
    assert_error(api.client.post(f"{IDPS}/{idp['id']}/protocols/mapped/auth", headers=headers), 401)
    assert_error(sign_in(proxy, "nope", REMOTE_USER="a", EMAIL="b"), 404, "Could not find Identity Provider: nope.")
    assert_error(sign_in(proxy, idp["id"], "openid", REMOTE_USER="a", EMAIL="b"), 404,
                 f"Could not find federated protocol openid for Identity Provider: {idp['id']}.")
    assert_error(sign_in(proxy, idp["id"], "webauthn", REMOTE_USER="a", EMAIL="b"), 401,
                 "Attempted to authenticate with an unsupported method: webauthn.")
    # The provider's remote id, when the protocol names the attribute that carries it.
    assert api.request("PATCH", f"{IDPS}/{idp['id']}/protocols/mapped", admin_token, json={"protocol": {
        "mapping_id": idp["mapping"], "remote_id_attribute": "IDP_ENTITY"}}).status_code == 200
    assert_error(sign_in(proxy, idp["id"], REMOTE_USER="a", EMAIL="b", IDP_ENTITY="https://evil.example/"), 403,
                 "Incoming identity provider identifier not included among the accepted identifiers.")
    assert_error(sign_in(proxy, idp["id"], REMOTE_USER="a", EMAIL="b"), 401,
                 "Could not find Identity Provider identifier in environment")
    r = sign_in(proxy, idp["id"], REMOTE_USER="bob", EMAIL="b", IDP_ENTITY=f"https://{idp['id']}.example/")
    assert r.status_code == 201, r.text
    token = r.headers["X-Subject-Token"]
    # A disabled provider signs no one in (403), nor rescopes its tokens.
    api.request("PATCH", f"{IDPS}/{idp['id']}", admin_token, json={"identity_provider": {"enabled": False}})
    assert_error(sign_in(proxy, idp["id"], REMOTE_USER="bob", EMAIL="b"), 403,
                 f"Identity Provider {idp['id']} is disabled")
    assert_error(api.request("POST", f"{V3}/auth/tokens", json={"auth": {
        "identity": {"methods": ["token"], "token": {"id": token}}}}), 403)
    # Deleting the provider takes its shadow users and invalidates their tokens.
    user_id = r.json()["token"]["user"]["id"]
    assert api.request("DELETE", f"{IDPS}/{idp['id']}", admin_token).status_code == 204
    assert api.request("GET", f"{V3}/users/{user_id}", admin_token).status_code == 404
    assert api.request("GET", f"{V3}/auth/tokens", admin_token, headers={"X-Subject-Token": token}).status_code == 404


def test_local_user_and_auth_tokens_method(api, admin_token, proxy):
    """A ``local`` mapping signs an existing user in, without federation in the token;
    ``POST /v3/auth/tokens`` with the ``mapped`` method does what the dedicated URL does."""
    user = api.request("POST", f"{V3}/users", admin_token, json={"user": {"name": unique("lu")}}).json()["user"]
    mapping_id, idp_id = unique("map"), unique("idp")
    put(api, admin_token, f"{FED}/mappings/{mapping_id}", "mapping", {"rules": [
        {"local": [{"user": {"name": "{0}", "type": "local", "domain": {"id": "default"}}}],
         "remote": [{"type": "REMOTE_USER"}]}]})
    put(api, admin_token, f"{IDPS}/{idp_id}", "identity_provider", {"enabled": True})
    put(api, admin_token, f"{IDPS}/{idp_id}/protocols/mapped", "protocol", {"mapping_id": mapping_id})
    r = proxy.post(f"{V3}/auth/tokens", headers={f"{PREFIX}Remote-User": user["name"]}, json={"auth": {"identity": {
        "methods": ["mapped"], "mapped": {"identity_provider": idp_id, "protocol": "mapped"}}}})
    assert r.status_code == 201, r.text
    body = r.json()["token"]
    assert body["user"]["id"] == user["id"] and "OS-FEDERATION" not in body["user"]
    assert body["methods"] == ["mapped"]
    assert_error(proxy.post(f"{V3}/auth/tokens", json={"auth": {"identity": {
        "methods": ["mapped"], "mapped": {"protocol": "mapped"}}}}), 400,
        "Expecting to find identity_provider in mapped. The server could not comply with the request since it is "
        "either malformed or otherwise incorrect. The client is assumed to be in error.")
    assert api.request("DELETE", f"{IDPS}/{idp_id}", admin_token).status_code == 204
    assert api.request("GET", f"{V3}/users/{user['id']}", admin_token).status_code == 200


def test_schema_3_0_keeps_project_roles_in_step_with_the_provider(api, admin_token, proxy):
    mapping_id, idp_id, names = unique("map"), unique("idp"), [unique("jp"), unique("jp")]
    put(api, admin_token, f"{FED}/mappings/{mapping_id}", "mapping", {"schema_version": "3.0", "rules": [
        {"local": [{"user": {"name": "{0}"}, "projects_json": "{1}"}],
         "remote": [{"type": "REMOTE_USER"}, {"type": "PROJECTS"}]}]})
    put(api, admin_token, f"{IDPS}/{idp_id}", "identity_provider", {"enabled": True})
    put(api, admin_token, f"{IDPS}/{idp_id}/protocols/openid", "protocol", {"mapping_id": mapping_id})

    def projects_after_sign_in(*grants):
        value = "[" + ",".join(f'{{"name": "{n}", "roles": [{{"name": "{r}"}}]}}' for n, r in grants) + "]"
        r = sign_in(proxy, idp_id, "openid", REMOTE_USER="carol", PROJECTS=value)
        assert r.status_code == 201, r.text
        assert r.json()["token"]["methods"] == ["openid"]
        listed = api.request("GET", f"{V3}/auth/projects", r.headers["X-Subject-Token"]).json()["projects"]
        return sorted(p["name"] for p in listed)

    assert projects_after_sign_in((names[0], "member"), (names[1], "reader")) == sorted(names)
    assert projects_after_sign_in((names[1], "reader")) == [names[1]]
    assert projects_after_sign_in() == []
