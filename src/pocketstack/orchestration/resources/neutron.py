"""``OS::Neutron::*``: networks, subnets, ports, routers, security groups, floating IPs,
made through the Networking API as the user."""

from __future__ import annotations

from typing import Any, ClassVar

from pocketstack.orchestration.resources import schema as s
from pocketstack.orchestration.resources.base import ResourceFailure, ResourceType, Step, pick


class NeutronResource(ResourceType):
    """One Neutron collection: create is a POST, update a PUT, delete a DELETE; the
    attributes are the fields of the item (``show`` is all of them)."""

    collection: ClassVar[str] = ""   # "networks"
    member: ClassVar[str] = ""       # "network"
    fields: ClassVar[dict[str, str]] = {}  # property -> API field, for the plain ones
    named: ClassVar[bool] = True     # has a "name" Heat fills with the physical name

    async def body(self, step: Step, props: dict[str, Any]) -> dict[str, Any]:
        body = pick(props, self.fields)
        body.update(props.get("value_specs") or {})
        if self.named and not body.get("name"):
            body["name"] = step.physical_name
        return body

    async def create(self, step: Step, props: dict[str, Any]) -> str:
        made = await step.cloud.call("POST", "network", f"/{self.collection}",
                                     json={self.member: await self.body(step, props)})
        return str(made[self.member]["id"])

    async def find(self, step: Step, props: dict[str, Any]) -> str | None:
        if not self.named:
            return None
        name = props.get("name") or step.physical_name
        found = await step.cloud.call("GET", "network", f"/{self.collection}?name={name}")
        items = found.get(self.collection, [])
        return str(items[0]["id"]) if len(items) == 1 and name == step.physical_name else None

    async def update(self, step: Step, physical_id: str, props: dict[str, Any], changed: dict[str, Any]) -> None:
        body = {k: v for k, v in (await self.body(step, props)).items()
                if k in {self.fields.get(p) for p in changed} or k == "name" and "name" in changed}
        if body:
            await step.cloud.call("PUT", "network", f"/{self.collection}/{physical_id}", json={self.member: body})

    async def delete(self, step: Step, physical_id: str) -> None:
        await step.cloud.call("DELETE", "network", f"/{self.collection}/{physical_id}", ok_missing=True)

    async def delete_complete(self, step: Step, physical_id: str) -> bool:
        return await step.cloud.call("GET", "network", f"/{self.collection}/{physical_id}", ok_missing=True) is None

    async def show(self, step: Step, physical_id: str, props: dict[str, Any]) -> dict[str, Any]:
        item = (await step.cloud.call("GET", "network", f"/{self.collection}/{physical_id}"))[self.member]
        return {**{k: item.get(k) for k in self.attributes}, "show": item}

    checks = True

    async def check(self, step: Step, physical_id: str) -> None:
        await step.cloud.exists("network", f"/{self.collection}/{physical_id}", self.member, physical_id)

    async def network_id(self, step: Step, value: str) -> str:
        return await step.cloud.find("network", "networks", value, "Network")

    async def subnet_id(self, step: Step, value: str) -> str:
        return await step.cloud.find("network", "subnets", value, "Subnet")


_VALUE_SPECS = s.map_("Extra parameters to include in the request.", default={}, update_allowed=True)


