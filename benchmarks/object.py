#!/usr/bin/env python3
"""Object storage throughput against a running pocketstack (loopback only).

Workloads, each with ``--concurrency`` clients (default 16):

  small    PUT then GET ``--small-count`` 4 KiB objects: objects/s
  large    PUT then GET ``--large-count`` 16 MiB objects: MB/s (bodies streamed)
  dd       ``dd`` writing and reading 256 MiB in the cloud's data dir (conv=fsync), the
           disk's raw speed for comparison (3 replicas means 3x the bytes written)
  listing  PUT ``--listing-count`` empty objects into one container, then time a JSON
           listing of 10,000 of them

    python benchmarks/object.py --url http://127.0.0.1:18795 --password secret --data-dir /tmp/bench-cloud
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import subprocess
import time
import uuid
from urllib.parse import urlparse

import httpx


def token_and_account(url: str, user: str, password: str, project: str) -> tuple[str, str]:
    auth = {"auth": {"identity": {"methods": ["password"], "password": {"user": {
        "name": user, "domain": {"id": "default"}, "password": password}}},
        "scope": {"project": {"name": project, "domain": {"id": "default"}}}}}
    response = httpx.post(f"{url}/identity/v3/auth/tokens", json=auth)
    response.raise_for_status()
    project_id = response.json()["token"]["project"]["id"]
    return response.headers["X-Subject-Token"], f"{url}/object-store/v1/AUTH_{project_id}"


async def run_many(count: int, concurrency: int, work) -> float:
    queue = iter(range(count))

    async def worker():
        for i in queue:
            await work(i)

    started = time.monotonic()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return time.monotonic() - started


async def bench(args) -> dict:
    token, account = token_and_account(args.url, args.user, args.password, args.project)
    headers = {"X-Auth-Token": token}
    results = {}
    async with httpx.AsyncClient(headers=headers, timeout=300) as client:
        container = f"{account}/bench-{uuid.uuid4().hex[:8]}"
        (await client.put(container)).raise_for_status()
        small = os.urandom(4096)

        async def put_small(i):
            (await client.put(f"{container}/s{i}", content=small)).raise_for_status()

        async def get_small(i):
            (await client.get(f"{container}/s{i}")).raise_for_status()

        results["small_put_per_s"] = args.small_count / await run_many(args.small_count, args.concurrency, put_small)
        results["small_get_per_s"] = args.small_count / await run_many(args.small_count, args.concurrency, get_small)

        large = os.urandom(16 * 1024 * 1024)

        async def put_large(i):
            (await client.put(f"{container}/l{i}", content=large)).raise_for_status()

        async def get_large(i):
            async with client.stream("GET", f"{container}/l{i}") as response:
                response.raise_for_status()
                async for _chunk in response.aiter_bytes():
                    pass

        mb = args.large_count * 16
        results["large_put_mb_s"] = mb / await run_many(args.large_count, args.concurrency, put_large)
        results["large_get_mb_s"] = mb / await run_many(args.large_count, args.concurrency, get_large)

        listing = f"{account}/bench-list-{uuid.uuid4().hex[:8]}"
        (await client.put(listing)).raise_for_status()

        async def put_empty(i):
            (await client.put(f"{listing}/o{i:06d}", content=b"")).raise_for_status()

        results["listing_fill_per_s"] = args.listing_count / await run_many(args.listing_count, args.concurrency,
                                                                             put_empty)
        started = time.monotonic()
        response = await client.get(listing, params={"format": "json", "limit": "10000"})
        response.raise_for_status()
        results["listing_10k_s"] = time.monotonic() - started
        results["listing_entries"] = len(response.json())
    if args.data_dir:
        results.update(dd(args.data_dir))
    return results


def dd(data_dir: str) -> dict:
    path = os.path.join(data_dir, f"dd-{uuid.uuid4().hex[:8]}")
    try:
        write = subprocess.run(["dd", "if=/dev/zero", f"of={path}", "bs=1M", "count=256", "conv=fsync"],
                               capture_output=True, text=True, check=True).stderr
        read = subprocess.run(["dd", f"if={path}", "of=/dev/null", "bs=1M"], capture_output=True, text=True,
                              check=True).stderr
    finally:
        if os.path.exists(path):
            os.unlink(path)
    return {"dd_write_mb_s": _dd_rate(write), "dd_read_mb_s": _dd_rate(read)}


def _dd_rate(output: str) -> float:
    match = re.search(r"(\d+) bytes .* copied, ([\d.]+) s", output)
    return int(match.group(1)) / 1048576 / float(match.group(2)) if match else 0.0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", required=True)
    parser.add_argument("--user", default="admin")
    parser.add_argument("--password", required=True)
    parser.add_argument("--project", default="admin")
    parser.add_argument("--data-dir", help="the cloud's data dir, for the dd comparison")
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--small-count", type=int, default=2000)
    parser.add_argument("--large-count", type=int, default=16)
    parser.add_argument("--listing-count", type=int, default=10000)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    if urlparse(args.url).hostname not in ("127.0.0.1", "localhost", "::1"):
        parser.error("only loopback URLs are accepted")
    for name in ("small_count", "large_count", "listing_count"):
        if not 0 < getattr(args, name) <= 100000:
            parser.error(f"--{name.replace('_', '-')} must be in 1..100000")
    results = asyncio.run(bench(args))
    print(json.dumps(results, indent=None if args.json else 2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
