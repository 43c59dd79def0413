"""Routes that hang off the main resources: security group rules, router interfaces,
quotas and the auto-allocated topology."""

from __future__ import annotations

from pocketstack.common.api.request import ApiRequest
from pocketstack.common.api.routes import route
from pocketstack.common.context import RequestContext
from pocketstack.network import converters, errors
from pocketstack.network.api import inputs, render
from pocketstack.network.api.schemas import EXTRAROUTES_BODY, INTERFACE_BODY, QUOTA_BODY, SCHEMAS
from pocketstack.network.manager import NetworkManager
from pocketstack.network.models import Quota
from pocketstack.network.quota import DEFAULTS as QUOTA_DEFAULTS

RULES = "/v2.0/security-group-rules"


class SecurityGroupRulesApi:
    def __init__(self, manager: NetworkManager):
        self.manager = manager

    @route.get(RULES, policy="get_security_group_rule")
    def index(self, req: ApiRequest):
        req.authorize(target={"project_id": req.caller.project_id})
        items, paging = self.manager.list_rules(req.caller, req.query)
        return render.collection(req, "security_group_rule", "security_group_rules", items, paging)

    @route.get(RULES + "/{rule_id}", policy="get_security_group_rule")
    def show(self, req: ApiRequest):
        item = self.manager.get_rule(req.caller, req.path_params["rule_id"])
        req.authorize(target=item)
        return render.one(req, "security_group_rule", item)

    @route.post(RULES, policy="create_security_group_rule", body=SCHEMAS[("security_group_rule", True)],
                status=201)
    def create(self, req: ApiRequest):
        attrs = dict(req.data["security_group_rule"])
        # The group's owner decides (looked up as an admin, as Neutron's owner check does):
        # a rule in another project's group is refused by policy, 403.
        group = self.manager.get(RequestContext.admin(), "security-groups", attrs["security_group_id"])
        req.authorize(target=group)
        item = self.manager.create_rule(req.caller, attrs)
        return render.one(req, "security_group_rule", item)

    @route.delete(RULES + "/{rule_id}", policy="delete_security_group_rule")
    def delete(self, req: ApiRequest):
        item = self.manager.get_rule(req.caller, req.path_params["rule_id"])
        req.authorize(target=item)
        self.manager.delete_rule(req.caller, item["id"])


class RouterInterfacesApi:
    def __init__(self, manager: NetworkManager):
        self.manager = manager

    def _router(self, req: ApiRequest) -> str:
        item = self.manager.get(req.caller, "routers", req.path_params["router_id"])
        req.authorize(target=item)
        return item["id"]

    @route.put("/v2.0/routers/{router_id}/add_router_interface", policy="add_router_interface",
               body=INTERFACE_BODY)
    def add(self, req: ApiRequest):
        return self.manager.add_router_interface(req.caller, self._router(req), req.data)

    @route.put("/v2.0/routers/{router_id}/remove_router_interface", policy="remove_router_interface",
               body=INTERFACE_BODY)
    def remove(self, req: ApiRequest):
        return self.manager.remove_router_interface(req.caller, self._router(req), req.data)

    @route.put("/v2.0/routers/{router_id}/add_extraroutes", policy="add_extraroutes", body=EXTRAROUTES_BODY)
    def add_routes(self, req: ApiRequest):
        return {"router": self.manager.change_extra_routes(req.caller, self._router(req),
                                                           req.data["router"]["routes"], add=True)}

    @route.put("/v2.0/routers/{router_id}/remove_extraroutes", policy="remove_extraroutes", body=EXTRAROUTES_BODY)
    def remove_routes(self, req: ApiRequest):
        return {"router": self.manager.change_extra_routes(req.caller, self._router(req),
                                                           req.data["router"]["routes"], add=False)}


def quota_values(body: dict) -> dict[str, int]:
    """Limits as Neutron takes them: integers (or strings of one) from -1 (unlimited) to
    the largest an INTEGER column holds.  ``force`` (a boolean) is Neutron's switch off
    the limit-below-usage check, which this service never makes (no quota-check-limit
    extension): taken and checked, with nothing to switch off."""
    values = {}
    for resource, raw in body["quota"].items():
        if resource == "force":
            converters.to_boolean(resource, raw)
            continue
        if resource not in QUOTA_DEFAULTS:
            raise errors.InvalidInput(error_message=f"Unrecognized quota resource {resource}")
        values[resource] = converters.in_range(resource, converters.to_int(raw), -1, converters.DB_INTEGER_MAX)
    return values


QUOTAS = "/v2.0/quotas"


class QuotasApi:
    def __init__(self, manager: NetworkManager):
        self.manager = manager

    @route.get(QUOTAS, policy="update_quota")
    def index(self, req: ApiRequest):
        req.authorize()
        return {"quotas": [{"project_id": p, "tenant_id": p, **self.manager.quota_limits(p)}
                           for p in self.manager.projects_with_quotas()]}

    @route.get(QUOTAS + "/{project_id}", policy="get_quota")
    def show(self, req: ApiRequest):
        project_id = req.path_params["project_id"]
        req.authorize(target={"project_id": project_id})
        return {"quota": self.manager.quota_limits(project_id)}

    @route.get(QUOTAS + "/{project_id}/default", policy="get_quota")
    def show_default(self, req: ApiRequest):
        req.authorize(target={"project_id": req.path_params["project_id"]})
        return {"quota": self.manager.quota_defaults()}

    @route.get(QUOTAS + "/{project_id}/details", policy="get_quota")
    @route.get(QUOTAS + "/{project_id}/details.json", policy="get_quota")
    def details(self, req: ApiRequest):
        project_id = req.path_params["project_id"]
        req.authorize(target={"project_id": project_id})
        return {"quota": self.manager.quota_details(project_id)}

    @route.put(QUOTAS + "/{project_id}", policy="update_quota")
    def update(self, req: ApiRequest):
        project_id = req.path_params["project_id"]
        req.authorize(target={"project_id": project_id})
        converters.max_length("project_id", project_id, Quota.project_id.type.length)
        # Validated after the policy and the id (a refused caller learns nothing of the body).
        values = quota_values(inputs.body(req, QUOTA_BODY))
        return {"quota": self.manager.set_quota(req.caller, project_id, values)}

    @route.delete(QUOTAS + "/{project_id}", policy="delete_quota")
    def delete(self, req: ApiRequest):
        project_id = req.path_params["project_id"]
        req.authorize(target={"project_id": project_id})
        self.manager.reset_quota(req.caller, project_id)


class AutoAllocatedTopologyApi:
    def __init__(self, manager: NetworkManager):
        self.manager = manager

    @route.get("/v2.0/auto-allocated-topology/{project_id}", policy="get_auto_allocated_topology")
    def show(self, req: ApiRequest):
        project_id = req.path_params["project_id"]
        req.authorize(target={"project_id": project_id})
        if project_id != req.caller.project_id:
            raise errors.AutoAllocationNotOwnProject()
        network_id = self.manager.auto_allocated_network(req.caller)
        return {"auto_allocated_topology": {"id": network_id, "tenant_id": project_id, "project_id": project_id}}
