"""The network:dhcp port where a DHCP agent serves the networks (the linux datapath's
settings; the datapath itself is the noop driver here: this is the API's bookkeeping).

Created with the first DHCP-enabled subnet (Neutron's device_id ``dhcp<uuid5(host)>-<net>``,
bound to the agent's host), an address on each DHCP subnet, gone with the last of them
or with the network, never keeping a subnet or network in use; guests' ports are bound
as ``tap`` on the network's bridge.  Without a DHCP agent (noop) there is none.
"""

from __future__ import annotations

import uuid

import pytest
from starlette.datastructures import QueryParams

from pocketstack.common.config import load
from pocketstack.common.context import RequestContext
from pocketstack.network.context import Env
from pocketstack.network.drivers.noop import NoopDriver
from pocketstack.network.manager import NetworkManager
from pocketstack.network.segments import SegmentConfig
from pocketstack.network.service import binding

from conftest import unique

HOST = "agent-host-1"


def manager(cloud, datapath: str) -> NetworkManager:
    settings = load(environ={"POCKETSTACK_NETWORK_DATAPATH": datapath, "POCKETSTACK_NETWORK_AGENT_HOST": HOST})
    return NetworkManager(Env(db=cloud.db, driver=NoopDriver(), segments=SegmentConfig.from_settings(settings),
                              **binding(settings)))


@pytest.fixture
def ctx():
    return RequestContext(user_id=unique("user"), project_id=unique("project"), roles=["member", "reader"])


def dhcp_ports(m: NetworkManager, ctx: RequestContext, network_id: str) -> list[dict]:
    ports, _ = m.list(ctx, "ports", QueryParams({"network_id": network_id, "device_owner": "network:dhcp"}))
    return ports


def test_dhcp_port_follows_the_dhcp_subnets(cloud, ctx):
    m = manager(cloud, "linux")
    net = m.create(ctx, "networks", {"name": unique("n")})
    assert dhcp_ports(m, ctx, net["id"]) == []
    plain = m.create(ctx, "subnets", {"network_id": net["id"], "ip_version": 4, "cidr": "10.9.1.0/24",
                                      "enable_dhcp": False})
    assert dhcp_ports(m, ctx, net["id"]) == []
    first = m.create(ctx, "subnets", {"network_id": net["id"], "ip_version": 4, "cidr": "10.9.2.0/24"})
    [port] = dhcp_ports(m, ctx, net["id"])
    assert port["device_id"] == f"dhcp{uuid.uuid5(uuid.NAMESPACE_DNS, HOST)}-{net['id']}"
    assert (port["binding:host_id"], port["status"], port["project_id"]) == (HOST, "ACTIVE", ctx.project_id)
    [fixed] = port["fixed_ips"]
    assert fixed["subnet_id"] == first["id"] and fixed["ip_address"].startswith("10.9.2.")
    assert port["security_groups"] == []
    assert port["binding:vif_type"] == "tap"
    assert port["binding:vif_details"] == {"port_filter": True, "connectivity": "l2",
                                           "bridge_name": f"br-{net['id'][:11]}"}

    second = m.create(ctx, "subnets", {"network_id": net["id"], "ip_version": 4, "cidr": "10.9.3.0/24"})
    m.update(ctx, "subnets", plain["id"], {"enable_dhcp": True})
    [again] = dhcp_ports(m, ctx, net["id"])
    assert again["id"] == port["id"]
    addresses = {f["subnet_id"]: f["ip_address"] for f in again["fixed_ips"]}
    assert set(addresses) == {first["id"], second["id"], plain["id"]}
    assert addresses[first["id"]] == fixed["ip_address"]  # kept while the port follows the subnets

    # Its address never keeps a subnet in use; the last DHCP subnet takes it away.
    m.delete(ctx, "subnets", first["id"])
    m.update(ctx, "subnets", plain["id"], {"enable_dhcp": False})
    [again] = dhcp_ports(m, ctx, net["id"])
    assert again["fixed_ips"] == [{"subnet_id": second["id"], "ip_address": addresses[second["id"]]}]
    m.delete(ctx, "subnets", second["id"])
    assert dhcp_ports(m, ctx, net["id"]) == []


def test_network_delete_takes_its_dhcp_port(cloud, ctx):
    m = manager(cloud, "linux")
    net = m.create(ctx, "networks", {"name": unique("n")})
    m.create(ctx, "subnets", {"network_id": net["id"], "ip_version": 4, "cidr": "10.9.4.0/24"})
    [port] = dhcp_ports(m, ctx, net["id"])
    m.delete(ctx, "networks", net["id"])
    all_ports, _ = m.list(RequestContext.admin(), "ports", QueryParams({"id": port["id"]}))
    assert all_ports == []


def test_no_dhcp_agent_no_dhcp_port(cloud, ctx):
    m = manager(cloud, "noop")
    net = m.create(ctx, "networks", {"name": unique("n")})
    m.create(ctx, "subnets", {"network_id": net["id"], "ip_version": 4, "cidr": "10.9.5.0/24"})
    assert dhcp_ports(m, ctx, net["id"]) == []
    guest = m.create(ctx, "ports", {"network_id": net["id"], "binding:host_id": "h", "device_id": "x"})
    assert (guest["binding:vif_type"], guest["binding:vif_details"]) == ("ovs", {"port_filter": True})
