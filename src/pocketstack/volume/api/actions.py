"""``POST /v3/{project_id}/volumes/{volume_id}/action``: one body key names the action.

The body is checked against the action's schema (:data:`~.schemas.VOLUME_ACTIONS`, Cinder's)
before anything else, so every action below gets arguments of the right shape; then the
volume is looked up (404) and the action's own rule enforced on its project (403)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from starlette.responses import Response

from pocketstack.common.api.request import ApiRequest
from pocketstack.common.api.routes import route
from pocketstack.volume import errors
from pocketstack.volume import models as m
from pocketstack.volume.api.common import PREFIX, accepted, to_bool
from pocketstack.volume.api.schemas import VOLUME_ACTIONS
from pocketstack.volume.api.validation import validate
from pocketstack.volume.attachments import Attachments
from pocketstack.volume.manage import Manage
from pocketstack.volume.migration import Migrations
from pocketstack.volume.volumes import Volumes

Action = Callable[[ApiRequest, m.Volume, Any], Any]
# The actions a later microversion added: below it they are a 404.
SINCE = {"os-reimage": (3, 68)}


def parse_action(payload: Any, schemas: dict[str, dict]) -> tuple[str, Any]:
    """``(name, arguments)`` of an action body ``{name: arguments}``, checked against the
    action's schema: 400 for anything but exactly one known action."""
    if not isinstance(payload, dict) or len(payload) != 1:
        raise errors.MalformedAction()
    name = next(iter(payload))
    if name not in schemas:
        raise errors.NoSuchAction(action=name)
    validate(payload, schemas[name])
    return name, payload[name]


def on(volume: m.Volume) -> dict[str, str]:
    return {"project_id": volume.project_id}


