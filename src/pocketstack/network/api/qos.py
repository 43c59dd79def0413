"""The QoS routes besides the policies themselves (which are one more row of
:data:`.resources.RESOURCES`): each rule type's routes under a policy, the same rules by
id alone (``qos-rules-alias``), and the rule types.

One :class:`QosRulesApi` per rule type serves ``/v2.0/qos/policies/{policy_id}/<type>_rules``
and one :class:`QosRuleAliasApi` ``/v2.0/qos/alias_<type>_rules``; their declared rules
name the type left open (``get_policy_{type}_rule``), filled in by ``adapt_route`` as the
collections' routes do.  A rule's policy target is its policy's owner
(``ext_parent_project_id``, Neutron's parent-owner check); a rule the caller may not read
is a 404, as Neutron answers a GET refused by policy.
"""

from __future__ import annotations

import dataclasses

from pocketstack.common.api.request import ApiRequest, json_response
from pocketstack.common.api.routes import RouteSpec, route
from pocketstack.common.context import RequestContext
from pocketstack.network import errors
from pocketstack.network.api import render
from pocketstack.network.api.schemas import SCHEMAS
from pocketstack.network.manager import NetworkManager
from pocketstack.network.qos import RULE_TYPES

# The body of a create or update: the rule type's schema, filled in by ``adapt_route``
# (under ``alias_<type>_rule`` for ALIAS_BODY).
RULE_BODY: dict = {"x-pocketstack": "the rule type's schema"}
ALIAS_BODY: dict = {"x-pocketstack": "the rule type's update schema, under its alias key"}
# What each driver supports, as ``/v2.0/qos/rule-types/{type}`` details it: the values the
# API takes (the Linux datapath enforces bandwidth limits only; docs/network.md).
KBPS_RANGE: dict = {"parameter_type": "range", "parameter_values": {"start": 0, "end": 2 ** 31 - 1}}
PARAMETERS: dict[str, dict] = {
    "max_kbps": KBPS_RANGE, "max_burst_kbps": KBPS_RANGE, "min_kbps": KBPS_RANGE,
    "direction": {"parameter_type": "choices", "parameter_values": ["ingress", "egress"]},
    "dscp_mark": {"parameter_type": "choices", "parameter_values": [0, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28,
                                                                     30, 32, 34, 36, 38, 40, 44, 46, 48, 56]},
}
DRIVER = "pocketstack"


def _parent_target(manager: NetworkManager, policy_id: str, rule: dict | None = None) -> dict:
    """The target of a rule's policy check: the rule and its policy's owner (the policy
    looked up as an admin, as Neutron's parent-owner check does)."""
    policy = manager.get(RequestContext.admin(), "qos/policies", policy_id)
    return {**(rule or {}), "ext_parent_project_id": policy["project_id"], "project_id": policy["project_id"]}


class _RuleRoutes:
    """What the routes of one rule type share: its names and the body schema."""

    def __init__(self, manager: NetworkManager, rule_type: str):
        self.manager = manager
        self.rule_type = rule_type
        self.member = f"{rule_type}_rule"
        self.plural = f"{rule_type}_rules"

    def adapt_route(self, spec: RouteSpec) -> RouteSpec:
        body = spec.body
        if body and body[0][1] == RULE_BODY:
            body = ((None, SCHEMAS[(self.member, spec.method == "POST")]),)
        elif body and body[0][1] == ALIAS_BODY:
            key = f"alias_{self.member}"
            inner = SCHEMAS[(self.member, False)]["properties"][self.member]
            body = ((None, {"type": "object", "required": [key], "properties": {key: inner}}),)
        return dataclasses.replace(spec, policy=spec.policy.format(type=self.rule_type) if spec.policy else None,
                                   body=body)

    @staticmethod
    def readable(req: ApiRequest, target: dict) -> bool:
        """Whether the route's read rule lets the caller see the rule (Neutron hides
        what a GET's policy refuses: a 404, or no item in a listing)."""
        return req.permits(target)


