"""What every handler starts with: the caller, and the image it acts on (looked up, then
authorised)."""

from __future__ import annotations

from pocketstack.common.api.context import RequestContext
from pocketstack.common.api.request import ApiRequest
from pocketstack.image import errors
from pocketstack.image.manager import ImageManager
from pocketstack.image.records import ImageView


def caller(req: ApiRequest) -> RequestContext:
    """The caller's context: every Image route but the version documents needs a token,
    so the request wrapper has answered 401 before a handler runs without one."""
    if req.context is None:
        raise errors.AuthenticationRequired()
    return req.context


def authorize_image(req: ApiRequest, manager: ImageManager, rule: str, image_id: str | None = None) -> ImageView:
    """The image (404 if the caller cannot see it), after checking ``rule`` on it (403)."""
    context = caller(req)
    image = manager.get_image(context, image_id or req.path_params["image_id"])
    req.authorize(rule, manager.policy_target(context, image))
    return image
