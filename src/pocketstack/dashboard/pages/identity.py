"""The logged-in user's own identity: application credentials (what scripts and the
dashboard's credential login use instead of a password)."""

from __future__ import annotations

from typing import Any

from starlette.responses import Response
from starlette.routing import Route

from pocketstack.dashboard.pages.common import quoted
from pocketstack.dashboard.web import Ctx, page


def _path(ctx: Ctx, credential_id: str = "") -> str:
    base = f"/users/{quoted(ctx.login.user_id)}/application_credentials"
    return f"{base}/{quoted(credential_id)}" if credential_id else base


async def _listed(ctx: Ctx) -> list[dict[str, Any]]:
    return sorted((await ctx.api.get("identity", _path(ctx)))["application_credentials"], key=lambda c: c["name"])


@page()
async def credentials(ctx: Ctx) -> Response:
    return await ctx.render("credentials.html", title="Application credentials", credentials=await _listed(ctx))


@page()
async def credential_action(ctx: Ctx) -> Response:
    """Create (its secret is shown on this one answer, never again) or delete."""
    if ctx.field("action") == "delete":
        await ctx.api.delete("identity", _path(ctx, ctx.required("credential_id", "A credential")))
        return await ctx.redirect("/credentials", "Application credential deleted.")
    body: dict[str, Any] = {"name": ctx.required("name", "A name"), "description": ctx.field("description")}
    if ctx.field("expires_at"):
        body["expires_at"] = ctx.field("expires_at")
    created = (await ctx.api.post("identity", _path(ctx), {"application_credential": body}))[
        "application_credential"]
    return await ctx.render("credentials.html", title="Application credentials", credentials=await _listed(ctx),
                            created=created)


ROUTES = [Route("/credentials", credentials), Route("/credentials", credential_action, methods=["POST"])]
