"""``POST /servers/{id}/action``: power, lock, rescue, rebuild, resize, snapshot, console.

Each action authorises, checks the lock, moves the server into its ``*-ing`` task state by
compare-and-swap (409 with Nova's wording when the state does not allow it), records the
instance action and casts the work to the server's host.
"""

from __future__ import annotations

import secrets
import uuid

from starlette.responses import Response

from pocketstack.common.api.app import ApiRequest, Router, json_response
from pocketstack.common.api.errors import BadRequest, Conflict, NotFound
from pocketstack.common.api.validation import validate
from pocketstack.compute import states as st
from pocketstack.compute.api import render
from pocketstack.compute.api.common import (accepted, at_least, check_unlocked, get_instance, is_admin,
                                            start_delete, url)
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
_METADATA = {"type": "object", "additionalProperties": {"type": "string", "maxLength": 255}}
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
_CONSOLE = {"type": ["object", "null"], "properties": {"length": {"type": ["integer", "string", "null"],
                                                                   "pattern": "^-?[0-9]+$"}}}
_RESCUE = {"type": ["object", "null"], "properties": {"adminPass": {"type": "string"},
                                                      "rescue_image_ref": {"type": "string"}}}
_LOCK = {"type": "null"}  # locked_reason arrives with 2.73, beyond our maximum


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
        return {"output": compute.rpc.get_console_output(inst.host, inst.id, length)}

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
        out = render.server(req, inst, metadata[inst.id], tags[inst.id], compute.addresses([inst.id])[inst.id])
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
            with compute.db.session() as s:
                compute.quotas.reserve(s, inst.project_id, grow, limits)
        migration = {"id": str(uuid.uuid4()), "source_host": inst.host, "quota": quota}
        try:
            inst = begin(compute.db, inst.id, "resize", [st.ACTIVE, st.STOPPED], st.RESIZE_PREP,
                         {"new_flavor": new, "migration": migration})
        except Conflict:
            if grow:
                with compute.db.session() as s:
                    compute.quotas.release(s, inst.project_id, grow)
            raise
        compute.rpc.resize_instance(inst.host, inst.id, record(req, inst, "resize"))
        return accepted()

    def confirm_resize(req: ApiRequest, args):
        inst = get_instance(compute, req, req.path_params["server_id"], "os_compute_api:servers:confirm_resize")
        check_unlocked(req, inst)
        inst = begin(compute.db, inst.id, "confirmResize", [st.RESIZED], st.RESIZE_CONFIRMING)
        compute.rpc.confirm_resize(inst.host, inst.id, record(req, inst, "confirmResize"))
        return Response(status_code=204)

    def revert_resize(req: ApiRequest, args):
        inst = get_instance(compute, req, req.path_params["server_id"], "os_compute_api:servers:revert_resize")
        check_unlocked(req, inst)
        inst = begin(compute.db, inst.id, "revertResize", [st.RESIZED], st.RESIZE_REVERTING)
        compute.rpc.revert_resize(inst.host, inst.id, record(req, inst, "revertResize"))
        return accepted()

    def create_image(req: ApiRequest, args):
        args = validate(args, _CREATE_IMAGE)
        inst = get_instance(compute, req, req.path_params["server_id"], "os_compute_api:servers:create_image")
        check_unlocked(req, inst)
        inst = begin(compute.db, inst.id, "createImage", [st.ACTIVE, st.STOPPED, st.PAUSED, st.SUSPENDED],
                     st.IMAGE_SNAPSHOT)
        try:
            try:
                base = compute.images.manager.get_image(req.context, inst.image_ref)
            except NotFound:
                base = None
            image_id = compute.images.create_snapshot(req.context, args["name"], inst.id, base,
                                                      args.get("metadata") or {})
        except Exception:
            transition(compute.db, inst.id, {"task_state": st.IMAGE_SNAPSHOT}, {"task_state": None})
            raise
        compute.rpc.snapshot_instance(inst.host, inst.id, image_id, record(req, inst, "createImage"))
        if at_least(req, 2, 45):
            return json_response({"image_id": image_id}, status=202)
        return Response(status_code=202, headers={"Location": url(req, "images", image_id)})

    HANDLERS = {name: simple(name) for name in SIMPLE}
    HANDLERS.update({"reboot": reboot, "rescue": rescue, "lock": lock, "unlock": unlock,
                     "forceDelete": force_delete, "os-getConsoleOutput": console_output, "rebuild": rebuild,
                     "resize": resize, "confirmResize": confirm_resize, "revertResize": revert_resize,
                     "createImage": create_image})
