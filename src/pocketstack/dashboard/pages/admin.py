"""Administration: projects, users, groups, role assignments, flavors, volume types,
hypervisors and the services' up/down state.  Every page here is for the cloud's admins only (members get
the 403 page; the APIs would refuse them anyway).  The list pages are declared
(:class:`~pocketstack.dashboard.pages.listing.Listing`, paged as the long lists are); the forms' actions
are tables of small actions (:func:`~pocketstack.dashboard.web.form_actions`)."""

from __future__ import annotations

from typing import Any

from starlette.responses import Response
from starlette.routing import Route

from pocketstack.dashboard.client import ApiError
from pocketstack.dashboard.pages.common import quoted
from pocketstack.dashboard.pages.listing import Listing, identity_list
from pocketstack.dashboard.web import Action, Ctx, FormError, form_actions, page


async def _members(ctx: Ctx, groups: list[dict[str, Any]]) -> dict[str, Any]:
    """Each group's users, by group id."""
    return {"members": {g["id"]: await identity_list(ctx, f"groups/{quoted(g['id'])}/users") for g in groups}}


def _user_on_project(assignment: dict[str, Any]) -> bool:
    return "user" in assignment and "project" in assignment.get("scope", {})


def _assignment_key(assignment: dict[str, Any]) -> str:
    """An assignment's marker in the paging query (assignments have no id)."""
    return f"{assignment['user']['id']}:{assignment['scope']['project']['id']}:{assignment['role']['id']}"


projects = Listing("admin_projects.html", "Projects", "identity", "/projects", "projects").endpoint(admin=True)
users = Listing("admin_users.html", "Users", "identity", "/users", "users",
                choices=("projects", "roles")).endpoint(admin=True)
roles = Listing("admin_roles.html", "Role assignments", "identity", "/role_assignments", "role_assignments",
                "assignments", params={"include_names": "true"}, keep=_user_on_project, order=None,
                choices=("users", "projects", "roles"), marker=_assignment_key).endpoint(admin=True)
groups = Listing("admin_groups.html", "Groups", "identity", "/groups", "groups", more=_members,
                 choices=("users",)).endpoint(admin=True)
volume_types = Listing("admin_volume_types.html", "Volume types", "volume", "/types", "volume_types",
                       "types").endpoint(admin=True)
flavors = Listing("admin_flavors.html", "Flavors", "compute", "/flavors/detail", "flavors",
                  params={"is_public": "None"}, order=lambda f: (f["vcpus"], f["ram"], f["name"])).endpoint(admin=True)
hypervisors = Listing("admin_hypervisors.html", "Hypervisors", "compute", "/os-hypervisors/detail", "hypervisors",
                      order=lambda h: h["hypervisor_hostname"]).endpoint(admin=True)


# -- the forms' actions: each does its calls and answers the message for the list page --
async def _create_project(ctx: Ctx) -> str:
    body = {"name": ctx.required("name", "A name"), "description": ctx.field("description"),
            "domain_id": ctx.field("domain_id") or "default", "enabled": True}
    await ctx.api.post("identity", "/projects", {"project": body})
    return f"Project {body['name']} created."


def _set_enabled(kind: str, enabled: bool) -> Action:
    """Enable or disable the project or user named by the form's ``<kind>_id``."""
    async def run(ctx: Ctx) -> str:
        entity = quoted(ctx.required(f"{kind}_id", f"A {kind}"))
        await ctx.api.call("PATCH", "identity", f"/{kind}s/{entity}", json={kind: {"enabled": enabled}})
        return f"{kind.capitalize()} {'enabled' if enabled else 'disabled'}."
    return run


def _delete(service: str, path: str, field: str, label: str, done: str) -> Action:
    """Delete what the form's ``field`` names at ``path`` (``{}`` stands for it)."""
    async def run(ctx: Ctx) -> str:
        await ctx.api.delete(service, path.format(quoted(ctx.required(field, label))))
        return done
    return run


async def _create_user(ctx: Ctx) -> str:
    """A user, and with a project and role chosen, that role on the project (a user with
    no role anywhere could not log in to anything)."""
    name, password = ctx.required("name", "A name"), ctx.required("password", "A password")
    project, role = ctx.field("project_id"), ctx.field("role_id")
    if bool(project) != bool(role):
        raise FormError("Choose both a project and a role, or neither.")
    body: dict[str, Any] = {"name": name, "password": password, "domain_id": "default", "enabled": True}
    if project:
        body["default_project_id"] = project
    if ctx.field("email"):
        body["email"] = ctx.field("email")
    user = (await ctx.api.post("identity", "/users", {"user": body}))["user"]
    if project:
        try:
            await ctx.api.put("identity", f"/projects/{project}/users/{user['id']}/roles/{role}")
        except ApiError:
            await ctx.api.delete("identity", f"/users/{user['id']}")
            raise
    return f"User {name} created."


