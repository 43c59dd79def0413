"""CRUD and tags for every top-level Neutron resource, served from one table.

Networks, subnets, subnet pools, ports, routers, floating IPs, security groups, address
scopes, RBAC policies, trunks, QoS policies and address groups all answer the same routes
in the same way (create also in bulk: a list under the plural key); only their names,
policy rules and body schemas differ.  Those with Neutron's tag support also have tags
under ``/{id}/tags`` (:class:`ResourceTagsApi`; the others are :data:`UNTAGGED`).
One :class:`ResourceApi` per row of :data:`RESOURCES` serves them: its routes declare
their rule with the member's name left open (``get_{member}``), which :meth:`ResourceApi.adapt_route`
fills in for each instance -- Neutron's resource-attribute-map design, declared.
"""

from __future__ import annotations

import dataclasses

from starlette.responses import Response

from pocketstack.common.api.request import ApiRequest, json_response
from pocketstack.common.api.routes import RouteSpec, route
from pocketstack.common.context import RequestContext
from pocketstack.common.pagination import Paging
from pocketstack.common.validation import validate
from pocketstack.network import errors
from pocketstack.network.api import inputs, render
from pocketstack.network.api.schemas import SCHEMAS, TAGS_BODY, bulk_schema
from pocketstack.network.manager import NetworkManager

# The declared body of an update: the member's schema, filled in by :meth:`ResourceApi.adapt_route`.
MEMBER_UPDATE: dict = {"x-pocketstack": "the member's update schema"}

# collection URL segment -> (member key, plural key)
RESOURCES = {
    "networks": ("network", "networks"), "subnets": ("subnet", "subnets"),
    "subnetpools": ("subnetpool", "subnetpools"), "ports": ("port", "ports"), "routers": ("router", "routers"),
    "floatingips": ("floatingip", "floatingips"), "security-groups": ("security_group", "security_groups"),
    "address-scopes": ("address_scope", "address_scopes"), "rbac-policies": ("rbac_policy", "rbac_policies"),
    "trunks": ("trunk", "trunks"),
    "qos/policies": ("policy", "policies"), "address-groups": ("address_group", "address_groups"),
    "metering/metering-labels": ("metering_label", "metering_labels"),
    "metering/metering-label-rules": ("metering_label_rule", "metering_label_rules"),
    "flavors": ("flavor", "flavors"), "service_profiles": ("service_profile", "service_profiles"),
}
# Collections without tags (their tag URLs are :class:`UntaggableApi`'s 404): those
# without standard attributes (metering, flavors too), and address groups (Neutron's
# model has no tag support).
UNTAGGED = {"address-scopes", "rbac-policies", "address-groups", "metering/metering-labels",
            "metering/metering-label-rules", "flavors", "service_profiles"}
# Tag URLs Neutron names by the bare collection (its tag extension ignores the ``qos/``
# path prefix): ``/v2.0/policies/{id}/tags`` are a QoS policy's tags.
TAG_PATHS = {"policies": "qos/policies"}
# Attributes missing from the resource Neutron's policy hook checks an update against (it
# fetches only those without a default): where a read rule depends on one, an update
# refused is a 404 unless the caller may read the resource without it -- so a project an
# address group is shared with gets 404 on an update, as in Neutron (403 on a delete).
UPDATE_TARGET_OMITS = {"address_group": ("shared",)}
# Resources everyone's query sees but only some callers' policy lets read (service
# profiles: admins'): Neutron's policy hook filters a refused caller's list to nothing
# and answers its show, update or delete with a 404 (it may not see the resource).
POLICY_FILTERED = {"service_profile"}


def _attribute_rules(req: ApiRequest, action: str, member: str, attrs: dict, target: dict) -> None:
    """Authorise each attribute that has its own rule (``create_network:shared`` …), and
    each key of a dict value or of the dicts in a list value that has one
    (``create_port:fixed_ips:ip_address``), as Neutron builds its match rule."""
    rules = req.enforcer.rules()
    for attribute, value in attrs.items():
        if action == "create" and _is_default(member, attribute, value):
            continue  # Neutron's _is_attribute_explicitly_set: the default asks for nothing
        rule = f"{action}_{member}:{attribute}"
        if rule in rules:
            req.authorize(rule, target)
        for sub in sorted(_sub_attributes(value)):
            if f"{rule}:{sub}" in rules:
                req.authorize(f"{rule}:{sub}", target)


def _is_default(member: str, attribute: str, value) -> bool:
    """Whether ``value`` is the attribute's Neutron default (its schema's ``default``)."""
    schema = SCHEMAS[(member, True)]["properties"][member]["properties"].get(attribute, {})
    return "default" in schema and type(value) is type(schema["default"]) and value == schema["default"]


def _sub_attributes(value) -> set[str]:
    """The keys of a dict value, or of every dict in a list value (``fixed_ips``)."""
    items = value if isinstance(value, list) else [value]
    return {key for item in items if isinstance(item, dict) for key in item}


