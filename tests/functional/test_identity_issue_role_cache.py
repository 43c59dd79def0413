"""Token issue reuses the effective roles of a (user, groups, scope) while identity data
is unchanged (identity/validation_cache.py ``as_of``): every change that bears on
them -- a grant, a removal, an implied role, a group membership -- shows in the next
token at once, in the issuing process and in another on the same database."""

from __future__ import annotations

from pocketstack.cloud import Cloud

from conftest import unique

ROLES = "/identity/v3/roles"


def _role_names(api, token: str) -> set[str]:
    body = api.request("GET", "/identity/v3/auth/tokens", token, headers={"X-Subject-Token": token}).json()
    return {r["name"] for r in body["token"]["roles"]}


def _role(api, admin: str, name: str) -> str:
    return api.request("GET", f"{ROLES}?name={name}", admin).json()["roles"][0]["id"]


def test_the_next_token_shows_each_change_to_its_roles(api, admin_token) -> None:
    project = api.request("POST", "/identity/v3/projects", admin_token,
                          json={"project": {"name": unique("proj")}}).json()["project"]
    name = unique("user")
    user = api.request("POST", "/identity/v3/users", admin_token,
                       json={"user": {"name": name, "password": "pw-roles"}}).json()["user"]
    grants = f"/identity/v3/projects/{project['id']}/users/{user['id']}/roles"
    assert api.request("PUT", f"{grants}/{_role(api, admin_token, 'reader')}", admin_token).status_code == 204
    assert _role_names(api, api.token(name, "pw-roles", project=project["name"])) == {"reader"}
    assert _role_names(api, api.token(name, "pw-roles", project=project["name"])) == {"reader"}  # from the cache

    assert api.request("PUT", f"{grants}/{_role(api, admin_token, 'member')}", admin_token).status_code == 204
    assert _role_names(api, api.token(name, "pw-roles", project=project["name"])) == {"reader", "member"}

    implied = api.request("POST", ROLES, admin_token, json={"role": {"name": unique("implied")}}).json()["role"]
    prior = _role(api, admin_token, "member")
    assert api.request("PUT", f"{ROLES}/{prior}/implies/{implied['id']}", admin_token).status_code == 201
    assert _role_names(api, api.token(name, "pw-roles", project=project["name"])) == \
        {"reader", "member", implied["name"]}

    assert api.request("DELETE", f"{grants}/{prior}", admin_token).status_code == 204
    assert _role_names(api, api.token(name, "pw-roles", project=project["name"])) == {"reader"}

    group = api.request("POST", "/identity/v3/groups", admin_token,
                        json={"group": {"name": unique("group")}}).json()["group"]
    group_grant = f"/identity/v3/projects/{project['id']}/groups/{group['id']}/roles/{prior}"
    assert api.request("PUT", group_grant, admin_token).status_code == 204
    member = f"/identity/v3/groups/{group['id']}/users/{user['id']}"
    assert api.request("PUT", member, admin_token).status_code == 204
    assert _role_names(api, api.token(name, "pw-roles", project=project["name"])) == \
        {"reader", "member", implied["name"]}
    assert api.request("DELETE", member, admin_token).status_code == 204
    assert _role_names(api, api.token(name, "pw-roles", project=project["name"])) == {"reader"}

    # The cloud is shared with later tests: "member" implies nothing again.
    assert api.request("DELETE", f"{ROLES}/{prior}/implies/{implied['id']}", admin_token).status_code == 204
    assert api.request("DELETE", f"{ROLES}/{implied['id']}", admin_token).status_code == 204


def test_a_grant_made_by_another_process_shows_in_the_next_token(api, settings, admin_token) -> None:
    other = Cloud(settings, services=["identity"], migrate=False)
    try:
        project = api.request("POST", "/identity/v3/projects", admin_token,
                              json={"project": {"name": unique("proj")}}).json()["project"]
        name = unique("user")
        user = api.request("POST", "/identity/v3/users", admin_token,
                           json={"user": {"name": name, "password": "pw-other"}}).json()["user"]
        reader = _role(api, admin_token, "reader")
        api.request("PUT", f"/identity/v3/projects/{project['id']}/users/{user['id']}/roles/{reader}", admin_token)
        assert _role_names(api, api.token(name, "pw-other", project=project["name"])) == {"reader"}
        other.identity.assignment.grant("user", user["id"], "project", project["id"], _role(api, admin_token, "member"))
        assert _role_names(api, api.token(name, "pw-other", project=project["name"])) == {"reader", "member"}
    finally:
        other.close()
