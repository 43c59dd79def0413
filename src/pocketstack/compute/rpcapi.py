"""The API's narrow interface to the schedulers and the compute hosts: RPC casts and calls.

* A build is cast to the ``scheduler`` topic: any scheduler process takes it, claims a
  host in Placement (a compare-and-swap there, so schedulers run active/active) and casts
  the rest of the build to that host.
* Everything about a placed instance is cast to the ``compute`` topic on server
  ``<host>``: the queue of the process that runs that host, kept while it restarts.
* Console output, diagnostics and a guest's VNC address are calls to the host: the API
  waits for the answer.
* Deleting (or stopping) an instance that never got a host goes to a scheduler: no host
  has anything of it.

Every method names the host and the instance; the receiving side
(:mod:`.worker`) reloads everything else from the database.  The all-in-one cloud runs
the same code over the in-process transport.

TTLs: the API moved the instance into its ``*-ing`` state *before* casting, so a cast
carries ``rpc_cast_ttl`` (default 300 s).  A cast nobody takes in that time is dropped by
the broker, never run late, and the sweeps in :mod:`.worker` find the instance by its
age: its own host resumes it, or the scheduler puts it in ERROR (a build no scheduler
took, an operation on a host that is down).  Calls wait ``rpc_call_timeout`` (30 s).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine

from pocketstack.common import rpc
from pocketstack.common.config import Settings
from pocketstack.common.errors import ApiError
from pocketstack.common.rpc.bridge import submit
from pocketstack.compute import errors
from pocketstack.compute.lifecycle import ComputeManager

LOG = logging.getLogger(__name__)
SCHEDULER_TOPIC = "scheduler"
COMPUTE_TOPIC = "compute"

# API errors raised by a host (an instance deleted under a console-output call) come
# back as themselves and are rendered in Nova's format.
rpc.register_exception(ApiError, fields=["message", "status", "error_type", "headers"])


class ComputeAPI:
    def __init__(self, manager: ComputeManager, settings: Settings):
        self.manager = manager
        self.settings = settings
        self._loop: asyncio.AbstractEventLoop | None = None
        self._client: rpc.RPCClient | None = None

    # -- transport -------------------------------------------------------------------
    def attach(self, loop: asyncio.AbstractEventLoop, transport: rpc.Transport) -> None:
        """Start sending on ``transport`` from ``loop`` (service start)."""
        self._loop = loop
        self._client = rpc.RPCClient(transport, rpc.Target(SCHEDULER_TOPIC), timeout=self.settings.rpc_call_timeout,
                                     ttl=self.settings.rpc_cast_ttl)

    def _target(self, host: str | None) -> rpc.RPCClient:
        if self._client is None:
            raise RuntimeError("the compute service is not started")
        if host is None:
            return self._client
        return rpc.RPCClient(self._client.transport, rpc.Target(COMPUTE_TOPIC, host), timeout=self._client.timeout,
                             ttl=self._client.ttl)

    def _wait(self, coro: Coroutine):
        """Run ``coro`` on the service's loop (API handlers run in worker threads)."""
        if self._loop is None:
            raise RuntimeError("the compute service is not started")
        return submit(self._loop, coro)

    async def _send(self, host: str | None, method: str, **kwargs) -> None:
        """Queue ``method``; if the broker cannot take it, the instance is already in its
        ``*-ing`` state and the sweeps deal with it, so the request still succeeds."""
        try:
            await self._target(host).cast(method, **kwargs)
        except rpc.Timeout:
            LOG.error("cast %s to %s for %s not confirmed by the broker; the sweep will handle it",
                      method, host or SCHEDULER_TOPIC, kwargs.get("instance_id"))

    def _cast(self, host: str | None, method: str, **kwargs) -> None:
        self._wait(self._send(host, method, **kwargs))

    async def cast_to_host(self, host: str, method: str, **kwargs) -> None:
        """For callers on the loop (the scheduler handing a build to its host)."""
        await self._send(host, method, **kwargs)

    # -- casts -----------------------------------------------------------------------
    def build_instances(self, builds: list[tuple[str, str | None]]) -> None:
        """Cast the builds of one request (instance id, action id) to the schedulers, all
        at once: their broker confirmations overlap instead of adding up."""
        async def cast_all():
            await asyncio.gather(*(self._send(None, "build_instance", instance_id=instance_id, action_id=action_id)
                                   for instance_id, action_id in builds))
        self._wait(cast_all())

    def delete_instance(self, host: str | None, instance_id: str, action_id: str | None) -> None:
        self._cast(host, "delete_instance", instance_id=instance_id, action_id=action_id)

    def run_operation(self, host: str | None, instance_id: str, operation: str, action_id: str | None) -> None:
        self._cast(host, "run_operation", instance_id=instance_id, operation=operation, action_id=action_id)

    def cache_images(self, host: str, image_ids: list[str]) -> None:
        """2.81: the host fetches the images into its cache (and logs how each fared)."""
        self._cast(host, "cache_images", node=host, image_ids=image_ids)

    def power_update(self, host: str, instance_id: str, target: str, action_id: str | None) -> None:
        """2.76's ``power-update`` external event (``POWER_ON``/``POWER_OFF``) to the host."""
        self._cast(host, "power_update", instance_id=instance_id, target=target, action_id=action_id)

    def rebuild_instance(self, host: str | None, instance_id: str, action_id: str | None,
                         reimage_image_id: str | None = None) -> None:
        """``reimage_image_id``: 2.93's image to write over a volume-backed server's root."""
        self._cast(host, "rebuild_instance", instance_id=instance_id, action_id=action_id,
                   reimage_image_id=reimage_image_id)

    def snapshot_instance(self, host: str | None, instance_id: str, image_id: str, action_id: str | None) -> None:
        self._cast(host, "snapshot_instance", instance_id=instance_id, image_id=image_id, action_id=action_id)

    def resize_instance(self, host: str | None, instance_id: str, action_id: str | None) -> None:
        self._cast(host, "resize_instance", instance_id=instance_id, action_id=action_id)

    def confirm_resize(self, host: str | None, instance_id: str, action_id: str | None) -> None:
        self._cast(host, "confirm_resize", instance_id=instance_id, action_id=action_id)

    def revert_resize(self, host: str | None, instance_id: str, action_id: str | None) -> None:
        self._cast(host, "revert_resize", instance_id=instance_id, action_id=action_id)

    def live_migrate_instance(self, host: str | None, instance_id: str, action_id: str | None) -> None:
        """To the source host, which claims a destination and moves the running guest."""
        self._cast(host, "live_migrate_instance", instance_id=instance_id, action_id=action_id)

    def live_migration_abort(self, host: str | None, instance_id: str, migration_id: str,
                             action_id: str | None) -> None:
        """To the source host, whose process runs the move (``migration_id``: its uuid)."""
        self._cast(host, "live_migration_abort", instance_id=instance_id, migration_id=migration_id,
                   action_id=action_id)

    def live_migration_force_complete(self, host: str | None, instance_id: str, migration_id: str,
                                      action_id: str | None) -> None:
        self._cast(host, "live_migration_force_complete", instance_id=instance_id, migration_id=migration_id,
                   action_id=action_id)

    def evacuate_instance(self, host: str | None, instance_id: str, action_id: str | None) -> None:
        """To a scheduler (the server's own host is down), which claims a destination and
        hands the rebuild to it."""
        self._cast(host, "evacuate_instance", instance_id=instance_id, action_id=action_id)

    def shelve_instance(self, host: str | None, instance_id: str, action_id: str | None) -> None:
        self._cast(host, "shelve_instance", instance_id=instance_id, action_id=action_id)

    def shelve_offload_instance(self, host: str | None, instance_id: str, action_id: str | None) -> None:
        self._cast(host, "shelve_offload_instance", instance_id=instance_id, action_id=action_id)

    def unshelve_instance(self, host: str | None, instance_id: str, action_id: str | None) -> None:
        """To the host of a SHELVED server; an offloaded one's goes to a scheduler, which
        claims a host and hands it on."""
        self._cast(host, "unshelve_instance", instance_id=instance_id, action_id=action_id)

    def attach_volume(self, host: str, instance_id: str, volume_id: str, action_id: str | None) -> None:
        """The volume is reserved for the instance; its host gives it to the guest."""
        self._cast(host, "attach_volume", instance_id=instance_id, volume_id=volume_id, action_id=action_id)

    def detach_volume(self, host: str, instance_id: str, volume_id: str, action_id: str | None) -> None:
        """The volume is ``detaching``; its host takes it away from the guest."""
        self._cast(host, "detach_volume", instance_id=instance_id, volume_id=volume_id, action_id=action_id)

    def extend_volume(self, host: str, instance_id: str, volume_id: str, action_id: str | None) -> None:
        """Block Storage extended an attached volume; its host tells the guest."""
        self._cast(host, "extend_volume", instance_id=instance_id, volume_id=volume_id, action_id=action_id)

    def volume_snapshot_create(self, host: str, instance_id: str, volume_id: str, create_info: dict) -> None:
        """A Cinder remotefs driver's assisted snapshot of a volume the guest uses."""
        self._cast(host, "volume_snapshot_create", instance_id=instance_id, volume_id=volume_id,
                   create_info=create_info)

    def volume_snapshot_delete(self, host: str, instance_id: str, volume_id: str, snapshot_id: str,
                               delete_info: dict) -> None:
        self._cast(host, "volume_snapshot_delete", instance_id=instance_id, volume_id=volume_id,
                   snapshot_id=snapshot_id, delete_info=delete_info)

    def _call(self, host: str, method: str, **kwargs):
        """A call, not a cast: the API waits for the answer (503 if the host does not give one)."""
        try:
            return self._wait(self._target(host).call(method, **kwargs))
        except rpc.Timeout:
            raise errors.HostTimeout(host=host) from None

    def get_console_output(self, host: str, instance_id: str, length: int | None) -> str:
        return self._call(host, "get_console_output", instance_id=instance_id, length=length)

    def attach_interface(self, host: str, instance_id: str, port_id: str) -> None:
        """A call (as Nova's): the port is bound to the instance; its host plugs it into
        the guest, and the API answers once it has (or failed)."""
        self._call(host, "attach_interface", instance_id=instance_id, port_id=port_id)

    def detach_interface(self, host: str, instance_id: str, port_id: str) -> None:
        """A call: the host unplugs the port's NIC from the guest before the API releases it."""
        self._call(host, "detach_interface", instance_id=instance_id, port_id=port_id)

    def set_admin_password(self, host: str, instance_id: str, password: str, action_id: str | None) -> None:
        """A call, as Nova's: the API answers once the guest has the password (or the
        host's error, e.g. no guest agent)."""
        self._call(host, "set_admin_password", instance_id=instance_id, password=password, action_id=action_id)

    def get_diagnostics(self, host: str, instance_id: str) -> dict:
        """What the host's hypervisor measures of the guest."""
        return self._call(host, "get_diagnostics", instance_id=instance_id)

    def get_vnc_address(self, host: str, instance_id: str) -> tuple[str, int] | None:
        """A call to the guest's host: where its VNC server listens now (None: the host's
        hypervisor has no graphical console); asked when a console URL is made and again
        when the proxy connects (Nova's validate_console_port: a restarted QEMU may have
        another port, and its old one another guest)."""
        found = self._call(host, "get_vnc_address", instance_id=instance_id)
        return None if found is None else (str(found[0]), int(found[1]))

    def recover(self) -> None:
        """Resume or fail every operation left in a ``*-ing`` state: each instance goes to
        its host, or to a scheduler when it has none yet."""
        for instance in self.manager.interrupted():
            self._cast(instance.host, "recover_instance", instance_id=instance.id)