class QosRulesApi(_RuleRoutes):
    """``/v2.0/qos/policies/{policy_id}/<type>_rules``: list, create, show, update, delete."""

    def _policy_id(self, req: ApiRequest) -> str:
        """The policy named in the URL, if the caller sees it (404 QosPolicyNotFound)."""
        return self.manager.get(req.caller, "qos/policies", req.path_params["policy_id"])["id"]

    @route.get("", policy="get_policy_{type}_rule")
    def index(self, req: ApiRequest):
        policy_id = self._policy_id(req)
        target = _parent_target(self.manager, policy_id)
        items, paging = self.manager.list_qos_rules(req.caller, policy_id, self.rule_type, req.query)
        if not self.readable(req, target):
            items = []
        return render.collection(req, self.member, self.plural, items, paging)

    @route.get("/{rule_id}", policy="get_policy_{type}_rule")
    def show(self, req: ApiRequest):
        policy_id = self._policy_id(req)
        rule = self.manager.get_qos_rule(req.caller, policy_id, self.rule_type, req.path_params["rule_id"])
        if not self.readable(req, _parent_target(self.manager, policy_id, rule)):
            raise errors.HiddenByPolicy()
        return render.one(req, self.member, rule)

    @route.post("", policy="create_policy_{type}_rule", body=RULE_BODY)
    def create(self, req: ApiRequest):
        # Checked against the policy as an admin finds it: another project's policy is a
        # 403 (a create is refused, not hidden), a missing one a 404.
        policy_id = req.path_params["policy_id"]
        req.authorize(target=_parent_target(self.manager, policy_id, req.data[self.member]))
        rule = self.manager.create_qos_rule(req.caller, policy_id, self.rule_type, req.data[self.member])
        return json_response(render.one(req, self.member, rule), status=201)

    @route.put("/{rule_id}", policy="update_policy_{type}_rule", body=RULE_BODY)
    def update(self, req: ApiRequest):
        policy_id = self._policy_id(req)
        rule = self.manager.get_qos_rule(req.caller, policy_id, self.rule_type, req.path_params["rule_id"])
        req.authorize(target=_parent_target(self.manager, policy_id, rule))
        rule = self.manager.update_qos_rule(req.caller, policy_id, self.rule_type, rule["id"], req.data[self.member])
        return render.one(req, self.member, rule)

    @route.delete("/{rule_id}", policy="delete_policy_{type}_rule")
    def delete(self, req: ApiRequest):
        policy_id = self._policy_id(req)
        rule = self.manager.get_qos_rule(req.caller, policy_id, self.rule_type, req.path_params["rule_id"])
        req.authorize(target=_parent_target(self.manager, policy_id, rule))
        self.manager.delete_qos_rule(req.caller, policy_id, self.rule_type, rule["id"])


class QosRuleAliasApi(_RuleRoutes):
    """``/v2.0/qos/alias_<type>_rules/{rule_id}`` (``qos-rules-alias``): a rule by its id
    alone; the body is ``{"alias_<type>_rule": {...}}``."""

    def adapt_route(self, spec: RouteSpec) -> RouteSpec:
        spec = super().adapt_route(spec)
        return dataclasses.replace(spec, path=spec.path.replace("{type}", self.rule_type))

    def _rule(self, req: ApiRequest) -> tuple[str, dict]:
        policy_id, rule = self.manager.find_qos_rule(req.caller, self.rule_type, req.path_params["rule_id"])
        return policy_id, rule

    @route.get("/v2.0/qos/alias_{type}_rules/{rule_id}", policy="get_alias_{type}_rule")
    def show(self, req: ApiRequest):
        policy_id, rule = self._rule(req)
        if not self.readable(req, _parent_target(self.manager, policy_id, rule)):
            raise errors.HiddenByPolicy()
        return render.one(req, f"alias_{self.member}", rule)

    @route.put("/v2.0/qos/alias_{type}_rules/{rule_id}", policy="update_alias_{type}_rule", body=ALIAS_BODY)
    def update(self, req: ApiRequest):
        policy_id, rule = self._rule(req)
        req.authorize(target=_parent_target(self.manager, policy_id, rule))
        key = f"alias_{self.member}"
        rule = self.manager.update_qos_rule(req.caller, policy_id, self.rule_type, rule["id"], req.data[key])
        return render.one(req, key, rule)

    @route.delete("/v2.0/qos/alias_{type}_rules/{rule_id}", policy="delete_alias_{type}_rule")
    def delete(self, req: ApiRequest):
        policy_id, rule = self._rule(req)
        req.authorize(target=_parent_target(self.manager, policy_id, rule))
        self.manager.delete_qos_rule(req.caller, policy_id, self.rule_type, rule["id"])


# Neutron's VALID_RULE_TYPES: the packet-rate types are known, and no driver here has them.
KNOWN_RULE_TYPES = (*RULE_TYPES, "minimum_packet_rate", "packet_rate_limit")


def _rule_type(rule_type: str) -> dict:
    if rule_type not in RULE_TYPES:
        return {"type": rule_type, "drivers": []}
    return {"type": rule_type, "drivers": [{"name": DRIVER, "supported_parameters": [
        {"parameter_name": name, **PARAMETERS[name]} for name in RULE_TYPES[rule_type]]}]}


class QosRuleTypesApi:
    """``/v2.0/qos/rule-types`` (and ``qos-rule-type-details``: one type's drivers, for
    admins only -- Neutron's plugin refuses others with NotAuthorized)."""

    @route.get("/v2.0/qos/rule-types", policy="get_rule_type")
    def index(self, req: ApiRequest):
        req.authorize()
        items = [{"type": t} for t in sorted(RULE_TYPES)]
        return {"rule_types": [render.select_fields(req, item) for item in items]}

    @route.get("/v2.0/qos/rule-types/{rule_type}", policy="get_rule_type")
    def show(self, req: ApiRequest):
        req.authorize()
        if not req.caller.is_admin:
            raise errors.NotAuthorized()
        rule_type = req.path_params["rule_type"]
        if rule_type not in KNOWN_RULE_TYPES:
            raise errors.InvalidRuleType(rule_type=rule_type)
        return {"rule_type": render.select_fields(req, _rule_type(rule_type))}
