"""Object storage as its operator sees it, for the cloud's admins: each ring's devices,
zones, weights, partitions and balance (``swift-ring-builder``), and how many copies of
a sample of containers and objects are where the rings put them
(``swift-dispersion-report``).  Read from object storage's admin reports
(``/object-store/ring/<kind>``, ``/object-store/dispersion``), with the admin's token."""

from __future__ import annotations

from starlette.responses import Response
from starlette.routing import Route

from pocketstack.dashboard.web import Ctx, page

KINDS = ("account", "container", "object")
# The sample sizes the dispersion page offers (the API takes 1 to 1000).
SAMPLES = (100, 1000)


@page(admin=True)
async def rings(ctx: Ctx) -> Response:
    found = [(await ctx.api.get("object-cluster", f"/ring/{kind}"))["ring"] for kind in KINDS]
    return await ctx.render("admin_rings.html", title="Object storage rings", rings=found)


@page(admin=True)
async def dispersion(ctx: Ctx) -> Response:
    sample = ctx.request.query_params.get("sample", str(SAMPLES[0]))
    report = (await ctx.api.get("object-cluster", "/dispersion", sample=sample))["dispersion"]
    return await ctx.render("admin_dispersion.html", title="Object storage dispersion", report=report,
                            samples=SAMPLES)


ROUTES = [Route("/admin/rings", rings), Route("/admin/dispersion", dispersion)]
