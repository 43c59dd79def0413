"""``pocketstack network-agent --host`` beside ``pocketstack api`` over PostgreSQL,
RabbitMQ and Redis: datapath changes reach the agent over RPC, and the agents API
reports it alive from its heartbeats, then dead once it is SIGKILLed.

The run has its own database and ``cluster_name`` (queue and group prefix) and removes
its queues, exchange and Redis keys afterwards.
"""

from __future__ import annotations

import json
import signal
import uuid

import pytest

from backends import scratch_database
from cloudproc import ProcessGroup, cluster_settings, eventually, forget_cluster, free_port
from support import require_service

SERVICE_DOWN_TIME = 5  # seconds; heartbeats every second
HOST = "net-a"
TOPIC = "network-agent"


@pytest.fixture
def cluster(tmp_path):
    for service in ("postgresql", "rabbitmq", "redis"):
        require_service(service)
    cluster_name = f"pstest{uuid.uuid4().hex[:10]}"
    with scratch_database("postgresql", tmp_path) as database_url:
        config = tmp_path / "pocketstack.toml"
        config.write_text(cluster_settings(cluster_name, database_url, service_down_time=SERVICE_DOWN_TIME))
        processes = ProcessGroup(tmp_path, config)
        try:
            processes.start_api("api", free_port())  # it migrates the database: start the agent after it
            yield processes
        finally:
            processes.stop_all()
            forget_cluster(cluster_name, {TOPIC: [HOST]})


def journal(processes: ProcessGroup) -> list[dict]:
    path = processes.root / HOST / "datapath-journal.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def agents(processes: ProcessGroup) -> dict[str, dict]:
    return {a["Host"]: a for a in processes.openstack("network", "agent", "list", "-f", "json")}


def test_agent_applies_changes_and_is_reported_dead_after_sigkill(cluster):
    agent = cluster.start(HOST, "network-agent", "--host", HOST)
    listed = eventually(lambda: agent.poll() is None and agents(cluster).get(HOST, {}).get("Alive") is True
                        and agents(cluster)[HOST])
    assert listed["Agent Type"] == "pocketstack datapath agent"
    assert listed["Binary"] == "pocketstack-network-agent"
    assert any(entry["event"] == "sync" for entry in journal(cluster))  # replayed the state on start

    network = cluster.openstack("network", "create", "agent-net", "-f", "json")
    port = cluster.openstack("port", "create", "--network", network["id"], "agent-port", "-f", "json")
    received = eventually(lambda: [e for e in journal(cluster)
                                   if e["event"] == "port_updated" and e["payload"]["id"] == port["id"]])
    assert received[-1]["payload"]["network_id"] == network["id"]
    assert any(e["event"] == "network_updated" and e["payload"]["id"] == network["id"] for e in journal(cluster))

    agent.send_signal(signal.SIGKILL)
    agent.wait()
    eventually(lambda: agents(cluster)[HOST]["Alive"] is False, timeout=SERVICE_DOWN_TIME * 6)

    shown = cluster.openstack("network", "agent", "show", listed["ID"], "-f", "json")
    assert shown["alive"] is False and shown["host"] == HOST
