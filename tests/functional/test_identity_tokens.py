"""Token issue, validation, scoping and revocation through the Keystone v3 API."""

from __future__ import annotations

import time

import pytest

from pocketstack.cloud import Cloud
from pocketstack.common.errors import NotFound

from conftest import ADMIN_PASSWORD, DEMO_PASSWORD, unique

TOKENS = "/identity/v3/auth/tokens"


def password_auth(name, password, scope=None, domain="default"):
    auth = {"identity": {"methods": ["password"], "password": {
        "user": {"name": name, "domain": {"id": domain}, "password": password}}}}
    if scope is not None:
        auth["scope"] = scope
    return {"auth": auth}


def make_user(api, admin_token, password="pw-1234", project=None, role="member"):
    name = unique("user")
    user = api.request("POST", "/identity/v3/users", admin_token,
                       json={"user": {"name": name, "password": password}}).json()["user"]
    if project:
        role_id = api.request("GET", f"/identity/v3/roles?name={role}", admin_token).json()["roles"][0]["id"]
        r = api.request("PUT", f"/identity/v3/projects/{project}/users/{user['id']}/roles/{role_id}", admin_token)
        assert r.status_code == 204
    return user


def make_project(api, admin_token):
    r = api.request("POST", "/identity/v3/projects", admin_token, json={"project": {"name": unique("proj")}})
    assert r.status_code == 201, r.text
    return r.json()["project"]


def test_version_discovery(api):
    root = api.request("GET", "/identity/")
    assert root.status_code == 300
    assert root.json()["versions"]["values"][0]["id"] == "v3.14"
    v3 = api.request("GET", "/identity/v3")
    assert v3.status_code == 200
    assert v3.json()["version"]["links"][0]["href"] == "http://127.0.0.1:8780/identity/v3/"


def test_password_project_scoped_token_has_roles_and_catalog(api):
    r = api.request("POST", TOKENS, json=password_auth("admin", ADMIN_PASSWORD, {
        "project": {"name": "admin", "domain": {"name": "Default"}}}))
    assert r.status_code == 201
    token = r.json()["token"]
    assert r.headers["X-Subject-Token"]
    assert token["project"]["name"] == "admin"
    assert {x["name"] for x in token["roles"]} == {"admin", "manager", "member", "reader"}
    assert "identity" in {s["type"] for s in token["catalog"]}
    assert token["expires_at"].endswith("Z") and token["methods"] == ["password"]


def test_nocatalog_and_validate(api, admin_token):
    r = api.request("GET", TOKENS + "?nocatalog", admin_token, headers={"X-Subject-Token": admin_token})
    assert r.status_code == 200
    assert "catalog" not in r.json()["token"]
    assert api.request("HEAD", TOKENS, admin_token, headers={"X-Subject-Token": admin_token}).status_code == 200


def test_unscoped_domain_and_system_scopes(api):
    unscoped = api.request("POST", TOKENS, json=password_auth("admin", ADMIN_PASSWORD, "unscoped"))
    assert unscoped.status_code == 201
    assert "roles" not in unscoped.json()["token"] and "project" not in unscoped.json()["token"]
    domain = api.request("POST", TOKENS, json=password_auth("admin", ADMIN_PASSWORD, {"domain": {"id": "default"}}))
    assert domain.status_code == 201 and domain.json()["token"]["domain"]["id"] == "default"
    system = api.request("POST", TOKENS, json=password_auth("admin", ADMIN_PASSWORD, {"system": {"all": True}}))
    assert system.status_code == 201 and system.json()["token"]["system"] == {"all": True}


def test_default_project_scopes_token_when_no_scope_given(api):
    r = api.request("POST", TOKENS, json=password_auth("demo", DEMO_PASSWORD))
    assert r.status_code == 201
    assert r.json()["token"]["project"]["name"] == "demo"


