"""What most handlers start with: the image they act on (looked up, then
authorised)."""

from __future__ import annotations

from pocketstack.common.api.request import ApiRequest
from pocketstack.image.manager import ImageManager
from pocketstack.image.records import ImageView


def authorize_image(req: ApiRequest, manager: ImageManager, rule: str, image_id: str | None = None) -> ImageView:
    """The image (404 if the caller cannot see it), after checking ``rule`` on it (403)."""
    context = req.caller
    image = manager.get_image(context, image_id or req.path_params["image_id"])
    req.authorize(rule, manager.policy_target(context, image))
    return image
