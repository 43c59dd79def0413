"""Request bodies of the Neutron API as JSON Schema (a mismatch is a 400 naming the field).

A resource body's attributes are exactly those of the extensions this service lists:
an attribute of an extension it does not implement (``distributed``, ``ha``, DNS,
availability zones…) is refused like any unknown one, with Neutron's "Unrecognized
attribute(s)" (see ``inputs.check_attributes``) -- never accepted and dropped, which
would let a client believe it got what it asked for.  Each resource schema carries the
attributes Neutron shows but never takes (``x-read-only``), which are refused as
read-only instead, and whether it is a create's (``x-create``).
"""

from __future__ import annotations

from typing import Any

Schema = dict[str, Any]
STR: Schema = {"type": "string", "maxLength": 255}
NULL_STR = {"type": ["string", "null"], "maxLength": 255}
ID = {"type": "string", "minLength": 1, "maxLength": 64}
NULL_ID = {"type": ["string", "null"], "maxLength": 64}
BOOL = {"type": "boolean"}
# ``default`` is Neutron's: an attribute rule (``create_network:shared``) is not checked
# for a create that sets the attribute to its default (``resources._attribute_rules``).
DEFAULT_FALSE = {"type": "boolean", "default": False}
INT = {"type": "integer"}
NULL_INT = {"type": ["integer", "null"]}
PORT_NUMBER = {"type": ["integer", "null", "string"]}
TAGS = {"type": "array", "items": {"type": "string"}}
IPS = {"type": "array", "items": {"type": "string"}}
FIXED_IPS = {"type": ["array", "null"], "items": {"type": "object", "properties": {
    "subnet_id": ID, "ip_address": STR}, "additionalProperties": False}}
POOLS = {"type": ["array", "null"], "items": {"type": "object", "required": ["start", "end"], "properties": {
    "start": STR, "end": STR}, "additionalProperties": False}}
ROUTES = {"type": ["array", "null"], "items": {"type": "object", "required": ["destination", "nexthop"],
                                               "properties": {"destination": STR, "nexthop": STR},
                                               "additionalProperties": False}}
PAIRS = {"type": ["array", "null"], "items": {"type": "object", "required": ["ip_address"], "properties": {
    "ip_address": STR, "mac_address": STR}, "additionalProperties": False}}
GATEWAY = {"type": ["object", "null"], "properties": {
    "network_id": ID, "enable_snat": BOOL, "external_fixed_ips": FIXED_IPS}, "additionalProperties": False}
# Neutron converts ip_version to an integer before checking it is 4 or 6.
IP_VERSION = {"enum": [4, 6, "4", "6"]}
LONG_DESCRIPTION = {"type": "string", "maxLength": 1024}
NULL_LONG_DESCRIPTION = {"type": ["string", "null"], "maxLength": 1024}
NULL_BOOL = {"type": ["boolean", "null"]}
COMMON: dict[str, Schema] = {"name": STR, "description": STR, "project_id": ID, "tenant_id": ID, "tags": TAGS}