class VolumeActionsApi:
    def __init__(self, volumes: Volumes, attachments: Attachments, retype: Callable[..., None],
                 migrations: Migrations, manage: Manage):
        self.volumes = volumes
        self.attachments = attachments
        self.retype_volume = retype
        self.migrations = migrations
        self.manage = manage
        self.actions: dict[str, Action] = {
            "os-extend": self.extend, "os-reserve": self.reserve, "os-unreserve": self.unreserve,
            "os-attach": self.attach, "os-detach": self.detach, "os-force_detach": self.force_detach,
            "os-set_bootable": self.set_bootable, "os-update_readonly_flag": self.readonly,
            "os-reset_status": self.reset_status, "os-force_delete": self.force_delete,
            "os-volume_upload_image": self.upload_image, "os-retype": self.retype,
            "os-set_image_metadata": self.set_image_metadata, "os-unset_image_metadata": self.unset_image_metadata,
            "os-show_image_metadata": self.show_image_metadata,
            "os-initialize_connection": self.initialize_connection,
            "os-terminate_connection": self.terminate_connection, "os-reimage": self.reimage,
            "os-migrate_volume": self.migrate, "os-migrate_volume_completion": self.migrate_completion,
            "os-unmanage": self.unmanage}

    @route.post(PREFIX + "/volumes/{volume_id}/action")
    def action(self, req: ApiRequest) -> Any:
        """Every action enforces its own rule (see :mod:`pocketstack.volume.policies`)."""
        payload = req.json()
        name = next(iter(payload), None) if isinstance(payload, dict) and len(payload) == 1 else None
        if name in SINCE and not req.at_least(*SINCE[name]):
            raise errors.ActionNotAtVersion()  # Cinder: no method for the version, before the body's check
        name, args = parse_action(payload, VOLUME_ACTIONS)
        volume = self.volumes.get(req.caller, req.path_params["volume_id"])
        return self.actions[name](req, volume, args)

    def reimage(self, req: ApiRequest, volume: m.Volume, args: dict) -> Response:
        """3.68+ (see :data:`SINCE`)."""
        rule = "volume:reimage_reserved" if volume.status == "reserved" else "volume:reimage"
        req.authorize(rule, on(volume))
        self.volumes.reimage(req.caller, volume, args["image_id"],
                             to_bool(args.get("reimage_reserved", False), "reimage_reserved"))
        return accepted()

    def extend(self, req: ApiRequest, volume: m.Volume, args: dict) -> Response:
        if req.at_least(3, 42) and volume.status == "in-use":  # Cinder's extend_attached_volume
            req.authorize("volume:extend_attached_volume", on(volume))
            self.volumes.extend(req.caller, volume.id, int(args["new_size"]), attached=True)
        else:
            req.authorize("volume:extend", on(volume))
            self.volumes.extend(req.caller, volume.id, int(args["new_size"]))
        return accepted()

    def set_bootable(self, req: ApiRequest, volume: m.Volume, args: dict) -> Response:
        req.authorize("volume:update", on(volume))
        self.volumes.set_flag(req.caller, volume.id, bootable=to_bool(args["bootable"], "bootable"))
        return Response(status_code=200)  # Cinder: 200, empty body

    def readonly(self, req: ApiRequest, volume: m.Volume, args: dict) -> Response:
        req.authorize("volume:update_readonly_flag", on(volume))
        self.volumes.set_readonly(req.caller, volume.id, to_bool(args["readonly"], "readonly"))
        return accepted()

    def reset_status(self, req: ApiRequest, volume: m.Volume, args: dict) -> Response:
        req.authorize("volume_extension:volume_admin_actions:reset_status", on(volume))
        status, attach_status = (str(args[k]).lower() if args.get(k) else None for k in ("status", "attach_status"))
        self.volumes.reset_status(req.caller, volume.id, status, attach_status)
        return accepted()

    def force_delete(self, req: ApiRequest, volume: m.Volume, args: Any) -> Response:
        req.authorize("volume_extension:volume_admin_actions:force_delete", on(volume))
        self.volumes.force_delete(req.caller, volume.id)
        return accepted()

    def upload_image(self, req: ApiRequest, volume: m.Volume, args: dict) -> Response:
        req.authorize("volume_extension:volume_actions:upload_image", on(volume))
        if "force" in args:
            args["force"] = to_bool(args["force"], "force")
        return accepted({"os-volume_upload_image": self.volumes.upload_to_image(req.caller, volume.id, args)})

    def retype(self, req: ApiRequest, volume: m.Volume, args: dict) -> Response:
        req.authorize("volume:retype", on(volume))
        self.retype_volume(req.caller, volume.id, args.get("new_type"), args.get("migration_policy"))
        return accepted()

    def set_image_metadata(self, req: ApiRequest, volume: m.Volume, args: dict) -> dict:
        req.authorize("volume_extension:volume_image_metadata:set", on(volume))
        return {"metadata": self.volumes.set_image_metadata(req.caller, volume.id, args["metadata"])}

    def unset_image_metadata(self, req: ApiRequest, volume: m.Volume, args: dict) -> Response:
        req.authorize("volume_extension:volume_image_metadata:remove", on(volume))
        self.volumes.unset_image_metadata(req.caller, volume.id, args["key"])
        return Response(status_code=200)  # Cinder: 200, empty body

    def show_image_metadata(self, req: ApiRequest, volume: m.Volume, args: Any) -> dict:
        req.authorize("volume_extension:volume_image_metadata:show", on(volume))
        return {"metadata": self.volumes.image_metadata([volume.id])[volume.id]}

    # The legacy attach flow (os-reserve → os-attach → os-detach, os-unreserve) on top of
    # the attachment records: the same compare-and-swaps, so it never attaches twice either.
    def reserve(self, req: ApiRequest, volume: m.Volume, args: Any) -> Response:
        req.authorize("volume:update", on(volume))
        self.attachments.create(req.caller, volume.id, None, {"legacy": "os-reserve"})
        return accepted()

    def unreserve(self, req: ApiRequest, volume: m.Volume, args: Any) -> Response:
        req.authorize("volume:update", on(volume))
        for attachment in self.attachments.list(req.caller, True, volume_id=volume.id):
            if attachment.attach_status != "attached":
                self.attachments.delete(req.caller, attachment.id)
        return accepted()

    def attach(self, req: ApiRequest, volume: m.Volume, args: dict) -> Response:
        req.authorize("volume:update", on(volume))
        connector = {"host": args.get("host_name"), "mountpoint": args["mountpoint"]}
        pending = [a for a in self.attachments.list(req.caller, True, volume_id=volume.id)
                   if a.attach_status != "attached"]
        for attachment in pending:  # an os-reserve's placeholder makes way for the real one
            self.attachments.delete(req.caller, attachment.id)
        attachment = self.attachments.create(req.caller, volume.id, args.get("instance_uuid"), connector,
                                             mode=args.get("mode") or "rw")
        self.attachments.complete(req.caller, attachment.id)
        return accepted()

    # The connector calls of the legacy flow.  The file backend's volumes are local files:
    # the connection is Cinder's "local" type (os-brick's local connector), the path.
    def initialize_connection(self, req: ApiRequest, volume: m.Volume, args: dict) -> dict:
        req.authorize("volume_extension:volume_actions:initialize_connection", on(volume))
        return {"connection_info": self.volumes.connection_info(volume.id)}

    def terminate_connection(self, req: ApiRequest, volume: m.Volume, args: dict) -> Response:
        """Nothing is kept per connection here; what Cinder checks is kept: a user may not
        end the connection of an attachment compute made (OSSA-2023-003's 409)."""
        req.authorize("volume_extension:volume_actions:terminate_connection", on(volume))
        for attachment in self.attachments.list(req.caller, True, volume_id=volume.id):
            if attachment.attach_status == "attached":  # Cinder checks them all on this legacy call
                self.attachments.check_user_detach(req.caller, attachment)
        return accepted()

    # Both are refused for an attachment compute made unless a service asks, the admin's
    # force included (Cinder's attachment_deletion_allowed on os-detach and os-force_detach).
    def force_detach(self, req: ApiRequest, volume: m.Volume, args: dict) -> Response:
        req.authorize("volume_extension:volume_admin_actions:force_detach", on(volume))
        return self._detach(req, volume, args)

    def detach(self, req: ApiRequest, volume: m.Volume, args: dict | None) -> Response:
        req.authorize("volume:update", on(volume))
        return self._detach(req, volume, args)

    def _detach(self, req: ApiRequest, volume: m.Volume, args: dict | None) -> Response:
        wanted = (args or {}).get("attachment_id")
        attached = [a for a in self.attachments.list(req.caller, True, volume_id=volume.id)
                    if a.attach_status == "attached" and (wanted is None or a.id == wanted)]
        if not attached and wanted is None:
            # Cinder's detach of a volume with no attachment is a no-op that succeeds
            # ("Volume detach called, but volume not attached."): clients clean up with it.
            return accepted()
        if not attached:
            raise errors.NotAttached(volume_id=volume.id, current=volume.status)
        for attachment in attached:
            self.attachments.check_user_detach(req.caller, attachment)
        for attachment in attached:
            self.attachments.delete(req.caller, attachment.id)
        return accepted()

    def migrate(self, req: ApiRequest, volume: m.Volume, args: dict) -> Response:
        """To a host (``host@backend[#pool]``); from 3.16 a cluster may be named instead
        (none exists here), one and only one of them (Cinder's ``get_cluster_host``)."""
        req.authorize("volume_extension:volume_admin_actions:migrate_volume", on(volume))
        host = args.get("host")
        cluster = args.get("cluster") if req.at_least(3, 16) else None
        if bool(host) == bool(cluster):
            raise errors.InvalidInput(reason="One and only one of cluster and host must be set."
                                      if req.at_least(3, 16) else "Host field is missing.")
        for key in ("force_host_copy", "lock_volume"):
            to_bool(args.get(key, False), key)
        self.migrations.migrate(req.caller, volume.id, str(host or cluster))
        return accepted()

    def migrate_completion(self, req: ApiRequest, volume: m.Volume, args: dict) -> dict:
        req.authorize("volume_extension:volume_admin_actions:migrate_volume_completion", on(volume))
        error = args.get("error")
        failed = to_bool(error, "error") if isinstance(error, str) else bool(error)
        return {"save_volume_id": self.migrations.complete(req.caller, volume.id, args["new_volume"], failed)}

    def unmanage(self, req: ApiRequest, volume: m.Volume, args: Any) -> Response:
        req.authorize("volume_extension:volume_unmanage", on(volume))
        self.manage.unmanage_volume(req.caller, volume.id)
        return accepted()
