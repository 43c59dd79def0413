"""Default RBAC rules for the Networking API, after Neutron's defaults.

Admins do anything; project members create, change and delete their project's
resources; readers only read; shared and external networks, the subnets of shared
networks and shared subnet pools are visible to every project (the subnets of a
non-shared external network are not, as in Neutron).  Operator-only attributes (provider
segments, sharing, external flag, port bindings, chosen floating IP addresses) have
their own ``<action>_<resource>:<attribute>`` rules, as in Neutron.

Trunks are their project's: members change them, readers read them and their subports.
Address groups too (and their addresses); a project an RBAC policy shares one with reads it
and names it in its security group rules.

Address scopes, subnet pools and security groups are read by their project and by the
projects an RBAC policy shares them with (``shared`` is true for those); only admins set
``shared`` on a scope.  QoS policies likewise (shared: everyone reads and binds them); as in Neutron
only admins and a project's managers make and change policies and their rules.  RBAC
policies are their owner's; only admins grant every project (``*``).

Metering labels and their rules are made and deleted by a project's managers (and
admins), read by its readers; service flavors are admins' to write and everyone's to
read, service profiles admins' only (Neutron's defaults).

Ports follow Neutron's port policy: a port goes on a network the caller's project owns or
on a shared one (another project's external network is visible but not usable), and only
the network's owner (or an admin) chooses addresses, MACs, port security, address pairs
or a ``network:*`` device owner.  The target of a port rule carries the network's
``network:project_id`` and ``network:shared`` and ``network_device`` (whether the
``device_owner`` the port will have is one of the network service's own).
"""

from pocketstack.common.policy import Rule

READ = "rule:admin_api or rule:project_reader"
WRITE = "rule:admin_api or rule:project_member"
SHARED_READ = READ + " or (role:reader and 'True':%(shared)s) or (role:reader and 'True':%(router:external)s)"
ADMIN = "rule:admin_api"
NETWORK_OWNER = "rule:admin_api or (role:member and rule:network_owner)"
NETWORK_USER = NETWORK_OWNER + " or rule:shared"
# Neutron's QoS defaults (neutron/conf/policies/qos.py): a project's managers (the role
# above member) and admins change policies and rules; readers of the policy's project
# read its rules (``ext_parent_project_id``: the policy's owner).
MANAGE = "rule:admin_api or (role:manager and project_id:%(project_id)s)"
PARENT_READ = "rule:admin_api or (role:reader and rule:ext_parent_owner)"
PARENT_MANAGE = "rule:admin_api or (role:manager and rule:ext_parent_owner)"
QOS_RULE_TYPES = ("bandwidth_limit", "dscp_marking", "minimum_bandwidth")
# Neutron's restrict_wildcard: only admins grant every project.
NOT_WILDCARD = "rule:admin_api or not '*':%(target_tenant)s"

# (member key, what the API calls it) of the resources with the four CRUD rules.
_RESOURCES = (("network", "networks"), ("subnet", "subnets"), ("subnetpool", "subnet pools"), ("port", "ports"),
              ("router", "routers"), ("floatingip", "floating IPs"), ("security_group", "security groups"),
              ("security_group_rule", "security group rules"), ("address_scope", "address scopes"),
              ("rbac_policy", "RBAC policies"), ("trunk", "trunks"), ("policy", "QoS policies"),
              ("address_group", "address groups"), ("metering_label", "metering labels"),
              ("metering_label_rule", "metering label rules"), ("flavor", "service flavors"),
              ("service_profile", "service profiles"))
