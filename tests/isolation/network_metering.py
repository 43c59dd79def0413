"""Neutron's metering labels and rules, and its service flavors and profiles, in the
isolation matrix.

Expectations from neutron/conf/policies/metering.py (a project's managers and admins
make and delete labels and rules, its readers read them: the matrix's members are no
managers, so only the admin makes project A's label here), neutron/conf/policies/flavor.py
(admins write flavors and profiles; every reader reads flavors, only admins profiles),
and Neutron's policy hook: 404 for what the caller may not see (another project's label
and its rules; a profile, for anyone but an admin, whose list is empty), 403 for what it
sees but may not change.  Neither a label nor a rule changes after create: an update is
every caller's 400 (the body is checked before the policy).
"""

from __future__ import annotations

from conftest import unique
from isolation.matrix import (
    ADMIN_ONLY,
    BAD_REQUEST,
    CREATE,
    EVERYONE,
    FORBIDDEN,
    LISTED,
    NOT_FOUND,
    OK,
    OWN_LIST,
    OWN_READ,
    UNLISTED,
    Op,
    Resource,
    expect,
)
from isolation.network import N, create

LABELS, RULES = "metering/metering-labels", "metering/metering-label-rules"
# A's label or rule: A's members and readers see it and may not delete it; B does not see it.
OWN_ADMIN_DELETES = expect(OK, FORBIDDEN, FORBIDDEN, NOT_FOUND, NOT_FOUND)
ALL_BAD_REQUEST = expect(BAD_REQUEST, BAD_REQUEST, BAD_REQUEST, BAD_REQUEST, BAD_REQUEST)
ADMIN_SEES = expect(OK, NOT_FOUND, NOT_FOUND, NOT_FOUND, NOT_FOUND)


def make_metering_label(w) -> dict:
    """Project A's label (made by the admin: A's members are no managers)."""
    label = create(w, "admin", LABELS, "metering_label", {"name": unique("iso-ml"), "project_id": str(w.project("a"))})
    return {"id": label["id"]}


def make_metering_rule(w) -> dict:
    label = str(w.fresh("metering_label"))
    rule = create(w, "admin", RULES, "metering_label_rule", {
        "metering_label_id": label, "direction": "ingress", "remote_ip_prefix": "10.70.0.0/16"})
    return {"id": rule["id"], "label": label}


def make_flavor(w) -> dict:
    return {"id": create(w, "admin", "flavors", "flavor", {"name": unique("iso-fl"),
                                                           "service_type": "L3_ROUTER_NAT"})["id"]}


def make_routable_flavor(w) -> dict:
    """A flavor with a profile of the listed L3 provider bound: routers may name it."""
    flavor = make_flavor(w)["id"]
    profile = create(w, "admin", "service_profiles", "service_profile", {
        "driver": "neutron.services.l3_router.service_providers.single_node.SingleNodeDriver"})
    w.call("POST", f"{N}/flavors/{flavor}/service_profiles", "admin", json={"service_profile": {"id": profile["id"]}})
    return {"id": flavor}


def make_service_profile(w) -> dict:
    return {"id": create(w, "admin", "service_profiles", "service_profile", {"metainfo": "{}"})["id"]}


RESOURCES = [
    Resource("metering_label", make_metering_label),
    Resource("metering_rule", make_metering_rule),
    Resource("net_flavor", make_flavor),
    Resource("service_profile", make_service_profile),
    Resource("bound_profile", make_service_profile),
    Resource("routable_flavor", make_routable_flavor),
]
LABEL = f"{N}/{LABELS}/{{metering_label}}"
RULE = f"{N}/{RULES}/{{metering_rule}}"
FLAVOR = N + "/flavors/{net_flavor}"
PROFILE = N + "/service_profiles/{service_profile}"
OPS = [
    Op("metering_label", "list", "GET", f"{N}/{LABELS}", OWN_LIST, watch="{metering_label}", everywhere=True),
    Op("metering_label", "show", "GET", LABEL, OWN_READ, everywhere=True),
    Op("metering_label", "create", "POST", f"{N}/{LABELS}", ADMIN_ONLY, body={"metering_label": {"name": "{new}"}}),
    Op("metering_label", "update", "PUT", LABEL, ALL_BAD_REQUEST, body={"metering_label": {"name": "{new}"}}),
    Op("metering_label", "delete", "DELETE", LABEL, OWN_ADMIN_DELETES, consumes="metering_label", everywhere=True),
    Op("metering_rule", "list", "GET", f"{N}/{RULES}", OWN_LIST, watch="{metering_rule}"),
    Op("metering_rule", "show", "GET", RULE, OWN_READ),
    # A rule on A's label: B does not see the label (404).
    Op("metering_rule", "create", "POST", f"{N}/{RULES}", OWN_ADMIN_DELETES, consumes="metering_label",
       body={"metering_label_rule": {"metering_label_id": "{metering_label}", "direction": "egress",
                                     "remote_ip_prefix": "10.71.0.0/16"}}),
    Op("metering_rule", "delete", "DELETE", RULE, OWN_ADMIN_DELETES, consumes="metering_rule"),
    Op("metering_label", "rules-go-with-it", "GET", f"{N}/{RULES}?metering_label_id={{metering_rule.label}}",
       expect(LISTED, LISTED, LISTED, UNLISTED, UNLISTED), watch="{metering_rule}"),
    Op("net_flavor", "list", "GET", N + "/flavors", expect(LISTED, LISTED, LISTED, LISTED, LISTED),
       watch="{net_flavor}", everywhere=True),
    Op("net_flavor", "show", "GET", FLAVOR, EVERYONE, everywhere=True),
    Op("net_flavor", "create", "POST", N + "/flavors", ADMIN_ONLY,
       body={"flavor": {"name": "{new}", "service_type": "L3_ROUTER_NAT"}}),
    Op("net_flavor", "update", "PUT", FLAVOR, ADMIN_ONLY, body={"flavor": {"name": "{new}"}}),
    Op("net_flavor", "delete", "DELETE", FLAVOR, ADMIN_ONLY, consumes="net_flavor"),
    Op("net_flavor", "bind-profile", "POST", FLAVOR + "/service_profiles", ADMIN_ONLY, consumes="net_flavor",
       body={"service_profile": {"id": "{bound_profile}"}}),
    # l3-flavors: anyone who makes routers names the flavor (no policy of its own); the
    # flavor is then in use.
    Op("routable_flavor", "router-with-flavor", "POST", N + "/routers", CREATE,
       body={"router": {"name": "{new}", "flavor_id": "{routable_flavor}"}}),
    Op("service_profile", "list", "GET", N + "/service_profiles", expect(LISTED, UNLISTED, UNLISTED, UNLISTED,
                                                                         UNLISTED), watch="{service_profile}"),
    Op("service_profile", "show", "GET", PROFILE, ADMIN_SEES),
    Op("service_profile", "create", "POST", N + "/service_profiles", ADMIN_ONLY,
       body={"service_profile": {"metainfo": "{{}}"}}),
    Op("service_profile", "update", "PUT", PROFILE, ADMIN_SEES, body={"service_profile": {"description": "{new}"}}),
    Op("service_profile", "delete", "DELETE", PROFILE, ADMIN_SEES, consumes="service_profile"),
]
