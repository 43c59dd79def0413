"""``OS::Nova::*``: servers (waited for until ACTIVE), key pairs, flavors, server groups,
made through the Compute API as the user."""

from __future__ import annotations

from typing import Any

from pocketstack.orchestration.resources import schema as s
from pocketstack.orchestration.resources.base import (
    EntityNotFound,
    PhysicalResourceNotFound,
    ResourceFailure,
    ResourceType,
    Step,
    b64,
    pick,
)
from pocketstack.orchestration.resources.software import config_text

_NETWORK = s.map_(schema={
    "uuid": s.string("ID of network to create a port on."),
    "network": s.string("Name or ID of network to create a port on."),
    "port": s.string("ID of an existing port to associate with this server."),
    "fixed_ip": s.string("Fixed IP address to specify for the port created on the requested network."),
    "subnet": s.string("Subnet in which to allocate the IP address for port."),
    "floating_ip": s.string("ID of the floating IP to associate."),
    "tag": s.string("Port tag."),
    "port_extra_properties": s.map_("Dict, which has expand properties for port."),
    "allocate_network": s.string("The special string values of network, auto: means either a network that is "
                                 "already available to the project will be used, or if one does not exist, will "
                                 "be automatically created; none: means no networking will be allocated.",
                                 allowed=("none", "auto")),
})


