"""``os-quota-sets`` (show, defaults, update, usage) and ``limits``."""

from __future__ import annotations

from starlette.responses import Response

from pocketstack.common.api.app import ApiRequest
from pocketstack.common.api.context import RequestContext
from pocketstack.common.api.errors import BadRequest
from pocketstack.volume.api.common import PREFIX, flag


def register(router, service) -> None:
    quotas, types = service.quotas, service.types

    def quota_set(project_id: str, usage: bool) -> dict:
        names = [t.name for t in types.list(RequestContext.admin())]
        limits = quotas.limits(project_id, names)
        if not usage:
            return {"id": project_id, **limits}
        used = quotas.usage(project_id)
        return {"id": project_id, **{k: {"limit": v, "in_use": used.get(k, 0), "reserved": 0, "allocated": 0}
                                     for k, v in limits.items()}}

    @router.get(PREFIX + "/os-quota-sets/{target}/defaults")
    def defaults(req: ApiRequest):
        req.authorize("volume_extension:quotas:show", {"project_id": req.path_params["target"]})
        names = [t.name for t in types.list(RequestContext.admin())]
        return {"quota_set": {"id": req.path_params["target"], **quotas.limits("", names)}}

    @router.get(PREFIX + "/os-quota-sets/{target}")
    def show(req: ApiRequest):
        target = req.path_params["target"]
        req.authorize("volume_extension:quotas:show", {"project_id": target})
        return {"quota_set": quota_set(target, flag(req, "usage"))}

    @router.put(PREFIX + "/os-quota-sets/{target}")
    def update(req: ApiRequest):
        target = req.path_params["target"]
        req.authorize("volume_extension:quotas:update", {"project_id": target})
        payload = req.json()
        values = payload.get("quota_set") if isinstance(payload, dict) else None
        if not isinstance(values, dict):
            raise BadRequest("Missing required element 'quota_set' in request body.")
        known = set(quotas.limits(target, [t.name for t in types.list(RequestContext.admin())]))
        clean = {}
        for key, value in values.items():
            if key == "id":
                continue
            if key not in known:
                raise BadRequest(f"Bad key(s) in quota set: {key}")
            try:
                limit = int(value)
            except (TypeError, ValueError):
                raise BadRequest(f"Invalid input received: Quota '{key}' value must be an integer.") from None
            if limit < -1:
                raise BadRequest(f"Invalid input received: Quota limit {limit} for {key} must be -1 or greater.")
            clean[key] = limit
        quotas.set_limits(target, clean)
        limits = quotas.limits(target, [t.name for t in types.list(RequestContext.admin())])
        return {"quota_set": limits}

    @router.delete(PREFIX + "/os-quota-sets/{target}")
    def reset(req: ApiRequest):
        """Back to the defaults (Cinder answers 200 with no body)."""
        target = req.path_params["target"]
        req.authorize("volume_extension:quotas:delete", {"project_id": target})
        quotas.reset_limits(target)
        return Response(status_code=200)

    @router.get(PREFIX + "/limits")
    def limits(req: ApiRequest):
        project = req.context.project_id
        limit = quotas.limits(project, [])
        used = quotas.usage(project)
        return {"limits": {"rate": [], "absolute": {
            "maxTotalVolumes": limit["volumes"], "maxTotalSnapshots": limit["snapshots"],
            "maxTotalVolumeGigabytes": limit["gigabytes"], "maxTotalBackups": limit["backups"],
            "maxTotalBackupGigabytes": limit["backup_gigabytes"],
            "totalVolumesUsed": used.get("volumes", 0), "totalSnapshotsUsed": used.get("snapshots", 0),
            "totalGigabytesUsed": used.get("gigabytes", 0), "totalBackupsUsed": used.get("backups", 0),
            "totalBackupGigabytesUsed": used.get("backup_gigabytes", 0)}}}

