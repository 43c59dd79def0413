"""Agent rows of Neutron's types: an agent whose datapath serves DHCP and routers lists
itself as a "DHCP agent" and an "L3 agent" beside its own row; one that serves neither
(noop) claims neither.  What Tempest's agent scheduler tests look for
(``admin.test_dhcp_agent_scheduler``: ``GET /v2.0/agents?agent_type=DHCP Agent``).
"""

from __future__ import annotations

import asyncio

from pocketstack.common import rpc
from pocketstack.common.heartbeat import Heartbeat, group_name
from pocketstack.network import agent_records
from pocketstack.network.agent import NetworkAgent
from pocketstack.network.drivers.base import DHCP_AGENT, L3_AGENT
from pocketstack.network.drivers.current_state import CurrentStateDriver
from pocketstack.network.drivers.linux import LinuxDriver
from pocketstack.network.drivers.noop import NoopDriver

from conftest import unique


class ServingDriver(NoopDriver):
    """Declares the DHCP and L3 work, as the Linux driver does (which needs root to build)."""

    agent_types = (DHCP_AGENT, L3_AGENT)


def test_drivers_declare_what_they_serve():
    assert LinuxDriver.agent_types == (DHCP_AGENT, L3_AGENT)
    assert NoopDriver.agent_types == ()
    # The wrapper the all-in-one puts around the Linux driver keeps the declaration.
    assert CurrentStateDriver(ServingDriver(), lambda kind, item: None).agent_types == (DHCP_AGENT, L3_AGENT)
    assert CurrentStateDriver(NoopDriver(), lambda kind, item: None).agent_types == ()


def run_agent(cloud, api, admin_token, driver: NoopDriver, host: str) -> list[dict]:
    """Start an agent with ``driver`` for ``host``; the agents listed for the host while it runs."""
    service = cloud.service("network")

    async def scenario() -> list[dict]:
        transport = rpc.get_transport(f"inproc://{unique('agents')}")
        heartbeat = Heartbeat(lambda: cloud.coordinator, group_name(unique("cluster"), "network-agent"), 1.0)
        agent = NetworkAgent(service.manager, driver, heartbeat, host, transport)
        await agent.start()
        try:
            response = await asyncio.to_thread(api.request, "GET", "/network/v2.0/agents", admin_token,
                                               params={"host": host})
            assert response.status_code == 200, response.text
            return response.json()["agents"]
        finally:
            await agent.stop()
            await transport.close()

    return asyncio.run(scenario())


def forget(cloud, host: str) -> None:
    directory = cloud.service("network").agents
    for agent in directory.list():
        if agent["host"] == host:
            directory.delete(agent["id"])


def test_a_serving_agent_lists_dhcp_and_l3_rows_a_noop_one_none(api, admin_token, cloud):
    serving, idle = unique("serving-host"), unique("noop-host")
    try:
        rows = run_agent(cloud, api, admin_token, ServingDriver(), serving)
        assert sorted(a["agent_type"] for a in rows) == ["DHCP agent", "L3 agent", "pocketstack datapath agent"]
        assert len({row["alive"] for row in rows}) == 1  # one process: one liveness (its host's membership)
        for row in rows:  # one binary, one topic, the same report
            assert (row["binary"], row["topic"], row["admin_state_up"]) == (
                "pocketstack-network-agent", "network-agent", True)
            assert row["configurations"] == {"datapath_driver": "noop"}
        assert [a["agent_type"] for a in run_agent(cloud, api, admin_token, NoopDriver(), idle)] == [
            "pocketstack datapath agent"]
        # Tempest's spelling ("DHCP Agent"): Neutron matches it on MySQL's case-insensitive
        # collation, the list filters here are case-insensitive alike.
        found = api.request("GET", "/network/v2.0/agents", admin_token,
                            params={"agent_type": "DHCP Agent", "host": [serving, idle]}).json()["agents"]
        assert [(a["host"], a["agent_type"]) for a in found] == [(serving, "DHCP agent")]
    finally:
        forget(cloud, serving)
        forget(cloud, idle)


def test_a_heartbeat_registers_a_deleted_row_again(cloud):
    host = unique("beat-host")
    directory = cloud.service("network").agents
    serves = (DHCP_AGENT, L3_AGENT)
    try:
        agent_records.register(cloud.db, host, {"datapath_driver": "linux"}, serves)
        before = {a["agent_type"]: a["id"] for a in directory.list() if a["host"] == host}
        assert set(before) == {agent_records.AGENT_TYPE, DHCP_AGENT, L3_AGENT}
        assert directory.delete(before[DHCP_AGENT])
        agent_records.beat(cloud.db, host, {"datapath_driver": "linux", "networks": 3}, serves)
        after = {a["agent_type"]: a for a in directory.list() if a["host"] == host}
        assert set(after) == set(before)
        assert after[DHCP_AGENT]["id"] != before[DHCP_AGENT]  # a new row, as a Neutron agent's next report
        assert after[L3_AGENT]["id"] == before[L3_AGENT]
        assert all(a["configurations"]["networks"] == 3 for a in after.values())
        # Registering again (a restart) keeps the rows and their ids.
        agent_records.register(cloud.db, host, {"datapath_driver": "linux"}, serves)
        assert {a["agent_type"]: a["id"] for a in directory.list() if a["host"] == host} == {
            t: a["id"] for t, a in after.items()}
    finally:
        forget(cloud, host)
