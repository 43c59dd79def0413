"""``OS-DCF:diskConfig``: AUTO or MANUAL partitioning of a server's root disk.

Nova keeps it as the instance's ``auto_disk_config``.  A request names it on create,
update, rebuild and resize (the schemas admit only AUTO and MANUAL); an image whose
``auto_disk_config`` property is ``disabled`` refuses AUTO (400).  Where a request does
not name it, create and rebuild take it from the image's property (false when absent) and
a resize sets MANUAL, as Nova.  No driver reads it: like Nova's libvirt, both drivers give
the root disk the flavor's size whatever the value, and growing the partition inside it is
the guest's business (cloud-init's growpart).
"""

from __future__ import annotations

from pocketstack.compute import errors

API_KEY = "OS-DCF:diskConfig"
_TRUE = ("1", "t", "true", "on", "y", "yes")


def to_api(auto: bool | None) -> str:
    return "AUTO" if auto else "MANUAL"


def requested(body: dict) -> bool | None:
    """What the request body asks for (None: it does not say)."""
    value = body.get(API_KEY)
    return None if value is None else value == "AUTO"


def _image_value(image_properties: dict | None) -> str | None:
    value = (image_properties or {}).get("auto_disk_config")
    return None if value is None else str(value).strip().lower()


def check(auto: bool | None, image_id: str, image_properties: dict | None) -> None:
    """400 when AUTO is asked of an image that disables it (Nova's
    ``AutoDiskConfigDisabledByImage``)."""
    if auto and _image_value(image_properties) == "disabled":
        raise errors.AutoDiskConfigDisabledByImage(image=image_id)


def from_image(auto: bool | None, image_id: str, image_properties: dict | None) -> bool:
    """The value a create or rebuild gives the server: the one asked for, else the image's
    (oslo's lenient ``bool_from_string``: anything but a true word is false)."""
    check(auto, image_id, image_properties)
    if auto is not None:
        return auto
    return _image_value(image_properties) in _TRUE


def image_view(image_properties: dict | None) -> dict[str, str]:
    """An image's ``OS-DCF:diskConfig`` in the compute API: only when it has the property."""
    value = _image_value(image_properties)
    return {} if value is None else {API_KEY: to_api(value in _TRUE)}
