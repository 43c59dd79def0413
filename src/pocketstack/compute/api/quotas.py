"""``/os-quota-sets``, ``/os-quota-class-sets`` and ``/limits``."""

from __future__ import annotations

from starlette.responses import Response

from pocketstack.common.api.request import ApiRequest
from pocketstack.common.api.routes import route
from pocketstack.compute import errors
from pocketstack.compute.api.common import accepted, caller_id
from pocketstack.compute.api.schemas import queries
from pocketstack.compute.api.schemas import quotas as schemas
from pocketstack.compute.api.schemas.quotas import LEGACY_NETWORK, MAX_INT
from pocketstack.compute.quotas import DEFAULT_CLASS, DEFAULTS, Quotas, class_scope, user_scope

_PERSONALITY = ("injected_files", "injected_file_content_bytes", "injected_file_path_bytes")
_GROUPS = ("server_groups", "server_group_members")


def limit_value(name: str, raw: int | str) -> int:
    """A limit as Nova reads it; given as digits it escaped the schema's range check."""
    value = int(raw)
    if value < -1:
        raise errors.QuotaLimitTooLow(value=value, name=name)
    if value > MAX_INT:
        raise errors.FieldAboveMaximum(name=name, value=raw, maximum=MAX_INT)
    return value


def new_limits(data: dict) -> dict[str, int]:
    """A quota-set update body as the limits to store: every value checked, ``force``
    and the legacy network quotas (accepted, never stored for a project) dropped."""
    values = {}
    for name, raw in data.items():
        if name == "force":
            continue
        value = limit_value(name, raw)
        if name in DEFAULTS:
            values[name] = value
    return values


def resources(req: ApiRequest) -> list[str]:
    """The quotas a microversion shows (2.57 drops the personality ones)."""
    return [n for n in DEFAULTS if not (req.at_least(2, 57) and n in _PERSONALITY)]


def absolute_limits(req: ApiRequest, limit: dict[str, int], used: dict[str, int]) -> dict:
    """``/limits``' ``absolute`` section at the request's microversion."""
    absolute = {
        "maxServerMeta": limit["metadata_items"], "maxImageMeta": 128,
        "maxTotalKeypairs": limit["key_pairs"], "maxServerGroups": limit["server_groups"],
        "maxServerGroupMembers": limit["server_group_members"], "maxTotalCores": limit["cores"],
        "maxTotalInstances": limit["instances"], "maxTotalRAMSize": limit["ram"],
        "totalCoresUsed": used.get("cores", 0), "totalInstancesUsed": used.get("instances", 0),
        "totalRAMUsed": used.get("ram", 0), "totalServerGroupsUsed": used.get("server_groups", 0)}
    if not req.at_least(2, 57):
        absolute.update({"maxPersonality": limit["injected_files"],
                         "maxPersonalitySize": limit["injected_file_content_bytes"]})
    if not req.at_least(2, 36):
        absolute.update({"maxSecurityGroups": 10, "maxSecurityGroupRules": 20, "maxTotalFloatingIps": 10,
                         "totalFloatingIpsUsed": 0, "totalSecurityGroupsUsed": 0})
    return absolute