class Net(NeutronResource):
    type_name = "OS::Neutron::Net"
    description = "A resource for managing Neutron net."
    collection, member = "networks", "network"
    fields = {"name": "name", "admin_state_up": "admin_state_up", "shared": "shared",
              "port_security_enabled": "port_security_enabled", "mtu": "mtu", "dns_domain": "dns_domain",
              "tenant_id": "tenant_id"}
    properties = {
        "name": s.string("A string specifying a symbolic name for the network.", update_allowed=True),
        "value_specs": _VALUE_SPECS,
        "admin_state_up": s.boolean("A boolean value specifying the administrative status of the network.",
                                    default=True, update_allowed=True),
        "tenant_id": s.string("The ID of the tenant which will own the network."),
        "shared": s.boolean("Whether this network should be shared across all tenants.", default=False,
                            update_allowed=True),
        "port_security_enabled": s.boolean("Flag to enable/disable port security on the network.",
                                           update_allowed=True),
        "mtu": s.integer("The maximum transmission unit size(in bytes) for the network.", update_allowed=True),
        "dns_domain": s.string("DNS domain associated with this network.", update_allowed=True),
        "tags": s.list_("The tags to be added to the network.", update_allowed=True, item=s.string()),
    }
    attributes = {"status": "The status of the network.", "name": "The name of the network.",
                  "subnets": "Subnets of this network.", "admin_state_up": "The administrative status of the network.",
                  "tenant_id": "The tenant owning this network.", "mtu": "The maximum transmission unit.",
                  "port_security_enabled": "Port security enabled of the network."}


class Subnet(NeutronResource):
    type_name = "OS::Neutron::Subnet"
    description = "A resource for managing Neutron subnets."
    collection, member = "subnets", "subnet"
    fields = {"name": "name", "cidr": "cidr", "ip_version": "ip_version", "enable_dhcp": "enable_dhcp",
              "gateway_ip": "gateway_ip", "allocation_pools": "allocation_pools",
              "dns_nameservers": "dns_nameservers", "host_routes": "host_routes", "ipv6_ra_mode": "ipv6_ra_mode",
              "ipv6_address_mode": "ipv6_address_mode", "tenant_id": "tenant_id", "prefixlen": "prefixlen"}
    properties = {
        "network": s.string("The ID of the attached network.", required=True),
        "cidr": s.string("The CIDR."),
        "ip_version": s.integer("The IP version, which is 4 or 6.", default=4, allowed=(4, 6)),
        "name": s.string("The name of the subnet.", update_allowed=True),
        "enable_dhcp": s.boolean("Set to true if DHCP is enabled and false if DHCP is disabled.", default=True,
                                 update_allowed=True),
        "gateway_ip": s.string("The gateway IP address.", update_allowed=True),
        "allocation_pools": s.list_("The start and end addresses for the allocation pools.", update_allowed=True,
                                    item=s.map_(schema={"start": s.string(required=True),
                                                        "end": s.string(required=True)})),
        "dns_nameservers": s.list_("A specified set of DNS name servers to be used.", default=[],
                                   update_allowed=True, item=s.string()),
        "host_routes": s.list_("A list of host route dictionaries for the subnet.", update_allowed=True,
                               item=s.map_(schema={"destination": s.string(required=True),
                                                   "nexthop": s.string(required=True)})),
        "ipv6_ra_mode": s.string("IPv6 RA mode.", allowed=("dhcpv6-stateful", "dhcpv6-stateless", "slaac")),
        "ipv6_address_mode": s.string("IPv6 address mode.", allowed=("dhcpv6-stateful", "dhcpv6-stateless",
                                                                     "slaac")),
        "subnetpool": s.string("The name or ID of the subnet pool."),
        "prefixlen": s.integer("Prefix length for subnet allocation from subnet pool."),
        "tenant_id": s.string("The ID of the tenant who owns the network."),
        "value_specs": _VALUE_SPECS,
        "tags": s.list_("The tags to be added to the subnet.", update_allowed=True, item=s.string()),
    }
    attributes = {"name": "Friendly name of the subnet.", "network_id": "Parent network of the subnet.",
                  "tenant_id": "Tenant owning the subnet.", "allocation_pools": "Ip allocation pools and their "
                  "ranges.", "gateway_ip": "Ip of the subnet's gateway.", "host_routes": "Additional routes for this "
                  "subnet.", "ip_version": "Ip version for the subnet.", "cidr": "CIDR block notation for this subnet.",
                  "dns_nameservers": "List of dns nameservers.", "enable_dhcp": "'true' if DHCP is enabled for this "
                  "subnet; 'false' otherwise."}

    async def body(self, step: Step, props: dict[str, Any]) -> dict[str, Any]:
        body = await super().body(step, props)
        body["network_id"] = await self.network_id(step, props["network"])
        if props.get("subnetpool"):
            body["subnetpool_id"] = await step.cloud.find("network", "subnetpools", props["subnetpool"],
                                                          "Subnetpool")
        return body


