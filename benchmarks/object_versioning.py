#!/usr/bin/env python3
"""What object versioning and the expirer cost, against a running pocketstack (loopback).

  overwrite  ``--count`` overwrites of ``--objects`` 4 KiB objects, ``--concurrency``
             clients, into a plain container and into one with X-Versions-Location:
             overwrites/s of each and the ratio (a versioned overwrite also copies the
             old version into the archive)
  expirer    ``--count`` objects uploaded with X-Delete-After: 1, then one
             ``pocketstack object expirer --once`` over ``--data-dir``: objects
             expired per second of that pass

    python benchmarks/object_versioning.py --url http://127.0.0.1:18806 --password secret \\
        --data-dir /tmp/object-cloud
"""

from __future__ import annotations

import argparse
import asyncio
import re
import subprocess
import sys
import time
import uuid
from pathlib import Path

import httpx


def token_and_account(url: str, password: str) -> tuple[str, str]:
    auth = {"auth": {"identity": {"methods": ["password"], "password": {"user": {
        "name": "admin", "domain": {"id": "default"}, "password": password}}},
        "scope": {"project": {"name": "admin", "domain": {"id": "default"}}}}}
    response = httpx.post(f"{url}/identity/v3/auth/tokens", json=auth)
    response.raise_for_status()
    return response.headers["X-Subject-Token"], \
        f"{url}/object-store/v1/AUTH_{response.json()['token']['project']['id']}"


async def overwrites(client: httpx.AsyncClient, container_url: str, count: int, objects: int,
                     concurrency: int) -> float:
    body = b"x" * 4096
    queue = list(range(count))

    async def worker():
        while queue:
            i = queue.pop()
            response = await client.put(f"{container_url}/o{i % objects}", content=body)
            response.raise_for_status()

    start = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return count / (time.perf_counter() - start)


async def main(args) -> None:
    token, account = token_and_account(args.url, args.password)
    run = uuid.uuid4().hex[:8]
    async with httpx.AsyncClient(headers={"X-Auth-Token": token}, timeout=120,
                                 limits=httpx.Limits(max_connections=args.concurrency)) as client:
        plain, current, archive = (f"{account}/{name}-{run}" for name in ("plain", "current", "archive"))
        for url in (plain, archive):
            (await client.put(url)).raise_for_status()
        (await client.put(current, headers={"X-Versions-Location": f"archive-{run}"})).raise_for_status()
        if "overwrite" in args.workloads:
            plain_rate = await overwrites(client, plain, args.count, args.objects, args.concurrency)
            versioned_rate = await overwrites(client, current, args.count, args.objects, args.concurrency)
            print(f"overwrite: plain {plain_rate:.0f}/s, versioned {versioned_rate:.0f}/s, "
                  f"ratio {plain_rate / versioned_rate:.2f}x")
        if "expirer" in args.workloads:
            expiring = f"{account}/expiring-{run}"
            (await client.put(expiring)).raise_for_status()
            sem = asyncio.Semaphore(args.concurrency)

            async def upload(i):
                async with sem:
                    (await client.put(f"{expiring}/e{i}", content=b"x",
                                      headers={"X-Delete-After": "1"})).raise_for_status()

            await asyncio.gather(*(upload(i) for i in range(args.count)))
            await asyncio.sleep(2)
            start = time.perf_counter()
            result = subprocess.run([str(Path(sys.executable).parent / "pocketstack"), "--data-dir", args.data_dir,
                                     "object", "expirer", "--once"], capture_output=True, text=True, check=True)
            seconds = time.perf_counter() - start
            expired = int(re.search(r"expired (\d+)", result.stdout).group(1))
            print(f"expirer: {expired} objects in {seconds:.1f}s (process start included), "
                  f"{expired / seconds:.0f} objects/s")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", required=True)
    parser.add_argument("--password", required=True)
    parser.add_argument("--data-dir", required=True, help="the cloud's --data-dir (for the expirer command)")
    parser.add_argument("--count", type=int, default=1000)
    parser.add_argument("--objects", type=int, default=50, help="distinct names the overwrites cycle over")
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--workloads", default="overwrite,expirer")
    asyncio.run(main(parser.parse_args()))
