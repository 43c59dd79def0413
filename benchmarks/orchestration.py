#!/usr/bin/env python3
"""Orchestration: time to CREATE_COMPLETE of a 100-resource stack, and CPU per resource.

One ``pocketstack up`` (started here, SQLite, its engine in process); for each workload
``--runs`` stacks are created through the Heat API as the admin, each timed from the
POST until the stack leaves ``CREATE_IN_PROGRESS`` (polled every ``--poll`` s), then
deleted and timed until gone.  CPU is the cloud process's user+system seconds from
/proc (:mod:`proc`) over the create: the engine *and* the APIs it calls as the user
(all one process in the all-in-one cloud), divided by the resources.

  heat   ``--resources`` ``OS::Heat::RandomString``: nothing outside Orchestration, so
         the figure is the engine's own cost per resource (graph walk, compare-and-swap
         writes and events, the in-process API round trip of each step's reads).
  mix    a third each ``OS::Heat::RandomString``, ``OS::Neutron::Net`` and
         ``OS::Neutron::Port`` (port *i* on net *i*: a two-level graph): the engine plus
         Networking's work for every net and port.

    .venv/bin/python benchmarks/orchestration.py [--resources 100] [--runs 3] [--json]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from compute import Api, running_cloud  # noqa: E402  (the cloud started for a benchmark, an admin client)
from proc import cpu_seconds  # noqa: E402


def template(workload: str, count: int) -> dict:
    if workload == "heat":
        resources = {f"r{i}": {"type": "OS::Heat::RandomString", "properties": {"length": 16}} for i in range(count)}
    else:
        nets = count // 3
        resources = {f"r{i}": {"type": "OS::Heat::RandomString"} for i in range(count - 2 * nets)}
        for i in range(nets):
            resources[f"net{i}"] = {"type": "OS::Neutron::Net"}
            resources[f"port{i}"] = {"type": "OS::Neutron::Port",
                                     "properties": {"network": {"get_resource": f"net{i}"}}}
    return {"heat_template_version": "2018-08-31", "resources": resources}


def _load() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def _wait(api: Api, url: str, poll: float) -> dict | None:
    while True:
        response = api.client.get(url)
        if response.status_code == 404:
            return None
        stack = response.json()["stack"]
        if not stack["stack_status"].endswith("IN_PROGRESS"):
            return stack
        time.sleep(poll)


def run_once(api: Api, pid: int, workload: str, count: int, poll: float) -> dict:
    base = f"/orchestration/v1/{api.project_id}/stacks"
    name = f"bench-{workload}-{uuid.uuid4().hex[:6]}"
    load_before, cpu_before, start = _load(), cpu_seconds(pid), time.perf_counter()
    made = api.call("POST", base, json={"stack_name": name, "template": template(workload, count)}).json()
    url = f"{base}/{name}/{made['stack']['id']}"
    stack = _wait(api, url, poll)
    created, cpu = time.perf_counter() - start, cpu_seconds(pid) - cpu_before
    assert stack is not None
    if stack["stack_status"] != "CREATE_COMPLETE":
        raise SystemExit(f"{name}: {stack['stack_status']} {stack['stack_status_reason']}")
    start = time.perf_counter()
    api.call("DELETE", url)
    if _wait(api, url, poll) is not None:
        raise SystemExit(f"{name}: delete failed")
    return {"workload": workload, "resources": count, "create_s": round(created, 2),
            "cpu_s": round(cpu, 2), "cpu_ms_per_resource": round(cpu * 1000 / count, 1),
            "delete_s": round(time.perf_counter() - start, 2), "load_before": load_before, "load_after": _load()}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--resources", type=int, default=100)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--workloads", default="heat,mix")
    parser.add_argument("--poll", type=float, default=0.1, help="seconds between stack polls")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--log-level", default="WARNING")
    parser.add_argument("--keep", action="store_true", help="keep the cloud's data directory")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    if not 1 <= args.resources <= 1000 or not 1 <= args.runs <= 20:
        parser.error("--resources 1..1000, --runs 1..20")
    # What compute.py's cloud needs to size its fake hosts (no servers here).
    args.hosts, args.boots, args.list_servers = 1, 1, 1
    with running_cloud(args, None) as (url, _data_dir, _db, pid):
        api = Api(url)
        api.call("PUT", f"/network/v2.0/quotas/{api.project_id}", json={"quota": {"network": -1, "port": -1}})
        rows = [run_once(api, pid, workload, args.resources, args.poll)
                for workload in args.workloads.split(",") for _ in range(args.runs)]
    if args.json:
        print(json.dumps(rows, indent=2))
        return 0
    print(f"{'workload':8} {'create s':>9} {'CPU s':>7} {'CPU ms/res':>11} {'delete s':>9}  load before -> after")
    for row in rows:
        print(f"{row['workload']:8} {row['create_s']:9.2f} {row['cpu_s']:7.2f} {row['cpu_ms_per_resource']:11.1f} "
              f"{row['delete_s']:9.2f}  {row['load_before']} -> {row['load_after']}")
    for workload in args.workloads.split(","):
        mine = [r for r in rows if r["workload"] == workload]
        print(f"{workload}: median create {statistics.median(r['create_s'] for r in mine):.2f} s, "
              f"median CPU {statistics.median(r['cpu_ms_per_resource'] for r in mine):.1f} ms/resource")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
