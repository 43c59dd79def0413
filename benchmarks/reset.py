"""Time ``POST /_pocketstack/reset`` on a cloud holding N resources.

Starts its own cloud (pocketstack.testing.Cloud: in-process on a free port, SQLite, or a
scratch PostgreSQL/MariaDB database with ``--database-url``), then, ``--rounds`` times:
fills it with ``--resources`` resources through the public APIs (networks, ports,
images, key pairs, projects, users, containers, objects, volumes and
servers of the fake hypervisor, in turn) and times one reset.  Prints each reset's time
as the server measured it and as the client saw it, the median, and the load average
(the machine is shared: compare figures taken at similar load only).

    .venv/bin/python benchmarks/reset.py --resources 100 --rounds 5
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import statistics
import time
from collections.abc import Callable, Iterator

import httpx

from pocketstack.testing import Cloud

Maker = Callable[[httpx.Client, int], httpx.Response]


def makers(http: httpx.Client, project_id: str) -> Iterator[Maker]:
    """Resource makers in a fixed rotation (each makes one resource, ``i`` names it)."""
    account = f"/object-store/v1/AUTH_{project_id}"
    flavor = http.post("/compute/v2.1/flavors", json={"flavor": {"name": "bench", "vcpus": 1, "ram": 64,
                                                                   "disk": 0}}).json()["flavor"]["id"]
    image = http.post("/image/v2/images", json={"name": "bench", "disk_format": "raw",
                                                "container_format": "bare"}).json()["id"]
    http.put(f"/image/v2/images/{image}/file", content=b"bench", headers={"Content-Type": "application/octet-stream"})
    network = http.post("/network/v2.0/networks", json={"network": {"name": "bench"}}).json()["network"]["id"]
    http.post("/network/v2.0/subnets", json={"subnet": {"network_id": network, "cidr": "10.77.0.0/16",
                                                        "ip_version": 4}})
    http.put(f"{account}/bench")
    steps: list[Maker] = [
        lambda h, i: h.post("/network/v2.0/networks", json={"network": {"name": f"n{i}"}}),
        lambda h, i: h.post("/network/v2.0/ports", json={"port": {"network_id": network, "name": f"p{i}"}}),
        lambda h, i: h.post("/image/v2/images", json={"name": f"i{i}", "disk_format": "raw",
                                                      "container_format": "bare"}),
        lambda h, i: h.post("/compute/v2.1/os-keypairs", json={"keypair": {"name": f"k{i}"}}),
        lambda h, i: h.post("/identity/v3/projects", json={"project": {"name": f"pr{i}"}}),
        lambda h, i: h.post("/identity/v3/users", json={"user": {"name": f"u{i}", "password": "x"}}),
        lambda h, i: h.put(f"{account}/c{i}"),
        lambda h, i: h.put(f"{account}/bench/o{i}", content=b"x" * 1024),
        lambda h, i: h.post(f"/volume/v3/{project_id}/volumes", json={"volume": {"size": 1, "name": f"v{i}"}}),
        lambda h, i: h.post("/compute/v2.1/servers", json={"server": {
            "name": f"s{i}", "flavorRef": flavor, "imageRef": image, "networks": "none"}},
            headers={"OpenStack-API-Version": "compute 2.37"}),
    ]
    return itertools.cycle(steps)


def fill(cloud: Cloud, count: int) -> float:
    started = time.monotonic()
    with httpx.Client(base_url=cloud.url, headers={"X-Auth-Token": cloud.state.token()}, timeout=120) as http:
        project_id = http.get("/identity/v3/auth/projects").json()["projects"][0]["id"]
        for i, make in zip(range(count), makers(http, project_id)):
            response = make(http, i)
            if response.status_code >= 300:
                raise SystemExit(f"making resource {i} failed: {response.status_code} {response.text[:200]}")
    return time.monotonic() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--resources", type=int, default=100, help="resources made before each reset (default 100)")
    parser.add_argument("--rounds", type=int, default=5, help="fill-and-reset rounds (default 5)")
    parser.add_argument("--database-url", help="SQLAlchemy URL of an empty database (default: SQLite)")
    parser.add_argument("--json", action="store_true", help="machine-readable output")
    args = parser.parse_args()
    extra = {"database_url": args.database_url} if args.database_url else {}
    server, client = [], []
    with Cloud(settings=extra) as cloud:
        for _ in range(args.rounds):
            filled = fill(cloud, args.resources)
            time.sleep(0.5)  # let the fake hypervisor finish the boots it was asked for
            started = time.monotonic()
            server.append(cloud.reset())
            client.append(time.monotonic() - started)
            if not args.json:
                print(f"filled {args.resources} resources in {filled:.1f}s; reset {server[-1] * 1000:.0f} ms "
                      f"(client {client[-1] * 1000:.0f} ms)", flush=True)
    result = {"resources": args.resources, "rounds": args.rounds,
              "reset_ms_median": round(statistics.median(server) * 1000, 1),
              "client_ms_median": round(statistics.median(client) * 1000, 1),
              "loadavg": os.getloadavg()}
    print(json.dumps(result) if args.json else
          f"median reset {result['reset_ms_median']} ms (client {result['client_ms_median']} ms) for "
          f"{args.resources} resources; load average {' '.join(f'{x:.1f}' for x in result['loadavg'])}")


if __name__ == "__main__":
    main()
