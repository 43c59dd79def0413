"""``/flavors`` (with ``os-extra_specs`` and ``os-flavor-access``)."""

from __future__ import annotations

from collections.abc import Mapping

from starlette.responses import Response

from pocketstack.common.api.request import ApiRequest
from pocketstack.common.api.routes import route
from pocketstack.common.pagination import next_link
from pocketstack.common.validation import validate
from pocketstack.compute import errors, extra_specs
from pocketstack.compute.api.common import accepted, int_query, is_admin, links, query_bool, to_bool
from pocketstack.compute.api.schemas import flavors as schemas
from pocketstack.compute.api.schemas import queries
from pocketstack.compute.api.schemas.flavors import MAX_INT, SQL_SP_FLOAT_MAX
from pocketstack.compute.flavors import Flavors

# Nova's sort keys of the flavor listing, and the column each sorts by.
SORT_KEYS = {"flavorid": "id", "id": "id", "name": "name", "memory_mb": "memory_mb", "ram": "memory_mb",
             "vcpus": "vcpus", "root_gb": "root_gb", "disk": "root_gb", "created_at": "created_at",
             "ephemeral_gb": "ephemeral_gb", "swap": "swap", "rxtx_factor": "rxtx_factor"}
EXTRA_SPECS_INDEX = "os_compute_api:os-flavor-extra-specs:index"


def size(value, name: str, minimum: int) -> int:
    """A size field as an int within its column (a digit string passes the schema
    whatever its length, so the maximum is checked here, as Nova's validator does)."""
    number = int(value)
    if number < minimum:
        raise errors.InvalidFieldValue(name=name, value=value)
    if number > MAX_INT:
        raise errors.FieldAboveMaximum(name=name, value=value, maximum=MAX_INT)
    return number


def rxtx_factor(value) -> float:
    """A digit string that passed the schema may still overflow a float (Nova's check)."""
    factor = float(value)
    if not 0 < factor <= SQL_SP_FLOAT_MAX:
        raise errors.InvalidRxtxFactor(maximum=SQL_SP_FLOAT_MAX)
    return factor


def create_request(data: dict, with_description: bool) -> dict:
    """The ``flavor`` of a create body as :meth:`Flavors.create` keywords; ``description``
    only from 2.55 (Nova's older schema refuses it)."""
    if "description" in data and not with_description:
        raise errors.DescriptionNotAllowed()
    return dict(
        name=data["name"], flavor_id=None if data.get("id") is None else str(data["id"]),
        vcpus=size(data["vcpus"], "vcpus", 1), ram=size(data["ram"], "ram", 1), disk=size(data["disk"], "disk", 0),
        ephemeral=size(data.get("OS-FLV-EXT-DATA:ephemeral", 0), "OS-FLV-EXT-DATA:ephemeral", 0),
        swap=size(data.get("swap", 0) or 0, "swap", 0), rxtx_factor=rxtx_factor(data.get("rxtx_factor", 1.0)),
        is_public=to_bool(data.get("os-flavor-access:is_public", True)), description=data.get("description"))


def listing_query(query: Mapping[str, str]) -> dict:
    """``is_public`` (``none``: all), ``sort_key`` and ``sort_dir`` of a listing as
    :meth:`Flavors.list` keywords."""
    raw_public = query.get("is_public")
    is_public: bool | None
    if raw_public is None:
        is_public = True
    elif raw_public.lower() == "none":
        is_public = None
    else:
        is_public = query_bool(raw_public, "is_public")
    sort_key = query.get("sort_key", "flavorid")
    if sort_key not in SORT_KEYS:
        raise errors.InvalidSortKey(sort_key=sort_key)
    sort_dir = query.get("sort_dir", "asc")
    if sort_dir not in ("asc", "desc"):
        raise errors.InvalidSortDir(sort_dir=sort_dir)
    return {"is_public": is_public, "sort": [(SORT_KEYS[sort_key], sort_dir)]}


def checked_specs(req: ApiRequest, given: dict) -> dict[str, str]:
    """Extra specs as stored (strings); from 2.86 each checked against Nova's rules for
    the keys it knows (compute/extra_specs.py), before the flavor is looked up, as Nova."""
    specs = {key: str(value) for key, value in given.items()}
    if req.at_least(2, 86):
        for key, value in specs.items():
            extra_specs.validate(key, value)
    return specs