_CHECKS = {
    "get_network": SHARED_READ,
    # Which subnets a caller sees (its own, its networks' and shared networks') is
    # decided by the query; the rule only asks for the reader role.
    "get_subnet": "rule:admin_api or role:reader",
    "get_subnetpool": SHARED_READ,
    "get_address_scope": SHARED_READ,
    "get_security_group": SHARED_READ,
    # Neutron's (neutron/conf/policies/address_group.py): the project's readers, or anyone
    # the group is shared with (its ``shared``: not shown, but in the policy target).
    "get_address_group": READ + " or rule:shared_address_groups",
    "get_policy": READ + " or (role:reader and rule:shared_qos_policy)",
    "create_policy": MANAGE, "update_policy": MANAGE, "delete_policy": MANAGE,
    # Neutron's (neutron/conf/policies/metering.py): a project's managers and admins make
    # and delete labels and rules (a rule's project is its label's), its readers read
    # them; neither changes after create, so the update rules are admins' only.
    "create_metering_label": MANAGE, "delete_metering_label": MANAGE, "update_metering_label": ADMIN,
    "create_metering_label_rule": MANAGE, "delete_metering_label_rule": MANAGE, "update_metering_label_rule": ADMIN,
    # Neutron's (neutron/conf/policies/flavor.py): admins write flavors and profiles;
    # any reader reads flavors, only admins read profiles.
    "get_flavor": "role:reader", "create_flavor": ADMIN, "update_flavor": ADMIN, "delete_flavor": ADMIN,
    "get_service_profile": ADMIN, "create_service_profile": ADMIN, "update_service_profile": ADMIN,
    "delete_service_profile": ADMIN,
    # A subnet belongs on a network its project owns.
    "create_subnet": "rule:admin_api or (role:member and project_id:%(network:project_id)s)",
    # Neutron's create_port also lets a project other than the network's owner use a
    # shared network; the port is always the caller's own (or any project's for admins),
    # and, as everywhere here, a reader only reads.
    "create_port": "rule:admin_api or (rule:project_member and (rule:network_owner or rule:shared))",
    # The network's owner reads, changes and deletes any port on it (another project's on
    # a network it shares), as in Neutron's port policy.
    "get_port": READ + " or (role:reader and rule:network_owner)",
    "update_port": WRITE + " or (role:member and rule:network_owner)",
    "delete_port": WRITE + " or (role:member and rule:network_owner)",
}
_VERBS = {"get": "List and show", "create": "Create", "update": "Update", "delete": "Delete"}


def _crud() -> list[Rule]:
    rules = []
    for member, name in _RESOURCES:
        for action, verb in _VERBS.items():
            rule = f"{action}_{member}"
            default = READ if action == "get" else WRITE
            rules.append(Rule(rule, _CHECKS.get(rule, default), f"{verb} {name} (bulk create checks each item)."
                              if action == "create" else f"{verb} {name}."))
    return rules


def _qos_rules() -> list[Rule]:
    rules = []
    for rule_type in QOS_RULE_TYPES:
        name = rule_type.replace("_", " ")
        for action, verb in _VERBS.items():
            check = PARENT_READ if action == "get" else PARENT_MANAGE
            rules.append(Rule(f"{action}_policy_{rule_type}_rule", check, f"{verb} a QoS policy's {name} rules."))
            if action != "create":
                rules.append(Rule(f"{action}_alias_{rule_type}_rule", check,
                                  f"{verb} a {name} rule by its id alone (qos-rules-alias)."))
    return rules


def _attribute(action: str, member: str, attribute: str, check: str, who: str) -> Rule:
    verb = {"get": "See", "create": "Set", "update": "Change"}[action]
    what = "on create" if action == "create" else ("on update" if action == "update" else "in responses")
    return Rule(f"{action}_{member}:{attribute}", check, f"{verb} a {member}'s {attribute} {what} ({who}).")


def _attributes() -> list[Rule]:
    rules = []
    for attribute in ("provider:network_type", "provider:physical_network", "provider:segmentation_id"):
        rules.append(_attribute("get", "network", attribute, ADMIN, "admins only"))
    for attribute in ("binding:host_id", "binding:profile", "binding:vif_type", "binding:vif_details"):
        rules.append(_attribute("get", "port", attribute, ADMIN, "admins only"))
    for attribute in ("shared", "router:external", "is_default", "provider:network_type",
                      "provider:physical_network", "provider:segmentation_id"):
        rules.append(_attribute("create", "network", attribute, ADMIN, "admins only"))
        rules.append(_attribute("update", "network", attribute, ADMIN, "admins only"))
    owner, user, device = ("admins and the network's owner", "admins, the network's owner, or anyone on a "
                           "shared network", "anyone unless it is a network:* owner, then admins and the "
                           "network's owner")
    for action in ("create", "update"):
        rules.append(_attribute(action, "port", "device_owner",
                                "not rule:network_device or " + NETWORK_OWNER, device))
        rules.append(_attribute(action, "port", "fixed_ips:subnet_id", NETWORK_USER, user))
        rules.append(_attribute(action, "port", "fixed_ips:ip_address", NETWORK_OWNER, owner))
        rules.append(_attribute(action, "port", "binding:host_id", ADMIN, "admins only"))
        rules.append(_attribute(action, "port", "binding:profile", ADMIN, "admins only"))
        for attribute in ("port_security_enabled", "allowed_address_pairs", "allowed_address_pairs:ip_address",
                          "allowed_address_pairs:mac_address"):
            rules.append(_attribute(action, "port", attribute, NETWORK_OWNER, owner))
    rules += [
        _attribute("create", "port", "fixed_ips", NETWORK_USER, user),
        _attribute("update", "port", "fixed_ips", NETWORK_OWNER, owner),
        _attribute("create", "port", "mac_address", NETWORK_OWNER, owner),
        _attribute("update", "port", "mac_address", ADMIN, "admins only"),
        _attribute("create", "subnetpool", "shared", ADMIN, "admins only"),
        _attribute("create", "subnetpool", "is_default", ADMIN, "admins only"),
        _attribute("update", "subnetpool", "is_default", ADMIN, "admins only"),
        _attribute("create", "router", "external_gateway_info:external_fixed_ips", ADMIN, "admins only"),
        _attribute("update", "router", "external_gateway_info:external_fixed_ips", ADMIN, "admins only"),
        _attribute("create", "floatingip", "floating_ip_address", ADMIN, "admins only"),
        _attribute("create", "address_scope", "shared", ADMIN, "admins only"),
        _attribute("update", "address_scope", "shared", ADMIN, "admins only"),
        _attribute("create", "rbac_policy", "target_tenant", NOT_WILDCARD, "admins for '*', else anyone"),
        _attribute("update", "rbac_policy", "target_tenant", NOT_WILDCARD, "admins for '*', else anyone"),
    ]
    return rules


