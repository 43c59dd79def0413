"""The Block Storage service's one public entry: the volumes, snapshots, attachments and
the rest of Cinder's resources over one database and the file backend.

Other services call it through :class:`~pocketstack.volume.contract.VolumeContract`
(``cloud.volume``); the API (:mod:`pocketstack.volume.api`) and the worker use the same
objects.
"""

from __future__ import annotations

import sqlalchemy as sa

from pocketstack.volume import models as m
from pocketstack.volume.attachments import Attachments
from pocketstack.volume.backup import BackupStore
from pocketstack.volume.backup_stores import ConfiguredChunks
from pocketstack.volume.backups import Backups
from pocketstack.volume.drivers.base import Capabilities
from pocketstack.volume.drivers.file import FileDriver
from pocketstack.volume.encryption import Encryptions
from pocketstack.volume.group_types import GroupTypes
from pocketstack.volume.groups import Groups
from pocketstack.volume.messages import Messages
from pocketstack.volume.qos import Qos
from pocketstack.volume.quotas import Quotas
from pocketstack.volume.retype import Retype
from pocketstack.volume.snapshots import Snapshots
from pocketstack.volume.transfers import Transfers
from pocketstack.volume.types import Types
from pocketstack.volume.volumes import Volumes
from pocketstack.volume.worker import VolumeWorker


class VolumeManager:
    """Implements :class:`~pocketstack.volume.contract.VolumeContract`."""

    def __init__(self, cloud):
        settings = cloud.settings
        self.db = cloud.db
        self.driver = FileDriver(settings.data_dir / "volumes", settings.volume_capacity_gb)
        self.types = Types(cloud.db)
        self.qos = Qos(cloud.db)
        self.quotas = Quotas(cloud.db)
        self.messages = Messages(cloud.db)
        self.worker = VolumeWorker(cloud, self.driver, self.quotas, self.types, self.capabilities)
        self.volumes = Volumes(cloud.db, self.worker, self.types, self.quotas, cloud)
        self.snapshots = Snapshots(cloud.db, self.worker, self.volumes, self.quotas, self.types)
        self.volumes.snapshots = self.snapshots
        self.attachments = Attachments(cloud.db, self.volumes)
        self.transfers = Transfers(cloud.db, self.volumes, self.quotas, self.types)
        self.retype = Retype(cloud.db, self.volumes, self.types, self.quotas, self.capabilities)
        key = bytes.fromhex(settings.volume_backup_key) if settings.volume_backup_key else None
        chunks = ConfiguredChunks(cloud)
        self.backups = Backups(cloud.db, self.worker, self.volumes, self.quotas, BackupStore(chunks, key),
                               lambda: chunks.driver)
        self.encryptions = Encryptions(cloud.db, self.types)
        self.group_types = GroupTypes(cloud.db)
        self.groups = Groups(cloud.db, self.worker, self.volumes, self.types, self.group_types, self.quotas,
                             self.capabilities)
        self.types.ensure_default()

    def volume_file(self, volume_id: str) -> str:
        return str(self.driver.local_path(volume_id))

    def capabilities(self) -> Capabilities:
        """What the backend offers now (its free space counts the volumes allocated)."""
        with self.db.session(readonly=True) as s:
            allocated = s.scalar(sa.select(sa.func.coalesce(sa.func.sum(m.Volume.size), 0))) or 0
        return self.driver.capabilities(int(allocated))
