"""The compute service's workers, fed by RPC: schedulers and hypervisor hosts.

:class:`SchedulerWorker` serves the ``scheduler`` topic: it claims a host for each build
(any number of schedulers run active/active, the claim is a compare-and-swap in
Placement) and casts the rest of the build to that host.  :class:`ComputeWorker` runs
this process's hosts: one RPC server per host on ``compute``/``<host>``, and a heartbeat
that keeps the hosts up.  ``pocketstack up`` runs both; ``pocketstack scheduler`` and
``pocketstack compute --host NAME`` run one each.

Nothing stays in a ``*-ing`` state for ever.  An instance enters one when the API casts;
the cast is dropped after ``rpc_cast_ttl``, so an instance still in it a little later is
either being worked on (the host knows: its endpoint tracks the instances it is busy
with) or nobody will ever touch it.  Each worker sweeps periodically:

* a host resumes its own stale instances (builds, deletes, power operations; a resize
  becomes ERROR) — this also recovers the work of a host process that was killed;
* one scheduler at a time (a coordination lock) puts builds that no scheduler took in
  ERROR (a late build is worse than a failed one: callers retry), finishes deletes on
  hosts that are down locally, as Nova does, and puts other operations there in ERROR.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import datetime as dt
import functools
import logging
import threading
from collections.abc import Callable, Iterator

import sqlalchemy as sa

from pocketstack.common import rpc
from pocketstack.common.config import Settings
from pocketstack.common.coordination import Coordinator, LockTimeout
from pocketstack.common.db import utcnow
from pocketstack.common.errors import NotFound
from pocketstack.common.health import Check, task_running
from pocketstack.common.heartbeat import Heartbeat
from pocketstack.compute import states as st
from pocketstack.compute.lifecycle import fault
from pocketstack.compute.models import Instance
from pocketstack.compute.rpcapi import COMPUTE_TOPIC, SCHEDULER_TOPIC
from pocketstack.compute.transitions import load, transition

LOG = logging.getLogger(__name__)
# Slack on top of the cast TTL before an instance counts as abandoned: the hand-over from
# the broker to a running method, and clock skew between hosts.
SWEEP_MARGIN = 5.0


def sweep_interval(settings: Settings) -> float:
    return max(1.0, settings.rpc_cast_ttl / 4)


def stale_instances(db, before: dt.datetime, hosts: set[str] | None = None) -> list[Instance]:
    """Instances in a ``*-ing`` state not touched since ``before`` (on ``hosts`` if given)."""
    query = sa.select(Instance).where(Instance.task_state.is_not(None), Instance.updated_at < before)
    if hosts is not None:
        query = query.where(Instance.host.in_(sorted(hosts)))
    with db.session(readonly=True) as s:
        return list(s.scalars(query))


async def _periodically(interval: float, work: Callable[[], None], what: str) -> None:
    while True:
        await asyncio.sleep(interval)
        try:
            await asyncio.to_thread(work)
        except Exception:
            LOG.exception("%s failed; trying again in %ss", what, interval)


# -- scheduler ---------------------------------------------------------------------------
class SchedulerEndpoint:
    def __init__(self, compute):
        self.compute = compute

    async def build_instance(self, instance_id: str, action_id: str | None = None) -> None:
        host = await asyncio.to_thread(self.compute.manager.schedule_instance, instance_id, action_id)
        if host is not None:
            await self.compute.rpc.cast_to_host(host, "build_instance", instance_id=instance_id, action_id=action_id)

    async def delete_instance(self, instance_id: str, action_id: str | None = None) -> None:
        """An instance that never got a host (its build failed) has nothing on any host."""
        await asyncio.to_thread(self.compute.manager.delete_instance, instance_id, action_id)

    async def run_operation(self, instance_id: str, operation: str, action_id: str | None = None) -> None:
        await asyncio.to_thread(self.compute.manager.run_operation, instance_id, operation, action_id)

    async def evacuate_instance(self, instance_id: str, action_id: str | None = None) -> None:
        """Claim a destination for a server of a failed host, then its host rebuilds it."""
        host = await asyncio.to_thread(self.compute.manager.schedule_evacuation, instance_id)
        if host is not None:
            await self.compute.rpc.cast_to_host(host, "evacuate_instance", instance_id=instance_id,
                                                action_id=action_id)

    async def unshelve_instance(self, instance_id: str, action_id: str | None = None) -> None:
        """An offloaded server's unshelve: claim a host, then its host spawns it."""
        host = await asyncio.to_thread(self.compute.manager.schedule_unshelve, instance_id)
        if host is not None:
            await self.compute.rpc.cast_to_host(host, "unshelve_instance", instance_id=instance_id,
                                                action_id=action_id)

    async def recover_instance(self, instance_id: str) -> None:
        """An interrupted operation of an instance without a host."""
        try:
            inst = await asyncio.to_thread(load, self.compute.db, instance_id)
        except NotFound:
            return
        if inst.task_state == st.SCHEDULING:
            # A claim a scheduler made but never recorded: release it, then schedule again.
            await asyncio.to_thread(self.compute.placement.release, instance_id)
            await self.build_instance(instance_id)
        elif inst.task_state == st.UNSHELVING and inst.host is None:
            await asyncio.to_thread(self.compute.placement.release, instance_id)
            await self.unshelve_instance(instance_id)
        elif inst.host is None:
            await asyncio.to_thread(self.compute.manager.recover, inst)
        else:  # placed meanwhile: the host finishes it
            await self.compute.rpc.cast_to_host(inst.host, "recover_instance", instance_id=instance_id)


