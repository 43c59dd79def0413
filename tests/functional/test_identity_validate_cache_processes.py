"""The validation caches (validated tokens, their rendered JSON, the catalog's JSON,
opened Fernet payloads) across two API processes on one database.

A second process (a child started with ``spawn``) serves Identity from the same
database and key repository, as a second API worker of the all-in-one does, and answers
the requests the test sends it through its own ASGI app.  Each test warms the child's
caches, changes identity data through the first process, and expects the child's very
next answer to reflect the change: nothing waits for a TTL.
"""

from __future__ import annotations

import contextlib
import multiprocessing as mp
import time

import pytest

from pocketstack.identity.tokens import SCOPE_PROJECT, TokenPayload

from conftest import ADMIN_PASSWORD, unique

TOKENS = "/identity/v3/auth/tokens"
CATALOG = "/identity/v3/auth/catalog"


def _serve(settings, conn) -> None:
    """The child: a second API process on the parent's database, answering
    ``(method, path, headers)`` with ``(status, body)`` until it receives None."""
    from starlette.testclient import TestClient

    from pocketstack.cloud import Cloud

    cloud = Cloud(settings, services=["identity"], migrate=False)
    try:
        with TestClient(cloud.asgi_app(), base_url="http://127.0.0.1:8780") as client:
            conn.send("ready")
            while (request := conn.recv()) is not None:
                method, path, headers = request
                response = client.request(method, path, headers=headers)
                conn.send((response.status_code, response.json() if response.content else None))
    finally:
        cloud.close()


class OtherProcess:
    def __init__(self, settings):
        context = mp.get_context("spawn")
        self.conn, child = context.Pipe()
        self.process = context.Process(target=_serve, args=(settings, child), daemon=True)
        self.process.start()
        assert self.conn.poll(120), "the second process did not start"
        assert self.conn.recv() == "ready"

    def request(self, method: str, path: str, headers: dict[str, str]) -> tuple[int, dict | None]:
        self.conn.send((method, path, headers))
        assert self.conn.poll(60), "the second process did not answer"
        return self.conn.recv()

    def validate(self, auth: str, subject: str, query: str = "") -> tuple[int, dict | None]:
        return self.request("GET", TOKENS + query, {"X-Auth-Token": auth, "X-Subject-Token": subject})

    def close(self) -> None:
        self.conn.send(None)
        self.process.join(30)
        if self.process.is_alive():
            self.process.kill()


@pytest.fixture(scope="module")
def other(backend, cloud, settings, module_stacks):
    if backend != "sqlite":
        pytest.skip("one second process is enough to show it; the generation row is the same on every backend")
    return module_stacks.entered(backend, "other", lambda: contextlib.closing(OtherProcess(settings)))


def _warm(other, auth: str, subject: str, query: str = "") -> dict:
    """Validate twice in the other process (the second from its caches); the body."""
    first = other.validate(auth, subject, query)
    assert first[0] == 200, first
    second = other.validate(auth, subject, query)
    assert second == first
    return second[1]


def _member_of_new_project(api, admin_token, role="member"):
    name, password = unique("user"), "pw-procs"
    project = api.request("POST", "/identity/v3/projects", admin_token,
                          json={"project": {"name": unique("proj")}}).json()["project"]
    user = api.request("POST", "/identity/v3/users", admin_token,
                       json={"user": {"name": name, "password": password}}).json()["user"]
    role_id = api.request("GET", f"/identity/v3/roles?name={role}", admin_token).json()["roles"][0]["id"]
    assert api.request("PUT", f"/identity/v3/projects/{project['id']}/users/{user['id']}/roles/{role_id}",
                       admin_token).status_code == 204
    return user, project, api.token(name, password, project=project["name"])


def test_the_body_is_the_same_in_both_processes(api, admin_token, other):
    token = api.token("admin", ADMIN_PASSWORD, project="admin")
    here = api.request("GET", TOKENS, admin_token, headers={"X-Subject-Token": token})
    assert here.status_code == 200
    assert _warm(other, admin_token, token) == here.json()
    assert here.json()["token"]["catalog"]
    bare = _warm(other, admin_token, token, "?nocatalog")
    assert "catalog" not in bare["token"] and bare["token"]["roles"] == here.json()["token"]["roles"]
    assert other.request("GET", CATALOG, {"X-Auth-Token": token}) == (
        200, api.request("GET", CATALOG, token).json())