class FlavorsApi:
    def __init__(self, flavors: Flavors):
        self.flavors = flavors

    def render(self, req: ApiRequest, flavor, detail: bool = True, specs: dict | None = None) -> dict:
        out = {"id": flavor.id, "name": flavor.name, "links": links(req, "flavors", flavor.id)}
        if req.at_least(2, 55):
            out["description"] = flavor.description
        if not detail:
            return out
        out.update({"ram": flavor.memory_mb, "vcpus": flavor.vcpus, "disk": flavor.root_gb,
                    "OS-FLV-EXT-DATA:ephemeral": flavor.ephemeral_gb, "OS-FLV-DISABLED:disabled": flavor.disabled,
                    # 0 from 2.75 for no swap, "" before (as Nova)
                    "swap": flavor.swap if req.at_least(2, 75) else flavor.swap or "",
                    "rxtx_factor": flavor.rxtx_factor,
                    "os-flavor-access:is_public": flavor.is_public})
        if req.at_least(2, 102):  # both gone from 2.102
            del out["rxtx_factor"], out["OS-FLV-DISABLED:disabled"]
        if req.at_least(2, 61) and req.allowed(EXTRA_SPECS_INDEX, {"project_id": req.caller.project_id}):
            out["extra_specs"] = specs if specs is not None else self.flavors.extra_specs(flavor.id)
        return out

    def lookup(self, req: ApiRequest):
        return self.flavors.get_visible(req.path_params["flavor_id"], req.caller.project_id, is_admin(req))

    def listing(self, req: ApiRequest, detail: bool) -> dict:
        parsed = listing_query(req.query)
        if req.at_least(2, 102) and req.query.get("sort_key") == "rxtx_factor":  # not a key from 2.102
            raise errors.InvalidSortKey(sort_key="rxtx_factor")
        limit = int_query(req, "limit")
        rows = self.flavors.list(project_id=req.caller.project_id, is_admin=is_admin(req),
                                 min_ram=int_query(req, "minRam"), min_disk=int_query(req, "minDisk"),
                                 limit=limit, marker=req.query.get("marker"),
                                 name=req.query.get("name") if req.at_least(2, 102) else None, **parsed)
        result: dict = {"flavors": [self.render(req, f, detail) for f in rows]}
        if limit and len(rows) == limit:
            path = "/flavors/detail" if detail else "/flavors"
            result["flavors_links"] = [{"rel": "next", "href": next_link(
                req.service_url + "/v2.1" + path, req.query, rows[-1].id)}]
        return result

    @route.get("/v2.1/flavors",
               query={"2.75": queries.FLAVORS, "2.102": queries.FLAVORS_V2102})
    def index(self, req: ApiRequest) -> dict:
        return self.listing(req, detail=False)

    @route.get("/v2.1/flavors/detail",
               query={"2.75": queries.FLAVORS, "2.102": queries.FLAVORS_V2102})
    def detail(self, req: ApiRequest) -> dict:
        return self.listing(req, detail=True)

    @route.get("/v2.1/flavors/{flavor_id}")
    def show(self, req: ApiRequest) -> dict:
        return {"flavor": self.render(req, self.lookup(req))}

    @route.post("/v2.1/flavors", policy="os_compute_api:os-flavor-manage:create",
                body={"2.1": schemas.CREATE, "2.102": schemas.CREATE_V2102},
                authorize_first=True)
    def create(self, req: ApiRequest) -> dict:
        req.authorize()
        data = req.data["flavor"]
        flavor = self.flavors.create(**create_request(data, with_description=req.at_least(2, 55)))
        return {"flavor": self.render(req, flavor, specs={})}

    @route.put("/v2.1/flavors/{flavor_id}", policy="os_compute_api:os-flavor-manage:update")
    def update(self, req: ApiRequest) -> dict:
        req.authorize()
        if not req.at_least(2, 55):  # 405 (not the 404 of a missing route), as today
            raise errors.FlavorUpdateNotAllowed()
        data = validate(req.json(), schemas.UPDATE)["flavor"]
        flavor = self.flavors.update_description(req.path_params["flavor_id"], data["description"])
        return {"flavor": self.render(req, flavor)}

    @route.delete("/v2.1/flavors/{flavor_id}", policy="os_compute_api:os-flavor-manage:delete")
    def delete(self, req: ApiRequest) -> Response:
        req.authorize()
        self.flavors.delete(req.path_params["flavor_id"])
        return accepted()


