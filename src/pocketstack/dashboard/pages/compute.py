"""Instances (list that follows builds, launch, detail, actions, interfaces, volumes,
the noVNC console and the console log), server groups and key pairs."""

from __future__ import annotations

import base64
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

from starlette.responses import Response
from starlette.routing import Route

from pocketstack.dashboard.client import ApiError
from pocketstack.dashboard.pages import floating
from pocketstack.dashboard.pages.common import choices, paged, param, quoted, selected
from pocketstack.dashboard.pages.instance_actions import action_log
from pocketstack.dashboard.paging import Position
from pocketstack.dashboard.security import csp_framing
from pocketstack.dashboard.web import Ctx, FormError, NoSuchAction, page

# States that end by themselves: while any is shown, the list keeps refreshing.
TRANSITIONAL = {"BUILD", "REBOOT", "HARD_REBOOT", "REBUILD", "RESIZE", "MIGRATING", "VERIFY_RESIZE"}
# Action buttons: form value -> (Nova action body, label, statuses it applies to; None: any).
ACTIONS: dict[str, tuple[dict[str, Any], str, set[str] | None]] = {
    "start": ({"os-start": None}, "Start", {"SHUTOFF"}),
    "stop": ({"os-stop": None}, "Stop", {"ACTIVE", "ERROR", "PAUSED", "SUSPENDED", "RESCUE"}),
    "reboot": ({"reboot": {"type": "SOFT"}}, "Reboot", {"ACTIVE"}),
    "hard-reboot": ({"reboot": {"type": "HARD"}}, "Hard reboot", {"ACTIVE", "SHUTOFF", "PAUSED", "SUSPENDED",
                                                                  "ERROR"}),
    "pause": ({"pause": None}, "Pause", {"ACTIVE"}),
    "unpause": ({"unpause": None}, "Unpause", {"PAUSED"}),
    "suspend": ({"suspend": None}, "Suspend", {"ACTIVE"}),
    "resume": ({"resume": None}, "Resume", {"SUSPENDED"}),
    "shelve": ({"shelve": None}, "Shelve", {"ACTIVE", "SHUTOFF"}),
    "unshelve": ({"unshelve": None}, "Unshelve", {"SHELVED", "SHELVED_OFFLOADED"}),
    "confirm-resize": ({"confirmResize": None}, "Confirm resize", {"VERIFY_RESIZE"}),
    "revert-resize": ({"revertResize": None}, "Revert resize", {"VERIFY_RESIZE"}),
    "lock": ({"lock": None}, "Lock", None),
    "unlock": ({"unlock": None}, "Unlock", None),
}
# Actions with fields of their own (forms on the instance page): the Nova action body.
FORM_ACTIONS: dict[str, tuple[str, Callable[[Ctx], dict[str, Any]]]] = {
    "snapshot": ("Snapshot", lambda ctx: {"createImage": {"name": ctx.required("image_name", "A snapshot name")}}),
    "resize": ("Resize", lambda ctx: {"resize": {"flavorRef": ctx.required("flavor", "A flavor")}}),
    "rebuild": ("Rebuild", lambda ctx: {"rebuild": {"imageRef": ctx.required("image", "An image")}}),
}
# Which of lock and unlock applies, by the server's ``locked`` (microversion 2.9).
LOCKING = {True: "lock", False: "unlock"}
# The console Horizon asks for, and the microversion remote-consoles needs.
CONSOLE_REQUEST = {"remote_console": {"protocol": "vnc", "type": "novnc"}}
CONSOLE_VERSION = {"OpenStack-API-Version": "compute 2.6"}
MAX_COUNT = 100


def _busy(servers: list[dict[str, Any]]) -> bool:
    return any(s["status"] in TRANSITIONAL or s.get("OS-EXT-STS:task_state") for s in servers)


async def _flavor_names(ctx: Ctx) -> dict[str, str]:
    return {f["id"]: f["name"] for f in (await ctx.api.get("compute", "/flavors"))["flavors"]}


def _addresses(server: dict[str, Any]) -> list[str]:
    return [a["addr"] for net in (server.get("addresses") or {}).values() for a in net]


