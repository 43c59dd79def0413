"""Version discovery (``/`` and ``/v2.0``) and ``/v2.0/extensions``.

The extension list is what clients check before using a feature (the ``openstack`` CLI
asks for "router", "security-group", "quotas", "standard-attr-tag"…), so it lists
exactly what this service implements — no more.
"""

from __future__ import annotations

from pocketstack.common.api.request import ApiRequest
from pocketstack.common.api.routes import route
from pocketstack.network import errors

UPDATED = "2026-01-01T00:00:00-00:00"
EXTENSIONS = {
    "address-group": "Address group",
    "address-scope": "Address scope",
    "agent": "agent",
    "allowed-address-pairs": "Allowed Address Pairs",
    "auto-allocated-topology": "Auto Allocated Topology Services",
    "availability_zone": "Availability Zone",
    "binding": "Port Binding",
    "default-subnetpools": "Default Subnetpools",
    "dhcp_agent_scheduler": "DHCP Agent Scheduler",
    "external-net": "Neutron external network",
    "extraroute": "Neutron Extra Route",
    "extraroute-atomic": "Atomically add/remove extra routes",
    "ext-gw-mode": "Neutron L3 Configurable external gateway mode",
    "fip-port-details": "Floating IP Port Details Extension",
    "flavors": "Neutron Service Flavors",
    "extra_dhcp_opt": "Neutron Extra DHCP options",
    "ip-substring-filtering": "IP address substring filtering",
    "l3_agent_scheduler": "L3 Agent Scheduler",
    "l3-flavors": "Router Flavor Extension",
    "metering": "Neutron Metering",
    "metering_source_and_destination_fields": "Neutron Metering with source and destination filtering",
    "net-mtu": "Network MTU",
    "net-mtu-writable": "Network MTU (writable)",
    "network-ip-availability": "Network IP Availability",
    "pagination": "Pagination support",
    "port-security": "Port Security",
    "port-security-groups-filtering": "Port filtering on security groups",
    "project-id": "project_id field enabled",
    "provider": "Provider Network",
    "qos": "Quality of Service",
    "qos-bw-limit-direction": "Direction for QoS bandwidth limit rule",
    "qos-bw-minimum-ingress": "Ingress direction for QoS minimum bandwidth rule",
    "qos-default": "QoS default policy",
    "qos-port-network-policy": "QoS port network policy ID",
    "qos-rule-type-details": "Details of QoS rule types",
    "qos-rules-alias": "Quality of Service rules alias API",
    "quota_details": "Quota details management support",
    "quotas": "Quota management support",
    "rbac-address-group": "Add address_group type to RBAC",
    "rbac-address-scope": "Add address_scope type to RBAC",
    "rbac-policies": "RBAC Policies",
    "rbac-security-groups": "Add security_group type to network RBAC",
    "rbac-subnetpool": "Add subnetpool type to RBAC",
    "revision-if-match": "If-Match constraints based on revision_number",
    "router": "Neutron L3 Router",
    "security-group": "security-group",
    "security-groups-remote-address-group": "Remote address group id field for security group rules",
    "security-groups-shared-filtering": "Security group filtering on the shared field",
    "service-type": "Neutron Service Type Management",
    "sorting": "Sorting support",
    "standard-attr-description": "standard-attr-description",
    "standard-attr-revisions": "Resource revision numbers",
    "standard-attr-tag": "Tag support for resources with standard attribute: subnet, trunk, network_segment_range, "
                         "router, network, policy, subnetpool, port, security_group, floatingip",
    "standard-attr-timestamp": "Resource timestamps",
    "subnet_allocation": "Subnet Allocation",
    "trunk": "Trunk Extension",
    "trunk-details": "Trunk port details",
}
RESOURCES = [("network", "networks"), ("subnet", "subnets"), ("subnetpool", "subnetpools"), ("port", "ports"),
             ("router", "routers"), ("floatingip", "floatingips"), ("security_group", "security-groups"),
             ("security_group_rule", "security-group-rules"), ("address_scope", "address-scopes"),
             ("rbac_policy", "rbac-policies"), ("trunk", "trunks"), ("policy", "qos/policies"),
             ("rule_type", "qos/rule-types"), ("address_group", "address-groups"),
             ("metering_label", "metering/metering-labels"), ("metering_label_rule", "metering/metering-label-rules"),
             ("flavor", "flavors"), ("service_profile", "service_profiles")]


def _extension(alias: str) -> dict:
    return {"alias": alias, "name": EXTENSIONS[alias], "description": f"{EXTENSIONS[alias]}.",
            "updated": UPDATED, "links": []}


class DiscoveryApi:
    @route.get("/", public=True)
    def versions(self, req: ApiRequest):
        return {"versions": [{"id": "v2.0", "status": "CURRENT",
                              "links": [{"href": f"{req.service_url}/v2.0/", "rel": "self"}]}]}

    @route.get("/v2.0", public=True)
    @route.get("/v2.0/", public=True)
    def resources(self, req: ApiRequest):
        return {"resources": [{"name": name, "collection": collection,
                               "links": [{"href": f"{req.service_url}/v2.0/{collection}", "rel": "self"}]}
                              for name, collection in RESOURCES]}

    # Any token may list the extensions (no policy, as in Neutron).
    @route.get("/v2.0/extensions")
    def list_extensions(self, req: ApiRequest):
        return {"extensions": [_extension(alias) for alias in sorted(EXTENSIONS)]}

    @route.get("/v2.0/extensions/{alias}")
    def show_extension(self, req: ApiRequest):
        alias = req.path_params["alias"]
        if alias not in EXTENSIONS:
            raise errors.ExtensionNotFound(id=alias)
        return {"extension": _extension(alias)}
