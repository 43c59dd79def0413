"""Request bodies of the Neutron API as JSON Schema (a mismatch is a 400 naming the field).

A resource body's attributes are exactly those of the extensions this service lists:
an attribute of an extension it does not implement (``distributed``, ``ha``, DNS, QoS,
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
COMMON: dict[str, Schema] = {"name": STR, "description": STR, "project_id": ID, "tenant_id": ID, "tags": TAGS}

ATTRIBUTES: dict[str, dict[str, Schema]] = {
    "network": {"admin_state_up": BOOL, "shared": DEFAULT_FALSE, "router:external": DEFAULT_FALSE,
                "is_default": DEFAULT_FALSE,
                "mtu": {"type": "integer", "minimum": 68, "maximum": 9216}, "port_security_enabled": BOOL,
                "provider:network_type": STR,
                "provider:physical_network": {"type": ["string", "null"], "maxLength": 64},  # the column's
                "provider:segmentation_id": NULL_INT},
    "subnet": {"network_id": ID, "ip_version": {"enum": [4, 6]}, "cidr": NULL_STR, "gateway_ip": NULL_STR,
               "enable_dhcp": BOOL, "allocation_pools": POOLS, "dns_nameservers": {"type": ["array", "null"],
                                                                                   "items": STR},
               "host_routes": ROUTES, "ipv6_ra_mode": NULL_STR, "ipv6_address_mode": NULL_STR,
               "subnetpool_id": NULL_ID, "prefixlen": {"type": ["integer", "string"]},
               "use_default_subnetpool": BOOL},
    "subnetpool": {"prefixes": IPS, "default_prefixlen": {"type": ["integer", "string"]},
                   "min_prefixlen": {"type": ["integer", "string"]}, "max_prefixlen": {"type": ["integer", "string"]},
                   "shared": DEFAULT_FALSE, "is_default": DEFAULT_FALSE,
                   "default_quota": {"type": ["integer", "string", "null"]}},
    "port": {"network_id": ID, "admin_state_up": BOOL, "mac_address": STR, "fixed_ips": FIXED_IPS,
             "device_id": STR, "device_owner": {**STR, "default": ""}, "binding:host_id": NULL_STR,
             "binding:vnic_type": STR,
             "binding:profile": {"type": ["object", "null"]}, "allowed_address_pairs": PAIRS,
             "port_security_enabled": BOOL, "security_groups": {"type": ["array", "null"], "items": ID},
             "extra_dhcp_opts": {}},  # checked with Neutron's key specs and messages (dhcp_opts)
    "router": {"admin_state_up": BOOL, "external_gateway_info": GATEWAY, "routes": ROUTES},
    "floatingip": {"floating_network_id": ID, "floating_ip_address": NULL_STR, "subnet_id": NULL_ID,
                   "port_id": NULL_ID, "fixed_ip_address": NULL_STR},
    "security_group": {"stateful": BOOL},
    "security_group_rule": {"security_group_id": ID, "direction": {"enum": ["ingress", "egress"]},
                            "ethertype": {"enum": ["IPv4", "IPv6"]}, "protocol": {"type": ["string", "integer",
                                                                                         "null"]},
                            "port_range_min": PORT_NUMBER, "port_range_max": PORT_NUMBER,
                            "remote_ip_prefix": NULL_STR, "remote_group_id": NULL_ID},
}
# Attributes Neutron's resource maps mark neither allow_post nor allow_put (of the
# extensions listed): "not allowed in POST" / "Cannot update read-only attribute".  (A
# core resource's ``id`` may be chosen on create in Neutron; pocketstack always picks it.)
STANDARD_READ_ONLY = ("id", "created_at", "updated_at", "revision_number")
READ_ONLY: dict[str, tuple[str, ...]] = {
    "network": ("status", "subnets"), "subnet": (), "subnetpool": ("ip_version",),
    "port": ("status", "binding:vif_type", "binding:vif_details"), "router": ("status",),
    "floatingip": ("status", "router_id"), "security_group": ("security_group_rules",),
    "security_group_rule": (),
}
REQUIRED = {"subnet": ["network_id", "ip_version"], "port": ["network_id"], "subnetpool": ["prefixes"],
            "floatingip": ["floating_network_id"], "security_group_rule": ["security_group_id", "direction"]}


def body_schema(member: str, create: bool) -> dict:
    properties = {**COMMON, **ATTRIBUTES[member]}
    inner = {"type": "object", "properties": properties, "additionalProperties": False,
             "x-read-only": [*STANDARD_READ_ONLY, *READ_ONLY[member]], "x-create": create}
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
QUOTA_BODY = {"type": "object", "required": ["quota"], "properties": {"quota": {
    "type": "object", "additionalProperties": {"type": ["integer", "string"]}}}}
