"""Seed Networking: networks and their subnets, routers (gateway, interfaces) and
security groups with their rules, through Neutron's v2.0 API as admin."""

from __future__ import annotations

import ipaddress
from typing import Any

from pocketstack.seed import identity
from pocketstack.seed.context import Context, given
from pocketstack.seed.errors import Path


async def _project(ctx: Context, entry: dict[str, Any]) -> str:
    return await identity.project_id(ctx, entry["project"]) if "project" in entry else ctx.admin.project_id


async def _find(ctx: Context, collection: str, **params: Any) -> dict[str, Any] | None:
    found = (await ctx.admin.get(f"{ctx.admin.roots.network}/{collection}", **params))[collection.replace("-", "_")]
    return found[0] if found else None


async def _crud(ctx: Context, path: Path, collection: str, member: str, found: dict[str, Any] | None,
                body: dict[str, Any], mutable: dict[str, Any], fixed: dict[str, Any] | None = None) -> dict[str, Any]:
    url = f"{ctx.admin.roots.network}/{collection}"

    async def create() -> dict[str, Any]:
        return (await ctx.admin.call("POST", url, body={member: body})).json()[member]

    async def update(changes: dict[str, Any]) -> None:
        assert found is not None  # only what exists is updated
        await ctx.admin.call("PUT", f"{url}/{found['id']}", body={member: changes})

    return await ctx.converge(path, found, create, mutable, update, fixed)


async def network_id(ctx: Context, name: str) -> str:
    return await ctx.resolve("network", name, lambda: _listing(ctx, "networks", name))


async def subnet_id(ctx: Context, name: str) -> str:
    return await ctx.resolve("subnet", name, lambda: _listing(ctx, "subnets", name))


async def security_group_id(ctx: Context, name: str) -> str:
    return await ctx.resolve("security_group", name, lambda: _listing(ctx, "security-groups", name))


async def _listing(ctx: Context, collection: str, name: str) -> list[dict[str, Any]]:
    return (await ctx.admin.get(f"{ctx.admin.roots.network}/{collection}", name=name))[collection.replace("-", "_")]


async def network(ctx: Context, path: Path, entry: dict[str, Any]) -> None:
    project = await _project(ctx, entry)
    mutable = given(entry, "name", "shared", "admin_state_up", "mtu", "description", **{"router:external": "external"})
    found = await _find(ctx, "networks", name=entry["name"], project_id=project)
    made = await _crud(ctx, path, "networks", "network", found, mutable | {"project_id": project}, mutable)
    ctx.remember("network", entry["name"], made)
    for index, subnet_entry in enumerate(entry.get("subnets") or []):
        with ctx.at((*path, "subnets", index)):
            await _subnet(ctx, (*path, "subnets", index), subnet_entry, made["id"], project)


async def _subnet(ctx: Context, path: Path, entry: dict[str, Any], network: str, project: str) -> None:
    cidr = ipaddress.ip_network(entry["cidr"], strict=False)
    fixed = {"cidr": str(cidr), "ip_version": cidr.version}
    mutable = given(entry, "name", "gateway_ip", "enable_dhcp", "dns_nameservers", "allocation_pools", "description")
    found = await _find(ctx, "subnets", name=entry["name"], network_id=network)
    body = mutable | fixed | {"network_id": network, "project_id": project}
    ctx.remember("subnet", entry["name"], await _crud(ctx, path, "subnets", "subnet", found, body, mutable, fixed))


async def router(ctx: Context, path: Path, entry: dict[str, Any]) -> None:
    project = await _project(ctx, entry)
    mutable = given(entry, "name", "admin_state_up", "description")
    if "external_gateway" in entry:
        mutable["external_gateway_info"] = {"network_id": await network_id(ctx, entry["external_gateway"])}
    found = await _find(ctx, "routers", name=entry["name"], project_id=project)
    if found is not None and found.get("external_gateway_info"):
        # Compare the gateway's network only (Neutron adds its addresses and SNAT).
        found["external_gateway_info"] = {"network_id": found["external_gateway_info"]["network_id"]}
    made = await _crud(ctx, path, "routers", "router", found, mutable | {"project_id": project}, mutable)
    ports = (await ctx.admin.get(f"{ctx.admin.roots.network}/ports", device_id=made["id"]))["ports"]
    attached = {ip["subnet_id"] for port in ports for ip in port.get("fixed_ips", [])}
    for index, name in enumerate(entry.get("interfaces") or []):
        where = (*path, "interfaces", index)
        with ctx.at(where):
            subnet = await subnet_id(ctx, name)
            if subnet in attached:
                ctx.report.add("unchanged", where)
                continue
            await ctx.admin.call("PUT", f"{ctx.admin.roots.network}/routers/{made['id']}/add_router_interface",
                                 body={"subnet_id": subnet})
            ctx.report.add("created", where)


async def security_group(ctx: Context, path: Path, entry: dict[str, Any]) -> None:
    project = await _project(ctx, entry)
    mutable = given(entry, "name", "description")
    found = await _find(ctx, "security-groups", name=entry["name"], project_id=project)
    made = await _crud(ctx, path, "security-groups", "security_group", found, mutable | {"project_id": project},
                       mutable)
    ctx.remember("security_group", entry["name"], made)
    existing = {_rule_key(rule) for rule in made.get("security_group_rules") or []}
    for index, rule in enumerate(entry.get("rules") or []):
        where = (*path, "rules", index)
        with ctx.at(where):
            body = await _rule(ctx, rule, made["id"], project)
            if _rule_key(body) in existing:
                ctx.report.add("unchanged", where)
                continue
            await ctx.admin.call("POST", f"{ctx.admin.roots.network}/security-group-rules",
                                 body={"security_group_rule": body})
            existing.add(_rule_key(body))
            ctx.report.add("created", where)


async def _rule(ctx: Context, rule: dict[str, Any], group: str, project: str) -> dict[str, Any]:
    """The rule as Neutron stores it: defaults filled in, the prefix normalised, a lone
    port_range_min meaning one port."""
    body = {"security_group_id": group, "project_id": project, "direction": rule.get("direction", "ingress"),
            "protocol": None if rule.get("protocol") is None else str(rule["protocol"]).lower(),
            "port_range_min": rule.get("port_range_min"),
            "port_range_max": rule.get("port_range_max", rule.get("port_range_min")),
            "remote_ip_prefix": None, "remote_group_id": None}
    version = 4
    if "remote_ip_prefix" in rule:
        prefix = ipaddress.ip_network(rule["remote_ip_prefix"], strict=False)
        body["remote_ip_prefix"], version = str(prefix), prefix.version
    if "remote_group" in rule:
        body["remote_group_id"] = await security_group_id(ctx, rule["remote_group"])
    body["ethertype"] = rule.get("ethertype", f"IPv{version}")
    return body | given(rule, "description")


def _rule_key(rule: dict[str, Any]) -> tuple[Any, ...]:
    return tuple(rule.get(k) for k in ("direction", "ethertype", "protocol", "port_range_min", "port_range_max",
                                       "remote_ip_prefix", "remote_group_id"))