class Server(ResourceType):
    type_name = "OS::Nova::Server"
    description = "A resource for managing Nova instances."
    poll = 0.2
    properties = {
        "name": s.string("Server name.", update_allowed=True),
        "image": s.string("The ID or name of the image to boot with."),
        "block_device_mapping_v2": s.list_("Block device mappings v2 for this server.", item=s.map_()),
        "flavor": s.string("The ID or name of the flavor to boot onto.", required=True, update_allowed=True),
        "flavor_update_policy": s.string("Policy on how to apply a flavor update.", default="RESIZE",
                                         allowed=("RESIZE", "REPLACE")),
        "image_update_policy": s.string("Policy on how to apply an image-id update.", default="REBUILD",
                                        allowed=("REBUILD", "REPLACE", "REBUILD_PRESERVE_EPHEMERAL")),
        "key_name": s.string("Name of keypair to inject into the server."),
        "availability_zone": s.string("Name of the availability zone for server placement."),
        "security_groups": s.list_("List of security group names or IDs.", default=[], item=s.string()),
        "networks": s.list_("An ordered list of nics to be added to this server.", item=_NETWORK),
        "scheduler_hints": s.map_("Arbitrary key-value pairs specified by the client to help boot a server."),
        "metadata": s.map_("Arbitrary key/value metadata to store for this server.", update_allowed=True),
        "user_data_format": s.string("How the user_data should be formatted for the server.",
                                     default="HEAT_CFNTOOLS", allowed=("HEAT_CFNTOOLS", "RAW", "SOFTWARE_CONFIG")),
        "software_config_transport": s.string("How the server should receive the metadata required for software "
                                              "configuration.", default="POLL_SERVER_CFN"),
        "user_data_update_policy": s.string("Policy on how to apply a user_data update.", default="REPLACE",
                                            allowed=("REPLACE", "IGNORE")),
        "user_data": s.string("User data script to be executed by cloud-init.", default=""),
        "config_drive": s.boolean("If True, enable config drive on the server."),
        "admin_pass": s.string("The administrator password for the server.", update_allowed=True),
        "personality": s.map_("A map of files to create/overwrite on the server upon boot.", default={}),
        "tags": s.list_("Server tags.", update_allowed=True, item=s.string()),
        "deployment_swift_data": s.map_("Swift container and object to use for storing deployment data."),
    }
    attributes = {"name": "Name of the server.", "addresses": "A dict of all network addresses with "
                  "corresponding port_id and subnets.", "networks": "A dict of assigned network addresses of the "
                  "form: {'public': [ip1, ip2...], 'private': [ip3, ip4], 'public_uuid': [ip1, ip2...], "
                  "'private_uuid': [ip3, ip4]}.", "first_address": "Convenience attribute to fetch the first "
                  "assigned network address, or an empty string if nothing has been assigned at this time.",
                  "instance_name": "AWS compatible instance name.", "accessIPv4": "The manually assigned "
                  "alternative public IPv4 address of the server.", "accessIPv6": "The manually assigned "
                  "alternative public IPv6 address of the server.", "console_urls": "URLs of server's consoles.",
                  "os_collect_config": "The os-collect-config configuration for the server's local agent."}

    def needs_replacement(self, changed: dict[str, Any], props: dict[str, Any]) -> bool:
        if "flavor" in changed and props.get("flavor_update_policy") == "REPLACE":
            return True
        return super().needs_replacement(changed, props)

    async def _nics(self, step: Step, networks: list[dict[str, Any]]) -> Any:
        nics: list[dict[str, Any]] = []
        for net in networks:
            if net.get("allocate_network"):
                return net["allocate_network"]
            nic: dict[str, Any] = {}
            if net.get("port"):
                nic["port"] = await step.cloud.find("network", "ports", net["port"], "Port")
            elif net.get("network") or net.get("uuid"):
                nic["uuid"] = await step.cloud.find("network", "networks", net.get("network") or net["uuid"],
                                                    "Network")
            if net.get("fixed_ip"):
                nic["fixed_ip"] = net["fixed_ip"]
            nics.append(nic)
        return nics

    async def create(self, step: Step, props: dict[str, Any]) -> str:
        if not props.get("image") and not props.get("block_device_mapping_v2"):
            raise ResourceFailure("Neither image nor bootable volume is specified for instance "
                                  f"{step.physical_name}", "StackValidationFailed")
        body: dict[str, Any] = {
            "name": props.get("name") or step.physical_name,
            "flavorRef": await step.cloud.find("compute", "flavors", props["flavor"], "Flavor", any_id=True)}
        if props.get("image"):
            body["imageRef"] = await step.cloud.find("image", "images", props["image"], "Image")
        body.update(pick(props, {"key_name": "key_name", "availability_zone": "availability_zone",
                                 "metadata": "metadata", "config_drive": "config_drive", "admin_pass": "adminPass",
                                 "block_device_mapping_v2": "block_device_mapping_v2"}))
        if props.get("user_data"):  # inline, or the id of a software config
            body["user_data"] = b64(await config_text(step, props["user_data"]))
        if props.get("security_groups"):
            body["security_groups"] = [{"name": group} for group in props["security_groups"]]
        if props.get("networks"):
            body["networks"] = await self._nics(step, props["networks"])
        request: dict[str, Any] = {"server": body}
        if props.get("scheduler_hints"):
            request["os:scheduler_hints"] = props["scheduler_hints"]
        made = await step.cloud.call("POST", "compute", "/servers", json=request)
        return str(made["server"]["id"])

    async def _server(self, step: Step, physical_id: str) -> dict[str, Any] | None:
        found = await step.cloud.call("GET", "compute", f"/servers/{physical_id}", ok_missing=True)
        return found["server"] if found else None

    async def create_complete(self, step: Step, physical_id: str, props: dict[str, Any]) -> bool:
        server = await self._server(step, physical_id)
        if server is None:
            raise EntityNotFound(entity="server", name=physical_id)
        status = server.get("status")
        if status == "ERROR":
            fault = (server.get("fault") or {}).get("message", "Unknown")
            raise ResourceFailure(f"Went to status ERROR due to \"Message: {fault}, Code: "
                                  f"{(server.get('fault') or {}).get('code', 500)}\"", "ResourceInError")
        return bool(status == "ACTIVE")

    async def find(self, step: Step, props: dict[str, Any]) -> str | None:
        name = props.get("name") or step.physical_name
        listing = await step.cloud.call("GET", "compute", f"/servers?name=^{name}$")
        matches = [server for server in listing.get("servers", []) if server.get("name") == name]
        return str(matches[0]["id"]) if len(matches) == 1 and name == step.physical_name else None

    async def update(self, step: Step, physical_id: str, props: dict[str, Any], changed: dict[str, Any]) -> None:
        if "name" in changed:
            await step.cloud.call("PUT", "compute", f"/servers/{physical_id}",
                                  json={"server": {"name": props.get("name") or step.physical_name}})
        if "metadata" in changed:
            await step.cloud.call("PUT", "compute", f"/servers/{physical_id}/metadata",
                                  json={"metadata": props.get("metadata") or {}})
        if "admin_pass" in changed and props.get("admin_pass"):
            await step.cloud.call("POST", "compute", f"/servers/{physical_id}/action",
                                  json={"changePassword": {"adminPass": props["admin_pass"]}})
        if "flavor" in changed:
            flavor = await step.cloud.find("compute", "flavors", props["flavor"], "Flavor", any_id=True)
            step.data["resize_to"] = flavor
            await step.cloud.call("POST", "compute", f"/servers/{physical_id}/action",
                                  json={"resize": {"flavorRef": flavor}})

    async def update_complete(self, step: Step, physical_id: str, props: dict[str, Any]) -> bool:
        if "resize_to" not in step.data:
            return True
        server = await self._server(step, physical_id)
        status = (server or {}).get("status")
        if status == "VERIFY_RESIZE":
            await step.cloud.call("POST", "compute", f"/servers/{physical_id}/action", json={"confirmResize": None})
            return False
        if status == "ERROR":
            raise ResourceFailure("Resizing to '%s' failed, status 'ERROR'" % step.data["resize_to"],
                                  "ResourceInError")
        if status == "ACTIVE" and (server or {}).get("flavor", {}).get("id") == step.data["resize_to"]:
            step.data.pop("resize_to")
            return True
        return False

    async def delete(self, step: Step, physical_id: str) -> None:
        await step.cloud.call("DELETE", "compute", f"/servers/{physical_id}", ok_missing=True)

    async def delete_complete(self, step: Step, physical_id: str) -> bool:
        server = await self._server(step, physical_id)
        if server is not None and server.get("status") == "ERROR":
            raise ResourceFailure("Server failed to delete", "ResourceInError")
        return server is None or server.get("status") == "DELETED"

    # -- stack actions: Nova's suspend and resume, waited for as Heat does --------------
    checks = True

    async def _status(self, step: Step, physical_id: str) -> str:
        server = await self._server(step, physical_id)
        if server is None:
            raise PhysicalResourceNotFound(entity="server", name=physical_id)
        return str(server.get("status"))

    async def _act(self, step: Step, physical_id: str, action: str, done: str) -> None:
        if await self._status(step, physical_id) != done:
            await step.cloud.call("POST", "compute", f"/servers/{physical_id}/action", json={action: None})

    async def _reached(self, step: Step, physical_id: str, action: str, done: str) -> bool:
        status = await self._status(step, physical_id)
        if status == done:
            return True
        if status in ("ACTIVE", "SUSPENDED", "BUILD", "REBOOT", "HARD_REBOOT", "MIGRATING"):
            return False
        raise ResourceFailure(f"{action} of instance {physical_id} failed: status {status}", "ResourceUnknownStatus")

    async def suspend(self, step: Step, physical_id: str) -> None:
        await self._act(step, physical_id, "suspend", "SUSPENDED")

    async def suspend_complete(self, step: Step, physical_id: str) -> bool:
        return await self._reached(step, physical_id, "Suspend", "SUSPENDED")

    async def resume(self, step: Step, physical_id: str) -> None:
        await self._act(step, physical_id, "resume", "ACTIVE")

    async def resume_complete(self, step: Step, physical_id: str) -> bool:
        return await self._reached(step, physical_id, "Resume", "ACTIVE")

    async def check(self, step: Step, physical_id: str) -> None:
        status = await self._status(step, physical_id)
        if status != "ACTIVE":
            raise ResourceFailure(f"'status': expected 'ACTIVE', got '{status}'", "Error")

    async def show(self, step: Step, physical_id: str, props: dict[str, Any]) -> dict[str, Any]:
        server = await self._server(step, physical_id) or {}
        addresses: dict[str, list[dict[str, Any]]] = server.get("addresses") or {}
        networks: dict[str, list[str]] = {}
        for name, entries in addresses.items():
            ips = [str(entry.get("addr")) for entry in entries]
            networks[name] = ips
            found = await step.cloud.call("GET", "network", f"/networks?name={name}")
            for net in found.get("networks", []):
                networks[net["id"]] = ips
        first = next((ips[0] for ips in networks.values() if ips), "")
        return {"name": server.get("name"), "addresses": addresses, "networks": networks, "first_address": first,
                "instance_name": server.get("OS-EXT-SRV-ATTR:instance_name"),
                "accessIPv4": server.get("accessIPv4", ""), "accessIPv6": server.get("accessIPv6", ""),
                "console_urls": {}, "os_collect_config": {}, "show": server}


