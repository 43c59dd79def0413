#!/usr/bin/env python3
"""Compute at scale, through the real HTTP API of a real ``pocketstack up`` process.

Two measurements, one cloud (started here, on a free port, with its own data directory
and ``--fake-hosts`` hosts large enough for every server; stopped at the end):

  boot   ``--boots`` servers POSTed with ``min_count``/``max_count`` batches of
         ``--batch`` by ``--concurrency`` clients at once; the time from the first POST
         until no server is in BUILD any more, and how many became ACTIVE / ERROR.
  list   the cloud is filled up to ``--list-servers`` servers, then ``GET /servers`` (no
         limit: Nova's ``max_limit`` of 1000 applies), ``GET /servers/detail?limit=``
         ``--detail-limit`` and ``GET /servers/detail`` are each requested ``--repeat``
         times (the last a third as often): p50/p99 latency in ms and the server's CPU ms per request (steadier than
         latency on a busy machine); then one ``openstack server list`` wall time
         (the real CLI, following every ``next`` link), and the dashboard's instances
         page and its polled rows fragment, logged in as admin (docs/dashboard.md).

Filling 10k servers through the API would take most of the run, so ``--fill db`` (the
default) inserts the missing servers straight into the database as ACTIVE rows on the
fake hosts, each with two metadata items and a tag, dated a day earlier than the booted
ones (so the first page of a list holds the API-booted servers, with their ports when
``--networks port``); ``--fill api`` boots them through the API like the boot phase.

The database is SQLite in the data directory unless ``--database-url`` names another
(an empty scratch database: ``--backend postgresql`` or ``mariadb`` creates one and drops
it afterwards, as ``ipam.py`` does).  Servers boot with ``networks: "none"`` unless
``--networks port``: then every build also makes a Neutron port on one ``/16`` network
made for the run (``auto`` would give each project a ``/24``, too small for 1000).  ``--json`` prints one
JSON document instead of text.

    .venv/bin/python benchmarks/compute.py --boots 1000 --list-servers 10000
    .venv/bin/python benchmarks/compute.py --backend postgresql --boots 1000 --list-servers 10000
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
from identity import _proc_cpu_seconds  # noqa: E402  (the server's CPU seconds, from /proc)
from ipam import create_database, drop_database  # noqa: E402  (scratch PostgreSQL / MariaDB databases)

BIN = Path(sys.executable).parent
PASSWORD = "bench-secret"
VERSION = {"OpenStack-API-Version": "compute 2.64"}


# -- the cloud -----------------------------------------------------------------------------

@contextlib.contextmanager
def running_cloud(args, database_url: str | None):
    """``pocketstack up`` with enough fake capacity for every server of the run."""
    data_dir = Path(tempfile.mkdtemp(prefix="pocketstack-compute-bench-"))
    port = args.port or _free_port()
    command = [str(BIN / "pocketstack"), "--data-dir", str(data_dir)]
    if database_url:
        command += ["--database-url", database_url]
    command += ["up", "--port", str(port), "--admin-password", PASSWORD,
                "--clouds-file", str(data_dir / "clouds.yaml"), "--fake-hosts", str(args.hosts)]
    per_host = -(-max(args.boots, args.list_servers) // args.hosts) + 1
    env = dict(os.environ, POCKETSTACK_BCRYPT_ROUNDS="4", POCKETSTACK_LOG_LEVEL=args.log_level,
               POCKETSTACK_FAKE_HOST_VCPUS=str(per_host), POCKETSTACK_FAKE_HOST_MEMORY_MB=str(per_host * 64),
               POCKETSTACK_FAKE_HOST_DISK_GB=str(per_host))
    log = open(data_dir / "server.log", "w")
    process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env=env)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            if process.poll() is not None:
                raise SystemExit(f"pocketstack exited:\n{(data_dir / 'server.log').read_text()}")
            with contextlib.suppress(httpx.TransportError):
                if httpx.get(url + "/identity/v3", timeout=1).status_code == 200:
                    break
            if time.monotonic() > deadline:
                raise SystemExit("pocketstack did not start in 60 s")
            time.sleep(0.2)
        yield url, data_dir, database_url or f"sqlite:///{data_dir / 'pocketstack.db'}", process.pid
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()
        if not args.keep:
            shutil.rmtree(data_dir, ignore_errors=True)


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Api:
    """An admin-scoped client of the cloud's Compute and Image APIs."""

    def __init__(self, url: str):
        self.url = url
        body = {"auth": {"identity": {"methods": ["password"], "password": {"user": {
            "name": "admin", "domain": {"id": "default"}, "password": PASSWORD}}},
            "scope": {"project": {"name": "admin", "domain": {"id": "default"}}}}}
        response = httpx.post(url + "/identity/v3/auth/tokens", json=body, timeout=30)
        response.raise_for_status()
        self.project_id = response.json()["token"]["project"]["id"]
        self.user_id = response.json()["token"]["user"]["id"]
        self.client = httpx.Client(base_url=url, timeout=300, headers={
            "X-Auth-Token": response.headers["X-Subject-Token"], **VERSION},
            limits=httpx.Limits(max_connections=64))

    def call(self, method: str, path: str, expect: int | tuple = (200, 201, 202, 204), **kw) -> httpx.Response:
        response = self.client.request(method, path, **kw)
        if response.status_code not in ((expect,) if isinstance(expect, int) else expect):
            raise SystemExit(f"{method} {path}: {response.status_code} {response.text[:500]}")
        return response

    def prepare(self) -> tuple[dict, str]:
        """An unlimited quota, a tiny flavor and a small image; their ids."""
        self.call("PUT", f"/compute/v2.1/os-quota-sets/{self.project_id}", json={"quota_set": {
            "instances": -1, "cores": -1, "ram": -1}})
        flavor = self.call("POST", "/compute/v2.1/flavors", json={"flavor": {
            "name": "bench-" + uuid.uuid4().hex[:6], "vcpus": 1, "ram": 64, "disk": 1}}).json()["flavor"]
        image = self.call("POST", "/image/v2/images", json={
            "name": "bench", "disk_format": "raw", "container_format": "bare"}).json()["id"]
        self.call("PUT", f"/image/v2/images/{image}/file", content=b"\0" * 4096,
                  headers={"Content-Type": "application/octet-stream"})
        return flavor, image

    def network(self) -> list[dict]:
        """``networks`` for a server create: one port on a /16 made for the run (and no
        port quota: Neutron's default of 500 would stop the run half-way)."""
        self.call("PUT", f"/network/v2.0/quotas/{self.project_id}", json={"quota": {"port": -1}})
        network = self.call("POST", "/network/v2.0/networks", json={"network": {"name": "bench"}}).json()
        self.call("POST", "/network/v2.0/subnets", json={"subnet": {
            "network_id": network["network"]["id"], "ip_version": 4, "cidr": "10.64.0.0/16"}})
        return [{"uuid": network["network"]["id"]}]

    def building(self) -> bool:
        """Whether any server is still in BUILD: one server asked for, so that polling
        (four times a second) adds little to the server CPU the boot measurement counts
        (it listed every building server, up to 1000, at each poll)."""
        return bool(self.call("GET", "/compute/v2.1/servers", params={"status": "BUILD", "limit": 1}).json()["servers"])

    def count(self, status: str | None = None) -> int:
        """How many servers have ``status`` (any when None), paging through 1000 at a time."""
        total, marker = 0, None
        while True:
            params = {"limit": 1000, **({"status": status} if status else {}), **({"marker": marker} if marker else {})}
            servers = self.call("GET", "/compute/v2.1/servers", params=params).json()["servers"]
            total += len(servers)
            if len(servers) < 1000:
                return total
            marker = servers[-1]["id"]