ATTRIBUTES: dict[str, dict[str, Schema]] = {
    "network": {"admin_state_up": BOOL, "shared": DEFAULT_FALSE, "router:external": DEFAULT_FALSE,
                "is_default": DEFAULT_FALSE,
                "mtu": {"type": ["integer", "string"]}, "port_security_enabled": BOOL,
                "provider:network_type": STR,
                "provider:physical_network": {"type": ["string", "null"], "maxLength": 64},  # the column's
                "provider:segmentation_id": NULL_INT, "qos_policy_id": NULL_STR},
    "subnet": {"network_id": ID, "ip_version": IP_VERSION, "cidr": NULL_STR, "gateway_ip": NULL_STR,
               "enable_dhcp": BOOL, "allocation_pools": POOLS, "dns_nameservers": {"type": ["array", "null"],
                                                                                   "items": STR},
               "host_routes": ROUTES, "ipv6_ra_mode": NULL_STR, "ipv6_address_mode": NULL_STR,
               "subnetpool_id": NULL_ID, "prefixlen": {"type": ["integer", "string"]},
               "use_default_subnetpool": BOOL},
    "subnetpool": {"prefixes": IPS, "default_prefixlen": {"type": ["integer", "string"]},
                   "min_prefixlen": {"type": ["integer", "string"]}, "max_prefixlen": {"type": ["integer", "string"]},
                   "shared": DEFAULT_FALSE, "is_default": DEFAULT_FALSE,
                   "default_quota": {"type": ["integer", "string", "null"]}, "address_scope_id": NULL_ID},
    "port": {"network_id": ID, "admin_state_up": BOOL, "mac_address": STR, "fixed_ips": FIXED_IPS,
             "device_id": STR, "device_owner": {**STR, "default": ""}, "binding:host_id": NULL_STR,
             "binding:vnic_type": STR,
             "binding:profile": {"type": ["object", "null"]}, "allowed_address_pairs": PAIRS,
             "port_security_enabled": BOOL, "security_groups": {"type": ["array", "null"], "items": ID},
             "extra_dhcp_opts": {},  # checked with Neutron's key specs and messages (dhcp_opts)
             "qos_policy_id": NULL_STR},
    "router": {"admin_state_up": BOOL, "external_gateway_info": GATEWAY, "routes": ROUTES, "flavor_id": NULL_ID},
    "floatingip": {"floating_network_id": ID, "floating_ip_address": NULL_STR, "subnet_id": NULL_ID,
                   "port_id": NULL_ID, "fixed_ip_address": NULL_STR},
    "security_group": {"stateful": BOOL},
    "security_group_rule": {"security_group_id": ID, "direction": {"enum": ["ingress", "egress"]},
                            "ethertype": {"enum": ["IPv4", "IPv6"]}, "protocol": {"type": ["string", "integer",
                                                                                         "null"]},
                            "port_range_min": PORT_NUMBER, "port_range_max": PORT_NUMBER,
                            "remote_ip_prefix": NULL_STR, "remote_group_id": NULL_ID,
                            "remote_address_group_id": NULL_ID},
    "address_scope": {"shared": DEFAULT_FALSE, "ip_version": IP_VERSION},
    # object_type, object_id and target_tenant are checked with Neutron's messages (rbac).
    "rbac_policy": {"object_type": STR, "object_id": STR, "target_tenant": STR, "action": STR},
    # port_id and sub_ports are checked with Neutron's messages (trunks).
    "trunk": {"admin_state_up": BOOL, "port_id": {}, "sub_ports": {}},
    # A QoS policy (qos, qos-default); its rules' values are converted and checked with
    # Neutron's messages (qos.rule_values), so any JSON type passes here.
    "policy": {"shared": DEFAULT_FALSE, "is_default": DEFAULT_FALSE},
    "bandwidth_limit_rule": {"max_kbps": {}, "max_burst_kbps": {}, "direction": {}},
    "dscp_marking_rule": {"dscp_mark": {}},
    "minimum_bandwidth_rule": {"min_kbps": {}, "direction": {}},
    # addresses are checked with Neutron's messages (address_groups.create_addresses).
    "address_group": {"addresses": {}},
    # Metering (metering, metering_source_and_destination_fields): the prefixes are
    # checked with the metering plugin's messages (metering.validate_rule).
    "metering_label": {"description": LONG_DESCRIPTION, "shared": DEFAULT_FALSE},
    "metering_label_rule": {"metering_label_id": ID, "direction": {"enum": ["ingress", "egress"]},
                            "excluded": DEFAULT_FALSE, "remote_ip_prefix": {}, "source_ip_prefix": {},
                            "destination_ip_prefix": {}},
    # Flavors (flavors): service_type and service_profiles are checked with Neutron's
    # messages (flavors); no project, no standard attributes.
    "flavor": {"description": NULL_LONG_DESCRIPTION, "service_type": {"type": "string"},
               "enabled": NULL_BOOL, "service_profiles": {}},
    "service_profile": {"description": NULL_LONG_DESCRIPTION, "driver": {"type": "string", "maxLength": 1024},
                        "enabled": NULL_BOOL, "metainfo": {"type": ["string", "null"], "maxLength": 4096}},
}
METERING = ("metering_label", "metering_label_rule")
FLAVORS = ("flavor", "service_profile")
# The rules of a QoS policy: sub-resources with no standard attributes of their own.
QOS_RULES = ("bandwidth_limit_rule", "dscp_marking_rule", "minimum_bandwidth_rule")
# The standard attributes a body may carry, where not all of :data:`COMMON` (address
# scopes and RBAC policies have no description, tags or timestamps in Neutron).
COMMON_OF = {"address_scope": ("name", "project_id", "tenant_id"), "rbac_policy": ("project_id", "tenant_id"),
             "address_group": ("name", "description", "project_id", "tenant_id"),
             "metering_label": ("name", "project_id", "tenant_id"),
             "metering_label_rule": ("project_id", "tenant_id"), "flavor": ("name",), "service_profile": (),
             **{rule: () for rule in QOS_RULES}}
