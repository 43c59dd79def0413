"""``OS::Glance::WebImage`` through the Image API as the user, and the hidden
``OS::Glance::Image`` Heat still accepts in old templates.

A WebImage is Heat's: the image record made, then a ``web-download`` import of its
``location``, polled until ``active`` (or deactivated, with ``active: false``).  The
image service fetches the URL itself, through its import filter
(``image_import_allowed_*``): a location the filter refuses fails the create with the
image service's 400, and a fetch that fails puts the image back to ``queued`` with a
failed import task -- which this reads, where Heat would wait for its timeout, and
fails as ``ResourceInError`` with the task's message.

``OS::Glance::Image`` needed Glance's v1 API (an image from a URL location); Heat now
serves it hidden, as a placeholder doing nothing (``OS::Heat::None``), so stacks made
with it still load: so does this.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from pocketstack.orchestration import errors
from pocketstack.orchestration.resources import schema as s
from pocketstack.orchestration.resources.base import PhysicalResourceNotFound, ResourceFailure, ResourceType, Step
from pocketstack.orchestration.resources.heat import NoneResource

_ID_PATTERN = "ID of image stored in Glance that should be used as the {} when booting an AMI-style image."
_AMI = ("ami", "ari", "aki")
# Properties sent to the image API as the image's own fields, by Heat's name.
_FIELDS = ("name", "id", "min_disk", "min_ram", "protected", "disk_format", "container_format", "tags",
           "architecture", "kernel_id", "os_distro", "os_version", "owner", "visibility", "ramdisk_id")
# Glance's errors come as webob renders them for the Accept header: plain text gives the
# message alone on its line (what a failure's reason shows), successes are JSON anyway.
_ACCEPT = {"Accept": "text/plain"}
_PATCH_HEADERS = {**_ACCEPT, "Content-Type": "application/openstack-images-v2.1-json-patch"}


async def _call(step: Step, method: str, rest: str, **kwargs: Any) -> Any:
    kwargs.setdefault("headers", _ACCEPT)
    return await step.cloud.call(method, "image", rest, **kwargs)


class WebImage(ResourceType):
    type_name = "OS::Glance::WebImage"
    description = "A resource managing images in Glance using web-download import."
    properties = {
        "name": s.string("Name for the image. The name of an image is not unique to a Image Service node."),
        "id": s.string("The image ID. Glance will generate a UUID if not specified."),
        "min_disk": s.integer("Amount of disk space (in GB) required to boot image.", default=0),
        "min_ram": s.integer("Amount of ram (in MB) required to boot image.", default=0),
        "protected": s.boolean("Whether the image can be deleted.", default=False, update_allowed=True),
        "disk_format": s.string("Disk format of image.", required=True, allowed=(
            "ami", "ari", "aki", "vhd", "vhdx", "vmdk", "raw", "qcow2", "vdi", "iso", "ploop")),
        "container_format": s.string("Container format of image.", required=True, allowed=(
            "ami", "ari", "aki", "bare", "ovf", "ova", "docker")),
        "location": s.string("URL where the data for this image already resides.", required=True),
        "tags": s.list_("List of image tags.", update_allowed=True),
        "architecture": s.string("Operating system architecture.", update_allowed=True),
        "kernel_id": s.string(_ID_PATTERN.format("kernel"), update_allowed=True),
        "os_distro": s.string("The common name of the operating system distribution in lowercase.",
                              update_allowed=True),
        "os_version": s.string("Operating system version as specified by the distributor.", update_allowed=True),
        "owner": s.string("Owner of the image.", update_allowed=True),
        "extra_properties": s.map_("Arbitrary properties to associate with the image.", default={},
                                   update_allowed=True),
        "visibility": s.string("Scope of image accessibility.", default="private", update_allowed=True,
                               allowed=("public", "private", "community", "shared")),
        "ramdisk_id": s.string(_ID_PATTERN.format("ramdisk"), update_allowed=True),
        "active": s.boolean("Activate or deactivate the image. Requires Admin Access.", default=True,
                            update_allowed=True),
        "members": s.list_("List of additional members that are permitted to read the image.",
                           update_allowed=True, item=s.string("A member ID.")),
    }
    checks = True

    def validate(self, props: dict[str, Any]) -> None:
        """Heat's ``GlanceWebImage.validate``: a 400 before anything is made."""
        container = props.get("container_format")
        if container in _AMI and props.get("disk_format") != container:
            raise errors.StackValidationFailed(
                message="Invalid mix of disk and container formats. When setting a disk or container format to one "
                        "of 'aki', 'ari', or 'ami', the container and disk formats must match.")
        if props.get("members") and props.get("visibility", "private") != "shared":
            raise errors.ResourcePropertyValueDependency(prop1="members", prop2="visibility", value="shared")

    async def create(self, step: Step, props: dict[str, Any]) -> str:
        self.validate(props)
        body = {key: props[key] for key in _FIELDS if props.get(key) is not None}
        body.update({k: str(v) for k, v in (props.get("extra_properties") or {}).items()})
        image = await _call(step, "POST", "/images", json=body)
        image_id = str(image["id"])
        step.data["image_id"] = image_id
        await _call(step, "POST", f"/images/{image_id}/import",
                              json={"method": {"name": "web-download", "uri": props["location"]}})
        for member in props.get("members") or []:
            await _call(step, "POST", f"/images/{image_id}/members", json={"member": member})
        return image_id

    async def _image(self, step: Step, image_id: str) -> dict[str, Any]:
        return await step.cloud.exists("image", f"/images/{quote(image_id, safe='')}", "image", image_id)

    async def create_complete(self, step: Step, physical_id: str, props: dict[str, Any]) -> bool:
        image = await self._image(step, physical_id)
        status = image.get("status")
        if status == "killed":
            raise ResourceFailure('Went to status killed due to "Unknown"', "ResourceInError")
        if status == "queued":  # the import failed (the image service puts it back to queued)
            tasks = (await _call(step, "GET", f"/images/{physical_id}/tasks")).get("tasks") or []
            failed = [t for t in tasks if t.get("status") == "failure"]
            if failed:
                raise ResourceFailure(f'Went to status queued due to "{failed[-1].get("message") or "Unknown"}"',
                                      "ResourceInError")
        if props.get("active", True):
            return bool(status == "active")
        if status == "active":
            await _call(step, "POST", f"/images/{physical_id}/actions/deactivate")
            return True
        return bool(status == "deactivated")

    async def update(self, step: Step, physical_id: str, props: dict[str, Any], changed: dict[str, Any]) -> None:
        old = step.data.get("props") or {}
        ops: list[dict[str, Any]] = []
        for key in _FIELDS:
            if key in changed:
                if props.get(key) is None:
                    ops.append({"op": "remove", "path": f"/{key}"})
                else:
                    ops.append({"op": "add", "path": f"/{key}", "value": props[key]})
        if "extra_properties" in changed:
            new_extra = props.get("extra_properties") or {}
            ops += [{"op": "remove", "path": f"/{k}"} for k in (old.get("extra_properties") or {})
                    if k not in new_extra]
            ops += [{"op": "add", "path": f"/{k}", "value": str(v)} for k, v in new_extra.items()]
        if ops:
            await _call(step, "PATCH", f"/images/{physical_id}", json=ops, headers=_PATCH_HEADERS)
        if "members" in changed:
            before, after = set(old.get("members") or []), set(props.get("members") or [])
            for member in sorted(after - before):
                await _call(step, "POST", f"/images/{physical_id}/members", json={"member": member})
            for member in sorted(before - after):
                await _call(step, "DELETE", f"/images/{physical_id}/members/{quote(member, safe='')}",
                                      ok_missing=True)
        if "active" in changed:
            action = "reactivate" if props.get("active", True) else "deactivate"
            await _call(step, "POST", f"/images/{physical_id}/actions/{action}")

    async def delete(self, step: Step, physical_id: str) -> None:
        await _call(step, "DELETE", f"/images/{quote(physical_id, safe='')}", ok_missing=True)

    async def show(self, step: Step, physical_id: str, props: dict[str, Any]) -> dict[str, Any]:
        # What an update compares with (the members and extra properties it last set).
        step.data["props"] = {"members": props.get("members") or [],
                              "extra_properties": props.get("extra_properties") or {}}
        return {"show": await self._image(step, physical_id)}

    async def check(self, step: Step, physical_id: str) -> None:
        image = await self._image(step, physical_id)
        if image.get("status") in ("killed", "deleted"):
            raise PhysicalResourceNotFound(entity="image", name=physical_id)


class Image(NoneResource):
    """Heat's hidden ``OS::Glance::Image``: accepted, does nothing, not listed."""

    type_name = "OS::Glance::Image"
    description = ("Creating a Glance Image based on an existing URL location requires the Glance v1 API, which "
                   "is deprecated (hidden: a placeholder doing nothing, as in Heat).")
    hidden = True
