"""``os-quota-sets`` (show, defaults, update, usage), ``os-quota-class-sets`` (show,
update; the ``default`` class sets every project's defaults) and ``limits``."""

from __future__ import annotations

from starlette.responses import Response

from pocketstack.common.api.request import ApiRequest
from pocketstack.common.api.routes import route
from pocketstack.common.context import RequestContext
from pocketstack.volume import errors
from pocketstack.volume.api import schemas
from pocketstack.volume.api.common import PREFIX, flag
from pocketstack.volume.api.validation import validate_integer
from pocketstack.volume.quotas import MAX_INT, Quotas
from pocketstack.volume.types import Types

NON_QUOTA_KEYS = ("tenant_id", "id")


def checked_limits(values: dict, known: set[str], used: dict[str, int]) -> dict[str, int]:
    """Cinder's checks of a quota update, in its order: each value an integer from -1 to
    MAX_INT (the limit column's range), then unknown keys, then no limit below what is
    already in use (``per_volume_gigabytes`` is a cap on one volume, not a count)."""
    limits = {key: validate_integer(value, key, -1, MAX_INT) for key, value in values.items()
              if key in known and key not in NON_QUOTA_KEYS}
    bad = [key for key in values if key not in known and key not in NON_QUOTA_KEYS]
    if bad:
        raise errors.InvalidInput(reason=f"Bad key(s) in quota set: {', '.join(bad)}")
    for key, limit in limits.items():
        if key != "per_volume_gigabytes" and limit != -1 and limit < used.get(key, 0):
            raise errors.QuotaBelowUsage(resource=key, in_use=used.get(key, 0), limit=limit)
    return limits


def absolute_limits(limit: dict[str, int], used: dict[str, int]) -> dict[str, int]:
    """``limits.absolute``: the project's limits and usage under Cinder's names."""
    return {"maxTotalVolumes": limit["volumes"], "maxTotalSnapshots": limit["snapshots"],
            "maxTotalVolumeGigabytes": limit["gigabytes"], "maxTotalBackups": limit["backups"],
            "maxTotalBackupGigabytes": limit["backup_gigabytes"],
            "totalVolumesUsed": used.get("volumes", 0), "totalSnapshotsUsed": used.get("snapshots", 0),
            "totalGigabytesUsed": used.get("gigabytes", 0), "totalBackupsUsed": used.get("backups", 0),
            "totalBackupGigabytesUsed": used.get("backup_gigabytes", 0)}


class QuotasApi:
    def __init__(self, quotas: Quotas, types: Types):
        self.quotas = quotas
        self.types = types

    def type_names(self) -> list[str]:
        return [t.name for t in self.types.list(RequestContext.admin())]

    def quota_set(self, project_id: str, usage: bool) -> dict:
        limits = self.quotas.limits(project_id, self.type_names())
        if not usage:
            return {"id": project_id, **limits}
        used = self.quotas.usage(project_id)
        return {"id": project_id, **{k: {"limit": v, "in_use": used.get(k, 0), "reserved": 0, "allocated": 0}
                                     for k, v in limits.items()}}

    @route.get(PREFIX + "/os-quota-sets/{target}/defaults", policy="volume_extension:quotas:show")
    def defaults(self, req: ApiRequest) -> dict:
        req.authorize(target={"project_id": req.path_params["target"]})
        return {"quota_set": {"id": req.path_params["target"], **self.quotas.limits("", self.type_names())}}

    @route.get(PREFIX + "/os-quota-sets/{target}", policy="volume_extension:quotas:show")
    def show(self, req: ApiRequest) -> dict:
        target = req.path_params["target"]
        req.authorize(target={"project_id": target})
        return {"quota_set": self.quota_set(target, flag(req, "usage"))}

    @route.put(PREFIX + "/os-quota-sets/{target}", policy="volume_extension:quotas:update",
               body=schemas.QUOTA_UPDATE, authorize_first=True)
    def update(self, req: ApiRequest) -> dict:
        """Admin-only, enforced before the body is read (as Cinder does)."""
        target = req.path_params["target"]
        req.authorize(target={"project_id": target})
        values = req.data["quota_set"]
        names = self.type_names()
        clean = checked_limits(values, set(self.quotas.limits(target, names)), self.quotas.usage(target))
        self.quotas.set_limits(target, clean)
        return {"quota_set": self.quotas.limits(target, names)}

    @route.delete(PREFIX + "/os-quota-sets/{target}", policy="volume_extension:quotas:delete")
    def reset(self, req: ApiRequest) -> Response:
        """Back to the defaults (Cinder answers 200 with no body)."""
        target = req.path_params["target"]
        req.authorize(target={"project_id": target})
        self.quotas.reset_limits(target)
        return Response(status_code=200)

    @route.get(PREFIX + "/os-quota-class-sets/{quota_class}", policy="volume_extension:quota_classes:get")
    def show_class(self, req: ApiRequest) -> dict:
        req.authorize()
        name = req.path_params["quota_class"]
        return {"quota_class_set": {**self.quotas.class_limits(name, self.type_names()), "id": name}}

    @route.put(PREFIX + "/os-quota-class-sets/{quota_class}", policy="volume_extension:quota_classes:update",
               body=schemas.QUOTA_CLASS_UPDATE)
    def update_class(self, req: ApiRequest) -> dict:
        """Cinder's order: the body's schema (values -1 to MAX_INT, known keys), then the
        rule, then the class name's length; the answer has no ``id``, as Cinder's."""
        name, names = req.path_params["quota_class"], self.type_names()
        values = req.data["quota_class_set"]
        bad = [key for key in values if key not in self.quotas.class_limits(name, names)]
        if bad:
            raise errors.InvalidInput(reason=f"Bad key(s) in quota class set: {', '.join(bad)}")
        req.authorize()
        if len(name) > 255:
            raise errors.InvalidInput(reason="quota_class_name has more than 255 characters.")
        self.quotas.set_class_limits(name, {key: int(value) for key, value in values.items()})
        return {"quota_class_set": self.quotas.class_limits(name, names)}

    @route.get(PREFIX + "/limits")
    def limits(self, req: ApiRequest) -> dict:
        """The caller's own project's limits (no rule, as in Cinder)."""
        project = req.caller.project_id or ""
        return {"limits": {"rate": [], "absolute": absolute_limits(self.quotas.limits(project, []),
                                                                  self.quotas.usage(project))}}
