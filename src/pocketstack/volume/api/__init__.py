"""The Block Storage API (Cinder v3): one router assembled from the resource families."""

from __future__ import annotations

from pocketstack.common.api.routes import Router
from pocketstack.volume.api import (
    actions,
    attachments,
    backups,
    discovery,
    pools,
    qos,
    quotas,
    services,
    snapshots,
    transfers,
    types,
    versions,
    volumes,
)


def build_router(service) -> Router:
    router = Router()
    for module in (versions, volumes, actions, snapshots, types, quotas, attachments, pools, backups, qos,
                   services, discovery, transfers):
        module.register(router, service)
    return router
