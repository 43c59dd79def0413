"""``POST /servers/{id}/action``: power, lock, rescue, rebuild, resize, snapshot, console.

Each action authorises, checks the lock, moves the server into its ``*-ing`` task state by
compare-and-swap (409 with Nova's wording when the state does not allow it), records the
instance action and casts the work to the server's host.
"""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Callable
from functools import partial
from typing import TYPE_CHECKING, Any

from starlette.responses import Response

from pocketstack.common.api.request import ApiRequest, json_response
from pocketstack.common.api.routes import route
from pocketstack.common.db.cas import run_in_transaction
from pocketstack.common.errors import Conflict, NotFound
from pocketstack.common.validation import validate
from pocketstack.compute import disk_config, errors, moves, volume_backed
from pocketstack.compute import states as st
from pocketstack.compute.api import consoles, floating_ips, multinic, security_groups
from pocketstack.compute.api.common import (
    accepted,
    at_least,
    caller_id,
    check_unlocked,
    get_instance,
    is_admin,
    record_action,
    schema_at,
    start_delete,
    to_bool,
    url,
    volume_service,
    with_server_groups,
)
from pocketstack.compute.api.schemas import actions as schemas
from pocketstack.compute.api.servers import changed_view
from pocketstack.compute.drivers.base import Rescue
from pocketstack.compute.instances import check_personality, check_user_data, embed_flavor
from pocketstack.compute.lifecycle import OPERATIONS
from pocketstack.compute.transitions import begin, transition

if TYPE_CHECKING:
    from pocketstack.compute.manager import Compute

# action -> (policy rule, allowed vm_states, operation in lifecycle.OPERATIONS, action name)
SIMPLE = {
    "os-stop": ("os_compute_api:servers:stop", [st.ACTIVE, st.ERROR], "stop", "stop"),
    "os-start": ("os_compute_api:servers:start", [st.STOPPED], "start", "start"),
    "pause": ("os_compute_api:os-pause-server:pause", [st.ACTIVE], "pause", "pause"),
    "unpause": ("os_compute_api:os-pause-server:unpause", [st.PAUSED], "unpause", "unpause"),
    "suspend": ("os_compute_api:os-suspend-server:suspend", [st.ACTIVE], "suspend", "suspend"),
    "resume": ("os_compute_api:os-suspend-server:resume", [st.SUSPENDED], "resume", "resume"),
    "unrescue": ("os_compute_api:os-unrescue", [st.RESCUED], "unrescue", "unrescue"),
}
# resetState overrides any state but a delete in progress: the delete must finish.
_RESETTABLE_TASKS = [None, st.SCHEDULING, st.NETWORKING, st.BLOCK_DEVICE_MAPPING, st.SPAWNING, st.POWERING_OFF,
                     st.POWERING_ON, st.REBOOTING, st.REBOOTING_HARD, st.PAUSING, st.UNPAUSING, st.SUSPENDING,
                     st.RESUMING, st.REBUILDING, st.RESIZE_PREP, st.RESIZE_MIGRATING, st.RESIZE_FINISH,
                     st.RESIZE_REVERTING, st.RESIZE_CONFIRMING, st.IMAGE_SNAPSHOT, st.RESCUING, st.UNRESCUING,
                     st.UPDATING_PASSWORD]



ActionHandler = Callable[[ApiRequest, Any], Any]


def console_length(args: dict) -> int | None:
    """``os-getConsoleOutput``'s ``length``: None (or -1) for everything, else the number
    of last lines."""
    raw = args.get("length")
    if raw is None or raw in (-1, "-1"):
        return None
    length = int(raw)
    if length < 0:
        raise errors.InvalidConsoleLength(length=length)
    return length


def tail(output: str, length: int | None) -> str:
    """Nova's tail: the last ``length`` pieces between newlines."""
    if length is None:
        return output
    return "\n".join(output.split("\n")[-length:]) if length else ""


def available_zones(compute: Compute) -> set[str]:
    """The zones with an enabled compute host (Nova's ``get_only_available``)."""
    return {node.availability_zone for node in compute.hosts.list() if not node.disabled}


