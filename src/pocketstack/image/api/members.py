"""``/v2/images/{image_id}/members``: sharing an image with other projects.

Policy targets: the owner's project for what the owner does (add, remove, list all);
the member's own project for what a member does with its membership (show, accept,
reject), so ``project_id:%(project_id)s`` rules mean "acting for that project".
"""

from __future__ import annotations

from typing import Any

from pocketstack.common.api.request import ApiRequest
from pocketstack.common.api.routes import route
from pocketstack.image import errors
from pocketstack.image.api import render
from pocketstack.image.api.common import authorize_image
from pocketstack.image.manager import ImageManager
from pocketstack.image.records import ImageView

MEMBERS = "/v2/images/{image_id}/members"
MEMBER = MEMBERS + "/{member_id}"


def member_to_add(body: Any) -> str:
    """The project id of an add-member body (``{"member": ...}``); 400 otherwise."""
    member_id = body.get("member") if isinstance(body, dict) else None
    if member_id is None:
        raise errors.MemberNotSpecified()
    if not isinstance(member_id, str) or not member_id or len(member_id) > 255 or "\x00" in member_id:
        raise errors.InvalidMember()
    return member_id


def member_status(body: Any) -> str:
    """The status of an update-member body (``{"status": ...}``); 400 otherwise (the
    manager checks it is one Glance knows)."""
    status = body.get("status") if isinstance(body, dict) else None
    if status is None:
        raise errors.MemberStatusNotSpecified()
    if not isinstance(status, str):
        raise errors.InvalidMemberStatus(member_status=status)
    return status


class MembersApi:
    def __init__(self, manager: ImageManager):
        self.manager = manager
        self.members = manager.members

    def _as_member(self, req: ApiRequest, rule: str, member_id: str | None = None) -> ImageView:
        """The image, after ``rule``: checked for the member's own project when the caller
        acts as that member of someone else's image."""
        context = req.caller
        image = self.manager.get_image(context, req.path_params["image_id"])
        target = self.manager.policy_target(context, image)
        acting_member = member_id or target["member_id"]
        if acting_member and acting_member == context.project_id and image.owner != context.project_id:
            target = dict(target, project_id=acting_member)
        req.authorize(rule, target)
        return image

    @route.post(MEMBERS, policy="add_member")
    def create(self, req: ApiRequest) -> dict:
        image = authorize_image(req, self.manager, "add_member")
        member_id = member_to_add(req.json())
        return render.member(self.members.add_member(req.caller, image.id, member_id))

    @route.get(MEMBERS, policy="get_members")
    def index(self, req: ApiRequest) -> dict:
        image = self._as_member(req, "get_members")
        return {"members": [render.member(x) for x in self.members.list_members(req.caller, image.id)],
                "schema": "/v2/schemas/members"}

    @route.get(MEMBER, policy="get_member")
    def show(self, req: ApiRequest) -> dict:
        member_id = req.path_params["member_id"]
        image = self._as_member(req, "get_member", member_id)
        return render.member(self.members.get_member(req.caller, image.id, member_id))

    @route.put(MEMBER, policy="modify_member")
    def update(self, req: ApiRequest) -> dict:
        member_id = req.path_params["member_id"]
        image = self._as_member(req, "modify_member", member_id)
        status = member_status(req.json())
        return render.member(self.members.update_member(req.caller, image.id, member_id, status))

    @route.delete(MEMBER, policy="delete_member")
    def delete(self, req: ApiRequest) -> None:
        image = authorize_image(req, self.manager, "delete_member")
        self.members.delete_member(req.caller, image.id, req.path_params["member_id"])
