"""Routers and DHCP networks scheduled on network agents, and Neutron's
l3_agent_scheduler / dhcp_agent_scheduler API that shows and moves them.

The scheduling tests use a manager whose alive agents are two registered hosts (as
the linux datapath's service has them from the coordination group); the API tests go
through the all-in-one cloud (noop datapath: nothing is scheduled by itself there,
but the operator's API works the same).
"""

from __future__ import annotations

import pytest
from starlette.datastructures import QueryParams

from pocketstack.common.config import load
from pocketstack.common.context import RequestContext
from pocketstack.network import agent_records
from pocketstack.network.context import Env
from pocketstack.network.drivers.base import DHCP_AGENT, L3_AGENT
from pocketstack.network.drivers.noop import NoopDriver
from pocketstack.network.manager import NetworkManager
from pocketstack.network.scheduling import least_loaded
from pocketstack.network.segments import SegmentConfig
from pocketstack.network.service import binding

from conftest import unique


@pytest.fixture
def two_hosts(cloud):
    """Two registered agents serving DHCP and routers, as the linux datapath's do, hosts
    sorted "a" < "b"; both alive unless told otherwise.  ``agents[host, agent_type]``."""
    hosts = [unique("sched-a"), unique("sched-b")]
    for host in hosts:
        agent_records.register(cloud.db, host, {"datapath_driver": "linux"}, serves=(DHCP_AGENT, L3_AGENT))
    directory = cloud.service("network").agents
    agents = {(a["host"], a["agent_type"]): a for a in directory.list() if a["host"] in hosts}
    yield hosts, agents
    for agent in agents.values():
        directory.delete(agent["id"])


def manager(cloud, alive: set[str]) -> NetworkManager:
    settings = load(environ={"POCKETSTACK_NETWORK_DATAPATH": "linux", "POCKETSTACK_NETWORK_AGENT_HOST": "fallback"})
    return NetworkManager(Env(db=cloud.db, driver=NoopDriver(), segments=SegmentConfig.from_settings(settings),
                              alive_hosts=lambda: set(alive), **binding(settings)))


def router_ports(m: NetworkManager, router_id: str) -> list[dict]:
    ports, _ = m.list(RequestContext.admin(), "ports", QueryParams({"device_id": router_id}))
    return ports


def test_least_loaded_alive_enabled_agent_by_host():
    class A:
        def __init__(self, id, host, up=True):
            self.id, self.host, self.admin_state_up = id, host, up
    agents = [A("1", "h1"), A("2", "h2"), A("3", "h3", up=False), A("4", "h0")]
    assert least_loaded(agents, {"1": 2, "2": 1}, {"h1", "h2", "h3"}).id == "2"
    assert least_loaded(agents, {"1": 1, "2": 1}, {"h1", "h2", "h3"}).id == "1"  # a tie: by host
    assert least_loaded(agents, {}, {"h0", "h1"}).id == "4"
    assert least_loaded(agents, {}, {"h3"}) is None  # disabled
    assert least_loaded(agents, {}, set()) is None  # nobody alive


def test_routers_and_dhcp_networks_go_to_the_least_loaded_alive_agent(cloud, two_hosts):
    (a, b), _ = two_hosts
    alive = {a, b}
    m = manager(cloud, alive)
    ctx = RequestContext(user_id=unique("user"), project_id=unique("project"), roles=["member", "reader"])
    net = m.create(ctx, "networks", {"name": unique("n")})
    subnet = m.create(ctx, "subnets", {"network_id": net["id"], "ip_version": 4, "cidr": "10.61.1.0/24"})
    [dhcp] = m.list(ctx, "ports", QueryParams({"network_id": net["id"], "device_owner": "network:dhcp"}))[0]
    assert dhcp["binding:host_id"] == a  # both idle: by host name
    first = m.create(ctx, "routers", {"name": unique("r")})
    assert all(p["binding:host_id"] == "" for p in router_ports(m, first["id"]))  # nothing to serve yet
    m.add_router_interface(ctx, first["id"], {"subnet_id": subnet["id"]})
    [interface] = router_ports(m, first["id"])
    assert interface["binding:host_id"] == a
    second_net = m.create(ctx, "networks", {"name": unique("n")})
    second_subnet = m.create(ctx, "subnets", {"network_id": second_net["id"], "ip_version": 4,
                                              "cidr": "10.61.2.0/24"})
    [dhcp2] = m.list(ctx, "ports", QueryParams({"network_id": second_net["id"], "device_owner": "network:dhcp"}))[0]
    assert dhcp2["binding:host_id"] == b  # a serves one network already
    second = m.create(ctx, "routers", {"name": unique("r")})
    m.add_router_interface(ctx, second["id"], {"subnet_id": second_subnet["id"]})
    assert [p["binding:host_id"] for p in router_ports(m, second["id"])] == [b]
    # A dead agent gets nothing: with b gone, a third router goes to a.
    alive.discard(b)
    third = m.create(ctx, "routers", {"name": unique("r")})
    third_net = m.create(ctx, "networks", {"name": unique("n")})
    third_subnet = m.create(ctx, "subnets", {"network_id": third_net["id"], "ip_version": 4,
                                             "cidr": "10.61.3.0/24", "enable_dhcp": False})
    m.add_router_interface(ctx, third["id"], {"subnet_id": third_subnet["id"]})
    assert [p["binding:host_id"] for p in router_ports(m, third["id"])] == [a]
    # Nobody alive: a new DHCP network's port is bound to the service's own host.
    alive.clear()
    fourth = m.create(ctx, "networks", {"name": unique("n")})
    m.create(ctx, "subnets", {"network_id": fourth["id"], "ip_version": 4, "cidr": "10.61.4.0/24"})
    [dhcp4] = m.list(ctx, "ports", QueryParams({"network_id": fourth["id"], "device_owner": "network:dhcp"}))[0]
    assert dhcp4["binding:host_id"] == "fallback"
    for router, sub in ((first, subnet), (second, second_subnet), (third, third_subnet)):
        m.remove_router_interface(ctx, router["id"], {"subnet_id": sub["id"]})
        m.delete(ctx, "routers", router["id"])
    for network in (net, second_net, third_net, fourth):
        m.delete(ctx, "networks", network["id"])


