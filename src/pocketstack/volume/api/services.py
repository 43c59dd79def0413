"""``/v3/{project_id}/os-services``: the block-storage services this process runs.

All-in-one, one process plays cinder-scheduler, cinder-volume (the file backend) and
cinder-backup; each is ``up`` while its worker loop runs.
"""

from __future__ import annotations

from pocketstack.common.api.request import ApiRequest
from pocketstack.common.db.base import utcnow
from pocketstack.volume.api.common import PREFIX
from pocketstack.volume.api.pools import HOST


def register(router, service) -> None:
    @router.get(PREFIX + "/os-services")
    def list_services(req: ApiRequest):
        req.authorize("volume_extension:services:index")
        state = "up" if service.worker.loop is not None else "down"
        rows = [("cinder-scheduler", "pocketstack"), ("cinder-volume", HOST), ("cinder-backup", "pocketstack")]
        services = [{"binary": binary, "host": host, "zone": "nova", "status": "enabled", "state": state,
                     "updated_at": utcnow(), "disabled_reason": None} for binary, host in rows]
        if "binary" in req.query:
            services = [s for s in services if s["binary"] == req.query["binary"]]
        if "host" in req.query:
            services = [s for s in services if s["host"] == req.query["host"]]
        return {"services": services}
