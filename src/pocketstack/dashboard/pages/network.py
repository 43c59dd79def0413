"""Networks and subnets, routers (gateway, interfaces), floating IPs, security groups
and their rules, and the topology picture."""

from __future__ import annotations

from typing import Any

from starlette.responses import Response
from starlette.routing import Route

from pocketstack.dashboard import topology
from pocketstack.dashboard.client import ApiError
from pocketstack.dashboard.pages.common import choices, paged, param
from pocketstack.dashboard.web import Ctx, FormError, NoSuchAction, page

PROTOCOLS = ["tcp", "udp", "icmp", "any"]


async def _list(ctx: Ctx, collection: str, **params: Any) -> list[dict[str, Any]]:
    return (await ctx.api.get("network", f"/{collection}", **params))[collection.replace("-", "_")]


def _subnet_body(ctx: Ctx, network_id: str) -> dict[str, Any]:
    cidr = ctx.required("cidr", "A CIDR (such as 10.0.0.0/24)")
    body: dict[str, Any] = {"network_id": network_id, "cidr": cidr, "ip_version": 6 if ":" in cidr else 4,
                            "name": ctx.field("subnet_name") or f"{cidr}", "enable_dhcp": ctx.field("dhcp") != "off"}
    if ctx.field("gateway_ip"):
        body["gateway_ip"] = ctx.field("gateway_ip")
    return {"subnet": body}


@page()
async def networks(ctx: Ctx) -> Response:
    subnets = {s["id"]: s for s in await _list(ctx, "subnets")}
    listed = await paged(ctx, "network", "/networks", "networks")
    return await ctx.render("networks.html", title="Networks", networks=listed.items, page=listed, subnets=subnets)


@page()
async def create_network(ctx: Ctx) -> Response:
    """A network and, when a CIDR is given, its first subnet (both or neither)."""
    name = ctx.required("name", "A name")
    subnet_wanted = bool(ctx.field("cidr"))
    network = (await ctx.api.post("network", "/networks", {"network": {"name": name}}))["network"]
    if subnet_wanted:
        try:
            await ctx.api.post("network", "/subnets", _subnet_body(ctx, network["id"]))
        except (ApiError, FormError):
            await ctx.api.delete("network", f"/networks/{network['id']}")
            raise
    return await ctx.redirect("/networks", f"Network {name} created.")


@page()
async def network(ctx: Ctx) -> Response:
    network_id = param(ctx, "id")
    found = (await ctx.api.get("network", f"/networks/{network_id}"))["network"]
    ports = await paged(ctx, "network", "/ports", "ports", network_id=found["id"])
    return await ctx.render("network.html", title=f"Network {found['name'] or found['id']}", network=found,
                            subnets=await _list(ctx, "subnets", network_id=found["id"]), ports=ports.items,
                            page=ports)


@page()
async def network_action(ctx: Ctx) -> Response:
    network_id, action = param(ctx, "id"), ctx.required("action", "An action")
    if action == "add-subnet":
        await ctx.api.post("network", "/subnets", _subnet_body(ctx, ctx.request.path_params["id"]))
        return await ctx.redirect(f"/networks/{network_id}", "Subnet created.")
    if action == "delete-subnet":
        await ctx.api.delete("network", f"/subnets/{ctx.required('subnet_id', 'A subnet')}")
        return await ctx.redirect(f"/networks/{network_id}", "Subnet deleted.")
    if action == "delete":
        await ctx.api.delete("network", f"/networks/{network_id}")
        return await ctx.redirect("/networks", "Network deleted.")
    raise NoSuchAction(action)


async def _external_networks(ctx: Ctx) -> list[tuple[str, str]]:
    return choices(await _list(ctx, "networks", **{"router:external": "true"}))


@page()
async def routers(ctx: Ctx) -> Response:
    names = {n["id"]: n["name"] for n in await _list(ctx, "networks")}
    listed = await paged(ctx, "network", "/routers", "routers")
    return await ctx.render("routers.html", title="Routers", routers=listed.items, page=listed, names=names,
                            external=await _external_networks(ctx))


