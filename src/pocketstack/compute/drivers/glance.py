"""The QEMU driver's image source: the Image service, in process (no HTTP hop).

:class:`ImageServiceStore` is a :class:`~pocketstack.compute.drivers.disks.ImageStore` over
the image service's contract (``cloud.image``): what an image declares (disk_format, and the
multihash Glance recorded at upload, which the cache verifies the download against) and its
bytes.  It reads as the admin: the API checked the caller's access when the server was
created, and a host must be able to fetch the image of any server it runs.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, BinaryIO

from pocketstack.common.context import RequestContext
from pocketstack.compute.drivers.disks import DiskError, ImageMeta


class ImageServiceStore:
    def __init__(self, image_service: Callable[[], Any]):
        """``image_service`` returns the image contract (``lambda: cloud.image``): looked up
        at use, as the image service may start after compute."""
        self._image_service = image_service

    def image_meta(self, image_ref: str) -> ImageMeta:
        image = self._image_service().get_image(RequestContext.admin(), image_ref)
        if image.status != "active":
            raise DiskError(f"image {image_ref} is {image.status}, not active")
        if not image.disk_format:
            raise DiskError(f"image {image_ref} has no disk_format")
        if image.os_hash_algo and image.os_hash_value:
            return ImageMeta(image.id, image.disk_format, image.os_hash_value, image.os_hash_algo)
        return ImageMeta(image.id, image.disk_format, image.checksum, "md5")

    def download(self, image_ref: str, out: BinaryIO) -> None:
        _, chunks = self._image_service().open_data(RequestContext.admin(), image_ref)
        if chunks is None:
            raise DiskError(f"image {image_ref} has no data")
        for chunk in chunks:
            out.write(chunk)