class Port(NeutronResource):
    type_name = "OS::Neutron::Port"
    description = "A resource for managing Neutron ports."
    collection, member = "ports", "port"
    fields = {"name": "name", "admin_state_up": "admin_state_up", "mac_address": "mac_address",
              "device_id": "device_id", "device_owner": "device_owner", "binding:vnic_type": "binding:vnic_type",
              "allowed_address_pairs": "allowed_address_pairs", "port_security_enabled": "port_security_enabled"}
    properties = {
        "network": s.string("Network this port belongs to.", required=True),
        "name": s.string("A symbolic name for this port.", update_allowed=True),
        "fixed_ips": s.list_("Desired IPs for this port.", update_allowed=True, item=s.map_(schema={
            "subnet": s.string("Subnet in which to allocate the IP address for this port."),
            "ip_address": s.string("IP address desired in the subnet for this port.")})),
        "security_groups": s.list_("Security group IDs to associate with this port.", update_allowed=True,
                                   item=s.string()),
        "admin_state_up": s.boolean("The administrative state of this port.", default=True, update_allowed=True),
        "mac_address": s.string("MAC address to give to this port."),
        "device_id": s.string("Device ID of this port.", update_allowed=True),
        "device_owner": s.string("Name of the network owning the port.", update_allowed=True),
        "binding:vnic_type": s.string("The vnic type to be bound on the neutron port.", update_allowed=True,
                                      allowed=("normal", "direct", "macvtap", "direct-physical", "baremetal")),
        "allowed_address_pairs": s.list_("Additional MAC/IP address pairs allowed to pass through the port.",
                                         update_allowed=True, item=s.map_(schema={
                                             "mac_address": s.string(), "ip_address": s.string(required=True)})),
        "port_security_enabled": s.boolean("Flag to enable/disable port security on the port.",
                                           update_allowed=True),
        "value_specs": _VALUE_SPECS,
        "tags": s.list_("The tags to be added to the port.", update_allowed=True, item=s.string()),
    }
    attributes = {"admin_state_up": "The administrative state of this port.", "device_id": "Unique identifier "
                  "for the device.", "device_owner": "Name of the network owning the port.",
                  "fixed_ips": "Fixed IP addresses.", "mac_address": "MAC address of the port.",
                  "name": "Friendly name of the port.", "network_id": "Unique identifier for the network owning "
                  "the port.", "security_groups": "A list of security groups for the port.", "status": "The status "
                  "of the port.", "tenant_id": "Tenant owning the port.", "subnets": "Subnets of this network."}

    async def body(self, step: Step, props: dict[str, Any]) -> dict[str, Any]:
        body = await super().body(step, props)
        body["network_id"] = await self.network_id(step, props["network"])
        if props.get("fixed_ips"):
            body["fixed_ips"] = [{**({"subnet_id": await self.subnet_id(step, ip["subnet"])} if ip.get("subnet")
                                     else {}), **({"ip_address": ip["ip_address"]} if ip.get("ip_address") else {})}
                                 for ip in props["fixed_ips"]]
        if props.get("security_groups") is not None:
            body["security_groups"] = [await step.cloud.find("network", "security-groups", group, "SecurityGroup")
                                       for group in props["security_groups"]]
        return body

    async def update(self, step: Step, physical_id: str, props: dict[str, Any], changed: dict[str, Any]) -> None:
        full = await self.body(step, props)
        api_names = {"fixed_ips": "fixed_ips", "security_groups": "security_groups", **self.fields}
        body = {api_names[p]: full[api_names[p]] for p in changed if p in api_names and api_names[p] in full}
        if body:
            await step.cloud.call("PUT", "network", f"/ports/{physical_id}", json={"port": body})

    async def show(self, step: Step, physical_id: str, props: dict[str, Any]) -> dict[str, Any]:
        shown = await super().show(step, physical_id, props)
        shown["subnets"] = [ip.get("subnet_id") for ip in shown["show"].get("fixed_ips", [])]
        return shown


