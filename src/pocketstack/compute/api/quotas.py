"""``/os-quota-sets``, ``/os-quota-class-sets`` and ``/limits``."""

from __future__ import annotations

from pocketstack.common.api.request import ApiRequest
from pocketstack.common.api.routes import Router
from pocketstack.common.errors import BadRequest
from pocketstack.compute.api.common import accepted, at_least, body
from pocketstack.compute.quotas import DEFAULT_CLASS, DEFAULTS, class_scope, user_scope

_PERSONALITY = ("injected_files", "injected_file_content_bytes", "injected_file_path_bytes")
# Network quotas Nova proxied before 2.36; always unlimited-ish placeholders here.
_LEGACY_NETWORK = {"fixed_ips": -1, "floating_ips": 10, "security_group_rules": 20, "security_groups": 10}
# Nova's quota value: an integer (or its digits) from -1 (unlimited) to its MAX_INT.
MAX_INT = 0x7FFFFFFF
_LIMIT = {"type": ["integer", "string"], "pattern": r"^-?[0-9]+$", "maximum": MAX_INT}
_GROUPS = ("server_groups", "server_group_members")
UPDATE = {"type": "object", "required": ["quota_set"], "properties": {"quota_set": {
    "type": "object", "additionalProperties": False,
    "properties": {**{name: _LIMIT for name in list(DEFAULTS) + list(_LEGACY_NETWORK)},
                   "force": {"type": ["boolean", "string"]}}}}}
UPDATE_CLASS = {"type": "object", "required": ["quota_class_set"], "properties": {"quota_class_set": {
    "type": "object", "additionalProperties": False,
    "properties": {name: _LIMIT for name in list(DEFAULTS) + list(_LEGACY_NETWORK)}}}}


def _limit(name: str, raw: int | str) -> int:
    """A limit as Nova reads it; given as digits it escaped the schema's range check."""
    value = int(raw)
    if value < -1:
        raise BadRequest(f"Quota limit {value} for {name} must be -1 or greater.")
    if value > MAX_INT:
        raise BadRequest(f"Invalid input for field/attribute {name}. Value: {raw}. "
                         f"{value} is greater than the maximum of {MAX_INT}")
    return value


def _resources(req: ApiRequest) -> list[str]:
    return [n for n in DEFAULTS if not (at_least(req, 2, 57) and n in _PERSONALITY)]


