"""``POST /servers/{id}/action``: power, lock, rescue, rebuild, resize, snapshot, console.

Each action authorises, checks the lock, moves the server into its ``*-ing`` task state by
compare-and-swap (409 with Nova's wording when the state does not allow it), records the
instance action and casts the work to the server's host.
"""

from __future__ import annotations

import secrets
import uuid

from starlette.responses import Response

from pocketstack.common.api.request import ApiRequest, json_response
from pocketstack.common.api.routes import Router
from pocketstack.common.api.validation import validate
from pocketstack.common.db.cas import run_in_transaction
from pocketstack.common.errors import BadRequest, Conflict, NotFound
from pocketstack.compute import states as st
from pocketstack.compute.api import consoles, floating_ips, render, security_groups
from pocketstack.compute.api.common import accepted, at_least, check_unlocked, get_instance, is_admin, start_delete, url
from pocketstack.compute.instances import check_user_data, embed_flavor
from pocketstack.compute.lifecycle import OPERATIONS
from pocketstack.compute.transitions import begin, transition

# action -> (policy rule, allowed vm_states, operation name in lifecycle.OPERATIONS)
SIMPLE = {
    "os-stop": ("os_compute_api:servers:stop", [st.ACTIVE, st.ERROR], "stop", "stop"),
    "os-start": ("os_compute_api:servers:start", [st.STOPPED], "start", "start"),
    "pause": ("os_compute_api:os-pause-server:pause", [st.ACTIVE], "pause", "pause"),
    "unpause": ("os_compute_api:os-pause-server:unpause", [st.PAUSED], "unpause", "unpause"),
    "suspend": ("os_compute_api:os-suspend-server:suspend", [st.ACTIVE], "suspend", "suspend"),
    "resume": ("os_compute_api:os-suspend-server:resume", [st.SUSPENDED], "resume", "resume"),
    "unrescue": ("os_compute_api:os-unrescue", [st.RESCUED], "unrescue", "unrescue"),
}
_REBOOT = {"type": "object", "required": ["type"], "properties": {
    "type": {"type": "string", "pattern": "^([Hh][Aa][Rr][Dd]|[Ss][Oo][Ff][Tt])$"}}}
_RESIZE = {"type": "object", "required": ["flavorRef"], "properties": {
    "flavorRef": {"type": ["string", "integer"], "minLength": 1}, "OS-DCF:diskConfig": {"type": "string"}},
    "additionalProperties": False}
_METADATA = {"type": "object", "propertyNames": {"type": "string", "minLength": 1, "maxLength": 255},
             "additionalProperties": {"type": "string", "maxLength": 255}}
_CREATE_IMAGE = {"type": "object", "required": ["name"], "properties": {
    "name": {"type": "string", "minLength": 1, "maxLength": 255}, "metadata": _METADATA},
    "additionalProperties": False}
_REBUILD = {"type": "object", "required": ["imageRef"], "properties": {
    "imageRef": {"type": "string", "minLength": 1}, "name": {"type": "string", "minLength": 1, "maxLength": 255},
    "adminPass": {"type": "string"}, "metadata": _METADATA, "preserve_ephemeral": {"type": "boolean"},
    "OS-DCF:diskConfig": {"type": "string"}, "accessIPv4": {"type": "string"}, "accessIPv6": {"type": "string"},
    "description": {"type": ["string", "null"], "maxLength": 255}, "key_name": {"type": ["string", "null"]},
    "user_data": {"type": ["string", "null"]}, "trusted_image_certificates": {"type": ["array", "null"]}},
    "additionalProperties": False}
_BACKUP = {"type": "object", "required": ["name", "backup_type", "rotation"], "additionalProperties": False,
           "properties": {"name": {"type": "string", "minLength": 1, "maxLength": 255},
                          "backup_type": {"type": "string"}, "metadata": _METADATA,
                          "rotation": {"type": ["integer", "string"], "pattern": "^[0-9]+$", "minimum": 0}}}
