"""Glance's image cache API (``/v2/cache``) on a site without an image cache.

This image service reads every image from its store; there is no cache to list, queue
or prune.  Glance answers the cache API then (``image_cache_dir`` unset) after the
route's policy check (403): 404 "Caching via API is not supported at this site.";
queueing or deleting one image looks the image up first (404 if it is not visible).
"""

from __future__ import annotations

from pocketstack.common.api.request import ApiRequest
from pocketstack.common.api.routes import route
from pocketstack.image import errors
from pocketstack.image.manager import ImageManager

CACHE = "/v2/cache"
ENTRY = "/v2/cache/{image_id}"


class CacheApi:
    def __init__(self, manager: ImageManager):
        self.manager = manager

    def _disabled(self, req: ApiRequest, rule: str, image_id: str | None = None) -> None:
        target = {"project_id": req.caller.project_id}
        if image_id is not None:
            try:
                image = self.manager.get_image(req.caller, image_id)
            except errors.NotFound:
                raise errors.CachedImageNotFound(image_id=image_id) from None
            target = self.manager.policy_target(req.caller, image)
        req.authorize(rule, target)
        raise errors.CacheDisabled()

    @route.get(CACHE, policy="cache_list")
    def state(self, req: ApiRequest) -> None:
        self._disabled(req, "cache_list")

    @route.delete(CACHE, policy="cache_delete")
    def clear(self, req: ApiRequest) -> None:
        self._disabled(req, "cache_delete")

    @route.put(ENTRY, policy="cache_image")
    def queue(self, req: ApiRequest) -> None:
        self._disabled(req, "cache_image", req.path_params["image_id"])

    @route.delete(ENTRY, policy="cache_delete")
    def delete_entry(self, req: ApiRequest) -> None:
        self._disabled(req, "cache_delete", req.path_params["image_id"])

    @route.post(CACHE + "/clean", policy="cache_clean")
    def clean(self, req: ApiRequest) -> None:
        self._disabled(req, "cache_clean")

    @route.post(CACHE + "/prune", policy="cache_prune")
    def prune(self, req: ApiRequest) -> None:
        self._disabled(req, "cache_prune")