# -- boot ----------------------------------------------------------------------------------

def boot(api: Api, flavor: dict, image: str, count: int, batch: int, concurrency: int, networks: str | list,
         timeout: float, pid: int) -> dict:
    """POST ``count`` servers in batches; seconds until none is in BUILD, and the outcome."""
    sizes = [min(batch, count - start) for start in range(0, count, batch)]
    prefix = "bench-" + uuid.uuid4().hex[:6]

    def post(size: int) -> float:
        began = time.perf_counter()
        api.call("POST", "/compute/v2.1/servers", expect=202, json={"server": {
            "name": prefix, "flavorRef": flavor["id"], "imageRef": image, "networks": networks,
            "min_count": size, "max_count": size}})
        return time.perf_counter() - began

    before_active, before_error = api.count("ACTIVE"), api.count("ERROR")
    cpu = _proc_cpu_seconds(pid)
    started = time.perf_counter()
    with ThreadPoolExecutor(concurrency) as pool:
        post_times = list(pool.map(post, sizes))
    accepted = time.perf_counter() - started
    while api.building():
        if time.perf_counter() - started > timeout:
            raise SystemExit(f"servers still building after {timeout} s")
        time.sleep(0.25)
    elapsed = time.perf_counter() - started
    cpu = _proc_cpu_seconds(pid) - cpu
    active, error = api.count("ACTIVE") - before_active, api.count("ERROR") - before_error
    return {"servers": count, "batch": batch, "concurrency": concurrency,
            "networks": networks if isinstance(networks, str) else "port",
            "accepted_s": round(accepted, 2), "all_done_s": round(elapsed, 2),
            "boots_per_s": round(count / elapsed, 1), "active": active, "error": error,
            "post_p50_ms": _ms(statistics.median(post_times)), "server_cpu_s": round(cpu, 1),
            "server_cpu_ms_per_boot": _ms(cpu / count)}


