"""Routes that hang off the main resources: security group rules, router interfaces,
tags, quotas and the auto-allocated topology."""

from __future__ import annotations

from starlette.responses import Response

from pocketstack.common.api.context import RequestContext
from pocketstack.common.api.request import ApiRequest, json_response
from pocketstack.common.api.routes import Router
from pocketstack.network import converters, errors
from pocketstack.network.api import inputs, present
from pocketstack.network.api.resources import RESOURCES
from pocketstack.network.api.schemas import (
    INTERFACE_BODY,
    QUOTA_BODY,
    SCHEMAS,
    TAGS_BODY,
)
from pocketstack.network.manager import NetworkManager
from pocketstack.network.models import Quota
from pocketstack.network.quota import DEFAULTS as QUOTA_DEFAULTS

RULES = "/v2.0/security-group-rules"


def register(router: Router, manager: NetworkManager) -> None:
    _security_group_rules(router, manager)
    _router_interfaces(router, manager)
    _tags(router, manager)
    _quotas(router, manager)

    @router.get("/v2.0/auto-allocated-topology/{project_id}")
    def auto_allocated_topology(req: ApiRequest):
        project_id = req.path_params["project_id"]
        req.authorize("get_auto_allocated_topology", {"project_id": project_id})
        if project_id != req.context.project_id:
            raise errors.bad_request("Auto-allocation is only possible for the caller's own project.",
                                     "BadRequest")
        network_id = manager.auto_allocated_network(req.context)
        return {"auto_allocated_topology": {"id": network_id, "tenant_id": project_id, "project_id": project_id}}


def _security_group_rules(router: Router, manager: NetworkManager) -> None:
    @router.get(RULES)
    def list_rules(req: ApiRequest):
        req.authorize("get_security_group_rule", {"project_id": req.context.project_id})
        items, paging = manager.list_rules(req.context, req.query)
        return present.collection(req, "security_group_rule", "security_group_rules", items, paging)

    @router.get(RULES + "/{rule_id}")
    def show_rule(req: ApiRequest):
        item = manager.get_rule(req.context, req.path_params["rule_id"])
        req.authorize("get_security_group_rule", item)
        return present.one(req, "security_group_rule", item)

    @router.post(RULES)
    def create_rule(req: ApiRequest):
        attrs = dict(inputs.body(req, SCHEMAS[("security_group_rule", True)])["security_group_rule"])
        # The group's owner decides (looked up as an admin, as Neutron's owner check does):
        # a rule in another project's group is refused by policy, 403.
        group = manager.get(RequestContext.admin(), "security-groups", attrs["security_group_id"])
        req.authorize("create_security_group_rule", group)
        item = manager.create_rule(req.context, attrs)
        return json_response(present.one(req, "security_group_rule", item), status=201)

    @router.delete(RULES + "/{rule_id}")
    def delete_rule(req: ApiRequest):
        item = manager.get_rule(req.context, req.path_params["rule_id"])
        req.authorize("delete_security_group_rule", item)
        manager.delete_rule(req.context, item["id"])


def _router_interfaces(router: Router, manager: NetworkManager) -> None:
    def change(req: ApiRequest, action: str):
        body = inputs.body(req, INTERFACE_BODY)
        item = manager.get(req.context, "routers", req.path_params["router_id"])
        req.authorize(f"{action}_router_interface", item)
        if action == "add":
            return manager.add_router_interface(req.context, item["id"], body)
        return manager.remove_router_interface(req.context, item["id"], body)

    @router.put("/v2.0/routers/{router_id}/add_router_interface")
    def add_router_interface(req: ApiRequest):
        return change(req, "add")

    @router.put("/v2.0/routers/{router_id}/remove_router_interface")
    def remove_router_interface(req: ApiRequest):
        return change(req, "remove")


def _tags(router: Router, manager: NetworkManager) -> None:
    def resource(req: ApiRequest, write: bool) -> tuple[str, str]:
        collection = req.path_params["collection"]
        if collection not in RESOURCES:
            raise errors.not_found("Resource", collection)
        member = RESOURCES[collection][0]
        item = manager.get(req.context, collection, req.path_params["resource_id"])
        req.authorize("create_tags" if write else f"get_{member}", item)
        return collection, item["id"]

    base = "/v2.0/{collection}/{resource_id}/tags"

    @router.get(base)
    def list_tags(req: ApiRequest):
        return {"tags": manager.tags(req.context, *resource(req, False))}

    @router.put(base)
    def replace_tags(req: ApiRequest):
        tags = inputs.body(req, TAGS_BODY)["tags"]
        return {"tags": manager.set_tags(req.context, *resource(req, True), tags)}

    @router.delete(base)
    def delete_all_tags(req: ApiRequest):
        manager.remove_tag(req.context, *resource(req, True), None)

    @router.get(base + "/{tag}")
    def check_tag(req: ApiRequest):
        if req.path_params["tag"] not in manager.tags(req.context, *resource(req, False)):
            raise errors.not_found("Tag", req.path_params["tag"])

    @router.put(base + "/{tag}")
    def add_tag(req: ApiRequest):
        manager.add_tag(req.context, *resource(req, True), req.path_params["tag"])
        return Response(status_code=201)

    @router.delete(base + "/{tag}")
    def delete_tag(req: ApiRequest):
        manager.remove_tag(req.context, *resource(req, True), req.path_params["tag"])


def _quota_values(body: dict) -> dict[str, int]:
    """Limits as Neutron takes them: integers (or strings of one) from -1 (unlimited) to
    the largest an INTEGER column holds."""
    values = {}
    for resource, raw in body["quota"].items():
        if resource not in QUOTA_DEFAULTS:
            raise errors.invalid_input(f"Unrecognized quota resource {resource}")
        values[resource] = converters.in_range(resource, converters.to_int(raw), -1, converters.DB_INTEGER_MAX)
    return values


def _quotas(router: Router, manager: NetworkManager) -> None:
    base = "/v2.0/quotas"

    @router.get(base)
    def list_quotas(req: ApiRequest):
        req.authorize("update_quota")
        return {"quotas": [{"project_id": p, "tenant_id": p, **manager.quota_limits(p)}
                           for p in manager.projects_with_quotas()]}

    @router.get(base + "/{project_id}")
    def show_quota(req: ApiRequest):
        project_id = req.path_params["project_id"]
        req.authorize("get_quota", {"project_id": project_id})
        return {"quota": manager.quota_limits(project_id)}

    @router.get(base + "/{project_id}/default")
    def show_default_quota(req: ApiRequest):
        req.authorize("get_quota", {"project_id": req.path_params["project_id"]})
        return {"quota": dict(QUOTA_DEFAULTS)}

    def details(req: ApiRequest):
        project_id = req.path_params["project_id"]
        req.authorize("get_quota", {"project_id": project_id})
        return {"quota": manager.quota_details(project_id)}

    router.get(base + "/{project_id}/details")(details)
    router.get(base + "/{project_id}/details.json")(details)

    @router.put(base + "/{project_id}")
    def update_quota(req: ApiRequest):
        project_id = req.path_params["project_id"]
        req.authorize("update_quota", {"project_id": project_id})
        converters.max_length("project_id", project_id, Quota.project_id.type.length)
        values = _quota_values(inputs.body(req, QUOTA_BODY))
        return {"quota": manager.set_quota(req.context, project_id, values)}

    @router.delete(base + "/{project_id}")
    def delete_quota(req: ApiRequest):
        project_id = req.path_params["project_id"]
        req.authorize("delete_quota", {"project_id": project_id})
        manager.reset_quota(req.context, project_id)
