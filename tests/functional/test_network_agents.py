"""Neutron's agents extension against the all-in-one cloud's own network agent."""

from __future__ import annotations

import asyncio
import datetime as dt

import pytest

from pocketstack.common import rpc
from pocketstack.common.heartbeat import Heartbeat, group_name
from pocketstack.network import agent_records
from pocketstack.network.agent import NetworkAgent
from pocketstack.network.drivers.noop import NoopDriver
from pocketstack.network.drivers.rpc import AgentNotifier

from conftest import unique


@pytest.fixture
def dead_agent(cloud):
    """An agent that registered and then stopped heartbeating (its process died)."""
    host = unique("dead-host")
    agent_records.register(cloud.db, host, {"datapath_driver": "noop"})
    agents = cloud.service("network").agents.list()
    yield next(a for a in agents if a["host"] == host)
    cloud.service("network").agents.delete(next(a["id"] for a in agents if a["host"] == host))


def _running_host(cloud) -> str:
    return cloud.service("network").agent.host


def test_the_running_agent_is_listed_alive(api, admin_token, cloud):
    response = api.request("GET", "/network/v2.0/agents", admin_token, params={"host": _running_host(cloud)})
    assert response.status_code == 200, response.text
    [agent] = response.json()["agents"]
    assert agent["alive"] is True
    assert agent["agent_type"] == "pocketstack datapath agent"
    assert agent["binary"] == "pocketstack-network-agent"
    assert agent["topic"] == "network-agent"
    assert agent["configurations"] == {"datapath_driver": "noop"}
    assert agent["admin_state_up"] is True
    assert set(agent) >= {"id", "heartbeat_timestamp", "started_at", "created_at", "description",
                          "availability_zone", "resources_synced"}


def test_a_dead_agent_is_listed_not_alive_and_can_be_deleted(api, admin_token, dead_agent):
    assert dead_agent["alive"] is False
    path = f"/network/v2.0/agents/{dead_agent['id']}"
    shown = api.request("GET", path, admin_token).json()["agent"]
    assert shown["host"] == dead_agent["host"] and shown["alive"] is False

    assert api.request("DELETE", path, admin_token).status_code == 204
    missing = api.request("GET", path, admin_token)
    assert missing.status_code == 404
    assert missing.json()["NeutronError"]["type"] == "AgentNotFound"
    assert api.request("DELETE", path, admin_token).status_code == 404


def test_update_admin_state_and_description(api, admin_token, dead_agent):
    path = f"/network/v2.0/agents/{dead_agent['id']}"
    response = api.request("PUT", path, admin_token,
                           json={"agent": {"admin_state_up": False, "description": "draining"}})
    assert response.status_code == 200, response.text
    agent = response.json()["agent"]
    assert agent["admin_state_up"] is False and agent["description"] == "draining"
    listed = api.request("GET", "/network/v2.0/agents", admin_token,
                         params={"host": dead_agent["host"], "admin_state_up": "false"}).json()["agents"]
    assert [a["id"] for a in listed] == [dead_agent["id"]]


@pytest.mark.parametrize("body", [{"agent": {"host": "elsewhere"}}, {"agent": {"admin_state_up": "maybe"}},
                                  {"agent": {"description": "x" * 256}}, {"not-agent": {}}])
def test_bad_updates_are_a_neutron_400(api, admin_token, dead_agent, body):
    response = api.request("PUT", f"/network/v2.0/agents/{dead_agent['id']}", admin_token, json=body)
    assert response.status_code == 400, response.text
    assert "NeutronError" in response.json()


def test_agents_are_hidden_from_non_admins(api, demo_token, admin_token, dead_agent):
    """As in Neutron (and Tempest's test_list_agents_non_admin): an empty list, and 404s."""
    listed = api.request("GET", "/network/v2.0/agents", demo_token)
    assert listed.status_code == 200 and listed.json() == {"agents": []}
    path = f"/network/v2.0/agents/{dead_agent['id']}"
    for method, body in [("GET", None), ("PUT", {"agent": {"description": "mine"}}), ("DELETE", None)]:
        response = api.request(method, path, demo_token, json=body)
        assert response.status_code == 404, (method, response.text)
        assert response.json()["NeutronError"]["type"] == "AgentNotFound"
    assert api.request("GET", path, admin_token).json()["agent"]["description"] == ""


def test_the_agent_extension_is_advertised(api, admin_token):
    response = api.request("GET", "/network/v2.0/extensions/agent", admin_token)
    assert response.status_code == 200
    assert response.json()["extension"]["alias"] == "agent"


def test_changes_reach_an_agent_over_rpc(cloud):
    """The scaled-out path on the in-process transport: the API's notifier fans a change
    out, an agent process's endpoint applies it with its driver (timestamps survive JSON)."""
    service = cloud.service("network")
    host = unique("rpc-host")

    async def scenario() -> list[dict]:
        transport = rpc.get_transport(f"inproc://{unique('agents')}")
        driver = NoopDriver()
        heartbeat = Heartbeat(lambda: cloud.coordinator, group_name(unique("cluster"), "network-agent"), 1.0)
        agent = NetworkAgent(service.manager, driver, heartbeat, host, transport)
        await agent.start()
        try:
            notifier = AgentNotifier()
            notifier.attach(asyncio.get_running_loop(), transport)
            created = dt.datetime(2026, 1, 2, 3, 4, 5)
            await asyncio.to_thread(notifier.port_updated, {"id": "port-1", "created_at": created})
            for _ in range(100):
                if driver.of("port_updated", "port-1"):
                    break
                await asyncio.sleep(0.05)
            return driver.of("port_updated", "port-1")
        finally:
            await agent.stop()
            await transport.close()

    try:
        assert asyncio.run(scenario()) == [{"id": "port-1", "created_at": "2026-01-02T03:04:05Z"}]
    finally:
        for agent in service.agents.list():
            if agent["host"] == host:
                service.agents.delete(agent["id"])


class CountingDriver(NoopDriver):
    """A noop driver that reports, as the Linux driver reports its counts, how many
    changes it has received."""

    def status(self) -> dict:
        return {"events": len(self.events)}


def test_each_heartbeat_reports_the_drivers_status(api, admin_token, cloud):
    service = cloud.service("network")
    host = unique("status-host")

    def configurations() -> dict:
        response = api.request("GET", "/network/v2.0/agents", admin_token, params={"host": host})
        assert response.status_code == 200, response.text
        return response.json()["agents"][0]["configurations"]

    async def scenario() -> tuple[dict, dict]:
        transport = rpc.get_transport(f"inproc://{unique('agents')}")
        driver = CountingDriver()
        heartbeat = Heartbeat(lambda: cloud.coordinator, group_name(unique("cluster"), "network-agent"), 0.1)
        agent = NetworkAgent(service.manager, driver, heartbeat, host, transport)
        await agent.start()
        try:
            registered = await asyncio.to_thread(configurations)  # the sync on start: one event
            notifier = AgentNotifier()
            notifier.attach(asyncio.get_running_loop(), transport)
            await asyncio.to_thread(notifier.port_updated, {"id": "port-1"})
            for _ in range(100):
                later = await asyncio.to_thread(configurations)
                if later.get("events") == 2:
                    break
                await asyncio.sleep(0.05)
            return registered, later
        finally:
            await agent.stop()
            await transport.close()

    try:
        registered, later = asyncio.run(scenario())
        assert registered == {"datapath_driver": "noop", "events": 1}
        assert later == {"datapath_driver": "noop", "events": 2}
    finally:
        for agent in service.agents.list():
            if agent["host"] == host:
                service.agents.delete(agent["id"])
