"""``OS::Cinder::Volume`` (waited for until available) and ``VolumeAttachment`` (through
Nova, waited for until the volume is in use)."""

from __future__ import annotations

from typing import Any

from pocketstack.orchestration.resources import schema as s
from pocketstack.orchestration.resources.base import EntityNotFound, ResourceFailure, ResourceType, Step, pick


async def _volume(step: Step, volume_id: str) -> dict[str, Any] | None:
    found = await step.cloud.call("GET", "volume", f"/volumes/{volume_id}", ok_missing=True)
    return found["volume"] if found else None


async def _status_is(step: Step, volume_id: str, wanted: str, failing: tuple[str, ...]) -> bool:
    volume = await _volume(step, volume_id)
    if volume is None:
        raise EntityNotFound(entity="Volume", name=volume_id)
    if volume["status"] in failing:
        raise ResourceFailure(f"Went to status {volume['status']} due to \"Unknown\"", "ResourceInError")
    return bool(volume["status"] == wanted)


class Volume(ResourceType):
    type_name = "OS::Cinder::Volume"
    description = "A resource that implements Cinder volumes."
    properties = {
        "availability_zone": s.string("The availability zone in which the volume will be created."),
        "size": s.integer("The size of the volume in GB.", update_allowed=True),
        "snapshot_id": s.string("If specified, the snapshot to create the volume from."),
        "backup_id": s.string("If specified, the backup to create the volume from.", update_allowed=True),
        "name": s.string("A name used to distinguish the volume.", update_allowed=True),
        "description": s.string("A description of the volume.", update_allowed=True),
        "volume_type": s.string("If specified, the type of volume to use.", update_allowed=True),
        "metadata": s.map_("Key/value pairs to associate with the volume.", default={}, update_allowed=True),
        "image": s.string("If specified, the name or ID of the image to create the volume from."),
        "source_volid": s.string("If specified, the volume to use as source."),
        "multiattach": s.boolean("Whether allow the volume to be attached more than once."),
        "read_only": s.boolean("Enables or disables read-only access mode of volume.", update_allowed=True),
        "scheduler_hints": s.map_("Arbitrary key-value pairs specified by the client to help the Cinder scheduler "
                                  "creating a volume."),
    }
    attributes = {"availability_zone": "The availability zone in which the volume is located.", "size": "The "
                  "size of the volume in GB.", "snapshot_id": "The snapshot the volume was created from, if any.",
                  "display_name": "Name of the volume.", "display_description": "Description of the volume.",
                  "volume_type": "The type of the volume.", "metadata": "Key/value pairs associated with the "
                  "volume.", "source_volid": "The volume used as source, if any.", "status": "The current status "
                  "of the volume.", "created_at": "The timestamp indicating volume creation.", "bootable":
                  "Boolean indicating if the volume can be booted or not.", "encrypted": "Boolean indicating if "
                  "the volume is encrypted or not.", "attachments_list": "The list of attachments of the volume.",
                  "multiattach": "Boolean indicating whether allow the volume to be attached more than once."}

    async def create(self, step: Step, props: dict[str, Any]) -> str:
        body = pick(props, {"size": "size", "availability_zone": "availability_zone", "snapshot_id": "snapshot_id",
                            "backup_id": "backup_id", "description": "description", "volume_type": "volume_type",
                            "metadata": "metadata", "source_volid": "source_volid", "multiattach": "multiattach"})
        body["name"] = props.get("name") or step.physical_name
        if props.get("image"):
            body["imageRef"] = await step.cloud.find("image", "images", props["image"], "Image")
        if not any(body.get(k) for k in ("size", "snapshot_id", "source_volid", "backup_id")):
            raise ResourceFailure("Property error: size: Property size not assigned", "StackValidationFailed")
        made = await step.cloud.call("POST", "volume", "/volumes", json={"volume": body})
        return str(made["volume"]["id"])

    async def create_complete(self, step: Step, physical_id: str, props: dict[str, Any]) -> bool:
        return await _status_is(step, physical_id, "available", ("error",))

    async def find(self, step: Step, props: dict[str, Any]) -> str | None:
        name = props.get("name") or step.physical_name
        found = await step.cloud.call("GET", "volume", f"/volumes?name={name}")
        items = found.get("volumes", [])
        return str(items[0]["id"]) if len(items) == 1 and name == step.physical_name else None

    async def update(self, step: Step, physical_id: str, props: dict[str, Any], changed: dict[str, Any]) -> None:
        fields = pick({k: props.get(k) for k in changed}, {"name": "name", "description": "description"})
        if fields:
            await step.cloud.call("PUT", "volume", f"/volumes/{physical_id}", json={"volume": fields})
        if "metadata" in changed:
            await step.cloud.call("PUT", "volume", f"/volumes/{physical_id}/metadata",
                                  json={"metadata": props.get("metadata") or {}})
        if "size" in changed and props.get("size"):
            await step.cloud.call("POST", "volume", f"/volumes/{physical_id}/action",
                                  json={"os-extend": {"new_size": props["size"]}})

    async def update_complete(self, step: Step, physical_id: str, props: dict[str, Any]) -> bool:
        volume = await _volume(step, physical_id) or {}
        if volume.get("status") in ("error_extending", "error"):
            raise ResourceFailure(f"Resize failed: Volume {physical_id} is in {volume['status']} state.",
                                  "ResourceInError")
        return volume.get("status") in ("available", "in-use")

    async def delete(self, step: Step, physical_id: str) -> None:
        await step.cloud.call("DELETE", "volume", f"/volumes/{physical_id}", ok_missing=True)

    async def delete_complete(self, step: Step, physical_id: str) -> bool:
        volume = await _volume(step, physical_id)
        if volume is not None and volume["status"] == "error_deleting":
            raise ResourceFailure("Volume in error_deleting state", "ResourceInError")
        return volume is None

    checks = True

    async def check(self, step: Step, physical_id: str) -> None:
        volume = (await step.cloud.exists("volume", f"/volumes/{physical_id}", "volume", physical_id))["volume"]
        if volume["status"] not in ("available", "in-use"):
            raise ResourceFailure(f"'status': expected '['available', 'in-use']', got '{volume['status']}'", "Error")

    async def show(self, step: Step, physical_id: str, props: dict[str, Any]) -> dict[str, Any]:
        volume = await _volume(step, physical_id) or {}
        return {"availability_zone": volume.get("availability_zone"), "size": volume.get("size"),
                "snapshot_id": volume.get("snapshot_id"), "display_name": volume.get("name"),
                "display_description": volume.get("description"), "volume_type": volume.get("volume_type"),
                "metadata": volume.get("metadata"), "source_volid": volume.get("source_volid"),
                "status": volume.get("status"), "created_at": volume.get("created_at"),
                "bootable": volume.get("bootable"), "encrypted": volume.get("encrypted"),
                "attachments_list": volume.get("attachments"), "multiattach": volume.get("multiattach"),
                "show": volume}


