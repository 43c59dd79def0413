"""Instance HA's history for the cloud's admins: each host failure the HA service (or an
external monitor) reported, how far its recovery went -- the host fenced, its compute
service disabled, each server evacuated -- and how each server's recovery ended.

Read from the instance-HA API (Masakari's v1, microversion 1.3: a notification shown
alone carries its ``recovery_workflow_details``, and its ``vmoves`` list the servers),
which is admin only, as the pages are (members get the 403 page).
"""

from __future__ import annotations

import contextlib
from typing import Any
from urllib.parse import urlencode

from starlette.responses import Response
from starlette.routing import Route

from pocketstack.dashboard.client import ApiError
from pocketstack.dashboard.pages.common import paged, param, quoted
from pocketstack.dashboard.web import Ctx, page

# Masakari's microversion that lists vmoves; the compute one whose hypervisor ids are the
# compute nodes' UUIDs (a notification's ``source_host_uuid``).
HA_VERSION = {"OpenStack-API-Version": "instance-ha 1.3"}
HYPERVISOR_UUIDS = {"OpenStack-API-Version": "compute 2.53"}
# The list's filters: Masakari's query parameters, and the values it takes of the last two.
FILTERS = ("source_host_uuid", "type", "status")
TYPES = ("COMPUTE_HOST", "VM", "PROCESS")
STATUSES = ("new", "running", "error", "failed", "ignored", "finished")


def _by_uuid(notification: dict[str, Any]) -> str:
    return str(notification["notification_uuid"])


async def _host_names(ctx: Ctx) -> dict[str, str]:
    """Compute node UUID -> its host's name (what a notification names its host by)."""
    listed = await ctx.api.get("compute", "/os-hypervisors", headers=HYPERVISOR_UUIDS)
    return {h["id"]: h["hypervisor_hostname"] for h in listed["hypervisors"]}


@page(admin=True)
async def notifications(ctx: Ctx) -> Response:
    """Every failure reported, newest first (Masakari's order), a page at a time; only
    those of one host, type or status when the filter form says so (Masakari's own
    filters, kept in the Previous and Next links).  A filter the API refuses is its
    message."""
    query = ctx.request.query_params
    filters = {name: query[name] for name in FILTERS if query.get(name)}
    listed = await paged(ctx, "instance-ha", "/notifications", "notifications", marker=_by_uuid,
                         headers=HA_VERSION, **filters)
    hosts = await _host_names(ctx)
    return await ctx.render("ha_notifications.html", title="Instance HA", notifications=listed.items,
                            page=listed, hosts=hosts, filters=filters, keep=urlencode(filters),
                            host_choices=sorted(hosts.items(), key=lambda pair: pair[1]),
                            type_choices=[(t, t) for t in TYPES], status_choices=[(s, s) for s in STATUSES])


@page(admin=True)
async def notification(ctx: Ctx) -> Response:
    """One failure: its recovery's steps with their progress lines, and each server's
    recovery (from where to where, its outcome and Nova's or the HA service's reason)."""
    path = f"/notifications/{param(ctx, 'id')}"
    found = (await ctx.api.get("instance-ha", path, headers=HA_VERSION))["notification"]
    moves = (await ctx.api.get("instance-ha", f"{path}/vmoves", headers=HA_VERSION))["vmoves"]
    names: dict[str, str] = {}
    for move in moves:
        with contextlib.suppress(ApiError):  # a server deleted since is shown by its id
            server = (await ctx.api.get("compute", f"/servers/{quoted(move['instance_uuid'])}"))["server"]
            names[move["instance_uuid"]] = server["name"]
    host = (await _host_names(ctx)).get(found["source_host_uuid"], found["source_host_uuid"])
    return await ctx.render("ha_notification.html", title=f"Host failure of {host}", notification=found,
                            host=host, vmoves=moves, names=names)


ROUTES = [Route("/admin/instance-ha", notifications), Route("/admin/instance-ha/{id}", notification)]
