"""Compute's use of the Image service: boot images and snapshots, through the image
service's in-process manager (Glance's API semantics, no HTTP hop)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pocketstack.common.api.context import RequestContext
from pocketstack.common.api.errors import BadRequest, NotFound, ServiceUnavailable

if TYPE_CHECKING:
    from pocketstack.cloud import Cloud


class Images:
    def __init__(self, cloud: "Cloud"):
        self._cloud = cloud

    @property
    def manager(self) -> Any:
        try:
            return self._cloud.service("image").manager
        except StopIteration:
            raise ServiceUnavailable("The image service is not running in this cloud.") from None

    def bootable(self, context: RequestContext, image_id: str):
        """The image to boot from: it must exist, be visible to the caller and be active."""
        try:
            image = self.manager.get_image(context, image_id)
        except NotFound:
            raise BadRequest(f"Image {image_id} could not be found.") from None
        if image.status != "active":
            raise BadRequest(f"Image {image_id} is not active.")
        return image

    def create_snapshot(self, context: RequestContext, name: str, instance_id: str, base_image,
                        metadata: dict[str, str]) -> str:
        """Register the snapshot image (queued) and return its id; data follows later."""
        props = {k: v for k, v in (base_image.properties if base_image else {}).items()
                 if not k.startswith(("instance_uuid", "image_type", "base_image_ref", "owner_"))}
        props.update(metadata)
        image = self.manager.create_image(
            context, name=name, disk_format=getattr(base_image, "disk_format", None) or "qcow2",
            container_format=getattr(base_image, "container_format", None) or "bare",
            visibility="private", instance_uuid=instance_id, image_type="snapshot",
            base_image_ref=getattr(base_image, "id", "") or "", **props)
        return image.id

    def upload(self, image_id: str, data: bytes) -> None:
        self.manager.upload(RequestContext.admin(), image_id, iter([data]))

    def delete(self, image_id: str) -> None:
        try:
            self.manager.delete_image(RequestContext.admin(), image_id)
        except NotFound:
            pass