@page()
async def create_router(ctx: Ctx) -> Response:
    body: dict[str, Any] = {"name": ctx.required("name", "A name")}
    if ctx.field("external_network"):
        body["external_gateway_info"] = {"network_id": ctx.field("external_network")}
    await ctx.api.post("network", "/routers", {"router": body})
    return await ctx.redirect("/routers", f"Router {body['name']} created.")


@page()
async def router(ctx: Ctx) -> Response:
    router_id = param(ctx, "id")
    found = (await ctx.api.get("network", f"/routers/{router_id}"))["router"]
    interfaces = await _list(ctx, "ports", device_id=found["id"], device_owner="network:router_interface")
    subnets = await _list(ctx, "subnets", project_id=ctx.login.project_id)
    names = {n["id"]: n["name"] for n in await _list(ctx, "networks")}
    return await ctx.render("router.html", title=f"Router {found['name'] or found['id']}", router=found,
                            interfaces=interfaces, names=names, external=await _external_networks(ctx),
                            subnets=[(s["id"], f"{names.get(s['network_id'], '?')}: {s['cidr']}") for s in subnets])


@page()
async def router_action(ctx: Ctx) -> Response:
    router_id, action = param(ctx, "id"), ctx.required("action", "An action")
    here = f"/routers/{router_id}"
    if action == "add-interface":
        await ctx.api.put("network", f"{here}/add_router_interface",
                          {"subnet_id": ctx.required("subnet_id", "A subnet")})
        return await ctx.redirect(here, "Interface added.")
    if action == "remove-interface":
        await ctx.api.put("network", f"{here}/remove_router_interface",
                          {"port_id": ctx.required("port_id", "An interface")})
        return await ctx.redirect(here, "Interface removed.")
    if action == "set-gateway":
        gateway = {"network_id": ctx.required("external_network", "An external network")}
        await ctx.api.put("network", here, {"router": {"external_gateway_info": gateway}})
        return await ctx.redirect(here, "Gateway set.")
    if action == "clear-gateway":
        await ctx.api.put("network", here, {"router": {"external_gateway_info": {}}})
        return await ctx.redirect(here, "Gateway cleared.")
    if action == "delete":
        await ctx.api.delete("network", here)
        return await ctx.redirect("/routers", "Router deleted.")
    raise NoSuchAction(action)


@page()
async def floating_ips(ctx: Ctx) -> Response:
    ports = await _list(ctx, "ports", project_id=ctx.login.project_id)
    servers = {s["id"]: s["name"] for s in (await ctx.api.get("compute", "/servers"))["servers"]}
    targets = [(p["id"], f"{servers.get(p['device_id'], p['device_id'])}: "
                         f"{', '.join(ip['ip_address'] for ip in p['fixed_ips'])}")
               for p in ports if p["device_owner"].startswith("compute:")]
    return await ctx.render("floating_ips.html", title="Floating IPs",
                            floating_ips=await _list(ctx, "floatingips", project_id=ctx.login.project_id),
                            external=await _external_networks(ctx), targets=targets,
                            port_names=dict(targets))


@page()
async def floating_ip_action(ctx: Ctx) -> Response:
    action = ctx.required("action", "An action")
    if action == "allocate":
        body = {"floatingip": {"floating_network_id": ctx.required("external_network", "An external network")}}
        created = (await ctx.api.post("network", "/floatingips", body))["floatingip"]
        return await ctx.redirect("/floating-ips", f"Allocated {created['floating_ip_address']}.")
    fip = ctx.required("floatingip_id", "A floating IP")
    if action == "associate":
        await ctx.api.put("network", f"/floatingips/{fip}",
                          {"floatingip": {"port_id": ctx.required("port_id", "An instance port")}})
        return await ctx.redirect("/floating-ips", "Associated.")
    if action == "disassociate":
        await ctx.api.put("network", f"/floatingips/{fip}", {"floatingip": {"port_id": None}})
        return await ctx.redirect("/floating-ips", "Disassociated.")
    if action == "release":
        await ctx.api.delete("network", f"/floatingips/{fip}")
        return await ctx.redirect("/floating-ips", "Released.")
    raise NoSuchAction(action)