def test_the_agent_scheduler_api(api, admin_token, demo_token, cloud, two_hosts):
    (a, b), agents = two_hosts
    agent_a, agent_b = agents[a, L3_AGENT]["id"], agents[b, L3_AGENT]["id"]
    dhcp_a, dhcp_b = agents[a, DHCP_AGENT]["id"], agents[b, DHCP_AGENT]["id"]
    n = "/network/v2.0"
    net = api.request("POST", f"{n}/networks", admin_token, json={"network": {"name": unique("n")}}).json()["network"]
    subnet = api.request("POST", f"{n}/subnets", admin_token, json={"subnet": {
        "network_id": net["id"], "ip_version": 4, "cidr": "10.62.1.0/24"}}).json()["subnet"]
    router = api.request("POST", f"{n}/routers", admin_token,
                         json={"router": {"name": unique("r")}}).json()["router"]
    interface = api.request("PUT", f"{n}/routers/{router['id']}/add_router_interface", admin_token,
                            json={"subnet_id": subnet["id"]}).json()
    try:
        assert api.request("GET", f"{n}/routers/{router['id']}/l3-agents", admin_token).json() == {"agents": []}
        added = api.request("POST", f"{n}/agents/{agent_a}/l3-routers", admin_token, json={"router_id": router["id"]})
        assert (added.status_code, added.text) == (201, "null")
        [hosting] = api.request("GET", f"{n}/routers/{router['id']}/l3-agents", admin_token).json()["agents"]
        assert (hosting["id"], hosting["host"]) == (agent_a, a)
        routers = api.request("GET", f"{n}/agents/{agent_a}/l3-routers", admin_token).json()["routers"]
        assert [r["id"] for r in routers] == [router["id"]]
        port = api.request("GET", f"{n}/ports/{interface['port_id']}", admin_token).json()["port"]
        assert port["binding:host_id"] == a  # where the datapath serves it
        again = api.request("POST", f"{n}/agents/{agent_b}/l3-routers", admin_token, json={"router_id": router["id"]})
        assert again.status_code == 409
        assert again.json()["NeutronError"]["type"] == "RouterHostedByL3Agent"
        wrong = api.request("DELETE", f"{n}/agents/{agent_b}/l3-routers/{router['id']}", admin_token)
        assert (wrong.status_code, wrong.json()["NeutronError"]["type"]) == (409, "RouterNotHostedByL3Agent")
        assert api.request("DELETE", f"{n}/agents/{agent_a}/l3-routers/{router['id']}", admin_token).status_code == 204
        port = api.request("GET", f"{n}/ports/{interface['port_id']}", admin_token).json()["port"]
        assert port["binding:host_id"] == ""
        assert api.request("GET", f"{n}/agents/{agent_a}/l3-routers", admin_token).json() == {"routers": []}

        added = api.request("POST", f"{n}/agents/{dhcp_b}/dhcp-networks", admin_token, json={"network_id": net["id"]})
        assert (added.status_code, added.text) == (201, "null")
        [hosting] = api.request("GET", f"{n}/networks/{net['id']}/dhcp-agents", admin_token).json()["agents"]
        assert (hosting["id"], hosting["agent_type"], hosting["host"]) == (dhcp_b, "DHCP agent", b)
        networks = api.request("GET", f"{n}/agents/{dhcp_b}/dhcp-networks", admin_token).json()["networks"]
        assert [x["id"] for x in networks] == [net["id"]]
        again = api.request("POST", f"{n}/agents/{dhcp_a}/dhcp-networks", admin_token, json={"network_id": net["id"]})
        assert (again.status_code, again.json()["NeutronError"]["type"]) == (409, "NetworkHostedByDHCPAgent")
        assert api.request("DELETE", f"{n}/agents/{dhcp_b}/dhcp-networks/{net['id']}", admin_token).status_code == 204
        gone = api.request("DELETE", f"{n}/agents/{dhcp_b}/dhcp-networks/{net['id']}", admin_token)
        assert (gone.status_code, gone.json()["NeutronError"]["type"]) == (409, "NetworkNotHostedByDhcpAgent")

        # Each agent type schedules its own work only (Neutron's InvalidL3Agent / InvalidDHCPAgent, 404).
        datapath_a = agents[a, agent_records.AGENT_TYPE]["id"]
        for agent_id in (dhcp_a, datapath_a):
            wrong = api.request("POST", f"{n}/agents/{agent_id}/l3-routers", admin_token,
                                json={"router_id": router["id"]})
            assert (wrong.status_code, wrong.json()["NeutronError"]["type"]) == (404, "InvalidL3Agent")
        for agent_id in (agent_a, datapath_a):
            wrong = api.request("POST", f"{n}/agents/{agent_id}/dhcp-networks", admin_token,
                                json={"network_id": net["id"]})
            assert (wrong.status_code, wrong.json()["NeutronError"]["type"]) == (404, "InvalidDHCPAgent")
        # The network is looked up before the agent, as in Neutron.
        lost = api.request("POST", f"{n}/agents/{datapath_a}/dhcp-networks", admin_token,
                           json={"network_id": unique("net")})
        assert (lost.status_code, lost.json()["NeutronError"]["type"]) == (404, "NetworkNotFound")

        # Admin only, as in Neutron; bad input is a 400, unknown things 404.
        for method, path in (("GET", f"/routers/{router['id']}/l3-agents"), ("GET", f"/agents/{agent_a}/l3-routers"),
                             ("GET", f"/networks/{net['id']}/dhcp-agents"),
                             ("GET", f"/agents/{agent_a}/dhcp-networks")):
            assert api.request(method, n + path, demo_token).status_code == 403
        refused = api.request("POST", f"{n}/agents/{agent_a}/l3-routers", demo_token, json={"router_id": router["id"]})
        assert refused.status_code == 403
        for body in ({}, {"router_id": 5}, [], {"router_id": ""}):
            bad = api.request("POST", f"{n}/agents/{agent_a}/l3-routers", admin_token, json=body)
            assert bad.status_code == 400, bad.text
        missing = api.request("POST", f"{n}/agents/{agent_a}/l3-routers", admin_token, json={"router_id": unique("x")})
        assert (missing.status_code, missing.json()["NeutronError"]["type"]) == (404, "RouterNotFound")
        nobody = api.request("GET", f"{n}/agents/{unique('agent')}/dhcp-networks", admin_token)
        assert (nobody.status_code, nobody.json()["NeutronError"]["type"]) == (404, "AgentNotFound")
        assert api.request("GET", f"{n}/networks/{unique('net')}/dhcp-agents", admin_token).status_code == 404
        aliases = {e["alias"] for e in api.request("GET", f"{n}/extensions", admin_token).json()["extensions"]}
        assert {"l3_agent_scheduler", "dhcp_agent_scheduler"} <= aliases
    finally:
        api.request("PUT", f"{n}/routers/{router['id']}/remove_router_interface", admin_token,
                    json={"subnet_id": subnet["id"]})
        api.request("DELETE", f"{n}/routers/{router['id']}", admin_token)
        api.request("DELETE", f"{n}/networks/{net['id']}", admin_token)


