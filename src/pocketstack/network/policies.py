"""Default RBAC rules for the Networking API, after Neutron's defaults.

Admins do anything; project members create, change and delete their project's
resources; readers only read; shared and external networks, the subnets of shared
networks and shared subnet pools are visible to every project (the subnets of a
non-shared external network are not, as in Neutron).  Operator-only attributes (provider
segments, sharing, external flag, port bindings, chosen floating IP addresses) have
their own ``<action>_<resource>:<attribute>`` rules, as in Neutron.

Ports follow Neutron's port policy: a port goes on a network the caller's project owns or
on a shared one (another project's external network is visible but not usable), and only
the network's owner (or an admin) chooses addresses, MACs, port security, address pairs
or a ``network:*`` device owner.  The target of a port rule carries the network's
``network:project_id`` and ``network:shared`` and ``network_device`` (whether the
``device_owner`` the port will have is one of the network service's own).
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
NETWORK_OWNER = "rule:admin_api or (role:member and rule:network_owner)"
NETWORK_USER = NETWORK_OWNER + " or rule:shared"
DEFAULTS.update({
    "network_owner": "project_id:%(network:project_id)s",
    "shared": "'True':%(network:shared)s",
    "network_device": "'True':%(network_device)s",
    # Neutron's create_port also lets a project other than the network's owner use a
    # shared network; the port is always the caller's own (or any project's for admins),
    # and, as everywhere here, a reader only reads.
    "create_port": "rule:admin_api or (rule:project_member and (rule:network_owner or rule:shared))",
    "create_port:device_owner": "not rule:network_device or " + NETWORK_OWNER,
    "update_port:device_owner": "not rule:network_device or " + NETWORK_OWNER,
    "create_port:fixed_ips": NETWORK_USER,
    "create_port:fixed_ips:subnet_id": NETWORK_USER,
    "create_port:fixed_ips:ip_address": NETWORK_OWNER,
    "update_port:fixed_ips": NETWORK_OWNER,
    "update_port:fixed_ips:subnet_id": NETWORK_USER,
    "update_port:fixed_ips:ip_address": NETWORK_OWNER,
    "create_port:mac_address": NETWORK_OWNER,
    "update_port:mac_address": ADMIN,
    "create_port:binding:host_id": ADMIN,
    "update_port:binding:host_id": ADMIN,
    "create_port:binding:profile": ADMIN,
    "update_port:binding:profile": ADMIN,
})
for _action in ("create", "update"):
    for _attribute in ("port_security_enabled", "allowed_address_pairs", "allowed_address_pairs:ip_address",
                       "allowed_address_pairs:mac_address"):
        DEFAULTS[f"{_action}_port:{_attribute}"] = NETWORK_OWNER
DEFAULTS["create_subnetpool:shared"] = ADMIN
DEFAULTS["create_subnetpool:is_default"] = ADMIN
DEFAULTS["update_subnetpool:is_default"] = ADMIN
DEFAULTS["create_router:external_gateway_info:external_fixed_ips"] = ADMIN
DEFAULTS["update_router:external_gateway_info:external_fixed_ips"] = ADMIN
DEFAULTS["create_floatingip:floating_ip_address"] = ADMIN
