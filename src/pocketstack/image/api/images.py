"""``/v2/images``: create, list, show, JSON-patch update, delete, tags and actions."""

from __future__ import annotations

from typing import Any

from pocketstack.common.api.request import ApiRequest, json_response
from pocketstack.common.api.routes import route
from pocketstack.image import errors, listing
from pocketstack.image.api import patch, render
from pocketstack.image.api.common import authorize_image
from pocketstack.image.api.lists import list_links
from pocketstack.image.manager import ImageManager

IMAGES = "/v2/images"
IMAGE = "/v2/images/{image_id}"
VISIBILITY_RULES = {"public": "publicize_image", "community": "communitize_image"}


def visibility_rule(visibility: Any) -> str | None:
    """The extra rule a visibility needs; anything but a string needs none here, the
    schema check answers it with a 400."""
    return VISIBILITY_RULES.get(visibility) if isinstance(visibility, str) else None


def create_target(body: dict[str, Any], project_id: str | None) -> dict[str, Any]:
    """What ``add_image`` is checked against: the owner the new image will have."""
    owner = body.get("owner", project_id)
    return {"project_id": owner, "owner": owner, "visibility": body.get("visibility", "shared")}


def _authorize_visibility(req: ApiRequest, visibility: Any, target: dict) -> None:
    rule = visibility_rule(visibility)
    if rule:
        req.authorize(rule, target)


class ImagesApi:
    def __init__(self, manager: ImageManager):
        self.manager = manager

    @route.post(IMAGES, policy="add_image", status=201)
    def create(self, req: ApiRequest):
        # Authorised before the body is checked against the image schema (in the
        # manager), as Glance does: no body= declaration.
        body = req.json()
        if not isinstance(body, dict):
            raise errors.ImageBodyNotObject()
        target = create_target(body, req.caller.project_id)
        req.authorize("add_image", target)
        _authorize_visibility(req, body.get("visibility"), target)
        image = self.manager.create_image(req.caller, **body)
        return json_response(render.image(image), status=201,
                             headers={"Location": f"{req.service_url}/v2/images/{image.id}",
                                      "OpenStack-image-import-methods": ",".join(self.manager.importer.methods)})

    @route.get(IMAGES, policy="get_images")
    def index(self, req: ApiRequest) -> dict:
        req.authorize("get_images", {"project_id": req.caller.project_id})
        query = listing.parse(req.query)
        images = self.manager.list_images(req.caller, query)
        return {"images": [render.image(i) for i in images], "schema": "/v2/schemas/images",
                **list_links(req, IMAGES, len(images), query.paging.limit, images[-1].id if images else None)}

    @route.get(IMAGE, policy="get_image")
    def show(self, req: ApiRequest) -> dict:
        return render.image(authorize_image(req, self.manager, "get_image"))

    @route.patch(IMAGE, policy="modify_image")
    def update(self, req: ApiRequest) -> dict:
        image = authorize_image(req, self.manager, "modify_image")
        changes = patch.decode(patch.media_type(req.headers.get("content-type")), req.json())
        target = self.manager.policy_target(req.caller, image)
        for change in changes:
            if change.name == "visibility" and change.value != image.visibility:
                _authorize_visibility(req, change.value, target)
        return render.image(self.manager.update_image(req.caller, image.id, changes))

    @route.delete(IMAGE, policy="delete_image")
    def delete(self, req: ApiRequest) -> None:
        image = authorize_image(req, self.manager, "delete_image")
        self.manager.delete_image(req.caller, image.id)

    @route.put(IMAGE + "/tags/{tag}", policy="modify_image")
    def add_tag(self, req: ApiRequest) -> None:
        image = authorize_image(req, self.manager, "modify_image")
        self.manager.add_tag(req.caller, image.id, req.path_params["tag"])

    @route.delete(IMAGE + "/tags/{tag}", policy="modify_image")
    def delete_tag(self, req: ApiRequest) -> None:
        image = authorize_image(req, self.manager, "modify_image")
        self.manager.delete_tag(req.caller, image.id, req.path_params["tag"])

    @route.post(IMAGE + "/actions/deactivate", policy="deactivate")
    def deactivate(self, req: ApiRequest) -> None:
        image = authorize_image(req, self.manager, "deactivate")
        self.manager.deactivate(req.caller, image.id)

    @route.post(IMAGE + "/actions/reactivate", policy="reactivate")
    def reactivate(self, req: ApiRequest) -> None:
        image = authorize_image(req, self.manager, "reactivate")
        self.manager.reactivate(req.caller, image.id)
