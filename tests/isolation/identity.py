"""Identity (Keystone v3) in the isolation matrix: projects and their tags, users,
groups, roles, grants and role assignments, application credentials, domains, regions,
services, endpoints and tokens.

Keystone answers 403 (never 404) to what the policy refuses
(keystone/common/policies/*.py): a project-scoped member or reader reads its own
project, its own user, its own application credentials and tokens, the default domain
and the regions; the rest is the admin's (or a system reader's).  A restricted
application credential manages no application credentials, itself included
(keystone/api/users.py ``_check_unrestricted_application_credential``).  (Keystone's
``/v3/credentials`` is not served by pocketstack.)
"""

from __future__ import annotations

from conftest import unique
from isolation.matrix import ADMIN_ONLY, EVERYONE, FORBIDDEN, LISTED, OK, UNLISTED, Op, Resource, expect

V3 = "/identity/v3"
PROJECT_A_READ = expect(OK, OK, OK, FORBIDDEN, FORBIDDEN)
# What only a_member (or the admin) may do with a_member's things.
A_MEMBER_OWNS = expect(OK, OK, FORBIDDEN, FORBIDDEN, FORBIDDEN)
# keystone/common/policies/role.py: list_roles is ADMIN_OR_SYSTEM_READER_OR_DOMAIN_MANAGER.


def post(w, path: str, key: str, body: dict, persona: str = "admin") -> dict:
    return w.call("POST", f"{V3}/{path}", persona, json={key: body}).json()[key]


def make_project(w) -> dict:
    return {"id": post(w, "projects", "project", {"name": unique("iso-proj")})["id"]}


def make_project_tag(w) -> dict:
    """A fresh tag on project A."""
    tag = unique("iso-tag")
    w.call("PUT", f"{V3}/projects/{w.project('a')}/tags/{tag}")
    return {"id": tag}


def make_user(w) -> dict:
    return {"id": post(w, "users", "user", {"name": unique("iso-user"), "password": "pw-iso-user-1"})["id"]}


def make_group(w) -> dict:
    """A group with a user of its own in it (not a persona: leaving a group revokes the
    user's tokens)."""
    group = post(w, "groups", "group", {"name": unique("iso-group")})
    user = make_user(w)
    w.call("PUT", f"{V3}/groups/{group['id']}/users/{user['id']}")
    return {"id": group["id"], "user": user["id"]}


def make_role(w) -> dict:
    return {"id": post(w, "roles", "role", {"name": unique("iso-role")})["id"]}


def make_reader_role(w) -> dict:
    return {"id": w.role_id("reader")}


def make_grant(w) -> dict:
    """A fresh user holding the reader role on project A."""
    user = make_user(w)
    w.call("PUT", f"{V3}/projects/{w.project('a')}/users/{user['id']}/roles/{w.shared('reader_role')}")
    return user


def make_app_credential(w) -> dict:
    """A restricted application credential of a_member's on project A."""
    cred = post(w, f"users/{w.persona('a_member')}/application_credentials", "application_credential",
                {"name": unique("iso-appcred")}, "a_member")
    return {"id": cred["id"], "secret": cred["secret"]}


def make_domain(w, enabled: bool = True) -> dict:
    return {"id": post(w, "domains", "domain", {"name": unique("iso-domain"), "enabled": enabled})["id"]}


def make_region(w) -> dict:
    return {"id": post(w, "regions", "region", {"id": unique("iso-region")})["id"]}


def make_service(w) -> dict:
    return {"id": post(w, "services", "service", {"type": unique("iso-type"), "name": unique("iso-svc")})["id"]}


def make_endpoint(w) -> dict:
    return {"id": post(w, "endpoints", "endpoint", {"service_id": str(w.shared("service")), "interface": "public",
                                                   "url": "http://iso.example/"})["id"]}


def make_token(w) -> dict:
    """A fresh token of a_member's (one to revoke)."""
    user = w.persona("a_member")
    return {"id": w.api.token(user.name, "pw-isolation-1", project=w.project("a").name)}