async def _rows(ctx: Ctx) -> dict[str, Any]:
    """One page of the list, newest first (Nova's order), at the query's position
    (:func:`~pocketstack.dashboard.pages.common.paged`)."""
    listed = await paged(ctx, "compute", "/servers/detail", "servers")
    servers = listed.items
    return {"servers": servers, "flavors": await _flavor_names(ctx), "busy": _busy(servers),
            "addresses": {s["id"]: _addresses(s) for s in servers}, "page": listed,
            "position": Position.of(ctx.request.query_params).query()}


@page()
async def instances(ctx: Ctx) -> Response:
    return await ctx.render("instances.html", title="Instances", **await _rows(ctx))


@page()
async def instance_rows(ctx: Ctx) -> Response:
    """The list's rows alone: what the page script polls while servers build."""
    return ctx.fragment("instance_rows.html", **await _rows(ctx))


async def _launch_choices(ctx: Ctx) -> dict[str, Any]:
    images = (await ctx.api.get("image", "/images", status="active"))["images"]
    volumes = (await ctx.api.get("volume", "/volumes/detail"))["volumes"]
    flavors = (await ctx.api.get("compute", "/flavors/detail"))["flavors"]
    networks = (await ctx.api.get("network", "/networks"))["networks"]
    keypairs = (await ctx.api.get("compute", "/os-keypairs"))["keypairs"]
    groups = (await ctx.api.get("network", "/security-groups", project_id=ctx.login.project_id))["security_groups"]
    server_groups = (await ctx.api.get("compute", "/os-server-groups"))["server_groups"]
    return {
        "images": choices(images),
        "volumes": choices([v for v in volumes if v["status"] == "available" and v.get("bootable") == "true"]),
        "flavors": [(f["id"], f"{f['name']} ({f['vcpus']} vCPU, {f['ram']} MB RAM, {f['disk']} GB disk)")
                    for f in sorted(flavors, key=lambda f: (f["vcpus"], f["ram"], f["name"]))],
        "networks": choices(networks),
        "keypairs": sorted((k["keypair"]["name"], k["keypair"]["name"]) for k in keypairs),
        "security_groups": sorted({(g["name"], g["name"]) for g in groups}),
        "server_groups": [(g["id"], f"{g['name']} ({', '.join(g['policies'])})") for g in server_groups],
    }


@page()
async def launch_form(ctx: Ctx) -> Response:
    return await ctx.render("launch.html", title="Launch instances", **await _launch_choices(ctx))


def launch_body(ctx: Ctx) -> dict[str, Any]:
    """The Nova create-server body the launch form describes (refusing what is missing
    or malformed before asking Nova)."""
    server: dict[str, Any] = {"name": ctx.required("name", "A name"),
                              "flavorRef": ctx.required("flavor", "A flavor")}
    count = ctx.integer("count", "The number of instances", minimum=1, default=1)
    if count > MAX_COUNT:
        raise FormError(f"The number of instances must be at most {MAX_COUNT}.")
    server["min_count"] = server["max_count"] = count
    if ctx.field("source") == "volume":
        server["imageRef"] = ""
        server["block_device_mapping_v2"] = [{
            "boot_index": 0, "uuid": ctx.required("volume", "A bootable volume"), "source_type": "volume",
            "destination_type": "volume", "delete_on_termination": False}]
    else:
        server["imageRef"] = ctx.required("image", "An image")
    networks = selected(ctx, "networks")
    if networks:
        server["networks"] = [{"uuid": n} for n in networks]
    if ctx.field("key_name"):
        server["key_name"] = ctx.field("key_name")
    groups = selected(ctx, "security_groups")
    if groups:
        server["security_groups"] = [{"name": g} for g in groups]
    user_data = ctx.field("user_data")
    if user_data:
        server["user_data"] = base64.b64encode(user_data.encode()).decode()
    body: dict[str, Any] = {"server": server}
    if ctx.field("server_group"):
        body["os:scheduler_hints"] = {"group": ctx.field("server_group")}
    return body


@page()
async def launch(ctx: Ctx) -> Response:
    body = launch_body(ctx)
    await ctx.api.post("compute", "/servers", body)
    count = body["server"]["min_count"]
    return await ctx.redirect("/instances", f"Launching {count} instance{'s' if count > 1 else ''} "
                                            f"named {body['server']['name']}.")