RULES: tuple[Rule, ...] = (
    *_crud(),
    *_qos_rules(),
    Rule("shared_qos_policy", "'True':%(shared)s", "The QoS policy is shared."),
    Rule("ext_parent_owner", "project_id:%(ext_parent_project_id)s",
         "The caller's project owns the QoS policy of a rule's target."),
    Rule("get_rule_type", "role:reader", "List the QoS rule types (a type's driver details: admins only)."),
    *_attributes(),
    Rule("network_owner", "project_id:%(network:project_id)s",
         "The caller's project owns the network (of a subnet or port rule's target)."),
    Rule("shared", "'True':%(network:shared)s", "The network (of a subnet or port rule's target) is shared."),
    Rule("network_device", "'True':%(network_device)s",
         "The port's device owner is one of the network service's own (network:*)."),
    Rule("add_router_interface", WRITE, "Attach a subnet or port to a router."),
    Rule("remove_router_interface", WRITE, "Detach a subnet or port from a router."),
    Rule("add_extraroutes", WRITE, "Add extra routes to a router, atomically (extraroute-atomic)."),
    Rule("remove_extraroutes", WRITE, "Remove extra routes from a router, atomically (extraroute-atomic)."),
    Rule("shared_address_groups", "'True':%(shared)s", "The address group is shared with the caller's project."),
    Rule("add_addresses", WRITE, "Add addresses to an address group."),
    Rule("remove_addresses", WRITE, "Remove addresses from an address group."),
    Rule("create_flavor_service_profile", ADMIN, "Associate a service profile with a flavor."),
    Rule("delete_flavor_service_profile", ADMIN, "Disassociate a service profile from a flavor."),
    Rule("get_subports", READ, "List the subports of a trunk."),
    Rule("add_subports", WRITE, "Add subports to a trunk."),
    Rule("remove_subports", WRITE, "Remove subports from a trunk."),
    Rule("get_quota", READ, "Show a project's quotas, its defaults and its usage details."),
    Rule("update_quota", ADMIN, "List every project's quotas, and set a project's."),
    Rule("delete_quota", ADMIN, "Reset a project's quotas to the defaults."),
    Rule("get_agent", ADMIN, "List and show the network agents (refused callers see none)."),
    Rule("get_network_ip_availability", ADMIN,
         "List and show the addresses used and available per network (refused callers see none)."),
    Rule("update_agent", ADMIN, "Change a network agent's admin_state_up or description."),
    Rule("delete_agent", ADMIN, "Delete a network agent's record."),
    Rule("get_l3-agents", ADMIN, "List the agent hosting a router (l3_agent_scheduler)."),
    Rule("get_l3-routers", ADMIN, "List the routers an agent hosts."),
    Rule("create_l3-router", ADMIN, "Schedule a router on an agent."),
    Rule("delete_l3-router", ADMIN, "Take a router off its agent."),
    Rule("get_dhcp-agents", ADMIN, "List the agent serving a network's DHCP (dhcp_agent_scheduler)."),
    Rule("get_dhcp-networks", ADMIN, "List the networks whose DHCP an agent serves."),
    Rule("create_dhcp-network", ADMIN, "Schedule a network's DHCP on an agent."),
    Rule("delete_dhcp-network", ADMIN, "Take a network's DHCP off its agent."),
    Rule("get_service_provider", "role:reader", "List the service providers (a fixed list of the deployment's)."),
    Rule("get_availability_zone", "role:reader", "List the availability zones (a fixed list of the deployment's)."),
    Rule("get_auto_allocated_topology", WRITE, "Get (creating it on first use) the project's auto-allocated "
         "network."),
    Rule("create_tags", WRITE, "Set, add and remove the tags of a resource."),
    Rule("delete_tags", WRITE, "Remove the tags of a resource (Neutron's name; the API checks create_tags)."),
)
