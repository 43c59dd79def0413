"""The network service's logic as one object: what the API and other services call.

Each public method is one transaction (:func:`context.transact`, retried on conflicts),
returns the API dicts Neutron returns, and hands committed changes to the datapath
driver.  Collections are named as in the URL (``"networks"``, ``"ports"`` …).
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from pocketstack.common.context import RequestContext
from pocketstack.common.pagination import Paging
from pocketstack.network import (
    access,
    address_groups,
    address_scopes,
    flavors,
    floatingips,
    host_fencing,
    ip_availability,
    metering,
    networks,
    ports,
    qos,
    quota,
    rbac,
    routers,
    scheduling,
    security_groups,
    store,
    subnetpools,
    subnets,
    tags,
    trunks,
    views,
)
from pocketstack.network.context import Env, Work, read, transact
from pocketstack.network.contract import QueryParams, Resource, Resources
from pocketstack.network.instances import InstanceNetworking
from pocketstack.network.models import (
    AddressGroup,
    AddressScope,
    DefaultSecurityGroup,
    Flavor,
    FloatingIp,
    MeteringLabel,
    MeteringLabelRule,
    Network,
    Port,
    QosPolicy,
    QosRule,
    Quota,
    RbacPolicy,
    Router,
    SecurityGroup,
    SecurityGroupRule,
    ServiceProfile,
    Subnet,
    SubnetPool,
    Trunk,
)

Tags = list[str]
# What a datapath driver is given of the network state, by its key in ``datapath_state``.
DATAPATH_MODELS: dict[str, type] = {
    "networks": Network, "subnets": Subnet, "ports": Port, "routers": Router, "floatingips": FloatingIp,
    "security_groups": SecurityGroup, "qos_policies": QosPolicy, "address_groups": AddressGroup,
    "metering_labels": MeteringLabel}
ProjectIds = list[str]
COLLECTIONS: dict[str, tuple[Any, Any]] = {
    "networks": (Network, networks), "subnets": (Subnet, subnets), "subnetpools": (SubnetPool, subnetpools),
    "ports": (Port, ports), "routers": (Router, routers), "floatingips": (FloatingIp, floatingips),
    "security-groups": (SecurityGroup, security_groups), "address-scopes": (AddressScope, address_scopes),
    "rbac-policies": (RbacPolicy, rbac), "trunks": (Trunk, trunks), "qos/policies": (QosPolicy, qos),
    "address-groups": (AddressGroup, address_groups),
    "metering/metering-labels": (MeteringLabel, metering), "metering/metering-label-rules": (MeteringLabelRule,
                                                                                            metering.Rules),
    "flavors": (Flavor, flavors), "service_profiles": (ServiceProfile, flavors.Profiles),
}
# The list filters of attributes that are not columns.
COMPUTED_FILTERS: dict[Any, Any] = {Port: store.port_filters, QosPolicy: qos.is_default_filter}


class NetworkManager(InstanceNetworking):
    """The Networking service's one public entry: the API calls it, and other services
    through :class:`~pocketstack.network.contract.NetworkContract`."""

    def __init__(self, env: Env):
        self.env = env

    # -- resources -----------------------------------------------------------------------
    def list(self, ctx: RequestContext, collection: str, query: QueryParams) -> tuple[Resources, Paging]:
        model, _ = COLLECTIONS[collection]
        if model is SecurityGroup and ctx.project_id:
            self.ensure_default_security_group(ctx, ctx.project_id)

        def work(w: Work):
            extra = COMPUTED_FILTERS[model](query) if model in COMPUTED_FILTERS else []
            rows, paging = store.list_rows(w.s, model, ctx, query, extra, skip={"fixed_ips"})
            return views.render(w.s, rows), paging
        return read(self.env, ctx, work)

    def get(self, ctx: RequestContext, collection: str, resource_id: str) -> Resource:
        model, _ = COLLECTIONS[collection]
        return read(self.env, ctx, lambda w: views.render_one(w.s, store.fetch(w.s, model, ctx, resource_id)))

    def create(self, ctx: RequestContext, collection: str, attrs: Resource) -> Resource:
        _, module = COLLECTIONS[collection]
        return transact(self.env, ctx, lambda w: views.render_one(w.s, module.create(w, attrs)))

    def create_many(self, ctx: RequestContext, collection: str, items: Resources) -> Resources:
        """Bulk create: every item or none (one transaction), like Neutron's native bulk."""
        _, module = COLLECTIONS[collection]
        return transact(self.env, ctx, lambda w: [views.render_one(w.s, module.create(w, attrs)) for attrs in items])

    def update(self, ctx: RequestContext, collection: str, resource_id: str, attrs: Resource,
               revision: int | None = None) -> Resource:
        _, module = COLLECTIONS[collection]
        return transact(self.env, ctx, lambda w: views.render_one(w.s, module.update(w, resource_id, attrs,
                                                                                      revision)))

    def delete(self, ctx: RequestContext, collection: str, resource_id: str) -> None:
        _, module = COLLECTIONS[collection]
        transact(self.env, ctx, lambda w: module.delete(w, resource_id))

    def is_shared_with(self, network_id: str, project_id: str | None) -> bool:
        """Whether an RBAC policy shares the network with ``project_id`` (or with all)."""
        return read(self.env, RequestContext.admin(), lambda w: access.is_shared_with(w.s, network_id, project_id))

    # -- security group rules --------------------------------------------------------------
    def ensure_default_security_group(self, ctx: RequestContext, project_id: str) -> None:
        exists = read(self.env, ctx, lambda w: w.s.get(DefaultSecurityGroup, project_id) is not None)
        if not exists:
            transact(self.env, ctx, lambda w: security_groups.default_group(w, project_id))

    def list_rules(self, ctx: RequestContext, query: QueryParams) -> tuple[Resources, Paging]:
        def work(w: Work):
            rows, paging = store.list_rows(w.s, SecurityGroupRule, ctx, query)
            return [views.rule(r) for r in rows], paging
        return read(self.env, ctx, work)

    def get_rule(self, ctx: RequestContext, rule_id: str) -> Resource:
        return read(self.env, ctx, lambda w: views.rule(security_groups.fetch_rule(w, rule_id)))

    def create_rule(self, ctx: RequestContext, attrs: Resource) -> Resource:
        return transact(self.env, ctx, lambda w: views.rule(security_groups.create_rule(w, attrs)))

    def delete_rule(self, ctx: RequestContext, rule_id: str) -> None:
        transact(self.env, ctx, lambda w: security_groups.delete_rule(w, rule_id))

    # -- QoS policy rules --------------------------------------------------------------------
    def list_qos_rules(self, ctx: RequestContext, policy_id: str, rule_type: str,
                       query: QueryParams) -> tuple[Resources, Paging]:
        def work(w: Work):
            rows, paging = store.list_rows(w.s, QosRule, ctx, query, [QosRule.qos_policy_id == policy_id,
                                                                      QosRule.type == rule_type])
            return [views.qos_rule(r) for r in rows], paging
        return read(self.env, ctx, work)

    def get_qos_rule(self, ctx: RequestContext, policy_id: str, rule_type: str, rule_id: str) -> Resource:
        def work(w: Work):
            return views.qos_rule(qos.fetch_rule(w, store.fetch(w.s, QosPolicy, ctx, policy_id), rule_type, rule_id))
        return read(self.env, ctx, work)

    def find_qos_rule(self, ctx: RequestContext, rule_type: str, rule_id: str) -> tuple[str, Resource]:
        """A rule by id alone: its policy's id and the rule."""
        def work(w: Work):
            rule = qos.find_rule(w, rule_type, rule_id)
            return rule.qos_policy_id, views.qos_rule(rule)
        return read(self.env, ctx, work)

    def create_qos_rule(self, ctx: RequestContext, policy_id: str, rule_type: str, attrs: Resource) -> Resource:
        return transact(self.env, ctx, lambda w: views.qos_rule(qos.create_rule(w, policy_id, rule_type, attrs)))

    def update_qos_rule(self, ctx: RequestContext, policy_id: str, rule_type: str, rule_id: str,
                        attrs: Resource) -> Resource:
        return transact(self.env, ctx, lambda w: views.qos_rule(qos.update_rule(w, policy_id, rule_type, rule_id,
                                                                                attrs)))

    def delete_qos_rule(self, ctx: RequestContext, policy_id: str, rule_type: str, rule_id: str) -> None:
        transact(self.env, ctx, lambda w: qos.delete_rule(w, policy_id, rule_type, rule_id))

    # -- router interfaces -------------------------------------------------------------------
    def add_router_interface(self, ctx: RequestContext, router_id: str, body: Resource) -> Resource:
        return transact(self.env, ctx, lambda w: routers.add_interface(w, router_id, body))

    def remove_router_interface(self, ctx: RequestContext, router_id: str, body: Resource) -> Resource:
        return transact(self.env, ctx, lambda w: routers.remove_interface(w, router_id, body))

    def change_extra_routes(self, ctx: RequestContext, router_id: str, routes: Resources, add: bool) -> Resource:
        return transact(self.env, ctx, lambda w: views.render_one(w.s, routers.change_routes(w, router_id, routes,
                                                                                             add)))

    # -- trunk subports ------------------------------------------------------------------------
    def change_subports(self, ctx: RequestContext, trunk_id: str, sub_ports: Any, add: bool) -> Resource:
        """add_subports / remove_subports: the trunk as it is after the change."""
        change = trunks.add_subports if add else trunks.remove_subports
        return transact(self.env, ctx, lambda w: views.render_one(w.s, change(w, trunk_id, sub_ports)))

    def trunk_wired(self, trunk_id: str, status: str, subports: dict[str, str]) -> None:
        """An agent's report on a trunk it wires (:func:`.trunks.report_wiring`)."""
        transact(self.env, RequestContext.admin(), lambda w: trunks.report_wiring(w, trunk_id, status, subports))

    # -- address group addresses ---------------------------------------------------------------
    def change_addresses(self, ctx: RequestContext, group_id: str, addresses: Any, add: bool,
                         revision: int | None = None) -> Resource:
        """add_addresses / remove_addresses: the group as it is after the change."""
        return transact(self.env, ctx, lambda w: views.render_one(
            w.s, address_groups.change_addresses(w, group_id, addresses, add, revision)))

    # -- flavors' service profiles ------------------------------------------------------------
    def bind_service_profile(self, ctx: RequestContext, flavor_id: str, profile_id: Any) -> str:
        return transact(self.env, ctx, lambda w: flavors.bind(w, flavor_id, profile_id))

    def unbind_service_profile(self, ctx: RequestContext, flavor_id: str, profile_id: str) -> None:
        transact(self.env, ctx, lambda w: flavors.unbind(w, flavor_id, profile_id))

    def ip_availabilities(self, ctx: RequestContext, filters: dict[str, Any]) -> Resources:
        return read(self.env, ctx, lambda w: ip_availability.availabilities(w, filters))

    # -- tags ------------------------------------------------------------------------------
    def tags(self, ctx: RequestContext, collection: str, resource_id: str) -> Tags:
        model, _ = COLLECTIONS[collection]
        return read(self.env, ctx, lambda w: tags.get(w, model, resource_id))

    def set_tags(self, ctx: RequestContext, collection: str, resource_id: str, values: Tags) -> Tags:
        model, _ = COLLECTIONS[collection]
        return transact(self.env, ctx, lambda w: tags.replace(w, model, resource_id, values))

    def add_tag(self, ctx: RequestContext, collection: str, resource_id: str, tag: str) -> None:
        model, _ = COLLECTIONS[collection]
        transact(self.env, ctx, lambda w: tags.add(w, model, resource_id, tag))

    def remove_tag(self, ctx: RequestContext, collection: str, resource_id: str, tag: str | None) -> None:
        model, _ = COLLECTIONS[collection]
        transact(self.env, ctx, lambda w: tags.remove(w, model, resource_id, tag))

    # -- quotas ------------------------------------------------------------------------------
    def quota_limits(self, project_id: str) -> dict[str, int]:
        with self.env.db.session(readonly=True) as s:
            return quota.limits(s, project_id, self.env.quota_defaults)

    def quota_defaults(self) -> dict[str, int]:
        return dict(self.env.quota_defaults)

    def quota_details(self, project_id: str) -> dict[str, dict]:
        with self.env.db.session(readonly=True) as s:
            limits, used = quota.limits(s, project_id, self.env.quota_defaults), quota.usage(s, project_id)
        return {r: {"limit": limit, "used": used.get(r, 0), "reserved": 0} for r, limit in limits.items()}

    def set_quota(self, ctx: RequestContext, project_id: str, values: dict[str, int]) -> dict[str, int]:
        transact(self.env, ctx, lambda w: quota.set_limits(w.s, project_id, values))
        return self.quota_limits(project_id)

    def reset_quota(self, ctx: RequestContext, project_id: str) -> None:
        transact(self.env, ctx, lambda w: quota.reset(w.s, project_id))

    def projects_with_quotas(self) -> ProjectIds:
        with self.env.db.session(readonly=True) as s:
            return list(s.scalars(sa.select(Quota.project_id).distinct()))

    # -- datapath ----------------------------------------------------------------------------
    def reschedule_dead_agents(self) -> tuple[str, ...]:
        """Move dead agents' routers and DHCP networks to alive ones (:mod:`.scheduling`)."""
        return tuple(transact(self.env, RequestContext.admin(), scheduling.reschedule_dead))

    def fence_host(self, host: str) -> str:
        """Cut a fenced compute host off the network (:mod:`.host_fencing`)."""
        return transact(self.env, RequestContext.admin(), lambda w: host_fencing.fence_host(w, host))

    def datapath_state(self) -> dict[str, Resources]:
        """Everything a driver needs to rebuild the data plane (replayed on start)."""
        def work(w: Work):
            state = {name: views.render(w.s, list(w.s.scalars(sa.select(model))))
                     for name, model in DATAPATH_MODELS.items() if model is not MeteringLabel}
            state["metering_labels"] = [views.metering_label_with_rules(w.s, label)
                                        for label in w.s.scalars(sa.select(MeteringLabel))]
            return state
        return read(self.env, RequestContext.admin(), work)

    def datapath_item(self, kind: str, item_id: str) -> Resource | None:
        """One object of ``datapath_state``'s ``kind`` as its event carries it (a router with
        its ``interfaces``), or None when it is gone (:mod:`.drivers.current_state`)."""
        def work(w: Work) -> Resource | None:
            row = w.s.get(DATAPATH_MODELS[kind], item_id)
            if row is None:
                return None
            if kind == "metering_labels":
                return views.metering_label_with_rules(w.s, row)
            payload = views.render_one(w.s, row)
            if kind == "routers":
                payload["interfaces"] = views.ports(w.s, routers.interfaces(w, item_id))
            return payload
        return read(self.env, RequestContext.admin(), work)