def test_a_dead_agents_routers_and_dhcp_networks_fail_over(cloud, two_hosts):
    (a, b), _ = two_hosts
    alive = {a}
    m = manager(cloud, alive)
    ctx = RequestContext(user_id=unique("user"), project_id=unique("project"), roles=["member", "reader"])
    net = m.create(ctx, "networks", {"name": unique("n")})
    subnet = m.create(ctx, "subnets", {"network_id": net["id"], "ip_version": 4, "cidr": "10.63.1.0/24"})
    router = m.create(ctx, "routers", {"name": unique("r")})
    m.add_router_interface(ctx, router["id"], {"subnet_id": subnet["id"]})
    query = QueryParams({"network_id": net["id"], "device_owner": "network:dhcp"})
    assert [p["binding:host_id"] for p in router_ports(m, router["id"])] == [a]
    mine = {router["id"], net["id"]}  # (other tests' agents may be dead: only ours count)
    assert not mine & set(m.reschedule_dead_agents())  # a is alive: nothing moves
    alive.clear()
    assert not mine & set(m.reschedule_dead_agents())  # nobody to move to: it stays
    alive.add(b)  # a died, b is up
    assert set(m.reschedule_dead_agents()) >= {router["id"], net["id"]}
    assert [p["binding:host_id"] for p in router_ports(m, router["id"])] == [b]
    [dhcp] = m.list(ctx, "ports", query)[0]
    assert dhcp["binding:host_id"] == b and dhcp["device_id"].endswith(net["id"])
    m.remove_router_interface(ctx, router["id"], {"subnet_id": subnet["id"]})
    m.delete(ctx, "routers", router["id"])
    m.delete(ctx, "networks", net["id"])