def register(router: Router, compute) -> None:
    quotas = compute.quotas

    def quota_set(req: ApiRequest, limits: dict, project_id: str | None, detail: bool = False) -> dict:
        out: dict = {"id": project_id} if project_id else {}
        usage = quotas.usage(project_id) if detail and project_id else {}
        for name in _resources(req):
            if detail:
                used = usage.get(name, 0)
                if name == "key_pairs":
                    used = quotas.usage(user_scope(req.context.user_id)).get("key_pairs", 0)
                out[name] = {"limit": limits[name], "in_use": used, "reserved": 0}
            else:
                out[name] = limits[name]
        if not at_least(req, 2, 36):
            for name, value in _LEGACY_NETWORK.items():
                out[name] = {"limit": value, "in_use": 0, "reserved": 0} if detail else value
        return out

    @router.get("/v2.1/os-quota-sets/{project_id}")
    def show(req: ApiRequest):
        project_id = req.path_params["project_id"]
        req.authorize("os_compute_api:os-quota-sets:show", {"project_id": project_id})
        return {"quota_set": quota_set(req, quotas.limits(project_id), project_id)}

    @router.get("/v2.1/os-quota-sets/{project_id}/detail")
    def detail(req: ApiRequest):
        project_id = req.path_params["project_id"]
        req.authorize("os_compute_api:os-quota-sets:detail", {"project_id": project_id})
        return {"quota_set": quota_set(req, quotas.limits(project_id), project_id, detail=True)}

    @router.get("/v2.1/os-quota-sets/{project_id}/defaults")
    def defaults(req: ApiRequest):
        req.authorize("os_compute_api:os-quota-sets:defaults")
        return {"quota_set": quota_set(req, quotas.limits(DEFAULT_CLASS), req.path_params["project_id"])}

    @router.put("/v2.1/os-quota-sets/{project_id}")
    def update(req: ApiRequest):
        project_id = req.path_params["project_id"]
        req.authorize("os_compute_api:os-quota-sets:update", {"project_id": project_id})
        data = body(req, UPDATE, "quota_set")
        data.pop("force", None)
        values = {}
        for name, raw in data.items():
            value = _limit(name, raw)
            if name in DEFAULTS:
                values[name] = value
        limits = quotas.set_limits(project_id, values)
        out = quota_set(req, limits, project_id)
        out.pop("id")
        return {"quota_set": out}

    @router.delete("/v2.1/os-quota-sets/{project_id}")
    def revert(req: ApiRequest):
        req.authorize("os_compute_api:os-quota-sets:delete")
        quotas.reset_limits(req.path_params["project_id"])
        return accepted()

    # -- quota classes: the "default" class is every project's default limits ----------
    def class_set(req: ApiRequest, name: str) -> dict:
        """Nova's class body: before 2.50 the proxied network limits instead of the server
        group ones (stored like any other, so what is set is what is shown)."""
        limits = quotas.limits(class_scope(name))
        out = {"id": name}
        for resource in _resources(req):
            if at_least(req, 2, 50) or resource not in _GROUPS:
                out[resource] = limits[resource]
        if not at_least(req, 2, 50):
            out.update({n: limits.get(n, default) for n, default in _LEGACY_NETWORK.items()})
        return out

    @router.get("/v2.1/os-quota-class-sets/{class_name}")
    def show_class(req: ApiRequest):
        req.authorize("os_compute_api:os-quota-class-sets:show")
        return {"quota_class_set": class_set(req, req.path_params["class_name"])}

    @router.put("/v2.1/os-quota-class-sets/{class_name}")
    def update_class(req: ApiRequest):
        req.authorize("os_compute_api:os-quota-class-sets:update")
        name = req.path_params["class_name"]
        data = body(req, UPDATE_CLASS, "quota_class_set")
        values = {}
        for resource, raw in data.items():
            values[resource] = _limit(resource, raw)
        quotas.set_limits(class_scope(name), values)
        out = class_set(req, name)
        out.pop("id")
        return {"quota_class_set": out}

    @router.get("/v2.1/limits")
    def limits(req: ApiRequest):
        req.authorize("os_compute_api:limits")
        project_id = req.context.project_id
        wanted = req.query.get("tenant_id")
        if wanted and wanted != project_id:
            req.authorize("os_compute_api:limits:other_project")
            project_id = wanted
        limit = quotas.limits(project_id)
        used = quotas.usage(project_id)
        absolute = {
            "maxServerMeta": limit["metadata_items"], "maxImageMeta": 128,
            "maxTotalKeypairs": limit["key_pairs"], "maxServerGroups": limit["server_groups"],
            "maxServerGroupMembers": limit["server_group_members"], "maxTotalCores": limit["cores"],
            "maxTotalInstances": limit["instances"], "maxTotalRAMSize": limit["ram"],
            "totalCoresUsed": used.get("cores", 0), "totalInstancesUsed": used.get("instances", 0),
            "totalRAMUsed": used.get("ram", 0), "totalServerGroupsUsed": used.get("server_groups", 0)}
        if not at_least(req, 2, 57):
            absolute.update({"maxPersonality": limit["injected_files"],
                             "maxPersonalitySize": limit["injected_file_content_bytes"]})
        if not at_least(req, 2, 36):
            absolute.update({"maxSecurityGroups": 10, "maxSecurityGroupRules": 20, "maxTotalFloatingIps": 10,
                             "totalFloatingIpsUsed": 0, "totalSecurityGroupsUsed": 0})
        return {"limits": {"rate": [], "absolute": absolute}}
