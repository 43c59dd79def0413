"""The all-in-one cloud on the Linux datapath lists its network agent as a "DHCP agent"
and an "L3 agent", and what the agent scheduler API does to them is what its dnsmasq
and router namespaces do: Tempest's ``admin.test_dhcp_agent_scheduler`` steps with the
real datapath underneath (the real ``openstack`` CLI).  Needs root: the cloud's
namespaces carry a prefix unique to the run and are removed at the end.
"""

from __future__ import annotations

import contextlib
import random
import time
from pathlib import Path

import pytest

from cloudproc import running_cloud
from support import require_netns, sh

TOOLS = {"ip": "iproute2", "nft": "nftables", "dnsmasq": "dnsmasq-base"}


@pytest.fixture
def prefix():
    require_netns(TOOLS, "the Linux datapath")
    return f"pne{random.randrange(16**4):04x}-"


def namespaces(prefix: str) -> set[str]:
    return {ns for ns in sh("ip", "netns", "list").stdout.split() if ns.startswith(prefix)}


def eventually(check, timeout: float = 30.0):
    deadline = time.monotonic() + timeout
    while not (result := check()):
        if time.monotonic() > deadline:
            raise AssertionError("not reached in time")
        time.sleep(0.5)
    return result


def test_the_dhcp_and_l3_agents_are_the_datapath_that_serves(tmp_path: Path, prefix: str):
    env = {"POCKETSTACK_NETWORK_DATAPATH": "linux", "POCKETSTACK_NETWORK_DATAPATH_PREFIX": prefix,
           "POCKETSTACK_NETWORK_AGENT_HOST": "agent-host"}
    try:
        with running_cloud(tmp_path, env=env) as cloud:
            def run(*args: str):
                return cloud.openstack(*args)

            agents = eventually(lambda: [a for a in run("network", "agent", "list", "-f", "json")
                                         if a["Alive"]])
            by_type = {a["Agent Type"]: a for a in agents}
            assert set(by_type) == {"pocketstack datapath agent", "DHCP agent", "L3 agent"}
            assert {a["Host"] for a in agents} == {"agent-host"}
            dhcp, l3 = by_type["DHCP agent"]["ID"], by_type["L3 agent"]["ID"]

            net = run("network", "create", "agents-net", "-f", "json")["id"]
            run("subnet", "create", "--network", net, "--subnet-range", "10.77.0.0/24", "agents-subnet")
            # Scheduled on the DHCP agent, served by its dnsmasq in the network's namespace.
            hosting = run("network", "agent", "list", "--network", net, "-f", "json")
            assert [a["ID"] for a in hosting] == [dhcp]
            assert net in {n["ID"] for n in run("network", "list", "--agent", dhcp, "-f", "json")}
            assert run("network", "list", "--agent", l3, "-f", "json") == []
            eventually(lambda: f"{prefix}dhcp-{net}" in namespaces(prefix))
            [port] = run("port", "list", "--network", net, "--device-owner", "network:dhcp", "-f", "json")
            assert port["Status"] == "ACTIVE"

            # Taken off the agent: the DHCP port and the dnsmasq namespace go.
            run("network", "agent", "remove", "network", "--dhcp", dhcp, net)
            assert run("network", "agent", "list", "--network", net, "-f", "json") == []
            assert run("port", "list", "--network", net, "--device-owner", "network:dhcp", "-f", "json") == []
            eventually(lambda: f"{prefix}dhcp-{net}" not in namespaces(prefix))
            # Back on it: served again.
            run("network", "agent", "add", "network", "--dhcp", dhcp, net)
            assert [a["ID"] for a in run("network", "agent", "list", "--network", net, "-f", "json")] == [dhcp]
            eventually(lambda: f"{prefix}dhcp-{net}" in namespaces(prefix))

            # A router with an interface is scheduled on the L3 agent, its namespace made.
            router = run("router", "create", "agents-router", "-f", "json")["id"]
            run("router", "add", "subnet", router, "agents-subnet")
            assert [a["ID"] for a in run("network", "agent", "list", "--router", router, "-f", "json")] == [l3]
            eventually(lambda: f"{prefix}router-{router}" in namespaces(prefix))
            run("router", "remove", "subnet", router, "agents-subnet")
            run("router", "delete", router)
            run("network", "delete", net)
            eventually(lambda: not {f"{prefix}dhcp-{net}", f"{prefix}router-{router}"} & namespaces(prefix))
    finally:
        from pocketstack.network.drivers.linux import LinuxDriver
        with contextlib.suppress(Exception):
            LinuxDriver(tmp_path / "data" / "datapath", prefix=prefix).destroy()
        assert not namespaces(prefix)