class SchedulerWorker:
    def __init__(self, compute, transport: rpc.Transport, coordinator: Callable[[], Coordinator],
                 settings: Settings):
        self.compute = compute
        self.coordinator = coordinator
        self.settings = settings
        self.server = rpc.RPCServer(transport, rpc.Target(SCHEDULER_TOPIC), [SchedulerEndpoint(compute)])
        self._sweeper: asyncio.Task | None = None

    async def start(self) -> None:
        await self.server.start()
        self._sweeper = asyncio.get_running_loop().create_task(
            _periodically(sweep_interval(self.settings), self.sweep, "scheduler sweep"))

    async def stop(self) -> None:
        if self._sweeper is not None:
            self._sweeper.cancel()
            await asyncio.gather(self._sweeper, return_exceptions=True)
        await self.server.stop()

    def health(self) -> list[Check]:
        return [Check("compute.scheduler", self.server.serving, f"serving {SCHEDULER_TOPIC}" if self.server.serving
                      else "not serving"), task_running("compute.scheduler.sweep", self._sweeper)]

    def sweep(self, now: dt.datetime | None = None) -> None:
        """Fail builds nobody scheduled and operations stranded on hosts that are down."""
        before = (now or utcnow()) - dt.timedelta(seconds=self.settings.rpc_cast_ttl + SWEEP_MARGIN)
        try:
            with self.coordinator().lock(f"{self.settings.cluster_name}-compute-sweep", timeout=0):
                self._sweep(before)
        except LockTimeout:
            LOG.debug("another scheduler is sweeping")

    def _sweep(self, before: dt.datetime) -> None:
        compute = self.compute
        nodes = {n.host: n for n in compute.hosts.list()}
        for inst in stale_instances(compute.db, before):
            if inst.task_state == st.SCHEDULING:
                if transition(compute.db, inst.id, {"task_state": st.SCHEDULING},
                              {"vm_state": st.ERROR, "task_state": None, "fault": fault(
                                  500, f"Build of instance {inst.id} expired: no scheduler took it within "
                                       f"{self.settings.rpc_cast_ttl:g} seconds.")}):
                    compute.placement.release(inst.id)
                LOG.warning("build of %s expired before a scheduler took it", inst.id)
            elif inst.task_state == st.UNSHELVING and inst.host is None:
                if transition(compute.db, inst.id, {"task_state": st.UNSHELVING, "host": None},
                              {"task_state": None, "fault": fault(
                                  500, f"Unshelve of instance {inst.id} expired: no scheduler took it within "
                                       f"{self.settings.rpc_cast_ttl:g} seconds.")}):
                    compute.placement.release(inst.id)
                LOG.warning("unshelve of %s expired before a scheduler took it", inst.id)
            elif inst.host and not (inst.host in nodes and compute.hosts.is_up(nodes[inst.host])):
                LOG.warning("%s of %s abandoned: compute host %s is down", inst.task_state, inst.id, inst.host)
                if inst.task_state == st.DELETING:
                    compute.manager.delete_instance(inst.id)
                else:
                    transition(compute.db, inst.id, {"task_state": inst.task_state},
                               {"vm_state": st.ERROR, "task_state": None, "fault": fault(
                                   500, f"Operation {inst.task_state} abandoned: compute host {inst.host} "
                                        "is down.")})


