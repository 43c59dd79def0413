"""For scripts and monitoring, with real processes: ``pocketstack up --wait`` returns once
the cloud is ready (printing its pid), ``pocketstack wait`` waits for readiness or fails
after its timeout, ``/metrics`` sums the counts of every process serving the API port,
and a scaled-out worker answers ``/metrics`` and
``/healthcheck/ready`` on its ``--metrics-port``."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import uuid
from pathlib import Path

import httpx
from prometheus_client.parser import text_string_to_metric_families

from cloudproc import ADMIN_PASSWORD, AMQP_URL, BIN, eventually, forget_cluster, free_port
from support import require_service


def pocketstack(*args: str, env: dict | None = None, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run([str(BIN / "pocketstack"), *args], capture_output=True, text=True, timeout=timeout,
                          env={**os.environ, "POCKETSTACK_BCRYPT_ROUNDS": "4", **(env or {})})


def gone(pid: int) -> bool:
    """Exited (a zombie nobody reaped yet counts as exited)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(") ")[1].startswith("Z")
    except (FileNotFoundError, IndexError):
        return True


def test_up_wait_returns_once_ready_and_wait_polls(tmp_path):
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    not_listening = f"http://127.0.0.1:{free_port()}"
    failed = pocketstack("wait", "--url", not_listening, "--timeout", "0.5")
    assert failed.returncode == 1 and "not ready after 0.5s" in failed.stderr

    started = pocketstack("--data-dir", str(tmp_path / "data"), "up", "--port", str(port),
                          "--admin-password", ADMIN_PASSWORD, "--clouds-file", str(tmp_path / "clouds.yaml"),
                          "--api-workers", "2", "--wait", "--wait-timeout", "90",
                          env={"POCKETSTACK_METADATA_LISTEN_PORT": str(free_port())})
    assert started.returncode == 0, started.stderr + (tmp_path / "data" / "pocketstack.log").read_text()
    pid = int(started.stdout.strip())
    try:
        assert (tmp_path / "data" / "pocketstack.pid").read_text().strip() == str(pid)
        # Ready when --wait returned: no polling here.
        assert httpx.get(url + "/healthcheck/ready", timeout=5).status_code == 200
        assert httpx.get(url + "/healthcheck", timeout=5).text == "OK"
        waited = pocketstack("wait", "--url", url, "--timeout", "5")
        assert waited.returncode == 0, waited.stderr
        # Two processes serve the port (the second starts once the first serves): each
        # request, on a new connection, may reach either; every scrape answers the sum.
        log = tmp_path / "data" / "pocketstack.log"
        eventually(lambda: log.read_text().count("Application startup complete") == 2, timeout=60, interval=0.2)
        for _ in range(30):
            assert httpx.get(url + "/compute/v2.1/flavors", timeout=5).status_code == 401
        for _ in range(4):
            assert unauthorized_flavor_lists(url) == 30
        # A second cloud on the same port would have its readiness answered by the first.
        again = pocketstack("--data-dir", str(tmp_path / "other"), "up", "--port", str(port), "--wait")
        assert again.returncode == 1 and f"127.0.0.1:{port} is already in use" in again.stderr
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGTERM)
        eventually(lambda: gone(pid), timeout=30, interval=0.2)


def unauthorized_flavor_lists(url: str) -> float:
    text = httpx.get(url + "/metrics", timeout=5).text
    return next((sample.value for family in text_string_to_metric_families(text) for sample in family.samples
                 if sample.name == "pocketstack_http_requests_total" and sample.labels.get("route") == "/v2.1/flavors"
                 and sample.labels["status"] == "401"), 0.0)


def test_scaled_out_worker_serves_its_metrics_port(tmp_path):
    require_service("rabbitmq")
    cluster_name = f"obs-{uuid.uuid4().hex[:8]}"
    metrics_url = f"http://127.0.0.1:{free_port()}"
    env = {k: v for k, v in os.environ.items() if not k.startswith("POCKETSTACK_")}
    env["POCKETSTACK_CLUSTER_NAME"] = cluster_name
    with open(tmp_path / "scheduler.log", "w") as log:
        process = subprocess.Popen(
            [str(BIN / "pocketstack"), "--data-dir", str(tmp_path / "data"),
             "--database-url", f"sqlite:///{tmp_path / 'cloud.db'}", "--transport-url", AMQP_URL,
             "scheduler", "--metrics-port", metrics_url.rsplit(":", 1)[1]],
            stdout=log, stderr=subprocess.STDOUT, env=env)
    try:
        def ready():
            assert process.poll() is None, (tmp_path / "scheduler.log").read_text()
            with contextlib.suppress(httpx.TransportError):
                return httpx.get(metrics_url + "/healthcheck/ready", timeout=2).status_code == 200
        eventually(ready, timeout=60, interval=0.2)
        detailed = httpx.get(metrics_url + "/healthcheck/ready?detailed=1", timeout=5).json()
        checks = {r["class"]: r["reason"] for r in detailed["reasons"]}
        assert checks["rpc"] == checks["compute.scheduler"] == "OK"
        families = {f.name: f for f in text_string_to_metric_families(httpx.get(metrics_url + "/metrics").text)}
        up = {s.labels["service"]: s.value for s in families["pocketstack_service_up"].samples}
        assert up == {"compute": 1.0}, up
        # A worker does not count the deployment's resources: the API processes do.
        assert "pocketstack_resources" not in families
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        forget_cluster(cluster_name, {"scheduler": [socket.gethostname()]}, redis_url=None)
    assert process.returncode == 0, (tmp_path / "scheduler.log").read_text()