def snapshot_accepted(req: ApiRequest, image_id: str) -> Response:
    """202 with the image's id in the body (2.45 on) or in ``Location`` (before)."""
    if req.at_least(2, 45):
        return json_response({"image_id": image_id}, status=202)
    return Response(status_code=202, headers={"Location": url(req, "images", image_id)})


class ServerActionsApi:
    """One route for every action: the body's single key names it.  Each action
    authorizes its own rule (so the route declares none) and checks its own arguments."""

    def __init__(self, compute: Compute):
        self.compute = compute
        handlers: dict[str, ActionHandler] = {name: partial(self.simple, name) for name in SIMPLE}
        handlers.update({name: partial(self.legacy_console, name) for name in consoles.LEGACY_ACTIONS})
        handlers.update({"migrate": self.migrate, "os-migrateLive": self.migrate_live, "evacuate": self.evacuate})
        for module, add, remove in ((security_groups, "addSecurityGroup", "removeSecurityGroup"),
                                    (floating_ips, "addFloatingIp", "removeFloatingIp"),
                                    (multinic, "addFixedIp", "removeFixedIp")):
            handlers[add] = partial(module.server_action, compute, self.record, add=True)
            handlers[remove] = partial(module.server_action, compute, self.record, add=False)
        handlers.update({"reboot": self.reboot, "rescue": self.rescue, "lock": self.lock, "unlock": self.unlock,
                         "forceDelete": self.force_delete, "os-getConsoleOutput": self.console_output,
                         "rebuild": self.rebuild, "resize": self.resize, "confirmResize": self.confirm_resize,
                         "revertResize": self.revert_resize, "createImage": self.create_image,
                         "createBackup": self.create_backup, "os-resetState": self.reset_state,
                         "injectNetworkInfo": self.inject_network_info, "restore": self.restore,
                         "shelve": self.shelve, "shelveOffload": self.shelve_offload, "unshelve": self.unshelve,
                         "changePassword": self.change_password})
        self.handlers = handlers

    @route.post("/v2.1/servers/{server_id}/action")
    def action(self, req: ApiRequest):
        data = req.json()
        if not isinstance(data, dict) or len(data) != 1:
            raise errors.ActionBodyMalformed()
        (action, args), = data.items()
        handler = self.handlers.get(action)
        if handler is None:
            raise errors.NoSuchAction(action=action)
        return handler(req, args)

    # -- helpers ---------------------------------------------------------------------------
    def server(self, req: ApiRequest, rule: str):
        return get_instance(self.compute, req, req.path_params["server_id"], rule)

    def record(self, req: ApiRequest, inst, action: str) -> str:
        return record_action(self.compute, req, inst, action)

    def operate(self, req: ApiRequest, inst, name: str, vm_states: list[str], operation: str, action: str,
                extra: dict | None = None):
        op = OPERATIONS[operation]
        inst = begin(self.compute.db, inst.id, name, vm_states, op.task_state, extra)
        self.compute.rpc.run_operation(inst.host, inst.id, operation, self.record(req, inst, action))
        return accepted()

    # -- power and state -------------------------------------------------------------------
    def simple(self, action: str, req: ApiRequest, args):
        """os-stop, os-start, pause, unpause, suspend, resume, unrescue (:data:`SIMPLE`)."""
        rule, vm_states, operation, name = SIMPLE[action]
        inst = self.server(req, rule)
        check_unlocked(req, inst)
        return self.operate(req, inst, name, vm_states, operation, name)

    def reboot(self, req: ApiRequest, args):
        args = validate(args, schemas.REBOOT)
        inst = self.server(req, "os_compute_api:servers:reboot")
        check_unlocked(req, inst)
        if args["type"].upper() == "HARD":
            return self.operate(req, inst, "reboot", [st.ACTIVE, st.STOPPED, st.PAUSED, st.SUSPENDED, st.ERROR],
                                "reboot_hard", "reboot")
        return self.operate(req, inst, "reboot", [st.ACTIVE], "reboot_soft", "reboot")

    def rescue(self, req: ApiRequest, args):
        args = validate(args, schemas.RESCUE) or {}
        inst = self.server(req, "os_compute_api:os-rescue")
        check_unlocked(req, inst)
        image = None
        if args.get("rescue_image_ref"):
            image = self.compute.images.bootable(req.caller, args["rescue_image_ref"])
        properties = inst.image_properties if image is None else image.properties
        self.check_rescuable(req, inst, properties)
        # The host boots the image asked for (the server's own by default), attached as its
        # hw_rescue_device/hw_rescue_bus say: recorded with the move into ``rescuing``.
        rescue = Rescue.of(image.id if image is not None else None, properties)
        self.operate(req, inst, "rescue", [st.ACTIVE, st.STOPPED, st.ERROR], "rescue", "rescue",
                     {"guest": {**inst.guest, "rescue": rescue.as_dict()}})
        return {"adminPass": args.get("adminPass") or secrets.token_urlsafe(9)}

    def check_rescuable(self, req: ApiRequest, inst, image_properties: dict) -> None:
        """A volume-backed server is rescued only from 2.87, with a rescue image (or its
        own) that says how to attach the rescue disk (``hw_rescue_bus`` and
        ``hw_rescue_device``), on a host reporting COMPUTE_RESCUE_BFV (400 otherwise)."""
        if not volume_backed.is_volume_backed(inst.image_ref, self.compute.block_devices.for_instance(inst.id)):
            return
        if not (at_least(req, 2, 87) and {"hw_rescue_bus", "hw_rescue_device"} <= set(image_properties or {})):
            raise errors.InstanceNotRescuable(instance_id=inst.id, reason="Cannot rescue a volume-backed instance")
        if inst.host and "COMPUTE_RESCUE_BFV" not in self.compute.hosts.driver(inst.host).resources().traits:
            raise errors.InstanceNotRescuable(instance_id=inst.id,
                                              reason="Host unable to rescue a volume-backed instance")

    def change_password(self, req: ApiRequest, args):
        """Nova's ``changePassword``: an ACTIVE server enters ``updating_password`` (409
        otherwise) and its host sets the password in the guest before the 202."""
        args = validate(args, schemas.CHANGE_PASSWORD)
        inst = self.server(req, "os_compute_api:os-admin-password")
        check_unlocked(req, inst)
        inst = begin(self.compute.db, inst.id, "changePassword", [st.ACTIVE], st.UPDATING_PASSWORD)
        host = inst.host
        assert host is not None, "an ACTIVE server has a host"
        self.compute.rpc.set_admin_password(host, inst.id, args["adminPass"], self.record(req, inst, "changePassword"))
        return accepted()

    def lock(self, req: ApiRequest, args):
        args = validate(args, schemas.LOCK_V273 if at_least(req, 2, 73) else schemas.LOCK)
        inst = self.server(req, "os_compute_api:os-lock-server:lock")
        reason = (args or {}).get("locked_reason") if at_least(req, 2, 73) else None
        transition(self.compute.db, inst.id, {}, {"locked": True, "locked_by": "admin" if is_admin(req) else "owner",
                                                  "locked_reason": reason})
        self.record(req, inst, "lock")
        return accepted()

    def unlock(self, req: ApiRequest, args):
        inst = self.server(req, "os_compute_api:os-lock-server:unlock")
        if inst.locked and inst.locked_by == "admin" and not is_admin(req):
            req.authorize("os_compute_api:os-lock-server:unlock:unlock_override",
                          {"project_id": inst.project_id})
        transition(self.compute.db, inst.id, {}, {"locked": False, "locked_by": None, "locked_reason": None})
        self.record(req, inst, "unlock")
        return accepted()

    def reset_state(self, req: ApiRequest, args):
        """Admin override (Nova's os-resetState): set vm_state, clear the task.  An operation
        still in flight loses its next compare-and-swap and stops."""
        args = validate(args, schemas.RESET_STATE)
        inst = self.server(req, "os_compute_api:os-admin-actions:reset_state")
        if not transition(self.compute.db, inst.id, {"task_state": _RESETTABLE_TASKS},
                          {"vm_state": args["state"], "task_state": None}):
            raise errors.InstanceInvalidState(action="os-resetState", instance_id=inst.id,
                                              attribute="task_state", state="deleting")
        self.record(req, inst, "resetState")
        return accepted()

    def inject_network_info(self, req: ApiRequest, args):
        """Accepted and recorded; the fake driver's guests read no injected network data."""
        inst = self.server(req, "os_compute_api:os-admin-actions:inject_network_info")
        self.record(req, inst, "inject_network_info")
        return accepted()

    def begin_move(self, req: ApiRequest, inst, action: str, kind: str, vm_states: list[str], task_state: str,
                   host: str | None, **extra: Any):
        return moves.begin_move(self.compute, inst, action, kind, vm_states, task_state, host, caller_id(req),
                                req.caller.project_id, **extra)

    def evacuate(self, req: ApiRequest, args):
        """Rebuild a server of a failed host on another one (admin; Nova's checks: the
        server's compute service must be down -- forced down or no longer heartbeating --
        else 400; a named host must exist (404) and not be its own (400)).  A scheduler
        claims the destination, whose host spawns the guest from its image (a new root
        disk: no shared storage here) or its boot volume, with the same ports; until 2.13
        the answer carries the admin password; from 2.95 it is left stopped (SHUTOFF) there.
        The old guest is removed when its host comes back (Nova's
        ``_destroy_evacuated_instances``)."""
        compute = self.compute
        inst = self.server(req, "os_compute_api:os-evacuate")
        schema = (schemas.EVACUATE_V229 if at_least(req, 2, 29) and not at_least(req, 2, 68)
                  else schemas.EVACUATE_V214 if at_least(req, 2, 14) else schemas.EVACUATE)
        args = validate(args, schema)
        host = args.get("host")
        if "force" in args and to_bool(args["force"]) and not host:
            raise errors.ForceWithoutHost()
        if not at_least(req, 2, 14) and "adminPass" in args and to_bool(args["onSharedStorage"]):
            raise errors.PasswordOnSharedStorage()
        if host is not None:
            try:
                compute.hosts.by_host(host)
            except NotFound:
                raise errors.EvacuateHostNotFound(host=host) from None
        if host is not None and host == inst.host:
            raise errors.EvacuateToSameHost()
        if inst.host is not None:
            try:
                source_up = compute.hosts.is_up(compute.hosts.by_host(inst.host))
            except NotFound:
                source_up = False
            if source_up:
                raise errors.ComputeServiceInUse(host=inst.host)
        moves.start_evacuation(compute, inst, host, req.attributes["request_id"], req.caller.project_id,
                               caller_id(req), stop=at_least(req, 2, 95))
        if at_least(req, 2, 14):
            return Response(status_code=200)
        return {"adminPass": args.get("adminPass") or secrets.token_urlsafe(9)}

    def restore(self, req: ApiRequest, args):
        """Servers are deleted at once (no ``reclaim_instance_interval``), so none is ever
        soft-deleted and there is nothing to restore: 409, as Nova for a live server."""
        inst = self.server(req, "os_compute_api:os-deferred-delete:restore")
        raise errors.InstanceInvalidState(action="restore", instance_id=inst.id, attribute="vm_state",
                                          state=inst.vm_state)

    def force_delete(self, req: ApiRequest, args):
        inst = self.server(req, "os_compute_api:os-deferred-delete:force")
        start_delete(self.compute, req, inst)
        return accepted()

    # -- consoles --------------------------------------------------------------------------
    def legacy_console(self, action: str, req: ApiRequest, args):
        """os-getVNCConsole and the other pre-2.6 console actions."""
        kind = validate(args, consoles.LEGACY)["type"]
        protocol = consoles.LEGACY_ACTIONS[action]
        return {"console": {"type": kind, "url": consoles.console_url(self.compute, req, protocol, kind)}}

    def console_output(self, req: ApiRequest, args):
        args = validate(args, schemas.CONSOLE) or {}
        inst = self.server(req, "os_compute_api:os-console-output")
        length = console_length(args)
        if not inst.host or inst.vm_state in (st.BUILDING, st.ERROR):
            raise errors.InstanceNotReady(instance_id=inst.id, vm_state=inst.vm_state)
        return {"output": tail(self.compute.rpc.get_console_output(inst.host, inst.id, None), length)}

    # -- rebuild and resize ----------------------------------------------------------------
    def rebuild(self, req: ApiRequest, args):
        compute = self.compute
        args = validate(args, schema_at(req, schemas.REBUILDS))
        inst = self.server(req, "os_compute_api:servers:rebuild")
        check_unlocked(req, inst)
        image = compute.images.bootable(req.caller, args["imageRef"].rsplit("/", 1)[-1])
        extra = {"image_ref": image.id, "image_properties": dict(image.properties),
                 "auto_disk_config": disk_config.from_image(disk_config.requested(args), image.id, image.properties)}
        on_volume = self.volume_backed_rebuild(req, inst, image.id)
        if on_volume:  # an empty image_ref stays the mark of a volume-backed server (Nova)
            del extra["image_ref"]
        if "name" in args:
            extra["name"] = args["name"]
        for field in ("description", "hostname"):  # hostname: 2.90's schema admits it
            if field in args:
                extra[field] = args[field]
        if "key_name" in args and req.at_least(2, 54):
            key_name = args["key_name"]
            extra["key_name"] = key_name
            extra["key_data"] = compute.keypairs.get(caller_id(req), key_name).public_key if key_name else None
        if "user_data" in args and req.at_least(2, 57):
            check_user_data(args["user_data"])
            extra["user_data"] = args["user_data"]
        if "personality" in args:  # file injection until 2.57, as in Nova
            if req.at_least(2, 57):
                raise errors.PersonalityGone()
            extra["injected_files"] = check_personality(args["personality"], compute.quotas.limits(inst.project_id))
        inst = begin(compute.db, inst.id, "rebuild", [st.ACTIVE, st.STOPPED, st.ERROR], st.REBUILDING, extra)
        if "metadata" in args:
            compute.instances.set_metadata(inst.id, inst.project_id, args["metadata"], replace=True)
        compute.rpc.rebuild_instance(inst.host, inst.id, self.record(req, inst, "rebuild"),
                                     reimage_image_id=image.id if on_volume and req.at_least(2, 93) else None)
        out = changed_view(compute, req, inst)
        out.pop("OS-EXT-SRV-ATTR:user_data", None)  # 2.57's user_data below instead (Nova's show_user_data)
        if req.at_least(2, 54):
            out["key_name"] = inst.key_name
        if req.at_least(2, 57):
            out["user_data"] = inst.user_data
        out["adminPass"] = args.get("adminPass") or secrets.token_urlsafe(9)
        return json_response({"server": with_server_groups(compute, req, out)}, status=202)

    def volume_backed_rebuild(self, req: ApiRequest, inst, image_id: str) -> bool:
        """Whether ``inst`` is volume-backed; before 2.93 its rebuild keeps the image its
        root volume holds (400 for another, as Nova), from 2.93 the volume is re-imaged."""
        rows = self.compute.block_devices.for_instance(inst.id)
        if not volume_backed.is_volume_backed(inst.image_ref, rows):
            return False
        if not req.at_least(2, 93):
            root = next((row.volume_id for row in rows if row.boot_index == 0 and row.volume_id), None)
            held = volume_service(self.compute).volumes.image_metadata([root]).get(root, {}) if root else {}
            if held.get("image_id") != image_id:
                raise errors.ImageUnacceptable(
                    image_id=image_id, reason="Unable to rebuild with a different image for a volume-backed server.")
        return True

    def resize(self, req: ApiRequest, args):
        compute = self.compute
        args = validate(args, schemas.RESIZE)
        inst = self.server(req, "os_compute_api:servers:resize")
        check_unlocked(req, inst)
        try:
            flavor = compute.flavors.get_visible(str(args["flavorRef"]), req.caller.project_id, is_admin(req))
        except NotFound:
            raise errors.ResizeFlavorNotFound(flavor_ref=args["flavorRef"]) from None
        new = embed_flavor(flavor, compute.flavors.extra_specs(flavor.id))
        auto_disk = disk_config.requested(args)
        disk_config.check(auto_disk, inst.image_ref, inst.image_properties)
        old = inst.flavor
        if all(new[k] == old[k] for k in ("vcpus", "ram", "disk", "ephemeral", "swap")) \
                and new["extra_specs"] == old.get("extra_specs"):
            raise errors.ResizeSameFlavor()
        if new["disk"] < old["disk"]:
            raise errors.ResizeDiskDown()
        quota = {"cores": new["vcpus"] - old["vcpus"], "ram": new["ram"] - old["ram"]}
        grow = {r: d for r, d in quota.items() if d > 0}
        if grow:
            compute.quotas.ensure_rows(inst.project_id, grow)
            limits = compute.quotas.limits(inst.project_id)
            run_in_transaction(compute.db, lambda s: compute.quotas.reserve(s, inst.project_id, grow, limits))
        migration = {"id": str(uuid.uuid4()), "source_host": inst.host, "quota": quota}
        try:
            inst = begin(compute.db, inst.id, "resize", [st.ACTIVE, st.STOPPED], st.RESIZE_PREP,
                         {"new_flavor": new, "migration": migration, "auto_disk_config": bool(auto_disk)})
        except Conflict:
            if grow:
                with compute.db.session() as s:
                    compute.quotas.release(s, inst.project_id, grow)
            raise
        compute.migration_records.start(inst, migration["id"], flavor.id, caller_id(req),
                                        project_id=req.caller.project_id)
        compute.rpc.resize_instance(inst.host, inst.id, self.record(req, inst, "resize"))
        return accepted()

    def migrate(self, req: ApiRequest, args):
        """Cold migration (admin): a resize to the same flavor on another host, scheduled
        or (from 2.56) the one named, confirmed or reverted like a resize (Nova's
        ``resize`` without a flavor).  The target host is checked at once (400 unknown, or
        the server's own); a scheduling failure ends the migration with a fault, the
        server staying where it is."""
        compute = self.compute
        inst = self.server(req, "os_compute_api:os-migrate-server:migrate")
        host = None
        if at_least(req, 2, 56) and args is not None:
            host = (validate(args, schemas.MIGRATE_V256) or {}).get("host")
        if host:
            req.authorize("os_compute_api:os-migrate-server:migrate:host", target={"project_id": inst.project_id})
        check_unlocked(req, inst)
        if host is not None:
            if host == inst.host:
                raise errors.CannotMigrateToSameHost()
            try:
                compute.hosts.by_host(host)
            except NotFound:
                raise errors.MigrationHostNotFound(host=host) from None
        # Nova's cold migration is its resize without a flavor: it too leaves the disk config MANUAL.
        inst = self.begin_move(req, inst, "migrate", "migration", [st.ACTIVE, st.STOPPED], st.RESIZE_PREP, host,
                               new_flavor=inst.flavor, auto_disk_config=False)
        compute.rpc.resize_instance(inst.host, inst.id, self.record(req, inst, "migrate"))
        return accepted()

    def migrate_live(self, req: ApiRequest, args):
        """Live migration (admin) of an ACTIVE or PAUSED server to another host, scheduled
        or named (``force`` 2.30-2.67 is accepted; the scheduler's checks still run).
        Before 2.34 a named host that is the server's own is Nova's synchronous 400; from
        2.34 Nova checks asynchronously, and the migration ends in ``error`` instead."""
        compute = self.compute
        inst = self.server(req, "os_compute_api:os-migrate-server:migrate_live")
        schema = (schemas.MIGRATE_LIVE_V230 if at_least(req, 2, 30) and not at_least(req, 2, 68)
                  else schemas.MIGRATE_LIVE_V225 if at_least(req, 2, 25) else schemas.MIGRATE_LIVE)
        args = validate(args, schema)
        host = args.get("host")
        if host:
            req.authorize("os_compute_api:os-migrate-server:migrate_live:host",
                          target={"project_id": inst.project_id})
        if "force" in args and to_bool(args["force"]) and not host:
            raise errors.ForceWithoutHost()
        check_unlocked(req, inst)
        if host:
            try:
                compute.hosts.by_host(host)
            except NotFound:
                raise errors.MigrationHostNotFound(host=host) from None
            if host == inst.host and not at_least(req, 2, 34):
                raise errors.UnableToMigrateToSelf(instance_id=inst.id, host=host)
        inst = self.begin_move(req, inst, "os-migrateLive", "live-migration", [st.ACTIVE, st.PAUSED], st.MIGRATING,
                               host)
        compute.rpc.live_migrate_instance(inst.host, inst.id, self.record(req, inst, "live-migration"))
        return accepted()

    def confirm_resize(self, req: ApiRequest, args):
        compute = self.compute
        inst = self.server(req, "os_compute_api:servers:confirm_resize")
        check_unlocked(req, inst)
        inst = begin(compute.db, inst.id, "confirmResize", [st.RESIZED], st.RESIZE_CONFIRMING)
        compute.migration_records.decide(inst, "confirming")
        compute.rpc.confirm_resize(inst.host, inst.id, self.record(req, inst, "confirmResize"))
        return Response(status_code=204)

    def revert_resize(self, req: ApiRequest, args):
        compute = self.compute
        inst = self.server(req, "os_compute_api:servers:revert_resize")
        check_unlocked(req, inst)
        inst = begin(compute.db, inst.id, "revertResize", [st.RESIZED], st.RESIZE_REVERTING)
        compute.migration_records.decide(inst, "reverting")
        compute.rpc.revert_resize(inst.host, inst.id, self.record(req, inst, "revertResize"))
        return accepted()

    # -- shelve ----------------------------------------------------------------------------
    def shelve(self, req: ApiRequest, args):
        """Nova's shelve: an image-backed server is snapshotted (``<name>-shelved``) and
        powered off, a volume-backed one only powered off; then, as ``shelved_offload_time``
        says, it leaves its host (SHELVED_OFFLOADED: no guest, no claim) -- a volume-backed
        one at once, as Nova."""
        compute = self.compute
        inst = self.server(req, "os_compute_api:os-shelve:shelve")
        check_unlocked(req, inst)
        image_id = None
        if not inst.boot_from_volume:
            try:
                base = compute.images.manager.get_image(req.caller, inst.image_ref)
            except NotFound:
                base = None
            image_id = compute.images.create_snapshot(req.caller, f"{inst.name}-shelved", inst.id, base, {})
        try:
            inst = begin(compute.db, inst.id, "shelve", [st.ACTIVE, st.STOPPED, st.PAUSED, st.SUSPENDED],
                         st.SHELVING, {"shelved": {"image_id": image_id}})
        except Conflict:
            if image_id is not None:
                compute.images.delete(image_id)
            raise
        compute.rpc.shelve_instance(inst.host, inst.id, self.record(req, inst, "shelve"))
        return accepted()

    def shelve_offload(self, req: ApiRequest, args):
        compute = self.compute
        inst = self.server(req, "os_compute_api:os-shelve:shelve_offload")
        check_unlocked(req, inst)
        inst = begin(compute.db, inst.id, "shelveOffload", [st.SHELVED], st.SHELVING_OFFLOADING)
        compute.rpc.shelve_offload_instance(inst.host, inst.id, self.record(req, inst, "shelveOffload"))
        return accepted()

    def unshelve(self, req: ApiRequest, args):
        """Back to ACTIVE: a SHELVED server is powered on where it is; an offloaded one is
        scheduled again (a scheduler claims a host) and spawned from its shelved image; from
        2.77 in the ``availability_zone`` the body names (409 for a SHELVED server, 400 for
        a zone no enabled host is in, as Nova), from 2.91 on the ``host`` it names (admins;
        400 unknown, 409 outside the zone the server is pinned to), a null zone unpinning it."""
        compute = self.compute
        inst = self.server(req, "os_compute_api:os-shelve:unshelve")
        options = (validate(args, schema_at(req, schemas.UNSHELVES)) or {}) if req.at_least(2, 77) else {}
        check_unlocked(req, inst)
        states, extra = [st.SHELVED, st.SHELVED_OFFLOADED], {}
        host, zone_given = options.get("host"), "availability_zone" in options
        if zone_given or host:  # where an offloaded server goes from now on
            if inst.vm_state == st.SHELVED:
                raise errors.UnshelveInstanceInvalidState(instance_id=inst.id, state=inst.vm_state)
            states = [st.SHELVED_OFFLOADED]
        zone = options["availability_zone"] if zone_given else inst.requested_az
        if zone_given:
            if zone is not None and inst.vm_state == st.SHELVED_OFFLOADED and zone not in available_zones(compute):
                raise errors.UnshelveZoneUnavailable()
            extra["requested_az"] = zone
        if host:
            req.authorize("os_compute_api:os-shelve:unshelve_to_host",
                          {"project_id": inst.project_id, "user_id": inst.user_id})
            try:
                node = compute.hosts.by_host(host)
            except NotFound:
                raise errors.RequestedHostNotFound(host=host) from None
            if zone is not None and node.availability_zone != zone:
                raise errors.UnshelveHostNotInAZ(host=host, availability_zone=zone)
        if inst.shelved:  # the host named is this unshelve's only (one that failed named it too)
            shelved = {k: v for k, v in inst.shelved.items() if k != "host"}
            extra["shelved"] = {**shelved, "host": host} if host else shelved
        inst = begin(compute.db, inst.id, "unshelve", states, st.UNSHELVING, extra)
        target = inst.host if inst.vm_state == st.SHELVED else None
        compute.rpc.unshelve_instance(target, inst.id, self.record(req, inst, "unshelve"))
        return accepted()

    # -- images ----------------------------------------------------------------------------
    def create_image(self, req: ApiRequest, args):
        args = validate(args, schemas.CREATE_IMAGE)
        inst = self.server(req, "os_compute_api:servers:create_image")
        return self.snapshot(req, inst, "createImage", args["name"], args.get("metadata") or {})

    def create_backup(self, req: ApiRequest, args):
        """A snapshot tagged ``image_type=backup`` + ``backup_type``; the oldest backups of
        that type beyond ``rotation - 1`` are deleted first, so ``rotation`` remain once the
        new one is written (Nova rotates after the upload; the count is the same)."""
        args = validate(args, schemas.BACKUP)
        inst = self.server(req, "os_compute_api:os-create-backup")
        rotation = int(args["rotation"])
        metadata = {**(args.get("metadata") or {}), "image_type": "backup", "backup_type": args["backup_type"]}
        return self.snapshot(req, inst, "createBackup", args["name"], metadata, rotation=rotation)

    def snapshot(self, req: ApiRequest, inst, action: str, name: str, metadata: dict, rotation: int | None = None):
        compute = self.compute
        check_unlocked(req, inst)
        inst = begin(compute.db, inst.id, action, [st.ACTIVE, st.STOPPED, st.PAUSED, st.SUSPENDED],
                     st.IMAGE_SNAPSHOT)
        try:
            if rotation is not None:
                compute.images.rotate_backups(req.caller, inst.id, metadata["backup_type"], max(rotation - 1, 0))
            try:
                base = compute.images.manager.get_image(req.caller, inst.image_ref)
            except NotFound:
                base = None
            rows = compute.block_devices.for_instance(inst.id)
            volumes = compute.volumes()
            if action == "createImage" and volumes is not None and volume_backed.is_volume_backed(inst.image_ref,
                                                                                                  rows):
                # Nova snapshots the volumes from the API, at once: no disk for the host to copy.
                image_id = volume_backed.snapshot(req.caller, volumes, compute.images, inst.id, base, rows, name,
                                                  metadata)
                transition(compute.db, inst.id, {"task_state": st.IMAGE_SNAPSHOT}, {"task_state": None})
                self.record(req, inst, action)
                return snapshot_accepted(req, image_id)
            image_id = compute.images.create_snapshot(req.caller, name, inst.id, base, metadata)
        except Exception:
            transition(compute.db, inst.id, {"task_state": st.IMAGE_SNAPSHOT}, {"task_state": None})
            raise
        compute.rpc.snapshot_instance(inst.host, inst.id, image_id, self.record(req, inst, action))
        return snapshot_accepted(req, image_id)