# -- hosts -------------------------------------------------------------------------------
class ComputeEndpoint:
    """What a host does when asked; every method reloads the instance from the database.

    The instances being worked on are tracked so that the sweep never resumes an
    operation that is merely slow."""

    def __init__(self, compute):
        self.manager = compute.manager
        self.db = compute.db
        self._busy: collections.Counter[str] = collections.Counter()
        self._lock = threading.Lock()

    @property
    def busy(self) -> set[str]:
        """The instances a method is running for (a property: not callable over RPC)."""
        with self._lock:
            return set(self._busy)

    @contextlib.contextmanager
    def _working(self, instance_id: str) -> Iterator[None]:
        with self._lock:
            self._busy[instance_id] += 1
        try:
            yield
        finally:
            with self._lock:
                self._busy[instance_id] -= 1
                if not self._busy[instance_id]:
                    del self._busy[instance_id]

    def build_instance(self, instance_id: str, action_id: str | None = None) -> None:
        with self._working(instance_id):
            self.manager.build_instance(instance_id, action_id)

    def delete_instance(self, instance_id: str, action_id: str | None = None) -> None:
        with self._working(instance_id):
            self.manager.delete_instance(instance_id, action_id)

    def run_operation(self, instance_id: str, operation: str, action_id: str | None = None) -> None:
        with self._working(instance_id):
            self.manager.run_operation(instance_id, operation, action_id)

    def cache_images(self, node: str, image_ids: list[str]) -> dict[str, str]:
        return self.manager.cache_images(node, image_ids)

    def power_update(self, instance_id: str, target: str, action_id: str | None = None) -> None:
        with self._working(instance_id):
            self.manager.power_update(instance_id, target, action_id)

    def rebuild_instance(self, instance_id: str, action_id: str | None = None,
                         reimage_image_id: str | None = None) -> None:
        with self._working(instance_id):
            self.manager.rebuild_instance(instance_id, action_id, reimage_image_id)

    def snapshot_instance(self, instance_id: str, image_id: str, action_id: str | None = None) -> None:
        with self._working(instance_id):
            self.manager.snapshot_instance(instance_id, image_id, action_id)

    def resize_instance(self, instance_id: str, action_id: str | None = None) -> None:
        with self._working(instance_id):
            self.manager.resize_instance(instance_id, action_id)

    def confirm_resize(self, instance_id: str, action_id: str | None = None) -> None:
        with self._working(instance_id):
            self.manager.confirm_resize(instance_id, action_id)

    def revert_resize(self, instance_id: str, action_id: str | None = None) -> None:
        with self._working(instance_id):
            self.manager.revert_resize(instance_id, action_id)

    def attach_volume(self, instance_id: str, volume_id: str, action_id: str | None = None) -> None:
        with self._working(instance_id):
            self.manager.attach_volume(instance_id, volume_id, action_id)

    def detach_volume(self, instance_id: str, volume_id: str, action_id: str | None = None) -> None:
        with self._working(instance_id):
            self.manager.detach_volume(instance_id, volume_id, action_id)

    def extend_volume(self, instance_id: str, volume_id: str, action_id: str | None = None) -> None:
        with self._working(instance_id):
            self.manager.extend_volume(instance_id, volume_id, action_id)

    def volume_snapshot_create(self, instance_id: str, volume_id: str, create_info: dict) -> None:
        with self._working(instance_id):
            self.manager.volume_snapshot_create(instance_id, volume_id, create_info)

    def volume_snapshot_delete(self, instance_id: str, volume_id: str, snapshot_id: str, delete_info: dict) -> None:
        with self._working(instance_id):
            self.manager.volume_snapshot_delete(instance_id, volume_id, snapshot_id, delete_info)

    def evacuate_instance(self, instance_id: str, action_id: str | None = None) -> None:
        """The destination's rebuild; a copy of the cast that arrives while one runs
        (an evacuation sent again: :meth:`Compute.resume_evacuation`) is dropped."""
        with self._lock:
            if self._busy[instance_id]:
                LOG.info("evacuation of %s runs here already: this copy of the request is dropped", instance_id)
                return
            self._busy[instance_id] += 1
        try:
            self.manager.evacuate_instance(instance_id, action_id)
        finally:
            with self._lock:
                self._busy[instance_id] -= 1
                if not self._busy[instance_id]:
                    del self._busy[instance_id]

    def live_migrate_instance(self, instance_id: str, action_id: str | None = None) -> None:
        with self._working(instance_id):
            self.manager.live_migrate_instance(instance_id, action_id)

    # Not "working": the instance's move is (the sweep must not take the request for it).
    def live_migration_abort(self, instance_id: str, migration_id: str, action_id: str | None = None) -> None:
        self.manager.live_migration_abort(instance_id, migration_id, action_id)

    def live_migration_force_complete(self, instance_id: str, migration_id: str,
                                      action_id: str | None = None) -> None:
        self.manager.live_migration_force_complete(instance_id, migration_id, action_id)

    def shelve_instance(self, instance_id: str, action_id: str | None = None) -> None:
        with self._working(instance_id):
            self.manager.shelve_instance(instance_id, action_id)

    def shelve_offload_instance(self, instance_id: str, action_id: str | None = None) -> None:
        with self._working(instance_id):
            self.manager.shelve_offload_instance(instance_id, action_id)

    def unshelve_instance(self, instance_id: str, action_id: str | None = None) -> None:
        with self._working(instance_id):
            self.manager.unshelve_instance(instance_id, action_id)

    def attach_interface(self, instance_id: str, port_id: str) -> None:
        with self._working(instance_id):
            self.manager.attach_interface(instance_id, port_id)

    def detach_interface(self, instance_id: str, port_id: str) -> None:
        with self._working(instance_id):
            self.manager.detach_interface(instance_id, port_id)

    def get_diagnostics(self, instance_id: str) -> dict:
        return self.manager.diagnostics(instance_id)

    def set_admin_password(self, instance_id: str, password: str, action_id: str | None = None) -> None:
        with self._working(instance_id):
            self.manager.set_admin_password(instance_id, password, action_id)

    def get_console_output(self, instance_id: str, length: int | None = None) -> str:
        return self.manager.console_output(instance_id, length)

    def get_vnc_address(self, instance_id: str) -> list | None:
        found = self.manager.vnc_address(instance_id)
        return None if found is None else list(found)

    def recover_instance(self, instance_id: str) -> None:
        with self._working(instance_id):
            try:
                inst = load(self.db, instance_id)
            except NotFound:
                return
            if inst.task_state is not None:
                self.manager.recover(inst)


