"""The Block Storage API (Cinder v3): one router assembled from the resource families'
handler classes."""

from __future__ import annotations

import dataclasses

from pocketstack.common.api.routes import Router
from pocketstack.volume import errors
from pocketstack.volume.api.actions import VolumeActionsApi
from pocketstack.volume.api.attachments import AttachmentsApi
from pocketstack.volume.api.backups import BackupsApi
from pocketstack.volume.api.common import PREFIX
from pocketstack.volume.api.default_types import DefaultTypesApi
from pocketstack.volume.api.discovery import DiscoveryApi
from pocketstack.volume.api.encryption import EncryptionApi
from pocketstack.volume.api.group_types import GroupTypesApi
from pocketstack.volume.api.groups import GroupsApi, GroupSnapshotsApi
from pocketstack.volume.api.manage import ManageApi
from pocketstack.volume.api.messages import MessagesApi
from pocketstack.volume.api.metadata import MetadataApi
from pocketstack.volume.api.pools import PoolsApi
from pocketstack.volume.api.qos import QosApi
from pocketstack.volume.api.quotas import QuotasApi
from pocketstack.volume.api.services import HostsApi, ServicesApi
from pocketstack.volume.api.snapshots import SnapshotsApi
from pocketstack.volume.api.transfers import CURRENT, LEGACY, TransfersApi
from pocketstack.volume.api.types import TypesApi
from pocketstack.volume.api.versions import VersionsApi
from pocketstack.volume.api.volumes import VolumesApi
from pocketstack.volume.manager import VolumeManager


def build_router(manager: VolumeManager) -> Router:
    volumes = VolumesApi(manager.volumes, manager.types, manager.backups)
    snapshots = SnapshotsApi(manager.snapshots, manager.volumes, manager.manage)
    router = Router().include(
        VersionsApi(), DiscoveryApi(), volumes,
        VolumeActionsApi(manager.volumes, manager.attachments, manager.retype, manager.migrations, manager.manage),
        snapshots, ManageApi(manager.manage, volumes, snapshots), TypesApi(manager.types, manager.qos),
        QuotasApi(manager.quotas, manager.types), AttachmentsApi(manager.attachments, manager.volumes),
        PoolsApi(manager.backends), BackupsApi(manager.backups, manager.volumes), QosApi(manager.qos),
        ServicesApi(manager.worker),
        MessagesApi(manager.messages), GroupTypesApi(manager.group_types), GroupsApi(manager.groups),
        GroupSnapshotsApi(manager.groups), EncryptionApi(manager.encryptions),
        HostsApi(manager.worker, manager.volumes))
    router.include(DefaultTypesApi(manager.types, manager.volumes.cloud.identity), prefix=PREFIX)
    for collection in (LEGACY, CURRENT):
        router.include(TransfersApi(manager.transfers, manager.volumes, collection), prefix=f"{PREFIX}/{collection}")
    router.include(MetadataApi(manager.volumes, "volume_id", "volume:get_volume_metadata",
                               "volume:update_volume_metadata",
                               lambda volume_id, key: errors.VolumeMetadataNotFound(volume_id=volume_id,
                                                                                    metadata_key=key)),
                   prefix=PREFIX + "/volumes/{volume_id}")
    router.include(MetadataApi(manager.snapshots, "snapshot_id", "volume:get_snapshot", "volume:update_snapshot",
                               lambda snapshot_id, key: errors.SnapshotMetadataNotFound()),
                   prefix=PREFIX + "/snapshots/{snapshot_id}")
    return without_project_ids(router)


def without_project_ids(router: Router) -> Router:
    """Every ``/v3/{project_id}/...`` route also as ``/v3/...`` (3.67: the project id is
    optional in the URL, the token's project is the one meant).  Cinder routes both forms
    whatever the version asked for; 3.67 tells clients they may leave it out."""
    router.routes.extend(dataclasses.replace(spec, path="/v3" + spec.path[len(PREFIX):])
                         for spec in list(router.routes) if spec.path.startswith(PREFIX + "/"))
    return router
