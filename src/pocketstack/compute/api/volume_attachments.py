"""``/servers/{server_id}/os-volume_attachments``: Nova's side of attaching a volume.

Nova drives the Block Storage attachment flow (reserve → connector update → complete,
and delete) through the volume service's manager in process, exactly the calls it would
make over Cinder's API, so the rule that a non-multiattach volume is attached at most
once is enforced in one place (Cinder's compare-and-swap).  Like Nova it records each
attached volume as a block device mapping (what the server view's
``os-extended-volumes:volumes_attached`` and a server delete read).  Device names are
assigned ``/dev/vdb``, ``/dev/vdc``… per server; the root volume of a server booted from
a volume cannot be detached.
"""

from __future__ import annotations

import string

from pocketstack.common.api.request import ApiRequest
from pocketstack.common.api.routes import Router
from pocketstack.common.errors import ApiError, BadRequest, NotFound
from pocketstack.compute.api.common import accepted, body, get_instance, is_admin

POLICIES = {
    "os_compute_api:os-volumes-attachments:index": "rule:project_reader_or_admin",
    "os_compute_api:os-volumes-attachments:show": "rule:project_reader_or_admin",
    "os_compute_api:os-volumes-attachments:create": "rule:project_member_or_admin",
    "os_compute_api:os-volumes-attachments:delete": "rule:project_member_or_admin",
}
CREATE = {"type": "object", "required": ["volumeAttachment"], "properties": {"volumeAttachment": {
    "type": "object", "required": ["volumeId"], "properties": {
        "volumeId": {"type": "string", "minLength": 1}, "device": {"type": ["string", "null"]}}}}}


def _render(a, server_id: str) -> dict:
    return {"id": a.volume_id, "serverId": server_id, "volumeId": a.volume_id, "device": a.mountpoint}


def _next_device(used: set[str]) -> str:
    for letter in string.ascii_lowercase[1:]:
        if f"/dev/vd{letter}" not in used:
            return f"/dev/vd{letter}"
    raise BadRequest("No free disk device names for prefix 'vd'")


def register(router: Router, compute) -> None:
    compute.cloud.enforcer.register_defaults(POLICIES)

    def volumes():
        try:
            return compute.cloud.service("volume").manager
        except StopIteration:
            raise BadRequest("The block storage service is not available.") from None

    def attached(req: ApiRequest, server_id: str):
        return [a for a in volumes().attachments.list(req.context, is_admin(req), instance_id=server_id)
                if a.attach_status == "attached"]

    @router.get("/v2.1/servers/{server_id}/os-volume_attachments")
    def list_attachments(req: ApiRequest):
        inst = get_instance(compute, req, req.path_params["server_id"], "os_compute_api:os-volumes-attachments:index")
        return {"volumeAttachments": [_render(a, inst.id) for a in attached(req, inst.id)]}

    @router.get("/v2.1/servers/{server_id}/os-volume_attachments/{volume_id}")
    def show_attachment(req: ApiRequest):
        inst = get_instance(compute, req, req.path_params["server_id"], "os_compute_api:os-volumes-attachments:show")
        for a in attached(req, inst.id):
            if a.volume_id == req.path_params["volume_id"]:
                return {"volumeAttachment": _render(a, inst.id)}
        raise NotFound(f"volume_id not found: {req.path_params['volume_id']}")

    @router.post("/v2.1/servers/{server_id}/os-volume_attachments")
    def attach(req: ApiRequest):
        inst = get_instance(compute, req, req.path_params["server_id"], "os_compute_api:os-volumes-attachments:create")
        spec = body(req, CREATE, "volumeAttachment")
        manager = volumes()
        try:
            volume = manager.volumes.get(req.context, spec["volumeId"])
        except NotFound:
            raise NotFound(f"Volume {spec['volumeId']} could not be found.") from None
        if any(a.volume_id == volume.id for a in attached(req, inst.id)):
            raise BadRequest(f"Invalid volume: volume {volume.id} is already attached to this server.")
        used = {a.mountpoint for a in attached(req, inst.id)} | {"/dev/vda"}
        device = spec.get("device") or _next_device(used)
        mapping_id = compute.block_devices.add(inst.id, volume.id, device)
        try:
            attachment = manager.attachments.create(req.context, volume.id, inst.id,
                                                    {"host": inst.host, "mountpoint": device})
            compute.block_devices.record_attachment(mapping_id, attachment.id)
        except ApiError as error:
            compute.block_devices.remove(mapping_id)
            raise BadRequest(error.message) from None
        manager.attachments.complete(req.context, attachment.id)
        return {"volumeAttachment": {"id": volume.id, "serverId": inst.id, "volumeId": volume.id, "device": device}}

    @router.delete("/v2.1/servers/{server_id}/os-volume_attachments/{volume_id}")
    def detach(req: ApiRequest):
        inst = get_instance(compute, req, req.path_params["server_id"], "os_compute_api:os-volumes-attachments:delete")
        volume_id = req.path_params["volume_id"]
        mappings = [b for b in compute.block_devices.for_instance(inst.id) if b.volume_id == volume_id]
        if any(b.boot_index == 0 for b in mappings):
            raise BadRequest("Cannot detach a root device volume")
        for a in attached(req, inst.id):
            if a.volume_id == volume_id:
                volumes().attachments.delete(req.context, a.id)
                for mapping in mappings:
                    compute.block_devices.remove(mapping.id)
                return accepted()
        raise NotFound(f"volume_id not found: {req.path_params['volume_id']}")
