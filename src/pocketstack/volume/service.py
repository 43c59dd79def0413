"""The Block Storage service as the cloud runs it: the Cinder v3 API under ``/volume``,
the :class:`~pocketstack.volume.manager.VolumeManager` other services call in process
and — in processes with the ``volume`` role — the volume worker on the ``volume`` RPC
topic (with recovery of abandoned work)."""

from __future__ import annotations

import asyncio
import socket

from pocketstack.common import rpc
from pocketstack.common.api.errors import fault_format
from pocketstack.common.health import Check
from pocketstack.common.service import Counted, Service
from pocketstack.volume.manager import VolumeManager
from pocketstack.volume.models import Backup, Snapshot, Volume
from pocketstack.volume.policies import RULES
from pocketstack.volume.rpc import TOPIC, VolumeHost


class VolumeService(Service):
    name = "volume"
    catalog_type = "block-storage"
    catalog_name = "cinderv3"
    catalog_suffix = "/v3/%(project_id)s"
    rules = RULES
    counted = (Counted("volumes", Volume, "status"), Counted("snapshots", Snapshot, "status"),
               Counted("backups", Backup, "status"))

    def __init__(self, cloud):
        super().__init__(cloud)
        self.manager = VolumeManager(cloud)
        self.host: VolumeHost | None = None  # the volume worker, when this process runs one

    def app(self):
        from pocketstack.volume.api import build_router
        from pocketstack.volume.api.common import VERSIONS, finish
        from pocketstack.volume.api.validation import validate
        return self.api(build_router(self.manager), fault_format, versions=VERSIONS, finish=finish,
                        validate_body=validate, empty_id_not_found=True)

    async def start(self) -> None:
        """Cast to the ``volume`` topic from now on; with the ``volume`` role also serve it
        (recovering abandoned work first, then periodically)."""
        cloud, settings, worker = self.cloud, self.cloud.settings, self.manager.worker
        await asyncio.to_thread(lambda: cloud.coordinator)  # started once, off the loop
        worker.client = rpc.RPCClient(cloud.transport, rpc.Target(TOPIC), timeout=settings.rpc_call_timeout,
                                      ttl=settings.rpc_cast_ttl)
        worker.loop = asyncio.get_running_loop()
        if "volume" in cloud.roles:
            self.host = VolumeHost(worker, cloud.transport, settings.volume_host or socket.gethostname(),
                                   settings.volume_recovery_window)
            await self.host.start()

    def health(self) -> list[Check]:
        """The volume worker, in a process with the ``volume`` role."""
        if "volume" not in self.cloud.roles:
            return []
        return self.host.health() if self.host is not None else [Check("volume.host", False, "not started")]

    async def stop(self) -> None:
        if self.host is not None:
            await self.host.stop()
            self.host = None
        await self.manager.worker.drain()
        self.manager.worker.loop = None
        self.manager.worker.client = None
