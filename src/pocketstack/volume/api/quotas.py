"""``os-quota-sets`` (show, defaults, update, usage) and ``limits``."""

from __future__ import annotations

from starlette.responses import Response

from pocketstack.common.api.context import RequestContext
from pocketstack.common.api.request import ApiRequest
from pocketstack.common.errors import BadRequest
from pocketstack.volume.api.common import PREFIX, flag
from pocketstack.volume.api.validation import validate, validate_integer
from pocketstack.volume.quotas import MAX_INT

UPDATE = {"type": "object", "properties": {"quota_set": {"type": "object", "minProperties": 1}},
          "required": ["quota_set"], "additionalProperties": False}
NON_QUOTA_KEYS = ("tenant_id", "id")


def checked_limits(values: dict, known: set[str], used: dict[str, int]) -> dict[str, int]:
    """Cinder's checks of a quota update, in its order: each value an integer from -1 to
    MAX_INT (the limit column's range), then unknown keys, then no limit below what is
    already in use (``per_volume_gigabytes`` is a cap on one volume, not a count)."""
    limits = {key: validate_integer(value, key, -1, MAX_INT) for key, value in values.items()
              if key in known and key not in NON_QUOTA_KEYS}
    bad = [key for key in values if key not in known and key not in NON_QUOTA_KEYS]
    if bad:
        raise BadRequest(f"Invalid input received: Bad key(s) in quota set: {', '.join(bad)}")
    for key, limit in limits.items():
        if key != "per_volume_gigabytes" and limit != -1 and limit < used.get(key, 0):
            raise BadRequest(f"Quota {key} limit must be equal or greater than existing resources. Current usage "
                             f"is {used.get(key, 0)} and the requested limit is {limit}.")
    return limits


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
        values = validate(req.json(), UPDATE)["quota_set"]
        names = [t.name for t in types.list(RequestContext.admin())]
        clean = checked_limits(values, set(quotas.limits(target, names)), quotas.usage(target))
        quotas.set_limits(target, clean)
        limits = quotas.limits(target, names)
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

