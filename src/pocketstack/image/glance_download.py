"""The ``glance-download`` import method: an image's data and some of its metadata
fetched from the Image service of a region (Glance's ``_ImportMetadata`` and
``_DownloadGlanceImage``).

The source is found in the caller's service catalog (service type ``image``, the
requested region and interface) and read over HTTP with the caller's token, as Glance
does, so the method works against this cloud's own Image API (its only region) as it
would against another region's.  The URLs pass the web-download import filter
(``image_import_allowed_*``): with Glance's defaults (ports 80 and 443) an endpoint on
another port is refused.  Only the properties with Glance's default
``[glance_download_properties] extra_properties`` prefixes are copied, with the disk and
container formats; they are set when the data has arrived (so a failed import leaves the
image as it was), and the data's size must be the source's.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from pocketstack.image import errors
from pocketstack.image.import_filter import ImportFilter

METHOD = "glance-download"
PROPERTY_PREFIXES = ("hw_", "trait:", "os_distro", "os_secure_boot", "os_type")
METADATA_TIMEOUT = 30.0


def check_params(method: dict[str, Any]) -> None:
    """400 for a glance-download request Glance refuses; the interface defaults to public."""
    for name in ("glance_region", "glance_image_id"):
        if name not in method:
            raise errors.GlanceDownloadParamMissing(name=name)
    try:
        uuid.UUID(str(method["glance_image_id"]))
    except ValueError:
        raise errors.GlanceDownloadBadImageId(image_id=method["glance_image_id"]) from None
    method.setdefault("glance_service_interface", "public")


def endpoint(catalog: Iterable[dict], region: str, interface: str) -> str:
    """The URL of the ``image`` service in ``region`` at ``interface`` (keystoneauth's
    ``url_for``); a task failure when the catalog has none."""
    for service in catalog:
        if service.get("type") != "image":
            continue
        for entry in service.get("endpoints", []):
            if entry.get("region_id") == region and entry.get("interface") == interface:
                return str(entry["url"]).rstrip("/")
    raise errors.GlanceEndpointNotFound(region=region, interface=interface)


@dataclass
class RemoteImage:
    """What the import takes from the source image."""

    file_url: str
    size: int
    attributes: dict[str, Any] = field(default_factory=dict)
    properties: dict[str, str] = field(default_factory=dict)


def remote_image(method: dict[str, Any], catalog: Iterable[dict], token: str | None,
                 allowed: ImportFilter) -> RemoteImage:
    """The source image's metadata (it must be ``active``)."""
    import httpx  # only glance-download imports need it

    url = f"{endpoint(catalog, method['glance_region'], method['glance_service_interface'])}/v2/images/" \
          f"{method['glance_image_id']}"
    for checked in (url, f"{url}/file"):
        if not allowed.allows(checked):
            raise errors.GlanceDownloadUriFiltered(uri=checked)
    response = httpx.get(url, headers={"X-Auth-Token": token or ""}, timeout=METADATA_TIMEOUT)
    response.raise_for_status()
    data = response.json()
    if data.get("status") != "active":
        raise errors.GlanceDownloadNotActive(status=data.get("status"))
    try:
        size = int(data["size"])
    except (KeyError, TypeError, ValueError):
        raise errors.GlanceDownloadNoSize(image_id=method["glance_image_id"]) from None
    properties = {key: value for key, value in data.items()
                  if isinstance(value, str) and key.startswith(PROPERTY_PREFIXES)}
    return RemoteImage(f"{url}/file", size, {"disk_format": data.get("disk_format"),
                                             "container_format": data.get("container_format")}, properties)

