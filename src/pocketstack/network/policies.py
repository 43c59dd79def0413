"""Default RBAC rules for the Networking API, after Neutron's defaults.

Admins do anything; project members create, change and delete their project's
resources; readers only read; shared and external networks, the subnets of shared
networks and shared subnet pools are visible to every project (the subnets of a
non-shared external network are not, as in Neutron).  Operator-only attributes (provider
segments, sharing, external flag, port bindings, chosen floating IP addresses) have
their own ``<action>_<resource>:<attribute>`` rules, as in Neutron.
"""

READ = "rule:admin_api or rule:project_reader"
WRITE = "rule:admin_api or rule:project_member"
SHARED_READ = READ + " or (role:reader and 'True':%(shared)s) or (role:reader and 'True':%(router:external)s)"
ADMIN = "rule:admin_api"

DEFAULTS: dict[str, str] = {}
for _resource in ("network", "subnet", "subnetpool", "port", "router", "floatingip", "security_group",
                  "security_group_rule"):
    DEFAULTS[f"get_{_resource}"] = READ
    for _action in ("create", "update", "delete"):
        DEFAULTS[f"{_action}_{_resource}"] = WRITE
DEFAULTS.update({
    "get_network": SHARED_READ,
    # Which subnets a caller sees (its own, its networks' and shared networks') is
    # decided by the query; the rule only asks for the reader role.
    "get_subnet": "rule:admin_api or role:reader",
    "get_subnetpool": SHARED_READ,
    # A subnet belongs on a network its project owns.
    "create_subnet": "rule:admin_api or (role:member and project_id:%(network:project_id)s)",
    "get_network:provider:network_type": ADMIN,
    "get_network:provider:physical_network": ADMIN,
    "get_network:provider:segmentation_id": ADMIN,
    "get_port:binding:host_id": ADMIN,
    "get_port:binding:profile": ADMIN,
    "get_port:binding:vif_type": ADMIN,
    "get_port:binding:vif_details": ADMIN,
    "add_router_interface": WRITE,
    "remove_router_interface": WRITE,
    "get_quota": READ,
    "get_agent": ADMIN,
    "update_agent": ADMIN,
    "delete_agent": ADMIN,
    "update_quota": ADMIN,
    "delete_quota": ADMIN,
    "get_auto_allocated_topology": WRITE,
    "create_tags": WRITE,
    "delete_tags": WRITE,
})
for _attribute in ("shared", "router:external", "is_default", "provider:network_type",
                   "provider:physical_network", "provider:segmentation_id"):
    DEFAULTS[f"create_network:{_attribute}"] = ADMIN
    DEFAULTS[f"update_network:{_attribute}"] = ADMIN
for _attribute in ("binding:host_id", "binding:profile", "mac_address"):
    DEFAULTS[f"create_port:{_attribute}"] = ADMIN if _attribute != "mac_address" else \
        "rule:admin_api or project_id:%(network:project_id)s"
    DEFAULTS[f"update_port:{_attribute}"] = ADMIN
DEFAULTS["create_subnetpool:shared"] = ADMIN
DEFAULTS["create_subnetpool:is_default"] = ADMIN
DEFAULTS["update_subnetpool:is_default"] = ADMIN
DEFAULTS["create_router:external_gateway_info:external_fixed_ips"] = ADMIN
DEFAULTS["update_router:external_gateway_info:external_fixed_ips"] = ADMIN
DEFAULTS["create_floatingip:floating_ip_address"] = ADMIN