RESOURCES = [
    Resource("project", make_project),
    Resource("a_project_tag", make_project_tag),
    Resource("user", make_user),
    Resource("group", make_group),
    Resource("role", make_role),
    Resource("reader_role", make_reader_role),
    Resource("grant", make_grant),
    Resource("app_credential", make_app_credential),
    Resource("doomed_app_credential", make_app_credential),
    Resource("domain", make_domain),
    Resource("disabled_domain", lambda w: make_domain(w, enabled=False)),
    Resource("region", make_region),
    Resource("service", make_service),
    Resource("endpoint", make_endpoint),
    Resource("token", make_token),
]


def crud(resource: str, collection: str, member: str, create_body: dict, update_body: dict,
         read=ADMIN_ONLY, delete_resource: str | None = None, list_marks: dict | None = None) -> list[Op]:
    """list, show, create, update, delete of an admin-managed ``resource``."""
    deleted = delete_resource or resource
    return [
        Op(resource, "list", "GET", f"{V3}/{collection}", read, marks=list_marks or {}),
        Op(resource, "show", "GET", f"{V3}/{collection}/{{{resource}}}", read),
        Op(resource, "create", "POST", f"{V3}/{collection}", ADMIN_ONLY, body={member: create_body}),
        Op(resource, "update", "PATCH", f"{V3}/{collection}/{{{resource}}}", ADMIN_ONLY, body={member: update_body}),
        Op(resource, "delete", "DELETE", f"{V3}/{collection}/{{{deleted}}}", ADMIN_ONLY, consumes=deleted),
    ]


APP_CREDS = V3 + "/users/{a_member}/application_credentials"

