"""``/v2/images/{image_id}/members``: sharing an image with other projects.

Policy targets: the owner's project for what the owner does (add, remove, list all);
the member's own project for what a member does with its membership (show, accept,
reject), so ``project_id:%(project_id)s`` rules mean "acting for that project".
"""

from __future__ import annotations

from pocketstack.common.api.request import ApiRequest
from pocketstack.common.api.routes import Router
from pocketstack.common.errors import BadRequest
from pocketstack.image.api import render
from pocketstack.image.api.common import authorize_image
from pocketstack.image.manager import ImageManager


def _as_member_target(req: ApiRequest, manager: ImageManager, rule: str, member_id: str | None = None):
    image = manager.get_image(req.context, req.path_params["image_id"])
    target = manager.policy_target(req.context, image)
    acting_member = member_id or target["member_id"]
    if acting_member and acting_member == req.context.project_id and image.owner != req.context.project_id:
        target = dict(target, project_id=acting_member)
    req.authorize(rule, target)
    return image


def register(router: Router, manager: ImageManager) -> None:
    members = manager.members

    @router.post("/v2/images/{image_id}/members")
    def add_member(req: ApiRequest):
        image = authorize_image(req, manager, "add_member")
        body = req.json()
        member_id = body.get("member") if isinstance(body, dict) else None
        if member_id is None:
            raise BadRequest("Member to be added not specified")
        if not isinstance(member_id, str) or not member_id or len(member_id) > 255 or "\x00" in member_id:
            raise BadRequest("Member can't be empty and must be a string of at most 255 characters")
        return render.member(members.add_member(req.context, image.id, member_id))

    @router.get("/v2/images/{image_id}/members")
    def list_members(req: ApiRequest):
        image = _as_member_target(req, manager, "get_members")
        return {"members": [render.member(x) for x in members.list_members(req.context, image.id)],
                "schema": "/v2/schemas/members"}

    @router.get("/v2/images/{image_id}/members/{member_id}")
    def show_member(req: ApiRequest):
        member_id = req.path_params["member_id"]
        image = _as_member_target(req, manager, "get_member", member_id)
        return render.member(members.get_member(req.context, image.id, member_id))

    @router.put("/v2/images/{image_id}/members/{member_id}")
    def update_member(req: ApiRequest):
        member_id = req.path_params["member_id"]
        image = _as_member_target(req, manager, "modify_member", member_id)
        body = req.json()
        status = body.get("status") if isinstance(body, dict) else None
        if status is None:
            raise BadRequest("Status not specified")
        if not isinstance(status, str):
            raise BadRequest(f"Invalid status: {status}")
        return render.member(members.update_member(req.context, image.id, member_id, status))

    @router.delete("/v2/images/{image_id}/members/{member_id}")
    def delete_member(req: ApiRequest):
        image = authorize_image(req, manager, "delete_member")
        members.delete_member(req.context, image.id, req.path_params["member_id"])
