"""The Block Storage service's one public entry: the volumes, snapshots, attachments and
the rest of Cinder's resources over one database and the file backend.

Other services call it through :class:`~pocketstack.volume.contract.VolumeContract`
(``cloud.volume``); the API (:mod:`pocketstack.volume.api`) and the worker use the same
objects.
"""

from __future__ import annotations

from pocketstack.volume.attachments import Attachments
from pocketstack.volume.backends import Backends, VolumeData
from pocketstack.volume.backup import BackupStore
from pocketstack.volume.backup_stores import ConfiguredChunks
from pocketstack.volume.backups import Backups
from pocketstack.volume.encryption import Encryptions
from pocketstack.volume.group_types import GroupTypes
from pocketstack.volume.groups import Groups
from pocketstack.volume.manage import Manage
from pocketstack.volume.messages import Messages
from pocketstack.volume.migration import Migrations
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
        self.backends = Backends(cloud.db, settings.data_dir, settings.volume_backend_list,
                                 settings.volume_capacity_gb)
        self.data = VolumeData(self.backends)
        self.types = Types(cloud.db)
        self.qos = Qos(cloud.db)
        self.quotas = Quotas(cloud.db)
        self.messages = Messages(cloud.db)
        self.worker = VolumeWorker(cloud, self.data, self.quotas, self.types, self.backends)
        self.volumes = Volumes(cloud.db, self.worker, self.types, self.quotas, cloud)
        self.snapshots = Snapshots(cloud.db, self.worker, self.volumes, self.quotas, self.types)
        self.volumes.snapshots = self.snapshots
        self.attachments = Attachments(cloud.db, self.volumes)
        self.transfers = Transfers(cloud.db, self.volumes, self.quotas, self.types)
        self.migrations = Migrations(cloud.db, self.worker, self.volumes, self.types, self.quotas)
        self.retype = Retype(cloud.db, self.volumes, self.types, self.quotas, self.backends, self.migrations)
        self.manage = Manage(cloud.db, self.worker, self.volumes, self.snapshots, self.types, self.quotas)
        key = bytes.fromhex(settings.volume_backup_key) if settings.volume_backup_key else None
        chunks = ConfiguredChunks(cloud)
        self.backups = Backups(cloud.db, self.worker, self.volumes, self.quotas, BackupStore(chunks, key),
                               lambda: chunks.driver)
        self.encryptions = Encryptions(cloud.db, self.types)
        self.group_types = GroupTypes(cloud.db)
        self.groups = Groups(cloud.db, self.worker, self.volumes, self.types, self.group_types, self.quotas,
                             self.backends.serves)
        self.types.ensure_default()

    def volume_file(self, volume_id: str) -> str:
        return str(self.data.local_path(volume_id))