@page()
async def instance(ctx: Ctx) -> Response:
    server_id = param(ctx, "id")
    server = (await ctx.api.get("compute", f"/servers/{server_id}"))["server"]
    attachments = (await ctx.api.get("compute", f"/servers/{server_id}/os-volume_attachments"))["volumeAttachments"]
    interfaces = (await ctx.api.get("compute", f"/servers/{server_id}/os-interface"))["interfaceAttachments"]
    networks = (await ctx.api.get("network", "/networks"))["networks"]
    network_names = {n["id"]: n["name"] for n in networks}
    volumes = (await ctx.api.get("volume", "/volumes/detail"))["volumes"]
    actions = [(key, label) for key, (_body, label, states) in ACTIONS.items()
               if (states is None or server["status"] in states) and key != LOCKING[bool(server.get("locked"))]]
    external = choices([n for n in networks if n.get("router:external")])
    return await ctx.render("instance.html", title=f"Instance {server['name']}", server=server, actions=actions,
                            attachments=attachments, addresses=_addresses(server),
                            names={v["id"]: v["name"] or v["id"] for v in volumes},
                            attachable=choices([v for v in volumes if v["status"] == "available"]),
                            flavors=await _flavor_names(ctx),
                            images=choices((await ctx.api.get("image", "/images", status="active"))["images"]),
                            interfaces=interfaces, networks=choices(networks), network_names=network_names,
                            log=await action_log(ctx, server_id),
                            **await floating.choices(ctx, interfaces, network_names, external))


@page()
async def instance_action(ctx: Ctx) -> Response:
    server_id = param(ctx, "id")
    action = ctx.required("action", "An action")
    if action == "delete":
        await ctx.api.delete("compute", f"/servers/{server_id}")
        return await ctx.redirect("/instances", "The instance is being deleted.")
    if action in FORM_ACTIONS:
        label, build = FORM_ACTIONS[action]
        body = build(ctx)
    elif action in ACTIONS:
        body, label, _states = ACTIONS[action]
    else:
        raise NoSuchAction(action)
    await ctx.api.post("compute", f"/servers/{server_id}/action", body)
    return await ctx.redirect(f"/instances/{server_id}", f"{label}: requested.")


@page()
async def attach_volume(ctx: Ctx) -> Response:
    server_id = param(ctx, "id")
    body = {"volumeAttachment": {"volumeId": ctx.required("volume_id", "A volume")}}
    await ctx.api.post("compute", f"/servers/{server_id}/os-volume_attachments", body)
    return await ctx.redirect(f"/instances/{server_id}", "The volume is being attached.")


@page()
async def detach_volume(ctx: Ctx) -> Response:
    server_id = param(ctx, "id")
    volume_id = ctx.required("volume_id", "A volume")
    await ctx.api.delete("compute", f"/servers/{server_id}/os-volume_attachments/{volume_id}")
    return await ctx.redirect(f"/instances/{server_id}", "The volume is being detached.")


@page()
async def interface_action(ctx: Ctx) -> Response:
    """Plug the server into a network (a new port) or unplug one of its ports."""
    server_id, here = param(ctx, "id"), f"/instances/{param(ctx, 'id')}"
    if ctx.field("action") == "detach":
        port = quoted(ctx.required("port_id", "A port"))
        await ctx.api.delete("compute", f"/servers/{server_id}/os-interface/{port}")
        return await ctx.redirect(here, "The interface is being detached.")
    body = {"interfaceAttachment": {"net_id": ctx.required("network_id", "A network")}}
    await ctx.api.post("compute", f"/servers/{server_id}/os-interface", body)
    return await ctx.redirect(here, "Interface attached.")


@page()
async def console(ctx: Ctx) -> Response:
    """The server's noVNC console in a frame, its URL asked of Nova as Horizon does
    (``remote-consoles``, microversion 2.6); Nova's refusal (no running guest, no VNC) is
    the page's message instead."""
    server_id = param(ctx, "id")
    server = (await ctx.api.get("compute", f"/servers/{server_id}"))["server"]
    try:
        url = (await ctx.api.post("compute", f"/servers/{server_id}/remote-consoles", CONSOLE_REQUEST,
                                  headers=CONSOLE_VERSION))["remote_console"]["url"]
    except ApiError as error:
        return await ctx.render("console.html", title=f"Console of {server['name']}", server=server, tab="vnc",
                                unavailable=error.message)
    response = await ctx.render("console.html", title=f"Console of {server['name']}", server=server, tab="vnc",
                                url=url)
    parts = urlsplit(url)
    response.headers["Content-Security-Policy"] = csp_framing(f"{parts.scheme}://{parts.netloc}")
    return response