class VolumeAttachment(ResourceType):
    type_name = "OS::Cinder::VolumeAttachment"
    description = "Resource for associating volume to instance."
    properties = {
        "instance_uuid": s.string("The ID of the server to which the volume attaches.", required=True,
                                  update_allowed=True),
        "volume_id": s.string("The ID of the volume to be attached.", required=True, update_allowed=True),
        "mountpoint": s.string("The location where the volume is exposed on the instance.", update_allowed=True),
    }

    async def create(self, step: Step, props: dict[str, Any]) -> str:
        body: dict[str, Any] = {"volumeId": props["volume_id"]}
        if props.get("mountpoint"):
            body["device"] = props["mountpoint"]
        await step.cloud.call("POST", "compute", f"/servers/{props['instance_uuid']}/os-volume_attachments",
                              json={"volumeAttachment": body})
        return f"{props['instance_uuid']}:{props['volume_id']}"

    async def create_complete(self, step: Step, physical_id: str, props: dict[str, Any]) -> bool:
        return await _status_is(step, physical_id.partition(":")[2], "in-use", ("error", "error_attaching"))

    async def update(self, step: Step, physical_id: str, props: dict[str, Any], changed: dict[str, Any]) -> None:
        # Heat detaches and attaches again; the physical id follows the new pair.
        await self.delete(step, physical_id)
        step.data["pending_detach"] = physical_id
        step.data["attach"] = props

    async def update_complete(self, step: Step, physical_id: str, props: dict[str, Any]) -> bool:
        if "pending_detach" in step.data:
            if not await self.delete_complete(step, step.data["pending_detach"]):
                return False
            step.data.pop("pending_detach")
            step.data["new_id"] = await self.create(step, step.data.pop("attach"))
        return await self.create_complete(step, step.data.get("new_id", physical_id), props)

    async def delete(self, step: Step, physical_id: str) -> None:
        server, _, volume = physical_id.partition(":")
        await step.cloud.call("DELETE", "compute", f"/servers/{server}/os-volume_attachments/{volume}",
                              ok_missing=True)

    async def delete_complete(self, step: Step, physical_id: str) -> bool:
        volume = await _volume(step, physical_id.partition(":")[2])
        return volume is None or volume["status"] in ("available", "error")