def _add_network_facts(manager: NetworkManager, member: str, target: dict) -> dict:
    """What the subnet and port rules read besides the resource: the network's owner and
    whether it is shared with the resource's project (by an RBAC policy for it or for
    all), and for a port whether its device owner is one of the network service's own
    (``network:*``).  The network is looked up as an admin, as Neutron's
    owner check does: a create on another project's network is refused by policy (403);
    only a network that does not exist at all is a 404 here."""
    if member in ("subnet", "port") and target.get("network_id"):
        network = manager.get(RequestContext.admin(), "networks", target["network_id"])
        target["network:project_id"] = network["project_id"]
        target["network:shared"] = manager.is_shared_with(network["id"], target.get("project_id"))
    if member == "port":
        target["network_device"] = str(target.get("device_owner") or "").startswith("network:")
    return target


def create_target(req: ApiRequest, manager: NetworkManager, member: str, attrs: dict) -> dict:
    target = dict(attrs)
    target["project_id"] = attrs.get("project_id") or attrs.get("tenant_id") or req.caller.project_id
    if not target["project_id"]:
        # A system- or domain-scoped token has no project to own the resource.
        raise errors.TenantIdRequired()
    if target["project_id"] != req.caller.project_id and not req.caller.is_admin:
        raise errors.OtherProjectRequiresAdmin()
    if member == "metering_label_rule":
        # A rule is its label's: the label must be one the caller sees (404), and the
        # rule's policy target is the label's project.
        label = manager.get(req.caller, "metering/metering-labels", str(attrs["metering_label_id"]))
        target["project_id"] = label["project_id"]
    return _add_network_facts(manager, member, target)


def update_target(manager: NetworkManager, member: str, item: dict, attrs: dict) -> dict:
    """The resource as it will be (Neutron merges the change into the stored resource)."""
    return _add_network_facts(manager, member, {**item, **attrs})


def _authorized(req: ApiRequest, manager: NetworkManager, member: str, body) -> dict:
    """The validated attributes of one ``{member: {...}}`` create body, once policy allows them."""
    attrs = dict(inputs.validate_body(body, SCHEMAS[(member, True)])[member])
    target = create_target(req, manager, member, attrs)
    req.authorize(f"create_{member}", target)
    _attribute_rules(req, "create", member, attrs, target)
    return attrs


class CollectionRoutes:
    """Routes of one collection (``/v2.0/<collection>``), declared once for all of them."""

    def __init__(self, manager: NetworkManager, collection: str):
        self.manager = manager
        self.collection = collection
        self.member, self.plural = RESOURCES[collection]

    def adapt_route(self, spec: RouteSpec) -> RouteSpec:
        """The member's name in each declared rule (``get_{member}`` → ``get_network``) and
        its schema as the body of an update (:data:`MEMBER_UPDATE`)."""
        body = ((None, SCHEMAS[(self.member, False)]),) if spec.body and spec.body[0][1] == MEMBER_UPDATE \
            else spec.body
        return dataclasses.replace(spec, policy=spec.policy.format(member=self.member) if spec.policy else None,
                                   body=body)


