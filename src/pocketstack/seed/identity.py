"""Seed Identity: domains, projects, roles, users (with passwords), groups and their
members, role assignments and application credentials, through Keystone's v3 API."""

from __future__ import annotations

from typing import Any

from pocketstack.seed.context import DEFAULT_DOMAIN_ID, Context, given
from pocketstack.seed.errors import Path


def _declared_domain(ctx: Context, kind: str, name: str) -> str | None:
    """The domain the file gives the ``kind`` called ``name``, if it defines one."""
    return next((e.get("domain") for _, e in ctx.doc.entries(kind) if e["name"] == name), None)


async def domain_id(ctx: Context, name: str | None) -> str:
    if name is None:
        return DEFAULT_DOMAIN_ID
    identity = ctx.admin.roots.identity
    return await ctx.resolve("domain", name, lambda: _list(ctx, f"{identity}/domains", "domains", name=name))


async def _scoped_id(ctx: Context, kind: str, collection: str, name: str) -> str:
    """A project's or user's id by name: in the domain the file gives it, else Default's."""
    domain = await domain_id(ctx, _declared_domain(ctx, collection, name))
    url = f"{ctx.admin.roots.identity}/{collection}"
    return await ctx.resolve(kind, name, lambda: _list(ctx, url, collection, name=name, domain_id=domain))


async def project_id(ctx: Context, name: str) -> str:
    return await _scoped_id(ctx, "project", "projects", name)


async def user_id(ctx: Context, name: str) -> str:
    return await _scoped_id(ctx, "user", "users", name)


async def group_id(ctx: Context, name: str) -> str:
    return await _scoped_id(ctx, "group", "groups", name)


async def role_id(ctx: Context, name: str) -> str:
    return await ctx.resolve("role", name, lambda: _list(ctx, f"{ctx.admin.roots.identity}/roles", "roles",
                                                         name=name))


async def _list(ctx: Context, url: str, key: str, **params: Any) -> list[dict[str, Any]]:
    return (await ctx.admin.get(url, **params))[key]


async def _one(ctx: Context, url: str, key: str, **params: Any) -> dict[str, Any] | None:
    found = await _list(ctx, url, key, **params)
    return found[0] if found else None


async def _crud(ctx: Context, path: Path, collection: str, member: str, entry: dict[str, Any],
                body: dict[str, Any], on_create: dict[str, Any] | None = None, **lookup: Any) -> dict[str, Any]:
    """Find the ``member`` named like ``entry`` in ``collection``, create it with ``body``
    (and ``on_create``) or PATCH the fields of ``body`` that differ."""
    url = f"{ctx.admin.roots.identity}/{collection}"
    found = await _one(ctx, url, collection, name=entry["name"], **lookup)

    async def create() -> dict[str, Any]:
        return (await ctx.admin.call("POST", url, body={member: body | (on_create or {})})).json()[member]

    async def update(changes: dict[str, Any]) -> None:
        assert found is not None  # only what exists is updated
        await ctx.admin.call("PATCH", f"{url}/{found['id']}", body={member: changes})

    return ctx.remember(member, entry["name"], await ctx.converge(path, found, create, body, update))


async def domain(ctx: Context, path: Path, entry: dict[str, Any]) -> None:
    await _crud(ctx, path, "domains", "domain", entry, given(entry, "name", "description", "enabled"))


async def project(ctx: Context, path: Path, entry: dict[str, Any]) -> None:
    domain = await domain_id(ctx, entry.get("domain"))
    body = given(entry, "name", "description", "enabled") | {"domain_id": domain}
    if "tags" in entry:
        body["tags"] = sorted(entry["tags"])  # as Keystone lists them
    await _crud(ctx, path, "projects", "project", entry, body, domain_id=domain)


async def role(ctx: Context, path: Path, entry: dict[str, Any]) -> None:
    await _crud(ctx, path, "roles", "role", entry, given(entry, "name", "description"))