def test_token_method_rescopes_and_keeps_expiry(api):
    first = api.request("POST", TOKENS, json=password_auth("admin", ADMIN_PASSWORD, "unscoped"))
    token_id = first.headers["X-Subject-Token"]
    second = api.request("POST", TOKENS, json={"auth": {
        "identity": {"methods": ["token"], "token": {"id": token_id}},
        "scope": {"project": {"name": "admin", "domain": {"id": "default"}}}}})
    assert second.status_code == 201
    body = second.json()["token"]
    assert body["expires_at"] == first.json()["token"]["expires_at"]
    assert body["audit_ids"][1] == first.json()["token"]["audit_ids"][0]


def test_token_method_with_a_revoked_token_is_404(api, admin_token):
    """Keystone's token method validates the token as GET /v3/auth/tokens does: 404."""
    token_id = api.request("POST", TOKENS, json=password_auth("admin", ADMIN_PASSWORD, "unscoped")).headers[
        "X-Subject-Token"]
    assert api.request("DELETE", TOKENS, admin_token, headers={"X-Subject-Token": token_id}).status_code == 204
    r = api.request("POST", TOKENS, json={"auth": {"identity": {"methods": ["token"], "token": {"id": token_id}}}})
    assert r.status_code == 404 and r.json()["error"]["message"] == "The token has been revoked."


def test_bad_credentials_are_401_with_www_authenticate(api):
    r = api.request("POST", TOKENS, json=password_auth("admin", "wrong"))
    assert r.status_code == 401
    assert r.headers["WWW-Authenticate"].startswith("Keystone uri=")
    assert r.json()["error"]["code"] == 401
    assert api.request("POST", TOKENS, json=password_auth(unique("nobody"), "x")).status_code == 401


def test_no_access_to_project_is_401(api, admin_token):
    project = make_project(api, admin_token)
    make_user(api, admin_token, password="pw-lonely")
    r = api.request("POST", TOKENS, json=password_auth("demo", DEMO_PASSWORD, {"project": {"id": project["id"]}}))
    assert r.status_code == 401


def test_malformed_auth_bodies_are_400_never_500(api):
    for body in (b"{not json", b"[]", b'{"auth": {}}', b'{"auth": {"identity": {"methods": "password"}}}',
                 b'{"auth": {"identity": {"methods": ["password"]}}}',
                 b'{"auth": {"identity": {"methods": ["password"], "password": {"user": "x"}}}}',
                 b'{"auth": {"identity": {"methods": ["password"], "password": {"user": {"name": "a"}}}}}'):
        r = api.request("POST", TOKENS, content=body, headers={"Content-Type": "application/json"})
        assert r.status_code in (400, 401), (body, r.status_code, r.text)
        assert set(r.json()["error"]) == {"code", "title", "message"}


def test_invalid_and_tampered_tokens(api, admin_token):
    assert api.request("GET", "/identity/v3/auth/projects", "garbage").status_code == 401
    tampered = admin_token[:-5] + ("AAAAA" if not admin_token.endswith("AAAAA") else "BBBBB")
    assert api.request("GET", "/identity/v3/auth/projects", tampered).status_code == 401
    r = api.request("GET", TOKENS, admin_token, headers={"X-Subject-Token": tampered})
    assert r.status_code == 404


def _respellings(token: str) -> list[str]:
    """The same Fernet bytes written differently: padded, extra ``=``, the standard
    base64 alphabet, a stray character, and different unused trailing bits."""
    import base64
    raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
    standard = base64.b64encode(raw).decode().rstrip("=")
    spellings = [token + "=" * (-len(token) % 4 or 4), token + "==", token[:10] + "." + token[10:]]
    if standard != token:
        spellings.append(standard)
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    unused_bits = {2: 4, 3: 2}.get(len(raw) % 3, 0)
    if unused_bits:
        last = alphabet.index(token[-1])
        spellings.append(token[:-1] + alphabet[last | ((1 << unused_bits) - 1)])
    return [s for s in spellings if s != token]


