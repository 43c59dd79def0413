"""``POST /v3/{project_id}/volumes/{volume_id}/action``: one body key names the action.

The body is checked against the action's schema (:data:`~.schemas.VOLUME_ACTIONS`, Cinder's)
before anything else, so every handler below gets arguments of the right shape."""

from __future__ import annotations

from starlette.responses import Response

from pocketstack.common.api.request import ApiRequest
from pocketstack.common.errors import BadRequest
from pocketstack.volume.api.common import PREFIX, accepted, to_bool
from pocketstack.volume.api.schemas import VOLUME_ACTIONS
from pocketstack.volume.api.validation import validate


def register(router, service) -> None:
    volumes = service.volumes

    def extend(req, volume, args):
        req.authorize("volume:extend", {"project_id": volume.project_id})
        volumes.extend(req.context, volume.id, int(args["new_size"]))
        return accepted()

    def set_bootable(req, volume, args):
        req.authorize("volume:update", {"project_id": volume.project_id})
        volumes.set_flag(req.context, volume.id, bootable=to_bool(args["bootable"], "bootable"))
        return Response(status_code=200)  # Cinder: 200, empty body

    def readonly(req, volume, args):
        req.authorize("volume:update_readonly_flag", {"project_id": volume.project_id})
        volumes.set_flag(req.context, volume.id, readonly=to_bool(args["readonly"], "readonly"))
        return accepted()

    def reset_status(req, volume, args):
        req.authorize("volume_extension:volume_admin_actions:reset_status", {"project_id": volume.project_id})
        status, attach_status = (args.get(k).lower() if args.get(k) else None for k in ("status", "attach_status"))
        volumes.reset_status(req.context, volume.id, status, attach_status)
        return accepted()

    def force_delete(req, volume, args):
        req.authorize("volume_extension:volume_admin_actions:force_delete", {"project_id": volume.project_id})
        volumes.force_delete(req.context, volume.id)
        return accepted()

    def upload_image(req, volume, args):
        req.authorize("volume_extension:volume_actions:upload_image", {"project_id": volume.project_id})
        if "force" in args:
            args["force"] = to_bool(args["force"], "force")
        return accepted({"os-volume_upload_image": volumes.upload_to_image(req.context, volume.id, args)})

    def retype(req, volume, args):
        req.authorize("volume:retype", {"project_id": volume.project_id})
        service.retype(req.context, volume.id, args.get("new_type"), args.get("migration_policy"))
        return accepted()

    def set_image_metadata(req, volume, args):
        req.authorize("volume_extension:volume_image_metadata:set", {"project_id": volume.project_id})
        return {"metadata": volumes.set_image_metadata(req.context, volume.id, args["metadata"])}

    def unset_image_metadata(req, volume, args):
        req.authorize("volume_extension:volume_image_metadata:remove", {"project_id": volume.project_id})
        volumes.unset_image_metadata(req.context, volume.id, args["key"])
        return Response(status_code=200)  # Cinder: 200, empty body

    def show_image_metadata(req, volume, args):
        req.authorize("volume_extension:volume_image_metadata:show", {"project_id": volume.project_id})
        return {"metadata": volumes.image_metadata([volume.id])[volume.id]}

    # The legacy attach flow (os-reserve → os-attach → os-detach, os-unreserve) on top of
    # the attachment records: the same compare-and-swaps, so it never attaches twice either.
    def reserve(req, volume, args):
        req.authorize("volume:update", {"project_id": volume.project_id})
        service.attachments.create(req.context, volume.id, None, {"legacy": "os-reserve"})
        return accepted()

    def unreserve(req, volume, args):
        req.authorize("volume:update", {"project_id": volume.project_id})
        for attachment in service.attachments.list(req.context, True, volume_id=volume.id):
            if attachment.attach_status != "attached":
                service.attachments.delete(req.context, attachment.id)
        return accepted()

    def attach(req, volume, args):
        req.authorize("volume:update", {"project_id": volume.project_id})
        connector = {"host": args.get("host_name"), "mountpoint": args["mountpoint"]}
        pending = [a for a in service.attachments.list(req.context, True, volume_id=volume.id)
                   if a.attach_status != "attached"]
        for attachment in pending:  # an os-reserve's placeholder makes way for the real one
            service.attachments.delete(req.context, attachment.id)
        attachment = service.attachments.create(req.context, volume.id, args.get("instance_uuid"), connector,
                                                mode=args.get("mode") or "rw")
        service.attachments.complete(req.context, attachment.id)
        return accepted()

    def force_detach(req, volume, args):
        req.authorize("volume_extension:volume_admin_actions:force_detach", {"project_id": volume.project_id})
        return detach(req, volume, args, authorized=True)

    def detach(req, volume, args, authorized: bool = False):
        if not authorized:
            req.authorize("volume:update", {"project_id": volume.project_id})
        wanted = (args or {}).get("attachment_id")
        attached = [a for a in service.attachments.list(req.context, True, volume_id=volume.id)
                    if a.attach_status == "attached" and (wanted is None or a.id == wanted)]
        if not attached:
            raise BadRequest(f"Invalid volume: Volume {volume.id} status must be in-use to detach, "
                             f"but current status is: {volume.status}.")
        for attachment in attached:
            service.attachments.delete(req.context, attachment.id)
        return accepted()

    actions = {"os-extend": extend, "os-reserve": reserve, "os-unreserve": unreserve, "os-attach": attach,
               "os-detach": detach, "os-force_detach": force_detach, "os-set_bootable": set_bootable,
               "os-update_readonly_flag": readonly, "os-reset_status": reset_status,
               "os-force_delete": force_delete, "os-volume_upload_image": upload_image, "os-retype": retype,
               "os-set_image_metadata": set_image_metadata, "os-unset_image_metadata": unset_image_metadata,
               "os-show_image_metadata": show_image_metadata}

    @router.post(PREFIX + "/volumes/{volume_id}/action")
    def action(req: ApiRequest):
        payload = req.json()
        if not isinstance(payload, dict) or len(payload) != 1:
            raise BadRequest("Malformed request body: exactly one action is expected.")
        name = next(iter(payload))
        if name not in actions:
            raise BadRequest(f"There is no such action: {name}")
        validate(payload, VOLUME_ACTIONS[name])
        volume = volumes.get(req.context, req.path_params["volume_id"])
        return actions[name](req, volume, payload[name])

