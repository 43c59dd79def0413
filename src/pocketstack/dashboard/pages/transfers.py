"""Volume transfers (Cinder's ``/os-volume-transfer``), as Horizon offers them: the owner
creates a transfer of an available volume and is shown its id and authorization key once
(Cinder never shows the key again); a user of another project accepts it with both, and
the volume becomes that project's; a pending transfer can be deleted (cancelled).
"""

from __future__ import annotations

from typing import Any

from starlette.responses import Response
from starlette.routing import Route

from pocketstack.dashboard.pages.common import quoted
from pocketstack.dashboard.web import Ctx, NoSuchAction, page

PATH = "/os-volume-transfer"


async def _show(ctx: Ctx, created: dict[str, Any] | None = None) -> Response:
    listed = (await ctx.api.get("volume", f"{PATH}/detail"))["transfers"]
    return await ctx.render("transfers.html", title="Volume transfers", transfers=listed, created=created)


@page()
async def transfers(ctx: Ctx) -> Response:
    return await _show(ctx)


@page()
async def create_transfer(ctx: Ctx) -> Response:
    """The transfer of this volume; the answer is the one page that shows its key."""
    transfer: dict[str, Any] = {"volume_id": ctx.request.path_params["id"]}
    if ctx.field("transfer_name"):
        transfer["name"] = ctx.field("transfer_name")
    body = {"transfer": transfer}
    created = (await ctx.api.post("volume", PATH, body))["transfer"]
    return await _show(ctx, created)


@page()
async def transfer_action(ctx: Ctx) -> Response:
    """Accept a transfer (its id and key, given by the volume's owner) or delete one."""
    action = ctx.required("action", "An action")
    transfer_id = quoted(ctx.required("transfer_id", "The transfer id"))
    if action == "accept":
        body = {"accept": {"auth_key": ctx.required("auth_key", "The authorization key")}}
        accepted = (await ctx.api.post("volume", f"{PATH}/{transfer_id}/accept", body))["transfer"]
        return await ctx.redirect(f"/volumes/{accepted['volume_id']}", "Transfer accepted: the volume is yours.")
    if action == "delete":
        await ctx.api.delete("volume", f"{PATH}/{transfer_id}")
        return await ctx.redirect("/volumes/transfers", "Transfer deleted.")
    raise NoSuchAction(action)


ROUTES = [
    Route("/volumes/transfers", transfers), Route("/volumes/transfers", transfer_action, methods=["POST"]),
    Route("/volumes/{id}/transfer", create_transfer, methods=["POST"]),
]