# -- list ----------------------------------------------------------------------------------

def latency(api: Api, path: str, params: dict, repeat: int, pid: int) -> dict:
    times, size = [], 0
    cpu = _proc_cpu_seconds(pid)
    for _ in range(repeat):
        began = time.perf_counter()
        response = api.call("GET", path, params=params)
        times.append(time.perf_counter() - began)
        size = len(response.json()["servers"])
    cpu = _proc_cpu_seconds(pid) - cpu
    times.sort()
    return {"path": path, "params": params, "servers_returned": size, "requests": repeat,
            "p50_ms": _ms(times[len(times) // 2]), "p99_ms": _ms(times[min(len(times) - 1, int(len(times) * 0.99))]),
            "mean_ms": _ms(statistics.fmean(times)), "server_cpu_ms_per_request": _ms(cpu / repeat)}


def dashboard_latency(url: str, repeat: int, pid: int) -> list[dict]:
    """The dashboard's instances page (and the rows fragment its script polls), logged in
    as admin like a browser: p50/p99 and the server's CPU per page at this many servers."""
    import re

    with httpx.Client(base_url=url, timeout=300, follow_redirects=False) as browser:
        login = browser.get("/dashboard/login")
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', login.text).group(1)
        response = browser.post("/dashboard/login", headers={"Origin": url}, data={
            "csrf_token": csrf, "method": "password", "domain": "Default", "user": "admin", "password": PASSWORD})
        if response.status_code != 303:
            raise SystemExit(f"dashboard login: {response.status_code} {response.text[:300]}")
        results = []
        for path in ("/dashboard/instances", "/dashboard/instances/rows"):
            times, rows = [], 0
            cpu = _proc_cpu_seconds(pid)
            for _ in range(repeat):
                began = time.perf_counter()
                page = browser.get(path)
                times.append(time.perf_counter() - began)
                if page.status_code != 200:
                    raise SystemExit(f"{path}: {page.status_code}")
                rows = page.text.count("<tr data-server=")
            cpu = _proc_cpu_seconds(pid) - cpu
            times.sort()
            results.append({"path": path, "rows": rows, "requests": repeat, "p50_ms": _ms(times[len(times) // 2]),
                            "p99_ms": _ms(times[min(len(times) - 1, int(len(times) * 0.99))]),
                            "server_cpu_ms_per_request": _ms(cpu / repeat)})
        return results


def fill_directly(database_url: str, project_id: str, user_id: str, flavor: dict, image: str, hosts: int,
                  count: int) -> float:
    """Insert ``count`` ACTIVE servers (rows only: no placement allocations, no quota usage)."""
    import datetime as dt

    import sqlalchemy as sa

    from pocketstack.common.db import Database
    from pocketstack.compute.models import Instance, InstanceMetadata, InstanceTag

    began = time.perf_counter()
    db = Database(database_url)
    base = dt.datetime.now(dt.timezone.utc).replace(tzinfo=None) - dt.timedelta(days=1)
    for start in range(0, count, 1000):
        rows, metadata, tags = [], [], []
        for index in range(start, min(count, start + 1000)):
            instance_id, when = str(uuid.uuid4()), base - dt.timedelta(seconds=index)
            host = f"compute-{index % hosts + 1}"
            rows.append(dict(
                id=instance_id, name=f"filler-{index}", project_id=project_id, user_id=user_id,
                reservation_id="r-filler", launch_index=0, flavor_id=flavor["id"], flavor=flavor, image_ref=image,
                image_properties={}, vm_state="active", task_state=None, power_state=1, guest={}, host=host,
                node=host, availability_zone="nova", security_groups=["default"], hostname=f"filler-{index}",
                requested_networks="none", scheduler_hints={}, launched_at=when, created_at=when, updated_at=when))
            metadata += [dict(instance_id=instance_id, key=k, value=v) for k, v in (("role", "filler"),
                                                                                     ("index", str(index)))]
            tags.append(dict(instance_id=instance_id, tag="filler"))
        with db.session() as s:
            s.execute(sa.insert(Instance), rows)
            s.execute(sa.insert(InstanceMetadata), metadata)
            s.execute(sa.insert(InstanceTag), tags)
    db.dispose()
    return time.perf_counter() - began


def cli_list(data_dir: Path) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("OS_")}
    env.update(OS_CLIENT_CONFIG_FILE=str(data_dir / "clouds.yaml"), OS_CLOUD="pocketstack")
    began = time.perf_counter()
    result = subprocess.run([str(BIN / "openstack"), "server", "list", "-f", "value", "-c", "ID"], env=env,
                            capture_output=True, text=True, timeout=600)
    elapsed = time.perf_counter() - began
    if result.returncode != 0:
        raise SystemExit(f"openstack server list failed: {result.stderr[-2000:]}")
    return {"command": "openstack server list", "servers_listed": len(result.stdout.split()),
            "wall_s": round(elapsed, 2)}


def _ms(seconds: float) -> float:
    return round(seconds * 1000, 1)


# -- main ----------------------------------------------------------------------------------

def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--backend", choices=["sqlite", "postgresql", "mariadb"], default="sqlite",
                        help="database: SQLite in the data dir, or a scratch PostgreSQL/MariaDB database")
    parser.add_argument("--database-url", help="an existing empty database instead (overrides --backend)")
    parser.add_argument("--port", type=int, default=0, help="port for the cloud (default: a free one)")
    parser.add_argument("--hosts", type=int, default=8, help="fake compute hosts (sized to fit every server)")
    parser.add_argument("--boots", type=int, default=1000, help="servers in the boot measurement (0: skip)")
    parser.add_argument("--batch", type=int, default=50, help="servers per POST (min_count = max_count)")
    parser.add_argument("--concurrency", type=int, default=4, help="POSTs in flight at once")
    parser.add_argument("--networks", choices=["none", "port"], default="none")
    parser.add_argument("--list-servers", type=int, default=10000, help="servers in the cloud for the list "
                        "measurement (0: skip)")
    parser.add_argument("--fill", choices=["db", "api"], default="db",
                        help="how the servers beyond --boots are made for the list measurement")
    parser.add_argument("--detail-limit", type=int, default=100, help="limit of the measured /servers/detail")
    parser.add_argument("--repeat", type=int, default=30, help="requests per list measurement")
    parser.add_argument("--no-cli", action="store_true", help="skip the openstack CLI timing")
    parser.add_argument("--no-dashboard", action="store_true", help="skip the dashboard's instances page timing")
    parser.add_argument("--timeout", type=float, default=1800, help="seconds to wait for builds")
    parser.add_argument("--log-level", default="WARNING", help="the cloud's log level")
    parser.add_argument("--keep", action="store_true", help="keep the data directory")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    if min(args.boots, args.list_servers, 0) < 0 or args.boots + args.list_servers > 100000:
        parser.error("--boots and --list-servers must be between 0 and 100000 in total")

    scratch = None
    database_url = args.database_url
    if not database_url and args.backend != "sqlite":
        scratch = "pocketstack_compute_bench_" + uuid.uuid4().hex[:8]
        database_url = create_database(args.backend, scratch)
    report: dict = {"backend": args.database_url.split(":")[0] if args.database_url else args.backend,
                    "hosts": args.hosts, "cpus": os.cpu_count(), "load_average_at_start": os.getloadavg()}
    try:
        with running_cloud(args, database_url) as (url, data_dir, cloud_db, pid):
            api = Api(url)
            flavor, image = api.prepare()
            if args.boots:
                networks = api.network() if args.networks == "port" else "none"
                report["boot"] = boot(api, flavor, image, args.boots, args.batch, args.concurrency, networks,
                                      args.timeout, pid)
                _show(args, "boot", report["boot"])
            if args.list_servers:
                missing = args.list_servers - api.count()
                if missing > 0 and args.fill == "api":
                    report["fill"] = boot(api, flavor, image, missing, max(args.batch, 100), args.concurrency,
                                          "none", args.timeout, pid)
                    _show(args, "fill (API boots)", report["fill"])
                elif missing > 0:
                    embedded = {"id": flavor["id"], "name": flavor["name"], "vcpus": 1, "ram": 64, "disk": 1,
                                "ephemeral": 0, "swap": 0, "extra_specs": {}}
                    seconds = fill_directly(cloud_db, api.project_id, api.user_id, embedded, image, args.hosts,
                                            missing)
                    report["fill"] = {"servers": missing, "how": "rows inserted into the database",
                                      "seconds": round(seconds, 1)}
                    _show(args, "fill (database)", report["fill"])
                report["list"] = [
                    latency(api, "/compute/v2.1/servers", {}, args.repeat, pid),
                    latency(api, "/compute/v2.1/servers/detail", {"limit": args.detail_limit}, args.repeat, pid),
                    latency(api, "/compute/v2.1/servers/detail", {}, max(3, args.repeat // 3), pid),
                ]
                for item in report["list"]:
                    _show(args, "list", item)
                if not args.no_dashboard:
                    report["dashboard"] = dashboard_latency(url, max(3, args.repeat // 3), pid)
                    for item in report["dashboard"]:
                        _show(args, "dashboard", item)
                if not args.no_cli:
                    report["cli"] = cli_list(data_dir)
                    _show(args, "cli", report["cli"])
    finally:
        if scratch:
            drop_database(args.backend, scratch)
    report["load_average_at_end"] = os.getloadavg()
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        print(f"{'machine':>16}: cpus={report['cpus']}, load average at the end={report['load_average_at_end']}")
    return 0


def _show(args, title: str, figures: dict) -> None:
    if not args.json:
        print(f"{title:>16}: " + ", ".join(f"{k}={v}" for k, v in figures.items()), flush=True)


if __name__ == "__main__":
    sys.exit(main())
