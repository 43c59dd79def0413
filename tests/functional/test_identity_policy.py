"""The policy matrix: which persona may make which Identity call.

Personas: a cloud ``admin``; a system-scoped ``sysreader``; a project ``member`` and a
project ``reader`` of project A; a ``stranger`` who is a member of project B only.
Every cell is asserted, so a policy regression in either direction fails a test.
"""

from __future__ import annotations

import pytest

from conftest import unique

V3 = "/identity/v3"
ALLOW, DENY = "allow", "deny"


@pytest.fixture(scope="module")
def world(api, admin_token):
    def post(path, key, body):
        r = api.request("POST", f"{V3}/{path}", admin_token, json={key: body})
        assert r.status_code == 201, r.text
        return r.json()[key]

    def role(name):
        return api.request("GET", f"{V3}/roles?name={name}", admin_token).json()["roles"][0]["id"]

    project_a = post("projects", "project", {"name": unique("A")})
    project_b = post("projects", "project", {"name": unique("B")})
    users = {}
    for persona in ("sysreader", "member", "reader", "stranger"):
        users[persona] = post("users", "user", {"name": unique(persona), "password": "pw-" + persona})
    api.request("PUT", f"{V3}/system/users/{users['sysreader']['id']}/roles/{role('reader')}", admin_token)
    for persona in ("member", "reader"):
        api.request("PUT", f"{V3}/projects/{project_a['id']}/users/{users[persona]['id']}/roles/{role(persona)}",
                    admin_token)
    api.request("PUT", f"{V3}/projects/{project_b['id']}/users/{users['stranger']['id']}/roles/{role('member')}",
                admin_token)
    tokens = {"admin": admin_token,
              "sysreader": api.token(users["sysreader"]["name"], "pw-sysreader", system=True),
              "member": api.token(users["member"]["name"], "pw-member", project=project_a["name"]),
              "reader": api.token(users["reader"]["name"], "pw-reader", project=project_a["name"]),
              "stranger": api.token(users["stranger"]["name"], "pw-stranger", project=project_b["name"])}
    return {"tokens": tokens, "users": users, "a": project_a, "b": project_b}


PERSONAS = ("admin", "sysreader", "member", "reader", "stranger")

# (name, method, path template, body, {persona: ALLOW/DENY})
CALLS = [
    ("list users", "GET", "users", None, dict(admin=ALLOW, sysreader=ALLOW, member=DENY, reader=DENY, stranger=DENY)),
    ("create user", "POST", "users", {"user": {"name": "{new}"}},
     dict(admin=ALLOW, sysreader=DENY, member=DENY, reader=DENY, stranger=DENY)),
    ("get own user", "GET", "users/{self}", None, {p: ALLOW for p in PERSONAS}),
    ("get member user", "GET", "users/{member}", None,
     dict(admin=ALLOW, sysreader=ALLOW, member=ALLOW, reader=DENY, stranger=DENY)),
    ("list projects", "GET", "projects", None,
     dict(admin=ALLOW, sysreader=ALLOW, member=DENY, reader=DENY, stranger=DENY)),
    ("get project A", "GET", "projects/{a}", None,
     dict(admin=ALLOW, sysreader=ALLOW, member=ALLOW, reader=ALLOW, stranger=DENY)),
    ("create project", "POST", "projects", {"project": {"name": "{new}"}},
     dict(admin=ALLOW, sysreader=DENY, member=DENY, reader=DENY, stranger=DENY)),
    ("update project A", "PATCH", "projects/{a}", {"project": {"description": "x"}},
     dict(admin=ALLOW, sysreader=DENY, member=DENY, reader=DENY, stranger=DENY)),
    ("own projects", "GET", "users/{self}/projects", None, {p: ALLOW for p in PERSONAS}),
    ("member's projects", "GET", "users/{member}/projects", None,
     dict(admin=ALLOW, sysreader=ALLOW, member=ALLOW, reader=DENY, stranger=DENY)),
    ("create role", "POST", "roles", {"role": {"name": "{new}"}},
     dict(admin=ALLOW, sysreader=DENY, member=DENY, reader=DENY, stranger=DENY)),
    ("role assignments", "GET", "role_assignments", None,
     dict(admin=ALLOW, sysreader=ALLOW, member=DENY, reader=DENY, stranger=DENY)),
    ("grant", "PUT", "projects/{b}/users/{self}/roles/{reader_role}", None,
     dict(admin=ALLOW, sysreader=DENY, member=DENY, reader=DENY, stranger=DENY)),
    ("list services", "GET", "services", None,
     dict(admin=ALLOW, sysreader=ALLOW, member=DENY, reader=DENY, stranger=DENY)),
    ("create service", "POST", "services", {"service": {"type": "{new}"}},
     dict(admin=ALLOW, sysreader=DENY, member=DENY, reader=DENY, stranger=DENY)),
    ("list regions", "GET", "regions", None, {p: ALLOW for p in PERSONAS}),
    ("list domains", "GET", "domains", None,
     dict(admin=ALLOW, sysreader=ALLOW, member=DENY, reader=DENY, stranger=DENY)),
    ("get default domain", "GET", "domains/default", None, {p: ALLOW for p in PERSONAS}),
    ("own app creds", "GET", "users/{self}/application_credentials", None, {p: ALLOW for p in PERSONAS}),
    ("member's app creds", "GET", "users/{member}/application_credentials", None,
     dict(admin=ALLOW, sysreader=ALLOW, member=ALLOW, reader=DENY, stranger=DENY)),
    ("create group", "POST", "groups", {"group": {"name": "{new}"}},
     dict(admin=ALLOW, sysreader=DENY, member=DENY, reader=DENY, stranger=DENY)),
]


@pytest.mark.parametrize("persona", PERSONAS)
@pytest.mark.parametrize("name,method,path,body,expected", CALLS, ids=[c[0] for c in CALLS])
def test_policy_matrix(api, world, persona, name, method, path, body, expected):
    users = world["users"]
    self_id = (api.request("GET", "/identity/v3/auth/tokens", world["tokens"][persona],
                           headers={"X-Subject-Token": world["tokens"][persona]}).json()["token"]["user"]["id"])
    reader_role = api.request("GET", f"{V3}/roles?name=reader", world["tokens"]["admin"]).json()["roles"][0]["id"]
    values = {"self": self_id, "member": users["member"]["id"], "a": world["a"]["id"], "b": world["b"]["id"],
              "reader_role": reader_role, "new": unique("new")}
    url = f"{V3}/{path.format(**values)}"
    json_body = None
    if body is not None:
        key = next(iter(body))
        json_body = {key: {k: v.format(**values) for k, v in body[key].items()}}
    r = api.request(method, url, world["tokens"][persona], json=json_body)
    if expected[persona] == ALLOW:
        assert r.status_code < 400, (persona, name, r.status_code, r.text)
    else:
        assert r.status_code == 403, (persona, name, r.status_code, r.text)
        assert r.json()["error"]["code"] == 403


def test_unauthenticated_calls_are_401(api):
    for method, path in (("GET", "users"), ("GET", "projects"), ("POST", "roles"), ("GET", "auth/catalog")):
        r = api.request(method, f"{V3}/{path}")
        assert r.status_code == 401
        assert "WWW-Authenticate" in r.headers