@page()
async def security_groups(ctx: Ctx) -> Response:
    listed = await paged(ctx, "network", "/security-groups", "security_groups", project_id=ctx.login.project_id)
    return await ctx.render("security_groups.html", title="Security groups", groups=listed.items, page=listed,
                            protocols=[(p, p) for p in PROTOCOLS])


def rule_body(ctx: Ctx) -> dict[str, Any]:
    """A security group rule from the rule form; ports only for TCP and UDP."""
    protocol = ctx.required("protocol", "A protocol")
    if protocol not in PROTOCOLS:
        raise FormError(f"The protocol must be one of {', '.join(PROTOCOLS)}.")
    direction = ctx.field("direction") or "ingress"
    if direction not in ("ingress", "egress"):
        raise FormError("The direction must be ingress or egress.")
    rule: dict[str, Any] = {"security_group_id": ctx.required("group_id", "A security group"),
                            "direction": direction, "ethertype": "IPv6" if ":" in ctx.field("remote") else "IPv4"}
    if protocol != "any":
        rule["protocol"] = protocol
    if protocol in ("tcp", "udp") and ctx.field("port_min"):
        low = ctx.integer("port_min", "The first port", 1)
        high = ctx.integer("port_max", "The last port", 1, default=low)
        if not low <= high <= 65535:
            raise FormError("Ports run from 1 to 65535, the first no higher than the last.")
        rule["port_range_min"], rule["port_range_max"] = low, high
    if ctx.field("remote"):
        rule["remote_ip_prefix"] = ctx.field("remote")
    return {"security_group_rule": rule}


@page()
async def security_group_action(ctx: Ctx) -> Response:
    action = ctx.required("action", "An action")
    if action == "create":
        body = {"security_group": {"name": ctx.required("name", "A name"), "description": ctx.field("description")}}
        await ctx.api.post("network", "/security-groups", body)
        return await ctx.redirect("/security-groups", f"Security group {body['security_group']['name']} created.")
    if action == "delete":
        await ctx.api.delete("network", f"/security-groups/{ctx.required('group_id', 'A security group')}")
        return await ctx.redirect("/security-groups", "Security group deleted.")
    if action == "add-rule":
        await ctx.api.post("network", "/security-group-rules", rule_body(ctx))
        return await ctx.redirect("/security-groups", "Rule added.")
    if action == "delete-rule":
        await ctx.api.delete("network", f"/security-group-rules/{ctx.required('rule_id', 'A rule')}")
        return await ctx.redirect("/security-groups", "Rule deleted.")
    raise NoSuchAction(action)


@page()
async def topology_page(ctx: Ctx) -> Response:
    project = ctx.login.project_id
    networks = await _list(ctx, "networks")
    for n in networks:
        n["owned"] = n.get("project_id") == project
    picture = topology.layout(networks, await _list(ctx, "routers", project_id=project),
                              (await ctx.api.get("compute", "/servers"))["servers"],
                              await _list(ctx, "ports", project_id=project))
    return await ctx.render("topology.html", title="Network topology", picture=picture, sizes=topology)


ROUTES = [
    Route("/networks", networks), Route("/networks", create_network, methods=["POST"]),
    Route("/networks/{id}", network), Route("/networks/{id}/action", network_action, methods=["POST"]),
    Route("/routers", routers), Route("/routers", create_router, methods=["POST"]),
    Route("/routers/{id}", router), Route("/routers/{id}/action", router_action, methods=["POST"]),
    Route("/floating-ips", floating_ips), Route("/floating-ips", floating_ip_action, methods=["POST"]),
    Route("/security-groups", security_groups),
    Route("/security-groups", security_group_action, methods=["POST"]),
    Route("/topology", topology_page),
]
