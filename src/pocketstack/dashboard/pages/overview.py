"""The project's overview: quota usage of compute, block storage and network."""

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
                            failures=await failures(ctx))


# How many of the latest failures the overview lists.
FAILURES_SHOWN = 10


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


ROUTES = [Route("/overview", overview)]