class Router(NeutronResource):
    type_name = "OS::Neutron::Router"
    description = "A resource that implements Neutron router."
    collection, member = "routers", "router"
    fields = {"name": "name", "admin_state_up": "admin_state_up", "distributed": "distributed", "ha": "ha"}
    properties = {
        "name": s.string("The name of the router.", update_allowed=True),
        "external_gateway_info": s.map_("External network gateway configuration for a router.",
                                        update_allowed=True, schema={
                                            "network": s.string("ID or name of the external network for the "
                                                                "gateway.", required=True),
                                            "enable_snat": s.boolean("Enables Source NAT on the router gateway."),
                                            "external_fixed_ips": s.list_("External fixed IP addresses for the "
                                                                          "gateway.", item=s.map_())}),
        "value_specs": _VALUE_SPECS,
        "admin_state_up": s.boolean("The administrative state of the router.", default=True, update_allowed=True),
        "distributed": s.boolean("Indicates whether or not to create a distributed router."),
        "ha": s.boolean("Indicates whether or not to create a highly available router."),
        "tags": s.list_("The tags to be added to the router.", update_allowed=True, item=s.string()),
    }
    attributes = {"status": "The status of the router.", "external_gateway_info": "Gateway network for the router.",
                  "name": "Friendly name of the router.", "admin_state_up": "Administrative state of the router.",
                  "tenant_id": "Tenant owning the router."}

    async def body(self, step: Step, props: dict[str, Any]) -> dict[str, Any]:
        body = await super().body(step, props)
        gateway = props.get("external_gateway_info")
        if gateway:
            info: dict[str, Any] = {"network_id": await self.network_id(step, gateway["network"])}
            if gateway.get("enable_snat") is not None:
                info["enable_snat"] = gateway["enable_snat"]
            if gateway.get("external_fixed_ips"):
                info["external_fixed_ips"] = gateway["external_fixed_ips"]
            body["external_gateway_info"] = info
        return body

    async def update(self, step: Step, physical_id: str, props: dict[str, Any], changed: dict[str, Any]) -> None:
        full = await self.body(step, props)
        body = {k: full.get(k) for k in ("name", "admin_state_up", "external_gateway_info") if k in changed}
        if "external_gateway_info" in body and body["external_gateway_info"] is None:
            body["external_gateway_info"] = {}
        if body:
            await step.cloud.call("PUT", "network", f"/routers/{physical_id}", json={"router": body})


class RouterInterface(ResourceType):
    type_name = "OS::Neutron::RouterInterface"
    description = "A resource for managing Neutron router interfaces."
    properties = {
        "router": s.string("The router.", required=True),
        "subnet": s.string("The subnet, either subnet or port should be specified."),
        "port": s.string("The port, either subnet or port should be specified."),
    }

    async def create(self, step: Step, props: dict[str, Any]) -> str:
        router = await step.cloud.find("network", "routers", props["router"], "Router")
        if bool(props.get("subnet")) == bool(props.get("port")):
            raise ResourceFailure("Exactly one of [subnet, port] should be specified.", "PropertyUnspecifiedError")
        if props.get("subnet"):
            key, value = "subnet_id", await step.cloud.find("network", "subnets", props["subnet"], "Subnet")
        else:
            key, value = "port_id", await step.cloud.find("network", "ports", props["port"], "Port")
        await step.cloud.call("PUT", "network", f"/routers/{router}/add_router_interface", json={key: value})
        return f"{router}:{key}={value}"

    async def delete(self, step: Step, physical_id: str) -> None:
        router, _, rest = physical_id.partition(":")
        key, _, value = rest.partition("=")
        response = await step.cloud.client.put(step.cloud.path("network", f"/routers/{router}/remove_router_"
                                                                          "interface"), json={key: value})
        if response.status_code >= 400 and response.status_code != 404:
            raise ResourceFailure(response.text, "Conflict", response.status_code)