def test_revocation_in_one_process_rejects_the_token_in_the_other(api, admin_token, other):
    token = api.token("admin", ADMIN_PASSWORD, project="admin")
    _warm(other, admin_token, token)
    assert other.request("GET", CATALOG, {"X-Auth-Token": token})[0] == 200
    assert api.request("DELETE", TOKENS, admin_token, headers={"X-Subject-Token": token}).status_code == 204
    assert other.validate(admin_token, token)[0] == 404
    assert other.validate(admin_token, token, "?nocatalog")[0] == 404
    # As the caller's token too: the catalog (and any request) is refused with 401.
    assert other.request("GET", CATALOG, {"X-Auth-Token": token})[0] == 401


def test_role_changes_show_in_the_other_process_at_once(api, admin_token, other):
    user, project, token = _member_of_new_project(api, admin_token, role="reader")
    assert {r["name"] for r in _warm(other, admin_token, token)["token"]["roles"]} == {"reader"}
    admin_role = api.request("GET", "/identity/v3/roles?name=admin", admin_token).json()["roles"][0]["id"]
    grant = f"/identity/v3/projects/{project['id']}/users/{user['id']}/roles"
    assert api.request("PUT", f"{grant}/{admin_role}", admin_token).status_code == 204
    status, body = other.validate(admin_token, token)
    assert status == 200 and {r["name"] for r in body["token"]["roles"]} == {"admin", "manager", "member", "reader"}
    reader = api.request("GET", "/identity/v3/roles?name=reader", admin_token).json()["roles"][0]["id"]
    for role in (admin_role, reader):
        assert api.request("DELETE", f"{grant}/{role}", admin_token).status_code == 204
    assert other.validate(admin_token, token)[0] == 404  # no role left on the project


def test_disabling_the_user_project_or_domain_shows_in_the_other_process(api, admin_token, other):
    user, _, token = _member_of_new_project(api, admin_token)
    _warm(other, admin_token, token)
    assert api.request("PATCH", f"/identity/v3/users/{user['id']}", admin_token,
                       json={"user": {"enabled": False}}).status_code == 200
    assert other.validate(admin_token, token)[0] == 404

    _, project, token = _member_of_new_project(api, admin_token)
    _warm(other, admin_token, token, "?nocatalog")
    assert api.request("PATCH", f"/identity/v3/projects/{project['id']}", admin_token,
                       json={"project": {"enabled": False}}).status_code == 200
    assert other.validate(admin_token, token, "?nocatalog")[0] == 404

    domain = api.request("POST", "/identity/v3/domains", admin_token,
                         json={"domain": {"name": unique("dom")}}).json()["domain"]
    name = unique("user")
    project = api.request("POST", "/identity/v3/projects", admin_token,
                          json={"project": {"name": unique("proj"), "domain_id": domain["id"]}}).json()["project"]
    user = api.request("POST", "/identity/v3/users", admin_token, json={"user": {
        "name": name, "password": "pw-dom", "domain_id": domain["id"]}}).json()["user"]
    member = api.request("GET", "/identity/v3/roles?name=member", admin_token).json()["roles"][0]["id"]
    api.request("PUT", f"/identity/v3/projects/{project['id']}/users/{user['id']}/roles/{member}", admin_token)
    r = api.client.post(TOKENS, json={"auth": {"identity": {"methods": ["password"], "password": {"user": {
        "name": name, "domain": {"id": domain["id"]}, "password": "pw-dom"}}},
        "scope": {"project": {"id": project["id"]}}}})
    assert r.status_code == 201, r.text
    token = r.headers["X-Subject-Token"]
    _warm(other, admin_token, token)
    assert other.request("GET", CATALOG, {"X-Auth-Token": token})[0] == 200
    assert api.request("PATCH", f"/identity/v3/domains/{domain['id']}", admin_token,
                       json={"domain": {"enabled": False}}).status_code == 200
    assert other.validate(admin_token, token)[0] == 404
    assert other.request("GET", CATALOG, {"X-Auth-Token": token})[0] == 401


