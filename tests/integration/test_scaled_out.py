"""Scaled-out compute: ``pocketstack api``, ``scheduler`` and two ``compute --host``
processes over PostgreSQL, RabbitMQ and Redis, driven by the real ``openstack`` CLI.

Each run has its own database, its own ``cluster_name`` (the RPC queue prefix and the
coordination group prefix), and removes its queues, exchanges and Redis keys afterwards.
"""

from __future__ import annotations

import collections
import signal
import socket
import uuid
from dataclasses import dataclass

import pytest
from test_qemu_console import refused, websocket_url

from backends import scratch_database
from cloudproc import ProcessGroup, cluster_settings, eventually, forget_cluster, free_port
from support import require_service

SERVICE_DOWN_TIME = 5  # seconds; heartbeats every second
HOSTS = ("host-a", "host-b")


@dataclass
class Cluster(ProcessGroup):
    cluster_name: str = ""
    port: int = 0

    def start_compute(self, host: str) -> None:
        self.start(host, "compute", "--host", host, "--vcpus", "64", "--memory-mb", "65536")

    def service_states(self) -> dict[str, str]:
        return {s["Host"]: s["State"] for s in self.openstack("compute", "service", "list", "--service",
                                                              "nova-compute", "-f", "json")}

    def servers(self) -> dict[str, dict]:
        return {s["ID"]: s for s in self.openstack("server", "list", "--long", "-f", "json")}


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    """One cluster for the module (starting four processes is the slow part); a test that
    kills a host starts it again before it returns."""
    for service in ("postgresql", "rabbitmq", "redis"):
        require_service(service)
    tmp_path = tmp_path_factory.mktemp("scaled-out")
    cluster_name = f"pstest{uuid.uuid4().hex[:10]}"
    with scratch_database("postgresql", tmp_path) as database_url:
        config = tmp_path / "pocketstack.toml"
        config.write_text(cluster_settings(cluster_name, database_url, service_down_time=SERVICE_DOWN_TIME))
        cluster = Cluster(tmp_path, config, cluster_name=cluster_name, port=free_port())
        try:
            cluster.start_api("api", cluster.port)  # it migrates the database: start the workers after it
            cluster.start("scheduler", "scheduler")
            for host in HOSTS:
                cluster.start_compute(host)
            eventually(lambda: cluster.service_states() == {h: "up" for h in HOSTS})
            yield cluster
        finally:
            cluster.stop_all()
            forget_cluster(cluster_name, {"scheduler": [socket.gethostname()], "compute": HOSTS})


@pytest.fixture(scope="module")
def boot(cluster):
    """``boot(count, prefix)``: boot servers of a one-VCPU flavor; returns their ids."""
    image = cluster.root / "image.raw"
    image.write_bytes(b"\0" * 1024)
    cluster.openstack("image", "create", "--file", str(image), "--disk-format", "raw", "--container-format", "bare",
                      "img", "-f", "json")
    cluster.openstack("flavor", "create", "--ram", "64", "--disk", "1", "--vcpus", "1", "tiny", "-f", "json")
    cluster.openstack("quota", "set", "--instances", "-1", "--cores", "-1", "--ram", "-1", "admin")

    def boot(count: int, prefix: str) -> list[str]:
        before = set(cluster.servers())
        cluster.openstack("server", "create", "--flavor", "tiny", "--image", "img", "--nic", "none",
                          "--min", str(count), "--max", str(count), prefix, "-f", "json")
        return sorted(set(cluster.servers()) - before)
    return boot


def all_active(cluster: Cluster, ids: list[str]):
    servers = cluster.servers()
    states = {servers[i]["Status"] for i in ids}
    assert "ERROR" not in states, [servers[i] for i in ids if servers[i]["Status"] == "ERROR"]
    return {i: servers[i] for i in ids} if states == {"ACTIVE"} else None


def test_builds_spread_and_a_killed_host_is_excluded(cluster, boot):
    ids = boot(50, "wave1")
    servers = eventually(lambda: all_active(cluster, ids), timeout=180)
    per_host = collections.Counter(s["Host"] for s in servers.values())
    assert set(per_host) == set(HOSTS) and sum(per_host.values()) == 50, per_host

    cluster.processes["host-b"].send_signal(signal.SIGKILL)
    cluster.processes["host-b"].wait()
    eventually(lambda: cluster.service_states() == {"host-a": "up", "host-b": "down"},
               timeout=SERVICE_DOWN_TIME * 6)

    late = boot(10, "wave2")
    servers = eventually(lambda: all_active(cluster, late), timeout=120)
    assert {s["Host"] for s in servers.values()} == {"host-a"}

    cluster.start_compute("host-b")
    eventually(lambda: cluster.service_states() == {h: "up" for h in HOSTS})


def test_restarted_host_runs_the_casts_queued_while_it_was_dead(cluster, boot):
    ids = boot(4, "durable")
    servers = eventually(lambda: all_active(cluster, ids), timeout=120)
    on_b = [i for i, s in servers.items() if s["Host"] == "host-b"]
    assert on_b, servers

    cluster.processes["host-b"].send_signal(signal.SIGKILL)
    cluster.processes["host-b"].wait()
    for server_id in on_b:
        cluster.openstack("server", "stop", server_id)  # queued in host-b's durable queue
    assert {cluster.servers()[i]["Status"] for i in on_b} == {"ACTIVE"}  # nobody ran them

    cluster.start_compute("host-b")
    eventually(lambda: {cluster.servers()[i]["Status"] for i in on_b} == {"SHUTOFF"}, timeout=90)
    assert cluster.service_states()["host-b"] == "up"
    output = cluster.openstack("console", "log", "show", on_b[0])  # an RPC call to the restarted host
    assert "Power-Off" in output


def test_console_urls_and_the_novnc_proxy_are_served_by_the_api_process(cluster, boot):
    """The API process mounts the proxy; the console URL's VNC address is an RPC call to
    the server's compute process over RabbitMQ (a fake host answers it has no screen, so
    the URL's token is refused: test_qemu_console.py connects to a real one)."""
    [server] = boot(1, "console")
    eventually(lambda: all_active(cluster, [server]), timeout=60)
    url = cluster.openstack("console", "url", "show", "--novnc", server, "-f", "json")["url"]
    api = f"http://127.0.0.1:{cluster.port}"
    assert url.startswith(f"{api}/novnc/vnc_lite.html?path=novnc%2Fwebsockify%3Ftoken%3D")
    assert refused(websocket_url(api, url)[0]) == 403
