"""Administration: projects, users, groups, role assignments, flavors, volume types,
hypervisors and the services' up/down state.  Every page here is for the cloud's admins only (members get
the 403 page; the APIs would refuse them anyway).  The list pages are declared
(:class:`~pocketstack.dashboard.pages.listing.Listing`, paged as the long lists are); the forms' actions
are written out."""

from __future__ import annotations

from typing import Any

from starlette.responses import Response
from starlette.routing import Route

from pocketstack.dashboard.client import ApiError
from pocketstack.dashboard.pages.common import quoted
from pocketstack.dashboard.pages.listing import Listing, identity_list
from pocketstack.dashboard.web import Ctx, FormError, NoSuchAction, page


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


@page(admin=True)
async def project_action(ctx: Ctx) -> Response:
    action = ctx.required("action", "An action")
    if action == "create":
        body = {"name": ctx.required("name", "A name"), "description": ctx.field("description"),
                "domain_id": ctx.field("domain_id") or "default", "enabled": True}
        await ctx.api.post("identity", "/projects", {"project": body})
        return await ctx.redirect("/admin/projects", f"Project {body['name']} created.")
    project_id = ctx.required("project_id", "A project")
    if action in ("enable", "disable"):
        await ctx.api.call("PATCH", "identity", f"/projects/{project_id}",
                           json={"project": {"enabled": action == "enable"}})
        return await ctx.redirect("/admin/projects", f"Project {action}d.")
    if action == "delete":
        await ctx.api.delete("identity", f"/projects/{project_id}")
        return await ctx.redirect("/admin/projects", "Project deleted.")
    raise NoSuchAction(action)


@page(admin=True)
async def user_action(ctx: Ctx) -> Response:
    action = ctx.required("action", "An action")
    if action == "create":
        return await _create_user(ctx)
    user_id = ctx.required("user_id", "A user")
    if action in ("enable", "disable"):
        await ctx.api.call("PATCH", "identity", f"/users/{user_id}", json={"user": {"enabled": action == "enable"}})
        return await ctx.redirect("/admin/users", f"User {action}d.")
    if action == "delete":
        await ctx.api.delete("identity", f"/users/{user_id}")
        return await ctx.redirect("/admin/users", "User deleted.")
    raise NoSuchAction(action)


async def _create_user(ctx: Ctx) -> Response:
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
    return await ctx.redirect("/admin/users", f"User {name} created.")


@page(admin=True)
async def role_action(ctx: Ctx) -> Response:
    action = ctx.required("action", "An action")
    path = (f"/projects/{ctx.required('project_id', 'A project')}/users/{ctx.required('user_id', 'A user')}"
            f"/roles/{ctx.required('role_id', 'A role')}")
    if action == "assign":
        await ctx.api.put("identity", path)
        return await ctx.redirect("/admin/roles", "Role assigned.")
    if action == "revoke":
        await ctx.api.delete("identity", path)
        return await ctx.redirect("/admin/roles", "Role revoked.")
    raise NoSuchAction(action)


@page(admin=True)
async def group_action(ctx: Ctx) -> Response:
    action = ctx.required("action", "An action")
    if action == "create":
        body = {"name": ctx.required("name", "A name"), "description": ctx.field("description"),
                "domain_id": "default"}
        await ctx.api.post("identity", "/groups", {"group": body})
        return await ctx.redirect("/admin/groups", f"Group {body['name']} created.")
    group = quoted(ctx.required("group_id", "A group"))
    if action == "delete":
        await ctx.api.delete("identity", f"/groups/{group}")
        return await ctx.redirect("/admin/groups", "Group deleted.")
    user = quoted(ctx.required("user_id", "A user"))
    if action == "add-user":
        await ctx.api.put("identity", f"/groups/{group}/users/{user}")
        return await ctx.redirect("/admin/groups", "User added to the group.")
    if action == "remove-user":
        await ctx.api.delete("identity", f"/groups/{group}/users/{user}")
        return await ctx.redirect("/admin/groups", "User removed from the group.")
    raise NoSuchAction(action)


@page(admin=True)
async def volume_type_action(ctx: Ctx) -> Response:
    action = ctx.required("action", "An action")
    if action == "create":
        body = {"name": ctx.required("name", "A name"), "description": ctx.field("description"),
                "os-volume-type-access:is_public": ctx.field("private") != "on"}
        await ctx.api.post("volume", "/types", {"volume_type": body})
        return await ctx.redirect("/admin/volume-types", f"Volume type {body['name']} created.")
    if action == "delete":
        await ctx.api.delete("volume", f"/types/{quoted(ctx.required('type_id', 'A volume type'))}")
        return await ctx.redirect("/admin/volume-types", "Volume type deleted.")
    raise NoSuchAction(action)


@page(admin=True)
async def flavor_action(ctx: Ctx) -> Response:
    action = ctx.required("action", "An action")
    if action == "create":
        body = {"name": ctx.required("name", "A name"), "vcpus": ctx.integer("vcpus", "vCPUs", 1),
                "ram": ctx.integer("ram", "RAM (MB)", 1), "disk": ctx.integer("disk", "Disk (GB)", 0)}
        await ctx.api.post("compute", "/flavors", {"flavor": body})
        return await ctx.redirect("/admin/flavors", f"Flavor {body['name']} created.")
    if action == "delete":
        await ctx.api.delete("compute", f"/flavors/{ctx.required('flavor_id', 'A flavor')}")
        return await ctx.redirect("/admin/flavors", "Flavor deleted.")
    raise NoSuchAction(action)


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
