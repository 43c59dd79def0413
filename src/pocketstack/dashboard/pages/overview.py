"""The project's overview: quota usage of compute, block storage and network, what
failed lately, and the latest instance actions (Nova's ``os-instance-actions``)."""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from typing import Any

from starlette.responses import Response
from starlette.routing import Route

from pocketstack.dashboard import charts
from pocketstack.dashboard.client import ApiError
from pocketstack.dashboard.web import Ctx, page


@page()
async def overview(ctx: Ctx) -> Response:
    project = ctx.login.project_id
    sources: list[tuple[str, str, str, Callable[[Any], list[charts.Bar]]]] = [
        ("Compute", "compute", "/limits", lambda b: charts.compute_bars(b["limits"]["absolute"])),
        ("Block storage", "volume", "/limits", lambda b: charts.volume_bars(b["limits"]["absolute"])),
        ("Network", "network", f"/quotas/{project}/details", lambda b: charts.network_bars(b["quota"])),
    ]
    groups, unavailable = [], {}
    for label, service, path, bars in sources:
        try:
            groups.append((label, bars(await ctx.api.get(service, path))))
        except ApiError as error:  # one service down or forbidden: the others still show
            groups.append((label, []))
            unavailable[label] = error.message
    return await ctx.render("overview.html", title="Overview", groups=groups, unavailable=unavailable,
                            failures=await failures(ctx), activity=await activity(ctx))


# How many of the latest failures, and of the latest instance actions, the overview lists.
FAILURES_SHOWN = 10
ACTIONS_SHOWN = 10


async def failures(ctx: Ctx) -> list[dict[str, str]]:
    """What went wrong lately in the project, newest first: instances in ERROR (with
    Nova's fault), volumes in error, and Cinder's user messages (what failed and why)."""
    found: list[dict[str, str]] = []
    with contextlib.suppress(ApiError):
        for server in (await ctx.api.get("compute", "/servers/detail", status="ERROR"))["servers"]:
            fault = server.get("fault") or {}
            found.append({"when": fault.get("created") or server["updated"], "what": f"Instance {server['name']}",
                          "why": fault.get("message") or "in ERROR", "link": f"/instances/{server['id']}"})
    with contextlib.suppress(ApiError):
        for volume in (await ctx.api.get("volume", "/volumes/detail", status="error"))["volumes"]:
            found.append({"when": volume.get("updated_at") or volume["created_at"],
                          "what": f"Volume {volume['name'] or volume['id']}", "why": "in error",
                          "link": f"/volumes/{volume['id']}"})
    with contextlib.suppress(ApiError):
        listed = await ctx.api.get("volume", "/messages", headers={"OpenStack-API-Version": "volume 3.3"})
        for message in listed["messages"]:
            found.append({"when": message["created_at"], "what": f"{message['resource_type'].title()} "
                                                                 f"{message.get('resource_uuid') or ''}".strip(),
                          "why": message["user_message"], "link": ""})
    return sorted(found, key=lambda f: f["when"] or "", reverse=True)[:FAILURES_SHOWN]


async def activity(ctx: Ctx) -> list[dict[str, str]]:
    """The project's latest instance actions, newest first: Nova's action log
    (``os-instance-actions``: create, stop, reboot, resize, ... by whom, and the error
    when one failed) of the instances changed last."""
    found: list[dict[str, str]] = []
    with contextlib.suppress(ApiError):
        servers = (await ctx.api.get("compute", "/servers", sort_key="updated_at", sort_dir="desc",
                                     limit=ACTIONS_SHOWN))["servers"]
        for server in servers:
            actions = await ctx.api.get("compute", f"/servers/{server['id']}/os-instance-actions")
            for action in actions["instanceActions"]:
                found.append({"when": action["start_time"] or "", "action": action["action"],
                              "instance": server["name"], "link": f"/instances/{server['id']}",
                              "user": action.get("user_id") or "", "message": action.get("message") or ""})
    return sorted(found, key=lambda a: a["when"], reverse=True)[:ACTIONS_SHOWN]


ROUTES = [Route("/overview", overview)]
