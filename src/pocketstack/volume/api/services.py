"""``/v3/{project_id}/os-services``: the block-storage services this process runs.

All-in-one, one process plays cinder-scheduler, cinder-volume (the file backend) and
cinder-backup; each is ``up`` while its worker loop runs.
"""

from __future__ import annotations

from collections.abc import Mapping

from pocketstack.common.api.request import ApiRequest
from pocketstack.common.api.routes import route
from pocketstack.common.db.base import utcnow
from pocketstack.volume.api.common import PREFIX
from pocketstack.volume.api.pools import HOST
from pocketstack.volume.worker import VolumeWorker

ROWS = (("cinder-scheduler", "pocketstack"), ("cinder-volume", HOST), ("cinder-backup", "pocketstack"))


def service_rows(up: bool, query: Mapping[str, str]) -> list[dict]:
    """The services, filtered by the ``binary`` and ``host`` query parameters."""
    state = "up" if up else "down"
    services = [{"binary": binary, "host": host, "zone": "nova", "status": "enabled", "state": state,
                 "updated_at": utcnow(), "disabled_reason": None} for binary, host in ROWS]
    return [s for s in services if all(key not in query or s[key] == query[key] for key in ("binary", "host"))]


class ServicesApi:
    def __init__(self, worker: VolumeWorker):
        self.worker = worker

    @route.get(PREFIX + "/os-services", policy="volume_extension:services:index")
    def index(self, req: ApiRequest) -> dict:
        req.authorize()
        return {"services": service_rows(self.worker.loop is not None, req.query)}
