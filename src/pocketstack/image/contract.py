"""What other services may call of the Image service: compute (boot images, snapshots,
backups and the deprecated ``/v2.1/images`` proxy) and volume (volumes created from an
image, a volume uploaded to an image).

``Cloud.image`` hands out the implementation (:class:`~pocketstack.image.manager.ImageManager`).
Every call is synchronous and blocking (run it in a worker thread) and enforces Glance's
visibility and ownership rules for ``context`` -- not the API's policy rules, which are
the caller's to check (:meth:`ImageContract.policy_target` gives their target).  Errors
are the named errors of ``pocketstack.image.errors`` (subclasses of the common
``NotFound``, ``Forbidden``, ``Conflict``...).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any, Protocol

from pocketstack.common.context import RequestContext
from pocketstack.image.listing import ImageQuery
from pocketstack.image.listing import parse as parse_listing_query
from pocketstack.image.records import Change, ImageView

__all__ = ["Change", "ImageContract", "ImageQuery", "ImageView", "parse_listing_query"]


class ImageContract(Protocol):
    """What other services call of images."""

    def get_image(self, context: RequestContext, image_id: str) -> ImageView:
        """The image as ``context`` sees it; ``ImageNotFound`` (404) when it does not
        exist or is not visible to the caller."""
        ...

    def list_images(self, context: RequestContext, query: ImageQuery) -> list[ImageView]:
        """The images visible to ``context`` that match ``query`` (Glance v2 filters,
        sorting and paging; build it with :func:`parse_listing_query`)."""
        ...

    def policy_target(self, context: RequestContext, image: ImageView) -> dict[str, Any]:
        """What Glance checks its image rules against (``project_id``, ``owner``,
        ``visibility``, ``member_id``...), so a proxy refuses exactly what Glance would."""
        ...

    def create_image(self, context: RequestContext, /, **props: Any) -> ImageView:
        """Register an image (status ``queued``) from base attributes and free-form string
        properties alike, as in Glance's POST body (``tags`` is a list); the owner is the
        context's project unless ``owner=`` is given.  400/403/409 as Glance answers."""
        ...

    def update_image(self, context: RequestContext, image_id: str, changes: Iterable[Change]) -> ImageView:
        """Apply JSON-patch ``changes`` atomically (all or nothing) and return the image."""
        ...

    def delete_image(self, context: RequestContext, image_id: str) -> None:
        """Delete the image and its data (403 while protected; an upload still running
        then answers 410 and removes what it wrote)."""
        ...

    def upload(self, context: RequestContext, image_id: str, chunks: Iterable[bytes]) -> ImageView:
        """Store the image's data from ``chunks`` (queued -> saving -> active); on any
        failure the image is ``killed`` and the partial data removed."""
        ...

    def open_data(self, context: RequestContext, image_id: str, offset: int = 0,
                  length: int | None = None) -> tuple[ImageView, Iterator[bytes] | None]:
        """``(image, chunk_iterator)`` for the image's bytes from ``offset`` (``length``
        of them, or to the end); the iterator is None when the image has no data.  403
        for a deactivated image unless ``context`` is admin."""
        ...

    def unfinished_snapshots(self, instance_id: str) -> list[str]:
        """Ids of the snapshot images of server ``instance_id`` whose data never arrived
        (``queued``, ``saving`` or ``killed``)."""
        ...

    def discard_unfinished_snapshot(self, image_id: str, instance_id: str) -> bool:
        """Delete ``image_id`` if it is ``instance_id``'s snapshot without data (compute's
        crash recovery); True if it was deleted.  Active, protected or other images are
        left alone."""
        ...