def test_catalog_changes_show_in_the_other_process_at_once(api, admin_token, other):
    token = api.token("admin", ADMIN_PASSWORD, project="admin")
    _warm(other, admin_token, token)
    for _ in range(2):
        assert other.request("GET", CATALOG, {"X-Auth-Token": token})[0] == 200
    kind = unique("svc")
    service = api.request("POST", "/identity/v3/services", admin_token,
                          json={"service": {"type": kind, "name": kind}}).json()["service"]
    endpoint = api.request("POST", "/identity/v3/endpoints", admin_token, json={"endpoint": {
        "service_id": service["id"], "interface": "public", "region_id": "RegionOne",
        "url": f"http://127.0.0.1:9/{kind}"}}).json()["endpoint"]

    def urls(catalog):
        return {e["url"] for s in catalog if s["type"] == kind for e in s["endpoints"]}

    assert urls(other.validate(admin_token, token)[1]["token"]["catalog"]) == {f"http://127.0.0.1:9/{kind}"}
    assert urls(other.request("GET", CATALOG, {"X-Auth-Token": token})[1]["catalog"]) == {
        f"http://127.0.0.1:9/{kind}"}
    assert api.request("PATCH", f"/identity/v3/endpoints/{endpoint['id']}", admin_token,
                       json={"endpoint": {"url": f"http://127.0.0.1:9/{kind}-moved"}}).status_code == 200
    assert urls(other.request("GET", CATALOG, {"X-Auth-Token": token})[1]["catalog"]) == {
        f"http://127.0.0.1:9/{kind}-moved"}
    assert urls(other.validate(admin_token, token)[1]["token"]["catalog"]) == {f"http://127.0.0.1:9/{kind}-moved"}
    assert api.request("DELETE", f"/identity/v3/services/{service['id']}", admin_token).status_code == 204
    assert urls(other.validate(admin_token, token)[1]["token"]["catalog"]) == set()
    assert urls(other.request("GET", CATALOG, {"X-Auth-Token": token})[1]["catalog"]) == set()


def test_a_cached_token_expires_on_time_in_the_other_process(api, cloud, admin_token, other):
    admin = cloud.identity.validate_token(admin_token)
    token = cloud.identity.tokens.formatter.seal(TokenPayload(
        user_id=admin.user_id, methods=["password"], expires_at=time.time() + 3,
        scope_type=SCOPE_PROJECT, scope_id=admin.project_id))
    _warm(other, admin_token, token)
    assert other.request("GET", CATALOG, {"X-Auth-Token": token})[0] == 200
    time.sleep(max(0.0, cloud.identity.tokens.formatter.open(token).expires_at - time.time()) + 0.1)
    assert other.validate(admin_token, token)[0] == 404
    assert other.request("GET", CATALOG, {"X-Auth-Token": token})[0] == 401


def test_an_expired_application_credential_ends_its_cached_tokens(api, admin_token, other):
    user, project, token = _member_of_new_project(api, admin_token)
    expires = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(time.time() + 3))
    cred = api.request("POST", f"/identity/v3/users/{user['id']}/application_credentials", token,
                       json={"application_credential": {"name": unique("ac"), "expires_at": expires}})
    assert cred.status_code == 201, cred.text
    body = cred.json()["application_credential"]
    r = api.client.post(TOKENS, json={"auth": {"identity": {"methods": ["application_credential"],
                                                            "application_credential": {
                                                                "id": body["id"], "secret": body["secret"]}}}})
    assert r.status_code == 201, r.text
    app_token = r.headers["X-Subject-Token"]
    _warm(other, admin_token, app_token)
    time.sleep(max(0.0, time.mktime(time.strptime(expires, "%Y-%m-%dT%H:%M:%S")) - time.mktime(time.gmtime())) + 1.1)
    assert other.validate(admin_token, app_token)[0] == 404
