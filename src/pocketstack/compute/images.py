"""Compute's use of the Image service: boot images, snapshots and the old image proxy API,
through the image service's in-process manager (Glance's API semantics, no HTTP hop)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from starlette.datastructures import QueryParams

from pocketstack.common.context import RequestContext
from pocketstack.common.errors import NotFound
from pocketstack.compute import errors
from pocketstack.image.contract import Change, parse_listing_query

if TYPE_CHECKING:
    from pocketstack.cloud import Cloud


class Images:
    def __init__(self, cloud: "Cloud"):
        self._cloud = cloud

    @property
    def manager(self) -> Any:
        """The image service's contract (``cloud.image``); 503 when it does not run here."""
        image = self._cloud.image
        if image is None:
            raise errors.ImageServiceUnavailable()
        return image

    def bootable(self, context: RequestContext, image_id: str):
        """The image to boot from: it must exist, be visible to the caller and be active."""
        try:
            image = self.manager.get_image(context, image_id)
        except NotFound:
            raise errors.ImageNotFoundForBoot(image_id=image_id) from None
        if image.status != "active":
            raise errors.ImageNotActive(image_id=image_id)
        return image

    def create_snapshot(self, context: RequestContext, name: str, instance_id: str, base_image,
                        metadata: dict[str, str]) -> str:
        """Register the snapshot image (queued) and return its id; data follows later."""
        props = {k: v for k, v in (base_image.properties if base_image else {}).items()
                 if not k.startswith(("instance_uuid", "image_type", "base_image_ref", "owner_"))}
        props.update(instance_uuid=instance_id, image_type="snapshot",
                     base_image_ref=getattr(base_image, "id", "") or "")
        props.update(metadata)  # the caller's metadata wins, as in Nova
        image = self.manager.create_image(
            context, name=name, disk_format=getattr(base_image, "disk_format", None) or "qcow2",
            container_format=getattr(base_image, "container_format", None) or "bare",
            visibility="private", **props)
        return image.id

    def upload(self, image_id: str, data: bytes) -> None:
        self.manager.upload(RequestContext.admin(), image_id, iter([data]))

    def upload_file(self, image_id: str, path: str, disk_format: str | None = None,
                    chunk_size: int = 1 << 20) -> None:
        """Stream the file at ``path`` as the image's data; with ``disk_format`` the image
        (still queued) is first given the format the data really is in."""
        if disk_format is not None and self.manager.get_image(RequestContext.admin(), image_id).disk_format \
                != disk_format:
            self.manager.update_image(RequestContext.admin(), image_id, [Change("replace", "disk_format",
                                                                                 disk_format)])

        def chunks():
            with open(path, "rb") as f:
                while chunk := f.read(chunk_size):
                    yield chunk
        self.manager.upload(RequestContext.admin(), image_id, chunks())

    def delete(self, image_id: str) -> None:
        try:
            self.manager.delete_image(RequestContext.admin(), image_id)
        except NotFound:
            pass

    def discard_unfinished_snapshots(self, instance_id: str) -> None:
        """Delete the instance's snapshot images left without data by an interrupted
        snapshot (Nova deletes them rather than leave them queued for ever)."""
        for image_id in self.manager.unfinished_snapshots(instance_id):
            self.manager.discard_unfinished_snapshot(image_id, instance_id)

    # -- the deprecated image proxy (``/v2.1/images``, before microversion 2.36) ----------
    def list(self, context: RequestContext, query: list[tuple[str, str]]):
        """Images visible to the caller, filtered by Glance v2 query parameters."""
        return self.manager.list_images(context, parse_listing_query(QueryParams(query)))

    def get(self, context: RequestContext, image_id: str):
        try:
            return self.manager.get_image(context, image_id)
        except NotFound:
            raise errors.ImageNotFound() from None

    def policy_target(self, context: RequestContext, image_id: str) -> dict:
        """What Glance checks its rules (``modify_image``, ``delete_image``) against, so the
        proxy refuses exactly what Glance would (Nova relays Glance's 403)."""
        return self.manager.policy_target(context, self.get(context, image_id))

    def delete_as(self, context: RequestContext, image_id: str) -> None:
        self.get(context, image_id)
        self.manager.delete_image(context, image_id)

    def set_properties(self, context: RequestContext, image_id: str, properties: dict[str, str],
                       replace: bool) -> dict[str, str]:
        """Merge (or with ``replace`` replace) the image's free-form properties, which are
        what Nova calls an image's metadata."""
        current = self.get(context, image_id).properties
        changes = [Change("add", k, str(v)) for k, v in properties.items()]
        if replace:
            changes += [Change("remove", k) for k in current if k not in properties]
        return self.manager.update_image(context, image_id, changes).properties

    def rotate_backups(self, context: RequestContext, instance_id: str, backup_type: str, keep: int) -> None:
        """Delete the server's oldest backups of ``backup_type`` until ``keep`` remain."""
        backups = self.list(context, [("instance_uuid", instance_id), ("image_type", "backup"),
                                      ("backup_type", backup_type), ("sort_key", "created_at"),
                                      ("sort_dir", "desc"), ("limit", "1000")])
        for image in backups[keep:]:
            self.manager.delete_image(context, image.id)

    def delete_property(self, context: RequestContext, image_id: str, key: str) -> None:
        if key not in self.get(context, image_id).properties:
            raise errors.ImageMetadataItemNotFound(image_id=image_id, key=key)
        self.manager.update_image(context, image_id, [Change("remove", key)])
