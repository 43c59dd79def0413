"""What other services may call of the Image service (compute's image proxy and boot
path, volume's create-from-image and upload-to-image).

``Cloud.image`` hands out the implementation (:class:`~pocketstack.image.manager.ImageManager`).
The Protocol is filled in as the service takes its declared shape (issue 12); the names
below are the types callers need today."""

from __future__ import annotations

from typing import Protocol

from pocketstack.image.listing import ImageQuery
from pocketstack.image.listing import parse as parse_listing_query
from pocketstack.image.manager import Change

__all__ = ["Change", "ImageContract", "ImageQuery", "parse_listing_query"]


class ImageContract(Protocol):
    """What other services call of images."""
