"""``/flavors`` (with ``os-extra_specs`` and ``os-flavor-access``)."""

from __future__ import annotations

from starlette.responses import Response

from pocketstack.common.api.pagination import next_link
from pocketstack.common.api.request import ApiRequest
from pocketstack.common.api.routes import Router
from pocketstack.common.api.validation import validate
from pocketstack.common.errors import BadRequest, MethodNotAllowed, NotFound
from pocketstack.compute.api.common import (
    BOOLEAN,
    accepted,
    at_least,
    body,
    int_query,
    is_admin,
    links,
    query_bool,
    to_bool,
)

# The columns' limits, as Nova's nova/db/constants.py has them: sizes are 32-bit integers,
# rxtx_factor a single-precision float.
MAX_INT = 0x7FFFFFFF
SQL_SP_FLOAT_MAX = 3.40282e+38
_NAME = {"type": "string", "minLength": 1, "maxLength": 255, "pattern": r"^(?! )[^\x00-\x1f]*(?<! )$"}
_NONNEG = {"type": ["integer", "string"], "pattern": r"^[0-9]+$", "minimum": 0}
CREATE = {"type": "object", "required": ["flavor"], "properties": {"flavor": {
    "type": "object", "required": ["name", "ram", "vcpus", "disk"], "additionalProperties": False,
    "properties": {
        "name": _NAME, "id": {"type": ["string", "number", "null"], "minLength": 1, "maxLength": 255,
                              "pattern": r"^(?! )[a-zA-Z0-9. _-]+(?<! )$"},
        "ram": {"type": ["integer", "string"], "pattern": r"^[0-9]+$", "minimum": 1},
        "vcpus": {"type": ["integer", "string"], "pattern": r"^[0-9]+$", "minimum": 1},
        "disk": _NONNEG, "OS-FLV-EXT-DATA:ephemeral": _NONNEG, "swap": _NONNEG,
        "rxtx_factor": {"type": ["number", "string"], "pattern": r"^[0-9]+(\.[0-9]+)?$", "exclusiveMinimum": 0,
                        "maximum": SQL_SP_FLOAT_MAX},
        "os-flavor-access:is_public": BOOLEAN,
        "description": {"type": ["string", "null"], "maxLength": 65535}}}}}
UPDATE = {"type": "object", "required": ["flavor"], "properties": {"flavor": {
    "type": "object", "required": ["description"], "additionalProperties": False,
    "properties": {"description": {"type": ["string", "null"], "maxLength": 65535}}}}}
_SPEC_KEY = {"type": "string", "minLength": 1, "maxLength": 255, "pattern": r"^[a-zA-Z0-9-_:. ]+$"}
_SPEC_VALUE = {"type": ["string", "number", "boolean"], "maxLength": 255}
EXTRA_SPECS = {"type": "object", "required": ["extra_specs"], "properties": {"extra_specs": {
    "type": "object", "propertyNames": _SPEC_KEY, "additionalProperties": _SPEC_VALUE}}}
ACTION = {"type": "object", "minProperties": 1, "maxProperties": 1, "properties": {
    "addTenantAccess": {"type": "object", "required": ["tenant"], "properties": {"tenant": {"type": "string"}}},
    "removeTenantAccess": {"type": "object", "required": ["tenant"], "properties": {"tenant": {"type": "string"}}}},
    "additionalProperties": False}


def _int(value, name: str, minimum: int) -> int:
    """A size field as an int within its column (a digit string passes the schema
    whatever its length, so the maximum is checked here, as Nova's validator does)."""
    number = int(value)
    if number < minimum:
        raise BadRequest(f"Invalid input for field/attribute {name}. Value: {value}.")
    if number > MAX_INT:
        raise BadRequest(f"Invalid input for field/attribute {name}. Value: {value}. "
                         f"{value} is greater than the maximum of {MAX_INT}")
    return number


def _rxtx_factor(value) -> float:
    """A digit string that passed the schema may still overflow a float (Nova's check)."""
    factor = float(value)
    if not 0 < factor <= SQL_SP_FLOAT_MAX:
        raise BadRequest(f"Invalid input received: 'rxtx_factor' argument must be a float between 0 and "
                         f"{SQL_SP_FLOAT_MAX:g}")
    return factor


