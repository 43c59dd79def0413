"""Object storage: containers, browsing by prefix, upload and download, public or private."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import quote, urlencode

from starlette.datastructures import UploadFile
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route

from pocketstack.dashboard.pages.common import param, quoted
from pocketstack.dashboard.pages.storage import upload_chunks
from pocketstack.dashboard.web import Ctx, FormError, NoSuchAction, page

# Anyone may read the objects and list the container (Swift's container ACL syntax).
PUBLIC_READ = ".r:*,.rlistings"
# The longest a shared link (TempURL) may live: a week.
TEMP_URL_MAX_MINUTES = 7 * 24 * 60


async def _listing(ctx: Ctx, path: str, **params: Any) -> list[dict[str, Any]]:
    response = await ctx.api.call("GET", "object", path, params={"format": "json", **params})
    return response.json() if response.content else []


@page()
async def containers(ctx: Ctx) -> Response:
    return await ctx.render("containers.html", title="Containers", containers=await _listing(ctx, ""))


@page()
async def create_container(ctx: Ctx) -> Response:
    name = ctx.required("name", "A name")
    if "/" in name:
        raise FormError("A container name cannot contain '/'.")
    headers = {"X-Container-Read": PUBLIC_READ} if ctx.field("public") == "on" else {}
    await ctx.api.call("PUT", "object", f"/{quoted(name)}", headers=headers)
    return await ctx.redirect("/containers", f"Container {name} created.")


@page()
async def container(ctx: Ctx) -> Response:
    return await _container_page(ctx, ctx.request.query_params.get("prefix", ""))


async def _container_page(ctx: Ctx, prefix: str, **extra: Any) -> Response:
    """One level of a container: objects and the pseudo-folders below ``prefix``."""
    name = ctx.request.path_params["name"]
    head = await ctx.api.call("HEAD", "object", f"/{param(ctx, 'name')}")
    entries = await _listing(ctx, f"/{param(ctx, 'name')}", prefix=prefix, delimiter="/")
    parts = [part for part in prefix.split("/") if part]
    parents = [(part, "/".join(parts[:i + 1]) + "/") for i, part in enumerate(parts)]
    return await ctx.render("container.html", title=f"Container {name}", name=name, path_prefix=prefix, parents=parents,
                            folders=[e["subdir"] for e in entries if "subdir" in e],
                            objects=[e for e in entries if "name" in e],
                            public=".r:" in head.headers.get("x-container-read", ""),
                            qs=lambda **q: urlencode(q), **extra)


@page()
async def download(ctx: Ctx) -> Response:
    """Stream an object to the browser, as an attachment (never rendered inline)."""
    obj = ctx.request.query_params.get("object", "")
    if not obj:
        raise FormError("Which object?")
    path = f"/{param(ctx, 'name')}/{quote(obj)}"
    head = await ctx.api.call("HEAD", "object", path)
    token, cloud, url = ctx.login.token, ctx.dashboard.cloud, ctx.api.url("object", path)

    async def body() -> AsyncIterator[bytes]:
        async with cloud.api_client(token) as http, http.stream("GET", url) as response:
            async for chunk in response.aiter_bytes():
                yield chunk

    filename = quote(obj.rsplit("/", 1)[-1])
    return StreamingResponse(body(), media_type="application/octet-stream", headers={
        "Content-Length": head.headers.get("content-length", "0"),
        "Content-Disposition": f"attachment; filename*=UTF-8''{filename}"})


@page()
async def container_action(ctx: Ctx) -> Response:
    name, action = param(ctx, "name"), ctx.required("action", "An action")
    back = ctx.back()
    if action == "upload":
        assert ctx.form is not None
        upload = ctx.form.get("file")
        if not isinstance(upload, UploadFile) or not upload.filename:
            raise FormError("Choose a file to upload.")
        obj = ctx.field("prefix") + (ctx.field("object_name") or upload.filename)
        await ctx.api.call("PUT", "object", f"/{name}/{quote(obj)}", content=upload_chunks(upload),
                           headers={"Content-Type": upload.content_type or "application/octet-stream"})
        return await ctx.redirect(back, f"Uploaded {obj}.")
    if action == "delete-object":
        obj = ctx.required("object", "An object")
        await ctx.api.delete("object", f"/{name}/{quote(obj)}")
        return await ctx.redirect(back, f"Deleted {obj}.")
    if action in ("make-public", "make-private"):
        read = PUBLIC_READ if action == "make-public" else ""
        await ctx.api.call("POST", "object", f"/{name}", headers={"X-Container-Read": read})
        return await ctx.redirect(back, f"The container is now {action.split('-')[1]}.")
    if action == "tempurl":
        return await _temp_url(ctx, ctx.request.path_params["name"], ctx.required("object", "An object"))
    if action == "delete":
        await ctx.api.delete("object", f"/{name}")
        return await ctx.redirect("/containers", "Container deleted.")
    raise NoSuchAction(action)


async def _temp_url(ctx: Ctx, container: str, obj: str) -> Response:
    """A link that lets anyone GET one object until it expires (Swift's TempURL), signed
    with the container's own key (made here on first use; it opens nothing else)."""
    minutes = ctx.integer("minutes", "The lifetime in minutes", 1, default=60)
    if minutes > TEMP_URL_MAX_MINUTES:
        raise FormError(f"A link may live at most {TEMP_URL_MAX_MINUTES} minutes.")
    head = await ctx.api.call("HEAD", "object", f"/{quoted(container)}")
    key = head.headers.get("x-container-meta-temp-url-key")
    if not key:
        key = secrets.token_hex(20)
        await ctx.api.call("POST", "object", f"/{quoted(container)}", headers={"X-Container-Meta-Temp-URL-Key": key})
    expires = int(time.time()) + 60 * minutes
    path = f"/v1/AUTH_{ctx.login.project_id}/{container}/{obj}"
    signature = hmac.new(key.encode(), f"GET\n{expires}\n{path}".encode(), hashlib.sha256).hexdigest()
    where = ctx.api.url("object", f"/{quoted(container)}/{quote(obj)}")
    query = urlencode({"temp_url_sig": signature, "temp_url_expires": expires})
    url = f"{ctx.dashboard.cloud.settings.effective_public_url}{where}?{query}"
    prefix = obj.rsplit("/", 1)[0] + "/" if "/" in obj else ""
    return await _container_page(ctx, prefix, shared={"object": obj, "url": url, "minutes": minutes})


ROUTES = [
    Route("/containers", containers), Route("/containers", create_container, methods=["POST"]),
    Route("/containers/{name}", container), Route("/containers/{name}/download", download),
    Route("/containers/{name}/action", container_action, methods=["POST"]),
]
