"""The compute manager: what happens on a host to build, operate and delete instances.

Every method is one operation the API has already *begun*: the API moved the instance
into a ``*-ing`` task state by compare-and-swap and persisted it before casting here (see
:mod:`.transitions`).  Each further step is again a CAS from the task state the step
expects, so a concurrent delete (which moves the instance to ``deleting``) makes the
in-flight operation notice and stop, and :meth:`recover` can find every interrupted
operation after a restart by its task state alone.  All methods block and run in worker
threads.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import tempfile
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.orm import Session

from pocketstack.common.context import RequestContext
from pocketstack.common.db import Database, utcnow
from pocketstack.common.db.cas import ConcurrentUpdate, cas_update, changed_rows, run_in_transaction
from pocketstack.common.errors import ApiError, Conflict, Gone, NotFound
from pocketstack.common.faults import NO_FAULTS, FailPoints
from pocketstack.compute import states as st
from pocketstack.compute.actions import Actions, Event
from pocketstack.compute.archive import archive
from pocketstack.compute.block_devices import BlockDeviceError, BlockDevices
from pocketstack.compute.drivers import vifs
from pocketstack.compute.drivers.base import (
    Driver,
    GuestAgentMissing,
    GuestNotRunning,
    GuestSpec,
    MigrationCancelled,
    MoveControl,
    Rescue,
)
from pocketstack.compute.errors import (
    GuestAgentNotEnabled,
    InstanceNotFound,
    InstanceNotReady,
    InstancePasswordSetFailed,
    SetPasswordNotImplemented,
)
from pocketstack.compute.guests import guest_instance
from pocketstack.compute.hosts import Hosts
from pocketstack.compute.images import Images
from pocketstack.compute.migration_records import record_outcome
from pocketstack.compute.models import (
    BlockDeviceMapping,
    ComputeNode,
    Instance,
    Migration,
    ServerGroup,
    ServerGroupMember,
)
from pocketstack.compute.nic_order import in_request_order
from pocketstack.compute.port_tags import PortTags
from pocketstack.compute.quotas import Quotas, group_scope
from pocketstack.compute.resources import Placement
from pocketstack.compute.scheduler import Choice, NoValidHost, Request, Scheduler, hinted_servers
from pocketstack.compute.topology import choose_topology
from pocketstack.compute.transitions import load, transition
from pocketstack.metadata.content import GuestMetadata, build_metadata
from pocketstack.metadata.openstack import injected_content

if TYPE_CHECKING:
    from pocketstack.network.contract import NetworkContract

LOG = logging.getLogger(__name__)


@dataclass(frozen=True)
class Operation:
    """A simple power-style operation: one driver call between two states."""

    task_state: str
    driver_method: str
    vm_state: str
    event: str
    args: tuple = ()

    def driver_args(self, inst: Instance) -> tuple:
        """The driver call's arguments: ``args``, and for a rescue what the API recorded
        in the instance's ``guest`` on entering ``rescuing`` (the image and its device)."""
        if self.task_state == st.RESCUING:
            return (Rescue(**(inst.guest.get("rescue") or {})),)
        return self.args


OPERATIONS: dict[str, Operation] = {
    "stop": Operation(st.POWERING_OFF, "power_off", st.STOPPED, "compute_stop_instance"),
    "start": Operation(st.POWERING_ON, "power_on", st.ACTIVE, "compute_start_instance"),
    "reboot_soft": Operation(st.REBOOTING, "reboot", st.ACTIVE, "compute_reboot_instance", (False,)),
    "reboot_hard": Operation(st.REBOOTING_HARD, "reboot", st.ACTIVE, "compute_reboot_instance", (True,)),
    "pause": Operation(st.PAUSING, "pause", st.PAUSED, "compute_pause_instance"),
    "unpause": Operation(st.UNPAUSING, "unpause", st.ACTIVE, "compute_unpause_instance"),
    "suspend": Operation(st.SUSPENDING, "suspend", st.SUSPENDED, "compute_suspend_instance"),
    "resume": Operation(st.RESUMING, "resume", st.ACTIVE, "compute_resume_instance"),
    "rescue": Operation(st.RESCUING, "rescue", st.RESCUED, "compute_rescue_instance"),
    "unrescue": Operation(st.UNRESCUING, "unrescue", st.ACTIVE, "compute_unrescue_instance"),
}
BUILD_TASKS = (st.SCHEDULING, st.NETWORKING, st.BLOCK_DEVICE_MAPPING, st.SPAWNING)
MAX_PLACEMENTS = 50
_GONE = "instance left the scheduling state"


def fault(code: int, message: str, details: str = "") -> dict:
    return {"code": code, "message": message, "details": details,
            "created": utcnow().strftime("%Y-%m-%dT%H:%M:%SZ")}


class BuildAborted(Exception):
    """A build step failed for a reason the user should read as is (the fault message)."""


def quota_deltas(flavor: dict) -> dict[str, int]:
    return {"instances": 1, "cores": flavor["vcpus"], "ram": flavor["ram"]}


def _host(inst: Instance) -> str:
    """The host a host-side operation runs on: every instance one is cast for was placed."""
    if inst.host is None:
        raise RuntimeError(f"instance {inst.id} has no host")
    return inst.host


def _nic(network: NetworkContract, port: dict, mtus: dict[str, int]) -> dict | None:
    """The guest NIC of a port this host plugs (``vifs.nic``), with its network's MTU
    (``mtus``: the MTUs already looked up)."""
    if port["network_id"] not in mtus:
        mtus[port["network_id"]] = network.get(RequestContext.admin(), "networks", port["network_id"])["mtu"]
    return vifs.nic(port, mtus[port["network_id"]])


def _group_of(s: Session, instance_id: str) -> str | None:
    """The server group ``instance_id`` was booted into (membership is fixed at boot)."""
    return s.scalar(sa.select(ServerGroupMember.group_id).where(ServerGroupMember.instance_id == instance_id))


def _resizing(inst: Instance, value: dict | None) -> dict:
    """A resize's record (``migration``, ``new_flavor``, ``old_flavor``): set by the API
    before it casts the resize, cleared only when the resize ends."""
    if value is None:
        raise RuntimeError(f"instance {inst.id} is not being resized")
    return value