class KeyPair(ResourceType):
    type_name = "OS::Nova::KeyPair"
    description = "A resource for creating Nova key pairs."
    properties = {
        "name": s.string("The name of the key pair.", required=True),
        "save_private_key": s.boolean("True if the system should remember a generated private key; False "
                                      "otherwise.", default=False),
        "public_key": s.string("The optional public key."),
        "type": s.string("Keypair type.", allowed=("ssh", "x509")),
        "user": s.string("ID or name of user to whom to add key-pair."),
    }
    attributes = {"public_key": "The public key.", "private_key": "The private key if it has been saved."}

    async def create(self, step: Step, props: dict[str, Any]) -> str:
        made = await step.cloud.call("POST", "compute", "/os-keypairs", json={"keypair": pick(
            props, {"name": "name", "public_key": "public_key"})})
        keypair = made["keypair"]
        if props.get("save_private_key") and keypair.get("private_key"):
            step.data["private_key"] = keypair["private_key"]
        return str(keypair["name"])

    async def delete(self, step: Step, physical_id: str) -> None:
        await step.cloud.call("DELETE", "compute", f"/os-keypairs/{physical_id}", ok_missing=True)

    async def show(self, step: Step, physical_id: str, props: dict[str, Any]) -> dict[str, Any]:
        keypair = (await step.cloud.call("GET", "compute", f"/os-keypairs/{physical_id}"))["keypair"]
        return {"public_key": keypair.get("public_key"), "private_key": step.data.get("private_key", ""),
                "show": keypair}


