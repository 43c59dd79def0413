"""Volumes (create, extend, attach/detach, snapshots, backups, delete), their snapshots and
backups (each its own paged list, as Horizon's panels) and images (list, upload with
progress, visibility, sharing, delete)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from starlette.datastructures import UploadFile
from starlette.responses import Response
from starlette.routing import Route

from pocketstack.dashboard.client import ApiError
from pocketstack.dashboard.pages.common import choices, paged, param, quoted
from pocketstack.dashboard.pages.image_properties import custom_properties, edit_image
from pocketstack.dashboard.web import Ctx, FormError, NoSuchAction, page

DISK_FORMATS = ["raw", "qcow2", "vmdk", "vdi", "iso", "vhd", "vhdx", "ploop", "aki", "ari", "ami"]
VISIBILITIES = ["private", "shared", "community", "public"]
CHUNK = 1 << 20
# Image fields the detail page leaves out of its property table (shown elsewhere, or noise).
IMAGE_HIDDEN = {"name", "id", "self", "file", "schema", "locations", "direct_url"}


@page()
async def volumes(ctx: Ctx) -> Response:
    listed = await paged(ctx, "volume", "/volumes/detail", "volumes")
    images = (await ctx.api.get("image", "/images", status="active"))["images"]
    return await ctx.render("volumes.html", title="Volumes", volumes=listed.items, page=listed,
                            images=choices(images))


async def _volume_names(ctx: Ctx) -> dict[str, str]:
    return {v["id"]: v["name"] or v["id"] for v in (await ctx.api.get("volume", "/volumes"))["volumes"]}


@page()
async def snapshots(ctx: Ctx) -> Response:
    listed = await paged(ctx, "volume", "/snapshots/detail", "snapshots")
    return await ctx.render("snapshots.html", title="Volume snapshots", snapshots=listed.items, page=listed,
                            names=await _volume_names(ctx))


@page()
async def backups(ctx: Ctx) -> Response:
    listed = await paged(ctx, "volume", "/backups/detail", "backups")
    return await ctx.render("backups.html", title="Volume backups", backups=listed.items, page=listed,
                            names=await _volume_names(ctx))


@page()
async def create_volume(ctx: Ctx) -> Response:
    body: dict[str, Any] = {"name": ctx.required("name", "A name"), "size": ctx.integer("size", "The size", 1)}
    if ctx.field("image"):
        body["imageRef"] = ctx.field("image")
    if ctx.field("description"):
        body["description"] = ctx.field("description")
    await ctx.api.post("volume", "/volumes", {"volume": body})
    return await ctx.redirect("/volumes", f"Volume {body['name']} is being created.")


@page()
async def volume(ctx: Ctx) -> Response:
    found = (await ctx.api.get("volume", f"/volumes/{param(ctx, 'id')}"))["volume"]
    servers = (await ctx.api.get("compute", "/servers"))["servers"]
    return await ctx.render("volume.html", title=f"Volume {found['name'] or found['id']}", volume=found,
                            servers=choices(servers), server_names={s["id"]: s["name"] for s in servers})


@page()
async def volume_action(ctx: Ctx) -> Response:
    """extend, snapshot, attach, detach, delete: one form each on the volume's page."""
    volume_id, action = param(ctx, "id"), ctx.required("action", "An action")
    here = f"/volumes/{volume_id}"
    if action == "extend":
        size = ctx.integer("size", "The new size", 1)
        await ctx.api.post("volume", f"{here}/action", {"os-extend": {"new_size": size}})
        return await ctx.redirect(here, f"Extending to {size} GB.")
    if action == "snapshot":
        body = {"snapshot": {"volume_id": ctx.request.path_params["id"], "name": ctx.required("name", "A name"),
                             "force": ctx.field("force") == "on"}}
        await ctx.api.post("volume", "/snapshots", body)
        return await ctx.redirect("/snapshots", f"Snapshot {body['snapshot']['name']} is being created.")
    if action == "backup":
        body = {"backup": {"volume_id": ctx.request.path_params["id"],
                           "name": ctx.required("backup_name", "A backup name"),
                           "incremental": ctx.field("incremental") == "on", "force": ctx.field("force") == "on"}}
        await ctx.api.post("volume", "/backups", body)
        return await ctx.redirect("/backups", f"Backup {body['backup']['name']} is being created.")
    if action == "attach":
        server = ctx.required("server_id", "An instance")
        await ctx.api.post("compute", f"/servers/{server}/os-volume_attachments",
                           {"volumeAttachment": {"volumeId": ctx.request.path_params["id"]}})
        return await ctx.redirect(here, "The volume is being attached.")
    if action == "detach":
        server = ctx.required("server_id", "An instance")
        await ctx.api.delete("compute", f"/servers/{server}/os-volume_attachments/{volume_id}")
        return await ctx.redirect(here, "The volume is being detached.")
    if action == "delete":
        await ctx.api.delete("volume", here)
        return await ctx.redirect("/volumes", "The volume is being deleted.")
    raise NoSuchAction(action)


@page()
async def delete_snapshot(ctx: Ctx) -> Response:
    await ctx.api.delete("volume", f"/snapshots/{param(ctx, 'id')}")
    return await ctx.redirect("/snapshots", "The snapshot is being deleted.")


