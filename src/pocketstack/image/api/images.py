"""``/v2/images``: create, list, show, JSON-patch update, delete, tags and actions."""

from __future__ import annotations

from pocketstack.common.api.request import ApiRequest, json_response
from pocketstack.common.api.routes import Router
from pocketstack.common.errors import BadRequest
from pocketstack.image import listing
from pocketstack.image.api import patch, render
from pocketstack.image.api.common import authorize_image
from pocketstack.image.api.lists import list_links
from pocketstack.image.manager import ImageManager

VISIBILITY_RULES = {"public": "publicize_image", "community": "communitize_image"}


def _authorize_visibility(req: ApiRequest, visibility, target: dict) -> None:
    """The extra rule a visibility needs; anything but a string needs none here, the
    schema check answers it with a 400."""
    rule = VISIBILITY_RULES.get(visibility) if isinstance(visibility, str) else None
    if rule:
        req.authorize(rule, target)


def register(router: Router, manager: ImageManager) -> None:
    @router.post("/v2/images")
    def create_image(req: ApiRequest):
        body = req.json()
        if not isinstance(body, dict):
            raise BadRequest("Provided object does not match schema 'image': the body must be a JSON object.")
        owner = body.get("owner", req.context.project_id)
        target = {"project_id": owner, "owner": owner, "visibility": body.get("visibility", "shared")}
        req.authorize("add_image", target)
        _authorize_visibility(req, body.get("visibility"), target)
        image = manager.create_image(req.context, **body)
        return json_response(render.image(image), status=201,
                             headers={"Location": f"{req.service_url}/v2/images/{image.id}"})

    @router.get("/v2/images")
    def list_images(req: ApiRequest):
        req.authorize("get_images", {"project_id": req.context.project_id})
        query = listing.parse(req.query)
        images = manager.list_images(req.context, query)
        return {"images": [render.image(i) for i in images], "schema": "/v2/schemas/images",
                **list_links(req, "/v2/images", len(images), query.paging.limit, images[-1].id if images else None)}

    @router.get("/v2/images/{image_id}")
    def show_image(req: ApiRequest):
        return render.image(authorize_image(req, manager, "get_image"))

    @router.patch("/v2/images/{image_id}")
    def update_image(req: ApiRequest):
        image = authorize_image(req, manager, "modify_image")
        changes = patch.decode(req)
        target = manager.policy_target(req.context, image)
        for change in changes:
            if change.name == "visibility" and change.value != image.visibility:
                _authorize_visibility(req, change.value, target)
        return render.image(manager.update_image(req.context, image.id, changes))

    @router.delete("/v2/images/{image_id}")
    def delete_image(req: ApiRequest):
        image = authorize_image(req, manager, "delete_image")
        manager.delete_image(req.context, image.id)

    @router.put("/v2/images/{image_id}/tags/{tag}")
    def add_tag(req: ApiRequest):
        image = authorize_image(req, manager, "modify_image")
        manager.add_tag(req.context, image.id, req.path_params["tag"])

    @router.delete("/v2/images/{image_id}/tags/{tag}")
    def delete_tag(req: ApiRequest):
        image = authorize_image(req, manager, "modify_image")
        manager.delete_tag(req.context, image.id, req.path_params["tag"])

    @router.post("/v2/images/{image_id}/actions/deactivate")
    def deactivate(req: ApiRequest):
        image = authorize_image(req, manager, "deactivate")
        manager.deactivate(req.context, image.id)

    @router.post("/v2/images/{image_id}/actions/reactivate")
    def reactivate(req: ApiRequest):
        image = authorize_image(req, manager, "reactivate")
        manager.reactivate(req.context, image.id)