@page()
async def console_log(ctx: Ctx) -> Response:
    server_id = param(ctx, "id")
    server = (await ctx.api.get("compute", f"/servers/{server_id}"))["server"]
    output = await ctx.api.post("compute", f"/servers/{server_id}/action", {"os-getConsoleOutput": {"length": 500}})
    return await ctx.render("console.html", title=f"Console log of {server['name']}", server=server, tab="log",
                            output=output["output"])


SERVER_GROUP_POLICIES = ["anti-affinity", "affinity", "soft-anti-affinity", "soft-affinity"]


@page()
async def server_groups(ctx: Ctx) -> Response:
    listed = (await ctx.api.get("compute", "/os-server-groups"))["server_groups"]
    names = {s["id"]: s["name"] for s in (await ctx.api.get("compute", "/servers"))["servers"]}
    return await ctx.render("server_groups.html", title="Server groups", groups=listed, names=names,
                            policies=[(p, p) for p in SERVER_GROUP_POLICIES])


@page()
async def server_group_action(ctx: Ctx) -> Response:
    if ctx.field("action") == "delete":
        await ctx.api.delete("compute", f"/os-server-groups/{quoted(ctx.required('group_id', 'A server group'))}")
        return await ctx.redirect("/server-groups", "Server group deleted.")
    policy = ctx.required("policy", "A policy")
    if policy not in SERVER_GROUP_POLICIES:
        raise FormError(f"The policy must be one of {', '.join(SERVER_GROUP_POLICIES)}.")
    body = {"server_group": {"name": ctx.required("name", "A name"), "policies": [policy]}}
    await ctx.api.post("compute", "/os-server-groups", body)
    return await ctx.redirect("/server-groups", f"Server group {body['server_group']['name']} created.")


@page()
async def keypairs(ctx: Ctx) -> Response:
    listed = (await ctx.api.get("compute", "/os-keypairs"))["keypairs"]
    return await ctx.render("keypairs.html", title="Key pairs", keypairs=[k["keypair"] for k in listed])


@page()
async def create_keypair(ctx: Ctx) -> Response:
    """Import a public key, or let Nova generate the pair: its private key is shown on
    this one answer and never again (the dashboard keeps no copy)."""
    body: dict[str, Any] = {"name": ctx.required("name", "A name")}
    if ctx.field("public_key"):
        body["public_key"] = ctx.field("public_key")
    created = (await ctx.api.post("compute", "/os-keypairs", {"keypair": body}))["keypair"]
    if not created.get("private_key"):
        return await ctx.redirect("/keypairs", f"Key pair {created['name']} imported.")
    listed = (await ctx.api.get("compute", "/os-keypairs"))["keypairs"]
    return await ctx.render("keypairs.html", title="Key pairs", keypairs=[k["keypair"] for k in listed],
                            private_key=created["private_key"], created=created["name"])


@page()
async def delete_keypair(ctx: Ctx) -> Response:
    name = ctx.required("name", "A key pair")
    await ctx.api.delete("compute", f"/os-keypairs/{quoted(name)}")
    return await ctx.redirect("/keypairs", f"Key pair {name} deleted.")


ROUTES = [
    Route("/instances", instances), Route("/instances/rows", instance_rows),
    Route("/instances/launch", launch_form), Route("/instances/launch", launch, methods=["POST"]),
    Route("/instances/{id}", instance), Route("/instances/{id}/action", instance_action, methods=["POST"]),
    Route("/instances/{id}/attach", attach_volume, methods=["POST"]),
    Route("/instances/{id}/detach", detach_volume, methods=["POST"]),
    Route("/instances/{id}/interfaces", interface_action, methods=["POST"]),
    Route("/instances/{id}/console", console), Route("/instances/{id}/log", console_log),
    Route("/server-groups", server_groups), Route("/server-groups", server_group_action, methods=["POST"]),
    Route("/keypairs", keypairs), Route("/keypairs", create_keypair, methods=["POST"]),
    Route("/keypairs/delete", delete_keypair, methods=["POST"]),
]