_CONSOLE = {"type": ["object", "null"], "properties": {"length": {"type": ["integer", "string", "null"],
                                                                   "pattern": "^-?[0-9]+$"}}}
_RESCUE = {"type": ["object", "null"], "properties": {"adminPass": {"type": "string"},
                                                      "rescue_image_ref": {"type": "string"}}}
# Before 2.73 (beyond our maximum, where locked_reason arrives) Nova ignores the body.
_LOCK = {"type": ["null", "object"]}
_RESET_STATE = {"type": "object", "required": ["state"], "additionalProperties": False,
                "properties": {"state": {"type": "string", "enum": ["active", "error"]}}}
# resetState overrides any state but a delete in progress: the delete must finish.
_RESETTABLE_TASKS = [None, st.SCHEDULING, st.NETWORKING, st.BLOCK_DEVICE_MAPPING, st.SPAWNING, st.POWERING_OFF,
                     st.POWERING_ON, st.REBOOTING, st.REBOOTING_HARD, st.PAUSING, st.UNPAUSING, st.SUSPENDING,
                     st.RESUMING, st.REBUILDING, st.RESIZE_PREP, st.RESIZE_MIGRATING, st.RESIZE_FINISH,
                     st.RESIZE_REVERTING, st.RESIZE_CONFIRMING, st.IMAGE_SNAPSHOT, st.RESCUING, st.UNRESCUING]