def register(router: Router, compute) -> None:
    flavors = compute.flavors

    def render(req: ApiRequest, flavor, detail: bool = True, specs: dict | None = None) -> dict:
        out = {"id": flavor.id, "name": flavor.name, "links": links(req, "flavors", flavor.id)}
        if at_least(req, 2, 55):
            out["description"] = flavor.description
        if not detail:
            return out
        out.update({"ram": flavor.memory_mb, "vcpus": flavor.vcpus, "disk": flavor.root_gb,
                    "OS-FLV-EXT-DATA:ephemeral": flavor.ephemeral_gb, "OS-FLV-DISABLED:disabled": flavor.disabled,
                    "swap": flavor.swap or "", "rxtx_factor": flavor.rxtx_factor,
                    "os-flavor-access:is_public": flavor.is_public})
        if at_least(req, 2, 61) and req.allowed("os_compute_api:os-flavor-extra-specs:index",
                                                 {"project_id": req.context.project_id}):
            out["extra_specs"] = specs if specs is not None else flavors.extra_specs(flavor.id)
        return out

    def lookup(req: ApiRequest):
        return flavors.get_visible(req.path_params["flavor_id"], req.context.project_id, is_admin(req))

    def listing(req: ApiRequest, detail: bool):
        raw_public = req.query.get("is_public")
        if raw_public is None:
            is_public = True
        elif raw_public.lower() == "none":
            is_public = None
        else:
            is_public = query_bool(raw_public, "is_public")
        sort_key = req.query.get("sort_key", "flavorid")
        keys = {"flavorid": "id", "id": "id", "name": "name", "memory_mb": "memory_mb", "ram": "memory_mb",
                "vcpus": "vcpus", "root_gb": "root_gb", "disk": "root_gb", "created_at": "created_at",
                "ephemeral_gb": "ephemeral_gb", "swap": "swap", "rxtx_factor": "rxtx_factor"}
        if sort_key not in keys:
            raise BadRequest(f"Invalid sort key {sort_key!r}.")
        sort_dir = req.query.get("sort_dir", "asc")
        if sort_dir not in ("asc", "desc"):
            raise BadRequest(f"Invalid sort direction {sort_dir!r}.")
        limit = int_query(req, "limit")
        rows = flavors.list(project_id=req.context.project_id, is_admin=is_admin(req), is_public=is_public,
                            min_ram=int_query(req, "minRam"), min_disk=int_query(req, "minDisk"),
                            sort=[(keys[sort_key], sort_dir)], limit=limit, marker=req.query.get("marker"))
        result = {"flavors": [render(req, f, detail) for f in rows]}
        if limit and len(rows) == limit:
            path = "/flavors/detail" if detail else "/flavors"
            result["flavors_links"] = [{"rel": "next", "href": next_link(
                req.service_url + "/v2.1" + path, req.query, rows[-1].id)}]
        return result

    @router.get("/v2.1/flavors")
    def list_flavors(req: ApiRequest):
        return listing(req, detail=False)

    @router.get("/v2.1/flavors/detail")
    def list_flavors_detail(req: ApiRequest):
        return listing(req, detail=True)

    @router.get("/v2.1/flavors/{flavor_id}")
    def show_flavor(req: ApiRequest):
        return {"flavor": render(req, lookup(req))}

    @router.post("/v2.1/flavors")
    def create_flavor(req: ApiRequest):
        req.authorize("os_compute_api:os-flavor-manage:create")
        data = body(req, CREATE, "flavor")
        if "description" in data and not at_least(req, 2, 55):
            raise BadRequest("Invalid input for field/attribute flavor. Additional properties are not allowed "
                             "('description' was unexpected)")
        flavor = flavors.create(
            name=data["name"], flavor_id=None if data.get("id") is None else str(data["id"]),
            vcpus=_int(data["vcpus"], "vcpus", 1),
            ram=_int(data["ram"], "ram", 1), disk=_int(data["disk"], "disk", 0),
            ephemeral=_int(data.get("OS-FLV-EXT-DATA:ephemeral", 0), "OS-FLV-EXT-DATA:ephemeral", 0),
            swap=_int(data.get("swap", 0) or 0, "swap", 0), rxtx_factor=_rxtx_factor(data.get("rxtx_factor", 1.0)),
            is_public=to_bool(data.get("os-flavor-access:is_public", True)), description=data.get("description"))
        return {"flavor": render(req, flavor, specs={})}

    @router.put("/v2.1/flavors/{flavor_id}")
    def update_flavor(req: ApiRequest):
        req.authorize("os_compute_api:os-flavor-manage:update")
        if not at_least(req, 2, 55):
            raise MethodNotAllowed("The method is not allowed for the requested URL.")
        data = body(req, UPDATE, "flavor")
        return {"flavor": render(req, flavors.update_description(req.path_params["flavor_id"],
                                                                 data["description"]))}

    @router.delete("/v2.1/flavors/{flavor_id}")
    def delete_flavor(req: ApiRequest):
        req.authorize("os_compute_api:os-flavor-manage:delete")
        flavors.delete(req.path_params["flavor_id"])
        return accepted()

    # -- extra specs -----------------------------------------------------------------
    @router.get("/v2.1/flavors/{flavor_id}/os-extra_specs")
    def list_specs(req: ApiRequest):
        req.authorize("os_compute_api:os-flavor-extra-specs:index", {"project_id": req.context.project_id})
        return {"extra_specs": flavors.extra_specs(lookup(req).id)}

    @router.post("/v2.1/flavors/{flavor_id}/os-extra_specs")
    def create_specs(req: ApiRequest):
        req.authorize("os_compute_api:os-flavor-extra-specs:create")
        specs = {k: str(v) for k, v in body(req, EXTRA_SPECS, "extra_specs").items()}
        flavors.set_extra_specs(req.path_params["flavor_id"], specs)
        return {"extra_specs": specs}

    @router.get("/v2.1/flavors/{flavor_id}/os-extra_specs/{key}")
    def show_spec(req: ApiRequest):
        req.authorize("os_compute_api:os-flavor-extra-specs:show", {"project_id": req.context.project_id})
        key = req.path_params["key"]
        specs = flavors.extra_specs(lookup(req).id)
        if key not in specs:
            raise NotFound(f"Flavor {req.path_params['flavor_id']} has no extra specs with key {key}.")
        return {key: specs[key]}

    @router.put("/v2.1/flavors/{flavor_id}/os-extra_specs/{key}")
    def update_spec(req: ApiRequest):
        req.authorize("os_compute_api:os-flavor-extra-specs:update")
        key = req.path_params["key"]
        data = validate(req.json(), {"type": "object", "minProperties": 1, "maxProperties": 1,
                                     "propertyNames": _SPEC_KEY, "additionalProperties": _SPEC_VALUE})
        if key not in data:
            raise BadRequest("Request body and URI mismatch")
        flavors.set_extra_specs(req.path_params["flavor_id"], {key: str(data[key])})
        return {key: str(data[key])}

    @router.delete("/v2.1/flavors/{flavor_id}/os-extra_specs/{key}")
    def delete_spec(req: ApiRequest):
        req.authorize("os_compute_api:os-flavor-extra-specs:delete")
        flavors.delete_extra_spec(req.path_params["flavor_id"], req.path_params["key"])
        return Response(status_code=200)  # Nova answers 200 with no body here

    # -- access ----------------------------------------------------------------------
    def access_list(flavor_id: str) -> dict:
        return {"flavor_access": [{"flavor_id": flavor_id, "tenant_id": p} for p in flavors.access(flavor_id)]}

    @router.get("/v2.1/flavors/{flavor_id}/os-flavor-access")
    def list_access(req: ApiRequest):
        req.authorize("os_compute_api:os-flavor-access")
        flavor = flavors.get(req.path_params["flavor_id"])
        if flavor.is_public:
            raise NotFound("Access list not available for public flavors.")
        return access_list(flavor.id)

    @router.post("/v2.1/flavors/{flavor_id}/action")
    def flavor_action(req: ApiRequest):
        data = validate(req.json(), ACTION)
        flavor_id = req.path_params["flavor_id"]
        if "addTenantAccess" in data:
            req.authorize("os_compute_api:os-flavor-access:add_tenant_access")
            flavors.add_access(flavor_id, data["addTenantAccess"]["tenant"])
        else:
            req.authorize("os_compute_api:os-flavor-access:remove_tenant_access")
            flavors.remove_access(flavor_id, data["removeTenantAccess"]["tenant"])
        return access_list(flavor_id)