def test_only_the_canonical_spelling_of_a_token_is_accepted(api, admin_token):
    assert api.request("GET", "/identity/v3/auth/projects", admin_token).status_code == 200
    spellings = _respellings(admin_token)
    assert len(spellings) >= 3
    for spelling in spellings:
        assert api.request("GET", "/identity/v3/auth/projects", spelling).status_code == 401, spelling
        r = api.request("GET", TOKENS, admin_token, headers={"X-Subject-Token": spelling})
        assert r.status_code == 404, spelling


@pytest.mark.parametrize("user", [
    {"id": 5, "password": "x"}, {"id": ["a"], "password": "x"}, {"name": {"a": 1}, "password": "x"},
    {"id": 2 ** 64, "password": "x"}, {"name": "admin", "password": 12, "domain": {"id": "default"}},
    {"name": "admin", "password": "x", "domain": {"id": 2 ** 63}}, {"name": "admin", "password": "x", "domain": "d"},
    {"name": "admin", "password": "x", "domain": {}}, {"password": "x"},
], ids=lambda user: "-".join(f"{k}:{type(v).__name__}" for k, v in user.items()))
def test_auth_body_with_wrong_types_is_400(api, user):
    r = api.request("POST", TOKENS, json={"auth": {"identity": {"methods": ["password"], "password": {"user": user}}}})
    assert r.status_code == 400, r.text
    assert r.json()["error"]["code"] == 400


@pytest.mark.parametrize("scope", [
    {"project": {"id": 7}}, {"project": {"name": "demo", "domain": {"id": ["x"]}}}, {"project": {}},
    {"domain": {"id": 2 ** 63}}, {"domain": {}}, {"system": {"all": "yes"}}, {"project": "demo"},
], ids=lambda scope: "-".join(f"{k}:{v!r}"[:24] for k, v in scope.items()))
def test_auth_scope_with_wrong_types_is_400(api, scope):
    r = api.request("POST", TOKENS, json=password_auth("admin", ADMIN_PASSWORD, scope))
    assert r.status_code == 400, r.text


@pytest.mark.parametrize("method, credential", [
    ("token", {"id": 5}), ("token", {}), ("application_credential", {"id": 1, "secret": "s"}),
    ("application_credential", {"id": "x", "secret": ["s"]}),
    ("application_credential", {"name": "n", "secret": "s", "user": {"id": 2 ** 63}}),
])
def test_other_auth_methods_with_wrong_types_are_400(api, method, credential):
    r = api.request("POST", TOKENS, json={"auth": {"identity": {"methods": [method], method: credential}}})
    assert r.status_code == 400, r.text


def test_deeply_nested_auth_body_is_400(api):
    for depth in (200, 5000, 100_000):
        body = '{"auth": ' + "[" * depth + "]" * depth + "}"
        r = api.request("POST", TOKENS, content=body.encode(), headers={"Content-Type": "application/json"})
        assert r.status_code == 400, (depth, r.text[:200])
        assert r.json()["error"]["code"] == 400


def test_explicit_revoke_rejects_token_everywhere(api):
    token = api.token("admin", ADMIN_PASSWORD, project="admin")
    r = api.request("DELETE", TOKENS, token, headers={"X-Subject-Token": token})
    assert r.status_code == 204
    assert api.request("GET", "/identity/v3/auth/projects", token).status_code == 401
    other = api.token("admin", ADMIN_PASSWORD, project="admin")
    assert api.request("GET", TOKENS, other, headers={"X-Subject-Token": token}).status_code == 404


