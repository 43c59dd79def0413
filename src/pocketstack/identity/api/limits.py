"""``/v3/registered_limits``, ``/v3/limits`` and ``/v3/limits/model`` (unified limits).

Bodies are validated before the policy check, as Keystone's schema decorators do (a
400 before a 403).  Creation takes a list and answers 201 with the list, without
collection links.  Listing limits is open to every token but shows each caller only
its scope's limits (Keystone's ``LimitsResource.get``).
"""

from __future__ import annotations

from pocketstack.common.api.request import ApiRequest
from pocketstack.common.api.routes import route
from pocketstack.common.validation import validate
from pocketstack.identity import errors
from pocketstack.identity import models as m
from pocketstack.identity.api import render, schemas
from pocketstack.identity.api.common import filters
from pocketstack.identity.limits import FLAT_MODEL
from pocketstack.identity.manager import Identity

REGISTERED_LIMITS = "/v3/registered_limits"
REGISTERED_LIMIT = REGISTERED_LIMITS + "/{registered_limit_id}"
LIMITS = "/v3/limits"
LIMIT = LIMITS + "/{limit_id}"
REGISTERED_FILTERS = ("service_id", "region_id", "resource_name")
LIMIT_FILTERS = REGISTERED_FILTERS + ("project_id", "domain_id")


def _query(req: ApiRequest, schema: dict, keys: tuple[str, ...]) -> dict:
    """The list filters among ``keys``, each checked as Keystone's query schema does."""
    found = filters(req, keys, bools=())
    validate(found, schema)
    return found


class RegisteredLimitsApi:
    def __init__(self, identity: Identity):
        self.limits = identity.limits

    @route.get(REGISTERED_LIMITS, policy="identity:list_registered_limits")
    def index(self, req: ApiRequest) -> dict:
        req.authorize()
        found = self.limits.list_registered(_query(req, schemas.registered_limits_query, REGISTERED_FILTERS))
        return render.collection(req.service_url, "registered_limits", "registered_limits",
                                 [render.registered_limit(req.service_url, r) for r in found])

    @route.post(REGISTERED_LIMITS, policy="identity:create_registered_limits", body=schemas.registered_limits_create,
                status=201)
    def create(self, req: ApiRequest) -> dict:
        req.authorize()
        created = self.limits.create_registered(req.data["registered_limits"])
        return {"registered_limits": [render.registered_limit(req.service_url, r) for r in created]}

    @route.get(REGISTERED_LIMIT, policy="identity:get_registered_limit")
    def show(self, req: ApiRequest) -> dict:
        req.authorize()
        found = self.limits.get_registered(req.path_params["registered_limit_id"])
        return {"registered_limit": render.registered_limit(req.service_url, found)}

    @route.patch(REGISTERED_LIMIT, policy="identity:update_registered_limit", body=schemas.registered_limit_update)
    def update(self, req: ApiRequest) -> dict:
        req.authorize()
        updated = self.limits.update_registered(req.path_params["registered_limit_id"],
                                                req.data["registered_limit"])
        return {"registered_limit": render.registered_limit(req.service_url, updated)}

    @route.delete(REGISTERED_LIMIT, policy="identity:delete_registered_limit")
    def delete(self, req: ApiRequest) -> None:
        req.authorize()
        self.limits.delete_registered(req.path_params["registered_limit_id"])


class LimitsApi:
    def __init__(self, identity: Identity):
        self.identity = identity
        self.limits = identity.limits

    def _target(self, lim: m.Limit) -> dict:
        """What ``identity:get_limit`` is checked against: the limit, with its project's
        domain or its domain."""
        target: dict = {"project_id": lim.project_id, "domain_id": lim.domain_id}
        if lim.project_id:
            target["project"] = {"domain_id": self.identity.resource.get_project(lim.project_id).domain_id}
        elif lim.domain_id:
            target["domain"] = {"id": lim.domain_id}
        return {"target": {"limit": target}}

    def _in_scope(self, req: ApiRequest, lim: m.Limit, domain_projects: set[str]) -> bool:
        ctx = req.caller
        if ctx.system_scope or "admin" in ctx.roles or "service" in ctx.roles:
            return True
        if ctx.domain_id:
            return lim.domain_id == ctx.domain_id or lim.project_id in domain_projects
        return ctx.project_id is not None and lim.project_id == ctx.project_id

    @route.get(LIMITS, policy="identity:list_limits")
    def index(self, req: ApiRequest) -> dict:
        req.authorize()
        found = self.limits.list_limits(_query(req, schemas.limits_query, LIMIT_FILTERS))
        domain_id = req.caller.domain_id
        projects = ({p.id for p in self.identity.resource.list_projects(domain=False, filters={"domain_id": domain_id})}
                    if domain_id else set())
        return render.collection(req.service_url, "limits", "limits",
                                 [render.limit(req.service_url, lim, reg) for lim, reg in found
                                  if self._in_scope(req, lim, projects)])

    @route.post(LIMITS, policy="identity:create_limits", body=schemas.limits_create, status=201)
    def create(self, req: ApiRequest) -> dict:
        req.authorize()
        created = self.limits.create_limits(req.data["limits"])
        return {"limits": [render.limit(req.service_url, lim, reg) for lim, reg in created]}

    @route.get(LIMITS + "/model", policy="identity:get_limit_model")
    def model(self, req: ApiRequest) -> dict:
        req.authorize()
        return {"model": dict(FLAT_MODEL)}

    @route.get(LIMIT, policy="identity:get_limit")
    def show(self, req: ApiRequest) -> dict:
        """403 for a caller who may not see the limit, whether or not it exists; 404 for
        one who may (the policy then passes on an empty target)."""
        found = self.limits.find(req.path_params["limit_id"])
        req.authorize(target=self._target(found[0]) if found else {})
        if found is None:
            raise errors.LimitNotFound(limit_id=req.path_params["limit_id"])
        return {"limit": render.limit(req.service_url, *found)}

    @route.patch(LIMIT, policy="identity:update_limit", body=schemas.limit_update)
    def update(self, req: ApiRequest) -> dict:
        req.authorize()
        lim, reg = self.limits.update_limit(req.path_params["limit_id"], req.data["limit"])
        return {"limit": render.limit(req.service_url, lim, reg)}

    @route.delete(LIMIT, policy="identity:delete_limit")
    def delete(self, req: ApiRequest) -> None:
        req.authorize()
        self.limits.delete_limit(req.path_params["limit_id"])
