"""The Block Storage service as the cloud runs it: the Cinder v3 API under ``/volume``,
the file backend, and — in processes with the ``volume`` role — the volume worker on the
``volume`` RPC topic (with recovery of abandoned work)."""

from __future__ import annotations

import asyncio
import logging
import socket

import sqlalchemy as sa

from pocketstack.common import rpc
from pocketstack.common.api.app import ServiceSpec, build_app
from pocketstack.common.api.errors import fault_format
from pocketstack.common.service import Service
from pocketstack.volume import models as m
from pocketstack.volume.api import build_router
from pocketstack.volume.api.common import finish, prepare
from pocketstack.volume.attachments import Attachments
from pocketstack.volume.backup import BackupStore
from pocketstack.volume.backup_stores import ConfiguredChunks
from pocketstack.volume.backups import Backups
from pocketstack.volume.drivers.base import Capabilities
from pocketstack.volume.drivers.file import FileDriver
from pocketstack.volume.policies import DEFAULTS
from pocketstack.volume.qos import Qos
from pocketstack.volume.quotas import Quotas
from pocketstack.volume.retype import Retype
from pocketstack.volume.rpc import TOPIC, VolumeHost
from pocketstack.volume.snapshots import Snapshots
from pocketstack.volume.transfers import Transfers
from pocketstack.volume.types import Types
from pocketstack.volume.volumes import Volumes
from pocketstack.volume.worker import VolumeWorker

LOG = logging.getLogger(__name__)


class VolumeService(Service):
    name = "volume"
    path = "/volume"
    catalog_type = "block-storage"
    catalog_name = "cinderv3"
    catalog_suffix = "/v3/%(project_id)s"

    def __init__(self, cloud):
        super().__init__(cloud)
        settings = cloud.settings
        self.driver = FileDriver(settings.data_dir / "volumes", settings.volume_capacity_gb)
        self.types = Types(cloud.db)
        self.qos = Qos(cloud.db)
        self.quotas = Quotas(cloud.db)
        self.worker = VolumeWorker(cloud, self.driver, self.quotas, self.types)
        self.volumes = Volumes(cloud.db, self.worker, self.types, self.quotas, cloud)
        self.snapshots = Snapshots(cloud.db, self.worker, self.volumes, self.quotas, self.types)
        self.attachments = Attachments(cloud.db, self.volumes)
        self.transfers = Transfers(cloud.db, self.volumes, self.quotas, self.types)
        self.retype = Retype(cloud.db, self.volumes, self.types, self.quotas, self.capabilities)
        key = bytes.fromhex(settings.volume_backup_key) if settings.volume_backup_key else None
        self.backups = Backups(cloud.db, self.worker, self.volumes, self.quotas,
                               BackupStore(ConfiguredChunks(cloud), key))
        self.types.ensure_default()
        self.host: VolumeHost | None = None  # the volume worker, when this process runs one

    # The manager other services call in process (compute's os-volume_attachments).
    @property
    def manager(self) -> "VolumeService":
        return self

    def capabilities(self) -> Capabilities:
        with self.cloud.db.session(readonly=True) as s:
            allocated = s.scalar(sa.select(sa.func.coalesce(sa.func.sum(m.Volume.size), 0))) or 0
        return self.driver.capabilities(int(allocated))

    def app(self):
        cloud = self.cloud
        cloud.enforcer.register_defaults(DEFAULTS)
        return build_app(ServiceSpec(
            name=self.name, router=build_router(self), error_format=fault_format,
            enforcer=cloud.enforcer, validate_token=cloud.identity.validate_token, service_url=self.url,
            www_authenticate=f'Keystone uri="{cloud.settings.effective_public_url}/identity"',
            prepare=prepare, finish=finish, empty_id_not_found=True))

    async def start(self) -> None:
        """Cast to the ``volume`` topic from now on; with the ``volume`` role also serve it
        (recovering abandoned work first, then periodically)."""
        cloud, settings = self.cloud, self.cloud.settings
        await asyncio.to_thread(lambda: cloud.coordinator)  # started once, off the loop
        self.worker.client = rpc.RPCClient(cloud.transport, rpc.Target(TOPIC), timeout=settings.rpc_call_timeout,
                                           ttl=settings.rpc_cast_ttl)
        self.worker.loop = asyncio.get_running_loop()
        if "volume" in cloud.roles:
            self.host = VolumeHost(self.worker, cloud.transport, settings.volume_host or socket.gethostname(),
                                   settings.volume_recovery_window)
            await self.host.start()

    async def stop(self) -> None:
        if self.host is not None:
            await self.host.stop()
            self.host = None
        await self.worker.drain()
        self.worker.loop = None
        self.worker.client = None