def test_password_change_revokes_tokens_but_new_ones_work(api, admin_token):
    project = make_project(api, admin_token)
    user = make_user(api, admin_token, password="old-pass", project=project["id"])
    token = api.token(user["name"], "old-pass", project=project["name"])
    r = api.request("POST", f"/identity/v3/users/{user['id']}/password", token,
                    json={"user": {"password": "new-pass", "original_password": "old-pass"}})
    assert r.status_code == 204, r.text
    assert api.request("GET", "/identity/v3/auth/projects", token).status_code == 401
    fresh = api.token(user["name"], "new-pass", project=project["name"])
    assert api.request("GET", "/identity/v3/auth/projects", fresh).status_code == 200
    r = api.request("POST", TOKENS, json=password_auth(user["name"], "old-pass"))
    assert r.status_code == 401


def test_disable_or_delete_user_revokes(api, admin_token):
    project = make_project(api, admin_token)
    for action in ("disable", "delete"):
        user = make_user(api, admin_token, password="pw-x", project=project["id"])
        token = api.token(user["name"], "pw-x", project=project["name"])
        if action == "disable":
            api.request("PATCH", f"/identity/v3/users/{user['id']}", admin_token, json={"user": {"enabled": False}})
        else:
            api.request("DELETE", f"/identity/v3/users/{user['id']}", admin_token)
        assert api.request("GET", "/identity/v3/auth/projects", token).status_code == 401, action


def test_disable_project_or_domain_revokes(api, admin_token):
    project = make_project(api, admin_token)
    user = make_user(api, admin_token, password="pw-y", project=project["id"])
    token = api.token(user["name"], "pw-y", project=project["name"])
    api.request("PATCH", f"/identity/v3/projects/{project['id']}", admin_token, json={"project": {"enabled": False}})
    assert api.request("GET", "/identity/v3/auth/projects", token).status_code == 401
    api.request("PATCH", f"/identity/v3/projects/{project['id']}", admin_token, json={"project": {"enabled": True}})
    # The old token stays revoked even after re-enabling; a new one works.
    assert api.request("GET", "/identity/v3/auth/projects", token).status_code == 401
    assert api.token(user["name"], "pw-y", project=project["name"])

    domain = api.request("POST", "/identity/v3/domains", admin_token, json={"domain": {"name": unique("dom")}}).json()
    did = domain["domain"]["id"]
    duser = api.request("POST", "/identity/v3/users", admin_token,
                        json={"user": {"name": unique("du"), "domain_id": did, "password": "pw-d"}}).json()["user"]
    dproject = api.request("POST", "/identity/v3/projects", admin_token,
                           json={"project": {"name": unique("dp"), "domain_id": did}}).json()["project"]
    member = api.request("GET", "/identity/v3/roles?name=member", admin_token).json()["roles"][0]["id"]
    api.request("PUT", f"/identity/v3/projects/{dproject['id']}/users/{duser['id']}/roles/{member}", admin_token)
    r = api.request("POST", TOKENS, json=password_auth(duser["name"], "pw-d", {"project": {"id": dproject["id"]}},
                                                       domain=did))
    dtoken = r.headers["X-Subject-Token"]
    assert api.request("GET", "/identity/v3/auth/projects", dtoken).status_code == 200
    api.request("PATCH", f"/identity/v3/domains/{did}", admin_token, json={"domain": {"enabled": False}})
    assert api.request("GET", "/identity/v3/auth/projects", dtoken).status_code == 401


def test_removing_role_assignment_revokes(api, admin_token):
    project = make_project(api, admin_token)
    user = make_user(api, admin_token, password="pw-z", project=project["id"])
    token = api.token(user["name"], "pw-z", project=project["name"])
    member = api.request("GET", "/identity/v3/roles?name=member", admin_token).json()["roles"][0]["id"]
    r = api.request("DELETE", f"/identity/v3/projects/{project['id']}/users/{user['id']}/roles/{member}", admin_token)
    assert r.status_code == 204
    assert api.request("GET", "/identity/v3/auth/projects", token).status_code == 401


