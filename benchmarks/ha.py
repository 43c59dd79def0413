#!/usr/bin/env python3
"""Instance HA: the time from a host failure to all its servers ACTIVE on other hosts.

An in-process cloud (the compute, placement, network and identity services as ``pocketstack
up`` runs them, SQLite in a scratch directory, fake hosts) boots ``--servers`` servers
on one host, then that host fails: its compute service stops checking in and its machine
stops answering.  The instance-HA service's own round (:meth:`InstanceHA.tick`) runs every
``--interval`` seconds and needs ``--confirm`` looks in a row before it calls the host
failed, as the "ha" role does.  Printed, from the moment of the failure:

  detected     the COMPUTE_HOST notification exists (confirmation included)
  fenced       the fence driver confirmed the host is off (the ``fake`` driver here)
  all ACTIVE   every server ACTIVE on another host (the notification ``finished``)

with the load average of the machine beside them (2 cores shared with other work make
the figures move; run it twice).

    .venv/bin/python benchmarks/ha.py --servers 50
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import os
import tempfile
import threading
import time
from pathlib import Path

from starlette.testclient import TestClient

from pocketstack.cloud import Cloud
from pocketstack.common import config
from pocketstack.common.db import utcnow
from pocketstack.common.pagination import Paging
from pocketstack.ha.manager import InstanceHA
from pocketstack.ha.notifications import NotificationFilters
from pocketstack.identity.bootstrap import bootstrap

PASSWORD = "bench-secret"
HOST_FAILURES = NotificationFilters(type="COMPUTE_HOST")
LATEST = Paging(limit=1, sort=[("created_at", "desc"), ("id", "desc")])
COMPUTE = {"OpenStack-API-Version": "compute 2.64"}


class Bench:
    def __init__(self, client: TestClient, cloud: Cloud):
        self.client, self.cloud = client, cloud
        auth = {"identity": {"methods": ["password"], "password": {"user": {
            "name": "admin", "domain": {"id": "default"}, "password": PASSWORD}}},
            "scope": {"project": {"name": "admin", "domain": {"id": "default"}}}}
        r = client.post("/identity/v3/auth/tokens", json={"auth": auth})
        self.headers = {"X-Auth-Token": r.headers["X-Subject-Token"], **COMPUTE}
        self.project_id = r.json()["token"]["project"]["id"]

    def call(self, method: str, path: str, **kw):
        r = self.client.request(method, "/compute/v2.1" + path, headers=self.headers, **kw)
        assert r.status_code < 300, r.text
        return r.json() if r.content else None

    def boot_on(self, host: str, count: int) -> list[str]:
        """``count`` ACTIVE servers on ``host`` (the other hosts disabled meanwhile)."""
        hosts = self.cloud.service("compute").manager.hosts
        others = [n for n in hosts.list() if n.host != host]
        for node in others:
            hosts.update_service(node.service_id, disabled=True)
        self.call("PUT", f"/os-quota-sets/{self.project_id}",
                  json={"quota_set": {"instances": -1, "cores": -1, "ram": -1}})
        flavor = self.call("POST", "/flavors", json={"flavor": {"name": "ha-bench", "vcpus": 1, "ram": 64,
                                                               "disk": 1}})["flavor"]
        image = self.client.post("/image/v2/images", headers=self.headers, json={
            "name": "ha-bench", "disk_format": "raw", "container_format": "bare"}).json()
        self.client.put(f"/image/v2/images/{image['id']}/file", headers={
            **self.headers, "Content-Type": "application/octet-stream"}, content=b"bench")
        self.call("POST", "/servers", json={"server": {"name": "ha-bench", "imageRef": image["id"],
                                                       "flavorRef": flavor["id"], "networks": "none",
                                                       "min_count": count, "max_count": count}})
        ids = self.wait_active(lambda s: True, count, 600)
        for node in others:
            hosts.update_service(node.service_id, disabled=False)
        return ids

    def wait_active(self, where, count: int, timeout: float) -> list[str]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            servers = self.call("GET", "/servers/detail")["servers"]
            ready = [s["id"] for s in servers if s["status"] == "ACTIVE" and s["OS-EXT-STS:task_state"] is None
                     and where(s)]
            if len(ready) == count:
                return ready
            time.sleep(0.05)
        raise TimeoutError("servers did not become ACTIVE")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--servers", type=int, default=50)
    parser.add_argument("--hosts", type=int, default=3, help="fake hosts: one fails, the others take its servers")
    parser.add_argument("--interval", type=float, default=1.0, help="ha_monitor_interval (seconds)")
    parser.add_argument("--confirm", type=int, default=3, help="ha_confirm_count (looks in a row)")
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory(prefix="pocketstack-ha-bench-") as tmp:
        settings = config.load(overrides={
            "data_dir": Path(tmp), "bcrypt_rounds": 4, "fake_hosts": args.hosts, "log_level": "WARNING",
            "fake_host_vcpus": args.servers + 1, "fake_host_memory_mb": 64 * (args.servers + 1),
            "fake_host_disk_gb": args.servers + 1, "services": "identity,network,placement,image,compute,ha",
            "ha_monitor_interval": args.interval, "ha_confirm_count": args.confirm}, environ={})
        cloud = Cloud(settings)
        bootstrap(cloud.identity, admin_password=PASSWORD, demo_password=PASSWORD, region=settings.region,
                  services=cloud.catalog())
        with TestClient(cloud.asgi_app()) as client:
            bench = Bench(client, cloud)
            failing = "compute-1"
            servers = bench.boot_on(failing, args.servers)
            compute = cloud.service("compute")
            ha = InstanceHA(cloud, dataclasses.replace(settings))
            heartbeat = next(w.heartbeat for w in compute.workers if hasattr(w, "heartbeat"))
            load_before = os.getloadavg()
            stop = threading.Event()

            def monitor() -> None:  # the leading HA process's loop
                while not stop.is_set():
                    ha.tick()
                    stop.wait(args.interval)

            failed_at, start = utcnow(), time.monotonic()
            heartbeat.remove_host(failing)
            compute.manager.hosts.liveness.forget()
            compute.manager.hosts.driver(failing).responsive = False
            thread = threading.Thread(target=monitor, daemon=True)
            thread.start()
            bench.wait_active(lambda s: s.get("OS-EXT-SRV-ATTR:host") != failing, len(servers), 600)
            done = time.monotonic() - start
            while ha.notifications.list(HOST_FAILURES, LATEST)[0].status in ("new", "running"):
                time.sleep(0.05)  # the next round records the moves' outcome
            recorded = time.monotonic() - start
            stop.set()
            thread.join()
            row, = ha.notifications.list(HOST_FAILURES, LATEST)
            fence = next(t for t in row.details if t["name"] == "FenceHostTask")["progress_details"][-1]
            marks = {"detected": (row.created_at - failed_at).total_seconds(),
                     "fenced": (dt.datetime.fromisoformat(fence["timestamp"]) - failed_at).total_seconds()}
            moved = sum(1 for m in ha.notifications.vmoves(row.notification_uuid) if m.status == "succeeded")
        cloud.close()
    print(f"instance HA, {args.servers} servers on a failed host, {args.hosts - 1} hosts to take them; "
          f"monitor interval {args.interval:g}s, {args.confirm} looks to confirm")
    for name in ("detected", "fenced"):
        print(f"  {name:>10}: {marks[name]:6.2f} s after the failure")
    print(f"  {'all ACTIVE':>10}: {done:6.2f} s after the failure ({done - marks['fenced']:.2f} s of evacuation; "
          f"{moved} vmoves succeeded)")
    print(f"  {'recorded':>10}: {recorded:6.2f} s after the failure (notification {row.status}, on the next round)")
    print(f"  load average before: {load_before[0]:.2f} {load_before[1]:.2f} {load_before[2]:.2f}; "
          f"after: {' '.join(f'{v:.2f}' for v in os.getloadavg())}; cpus {os.cpu_count()}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
