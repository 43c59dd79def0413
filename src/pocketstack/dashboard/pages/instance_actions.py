"""An instance's action log (Nova's ``os-instance-actions``: create, stop, resize, ... by
whom, when, and Nova's error when one failed) and one action's detail with its events:
each step Nova took (``compute_stop_instance``, ...), when it started and finished, and
its result.

The detail is asked for at microversion 2.51, from which Nova shows an action's events
to every user who may see the action (before it, to admins only); an event's traceback
stays behind Nova's policy (admins by default), so the page shows one only when Nova
sent it."""

from __future__ import annotations

from typing import Any

from starlette.responses import Response
from starlette.routing import Route

from pocketstack.dashboard.pages.common import param
from pocketstack.dashboard.web import Ctx, page

EVENTS_VERSION = {"OpenStack-API-Version": "compute 2.51"}


async def action_log(ctx: Ctx, server_id: str) -> list[dict[str, Any]]:
    """The server's actions, newest first (Nova's order)."""
    return list((await ctx.api.get("compute", f"/servers/{server_id}/os-instance-actions"))["instanceActions"])


@page()
async def instance_action(ctx: Ctx) -> Response:
    server_id, request_id = param(ctx, "id"), param(ctx, "request_id")
    server = (await ctx.api.get("compute", f"/servers/{server_id}"))["server"]
    action = (await ctx.api.get("compute", f"/servers/{server_id}/os-instance-actions/{request_id}",
                                headers=EVENTS_VERSION))["instanceAction"]
    return await ctx.render("instance_action.html", title=f"Action {action['action']} of {server['name']}",
                            server=server, action=action, events=action.get("events") or [])


ROUTES = [Route("/instances/{id}/actions/{request_id}", instance_action)]
