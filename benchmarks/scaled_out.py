#!/usr/bin/env python3
"""Booting servers all-in-one versus scaled out, through the real HTTP API.

Both clouds use a scratch PostgreSQL database (created and dropped here), so the only
difference is the process layout and the transport:

  all-in-one   ``pocketstack up`` with ``--hosts`` fake hosts, in-process RPC;
  scaled-out   ``pocketstack api`` + ``pocketstack scheduler`` + ``--hosts`` processes of
               ``pocketstack compute --host``, over RabbitMQ, liveness through Redis.

For each, ``--boots`` servers are POSTed in ``min_count`` batches of ``--batch`` by
``--concurrency`` clients (``benchmarks/compute.py``'s boot phase): the time until none
is in BUILD, boots/s, and the API process's CPU.  Queues, exchanges and Redis keys of the
run are deleted at the end.

    .venv/bin/python benchmarks/scaled_out.py --boots 200 --hosts 2
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
from compute import BIN, PASSWORD, Api, _free_port, boot, running_cloud  # noqa: E402
from ipam import create_database, drop_database  # noqa: E402

AMQP_URL = "amqp://guest:guest@127.0.0.1:5672/"
REDIS_URL = "redis://127.0.0.1:6379"


@contextlib.contextmanager
def scaled_out_cloud(args, database_url: str):
    """An API, a scheduler and ``args.hosts`` compute processes; yields (url, api pid)."""
    root = Path(tempfile.mkdtemp(prefix="pocketstack-scaled-bench-"))
    cluster_name = "psbench" + uuid.uuid4().hex[:8]
    per_host = -(-args.boots // args.hosts) + 1
    config = root / "pocketstack.toml"
    config.write_text(f'database_url = "{database_url}"\ntransport_url = "{AMQP_URL}"\n'
                      f'coordination_url = "{REDIS_URL}"\ncluster_name = "{cluster_name}"\nbcrypt_rounds = 4\n'
                      f'log_level = "{args.log_level}"\n')
    port = _free_port()
    processes: list[subprocess.Popen] = []

    def start(name: str, *command: str) -> subprocess.Popen:
        with open(root / f"{name}.log", "w") as log:
            process = subprocess.Popen([str(BIN / "pocketstack"), "--config", str(config), "--data-dir",
                                        str(root / name), *command], stdout=log, stderr=subprocess.STDOUT)
        processes.append(process)
        return process

    hosts = [f"bench-{i}" for i in range(1, args.hosts + 1)]
    try:
        api = start("api", "api", "--port", str(port), "--admin-password", PASSWORD,
                    "--clouds-file", str(root / "clouds.yaml"))
        url = f"http://127.0.0.1:{port}"
        _wait(lambda: httpx.get(url + "/identity/v3", timeout=1).status_code == 200, api, "the API")
        start("scheduler", "scheduler")
        for host in hosts:
            start(host, "compute", "--host", host, "--vcpus", str(per_host), "--memory-mb", str(per_host * 64),
                  "--disk-gb", str(per_host))
        client = Api(url)

        def all_up() -> bool:
            services = client.call("GET", "/compute/v2.1/os-services?binary=nova-compute").json()["services"]
            return sorted(s["host"] for s in services if s["state"] == "up") == hosts
        _wait(all_up, api, "the compute hosts")
        yield url, api.pid
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        asyncio.run(_delete_queues(cluster_name, hosts))
        _delete_redis_keys(cluster_name)
        if not args.keep:
            shutil.rmtree(root, ignore_errors=True)


def _wait(check, process: subprocess.Popen, what: str, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while True:
        if process.poll() is not None:
            raise SystemExit(f"{what}: process exited with {process.returncode}")
        with contextlib.suppress(httpx.TransportError):
            if check():
                return
        if time.monotonic() > deadline:
            raise SystemExit(f"{what} not ready in {timeout} s")
        time.sleep(0.5)


async def _delete_queues(cluster_name: str, hosts: list[str]) -> None:
    import aio_pika

    from pocketstack.common.rpc.transports.amqp import AMQPTransport

    naming = AMQPTransport(AMQP_URL, queue_prefix=cluster_name)
    connection = await aio_pika.connect(AMQP_URL)
    async with connection:
        channel = await connection.channel()
        for topic, servers in (("scheduler", [socket.gethostname()]), ("compute", hosts)):
            await channel.queue_delete(naming.queue_name(topic))
            for server in servers:
                await channel.queue_delete(naming.queue_name(topic, server))
                await channel.queue_delete(naming.fanout_queue(topic, server))
            await channel.exchange_delete(naming.fanout_exchange(topic))


def _delete_redis_keys(cluster_name: str) -> None:
    import redis

    client = redis.Redis.from_url(REDIS_URL)
    client.delete(f"_tooz_group:{cluster_name}-compute")
    client.srem("_tooz_groups", f"{cluster_name}-compute")


def measure(url: str, pid: int, args) -> dict:
    api = Api(url)
    flavor, image = api.prepare()
    return boot(api, flavor, image, args.boots, args.batch, args.concurrency, "none", args.timeout, pid)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--boots", type=int, default=200)
    parser.add_argument("--batch", type=int, default=50, help="servers per POST (min_count = max_count)")
    parser.add_argument("--concurrency", type=int, default=2, help="POSTs in flight")
    parser.add_argument("--hosts", type=int, default=2, help="fake hosts / compute processes")
    parser.add_argument("--timeout", type=float, default=600)
    parser.add_argument("--mode", choices=["both", "all-in-one", "scaled-out"], default="both")
    parser.add_argument("--log-level", default="WARNING")
    parser.add_argument("--keep", action="store_true", help="keep the data directories")
    args = parser.parse_args(argv)
    results = {}
    for mode in ("all-in-one", "scaled-out"):
        if args.mode not in ("both", mode):
            continue
        name = "pocketstack_bench_" + uuid.uuid4().hex[:10]
        database_url = create_database("postgresql", name)
        try:
            if mode == "all-in-one":
                up_args = argparse.Namespace(port=None, hosts=args.hosts, boots=args.boots, list_servers=0,
                                             log_level=args.log_level, keep=args.keep)
                with running_cloud(up_args, database_url) as (url, _data_dir, _db, pid):
                    results[mode] = measure(url, pid, args)
            else:
                with scaled_out_cloud(args, database_url) as (url, pid):
                    results[mode] = measure(url, pid, args)
        finally:
            drop_database("postgresql", name)
        print(mode, json.dumps(results[mode]), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
