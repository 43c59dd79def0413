"""Looking an image up and authorising an action on it, the way every handler starts."""

from __future__ import annotations

from pocketstack.common.api.request import ApiRequest
from pocketstack.image.manager import ImageManager
from pocketstack.image.records import ImageView


def authorize_image(req: ApiRequest, manager: ImageManager, rule: str, image_id: str | None = None) -> ImageView:
    """The image (404 if the caller cannot see it), after checking ``rule`` on it (403)."""
    image = manager.get_image(req.context, image_id or req.path_params["image_id"])
    req.authorize(rule, manager.policy_target(req.context, image))
    return image