OPS = [
    # -- projects --------------------------------------------------------------------------
    *crud("project", "projects", "project", {"name": "{new}"}, {"description": "changed"}),
    Op("project", "show-own", "GET", V3 + "/projects/{project_a}", PROJECT_A_READ, everywhere=True),
    Op("project", "auth-projects", "GET", V3 + "/auth/projects",
       expect(UNLISTED, LISTED, LISTED, UNLISTED, UNLISTED), watch="{project_a}", everywhere=True),
    Op("project", "user-projects", "GET", V3 + "/users/{a_member}/projects", A_MEMBER_OWNS),
    Op("project-tag", "list", "GET", V3 + "/projects/{project_a}/tags", PROJECT_A_READ),
    Op("project-tag", "show", "GET", V3 + "/projects/{project_a}/tags/{a_project_tag}", PROJECT_A_READ),
    Op("project-tag", "add", "PUT", V3 + "/projects/{project_a}/tags/{new}", ADMIN_ONLY),
    Op("project-tag", "delete", "DELETE", V3 + "/projects/{project_a}/tags/{a_project_tag}", ADMIN_ONLY,
       consumes="a_project_tag"),
    # -- users and groups ------------------------------------------------------------------
    *crud("user", "users", "user", {"name": "{new}"}, {"description": "changed"}),
    Op("user", "show-a-member", "GET", V3 + "/users/{a_member}", A_MEMBER_OWNS, everywhere=True),
    Op("user", "groups-of-a-member", "GET", V3 + "/users/{a_member}/groups", A_MEMBER_OWNS),
    *crud("group", "groups", "group", {"name": "{new}"}, {"description": "changed"}),
    Op("group", "list-users", "GET", V3 + "/groups/{group}/users", ADMIN_ONLY),
    Op("group", "check-user", "HEAD", V3 + "/groups/{group}/users/{group.user}", ADMIN_ONLY),
    Op("group", "add-user", "PUT", V3 + "/groups/{group}/users/{user}", ADMIN_ONLY),
    Op("group", "remove-user", "DELETE", V3 + "/groups/{group}/users/{group.user}", ADMIN_ONLY, consumes="group"),
    # -- roles, grants, assignments --------------------------------------------------------
    *crud("role", "roles", "role", {"name": "{new}"}, {"description": "changed"}),
    Op("role", "inferences", "GET", V3 + "/role_inferences", ADMIN_ONLY),
    Op("grant", "list", "GET", V3 + "/projects/{project_a}/users/{grant}/roles", ADMIN_ONLY),
    Op("grant", "check", "HEAD", V3 + "/projects/{project_a}/users/{grant}/roles/{reader_role}", ADMIN_ONLY),
    Op("grant", "create", "PUT", V3 + "/projects/{project_a}/users/{user}/roles/{reader_role}", ADMIN_ONLY,
       everywhere=True),
    # No one but the admin grants roles, to themselves least of all (the admin's own
    # assignments stay untouched: the suite shares its token).
    Op("grant", "create-for-self", "PUT", V3 + "/projects/{project_a}/users/{me}/roles/{role}",
       {p: FORBIDDEN for p in ("a_member", "a_reader", "b_member", "b_reader", "a_appcred")}, every_persona=False),
    Op("grant", "revoke", "DELETE", V3 + "/projects/{project_a}/users/{grant}/roles/{reader_role}", ADMIN_ONLY,
       consumes="grant"),
    Op("role-assignment", "list", "GET", V3 + "/role_assignments", ADMIN_ONLY),
    Op("role-assignment", "list-project-a", "GET", V3 + "/role_assignments?scope.project.id={project_a}",
       ADMIN_ONLY),
    # -- application credentials (a_member's, restricted) -----------------------------------
    Op("app-credential", "list", "GET", APP_CREDS, {**A_MEMBER_OWNS, "a_appcred": OK}, everywhere=True),
    Op("app-credential", "show", "GET", APP_CREDS + "/{app_credential}", {**A_MEMBER_OWNS, "a_appcred": OK}),
    Op("app-credential", "create-own", "POST", V3 + "/users/{me}/application_credentials",
       {**EVERYONE, "a_appcred": FORBIDDEN}, body={"application_credential": {"name": "{new}"}}),
    # Only the user itself creates one (an admin included: Keystone's RULE_OWNER).
    Op("app-credential", "create-for-a-member", "POST", APP_CREDS,
       {**expect(FORBIDDEN, OK, FORBIDDEN, FORBIDDEN, FORBIDDEN), "a_appcred": FORBIDDEN},
       body={"application_credential": {"name": "{new}"}}),
    Op("app-credential", "delete", "DELETE", APP_CREDS + "/{app_credential}",
       {**A_MEMBER_OWNS, "a_appcred": FORBIDDEN}, consumes="app_credential"),
    Op("app-credential", "delete-itself", "DELETE", APP_CREDS + "/{doomed_app_credential}",
       {"a_appcred_self": FORBIDDEN}, every_persona=False, everywhere=True),
    # -- domains, regions, services, endpoints ------------------------------------------------
    *crud("domain", "domains", "domain", {"name": "{new}"}, {"description": "changed"},
          delete_resource="disabled_domain"),
    Op("domain", "show-default", "GET", V3 + "/domains/default", EVERYONE),
    *crud("region", "regions", "region", {"id": "{new}"}, {"description": "changed"}, read=EVERYONE),
    *crud("service", "services", "service", {"type": "{new}"}, {"description": "changed"}),
    *crud("endpoint", "endpoints", "endpoint", {"service_id": "{service}", "interface": "internal",
                                                "url": "http://iso.example/"}, {"url": "http://changed.example/"}),
    Op("catalog", "show", "GET", V3 + "/auth/catalog", EVERYONE),
    # -- tokens (a_member's: its subject and the admin validate or revoke it) ---------------
    Op("token", "validate", "GET", V3 + "/auth/tokens", A_MEMBER_OWNS, headers={"X-Subject-Token": "{token}"}),
    Op("token", "revoke", "DELETE", V3 + "/auth/tokens", A_MEMBER_OWNS, headers={"X-Subject-Token": "{token}"},
       consumes="token"),
]