class ResourceApi(CollectionRoutes):
    """The CRUD routes of one collection, as Neutron serves them."""

    def _target(self, item: dict) -> dict:
        """The policy target of a stored resource: a port's names its network's owner, who
        reads, changes and deletes every port on that network (Neutron's port policy)."""
        return _add_network_facts(self.manager, self.member, dict(item)) if self.member == "port" else item

    def _hidden(self, req: ApiRequest, item: dict) -> None:
        """404 for a caller that may not read a :data:`POLICY_FILTERED` resource."""
        if self.member in POLICY_FILTERED and not req.allowed(f"get_{self.member}", item):
            raise errors.HiddenByPolicy()

    @route.get("", policy="get_{member}")
    def index(self, req: ApiRequest):
        target = {"project_id": req.caller.project_id, "shared": True, "router:external": True}
        if self.member in POLICY_FILTERED and not req.permits(target):
            return render.collection(req, self.member, self.plural, [], Paging())
        req.authorize(target=target)
        items, paging = self.manager.list(req.caller, self.collection, req.query)
        return render.collection(req, self.member, self.plural, items, paging)

    @route.get("/{resource_id}", policy="get_{member}")
    def show(self, req: ApiRequest):
        item = self.manager.get(req.caller, self.collection, req.path_params["resource_id"])
        self._hidden(req, item)
        req.authorize(target=self._target(item))
        return render.one(req, self.member, item)

    @route.post("", policy="create_{member}")
    def create(self, req: ApiRequest):
        # One body (``{member: {...}}``) or many (``{plural: [...]}``): the schema depends
        # on which, so the handler validates.
        body = inputs.json_body(req)
        member, plural = self.member, self.plural
        if isinstance(body, dict) and plural in body and member not in body:
            # Bulk create: {"networks": [{...}, …]} → 201 {"networks": [...]}, all or nothing.
            # Each item bare or wrapped in its member key, as Neutron's prepare_request_body takes it.
            items = validate(body, bulk_schema(plural))[plural]
            attrs = [_authorized(req, self.manager, member, item if member in item else {member: item})
                     for item in items]
            created = self.manager.create_many(req.caller, self.collection, attrs)
            return json_response({plural: [render.one(req, member, item)[member] for item in created]}, status=201)
        item = self.manager.create(req.caller, self.collection, _authorized(req, self.manager, member, body))
        return json_response(render.one(req, member, item), status=201)

    @route.put("/{resource_id}", policy="update_{member}", body=MEMBER_UPDATE)
    def update(self, req: ApiRequest):
        attrs = dict(req.data[self.member])
        item = self.manager.get(req.caller, self.collection, req.path_params["resource_id"])
        for key in ("project_id", "tenant_id"):
            if key in attrs and attrs[key] == item["project_id"]:
                del attrs[key]  # restating the owner is not a change
        self._hidden(req, item)
        omitted = UPDATE_TARGET_OMITS.get(self.member, ())
        if omitted and not req.permits(item) and not req.allowed(
                f"get_{self.member}", {k: v for k, v in item.items() if k not in omitted}):
            raise errors.HiddenByPolicy()
        req.authorize(target=self._target(item))
        _attribute_rules(req, "update", self.member, attrs, update_target(self.manager, self.member, item, attrs))
        item = self.manager.update(req.caller, self.collection, item["id"], attrs, render.if_match_revision(req))
        return render.one(req, self.member, item)

    @route.delete("/{resource_id}", policy="delete_{member}")
    def delete(self, req: ApiRequest):
        item = self.manager.get(req.caller, self.collection, req.path_params["resource_id"])
        self._hidden(req, item)
        req.authorize(target=self._target(item))
        self.manager.delete(req.caller, self.collection, item["id"])


class ResourceTagsApi(CollectionRoutes):
    """Tags of one collection's resources (Neutron's standard-attr-tag extension)."""

    def _tagged(self, req: ApiRequest) -> str:
        """The id of the resource whose tags the request names, once policy allows."""
        item = self.manager.get(req.caller, self.collection, req.path_params["resource_id"])
        req.authorize(target=item)
        return item["id"]

    @route.get("/{resource_id}/tags", policy="get_{member}")
    def list_tags(self, req: ApiRequest):
        return {"tags": self.manager.tags(req.caller, self.collection, self._tagged(req))}

    @route.put("/{resource_id}/tags", policy="create_tags", body=TAGS_BODY)
    def replace_tags(self, req: ApiRequest):
        tags = req.data["tags"]
        return {"tags": self.manager.set_tags(req.caller, self.collection, self._tagged(req), tags)}

    @route.delete("/{resource_id}/tags", policy="create_tags")
    def delete_all_tags(self, req: ApiRequest):
        self.manager.remove_tag(req.caller, self.collection, self._tagged(req), None)

    @route.get("/{resource_id}/tags/{tag}", policy="get_{member}")
    def check_tag(self, req: ApiRequest):
        if req.path_params["tag"] not in self.manager.tags(req.caller, self.collection, self._tagged(req)):
            raise errors.TagNotFound(id=req.path_params["tag"])

    @route.put("/{resource_id}/tags/{tag}", policy="create_tags")
    def add_tag(self, req: ApiRequest):
        self.manager.add_tag(req.caller, self.collection, self._tagged(req), req.path_params["tag"])
        return Response(status_code=201)

    @route.delete("/{resource_id}/tags/{tag}", policy="create_tags")
    def delete_tag(self, req: ApiRequest):
        self.manager.remove_tag(req.caller, self.collection, self._tagged(req), req.path_params["tag"])


class UntaggableApi:
    """Tags of anything that is not a taggable collection: Neutron's 404 naming it."""

    base = "/v2.0/{collection}/{resource_id}/tags"

    @staticmethod
    def refuse(req: ApiRequest):
        raise errors.ResourceNotFound(id=req.path_params["collection"])

    @route.get(base)
    def list_tags(self, req: ApiRequest):
        self.refuse(req)

    @route.put(base)
    def replace_tags(self, req: ApiRequest):
        self.refuse(req)

    @route.delete(base)
    def delete_all_tags(self, req: ApiRequest):
        self.refuse(req)

    @route.get(base + "/{tag}")
    def check_tag(self, req: ApiRequest):
        self.refuse(req)

    @route.put(base + "/{tag}")
    def add_tag(self, req: ApiRequest):
        self.refuse(req)

    @route.delete(base + "/{tag}")
    def delete_tag(self, req: ApiRequest):
        self.refuse(req)