class ComputeManager:
    def __init__(self, db: Database, hosts: Hosts, scheduler: Scheduler, placement: Placement, quotas: Quotas,
                 actions: Actions, images: Images, network: Callable[[], NetworkContract | None] = lambda: None,
                 block_devices: BlockDevices | None = None, faults: FailPoints = NO_FAULTS,
                 port_tags: PortTags | None = None):
        self.db = db
        self.hosts = hosts
        self.scheduler = scheduler
        self.placement = placement
        self.quotas = quotas
        self.actions = actions
        self.images = images
        self.network = network  # -> the network service's manager, None when there is none
        self.block_devices = block_devices
        self.faults = faults  # fault injection's fail points (a build's spawn is one)
        # The live migrations this process runs (or is about to), by migration id: how an
        # abort or a forced completion reaches the driver moving the guest.
        self._moves: dict[str, MoveControl] = {}
        self._moves_lock = threading.Lock()
        self.port_tags = port_tags if port_tags is not None else PortTags(db)

    # -- helpers ---------------------------------------------------------------------
    def _error(self, instance_id: str, from_task, code: int, message: str, details: str = "") -> None:
        transition(self.db, instance_id, {"task_state": from_task},
                   {"vm_state": st.ERROR, "task_state": None, "fault": fault(code, message, details)})

    def _request(self, inst: Instance, **kw) -> Request:
        """What the scheduler needs about ``inst``; ``group_id=`` when the caller read the
        server's group already (:meth:`_load_scheduling`)."""
        if "group_id" in kw:
            group_id = kw.pop("group_id")
        else:
            with self.db.session(readonly=True) as s:
                group_id = _group_of(s, inst.id)
        hints = inst.scheduler_hints
        return Request(inst.id, inst.project_id, inst.user_id, kw.pop("flavor", inst.flavor), inst.image_properties,
                       inst.requested_az, group_id, same_host=hinted_servers(hints, "same_host"),
                       different_host=hinted_servers(hints, "different_host"), **kw)

    @staticmethod
    def _guest(flavor: dict, inst: Instance) -> dict:
        """What the guest looks like to the hypervisor: the CPU topology of ``flavor``."""
        topology = choose_topology(flavor["vcpus"], flavor.get("extra_specs") or {}, inst.image_properties)
        return {"topology": {"sockets": topology.sockets, "cores": topology.cores, "threads": topology.threads}}

    @contextlib.contextmanager
    def _guest_spec(self, inst: Instance, flavor: dict, guest: dict,
                    without_volumes: bool = False) -> Iterator[GuestSpec]:
        """The spec of ``inst``'s guest with ``flavor``: disks from the flavor (root,
        ephemeral, swap), the boot volume's file for a server booted from a volume, and on
        a host running real guests the config drive when the server asked for one (or the
        cloud forces it).  The drive's file exists while the context is open.
        ``without_volumes``: the caller knows no volume is attached (no attachment read)."""
        spec = GuestSpec(inst.id, inst.name, flavor["vcpus"], flavor["ram"], flavor["disk"], inst.image_ref,
                         guest["topology"], inst.user_data, ephemeral_gb=int(flavor.get("ephemeral") or 0),
                         swap_mb=int(flavor.get("swap") or 0))
        if inst.boot_from_volume and self.block_devices is not None:
            root = self.block_devices.root_volume(inst.id)
            if root is not None:
                spec.root_volume, spec.root_volume_serial = root
        if self.block_devices is not None and not without_volumes:
            spec.volumes = self.block_devices.guest_volumes(inst)
        if self.block_devices is not None and (spec.volumes or spec.root_volume):
            spec.shared_volumes = self.block_devices.shared_volumes(inst)
        if self.hosts.real:
            spec.nics = self._nics(inst)
        wants_drive = inst.config_drive or self.hosts.settings.force_config_drive
        if not (self.hosts.real and wants_drive):
            yield spec
            return
        from pocketstack.guestimage import configdrive

        work = Path(self.hosts.settings.data_dir) / "tmp"
        work.mkdir(parents=True, exist_ok=True)
        seen = self._metadata(inst)
        with tempfile.TemporaryDirectory(dir=work, prefix="config-drive-") as tmp:
            spec.config_drive = str(configdrive.write(Path(tmp) / "disk.config", seen.meta_data(),
                                                      seen.instance.user_data, seen.network.network_data,
                                                      injected=injected_content(seen.instance)))
            yield spec

    def _nics(self, inst: Instance) -> list[dict]:
        """The guest's NICs: its ports that this host plugs (bound as ``tap`` by the linux
        datapath), each with its network's MTU, in the order the server asked for its
        networks (``nic_order``)."""
        network = self.network()
        if network is None:
            return []
        mtus: dict[str, int] = {}
        ports = in_request_order(network.list_instance_ports(inst.id), inst.requested_networks)
        return [entry for port in ports if (entry := _nic(network, port, mtus)) is not None]

    def _metadata(self, inst: Instance) -> GuestMetadata:
        """What ``inst``'s guest reads about itself: the one builder the config drive and
        the metadata API share (``pocketstack.metadata``)."""
        return build_metadata(guest_instance(self.db, inst), self.network(), self.hosts.settings.dhcp_domain)

    # -- build -----------------------------------------------------------------------
    def build_instance(self, instance_id: str, action_id: str | None = None) -> None:
        """Schedule, network, spawn; resumable from whichever build step it stopped at.
        Whatever goes wrong on the way leaves the instance in ERROR with a fault, never
        stuck in BUILD."""
        self._failing_build(instance_id, self._build, instance_id, action_id)

    def schedule_instance(self, instance_id: str, action_id: str | None = None) -> str | None:
        """The scheduler's half of a build (the host's half is :meth:`build_instance`):
        claim a host and record it.  Returns the host, or None when the instance is not
        waiting to be scheduled (any more) or could not be (then it is in ERROR)."""
        return self._failing_build(instance_id, self._schedule_step, instance_id, action_id)

    def _load_scheduling(self, instance_id: str) -> tuple[Instance, str | None, tuple[ComputeNode, ...]]:
        """The instance, its server group and the host records, in one read (three per
        build before)."""
        with self.db.session(readonly=True) as s:
            inst = s.get(Instance, instance_id)
            group_id = _group_of(s, instance_id) if inst is not None else None
            nodes = tuple(s.scalars(sa.select(ComputeNode).order_by(ComputeNode.host))) if inst is not None else ()
        if inst is None:
            raise InstanceNotFound(instance_id=instance_id)
        return inst, group_id, nodes

    def _schedule_step(self, instance_id: str, action_id: str | None) -> str | None:
        inst, group_id, nodes = self._load_scheduling(instance_id)
        if inst.task_state != st.SCHEDULING:
            return None
        try:
            with self.actions.event(action_id, "compute__schedule_and_build_instances", None, deferred=True) as event:
                node = self._schedule(inst, group_id, event, nodes)
        except Exception as error:
            # Only from SCHEDULING, and no release: _schedule gave back its own claim, and
            # any other claim belongs to another scheduler that may already have placed it.
            LOG.exception("scheduling %s failed", instance_id)
            self._error(instance_id, st.SCHEDULING, 500, f"Build of instance {instance_id} failed: {error}")
            return None
        return node.host if node is not None else None

    def _failing_build(self, instance_id: str, step: Callable, *args):
        """Run a build step; when it fails, give back what the build held, then record
        ERROR with the step's own fault (in that order, as Nova: whoever sees ERROR sees
        the claim, ports and volumes released).  Each release is attempted whatever the
        others do, and a failed one -- the database may be what failed the build -- never
        keeps the server in BUILD until the sweep: what is left is released again when
        the ERROR server is deleted."""
        try:
            return step(*args)
        except Exception as error:
            LOG.exception("building %s failed", instance_id)
            for what, release in (("the placement claim", self.placement.release),
                                  ("the ports", self._deallocate_network),
                                  ("the volumes", self._release_block_devices)):
                try:
                    release(instance_id)
                except Exception:
                    LOG.exception("releasing %s of %s after its failed build failed", what, instance_id)
            message = str(error) if isinstance(error, BuildAborted) else \
                f"Build of instance {instance_id} failed: {error}"
            self._error(instance_id, list(BUILD_TASKS), 500, message)

    def _load_building(self, instance_id: str) -> tuple[Instance, bool]:
        """The instance and whether it has block-device mappings, in one read (mappings
        are made with the server and only change by its build: attaching needs an idle
        task state)."""
        with self.db.session(readonly=True) as s:
            inst = s.get(Instance, instance_id)
            mapped = inst is not None and s.scalar(sa.select(sa.exists().where(
                BlockDeviceMapping.instance_id == instance_id))) is True
        if inst is None:
            raise InstanceNotFound(instance_id=instance_id)
        return inst, mapped

    def _build(self, instance_id: str, action_id: str | None) -> None:
        inst, mapped = self._load_building(instance_id)
        if inst.task_state == st.SCHEDULING:
            if self._schedule_step(instance_id, action_id) is None:
                return
            inst, mapped = self._load_building(instance_id)
        if inst.task_state not in BUILD_TASKS[1:]:
            return
        with self.actions.event(action_id, "compute__do_build_and_run_instance", inst.host, deferred=True) as event:
            self._spawn(inst, event, mapped)

    def _schedule(self, inst: Instance, group_id: str | None, event: Event,
                  nodes: tuple[ComputeNode, ...] | None = None):
        """Claim and record a host, idempotently when two schedulers each took a copy of
        one build: the claim is for a consumer that holds nothing, so only one of them
        wins it; the other gets a 409 and walks away without touching the winner's claim.
        The winner alone ever releases, and only while it holds the claim (no other claim
        for the instance can succeed meanwhile)."""
        for _ in range(MAX_PLACEMENTS):
            try:
                # 2.74's requested host bounds the build's choice only, as Nova's requested_destination.
                hosts = frozenset({inst.requested_host}) if inst.requested_host else None
                # The host records read with the instance serve the first try only.
                choice = self.scheduler.select_and_claim(self._request(inst, group_id=group_id, hosts=hosts,
                                                                       nodes=nodes))
                nodes = None
            except NoValidHost as error:
                if self.placement.allocations(inst.id):  # the room went to another scheduler's claim
                    return None
                self._error(inst.id, st.SCHEDULING, 500, str(error))
                return None
            except Conflict:
                LOG.info("%s is already claimed by another scheduler: leaving it to that one", inst.id)
                return None
            try:
                self._place(inst.id, choice, event)
                return choice.node
            except ConcurrentUpdate as conflict:
                self.placement.release(inst.id)
                if str(conflict) == _GONE:  # deleted while we were scheduling
                    return None
                # Another member of the group was placed meanwhile: decide again.
            except Exception:
                self.placement.release(inst.id)
                raise
        self._error(inst.id, st.SCHEDULING, 500, str(NoValidHost("Server group placement kept conflicting.")))
        return None

    def _place(self, instance_id: str, choice: Choice, event: Event) -> None:
        """Record the host, and for hard-policy groups bump the group generation the decision
        was based on, in one transaction: both compare-and-swaps succeed or neither.  The
        scheduling ``event`` ends in it too."""
        node = choice.node
        with self.db.session() as s:
            if choice.group_id is not None and choice.group_generation is not None:
                cas_update(s, ServerGroup, {"id": choice.group_id, "generation": choice.group_generation},
                           {"generation": choice.group_generation + 1})
            placed = changed_rows(s, sa.update(Instance).where(Instance.id == instance_id,
                                                               Instance.task_state == st.SCHEDULING)
                                     .values(task_state=st.NETWORKING, host=node.host, node=node.host,
                                             availability_zone=node.availability_zone, updated_at=utcnow()))
            if placed != 1:
                raise ConcurrentUpdate(_GONE)
            event.finish_in(s)
        event.finished()

    def _allocate_network(self, inst: Instance) -> None:
        """Ports for the requested networks, owned by the instance's project and user.

        Resumable: ports already bound to the instance (a build interrupted by a restart)
        are released first, so a resumed step never leaves two sets of ports."""
        network = self.network()
        if network is None or inst.requested_networks in (None, "none", []):
            return  # without a network service "auto" leaves the instance without ports
        resumed = bool(network.list_instance_ports(inst.id))
        if resumed:
            network.deallocate_for_instance(inst.id)
        # With the creator's authority, as Nova's build: an admin may use a network only it sees.
        context = RequestContext(user_id=inst.user_id, project_id=inst.project_id,
                                 roles=inst.requested_roles or ["member", "reader"])
        requested = inst.requested_networks
        if isinstance(requested, list):  # device tags are Nova's business, not the ports'
            requested = [{k: v for k, v in entry.items() if k != "tag"} for entry in requested]
        try:
            ports = network.allocate_for_instance(context, inst.id, _host(inst), requested,
                                                  inst.security_groups or None)
        except ApiError as error:
            raise BuildAborted(error.message) from error
        # One port per requested entry, in order (the network service's contract).
        entries = inst.requested_networks if isinstance(inst.requested_networks, list) else []
        tags = {port["id"]: entry["tag"] for port, entry in zip(ports, entries, strict=False) if entry.get("tag")}
        if tags or resumed:  # a first build without tags has none to write or replace (one transaction less)
            self.port_tags.replace(inst.id, tags)
        self._record_port_groups(network, inst, ports)

    def _record_port_groups(self, network: NetworkContract, inst: Instance, ports: list) -> None:
        """The groups a server with ports shows are its ports' (Nova reads them from Neutron):
        a port on a network with ``port_security_enabled: false`` gets none, a port brought
        by the user keeps its own.  Recorded once the ports exist; the add/removeSecurityGroup
        actions keep the names in step with the ports afterwards."""
        if not ports:
            return
        wanted = list(inst.security_groups or [])
        entries = inst.requested_networks if isinstance(inst.requested_networks, list) else [{}]
        if wanted and not any(entry.get("port_id") for entry in entries) and \
                all(len(port.get("security_groups") or []) == len(wanted) for port in ports):
            # Every port was made by this build with the server's groups, which the network
            # service found by these very names (the API stored them as names, one each, and
            # a name that matched no group or several would have failed the build): nothing
            # to look up or record (one read per build fewer).  A port without them (no port
            # security on its network) or one the user brought is looked up below.
            return
        ids = list(dict.fromkeys(g for port in ports for g in port.get("security_groups") or []))
        found = {i: name or i for i, name in network.security_group_names(ids).items()}
        names = list(dict.fromkeys(found[i] for i in ids if i in found))
        if names != list(inst.security_groups or []):
            unchanged = (Instance.id == inst.id, Instance.security_groups == inst.security_groups)
            with self.db.session() as s:
                s.execute(sa.update(Instance).where(*unchanged).values(security_groups=names, updated_at=utcnow()))

    def _deallocate_network(self, instance_id: str) -> None:
        network = self.network()
        if network is not None:
            network.deallocate_for_instance(instance_id)

    def _prepare_block_devices(self, inst: Instance) -> list:
        if self.block_devices is None:
            return []
        try:
            return self.block_devices.prepare(inst)
        except BlockDeviceError as error:
            raise BuildAborted(str(error)) from error

    def _release_block_devices(self, instance_id: str) -> None:
        """Detach (and delete when asked to) the volumes of a build that failed, and forget
        them: an ERROR server keeps no half-made volume attached."""
        if self.block_devices is None:
            return
        try:
            self.block_devices.release(load(self.db, instance_id), forget=True)
        except NotFound:
            pass

    def _spawn(self, inst: Instance, event: Event, mapped: bool = True) -> None:
        """``mapped``: whether the server has block-device mappings; without any, the
        build goes from networking straight to spawning (the mapping step would do
        nothing: one transition fewer)."""
        prepared = inst.task_state != st.SPAWNING
        devices: list = []
        if inst.task_state == st.NETWORKING:
            self._allocate_network(inst)
            following = st.BLOCK_DEVICE_MAPPING if mapped else st.SPAWNING
            if not transition(self.db, inst.id, {"task_state": st.NETWORKING}, {"task_state": following}):
                # Deleted meanwhile: the delete may have released the ports before we made them.
                self._deallocate_network(inst.id)
                return
        if mapped or inst.task_state != st.NETWORKING:
            devices = self._prepare_block_devices(inst) if prepared else []
            if not transition(self.db, inst.id, {"task_state": [st.BLOCK_DEVICE_MAPPING, st.SPAWNING]},
                              {"task_state": st.SPAWNING}):
                # Deleted meanwhile: the delete may have detached before we attached.
                if devices and self.block_devices is not None:
                    self.block_devices.release(inst, devices)
                return
        driver = self.hosts.driver(_host(inst))
        guest = self._guest(inst.flavor, inst)
        self.faults.check("compute", "build")
        # A building server has no attachment but its mappings' (attaching needs an idle
        # task state), so without mappings there is none to read.
        with self._guest_spec(inst, inst.flavor, guest, without_volumes=prepared and not devices) as spec:
            power = driver.spawn(spec)
        if not transition(self.db, inst.id, {"task_state": st.SPAWNING},
                          {"task_state": None, "vm_state": st.ACTIVE, "power_state": power, "guest": guest,
                           "launched_at": utcnow()}, also=event.finish_in):
            driver.destroy(inst.id)  # deleted while spawning: the delete may have missed the guest
            return
        event.finished()

    # -- delete ----------------------------------------------------------------------
    def delete_instance(self, instance_id: str, action_id: str | None = None) -> None:
        """Destroy the guest, free its allocations, then delete the row and give back its
        quota in one transaction (so a repeated delete never releases twice)."""
        try:
            inst = load(self.db, instance_id)
        except NotFound:  # already gone: a repeated delete
            return
        if inst.host:
            self.hosts.driver(_host(inst)).destroy(inst.id)
        source = (inst.migration or {}).get("source_host")
        if inst.vm_state == st.RESIZED and source and source != inst.host:
            self.hosts.driver(source).confirm_migration(inst.id)  # the copy a migration kept there
        if shelved_image := (inst.shelved or {}).get("image_id"):
            self.images.delete(shelved_image)  # as Nova: a shelved server's image goes with it
        self._deallocate_network(inst.id)
        if self.block_devices is not None:
            self.block_devices.release(inst)
        self.placement.release(inst.id)
        if inst.migration:
            self.placement.release(inst.migration["id"])
        # During a resize the quota holds the larger of the two flavors.
        deltas = quota_deltas(inst.flavor)
        for resource, change in ((inst.migration or {}).get("quota") or {}).items():
            deltas[resource] += max(0, -change) if inst.old_flavor else max(0, change)

        def forget(s: Session) -> None:
            group_id = s.scalar(sa.select(ServerGroupMember.group_id)
                                .where(ServerGroupMember.instance_id == inst.id))
            s.execute(sa.delete(ServerGroupMember).where(ServerGroupMember.instance_id == inst.id))
            gone = archive(s, inst.id)
            if gone:
                self.quotas.release(s, inst.project_id, deltas)
                if group_id:
                    self.quotas.release(s, group_scope(group_id), {"server_group_members": 1})
        run_in_transaction(self.db, forget)  # quota rows are contended: re-run whole on conflict

    # -- simple operations -----------------------------------------------------------
    def run_operation(self, instance_id: str, name: str, action_id: str | None = None) -> None:
        op = OPERATIONS[name]
        inst = load(self.db, instance_id)
        if inst.task_state != op.task_state:
            return
        with self.actions.event(action_id, op.event, inst.host):
            if inst.host:
                power = getattr(self.hosts.driver(_host(inst)), op.driver_method)(inst.id, *op.driver_args(inst))
            else:
                power = st.SHUTDOWN
            transition(self.db, inst.id, {"task_state": op.task_state},
                       {"task_state": None, "vm_state": op.vm_state, "power_state": power, "fault": None})

    def cache_images(self, host: str, image_ids: list[str]) -> dict[str, str]:
        """2.81: fetch images into ``host``'s image cache; how each fared, as Nova's
        compute manager reports it: ``cached``, ``existing``, ``error`` or ``unsupported``
        (a driver without an image cache)."""
        driver = self.hosts.driver(host)
        result = {}
        for image_id in image_ids:
            try:
                result[image_id] = "cached" if driver.cache_image(image_id) else "existing"
            except NotImplementedError:
                result[image_id] = "unsupported"
            except Exception:
                LOG.exception("caching image %s on %s failed", image_id, host)
                result[image_id] = "error"
        LOG.info("image pre-cache on %s: %s", host, result)
        return result

    def power_update(self, instance_id: str, target: str, action_id: str | None = None) -> None:
        """2.76's ``power-update`` event: the guest's power changed outside Compute.  As
        Nova's ``power_update``: only an idle ACTIVE and running server is powered off
        (an idle STOPPED and shut-down one on), anything else is a no-op; the task state
        is taken by CAS (a lost race ends it quietly), the driver takes note, and a driver
        that cannot (NotImplementedError: every real hypervisor here) fails the action's
        event and gives the task state back."""
        inst = load(self.db, instance_id)
        on = target == "POWER_ON"
        with self.actions.event(action_id, "compute_power_update", inst.host):
            wanted = (st.STOPPED, st.SHUTDOWN) if on else (st.ACTIVE, st.RUNNING)
            if inst.host is None or inst.task_state is not None or (inst.vm_state, inst.power_state) != wanted:
                LOG.info("power-update %s of %s is a no-op in %s/%s/%s", target, instance_id, inst.vm_state,
                         inst.task_state, inst.power_state)
                return
            task = st.POWERING_ON if on else st.POWERING_OFF
            if not transition(self.db, inst.id, {"task_state": None, "vm_state": inst.vm_state}, {"task_state": task}):
                return
            try:
                power = self.hosts.driver(inst.host).power_update_event(inst.id, target)
            except BaseException:
                transition(self.db, inst.id, {"task_state": task}, {"task_state": None})
                raise
            transition(self.db, inst.id, {"task_state": task},
                       {"task_state": None, "vm_state": st.ACTIVE if on else st.STOPPED, "power_state": power})

    # -- volumes attached to a running server ---------------------------------------
    def attach_volume(self, instance_id: str, volume_id: str, action_id: str | None = None) -> None:
        """Give the guest a volume the API reserved for it (hot-plugged while it runs)."""
        self._volume_step(instance_id, volume_id, action_id, "compute_attach_volume", BlockDevices.attach_to_guest)

    def detach_volume(self, instance_id: str, volume_id: str, action_id: str | None = None) -> None:
        """Take a volume away from the guest; the API has put the volume in ``detaching``."""
        self._volume_step(instance_id, volume_id, action_id, "compute_detach_volume",
                          BlockDevices.detach_from_guest)

    def extend_volume(self, instance_id: str, volume_id: str, action_id: str | None = None) -> None:
        """Tell the guest its volume grew (Nova's ``extend_volume`` on ``volume-extended``)."""
        self._volume_step(instance_id, volume_id, action_id, "compute_extend_volume", BlockDevices.extend_in_guest)

    def _volume_step(self, instance_id: str, volume_id: str, action_id: str | None, event: str,
                     step: Callable[[BlockDevices, Instance, str, Driver], None]) -> None:
        """Run ``step`` for the instance's guest as one instance-action event; nothing for
        a server deleted meanwhile (its delete released or detached its volumes)."""
        try:
            inst = load(self.db, instance_id)
        except NotFound:
            return
        if inst.task_state == st.DELETING:
            return
        assert self.block_devices is not None, "a host attaches volumes only with a block storage service"
        with self.actions.event(action_id, event, inst.host):
            step(self.block_devices, inst, volume_id, self.hosts.driver(_host(inst)))

    # -- assisted volume snapshots (Cinder remotefs drivers) -------------------------
    def volume_snapshot_create(self, instance_id: str, volume_id: str, create_info: dict) -> None:
        """The hypervisor snapshots the guest's disk of the volume (Nova's); when it
        cannot, the Block Storage snapshot is set to ``error``, as Nova's libvirt driver
        reports it."""
        self._assisted_snapshot(instance_id, create_info["snapshot_id"], "error",
                                lambda driver: driver.volume_snapshot_create(instance_id, volume_id, create_info))

    def volume_snapshot_delete(self, instance_id: str, volume_id: str, snapshot_id: str, delete_info: dict) -> None:
        self._assisted_snapshot(instance_id, snapshot_id, "error_deleting",
                                lambda driver: driver.volume_snapshot_delete(instance_id, volume_id, snapshot_id,
                                                                             delete_info))

    def _assisted_snapshot(self, instance_id: str, snapshot_id: str, failed: str,
                           step: Callable[[Driver], None]) -> None:
        try:
            inst = load(self.db, instance_id)
        except NotFound:
            return
        try:
            step(self.hosts.driver(_host(inst)))
        except Exception as error:  # noqa: BLE001 - reported on the snapshot, as Nova does
            LOG.error("assisted snapshot %s of instance %s failed: %s", snapshot_id, instance_id, error)
            volumes = self.block_devices.volumes() if self.block_devices is not None else None
            if volumes is None:
                return
            try:
                volumes.snapshots.update_status(RequestContext.admin(), snapshot_id, failed, None)
            except ApiError as refused:  # no such snapshot, or not in a state to take it
                LOG.warning("could not set snapshot %s to %s: %s", snapshot_id, failed, refused.message)

    # -- interfaces attached to a server after its spawn -----------------------------
    def attach_interface(self, instance_id: str, port_id: str) -> None:
        """Plug a port the API bound to the instance into its guest (Nova's
        attach_interface on the host); only a host running real guests has anything to do."""
        network = self.network()
        inst = load(self.db, instance_id)
        if not self.hosts.real or network is None or not inst.host or inst.task_state == st.DELETING:
            return
        entry = _nic(network, network.get(RequestContext.admin(), "ports", port_id), {})
        if entry is not None:
            self.hosts.driver(_host(inst)).attach_nic(inst.id, entry)

    def detach_interface(self, instance_id: str, port_id: str) -> None:
        """Unplug the port's NIC from the guest, before the API releases the port."""
        inst = load(self.db, instance_id)
        if self.hosts.real and inst.host:
            self.hosts.driver(_host(inst)).detach_nic(inst.id, port_id)

    def diagnostics(self, instance_id: str) -> dict:
        """The guest's diagnostics as its hypervisor measures them (compute API 2.48's
        fields but the ones the API knows itself)."""
        inst = load(self.db, instance_id)
        return self.hosts.driver(_host(inst)).diagnostics(inst.id)

    def console_output(self, instance_id: str, length: int | None) -> str:
        inst = load(self.db, instance_id)
        lines = self.hosts.driver(_host(inst)).console_output(inst.id).splitlines(keepends=True)
        return "".join(lines[-length:] if length is not None else lines)

    def vnc_address(self, instance_id: str) -> tuple[str, int] | None:
        """Where the guest's VNC server listens now (None: its hypervisor has none); 409
        when the guest does not run."""
        inst = load(self.db, instance_id)
        try:
            return self.hosts.driver(_host(inst)).vnc_address(inst.id)
        except GuestNotRunning:
            raise InstanceNotReady(instance_id=inst.id, vm_state=inst.vm_state) from None

    # -- admin password --------------------------------------------------------------
    def set_admin_password(self, instance_id: str, password: str, action_id: str | None = None) -> None:
        """Nova's ``set_admin_password`` on the host: the guest must run (409), the driver
        sets it inside (409 without an agent, 501 when it cannot); ``updating_password``
        ends whatever the outcome."""
        inst = load(self.db, instance_id)
        if inst.task_state != st.UPDATING_PASSWORD:
            return
        done = ({"task_state": st.UPDATING_PASSWORD}, {"task_state": None})
        try:
            with self.actions.event(action_id, "compute_set_admin_password", inst.host):
                driver = self.hosts.driver(_host(inst))
                if driver.power_state(inst.id) != st.RUNNING:
                    raise InstancePasswordSetFailed(instance_id=inst.id, reason=f"instance {inst.id} is not running")
                try:
                    driver.set_admin_password(inst.id, password, inst.image_properties or {})
                except GuestAgentMissing:
                    raise GuestAgentNotEnabled() from None
                except NotImplementedError:
                    raise SetPasswordNotImplemented() from None
        finally:
            transition(self.db, inst.id, *done)

    # -- rebuild ---------------------------------------------------------------------
    def rebuild_instance(self, instance_id: str, action_id: str | None = None,
                         reimage_image_id: str | None = None) -> None:
        """The guest built again from its image; a volume-backed server's root volume
        re-imaged first when the request asked (2.93), ERROR with a fault when that fails."""
        inst = load(self.db, instance_id)
        if inst.task_state != st.REBUILDING:
            return
        with self.actions.event(action_id, "compute_rebuild_instance", inst.host):
            driver = self.hosts.driver(_host(inst))
            driver.destroy(inst.id)
            if reimage_image_id is not None and self.block_devices is not None:
                try:
                    self.block_devices.reimage_root(inst, reimage_image_id)
                except BlockDeviceError as error:
                    self._error(inst.id, st.REBUILDING, 500, str(error))
                    raise
            guest = {"topology": inst.guest.get("topology") or {}}
            with self._guest_spec(inst, inst.flavor, guest) as spec:
                power = driver.spawn(spec)
            vm_state = st.ACTIVE
            if inst.vm_state == st.STOPPED:  # a stopped server stays stopped, as in Nova
                power, vm_state = driver.power_off(inst.id), st.STOPPED
            transition(self.db, inst.id, {"task_state": st.REBUILDING},
                       {"task_state": None, "vm_state": vm_state, "power_state": power, "fault": None,
                        "launched_at": utcnow()})

    # -- snapshot --------------------------------------------------------------------
    def snapshot_instance(self, instance_id: str, image_id: str, action_id: str | None = None) -> None:
        inst = load(self.db, instance_id)
        if inst.task_state != st.IMAGE_SNAPSHOT:
            return
        with self.actions.event(action_id, "compute_snapshot_instance", inst.host):
            try:
                self._snapshot(inst, image_id)
            except (NotFound, Gone):
                # Deleted while the disk was copied (as Nova: "Image not found during
                # snapshot"): nothing is left to upload into, and nothing went wrong here.
                LOG.warning("image %s of instance %s was deleted during the snapshot", image_id, inst.id)
            finally:
                transition(self.db, inst.id, {"task_state": st.IMAGE_SNAPSHOT}, {"task_state": None})

    def _snapshot(self, inst: Instance, image_id: str) -> None:
        """The driver writes a standalone copy of the root disk to a file, which is streamed
        to the image service; a real guest's copy is qcow2, and the image says so."""
        driver = self.hosts.driver(_host(inst))
        work = Path(self.hosts.settings.data_dir) / "tmp"
        work.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(dir=work, prefix="snapshot-") as tmp:
            path = str(Path(tmp) / "snapshot")
            disk_format = driver.snapshot_to(inst.id, path)
            # The fake driver's bytes are no disk image: its snapshots keep the base image's format.
            self.images.upload_file(image_id, path, disk_format if self.hosts.real else None)

    # -- shelve ----------------------------------------------------------------------
    def shelve_instance(self, instance_id: str, action_id: str | None = None) -> None:
        """Snapshot the root disk into the image the API registered (none for a
        volume-backed server), power the guest off, and -- per ``shelved_offload_time``,
        a volume-backed server always -- offload it.  A failed snapshot leaves the server
        as it was, its image deleted."""
        inst = load(self.db, instance_id)
        if inst.task_state != st.SHELVING:
            return
        image_id = (inst.shelved or {}).get("image_id")
        with self.actions.event(action_id, "compute_shelve_instance", inst.host):
            try:
                if image_id:
                    self._snapshot(inst, image_id)
            except Exception:
                if image_id:
                    self.images.delete(image_id)
                transition(self.db, inst.id, {"task_state": st.SHELVING}, {"task_state": None, "shelved": None})
                raise
            power = self.hosts.driver(_host(inst)).power_off(inst.id)
            offload = inst.boot_from_volume or self.hosts.settings.shelved_offload_time == 0
            if not transition(self.db, inst.id, {"task_state": st.SHELVING},
                              {"vm_state": st.SHELVED, "power_state": power,
                               "task_state": st.SHELVING_OFFLOADING if offload else None,
                               "shelved": {"image_id": image_id, "at": utcnow().isoformat()}}):
                return
        if offload:
            self.shelve_offload_instance(inst.id, action_id)

    def shelve_offload_instance(self, instance_id: str, action_id: str | None = None) -> None:
        """The shelved server leaves its host: the guest is destroyed and the claim given
        back (its ports and volumes stay its own).  Idempotent, so an interrupted offload
        is simply run again."""
        inst = load(self.db, instance_id)
        if inst.task_state != st.SHELVING_OFFLOADING:
            return
        with self.actions.event(action_id, "compute_shelve_offload_instance", inst.host):
            if inst.host:
                self.hosts.driver(_host(inst)).destroy(inst.id)
            self.placement.release(inst.id)
            transition(self.db, inst.id, {"task_state": st.SHELVING_OFFLOADING},
                       {"vm_state": st.SHELVED_OFFLOADED, "task_state": None, "host": None, "node": None,
                        "power_state": st.NOSTATE})

    def offload_shelved(self, host: str, before: dt.datetime) -> None:
        """Offload ``host``'s servers shelved before ``before`` (a positive
        ``shelved_offload_time``: Nova's periodic ``_poll_shelved_instances``)."""
        with self.db.session(readonly=True) as s:
            due = [i for i in s.scalars(sa.select(Instance).where(Instance.host == host,
                                                                  Instance.vm_state == st.SHELVED,
                                                                  Instance.task_state.is_(None)))
                   if dt.datetime.fromisoformat((i.shelved or {}).get("at") or before.isoformat()) < before]
        for inst in due:
            if transition(self.db, inst.id, {"vm_state": st.SHELVED, "task_state": None},
                          {"task_state": st.SHELVING_OFFLOADING}):
                self.shelve_offload_instance(inst.id)

    def schedule_unshelve(self, instance_id: str) -> str | None:
        """The scheduler's half of unshelving an offloaded server: claim a host and record
        it (a compare-and-swap from "no host", so two schedulers with a copy of the cast
        place it once).  No host: the server stays SHELVED_OFFLOADED with a fault."""
        inst = load(self.db, instance_id)
        if inst.task_state != st.UNSHELVING or inst.host is not None:
            return inst.host if inst.task_state == st.UNSHELVING else None
        named = (inst.shelved or {}).get("host")  # 2.91's unshelve to a host, through the filters
        try:
            hosts = frozenset({named}) if named else None
            node = self.scheduler.select_and_claim(self._request(inst, hosts=hosts)).node
        except NoValidHost as error:
            if not self.placement.allocations(inst.id):
                transition(self.db, inst.id, {"task_state": st.UNSHELVING, "host": None},
                           {"task_state": None, "fault": fault(500, str(error))})
            return None
        except Conflict:  # another scheduler holds the claim
            return None
        if not transition(self.db, inst.id, {"task_state": st.UNSHELVING, "host": None},
                          {"host": node.host, "node": node.host, "availability_zone": node.availability_zone}):
            self.placement.release(inst.id)
            return None
        return node.host

    def unshelve_instance(self, instance_id: str, action_id: str | None = None) -> None:
        """Power a SHELVED server's guest back on, or spawn an offloaded one on the host a
        scheduler claimed, from its shelved image (its ports bound there); then the
        shelved image is deleted.  A failed spawn gives the claim back and leaves the
        server SHELVED_OFFLOADED with a fault."""
        inst = load(self.db, instance_id)
        if inst.task_state != st.UNSHELVING or inst.host is None:
            return
        driver = self.hosts.driver(_host(inst))
        image_id = (inst.shelved or {}).get("image_id")
        with self.actions.event(action_id, "compute_unshelve_instance", inst.host):
            if inst.vm_state == st.SHELVED:
                power = driver.power_on(inst.id)
            else:
                try:
                    power = self._respawn(inst, driver, image_id)
                except Exception as error:
                    self.placement.release(inst.id)
                    transition(self.db, inst.id, {"task_state": st.UNSHELVING},
                               {"task_state": None, "host": None, "node": None,
                                "fault": fault(500, f"Unshelve of instance {inst.id} failed: {error}")})
                    raise
            if transition(self.db, inst.id, {"task_state": st.UNSHELVING},
                          {"vm_state": st.ACTIVE, "task_state": None, "power_state": power, "shelved": None,
                           "fault": None}) and image_id:
                self.images.delete(image_id)

    def _respawn(self, inst: Instance, driver: Driver, image_id: str | None) -> int:
        self._bind_ports(inst, _host(inst))
        driver.destroy(inst.id)  # what an interrupted unshelve may have left
        guest = self._guest(inst.flavor, inst)
        with self._guest_spec(inst, inst.flavor, guest) as spec:
            if image_id:
                spec.image_ref = image_id
            return driver.spawn(spec)

    # -- evacuate --------------------------------------------------------------------
    def schedule_evacuation(self, instance_id: str) -> str | None:
        """The scheduler's half of an evacuation: the failed source's allocation is kept
        by the migration (its host gives it back when it comes back), a destination is
        claimed for the instance (not the source; the named host if any) and recorded by
        a compare-and-swap from the source.  No host: ERROR with a fault, as Nova."""
        inst = load(self.db, instance_id)
        migration = inst.migration or {}
        if inst.task_state != st.REBUILDING or migration.get("type") != "evacuation":
            return None
        if migration.get("dest_host"):
            return migration["dest_host"]  # placed by another copy of the cast
        if not self.placement.allocations(migration["id"]):
            self.placement.move(inst.id, migration["id"])
        named = frozenset({migration["host"]}) if migration.get("host") else None
        if named is None and migration.get("candidates") is not None:
            named = frozenset(migration["candidates"])  # instance HA: the failed host's segment
        ignore = frozenset({migration["source_host"]}) if migration.get("source_host") else frozenset()
        try:
            node = self.scheduler.select_and_claim(self._request(inst, hosts=named, ignore_hosts=ignore)).node
        except NoValidHost as error:
            self.placement.move(migration["id"], inst.id)
            record_outcome(self.db, migration["id"], "error", None)
            transition(self.db, inst.id, {"task_state": st.REBUILDING},
                       {"task_state": None, "vm_state": st.ERROR, "migration": None, "fault": fault(500, str(error))})
            return None
        except Conflict:  # another scheduler's copy holds the claim
            return None
        if not transition(self.db, inst.id, {"task_state": st.REBUILDING, "host": inst.host},
                          {"host": node.host, "node": node.host, "availability_zone": node.availability_zone,
                           "migration": migration | {"dest_host": node.host}}):
            self.placement.release(inst.id)
            return None
        return node.host

    def evacuate_instance(self, instance_id: str, action_id: str | None = None) -> None:
        """The destination's half: the ports bound here, the guest spawned from the image
        (a new root disk) or the boot volume, stopped again if it was or the request asked
        (2.95); an ERROR server comes back ACTIVE otherwise, as in Nova."""
        inst = load(self.db, instance_id)
        migration = inst.migration or {}
        if inst.task_state != st.REBUILDING or migration.get("dest_host") != inst.host or inst.host is None:
            return
        driver = self.hosts.driver(inst.host)
        with self.actions.event(action_id, "compute_rebuild_instance", inst.host):
            power = self._respawn(inst, driver, None)
            vm_state = st.ACTIVE
            if inst.vm_state == st.STOPPED or migration.get("stop"):
                power, vm_state = driver.power_off(inst.id), st.STOPPED
            if transition(self.db, inst.id, {"task_state": st.REBUILDING},
                          {"task_state": None, "vm_state": vm_state, "power_state": power, "migration": None,
                           "fault": None, "launched_at": utcnow()}):
                record_outcome(self.db, migration["id"], "done", inst.host)

    def destroy_evacuated_instances(self, host: str) -> None:
        """A host coming back removes the guests of servers evacuated away while it was
        down, and gives back their allocation (Nova's ``_destroy_evacuated_instances``), so
        no server ever runs on two hosts."""
        with self.db.session(readonly=True) as s:
            done = list(s.scalars(sa.select(Migration).where(Migration.migration_type == "evacuation",
                                                             Migration.source_compute == host,
                                                             Migration.status == "done")))
        for migration in done:
            LOG.info("removing the guest of %s, evacuated from %s", migration.instance_uuid, host)
            self.hosts.driver(host).destroy(migration.instance_uuid)
            self.placement.release(migration.uuid)
            record_outcome(self.db, migration.uuid, "completed", migration.dest_compute)

    def destroy_unknown_guests(self, host: str) -> None:
        """A host starting removes the guests of servers the database does not hold: the
        cloud's state was reset or restored under running guests (``pocketstack reset``,
        a snapshot restore), and they would otherwise run for nobody, holding memory, taps
        and disks.  A guest of a server the database holds is kept whatever host it names
        (the other end of a migration, an evacuation's source: handled above)."""
        driver = self.hosts.driver(host)
        guests = driver.guests()
        if not guests:
            return
        with self.db.session(readonly=True) as s:
            known = set(s.scalars(sa.select(Instance.id).where(Instance.id.in_(guests))))
        for instance_id in guests:
            if instance_id not in known:
                LOG.warning("removing the guest of %s from %s: no such server in the database", instance_id, host)
                driver.destroy(instance_id)

    # -- live migration ------------------------------------------------------------
    def live_migrate_instance(self, instance_id: str, action_id: str | None = None) -> None:
        """Move a running (or paused) guest to another host without stopping it.  As
        Nova's move_allocations: the source's allocation is held by the migration while
        the destination is claimed for the instance, and dropped once the guest runs there.
        Nowhere to go (or the server's own host named, from 2.34): the migration ends in
        ``error`` and the server stays where it is, as it was; aborted
        (:meth:`live_migration_abort`) before the switch-over: the same, ``cancelled``."""
        inst = load(self.db, instance_id)
        migration = inst.migration or {}
        if inst.task_state != st.MIGRATING or not migration.get("id"):
            return
        with self._moves_lock:  # an abort or force cast that came first may have made it
            control = self._moves.setdefault(migration["id"], MoveControl())
        try:
            self._live_migrate(inst, migration, control, action_id)
        finally:
            with self._moves_lock:
                self._moves.pop(migration["id"], None)

    def _live_migrate(self, inst: Instance, migration: dict, control: MoveControl, action_id: str | None) -> None:
        with self.actions.event(action_id, "compute_live_migration", inst.host):
            self.placement.move(inst.id, migration["id"])
            try:
                if migration.get("host") == inst.host:
                    raise NoValidHost(f"Unable to migrate instance ({inst.id}) to current host ({inst.host}).")
                named = frozenset({migration["host"]}) if migration.get("host") else None
                node = self.scheduler.select_and_claim(self._request(
                    inst, hosts=named, ignore_hosts=frozenset({_host(inst)}))).node
            except NoValidHost as error:
                LOG.warning("live migration of %s failed: %s", inst.id, error)
                self._abandon_live_migration(inst)
                return
            # The destination, for the views and for a restart's recovery (Nova's dest_compute).
            if control.abort.is_set() or not transition(
                    self.db, inst.id, {"task_state": st.MIGRATING},
                    {"migration": migration | {"dest_host": node.host}}):
                self._abandon_live_migration(inst, "cancelled")
                return
            source, dest = self.hosts.driver(_host(inst)), self.hosts.driver(node.host)
            self._bind_ports(inst, node.host)
            try:
                with self._guest_spec(inst, inst.flavor, inst.guest) as spec:
                    power = source.live_migration(spec, dest, control)
            except Exception as error:
                # As Nova's _rollback_live_migration: the guest runs on at the source.
                self._bind_ports(inst, _host(inst))
                cancelled = isinstance(error, MigrationCancelled)
                self._abandon_live_migration(inst, "cancelled" if cancelled else "error")
                if cancelled:
                    LOG.info("live migration of %s to %s aborted", inst.id, node.host)
                    return
                raise
            self._live_migrated(inst, node.host, power)

    def _live_migrated(self, inst: Instance, host: str, power: int, status: str = "completed") -> None:
        """The guest runs on ``host`` now: the source's allocation (held by the migration)
        dropped, the record in ``status``, the instance there."""
        migration_id = (inst.migration or {})["id"]
        self.placement.release(migration_id)
        record_outcome(self.db, migration_id, status, host)
        node = self.hosts.by_host(host)
        if not transition(self.db, inst.id, {"task_state": st.MIGRATING},
                          {"task_state": None, "migration": None, "host": host, "node": host,
                           "availability_zone": node.availability_zone, "power_state": power}):
            self.hosts.driver(host).destroy(inst.id)  # deleted meanwhile: the delete looked for it on the source

    def _running_move(self, instance_id: str, migration_id: str, action_id: str | None,
                      event: str) -> MoveControl | None:
        """The control of the live migration ``migration_id`` of the instance, registered
        if its move has not started yet (the instance read under the lock, which the move
        takes to drop its control once it has let go of the instance: a request never
        outlives its move); None when that migration is over."""
        with self._moves_lock:
            try:
                inst = load(self.db, instance_id)
            except InstanceNotFound:
                return None
            if inst.task_state != st.MIGRATING or (inst.migration or {}).get("id") != migration_id:
                LOG.info("%s of live migration %s of %s: not in progress", event, migration_id, instance_id)
                return None
            control = self._moves.setdefault(migration_id, MoveControl())
        with self.actions.event(action_id, event, inst.host):
            return control

    def live_migration_abort(self, instance_id: str, migration_id: str, action_id: str | None = None) -> None:
        """Nova's ``live_migration_abort``: the move stopped before its switch-over and
        rolled back (the migration ``cancelled``, the guest running on at the source)."""
        control = self._running_move(instance_id, migration_id, action_id, "compute_live_migration_abort")
        if control is not None:
            control.abort.set()

    def live_migration_force_complete(self, instance_id: str, migration_id: str,
                                      action_id: str | None = None) -> None:
        """Nova's ``live_migration_force_complete``: the guest paused so that the move
        converges; it runs again on the destination."""
        control = self._running_move(instance_id, migration_id, action_id, "compute_live_migration_force_complete")
        if control is not None:
            control.force.set()

    def _abandon_live_migration(self, inst: Instance, status: str = "error") -> None:
        """Back to where a live migration started: the source's allocation returned to the
        instance (any claim it got elsewhere dropped), the record in ``status``
        (``error``, or ``cancelled`` after an abort)."""
        migration = inst.migration or {}
        if migration.get("id") and self.placement.allocations(migration["id"]):
            self.placement.release(inst.id)
            self.placement.move(migration["id"], inst.id)
        record_outcome(self.db, migration.get("id", ""), status, None)
        transition(self.db, inst.id, {"task_state": st.MIGRATING}, {"task_state": None, "migration": None})

    def _recover_live_migration(self, inst: Instance) -> None:
        """A live migration this host's previous process left (Nova's
        ``_reset_live_migration``: the move given up, its record ``error``, the task
        cleared).  Its QEMUs ran on: the guest stays on whichever host it really runs on
        -- the destination if it had switched over -- and the other host's copy goes."""
        migration = inst.migration or {}
        dest_host = migration.get("dest_host")
        if dest_host is None or dest_host == inst.host:  # the move had not reached a driver
            self._abandon_live_migration(inst)
            return
        source = self.hosts.driver(_host(inst))
        moved = source.recover_live_migration(inst.id, self.hosts.driver(dest_host), resume=inst.vm_state == st.ACTIVE)
        if not moved:
            self._bind_ports(inst, _host(inst))
            self._abandon_live_migration(inst)
            return
        self._live_migrated(inst, dest_host, self.hosts.driver(dest_host).power_state(inst.id), "error")

    # -- resize ----------------------------------------------------------------------
    def resize_instance(self, instance_id: str, action_id: str | None = None) -> None:
        """Keep the old flavor's allocation under the migration's id, claim the new flavor
        for the instance (any host, the current one included), and land in VERIFY_RESIZE."""
        inst = load(self.db, instance_id)
        if inst.task_state != st.RESIZE_PREP:
            return
        migration = dict(_resizing(inst, inst.migration))
        with self.actions.event(action_id, "compute_prep_resize", inst.host):
            self.placement.move(inst.id, migration["id"])
            try:
                node = self.scheduler.select_and_claim(self._move_request(inst, migration)).node
            except NoValidHost as error:
                self.placement.move(migration["id"], inst.id)
                self._undo_resize_quota(inst)
                transition(self.db, inst.id, {"task_state": st.RESIZE_PREP},
                           {"task_state": None, "migration": None, "new_flavor": None,
                            "fault": fault(500, str(error))})
                return
        migration["dest_host"] = node.host
        if not transition(self.db, inst.id, {"task_state": st.RESIZE_PREP},
                          {"task_state": st.RESIZE_MIGRATING, "migration": migration}):
            return
        with self.actions.event(action_id, "compute_resize_instance", inst.host):
            was_running = inst.vm_state == st.ACTIVE
            flavor = _resizing(inst, inst.new_flavor)
            guest = self._guest(flavor, inst)
            if node.host == inst.host:  # same host: the guest keeps its disks, grown, for a revert
                dest = self.hosts.driver(node.host)
                with self._guest_spec(inst, flavor, guest) as spec:
                    power = dest.resize(spec)
                if not was_running:
                    power = dest.power_off(inst.id)
            else:
                moved = self._migrate_to(inst, node.host, flavor, guest, was_running)
                if moved is None:
                    return
                power = moved
        transition(self.db, inst.id, {"task_state": st.RESIZE_MIGRATING},
                   {"task_state": None, "vm_state": st.RESIZED, "power_state": power, "host": node.host,
                    "node": node.host, "old_flavor": inst.flavor, "flavor": inst.new_flavor, "new_flavor": None,
                    "guest": guest, "migration": migration | {"was_running": was_running}})

    def _migrate_to(self, inst: Instance, host: str, flavor: dict, guest: dict, was_running: bool) -> int | None:
        """A resize or cold migration to another host: the source's driver stops the guest
        and hands its disks to the destination's, which starts it there (if it ran), its
        ports bound there first.  Returns its power state; None when it failed, the guest
        then back on the source as it was and the migration in ``error`` (the server keeps
        its state, with a fault: Nova's rollback of a failed resize)."""
        source, dest = self.hosts.driver(_host(inst)), self.hosts.driver(host)
        self._bind_ports(inst, host)
        try:
            with self._guest_spec(inst, flavor, guest) as spec:
                source.migrate_disk_and_power_off(inst.id, dest)
                return dest.finish_migration(spec, power_on=was_running)
        except Exception as error:
            LOG.exception("migration of %s to %s failed", inst.id, host)
            with contextlib.suppress(Exception):
                dest.destroy(inst.id)
            self._bind_ports(inst, _host(inst))
            with self._guest_spec(inst, inst.flavor, inst.guest) as spec:
                power = source.finish_revert_migration(spec, power_on=was_running)
            migration = _resizing(inst, inst.migration)
            self.placement.release(inst.id)
            self.placement.move(migration["id"], inst.id)
            self._undo_resize_quota(inst)
            record_outcome(self.db, migration["id"], "error", None)
            transition(self.db, inst.id, {"task_state": st.RESIZE_MIGRATING},
                       {"task_state": None, "migration": None, "new_flavor": None, "power_state": power,
                        "fault": fault(500, f"Migration of instance {inst.id} to {host} failed: {error}")})
            return None

    def _bind_ports(self, inst: Instance, host: str) -> None:
        """The instance's ports bound to ``host`` (where its guest is about to run)."""
        network = self.network()
        if network is not None:
            for port in network.list_instance_ports(inst.id):
                if port.get("binding:host_id") != host:
                    network.update(RequestContext.admin(), "ports", port["id"], {"binding:host_id": host})

    def _move_request(self, inst: Instance, migration: dict) -> Request:
        """Where a resize or cold migration may land.  A resize goes anywhere, its own host
        included; a cold migration anywhere else, or to the host it named.  A real guest's
        resize stays on its host (its disks grown there); its migration copies them."""
        leaving = migration.get("type") == "migration"
        if self.hosts.real and inst.host and not leaving:
            return self._request(inst, flavor=inst.new_flavor, hosts=frozenset({inst.host}))
        named = frozenset({migration["host"]}) if migration.get("host") else None
        return self._request(inst, flavor=inst.new_flavor, hosts=named,
                             ignore_hosts=frozenset({inst.host}) if leaving and inst.host else frozenset())

    def _undo_resize_quota(self, inst: Instance) -> None:
        extra = (inst.migration or {}).get("quota") or {}
        if extra:
            run_in_transaction(self.db, lambda s: self.quotas.release(s, inst.project_id, extra))

    def confirm_resize(self, instance_id: str, action_id: str | None = None) -> None:
        inst = load(self.db, instance_id)
        if inst.task_state != st.RESIZE_CONFIRMING:
            return
        with self.actions.event(action_id, "compute_confirm_resize", inst.host):
            migration = _resizing(inst, inst.migration)
            if migration.get("source_host") != inst.host:
                self.hosts.driver(migration["source_host"]).confirm_migration(inst.id)
            else:
                self.hosts.driver(_host(inst)).confirm_resize(inst.id)
            self.placement.release(migration["id"])
            shrink = {r: -d for r, d in (migration.get("quota") or {}).items() if d < 0}
            vm_state = st.ACTIVE if migration.get("was_running", True) else st.STOPPED

            def finish(s: Session) -> None:
                done = changed_rows(s, sa.update(Instance).where(Instance.id == inst.id,
                                                                 Instance.task_state == st.RESIZE_CONFIRMING)
                                       .values(task_state=None, vm_state=vm_state, migration=None, old_flavor=None,
                                               updated_at=utcnow()))
                if done and shrink:
                    self.quotas.release(s, inst.project_id, shrink)
            run_in_transaction(self.db, finish)

    def revert_resize(self, instance_id: str, action_id: str | None = None) -> None:
        inst = load(self.db, instance_id)
        if inst.task_state != st.RESIZE_REVERTING:
            return
        with self.actions.event(action_id, "compute_revert_resize", inst.host):
            migration = _resizing(inst, inst.migration)
            source = migration["source_host"]
            dest = self.hosts.driver(_host(inst))
            flavor = _resizing(inst, inst.old_flavor)
            guest = self._guest(flavor, inst)
            was_running = migration.get("was_running", True)
            if source == inst.host:  # same host: back to the definition and disk kept aside
                power = dest.revert_resize(inst.id)
                if not was_running:
                    power = dest.power_off(inst.id)
            else:  # the destination's copy goes, the source's comes back
                dest.destroy(inst.id)
                self._bind_ports(inst, source)
                with self._guest_spec(inst, flavor, guest) as spec:
                    power = self.hosts.driver(source).finish_revert_migration(spec, power_on=was_running)
            self.placement.move(migration["id"], inst.id)
            grow = {r: d for r, d in (migration.get("quota") or {}).items() if d > 0}
            vm_state = st.ACTIVE if was_running else st.STOPPED

            def finish(s: Session) -> None:
                done = changed_rows(s, sa.update(Instance).where(Instance.id == inst.id,
                                                                 Instance.task_state == st.RESIZE_REVERTING)
                                       .values(task_state=None, vm_state=vm_state, migration=None, old_flavor=None,
                                               flavor=flavor, host=source, node=source, guest=guest,
                                               power_state=power, updated_at=utcnow()))
                if done and grow:
                    self.quotas.release(s, inst.project_id, grow)
            run_in_transaction(self.db, finish)

    # -- power-state sync (Nova's _sync_power_states) ------------------------------------
    def _idle_on(self, host: str) -> list[Instance]:
        with self.db.session(readonly=True) as s:
            return list(s.scalars(sa.select(Instance).where(Instance.host == host, Instance.task_state.is_(None))))

    def sync_power_states(self, host: str) -> None:
        """Bring the database in line with what ``host``'s guests really are, as Nova's
        ``_sync_power_states``: the power state is recorded; a guest found shut down (from
        inside, or its QEMU killed) while the server is ACTIVE or PAUSED makes it SHUTOFF;
        a guest found running while the server is SHUTOFF is powered off.  A server in a
        task state is never touched (its operation owns it), and every change is a
        compare-and-swap from the states that were read."""
        driver = self.hosts.driver(host)
        for inst in self._idle_on(host):
            try:
                power = driver.power_state(inst.id)
            except Exception:
                LOG.exception("power-state sync: cannot read the power state of %s on %s", inst.id, host)
                continue
            expect = {"task_state": None, "vm_state": inst.vm_state, "power_state": inst.power_state}
            if power == st.NOSTATE:
                # Not found, or its hypervisor not answering: logged only, as Nova does.
                if inst.vm_state in (st.ACTIVE, st.STOPPED, st.PAUSED):
                    LOG.warning("power-state sync: %s (%s) has no guest on %s", inst.id, inst.vm_state, host)
                continue
            if inst.vm_state in (st.ACTIVE, st.PAUSED) and power in (st.SHUTDOWN, st.CRASHED):
                LOG.warning("power-state sync: %s was %s but its guest is shut down: SHUTOFF", inst.id, inst.vm_state)
                transition(self.db, inst.id, expect, {"vm_state": st.STOPPED, "power_state": power})
            elif inst.vm_state == st.STOPPED and power not in (st.SHUTDOWN, st.CRASHED, st.POWER_SUSPENDED):
                LOG.warning("power-state sync: %s is SHUTOFF but its guest runs: powering it off", inst.id)
                if transition(self.db, inst.id, expect, {"task_state": st.POWERING_OFF}):
                    self.run_operation(inst.id, "stop")
            elif power != inst.power_state:
                transition(self.db, inst.id, expect, {"power_state": power})

    def resume_guests_state_on_host_boot(self, host: str) -> list[str]:
        """Power on the guests the database says are running but are not (the host
        rebooted, or QEMU was ended while the service was down), as Nova's
        ``resume_guests_state_on_host_boot``; returns their ids."""
        driver = self.hosts.driver(host)
        resumed = []
        for inst in self._idle_on(host):
            if inst.vm_state != st.ACTIVE or inst.power_state != st.RUNNING:
                continue
            try:
                if driver.power_state(inst.id) in (st.RUNNING, st.NOSTATE):
                    continue  # running, or no guest at all (nothing to start)
                LOG.info("resuming guest %s on %s (it was running before the host stopped)", inst.id, host)
                power = driver.power_on(inst.id)
            except Exception:
                LOG.exception("resuming guest %s on %s failed", inst.id, host)
                continue
            transition(self.db, inst.id, {"task_state": None, "vm_state": st.ACTIVE}, {"power_state": power})
            resumed.append(inst.id)
        return resumed

    def finish_volume_attachments(self, host: str) -> None:
        """Carry on with the attaches and detaches ``host`` had begun when its service
        stopped (the volume is left ``attaching`` or ``detaching``, states only this host
        can settle; the volume service rolls them back only when nobody does for its
        recovery window).  Each step is idempotent, so a cast of the same work still queued
        for the host does no harm."""
        if self.block_devices is None:
            return
        for inst in self._idle_on(host):
            try:
                attaching, detaching = self.block_devices.unfinished(inst)
                for volume_id in attaching:
                    LOG.info("finishing the attach of volume %s to %s on %s", volume_id, inst.id, host)
                    self.attach_volume(inst.id, volume_id)
                for volume_id in detaching:
                    LOG.info("finishing the detach of volume %s from %s on %s", volume_id, inst.id, host)
                    self.detach_volume(inst.id, volume_id)
            except Exception:
                LOG.exception("finishing the volume attachments of %s on %s failed", inst.id, host)

    def prune_image_cache(self, host: str, min_age: float) -> None:
        """Remove the base images no guest of ``host`` uses any more (Nova's image cache
        manager)."""
        removed = self.hosts.driver(host).prune_base_images(min_age)
        if removed:
            LOG.info("image cache of %s: removed %s", host, ", ".join(p.name for p in removed))

    # -- restart recovery -------------------------------------------------------------
    def interrupted(self) -> list[Instance]:
        with self.db.session(readonly=True) as s:
            return list(s.scalars(sa.select(Instance).where(Instance.task_state.is_not(None))))

    def recover(self, instance: Instance) -> None:
        """Finish or fail one operation a previous process left half done: builds, deletes
        and power operations are resumed (each step is idempotent); snapshots are dropped
        (with their data-less images);
        anything else (a resize in flight) becomes ERROR with a fault saying why."""
        task = instance.task_state
        if task in BUILD_TASKS:
            if task == st.SCHEDULING:
                self.placement.release(instance.id)
            self.build_instance(instance.id)
        elif task == st.DELETING:
            self.delete_instance(instance.id)
        elif any(op.task_state == task for op in OPERATIONS.values()):
            name = next(n for n, op in OPERATIONS.items() if op.task_state == task)
            self.run_operation(instance.id, name)
        elif task == st.REBUILDING and (instance.migration or {}).get("type") == "evacuation":
            self.evacuate_instance(instance.id)
        elif task == st.REBUILDING:
            self.rebuild_instance(instance.id)
        elif task == st.IMAGE_SNAPSHOT:
            self.images.discard_unfinished_snapshots(instance.id)
            transition(self.db, instance.id, {"task_state": task}, {"task_state": None})
        elif task == st.UPDATING_PASSWORD:  # the caller got its 503; the password is set again if wanted
            transition(self.db, instance.id, {"task_state": task}, {"task_state": None})
        elif task == st.SHELVING:  # dropped, as a snapshot is: the user shelves again
            self.images.discard_unfinished_snapshots(instance.id)
            transition(self.db, instance.id, {"task_state": task}, {"task_state": None, "shelved": None})
        elif task == st.SHELVING_OFFLOADING:
            self.shelve_offload_instance(instance.id)
        elif task == st.UNSHELVING and instance.host is not None:
            self.unshelve_instance(instance.id)
        elif task == st.MIGRATING:
            self._recover_live_migration(instance)
        else:
            self._error(instance.id, task, 500, f"Operation {task} was interrupted by a compute service restart.")