_RULE = s.map_(schema={
    "direction": s.string("The direction in which the security group rule is applied.", default="ingress",
                          allowed=("ingress", "egress")),
    "ethertype": s.string("Ethertype of the traffic.", default="IPv4", allowed=("IPv4", "IPv6")),
    "port_range_min": s.integer("The minimum port number in the range."),
    "port_range_max": s.integer("The maximum port number in the range."),
    "protocol": s.string("The protocol that is matched by the security group rule."),
    "remote_mode": s.string("Whether to specify a remote group or a remote IP prefix.",
                            default="remote_ip_prefix", allowed=("remote_ip_prefix", "remote_group_id")),
    "remote_group_id": s.string("The remote group ID to be associated with this security group rule."),
    "remote_ip_prefix": s.string("The remote IP prefix (CIDR) to be associated with this security group rule."),
    "description": s.string("Description of the security group rule."),
})


def _rule_body(group_id: str, rule: dict[str, Any]) -> dict[str, Any]:
    body = {k: rule[k] for k in ("direction", "ethertype", "port_range_min", "port_range_max", "protocol",
                                 "remote_ip_prefix", "remote_group_id", "description") if rule.get(k) is not None}
    if rule.get("remote_mode") == "remote_group_id" and not body.get("remote_group_id"):
        body["remote_group_id"] = group_id
    body.pop("remote_ip_prefix" if rule.get("remote_mode") == "remote_group_id" else "remote_group_id", None)
    return {**body, "security_group_id": group_id}


class SecurityGroup(NeutronResource):
    type_name = "OS::Neutron::SecurityGroup"
    description = "A resource for managing Neutron security groups."
    collection, member = "security-groups", "security_group"
    fields = {"name": "name", "description": "description"}
    properties = {
        "name": s.string("A string specifying a symbolic name for the security group.", update_allowed=True),
        "description": s.string("Description of the security group.", update_allowed=True),
        "rules": s.list_("List of security group rules.", default=[], update_allowed=True, item=_RULE),
    }
    attributes = {}

    async def create(self, step: Step, props: dict[str, Any]) -> str:
        group_id = await super().create(step, props)
        await self._set_rules(step, group_id, props.get("rules") or [])
        return group_id

    async def _set_rules(self, step: Step, group_id: str, rules: list[dict[str, Any]]) -> None:
        """The group's rules become ``rules``.  As Heat: the default egress rules go only
        when the template gives egress rules of its own."""
        group = (await step.cloud.call("GET", "network", f"/security-groups/{group_id}"))["security_group"]
        wanted = [_rule_body(group_id, rule) for rule in rules]
        keep_egress = not any(rule["direction"] == "egress" for rule in wanted)
        for existing in group.get("security_group_rules", []):
            if existing["direction"] == "egress" and keep_egress:
                continue
            await step.cloud.call("DELETE", "network", f"/security-group-rules/{existing['id']}", ok_missing=True)
        for rule in wanted:
            await step.cloud.call("POST", "network", "/security-group-rules", json={"security_group_rule": rule})

    async def update(self, step: Step, physical_id: str, props: dict[str, Any], changed: dict[str, Any]) -> None:
        await super().update(step, physical_id, props, {k: v for k, v in changed.items() if k != "rules"})
        if "rules" in changed:
            await self._set_rules(step, physical_id, props.get("rules") or [])


class SecurityGroupRule(NeutronResource):
    type_name = "OS::Neutron::SecurityGroupRule"
    description = "A resource for managing Neutron security group rules."
    collection, member = "security-group-rules", "security_group_rule"
    named = False
    properties = {"security_group": s.string("Security group name or ID to add rule.", required=True),
                  **(_RULE.schema or {})}

    async def body(self, step: Step, props: dict[str, Any]) -> dict[str, Any]:
        group = await step.cloud.find("network", "security-groups", props["security_group"], "SecurityGroup")
        return _rule_body(group, props)