class ComputeWorker:
    """This process's hypervisor hosts: registered, served, heartbeating, swept."""

    def __init__(self, compute, transport: rpc.Transport, heartbeat: Heartbeat, settings: Settings):
        self.compute = compute
        self.transport = transport
        self.heartbeat = heartbeat
        self.settings = settings
        self.endpoint = ComputeEndpoint(compute)
        self.servers: dict[str, rpc.RPCServer] = {}
        self._loop: asyncio.AbstractEventLoop | None = None
        self._sweeper: asyncio.Task | None = None
        self._syncers: list[asyncio.Task] = []

    async def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        hosts = self.compute.hosts
        hosts.on_added.append(self._host_added)
        await asyncio.to_thread(hosts.register_local_hosts)
        await self.heartbeat.start(set(self.servers))
        if hosts.liveness is not None:
            hosts.liveness.forget()
        self._sweeper = self._loop.create_task(
            _periodically(sweep_interval(self.settings), self.sweep, "compute host sweep"))
        for host in sorted(self.heartbeat.hosts):
            await asyncio.to_thread(self.compute.manager.destroy_evacuated_instances, host)
            await asyncio.to_thread(self.compute.manager.destroy_unknown_guests, host)
            await asyncio.to_thread(self.compute.manager.finish_volume_attachments, host)
        self._syncers = []
        if hosts.real:  # the fake driver's guests change only when told to
            if self.settings.resume_guests_state_on_host_boot:
                for host in sorted(self.heartbeat.hosts):
                    await asyncio.to_thread(self.compute.manager.resume_guests_state_on_host_boot, host)
            if self.settings.sync_power_state_interval > 0:
                self._syncers = [self._loop.create_task(_periodically(
                    self.settings.sync_power_state_interval,
                    functools.partial(self.compute.manager.sync_power_states, host), f"power-state sync of {host}"))
                    for host in sorted(self.heartbeat.hosts)]
            if self.settings.image_cache_manager_interval > 0:
                self._syncers += [self._loop.create_task(_periodically(
                    self.settings.image_cache_manager_interval,
                    functools.partial(self.compute.manager.prune_image_cache, host,
                                      self.settings.remove_unused_original_minimum_age_seconds),
                    f"image cache of {host}")) for host in sorted(self.heartbeat.hosts)]

    def _host_added(self, host: str) -> None:
        """A host registered in this process (start-up, or a test adding one): serve it and
        announce it.  Runs in a worker thread, as registration blocks."""
        assert self._loop is not None, "a host is added only once the worker started"
        asyncio.run_coroutine_threadsafe(self._serve(host), self._loop).result()
        self.heartbeat.add_host(host)
        if self.compute.hosts.liveness is not None:
            self.compute.hosts.liveness.forget()

    async def _serve(self, host: str) -> None:
        if host not in self.servers:
            server = rpc.RPCServer(self.transport, rpc.Target(COMPUTE_TOPIC), [self.endpoint], server=host)
            await server.start()
            self.servers[host] = server

    async def stop(self) -> None:
        """Leave the group (the hosts are down from now on), then finish in-flight work."""
        self.compute.hosts.on_added.remove(self._host_added)
        for task in [self._sweeper, *self._syncers]:
            if task is not None:
                task.cancel()
                await asyncio.gather(task, return_exceptions=True)
        self._syncers = []
        await self.heartbeat.stop()
        for server in self.servers.values():
            await server.stop()
        self.servers.clear()
        await asyncio.to_thread(self.compute.hosts.release_machines)

    def health(self) -> list[Check]:
        """Every host registered here is served (none registered: not ready)."""
        down = sorted(host for host, server in self.servers.items() if not server.serving)
        hosts = Check("compute.hosts", bool(self.servers) and not down,
                      f"not serving: {', '.join(down)}" if down else
                      ", ".join(sorted(self.servers)) or "no host registered")
        return [hosts, task_running("compute.hosts.sweep", self._sweeper)]

    def sweep(self, now: dt.datetime | None = None) -> None:
        """Resume this process's hosts' operations nobody is running any more."""
        before = (now or utcnow()) - dt.timedelta(seconds=self.settings.rpc_cast_ttl + SWEEP_MARGIN)
        busy = self.endpoint.busy
        for inst in stale_instances(self.compute.db, before, self.heartbeat.hosts):
            if inst.id not in busy:
                LOG.warning("resuming %s of %s: no request for it is pending any more", inst.task_state, inst.id)
                self.endpoint.recover_instance(inst.id)
        if self.settings.shelved_offload_time > 0:
            shelved_before = (now or utcnow()) - dt.timedelta(seconds=self.settings.shelved_offload_time)
            for host in sorted(self.heartbeat.hosts):
                self.compute.manager.offload_shelved(host, shelved_before)