def test_token_issued_right_after_password_change_is_valid(api, admin_token):
    project = make_project(api, admin_token)
    user = make_user(api, admin_token, password="a-pass", project=project["id"])
    api.request("PATCH", f"/identity/v3/users/{user['id']}", admin_token, json={"user": {"password": "b-pass"}})
    token = api.token(user["name"], "b-pass", project=project["name"])
    assert api.request("GET", "/identity/v3/auth/projects", token).status_code == 200


def test_expired_token_rejected(api, cloud):
    tokens = cloud.identity.tokens
    from pocketstack.identity.tokens import SCOPE_UNSCOPED, TokenPayload
    admin_id = api.request("POST", TOKENS, json=password_auth("admin", ADMIN_PASSWORD)).json()["token"]["user"]["id"]
    expired = tokens.formatter.seal(TokenPayload(user_id=admin_id, methods=["password"],
                                                 expires_at=time.time() - 1, scope_type=SCOPE_UNSCOPED))
    assert api.request("GET", "/identity/v3/auth/projects", expired).status_code == 401


def test_key_rotation_keeps_existing_tokens_valid(api, cloud):
    token = api.token("admin", ADMIN_PASSWORD, project="admin")
    cloud.identity.keys.rotate()
    cloud.identity.keys._checked_at = 0  # do not wait for the once-a-second directory check
    assert api.request("GET", "/identity/v3/auth/projects", token).status_code == 200
    fresh = api.token("admin", ADMIN_PASSWORD, project="admin")
    assert api.request("GET", "/identity/v3/auth/projects", fresh).status_code == 200


def test_auth_catalog_projects_domains_system(api, admin_token, demo_token):
    catalog = api.request("GET", "/identity/v3/auth/catalog", admin_token).json()["catalog"]
    assert any(s["type"] == "identity" for s in catalog)
    names = [p["name"] for p in api.request("GET", "/identity/v3/auth/projects", demo_token).json()["projects"]]
    assert names == ["demo"]
    assert api.request("GET", "/identity/v3/auth/domains", admin_token).json()["domains"][0]["id"] == "default"
    assert api.request("GET", "/identity/v3/auth/system", admin_token).json()["system"] == [{"all": True}]
    assert api.request("GET", "/identity/v3/auth/system", demo_token).json()["system"] == []


def test_prune_keeps_recent_revocations(api, cloud):
    token = api.token("admin", ADMIN_PASSWORD, project="admin")
    api.request("DELETE", TOKENS, token, headers={"X-Subject-Token": token})
    cloud.identity.revoke.prune()
    assert api.request("GET", "/identity/v3/auth/projects", token).status_code == 401


def test_revocation_in_one_process_is_seen_by_another_at_once(api, cloud, settings, admin_token):
    """Two Cloud objects on one database stand for two API processes: each caches
    validations, and a change committed by either invalidates both caches."""
    other = Cloud(settings, services=["identity"], migrate=False)
    try:
        token = api.token("admin", ADMIN_PASSWORD, project="admin")
        assert other.identity.tokens.validate(token).user.name == "admin"   # cached in "other" now
        assert api.request("DELETE", TOKENS, token, headers={"X-Subject-Token": token}).status_code == 204
        with pytest.raises(NotFound):
            other.identity.tokens.validate(token)

        # And the other way round: a role granted through "other" shows up here at once.
        project = make_project(api, admin_token)
        user = make_user(api, admin_token, password="pw-two", project=project["id"], role="reader")
        fresh = api.token(user["name"], "pw-two", project=project["name"])

        def roles():
            body = api.request("GET", TOKENS, fresh, headers={"X-Subject-Token": fresh}).json()
            return {r["name"] for r in body["token"]["roles"]}

        assert roles() == {"reader"}
        with other.db.session(readonly=True) as s:
            admin_role = other.identity.assignment.find_role_by_name(s, "admin")
        other.identity.assignment.grant("user", user["id"], "project", project["id"], admin_role.id)
        assert roles() == {"admin", "manager", "member", "reader"}
    finally:
        other.close()
