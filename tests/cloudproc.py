"""Run a real ``pocketstack up`` process for integration tests, and real clients at it;
serve the in-process cloud over real HTTP; remove what a scaled-out run leaves in the
shared RabbitMQ and Redis."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import uvicorn

BIN = Path(sys.executable).parent
ADMIN_PASSWORD = "integration-secret"
AMQP_URL = "amqp://guest:guest@127.0.0.1:5672/"
REDIS_URL = "redis://127.0.0.1:6379"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class CloudProcess:
    url: str
    data_dir: Path
    clouds_file: Path
    process: subprocess.Popen
    log_path: Path
    metadata_url: str = ""  # the metadata API's own listener

    def env(self, cloud: str = "pocketstack") -> dict:
        env = {k: v for k, v in os.environ.items() if not k.startswith("OS_")}
        env.update(OS_CLIENT_CONFIG_FILE=str(self.clouds_file), OS_CLOUD=cloud)
        return env

    def openstack(self, *args: str, cloud: str = "pocketstack", check: bool = True, parse: bool = True,
                  timeout: float = 120):
        """Run the real ``openstack`` CLI; ``-f json`` output is parsed when asked for."""
        result = subprocess.run([str(BIN / "openstack"), *args], env=self.env(cloud), capture_output=True,
                                text=True, timeout=timeout)
        if check and result.returncode != 0:
            raise AssertionError(f"openstack {' '.join(args)} failed ({result.returncode}):\n"
                                 f"{result.stdout}\n{result.stderr}")
        if parse and "-f" in args and args[args.index("-f") + 1] == "json":
            return json.loads(result.stdout)
        return result

    def log(self) -> str:
        return self.log_path.read_text()


@contextlib.contextmanager
def running_cloud(tmp_path: Path, *extra_args: str, database_url: str | None = None,
                  env: dict | None = None, startup_timeout: float = 90, port: int | None = None):
    """Start ``pocketstack up`` on a free port with its own data dir and clouds.yaml (and
    its metadata API on another free port, unless ``env`` names one); ``port``: a port
    the test picked before (settings that name the cloud's URL).  A cold start takes
    ~3 s of CPU; ``startup_timeout`` leaves room for a loaded CI machine (three workers
    beside TCG guests: 30 s was missed there) and a first KVM probe (up to 30 s)."""
    port = port or free_port()
    data_dir = tmp_path / "data"
    clouds_file = tmp_path / "clouds.yaml"
    log_path = tmp_path / "server.log"
    args = [str(BIN / "pocketstack"), "--data-dir", str(data_dir)]
    if database_url:
        args += ["--database-url", database_url]
    args += ["up", "--port", str(port), "--admin-password", ADMIN_PASSWORD, "--clouds-file", str(clouds_file),
             *extra_args]
    # One API process unless the test asks for more (tests/integration/test_api_workers.py):
    # the others restart clouds on the same port, which extra processes would hold a moment longer.
    proc_env = {**os.environ, "POCKETSTACK_BCRYPT_ROUNDS": "4", "POCKETSTACK_METADATA_LISTEN_PORT": str(free_port()),
                "POCKETSTACK_API_WORKERS": "1", **(env or {})}
    with open(log_path, "w") as log:
        process = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT, env=proc_env)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + startup_timeout
        while True:
            if process.poll() is not None:
                raise AssertionError(f"pocketstack exited with {process.returncode}:\n{log_path.read_text()}")
            try:
                if httpx.get(url + "/identity/v3", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise AssertionError(f"pocketstack did not start in {startup_timeout}s:\n{log_path.read_text()}")
            time.sleep(0.1)
        metadata_url = f"http://127.0.0.1:{proc_env['POCKETSTACK_METADATA_LISTEN_PORT']}"
        yield CloudProcess(url, data_dir, clouds_file, process, log_path, metadata_url)
    finally:
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


@contextlib.contextmanager
def serving(config: uvicorn.Config, sockets: list[socket.socket] | None = None,
            name: str = "uvicorn") -> Iterator[uvicorn.Server]:
    """Run uvicorn on ``config`` in a daemon thread of this process until the block ends
    (on ``sockets`` when the listener is made beforehand, as TLS listeners are).  The exit
    is forced: keystoneauth's pooled keep-alive connections would otherwise hold it."""
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": sockets}, name=name, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert time.monotonic() < deadline and thread.is_alive(), f"{name} did not start"
        time.sleep(0.02)
    try:
        yield server
    finally:
        server.should_exit = server.force_exit = True
        thread.join(timeout=10)


@contextlib.contextmanager
def identity_over_http(app, host: str = "127.0.0.1") -> Iterator[str]:
    """The in-process cloud's ASGI ``app`` (its services already run, hence no lifespan)
    on a free port, for clients that need a URL (keystoneauth, the CLI); its identity URL,
    under ``host`` (``localhost`` where a Kerberos service principal names it)."""
    port = free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None, access_log=False, lifespan="off")
    with serving(config, name="in-process-cloud"):
        yield f"http://{host}:{port}/identity/v3"


def admin_token(url: str) -> tuple[str, str]:
    """A token of the cloud's admin on the admin project, and that project's id."""
    body = {"auth": {"identity": {"methods": ["password"], "password": {"user": {
        "name": "admin", "domain": {"id": "default"}, "password": ADMIN_PASSWORD}}},
        "scope": {"project": {"name": "admin", "domain": {"id": "default"}}}}}
    response = httpx.post(f"{url}/identity/v3/auth/tokens", json=body)
    assert response.status_code == 201, response.text
    return response.headers["X-Subject-Token"], response.json()["token"]["project"]["id"]