class QuotaSetsApi:
    def __init__(self, quotas: Quotas):
        self.quotas = quotas

    def quota_set(self, req: ApiRequest, limits: dict, project_id: str | None, detail: bool = False) -> dict:
        out: dict = {"id": project_id} if project_id else {}
        usage = self.quotas.usage(project_id) if detail and project_id else {}
        for name in resources(req):
            if detail:
                used = usage.get(name, 0)
                if name == "key_pairs":
                    used = self.quotas.usage(user_scope(caller_id(req))).get("key_pairs", 0)
                out[name] = {"limit": limits[name], "in_use": used, "reserved": 0}
            else:
                out[name] = limits[name]
        if not req.at_least(2, 36):
            for name, value in LEGACY_NETWORK.items():
                out[name] = {"limit": value, "in_use": 0, "reserved": 0} if detail else value
        return out

    @route.get("/v2.1/os-quota-sets/{project_id}", policy="os_compute_api:os-quota-sets:show",
               query=queries.from_2_75(queries.QUOTA_SET))
    def show(self, req: ApiRequest) -> dict:
        project_id = req.path_params["project_id"]
        req.authorize(target={"project_id": project_id})
        return {"quota_set": self.quota_set(req, self.quotas.limits(project_id), project_id)}

    @route.get("/v2.1/os-quota-sets/{project_id}/detail", policy="os_compute_api:os-quota-sets:detail",
               query=queries.from_2_75(queries.QUOTA_SET))
    def detail(self, req: ApiRequest) -> dict:
        project_id = req.path_params["project_id"]
        req.authorize(target={"project_id": project_id})
        return {"quota_set": self.quota_set(req, self.quotas.limits(project_id), project_id, detail=True)}

    @route.get("/v2.1/os-quota-sets/{project_id}/defaults", policy="os_compute_api:os-quota-sets:defaults")
    def defaults(self, req: ApiRequest) -> dict:
        req.authorize()
        return {"quota_set": self.quota_set(req, self.quotas.limits(DEFAULT_CLASS), req.path_params["project_id"])}

    @route.put("/v2.1/os-quota-sets/{project_id}", policy="os_compute_api:os-quota-sets:update",
               body=schemas.UPDATE, authorize_first=True)
    def update(self, req: ApiRequest) -> dict:
        project_id = req.path_params["project_id"]
        req.authorize(target={"project_id": project_id})
        data = req.data["quota_set"]
        limits = self.quotas.set_limits(project_id, new_limits(data))
        out = self.quota_set(req, limits, project_id)
        out.pop("id")
        return {"quota_set": out}

    @route.delete("/v2.1/os-quota-sets/{project_id}", policy="os_compute_api:os-quota-sets:delete",
                  query=queries.from_2_75(queries.QUOTA_SET))
    def revert(self, req: ApiRequest) -> Response:
        req.authorize()
        self.quotas.reset_limits(req.path_params["project_id"])
        return accepted()


class QuotaClassSetsApi:
    """The quota classes: the ``default`` class is every project's default limits."""

    def __init__(self, quotas: Quotas):
        self.quotas = quotas

    def class_set(self, req: ApiRequest, name: str) -> dict:
        """Nova's class body: before 2.50 the proxied network limits instead of the server
        group ones (stored like any other, so what is set is what is shown)."""
        limits = self.quotas.limits(class_scope(name))
        out: dict = {"id": name}
        for resource in resources(req):
            if req.at_least(2, 50) or resource not in _GROUPS:
                out[resource] = limits[resource]
        if not req.at_least(2, 50):
            out.update({n: limits.get(n, default) for n, default in LEGACY_NETWORK.items()})
        return out

    @route.get("/v2.1/os-quota-class-sets/{class_name}", policy="os_compute_api:os-quota-class-sets:show")
    def show(self, req: ApiRequest) -> dict:
        req.authorize()
        return {"quota_class_set": self.class_set(req, req.path_params["class_name"])}

    @route.put("/v2.1/os-quota-class-sets/{class_name}", policy="os_compute_api:os-quota-class-sets:update",
               body=schemas.UPDATE_CLASS, authorize_first=True)
    def update(self, req: ApiRequest) -> dict:
        req.authorize()
        name = req.path_params["class_name"]
        data = req.data["quota_class_set"]
        self.quotas.set_limits(class_scope(name), {resource: limit_value(resource, raw)
                                                   for resource, raw in data.items()})
        out = self.class_set(req, name)
        out.pop("id")
        return {"quota_class_set": out}


class LimitsApi:
    def __init__(self, quotas: Quotas):
        self.quotas = quotas

    @route.get("/v2.1/limits", policy="os_compute_api:limits",
               query=queries.from_2_75(queries.LIMITS))
    def index(self, req: ApiRequest) -> dict:
        req.authorize()
        project_id = req.caller.project_id
        wanted = req.query.get("tenant_id")
        if wanted and wanted != project_id:
            req.authorize("os_compute_api:limits:other_project")
            project_id = wanted
        # A token scoped to no project (system, domain) sees the default limits, nothing used.
        used = self.quotas.usage(project_id) if project_id else {}
        absolute = absolute_limits(req, self.quotas.limits(project_id), used)
        return {"limits": {"rate": [], "absolute": absolute}}