# Those without Neutron's standard attributes (timestamps, revision): only ``id`` is read-only.
NOT_STANDARD = {"address_scope", "rbac_policy", *QOS_RULES, *METERING, *FLAVORS}
# Attributes Neutron's resource maps mark neither allow_post nor allow_put (of the
# extensions listed): "not allowed in POST" / "Cannot update read-only attribute".  (A
# core resource's ``id`` may be chosen on create in Neutron; pocketstack always picks it.)
STANDARD_READ_ONLY = ("id", "created_at", "updated_at", "revision_number")
READ_ONLY: dict[str, tuple[str, ...]] = {
    "network": ("status", "subnets", "ipv4_address_scope", "ipv6_address_scope"), "subnet": (),
    "subnetpool": ("ip_version",),
    "port": ("status", "binding:vif_type", "binding:vif_details"), "router": ("status",),
    "floatingip": ("status", "router_id"), "security_group": ("security_group_rules",),
    "security_group_rule": (), "address_scope": (), "rbac_policy": (), "trunk": ("status",), "policy": ("rules",),
    "address_group": ("shared",),
    **{rule: () for rule in QOS_RULES}, **{member: () for member in (*METERING, *FLAVORS)},
}
# Attributes a create takes but an update refuses as read-only before the resource is
# looked up (Neutron's ``allow_put: False``, checked with the body).
# A router's flavor (l3-flavors) is create-only; neither a metering label nor a rule
# changes: every attribute is create-only.
CREATE_ONLY: dict[str, tuple[str, ...]] = {
    "subnetpool": ("shared",), "router": ("flavor_id",),
    "metering_label": ("name", "description", "project_id", "tenant_id", "shared"),
    "metering_label_rule": ("metering_label_id", "direction", "excluded", "remote_ip_prefix", "source_ip_prefix",
                            "destination_ip_prefix", "project_id", "tenant_id")}
REQUIRED = {"address_scope": ["ip_version"], "rbac_policy": ["object_type", "object_id", "target_tenant", "action"],
            "subnet": ["network_id", "ip_version"], "port": ["network_id"], "subnetpool": ["prefixes"],
            "floatingip": ["floating_network_id"], "security_group_rule": ["security_group_id", "direction"],
            "trunk": ["port_id"], "metering_label_rule": ["metering_label_id", "direction"],
            "flavor": ["service_type"]}


def body_schema(member: str, create: bool) -> dict:
    common = {k: v for k, v in COMMON.items() if k in COMMON_OF.get(member, COMMON)}
    properties = {**common, **ATTRIBUTES[member]}
    standard = ("id",) if member in NOT_STANDARD else STANDARD_READ_ONLY
    read_only = [*standard, *READ_ONLY[member], *(() if create else CREATE_ONLY.get(member, ()))]
    inner = {"type": "object", "properties": properties, "additionalProperties": False,
             "x-read-only": read_only, "x-create": create}
    if create and member in REQUIRED:
        inner["required"] = REQUIRED[member]
    return {"type": "object", "required": [member], "properties": {member: inner}}


def bulk_schema(plural: str) -> dict:
    """The envelope of a bulk create: a non-empty list under the plural key (each item is
    then validated against the member's create schema)."""
    return {"type": "object", "required": [plural], "properties": {plural: {
        "type": "array", "minItems": 1, "items": {"type": "object"}}}}


SCHEMAS = {(member, create): body_schema(member, create) for member in ATTRIBUTES for create in (True, False)}
TAGS_BODY = {"type": "object", "required": ["tags"], "properties": {"tags": TAGS}}
INTERFACE_BODY = {"type": "object", "properties": {"subnet_id": ID, "port_id": ID}}
# add_extraroutes / remove_extraroutes: each route is checked as the router's routes are.
EXTRAROUTES_BODY = {"type": "object", "required": ["router"], "properties": {"router": {
    "type": "object", "required": ["routes"], "additionalProperties": False,
    "properties": {"routes": {"type": "array", "items": {"type": "object"}}}}}}
# add_addresses / remove_addresses: the list is checked with Neutron's messages (address_groups).
ADDRESSES_BODY = {"type": "object", "required": ["addresses"], "properties": {"addresses": {}}}
# POST /flavors/{id}/service_profiles: the profile's id (a UUID, checked by flavors.bind).
SERVICE_PROFILE_BINDING_BODY = {"type": "object", "required": ["service_profile"], "properties": {
    "service_profile": {"type": "object", "required": ["id"], "properties": {"id": {}},
                        "additionalProperties": False}}}
# add_subports / remove_subports: the items are checked with Neutron's messages (trunks).
SUBPORTS_BODY = {"type": "object", "required": ["sub_ports"], "properties": {"sub_ports": {}}}
QUOTA_BODY = {"type": "object", "required": ["quota"], "properties": {"quota": {
    "type": "object", "properties": {"force": {}}, "additionalProperties": {"type": ["integer", "string"]}}}}