class Flavor(ResourceType):
    type_name = "OS::Nova::Flavor"
    description = "A resource for creating OpenStack virtual hardware templates (admin only)."
    properties = {
        "name": s.string("Name of the flavor."),
        "ram": s.integer("Memory in MB for the flavor.", required=True),
        "vcpus": s.integer("Number of VCPUs for the flavor.", required=True),
        "disk": s.integer("Size of local disk in GB.", default=0),
        "swap": s.integer("Swap space in MB.", default=0),
        "ephemeral": s.integer("Size of a secondary ephemeral data disk in GB.", default=0),
        "rxtx_factor": s.number("RX/TX factor.", default=1.0),
        "extra_specs": s.map_("Key/Value pairs to extend the capabilities of the flavor.", update_allowed=True),
        "flavorid": s.string("Unique ID of the flavor. If not specified, an UUID will be auto generated and used."),
        "is_public": s.boolean("Scope of flavor accessibility. Public or private.", default=True),
        "tenants": s.list_("List of tenants.", default=[], update_allowed=True, item=s.string()),
        "description": s.string("Description of the flavor.", update_allowed=True),
    }
    attributes = {"is_public": "Whether the flavor is shared across all projects.", "extra_specs": "Extra specs of "
                  "the flavor in key-value pairs."}

    async def create(self, step: Step, props: dict[str, Any]) -> str:
        body = pick(props, {"ram": "ram", "vcpus": "vcpus", "disk": "disk", "swap": "swap",
                            "ephemeral": "OS-FLV-EXT-DATA:ephemeral", "rxtx_factor": "rxtx_factor",
                            "is_public": "os-flavor-access:is_public", "flavorid": "id"})
        body["name"] = props.get("name") or step.physical_name
        flavor = (await step.cloud.call("POST", "compute", "/flavors", json={"flavor": body}))["flavor"]
        await self._extras(step, flavor["id"], props)
        return str(flavor["id"])

    async def _extras(self, step: Step, flavor_id: str, props: dict[str, Any]) -> None:
        if props.get("extra_specs"):
            await step.cloud.call("POST", "compute", f"/flavors/{flavor_id}/os-extra_specs",
                                  json={"extra_specs": {k: str(v) for k, v in props["extra_specs"].items()}})
        if not props.get("is_public", True):
            for tenant in props.get("tenants") or []:
                await step.cloud.call("POST", "compute", f"/flavors/{flavor_id}/action",
                                      json={"addTenantAccess": {"tenant": tenant}})

    async def update(self, step: Step, physical_id: str, props: dict[str, Any], changed: dict[str, Any]) -> None:
        if "extra_specs" in changed or "tenants" in changed:
            await self._extras(step, physical_id, props)

    async def delete(self, step: Step, physical_id: str) -> None:
        await step.cloud.call("DELETE", "compute", f"/flavors/{physical_id}", ok_missing=True)

    async def show(self, step: Step, physical_id: str, props: dict[str, Any]) -> dict[str, Any]:
        flavor = (await step.cloud.call("GET", "compute", f"/flavors/{physical_id}"))["flavor"]
        return {"is_public": flavor.get("os-flavor-access:is_public"), "extra_specs": props.get("extra_specs") or {},
                "show": flavor}


class ServerGroup(ResourceType):
    type_name = "OS::Nova::ServerGroup"
    description = "A resource for managing a Nova server group."
    properties = {
        "name": s.string("Server Group name."),
        "policies": s.list_("A list of string policies to apply.", default=["anti-affinity"], item=s.string(
            allowed=("anti-affinity", "affinity", "soft-anti-affinity", "soft-affinity"))),
        "rules": s.map_("A list of rules to apply to the policy."),
    }

    async def create(self, step: Step, props: dict[str, Any]) -> str:
        made = await step.cloud.call("POST", "compute", "/os-server-groups", json={"server_group": {
            "name": props.get("name") or step.physical_name, "policies": props["policies"]}})
        return str(made["server_group"]["id"])

    async def delete(self, step: Step, physical_id: str) -> None:
        await step.cloud.call("DELETE", "compute", f"/os-server-groups/{physical_id}", ok_missing=True)

    async def show(self, step: Step, physical_id: str, props: dict[str, Any]) -> dict[str, Any]:
        return {"show": (await step.cloud.call("GET", "compute", f"/os-server-groups/{physical_id}"))["server_group"]}
