"""``POST /v3/{project_id}/volumes/{volume_id}/action``: one body key names the action."""

from __future__ import annotations

from starlette.responses import Response

from pocketstack.common.api.app import ApiRequest
from pocketstack.common.api.errors import BadRequest
from pocketstack.volume.api.common import PREFIX, accepted, to_bool


def register(router, service) -> None:
    volumes = service.volumes

    def extend(req, volume, args):
        req.authorize("volume:extend", {"project_id": volume.project_id})
        new_size = (args or {}).get("new_size")
        if isinstance(new_size, str) and new_size.isdigit():
            new_size = int(new_size)
        volumes.extend(req.context, volume.id, new_size)
        return accepted()

    def set_bootable(req, volume, args):
        req.authorize("volume:update", {"project_id": volume.project_id})
        if not isinstance(args, dict) or "bootable" not in args:
            raise BadRequest("Invalid input received: Must specify bootable")
        volumes.set_flag(req.context, volume.id, bootable=to_bool(args["bootable"], "bootable"))
        return Response(status_code=200)  # Cinder: 200, empty body

    def readonly(req, volume, args):
        req.authorize("volume:update_readonly_flag", {"project_id": volume.project_id})
        if not isinstance(args, dict) or "readonly" not in args:
            raise BadRequest("Invalid input received: Must specify readonly")
        volumes.set_flag(req.context, volume.id, readonly=to_bool(args["readonly"], "readonly"))
        return accepted()

    def reset_status(req, volume, args):
        req.authorize("volume_extension:volume_admin_actions:reset_status", {"project_id": volume.project_id})
        args = args or {}
        if not any(k in args for k in ("status", "attach_status", "migration_status")):
            raise BadRequest("Invalid input received: Must specify 'status', 'attach_status' or "
                             "'migration_status' for update.")
        volumes.reset_status(req.context, volume.id, args.get("status"), args.get("attach_status"))
        return accepted()

    def force_delete(req, volume, args):
        req.authorize("volume_extension:volume_admin_actions:force_delete", {"project_id": volume.project_id})
        volumes.force_delete(req.context, volume.id)
        return accepted()

    def upload_image(req, volume, args):
        req.authorize("volume_extension:volume_actions:upload_image", {"project_id": volume.project_id})
        if not isinstance(args, dict) or not args.get("image_name"):
            raise BadRequest("No image_name was specified in request.")
        if "force" in args:
            args["force"] = to_bool(args["force"], "force")
        return accepted({"os-volume_upload_image": volumes.upload_to_image(req.context, volume.id, args)})

    actions = {"os-extend": extend, "os-set_bootable": set_bootable, "os-update_readonly_flag": readonly,
               "os-reset_status": reset_status, "os-force_delete": force_delete,
               "os-volume_upload_image": upload_image}

    @router.post(PREFIX + "/volumes/{volume_id}/action")
    def action(req: ApiRequest):
        payload = req.json()
        if not isinstance(payload, dict) or len(payload) != 1:
            raise BadRequest("Malformed request body: exactly one action is expected.")
        (name, args), = payload.items()
        if name not in actions:
            raise BadRequest(f"There is no such action: {name}")
        volume = volumes.get(req.context, req.path_params["volume_id"])
        return actions[name](req, volume, args)

