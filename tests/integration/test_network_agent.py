"""``pocketstack network-agent --host`` beside ``pocketstack api`` over PostgreSQL,
RabbitMQ and Redis: datapath changes reach the agent over RPC, and the agents API
reports it alive from its heartbeats, then dead once it is SIGKILLed.

The run has its own database and ``cluster_name`` (queue and group prefix) and removes
its queues, exchange and Redis keys afterwards.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import subprocess
import time
import uuid
from pathlib import Path

import httpx
import pytest

from backends import scratch_database
from cloudproc import ADMIN_PASSWORD, BIN, free_port
from support import require_service

AMQP_URL = "amqp://guest:guest@127.0.0.1:5672/"
REDIS_URL = "redis://127.0.0.1:6379"
SERVICE_DOWN_TIME = 5  # seconds; heartbeats every second
HOST = "net-a"
TOPIC = "network-agent"


def eventually(check, timeout: float = 60.0):
    """Poll ``check`` until it returns something truthy (no timing is asserted)."""
    deadline = time.monotonic() + timeout
    while not (result := check()):
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout}s; last result: {result!r}")
        time.sleep(0.5)
    return result


async def _delete_broker_objects(cluster_name: str) -> None:
    import aio_pika

    from pocketstack.common.rpc.transports.amqp import AMQPTransport

    naming = AMQPTransport(AMQP_URL, queue_prefix=cluster_name)
    connection = await aio_pika.connect(AMQP_URL)
    async with connection:
        channel = await connection.channel()
        for queue in (naming.queue_name(TOPIC), naming.queue_name(TOPIC, HOST), naming.fanout_queue(TOPIC, HOST)):
            await channel.queue_delete(queue)
        await channel.exchange_delete(naming.fanout_exchange(TOPIC))


def _delete_coordination_keys(cluster_name: str) -> None:
    import redis

    client = redis.Redis.from_url(REDIS_URL)
    client.srem("_tooz_groups", f"{cluster_name}-{TOPIC}")
    for key in client.scan_iter(f"*{cluster_name}*"):
        client.delete(key)


class Processes:
    def __init__(self, root: Path, config: Path):
        self.root, self.config, self.running = root, config, {}

    def start(self, name: str, *args: str) -> subprocess.Popen:
        env = {k: v for k, v in os.environ.items() if not k.startswith("POCKETSTACK_")}
        with open(self.root / f"{name}.log", "a") as log:
            self.running[name] = subprocess.Popen(
                [str(BIN / "pocketstack"), "--config", str(self.config), "--data-dir", str(self.root / name), *args],
                stdout=log, stderr=subprocess.STDOUT, env=env)
        return self.running[name]

    def log(self, name: str) -> str:
        return (self.root / f"{name}.log").read_text()

    def openstack(self, *args: str):
        env = {k: v for k, v in os.environ.items() if not k.startswith("OS_")}
        env.update(OS_CLIENT_CONFIG_FILE=str(self.root / "clouds.yaml"), OS_CLOUD="pocketstack")
        result = subprocess.run([str(BIN / "openstack"), *args, "-f", "json"], env=env, capture_output=True,
                                text=True, timeout=120)
        assert result.returncode == 0, f"openstack {' '.join(args)}:\n{result.stdout}\n{result.stderr}"
        return json.loads(result.stdout)

    def stop_all(self) -> None:
        for process in self.running.values():
            if process.poll() is None:
                process.terminate()
        for process in self.running.values():
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


@pytest.fixture
def cluster(tmp_path):
    for service in ("postgresql", "rabbitmq", "redis"):
        require_service(service)
    cluster_name = f"pstest{uuid.uuid4().hex[:10]}"
    with scratch_database("postgresql", tmp_path) as database_url:
        config = tmp_path / "pocketstack.toml"
        config.write_text(f'''[pocketstack]
database_url = "{database_url}"
transport_url = "{AMQP_URL}"
coordination_url = "{REDIS_URL}"
cluster_name = "{cluster_name}"
heartbeat_interval = 1.0
service_down_time = {SERVICE_DOWN_TIME}
bcrypt_rounds = 4
''')
        processes = Processes(tmp_path, config)
        port = free_port()
        try:
            api = processes.start("api", "api", "--port", str(port), "--admin-password", ADMIN_PASSWORD,
                                  "--clouds-file", str(tmp_path / "clouds.yaml"))

            def api_ready():
                assert api.poll() is None, processes.log("api")
                with contextlib.suppress(httpx.TransportError):
                    return httpx.get(f"http://127.0.0.1:{port}/identity/v3", timeout=1).status_code == 200
            eventually(api_ready)  # the API migrates the database: start the agent after it
            yield processes
        finally:
            processes.stop_all()
            asyncio.run(_delete_broker_objects(cluster_name))
            _delete_coordination_keys(cluster_name)


def journal(processes: Processes) -> list[dict]:
    path = processes.root / HOST / "datapath-journal.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def agents(processes: Processes) -> dict[str, dict]:
    return {a["Host"]: a for a in processes.openstack("network", "agent", "list")}


def test_agent_applies_changes_and_is_reported_dead_after_sigkill(cluster):
    agent = cluster.start(HOST, "network-agent", "--host", HOST)
    listed = eventually(lambda: agent.poll() is None and agents(cluster).get(HOST, {}).get("Alive") is True
                        and agents(cluster)[HOST])
    assert listed["Agent Type"] == "pocketstack datapath agent"
    assert listed["Binary"] == "pocketstack-network-agent"
    assert any(entry["event"] == "sync" for entry in journal(cluster))  # replayed the state on start

    network = cluster.openstack("network", "create", "agent-net")
    port = cluster.openstack("port", "create", "--network", network["id"], "agent-port")
    received = eventually(lambda: [e for e in journal(cluster)
                                   if e["event"] == "port_updated" and e["payload"]["id"] == port["id"]])
    assert received[-1]["payload"]["network_id"] == network["id"]
    assert any(e["event"] == "network_updated" and e["payload"]["id"] == network["id"] for e in journal(cluster))

    agent.send_signal(signal.SIGKILL)
    agent.wait()
    eventually(lambda: agents(cluster)[HOST]["Alive"] is False, timeout=SERVICE_DOWN_TIME * 6)

    shown = cluster.openstack("network", "agent", "show", listed["ID"])
    assert shown["alive"] is False and shown["host"] == HOST