def register(router: Router, compute) -> None:
    def record(req: ApiRequest, inst, action: str) -> str:
        return compute.actions.start(inst.id, action, req.attributes["request_id"], req.context.project_id,
                                     req.context.user_id)

    def operate(req: ApiRequest, inst, name: str, vm_states: list[str], operation: str, action: str):
        op = OPERATIONS[operation]
        inst = begin(compute.db, inst.id, name, vm_states, op.task_state)
        compute.rpc.run_operation(inst.host, inst.id, operation, record(req, inst, action))
        return accepted()

    @router.post("/v2.1/servers/{server_id}/action")
    def server_action(req: ApiRequest):
        data = req.json()
        if not isinstance(data, dict) or len(data) != 1:
            raise BadRequest("There is no such action: the body must hold exactly one action.")
        (action, args), = data.items()
        handler = HANDLERS.get(action)
        if handler is None:
            raise BadRequest(f"There is no such action: {action}")
        return handler(req, args)

    def simple(action: str):
        rule, vm_states, operation, name = SIMPLE[action]

        def handle(req: ApiRequest, args):
            inst = get_instance(compute, req, req.path_params["server_id"], rule)
            check_unlocked(req, inst)
            return operate(req, inst, name, vm_states, operation, name)
        return handle

    def reboot(req: ApiRequest, args):
        args = validate(args, _REBOOT)
        inst = get_instance(compute, req, req.path_params["server_id"], "os_compute_api:servers:reboot")
        check_unlocked(req, inst)
        if args["type"].upper() == "HARD":
            return operate(req, inst, "reboot", [st.ACTIVE, st.STOPPED, st.PAUSED, st.SUSPENDED, st.ERROR],
                           "reboot_hard", "reboot")
        return operate(req, inst, "reboot", [st.ACTIVE], "reboot_soft", "reboot")

    def rescue(req: ApiRequest, args):
        args = validate(args, _RESCUE) or {}
        inst = get_instance(compute, req, req.path_params["server_id"], "os_compute_api:os-rescue")
        check_unlocked(req, inst)
        if args.get("rescue_image_ref"):
            compute.images.bootable(req.context, args["rescue_image_ref"])
        operate(req, inst, "rescue", [st.ACTIVE, st.STOPPED, st.ERROR], "rescue", "rescue")
        return {"adminPass": args.get("adminPass") or secrets.token_urlsafe(9)}

    def lock(req: ApiRequest, args):
        validate(args, _LOCK)
        inst = get_instance(compute, req, req.path_params["server_id"], "os_compute_api:os-lock-server:lock")
        transition(compute.db, inst.id, {}, {"locked": True, "locked_by": "admin" if is_admin(req) else "owner"})
        record(req, inst, "lock")
        return accepted()

    def unlock(req: ApiRequest, args):
        inst = get_instance(compute, req, req.path_params["server_id"], "os_compute_api:os-lock-server:unlock")
        if inst.locked and inst.locked_by == "admin" and not is_admin(req):
            req.authorize("os_compute_api:os-lock-server:unlock:unlock_override",
                          {"project_id": inst.project_id})
        transition(compute.db, inst.id, {}, {"locked": False, "locked_by": None})
        record(req, inst, "unlock")
        return accepted()

    def reset_state(req: ApiRequest, args):
        """Admin override (Nova's os-resetState): set vm_state, clear the task.  An operation
        still in flight loses its next compare-and-swap and stops."""
        args = validate(args, _RESET_STATE)
        inst = get_instance(compute, req, req.path_params["server_id"], "os_compute_api:os-admin-actions:reset_state")
        if not transition(compute.db, inst.id, {"task_state": _RESETTABLE_TASKS},
                          {"vm_state": args["state"], "task_state": None}):
            raise Conflict(f"Cannot 'os-resetState' instance {inst.id} while it is in task_state deleting")
        record(req, inst, "resetState")
        return accepted()

    def inject_network_info(req: ApiRequest, args):
        """Accepted and recorded; the fake driver's guests read no injected network data."""
        inst = get_instance(compute, req, req.path_params["server_id"],
                            "os_compute_api:os-admin-actions:inject_network_info")
        record(req, inst, "inject_network_info")
        return accepted()

    def unsupported_move(action: str, rule: str):
        """Moving a guest between hosts (cold or live migration, evacuate) is not
        implemented: the server is looked up (404 as usual), then 400 says so."""
        def handle(req: ApiRequest, args):
            get_instance(compute, req, req.path_params["server_id"], rule)
            raise BadRequest(f"'{action}' is not supported: the fake hypervisor cannot move guests between hosts.")
        return handle

    def restore(req: ApiRequest, args):
        """Servers are deleted at once (no ``reclaim_instance_interval``), so none is ever
        soft-deleted and there is nothing to restore: 409, as Nova for a live server."""
        inst = get_instance(compute, req, req.path_params["server_id"], "os_compute_api:os-deferred-delete:restore")
        raise Conflict(f"Cannot 'restore' instance {inst.id} while it is in vm_state {inst.vm_state}")

    def legacy_console(action: str):
        protocol = consoles.LEGACY_ACTIONS[action]

        def handle(req: ApiRequest, args):
            kind = validate(args, consoles.LEGACY)["type"]
            return {"console": {"type": kind, "url": consoles.console_url(compute, req, protocol, kind)}}
        return handle

    def force_delete(req: ApiRequest, args):
        inst = get_instance(compute, req, req.path_params["server_id"], "os_compute_api:os-deferred-delete:force")
        start_delete(compute, req, inst)
        return accepted()

    def console_output(req: ApiRequest, args):
        args = validate(args, _CONSOLE) or {}
        inst = get_instance(compute, req, req.path_params["server_id"], "os_compute_api:os-console-output")
        length = args.get("length")
        length = None if length in (None, -1, "-1") else int(length)
        if length is not None and length < 0:
            raise BadRequest(f"Invalid input for field/attribute length. Value: {length}.")
        if not inst.host or inst.vm_state in (st.BUILDING, st.ERROR):
            raise Conflict(f"Instance {inst.id} is not ready: it is in vm_state {inst.vm_state}")
        output = compute.rpc.get_console_output(inst.host, inst.id, None)
        if length is not None:  # Nova's tail: the last ``length`` pieces between newlines
            output = "\n".join(output.split("\n")[-length:]) if length else ""
        return {"output": output}

    def rebuild(req: ApiRequest, args):
        args = validate(args, _REBUILD)
        inst = get_instance(compute, req, req.path_params["server_id"], "os_compute_api:servers:rebuild")
        check_unlocked(req, inst)
        image = compute.images.bootable(req.context, args["imageRef"].rsplit("/", 1)[-1])
        extra = {"image_ref": image.id, "image_properties": dict(image.properties)}
        if "name" in args:
            extra["name"] = args["name"]
        if "description" in args:
            extra["description"] = args["description"]
        if "key_name" in args and at_least(req, 2, 54):
            key_name = args["key_name"]
            extra["key_name"] = key_name
            extra["key_data"] = compute.keypairs.get(req.context.user_id, key_name).public_key if key_name else None
        if "user_data" in args and at_least(req, 2, 57):
            check_user_data(args["user_data"])
            extra["user_data"] = args["user_data"]
        inst = begin(compute.db, inst.id, "rebuild", [st.ACTIVE, st.STOPPED, st.ERROR], st.REBUILDING, extra)
        if "metadata" in args:
            compute.instances.set_metadata(inst.id, inst.project_id, args["metadata"], replace=True)
        compute.rpc.rebuild_instance(inst.host, inst.id, record(req, inst, "rebuild"))
        metadata, tags = compute.instances.details([inst.id])
        out = render.changed(render.server(req, inst, metadata[inst.id], tags[inst.id],
                                           compute.addresses([inst.id])[inst.id]))
        if at_least(req, 2, 54):
            out["key_name"] = inst.key_name
        if at_least(req, 2, 57):
            out["user_data"] = inst.user_data
        out["adminPass"] = args.get("adminPass") or secrets.token_urlsafe(9)
        return json_response({"server": out}, status=202)

    def resize(req: ApiRequest, args):
        args = validate(args, _RESIZE)
        inst = get_instance(compute, req, req.path_params["server_id"], "os_compute_api:servers:resize")
        check_unlocked(req, inst)
        try:
            flavor = compute.flavors.get_visible(str(args["flavorRef"]), req.context.project_id, is_admin(req))
        except NotFound:
            raise BadRequest(f"Unable to find flavor {args['flavorRef']}.") from None
        new = embed_flavor(flavor, compute.flavors.extra_specs(flavor.id))
        old = inst.flavor
        if all(new[k] == old[k] for k in ("vcpus", "ram", "disk", "ephemeral", "swap")) \
                and new["extra_specs"] == old.get("extra_specs"):
            raise BadRequest("When resizing, instances must change flavor!")
        if new["disk"] < old["disk"]:
            raise BadRequest("Resize error: Unable to resize disk down.")
        quota = {"cores": new["vcpus"] - old["vcpus"], "ram": new["ram"] - old["ram"]}
        grow = {r: d for r, d in quota.items() if d > 0}
        if grow:
            compute.quotas.ensure_rows(inst.project_id, grow)
            limits = compute.quotas.limits(inst.project_id)
            run_in_transaction(compute.db, lambda s: compute.quotas.reserve(s, inst.project_id, grow, limits))
        migration = {"id": str(uuid.uuid4()), "source_host": inst.host, "quota": quota}
        try:
            inst = begin(compute.db, inst.id, "resize", [st.ACTIVE, st.STOPPED], st.RESIZE_PREP,
                         {"new_flavor": new, "migration": migration})
        except Conflict:
            if grow:
                with compute.db.session() as s:
                    compute.quotas.release(s, inst.project_id, grow)
            raise
        compute.migration_records.start(inst, migration["id"], flavor.id, req.context.user_id)
        compute.rpc.resize_instance(inst.host, inst.id, record(req, inst, "resize"))
        return accepted()

    def confirm_resize(req: ApiRequest, args):
        inst = get_instance(compute, req, req.path_params["server_id"], "os_compute_api:servers:confirm_resize")
        check_unlocked(req, inst)
        inst = begin(compute.db, inst.id, "confirmResize", [st.RESIZED], st.RESIZE_CONFIRMING)
        compute.migration_records.decide(inst, "confirming")
        compute.rpc.confirm_resize(inst.host, inst.id, record(req, inst, "confirmResize"))
        return Response(status_code=204)

    def revert_resize(req: ApiRequest, args):
        inst = get_instance(compute, req, req.path_params["server_id"], "os_compute_api:servers:revert_resize")
        check_unlocked(req, inst)
        inst = begin(compute.db, inst.id, "revertResize", [st.RESIZED], st.RESIZE_REVERTING)
        compute.migration_records.decide(inst, "reverting")
        compute.rpc.revert_resize(inst.host, inst.id, record(req, inst, "revertResize"))
        return accepted()

    def create_image(req: ApiRequest, args):
        args = validate(args, _CREATE_IMAGE)
        inst = get_instance(compute, req, req.path_params["server_id"], "os_compute_api:servers:create_image")
        return snapshot(req, inst, "createImage", args["name"], args.get("metadata") or {})

    def create_backup(req: ApiRequest, args):
        """A snapshot tagged ``image_type=backup`` + ``backup_type``; the oldest backups of
        that type beyond ``rotation - 1`` are deleted first, so ``rotation`` remain once the
        new one is written (Nova rotates after the upload; the count is the same)."""
        args = validate(args, _BACKUP)
        inst = get_instance(compute, req, req.path_params["server_id"], "os_compute_api:os-create-backup")
        rotation = int(args["rotation"])
        metadata = {**(args.get("metadata") or {}), "image_type": "backup", "backup_type": args["backup_type"]}
        return snapshot(req, inst, "createBackup", args["name"], metadata, rotation=rotation)

    def snapshot(req: ApiRequest, inst, action: str, name: str, metadata: dict, rotation: int | None = None):
        check_unlocked(req, inst)
        inst = begin(compute.db, inst.id, action, [st.ACTIVE, st.STOPPED, st.PAUSED, st.SUSPENDED],
                     st.IMAGE_SNAPSHOT)
        try:
            if rotation is not None:
                compute.images.rotate_backups(req.context, inst.id, metadata["backup_type"], max(rotation - 1, 0))
            try:
                base = compute.images.manager.get_image(req.context, inst.image_ref)
            except NotFound:
                base = None
            image_id = compute.images.create_snapshot(req.context, name, inst.id, base, metadata)
        except Exception:
            transition(compute.db, inst.id, {"task_state": st.IMAGE_SNAPSHOT}, {"task_state": None})
            raise
        compute.rpc.snapshot_instance(inst.host, inst.id, image_id, record(req, inst, action))
        if at_least(req, 2, 45):
            return json_response({"image_id": image_id}, status=202)
        return Response(status_code=202, headers={"Location": url(req, "images", image_id)})

    HANDLERS = {name: simple(name) for name in SIMPLE}
    HANDLERS.update({name: legacy_console(name) for name in consoles.LEGACY_ACTIONS})
    HANDLERS.update({"migrate": unsupported_move("migrate", "os_compute_api:os-migrate-server:migrate"),
                     "os-migrateLive": unsupported_move("os-migrateLive",
                                                        "os_compute_api:os-migrate-server:migrate_live"),
                     "evacuate": unsupported_move("evacuate", "os_compute_api:os-evacuate")})
    HANDLERS.update({"addSecurityGroup": security_groups.server_action(compute, record, add=True),
                     "removeSecurityGroup": security_groups.server_action(compute, record, add=False)})
    HANDLERS.update({"addFloatingIp": floating_ips.server_action(compute, record, add=True),
                     "removeFloatingIp": floating_ips.server_action(compute, record, add=False)})
    HANDLERS.update({"reboot": reboot, "rescue": rescue, "lock": lock, "unlock": unlock,
                     "forceDelete": force_delete, "os-getConsoleOutput": console_output, "rebuild": rebuild,
                     "resize": resize, "confirmResize": confirm_resize, "revertResize": revert_resize,
                     "createImage": create_image, "createBackup": create_backup, "os-resetState": reset_state,
                     "injectNetworkInfo": inject_network_info, "restore": restore})