class FlavorExtraSpecsApi:
    def __init__(self, flavors: Flavors):
        self.flavors = flavors

    def visible(self, req: ApiRequest):
        return self.flavors.get_visible(req.path_params["flavor_id"], req.caller.project_id, is_admin(req))

    @route.get("/v2.1/flavors/{flavor_id}/os-extra_specs", policy=EXTRA_SPECS_INDEX)
    def index(self, req: ApiRequest) -> dict:
        req.authorize(target={"project_id": req.caller.project_id})
        return {"extra_specs": self.flavors.extra_specs(self.visible(req).id)}

    @route.post("/v2.1/flavors/{flavor_id}/os-extra_specs", policy="os_compute_api:os-flavor-extra-specs:create",
                body=schemas.EXTRA_SPECS, authorize_first=True)
    def create(self, req: ApiRequest) -> dict:
        req.authorize()
        specs = checked_specs(req, req.data["extra_specs"])
        self.flavors.set_extra_specs(req.path_params["flavor_id"], specs)
        return {"extra_specs": specs}

    @route.get("/v2.1/flavors/{flavor_id}/os-extra_specs/{key}", policy="os_compute_api:os-flavor-extra-specs:show")
    def show(self, req: ApiRequest) -> dict:
        req.authorize(target={"project_id": req.caller.project_id})
        key = req.path_params["key"]
        specs = self.flavors.extra_specs(self.visible(req).id)
        if key not in specs:
            raise errors.FlavorExtraSpecsNotFound(flavor_id=req.path_params["flavor_id"], key=key)
        return {key: specs[key]}

    @route.put("/v2.1/flavors/{flavor_id}/os-extra_specs/{key}", policy="os_compute_api:os-flavor-extra-specs:update",
               body=schemas.EXTRA_SPEC, authorize_first=True)
    def update(self, req: ApiRequest) -> dict:
        req.authorize()
        key = req.path_params["key"]
        specs = checked_specs(req, req.data)
        if key not in specs:
            raise errors.BodyUriMismatch()
        self.flavors.set_extra_specs(req.path_params["flavor_id"], specs)
        return specs

    @route.delete("/v2.1/flavors/{flavor_id}/os-extra_specs/{key}",
                  policy="os_compute_api:os-flavor-extra-specs:delete")
    def delete(self, req: ApiRequest) -> Response:
        req.authorize()
        self.flavors.delete_extra_spec(req.path_params["flavor_id"], req.path_params["key"])
        return Response(status_code=200)  # Nova answers 200 with no body here


class FlavorAccessApi:
    def __init__(self, flavors: Flavors):
        self.flavors = flavors

    def access_list(self, flavor_id: str) -> dict:
        return {"flavor_access": [{"flavor_id": flavor_id, "tenant_id": p} for p in self.flavors.access(flavor_id)]}

    @route.get("/v2.1/flavors/{flavor_id}/os-flavor-access", policy="os_compute_api:os-flavor-access")
    def index(self, req: ApiRequest) -> dict:
        req.authorize()
        flavor = self.flavors.get(req.path_params["flavor_id"])
        if flavor.is_public:
            raise errors.FlavorAccessListPublic()
        return self.access_list(flavor.id)

    # The body names the action, and the action its rule: validated first, as today.
    @route.post("/v2.1/flavors/{flavor_id}/action", policy="os_compute_api:os-flavor-access:add_tenant_access",
                body=schemas.ACTION)
    def action(self, req: ApiRequest) -> dict:
        flavor_id = req.path_params["flavor_id"]
        if "addTenantAccess" in req.data:
            req.authorize("os_compute_api:os-flavor-access:add_tenant_access")
            self.flavors.add_access(flavor_id, req.data["addTenantAccess"]["tenant"])
        else:
            req.authorize("os_compute_api:os-flavor-access:remove_tenant_access")
            self.flavors.remove_access(flavor_id, req.data["removeTenantAccess"]["tenant"])
        return self.access_list(flavor_id)