class FloatingIP(NeutronResource):
    type_name = "OS::Neutron::FloatingIP"
    description = "A resource for managing Neutron floating ips."
    collection, member = "floatingips", "floatingip"
    named = False
    fields = {"fixed_ip_address": "fixed_ip_address", "floating_ip_address": "floating_ip_address",
              "dns_name": "dns_name", "dns_domain": "dns_domain"}
    properties = {
        "floating_network": s.string("Network to allocate floating IP from.", required=True),
        "value_specs": _VALUE_SPECS,
        "port_id": s.string("ID of an existing port with at least one IP address to associate with this floating "
                            "IP.", update_allowed=True),
        "fixed_ip_address": s.string("IP address to use if the port has multiple addresses.", update_allowed=True),
        "floating_ip_address": s.string("IP address of the floating IP."),
        "dns_name": s.string("DNS name associated with floating ip."),
        "dns_domain": s.string("DNS domain associated with floating ip."),
    }
    attributes = {"router_id": "ID of the router used as gateway.", "tenant_id": "The tenant owning this floating "
                  "IP.", "floating_network_id": "ID of the network in which this IP is allocated.",
                  "fixed_ip_address": "IP address of the associated port, if specified.", "floating_ip_address":
                  "The allocated address of this IP.", "port_id": "ID of the port associated with this IP."}

    async def body(self, step: Step, props: dict[str, Any]) -> dict[str, Any]:
        body = await super().body(step, props)
        body["floating_network_id"] = await self.network_id(step, props["floating_network"])
        if props.get("port_id"):
            body["port_id"] = await step.cloud.find("network", "ports", props["port_id"], "Port")
        return body

    async def update(self, step: Step, physical_id: str, props: dict[str, Any], changed: dict[str, Any]) -> None:
        port = await step.cloud.find("network", "ports", props["port_id"], "Port") if props.get("port_id") else None
        await step.cloud.call("PUT", "network", f"/floatingips/{physical_id}", json={"floatingip": {
            "port_id": port, **({"fixed_ip_address": props["fixed_ip_address"]} if port and
                                props.get("fixed_ip_address") else {})}})


class FloatingIPAssociation(ResourceType):
    type_name = "OS::Neutron::FloatingIPAssociation"
    description = "A resource for associating floating ips and ports."
    properties = {
        "floatingip_id": s.string("ID of the floating IP to associate.", required=True, update_allowed=True),
        "port_id": s.string("ID of an existing port with at least one IP address to associate with this floating "
                            "IP.", required=True, update_allowed=True),
        "fixed_ip_address": s.string("IP address to use if the port has multiple addresses.", update_allowed=True),
    }

    async def _associate(self, step: Step, props: dict[str, Any]) -> None:
        port = await step.cloud.find("network", "ports", props["port_id"], "Port")
        body: dict[str, Any] = {"port_id": port}
        if props.get("fixed_ip_address"):
            body["fixed_ip_address"] = props["fixed_ip_address"]
        await step.cloud.call("PUT", "network", f"/floatingips/{props['floatingip_id']}", json={"floatingip": body})

    async def create(self, step: Step, props: dict[str, Any]) -> str:
        await self._associate(step, props)
        step.data["floatingip_id"] = props["floatingip_id"]
        return f"{props['floatingip_id']}:{props['port_id']}"

    async def update(self, step: Step, physical_id: str, props: dict[str, Any], changed: dict[str, Any]) -> None:
        old = step.data.get("floatingip_id")
        if old and old != props["floatingip_id"]:
            await step.cloud.call("PUT", "network", f"/floatingips/{old}", json={"floatingip": {"port_id": None}},
                                  ok_missing=True)
        await self._associate(step, props)
        step.data["floatingip_id"] = props["floatingip_id"]

    async def delete(self, step: Step, physical_id: str) -> None:
        fip = step.data.get("floatingip_id") or physical_id.partition(":")[0]
        await step.cloud.call("PUT", "network", f"/floatingips/{fip}", json={"floatingip": {"port_id": None}},
                              ok_missing=True)