def _grant(method: str, done: str) -> Action:
    """Assign or revoke the form's role of its user on its project."""
    async def run(ctx: Ctx) -> str:
        path = (f"/projects/{ctx.required('project_id', 'A project')}/users/{ctx.required('user_id', 'A user')}"
                f"/roles/{ctx.required('role_id', 'A role')}")
        await ctx.api.call(method, "identity", path)
        return done
    return run


async def _create_group(ctx: Ctx) -> str:
    body = {"name": ctx.required("name", "A name"), "description": ctx.field("description"), "domain_id": "default"}
    await ctx.api.post("identity", "/groups", {"group": body})
    return f"Group {body['name']} created."


def _membership(method: str, done: str) -> Action:
    """Add the form's user to its group, or remove them."""
    async def run(ctx: Ctx) -> str:
        group, user = quoted(ctx.required("group_id", "A group")), quoted(ctx.required("user_id", "A user"))
        await ctx.api.call(method, "identity", f"/groups/{group}/users/{user}")
        return done
    return run


async def _create_volume_type(ctx: Ctx) -> str:
    body = {"name": ctx.required("name", "A name"), "description": ctx.field("description"),
            "os-volume-type-access:is_public": ctx.field("private") != "on"}
    await ctx.api.post("volume", "/types", {"volume_type": body})
    return f"Volume type {body['name']} created."


async def _create_flavor(ctx: Ctx) -> str:
    body = {"name": ctx.required("name", "A name"), "vcpus": ctx.integer("vcpus", "vCPUs", 1),
            "ram": ctx.integer("ram", "RAM (MB)", 1), "disk": ctx.integer("disk", "Disk (GB)", 0)}
    await ctx.api.post("compute", "/flavors", {"flavor": body})
    return f"Flavor {body['name']} created."


project_action = form_actions("/admin/projects", {
    "create": _create_project, "enable": _set_enabled("project", True), "disable": _set_enabled("project", False),
    "delete": _delete("identity", "/projects/{}", "project_id", "A project", "Project deleted.")}, admin=True)
user_action = form_actions("/admin/users", {
    "create": _create_user, "enable": _set_enabled("user", True), "disable": _set_enabled("user", False),
    "delete": _delete("identity", "/users/{}", "user_id", "A user", "User deleted.")}, admin=True)
role_action = form_actions("/admin/roles", {
    "assign": _grant("PUT", "Role assigned."), "revoke": _grant("DELETE", "Role revoked.")}, admin=True)
group_action = form_actions("/admin/groups", {
    "create": _create_group, "delete": _delete("identity", "/groups/{}", "group_id", "A group", "Group deleted."),
    "add-user": _membership("PUT", "User added to the group."),
    "remove-user": _membership("DELETE", "User removed from the group.")}, admin=True)
volume_type_action = form_actions("/admin/volume-types", {
    "create": _create_volume_type,
    "delete": _delete("volume", "/types/{}", "type_id", "A volume type", "Volume type deleted.")}, admin=True)
flavor_action = form_actions("/admin/flavors", {
    "create": _create_flavor,
    "delete": _delete("compute", "/flavors/{}", "flavor_id", "A flavor", "Flavor deleted.")}, admin=True)


@page(admin=True)
async def services(ctx: Ctx) -> Response:
    """Compute services, block storage services and network agents, up or down."""
    rows: list[dict[str, Any]] = []
    for api, kind in (("compute", "compute"), ("volume", "block storage")):
        for service in (await ctx.api.get(api, "/os-services"))["services"]:
            rows.append({"kind": kind, "binary": service["binary"], "host": service["host"],
                         "status": service["status"], "state": service["state"], "updated": service["updated_at"]})
    for agent in (await ctx.api.get("network", "/agents"))["agents"]:
        rows.append({"kind": "network", "binary": agent["binary"], "host": agent["host"],
                     "status": "enabled" if agent["admin_state_up"] else "disabled",
                     "state": "up" if agent["alive"] else "down", "updated": agent["heartbeat_timestamp"]})
    return await ctx.render("admin_services.html", title="Services", services=rows)


ROUTES = [
    Route("/admin/projects", projects), Route("/admin/projects", project_action, methods=["POST"]),
    Route("/admin/users", users), Route("/admin/users", user_action, methods=["POST"]),
    Route("/admin/roles", roles), Route("/admin/roles", role_action, methods=["POST"]),
    Route("/admin/groups", groups), Route("/admin/groups", group_action, methods=["POST"]),
    Route("/admin/volume-types", volume_types), Route("/admin/volume-types", volume_type_action, methods=["POST"]),
    Route("/admin/flavors", flavors), Route("/admin/flavors", flavor_action, methods=["POST"]),
    Route("/admin/hypervisors", hypervisors), Route("/admin/services", services),
]