@page()
async def backup_action(ctx: Ctx) -> Response:
    """Restore a backup into a new volume, or delete it."""
    backup_id, action = param(ctx, "id"), ctx.required("action", "An action")
    if action == "restore":
        restored = (await ctx.api.post("volume", f"/backups/{backup_id}/restore",
                                       {"restore": {"name": ctx.field("name") or None}}))["restore"]
        return await ctx.redirect(f"/volumes/{restored['volume_id']}", "Restoring the backup into this volume.")
    if action == "delete":
        await ctx.api.delete("volume", f"/backups/{backup_id}")
        return await ctx.redirect("/backups", "The backup is being deleted.")
    raise NoSuchAction(action)


@page()
async def images(ctx: Ctx) -> Response:
    listed = await paged(ctx, "image", "/images", "images")
    offered = (await ctx.api.get("image", "/images", visibility="shared", member_status="pending"))["images"]
    return await ctx.render("images.html", title="Images", images=listed.items, page=listed,
                            offered=offered,
                            disk_formats=[(f, f) for f in DISK_FORMATS],
                            visibilities=[(v, v) for v in VISIBILITIES])


async def upload_chunks(upload: UploadFile) -> AsyncIterator[bytes]:
    """A submitted file, read in chunks (Starlette spooled it to disk if large)."""
    while chunk := await upload.read(CHUNK):
        yield chunk


@page()
async def upload_image(ctx: Ctx) -> Response:
    """Create the image record, then stream the file into it; an upload that fails
    leaves no empty record behind."""
    assert ctx.form is not None
    upload = ctx.form.get("file")
    if not isinstance(upload, UploadFile) or not upload.filename:
        raise FormError("Choose an image file to upload.")
    body = {"name": ctx.required("name", "A name"), "disk_format": ctx.required("disk_format", "A disk format"),
            "container_format": "bare", "visibility": ctx.field("visibility") or "private"}
    created = await ctx.api.post("image", "/images", body)
    try:
        await ctx.api.call("PUT", "image", f"/images/{created['id']}/file", content=upload_chunks(upload),
                           headers={"Content-Type": "application/octet-stream"})
    except ApiError:
        await ctx.api.delete("image", f"/images/{created['id']}")
        raise
    return await ctx.redirect("/images", f"Image {body['name']} uploaded.")


@page()
async def image(ctx: Ctx) -> Response:
    found = await ctx.api.get("image", f"/images/{param(ctx, 'id')}")
    mine = found["owner"] == ctx.login.project_id
    members = (await ctx.api.get("image", f"/images/{param(ctx, 'id')}/members"))["members"] \
        if mine and found["visibility"] == "shared" else []
    shown = {k: v for k, v in found.items() if k not in IMAGE_HIDDEN and v not in (None, "", [])}
    return await ctx.render("image.html", title=f"Image {found.get('name') or found['id']}", image=found,
                            properties=sorted(shown.items()), mine=mine, members=members,
                            custom=custom_properties(found),
                            visibilities=[(v, v) for v in VISIBILITIES])


@page()
async def image_action(ctx: Ctx) -> Response:
    """Change visibility, share with a project (and stop), accept or decline a share."""
    image_id, action = param(ctx, "id"), ctx.required("action", "An action")
    here = f"/images/{image_id}"
    if action == "visibility":
        visibility = ctx.required("visibility", "A visibility")
        patch = [{"op": "replace", "path": "/visibility", "value": visibility}]
        await ctx.api.call("PATCH", "image", here, json=patch,
                           headers={"Content-Type": "application/openstack-images-v2.1-json-patch"})
        return await ctx.redirect(here, f"The image is now {visibility}.")
    if action == "add-member":
        await ctx.api.post("image", f"{here}/members", {"member": ctx.required("project_id", "A project id")})
        return await ctx.redirect(here, "Shared; the project sees it once it accepts.")
    if action == "remove-member":
        await ctx.api.delete("image", f"{here}/members/{quoted(ctx.required('project_id', 'A project id'))}")
        return await ctx.redirect(here, "No longer shared with that project.")
    if action in ("accept", "reject"):
        await ctx.api.put("image", f"{here}/members/{quoted(ctx.login.project_id)}",
                          {"status": "accepted" if action == "accept" else "rejected"})
        return await ctx.redirect("/images", f"Share {action}ed.")
    raise NoSuchAction(action)


@page()
async def delete_image(ctx: Ctx) -> Response:
    await ctx.api.delete("image", f"/images/{param(ctx, 'id')}")
    return await ctx.redirect("/images", "The image was deleted.")


ROUTES = [
    Route("/volumes", volumes), Route("/volumes", create_volume, methods=["POST"]),
    Route("/volumes/{id}", volume), Route("/volumes/{id}/action", volume_action, methods=["POST"]),
    Route("/snapshots", snapshots), Route("/snapshots/{id}/delete", delete_snapshot, methods=["POST"]),
    Route("/backups", backups), Route("/backups/{id}/action", backup_action, methods=["POST"]),
    Route("/images", images), Route("/images", upload_image, methods=["POST"]),
    Route("/images/{id}", image), Route("/images/{id}/action", image_action, methods=["POST"]),
    Route("/images/{id}/edit", edit_image, methods=["POST"]),
    Route("/images/{id}/delete", delete_image, methods=["POST"]),
]
