"""CRUD for every top-level Neutron resource, registered from one table.

Networks, subnets, subnet pools, ports, routers, floating IPs and security groups all
answer the same five routes in the same way (create also in bulk: a list under the
plural key); only their names, policy targets and body schemas differ.
"""

from __future__ import annotations

from pocketstack.common.api.context import RequestContext
from pocketstack.common.api.request import ApiRequest, json_response
from pocketstack.common.api.routes import Router
from pocketstack.common.api.validation import validate
from pocketstack.network import errors
from pocketstack.network.api import inputs, present
from pocketstack.network.api.schemas import SCHEMAS, bulk_schema
from pocketstack.network.manager import NetworkManager

# collection URL segment -> (member key, plural key)
RESOURCES = {
    "networks": ("network", "networks"), "subnets": ("subnet", "subnets"),
    "subnetpools": ("subnetpool", "subnetpools"), "ports": ("port", "ports"), "routers": ("router", "routers"),
    "floatingips": ("floatingip", "floatingips"), "security-groups": ("security_group", "security_groups"),
}


def _attribute_rules(req: ApiRequest, action: str, member: str, attrs: dict, target: dict) -> None:
    """Authorise each attribute that has its own rule (``create_network:shared`` …), and
    each key of a dict value or of the dicts in a list value that has one
    (``create_port:fixed_ips:ip_address``), as Neutron builds its match rule."""
    rules = req.enforcer.rules()
    for attribute, value in attrs.items():
        rule = f"{action}_{member}:{attribute}"
        if rule in rules:
            req.authorize(rule, target)
        for sub in sorted(_sub_attributes(value)):
            if f"{rule}:{sub}" in rules:
                req.authorize(f"{rule}:{sub}", target)


def _sub_attributes(value) -> set[str]:
    """The keys of a dict value, or of every dict in a list value (``fixed_ips``)."""
    items = value if isinstance(value, list) else [value]
    return {key for item in items if isinstance(item, dict) for key in item}


def _add_network_facts(manager: NetworkManager, member: str, target: dict) -> dict:
    """What the subnet and port rules read besides the resource: the network's owner and
    whether it is shared, and for a port whether its device owner is one of the network
    service's own (``network:*``).  The network is looked up as an admin, as Neutron's
    owner check does: a create on another project's network is refused by policy (403);
    only a network that does not exist at all is a 404 here."""
    if member in ("subnet", "port") and target.get("network_id"):
        network = manager.get(RequestContext.admin(), "networks", target["network_id"])
        target["network:project_id"] = network["project_id"]
        target["network:shared"] = network["shared"]
    if member == "port":
        target["network_device"] = str(target.get("device_owner") or "").startswith("network:")
    return target


def create_target(req: ApiRequest, manager: NetworkManager, member: str, attrs: dict) -> dict:
    target = dict(attrs)
    target["project_id"] = attrs.get("project_id") or attrs.get("tenant_id") or req.context.project_id
    if not target["project_id"]:
        # A system- or domain-scoped token has no project to own the resource.
        raise errors.bad_request("Running without keystone AuthN requires that tenant_id is specified",
                                 "HTTPBadRequest")
    return _add_network_facts(manager, member, target)


def update_target(manager: NetworkManager, member: str, item: dict, attrs: dict) -> dict:
    """The resource as it will be (Neutron merges the change into the stored resource)."""
    return _add_network_facts(manager, member, {**item, **attrs})


def _authorized(req: ApiRequest, manager: NetworkManager, member: str, body) -> dict:
    """The validated attributes of one ``{member: {...}}`` create body, once policy allows them."""
    attrs = dict(validate(body, SCHEMAS[(member, True)])[member])
    target = create_target(req, manager, member, attrs)
    req.authorize(f"create_{member}", target)
    _attribute_rules(req, "create", member, attrs, target)
    return attrs


def register(router: Router, manager: NetworkManager) -> None:
    for collection, (member, plural) in RESOURCES.items():
        _register_one(router, manager, collection, member, plural)


def _register_one(router: Router, manager: NetworkManager, collection: str, member: str, plural: str) -> None:
    base = f"/v2.0/{collection}"
    item_path = base + "/{resource_id}"

    def list_resources(req: ApiRequest):
        req.authorize(f"get_{member}", {"project_id": req.context.project_id, "shared": True,
                                        "router:external": True})
        items, paging = manager.list(req.context, collection, req.query)
        return present.collection(req, member, plural, items, paging)

    def show_resource(req: ApiRequest):
        item = manager.get(req.context, collection, req.path_params["resource_id"])
        req.authorize(f"get_{member}", item)
        return present.one(req, member, item)

    def create_resource(req: ApiRequest):
        body = inputs.json_body(req)
        if isinstance(body, dict) and plural in body and member not in body:
            # Bulk create: {"networks": [{...}, …]} → 201 {"networks": [...]}, all or nothing.
            items = validate(body, bulk_schema(plural))[plural]
            attrs = [_authorized(req, manager, member, {member: item}) for item in items]
            created = manager.create_many(req.context, collection, attrs)
            return json_response({plural: [present.one(req, member, item)[member] for item in created]}, status=201)
        item = manager.create(req.context, collection, _authorized(req, manager, member, body))
        return json_response(present.one(req, member, item), status=201)

    def update_resource(req: ApiRequest):
        attrs = dict(inputs.body(req, SCHEMAS[(member, False)])[member])
        item = manager.get(req.context, collection, req.path_params["resource_id"])
        for key in ("project_id", "tenant_id"):
            if key in attrs and attrs[key] == item["project_id"]:
                del attrs[key]  # restating the owner is not a change
        req.authorize(f"update_{member}", item)
        _attribute_rules(req, "update", member, attrs, update_target(manager, member, item, attrs))
        item = manager.update(req.context, collection, item["id"], attrs, present.if_match_revision(req))
        return present.one(req, member, item)

    def delete_resource(req: ApiRequest):
        item = manager.get(req.context, collection, req.path_params["resource_id"])
        req.authorize(f"delete_{member}", item)
        manager.delete(req.context, collection, item["id"])

    for handler in (list_resources, show_resource, create_resource, update_resource, delete_resource):
        handler.__name__ = f"{handler.__name__}_{member}"
    router.get(base)(list_resources)
    router.post(base)(create_resource)
    router.get(item_path)(show_resource)
    router.put(item_path)(update_resource)
    router.delete(item_path)(delete_resource)