async def user(ctx: Context, path: Path, entry: dict[str, Any]) -> None:
    domain = await domain_id(ctx, entry.get("domain"))
    body = given(entry, "name", "email", "description", "enabled") | {"domain_id": domain}
    if "default_project" in entry:
        body["default_project_id"] = await project_id(ctx, entry["default_project"])
    found = await _crud(ctx, path, "users", "user", entry, body, on_create=given(entry, "password"),
                        domain_id=domain)
    if "password" in entry and found.get("enabled", True):  # a disabled user cannot try it
        await _converge_password(ctx, path, found["id"], entry["password"])


async def _converge_password(ctx: Context, path: Path, user: str, password: str) -> None:
    """Keystone never shows a password: try it, and set it when it does not work."""
    response = await ctx.admin.http.post(f"{ctx.admin.roots.identity}/auth/tokens?nocatalog", json={"auth": {
        "identity": {"methods": ["password"], "password": {"user": {"id": user, "password": password}}},
        "scope": "unscoped"}})
    if response.status_code == 201:
        return
    await ctx.admin.call("PATCH", f"{ctx.admin.roots.identity}/users/{user}", body={"user": {"password": password}})
    ctx.report.add("updated", (*path, "password"))


async def group(ctx: Context, path: Path, entry: dict[str, Any]) -> None:
    domain = await domain_id(ctx, entry.get("domain"))
    body = given(entry, "name", "description") | {"domain_id": domain}
    found = await _crud(ctx, path, "groups", "group", entry, body, domain_id=domain)
    for index, name in enumerate(entry.get("users") or []):
        with ctx.at((*path, "users", index)):
            member = f"{ctx.admin.roots.identity}/groups/{found['id']}/users/{await user_id(ctx, name)}"
            await _ensure_put(ctx, (*path, "users", index), member)


async def _ensure_put(ctx: Context, path: Path, url: str) -> None:
    """A relation Keystone checks with HEAD and makes with PUT (membership, grant)."""
    if (await ctx.admin.call("HEAD", url, missing=True)).status_code == 404:
        await ctx.admin.call("PUT", url)
        ctx.report.add("created", path)
    else:
        ctx.report.add("unchanged", path)


async def role_assignment(ctx: Context, path: Path, entry: dict[str, Any]) -> None:
    if "project" in entry:
        target = f"projects/{await project_id(ctx, entry['project'])}"
    elif "domain" in entry:
        target = f"domains/{await domain_id(ctx, entry['domain'])}"
    else:
        target = "system"
    actor = f"users/{await user_id(ctx, entry['user'])}" if "user" in entry else \
        f"groups/{await group_id(ctx, entry['group'])}"
    await _ensure_put(ctx, path, f"{ctx.admin.roots.identity}/{target}/{actor}/roles/"
                                 f"{await role_id(ctx, entry['role'])}")


async def application_credentials(ctx: Context, path: Path, user: dict[str, Any]) -> None:
    """Created by the user themself (Keystone's rule), with the password from the file;
    after the role assignments, which give the user its roles on the project."""
    for index, entry in enumerate(user.get("application_credentials") or []):
        with ctx.at((*path, "application_credentials", index)):
            await _application_credential(ctx, (*path, "application_credentials", index), user, entry)


async def _application_credential(ctx: Context, path: Path, user: dict[str, Any], entry: dict[str, Any]) -> None:
    project = entry.get("project") or user["default_project"]  # the file was checked for both
    uid = await user_id(ctx, user["name"])
    client = await ctx.admin.as_user(uid, user["password"], await project_id(ctx, project))
    url = f"{client.roots.identity}/users/{uid}/application_credentials"
    found = (await client.get(url, name=entry["name"]))["application_credentials"]
    body = given(entry, "name", "secret", "description", "unrestricted")
    if "roles" in entry:
        body["roles"] = [{"name": name} for name in entry["roles"]]

    async def create() -> dict[str, Any]:
        return (await client.call("POST", url, body={"application_credential": body})).json()

    await ctx.converge(path, found[0] if found else None, create, {})