def eventually(check, timeout: float = 60.0, interval: float = 0.5):
    """Poll ``check`` until it returns something truthy (no timing is asserted)."""
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout}s; last result: {result!r}")
        time.sleep(interval)


@dataclass
class ProcessGroup:
    """Scaled-out pocketstack processes (``api``, ``scheduler``, ``compute --host`` ...)
    sharing one TOML config; each logs to ``<root>/<name>.log`` and keeps its data in
    ``<root>/<name>``.  The environment's POCKETSTACK_* variables are not passed on: the
    config file is the whole configuration."""

    root: Path
    config: Path
    processes: dict[str, subprocess.Popen] = field(default_factory=dict)

    @property
    def clouds_file(self) -> Path:
        return self.root / "clouds.yaml"

    def start(self, name: str, *args: str, database_url: str | None = None,
              data_dir: str | None = None, config: Path | None = None) -> subprocess.Popen:
        """Start ``pocketstack <args>`` as ``name``; processes given the same ``data_dir``
        share it (API processes must share their Fernet keys and image files); ``config``
        instead of the group's for a process that differs (a slow host)."""
        log = open(self.root / f"{name}.log", "a")
        command = [str(BIN / "pocketstack"), "--config", str(config or self.config),
                   "--data-dir", str(self.root / (data_dir or name))]
        if database_url:
            command += ["--database-url", database_url]
        env = {k: v for k, v in os.environ.items() if not k.startswith("POCKETSTACK_")}
        self.processes[name] = subprocess.Popen([*command, *args], stdout=log, stderr=subprocess.STDOUT, env=env)
        log.close()
        return self.processes[name]

    def start_api(self, name: str, port: int, database_url: str | None = None) -> subprocess.Popen:
        """Start an API process and wait until it answers (it migrates the database).
        Every API process of the group shares the data directory ``api``."""
        process = self.start(name, "api", "--port", str(port), "--api-workers", "1", "--admin-password", ADMIN_PASSWORD,
                             "--clouds-file", str(self.clouds_file), database_url=database_url, data_dir="api")

        def ready():
            assert process.poll() is None, self.log(name)
            with contextlib.suppress(httpx.TransportError):
                return httpx.get(f"http://127.0.0.1:{port}/identity/v3", timeout=1).status_code == 200
        eventually(ready, timeout=90)
        return process

    def log(self, name: str) -> str:
        return (self.root / f"{name}.log").read_text()

    def openstack(self, *args: str):
        env = {k: v for k, v in os.environ.items() if not k.startswith("OS_")}
        env.update(OS_CLIENT_CONFIG_FILE=str(self.clouds_file), OS_CLOUD="pocketstack")
        result = subprocess.run([str(BIN / "openstack"), *args], env=env, capture_output=True, text=True,
                                timeout=120)
        if result.returncode != 0:
            raise AssertionError(f"openstack {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")
        return json.loads(result.stdout) if "json" in args else result.stdout

    def stop_all(self) -> None:
        for process in self.processes.values():
            if process.poll() is None:
                process.terminate()
        for process in self.processes.values():
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def cluster_settings(cluster_name: str, database_url: str | None = None, coordination_url: str = REDIS_URL,
                     service_down_time: int = 5) -> str:
    """The ``[pocketstack]`` TOML a scaled-out run shares: this machine's RabbitMQ and Redis,
    the run's own ``cluster_name`` (the prefix of its queues and coordination groups:
    what :func:`forget_cluster` removes), heartbeats every second and cheap password
    hashing.  A test appends what else it sets."""
    database = f'database_url = "{database_url}"\n' if database_url else ""
    return f'''[pocketstack]
{database}transport_url = "{AMQP_URL}"
coordination_url = "{coordination_url}"
cluster_name = "{cluster_name}"
heartbeat_interval = 1.0
service_down_time = {service_down_time}
bcrypt_rounds = 4
'''


def forget_cluster(cluster_name: str, servers: dict[str, Iterable[str]], amqp_url: str = AMQP_URL,
                   redis_url: str | None = REDIS_URL) -> None:
    """Remove what the processes of a run named ``cluster_name`` leave in the broker and
    coordination backend other runs share: for each RPC topic in ``servers``, its queues
    (the topic's, and each listed server's direct and fanout queue) and its fanout
    exchange; every Redis key naming the cluster and its tooz groups (none without
    ``redis_url``).  The keys go even when the broker fails."""
    try:
        asyncio.run(_delete_broker_objects(cluster_name, servers, amqp_url))
    finally:
        if redis_url:
            _delete_coordination_keys(cluster_name, redis_url)


async def _delete_broker_objects(cluster_name: str, servers: dict[str, Iterable[str]], amqp_url: str) -> None:
    import aio_pika

    from pocketstack.common.rpc.transports.amqp import AMQPTransport

    naming = AMQPTransport(amqp_url, queue_prefix=cluster_name)
    connection = await aio_pika.connect(amqp_url)
    async with connection:
        channel = await connection.channel()
        for topic, names in servers.items():
            await channel.queue_delete(naming.queue_name(topic))
            for server in names:
                await channel.queue_delete(naming.queue_name(topic, server))
                await channel.queue_delete(naming.fanout_queue(topic, server))
            await channel.exchange_delete(naming.fanout_exchange(topic))


def _delete_coordination_keys(cluster_name: str, redis_url: str) -> None:
    import redis

    client = redis.Redis.from_url(redis_url)
    for key in client.scan_iter(f"*{cluster_name}*"):
        client.delete(key)
    for group in client.smembers("_tooz_groups"):
        if cluster_name.encode() in group:
            client.srem("_tooz_groups", group)
