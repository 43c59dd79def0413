"""An instance's floating IPs, from its own page as Horizon's instance actions do them:
associate one (a free floating IP of the project, or one allocated from an external
network there and then) with one of the server's fixed IPs, and disassociate one.

Through the Networking API with the user's token: ``PUT /floatingips/{id}`` with the
port (and, a port having several addresses, the fixed IP) to associate, ``port_id: null``
to disassociate; a new one is allocated and associated in one ``POST /floatingips``.
Neutron's refusals (another project's floating IP, an external network no router of the
port's subnet reaches, an address already associated) are the form's message."""

from __future__ import annotations

import ipaddress
from typing import Any

from starlette.responses import Response
from starlette.routing import Route

from pocketstack.dashboard.pages.common import param, quoted
from pocketstack.dashboard.web import Ctx, FormError, page

# The floating IP field's value that means "allocate a new one from this network".
ALLOCATE = "allocate:"
# Separates a port from one of its fixed IPs in the target field's value (as Horizon's).
TARGET_SEPARATOR = "_"


async def _interfaces(ctx: Ctx, server_id: str) -> list[dict[str, Any]]:
    listed = await ctx.api.get("compute", f"/servers/{server_id}/os-interface")
    return list(listed["interfaceAttachments"])


def targets(interfaces: list[dict[str, Any]], network_names: dict[str, str]) -> list[tuple[str, str]]:
    """(value, label) of each IPv4 fixed IP of the server's ports: what a floating IP
    (IPv4, as Neutron's) can be associated with."""
    return [(f"{i['port_id']}{TARGET_SEPARATOR}{ip['ip_address']}",
             f"{network_names.get(i['net_id'], i['net_id'])}: {ip['ip_address']}")
            for i in interfaces for ip in i.get("fixed_ips") or []
            if ipaddress.ip_address(ip["ip_address"]).version == 4]


async def choices(ctx: Ctx, interfaces: list[dict[str, Any]], network_names: dict[str, str],
                  external: list[tuple[str, str]]) -> dict[str, Any]:
    """What the instance page shows and offers: the floating IPs on the server's ports,
    the project's free ones with "allocate from <network>" beside them, and the server's
    fixed IPs to associate one with."""
    attached: list[dict[str, Any]] = []
    for interface in interfaces:
        attached += (await ctx.api.get("network", "/floatingips", port_id=interface["port_id"]))["floatingips"]
    project = await ctx.api.get("network", "/floatingips", project_id=ctx.login.project_id)
    free = [(f["id"], f["floating_ip_address"]) for f in project["floatingips"] if not f.get("port_id")]
    allocate = [(f"{ALLOCATE}{net_id}", f"A new one from {name}") for net_id, name in external]
    return {"floating_ips": sorted(attached, key=lambda f: f["floating_ip_address"]),
            "floating_choices": sorted(free, key=lambda pair: pair[1]) + allocate,
            "floating_targets": targets(interfaces, network_names)}


@page()
async def floating_ip_action(ctx: Ctx) -> Response:
    server_id = param(ctx, "id")
    here = f"/instances/{server_id}"
    if ctx.field("action") == "disassociate":
        fip = quoted(ctx.required("floatingip_id", "A floating IP"))
        await ctx.api.put("network", f"/floatingips/{fip}", {"floatingip": {"port_id": None}})
        return await ctx.redirect(here, "Floating IP disassociated.")
    chosen = ctx.required("floatingip", "A floating IP (or an external network to allocate one from)")
    target = ctx.required("target", "The instance's address to associate it with")
    port_id, _, fixed_ip = target.partition(TARGET_SEPARATOR)
    ports = {i["port_id"]: {ip["ip_address"] for ip in i.get("fixed_ips") or []}
             for i in await _interfaces(ctx, server_id)}
    if fixed_ip not in ports.get(port_id, set()):
        raise FormError("That address is not one of this instance's.")
    association = {"port_id": port_id, "fixed_ip_address": fixed_ip}
    if chosen.startswith(ALLOCATE):
        body = {"floatingip": {"floating_network_id": chosen[len(ALLOCATE):], **association}}
        created = (await ctx.api.post("network", "/floatingips", body))["floatingip"]
    else:
        created = (await ctx.api.put("network", f"/floatingips/{quoted(chosen)}",
                                     {"floatingip": association}))["floatingip"]
    return await ctx.redirect(here, f"Floating IP {created['floating_ip_address']} associated with {fixed_ip}.")


ROUTES = [Route("/instances/{id}/floating-ips", floating_ip_action, methods=["POST"])]
