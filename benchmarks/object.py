#!/usr/bin/env python3
"""Object storage throughput against a running pocketstack (loopback only).

Workloads, each with ``--concurrency`` clients (default 16):

  small    PUT then GET ``--small-count`` 4 KiB objects: objects/s
  large    PUT then GET ``--large-count`` objects of ``--large-mib`` MiB (16): MB/s of
           object data (bodies streamed)
  dd       ``dd`` writing and reading 256 MiB in the cloud's data dir (conv=fsync), the
           disk's raw speed for comparison (3 replicas means 3x the bytes written); and
           ``--dd-copies`` (3) ``dd`` writing one ``--large-mib`` file each at once, each
           fsynced as a replica is: the disk's rate for one object's replicas, as MB/s
           of object data (``dd_copies_mb_s``, comparable with ``large_put_mb_s``)
  listing  PUT ``--listing-count`` empty objects into one container, then time a JSON
           listing of 10,000 of them

``--workloads`` picks some (default all); ``--pids`` adds the server processes' CPU
milliseconds per operation, steadier than rates on a shared machine.  The target is pocketstack (Keystone password
auth, ``--url``), real Swift with tempauth (``--tempauth-url`` + ``--tempauth-user``
``account:user``, ``--password`` the key), or any storage URL with ``--storage-url`` and
``--token``, so the same client measures both side by side (alternate the runs from a
shell loop for ratios from one session).

    python benchmarks/object.py --url http://127.0.0.1:18795 --password secret --data-dir /tmp/bench-cloud
    python benchmarks/object.py --tempauth-url http://127.0.0.1:8080/auth/v1.0 \
        --tempauth-user test:tester --password testing --workloads small
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
import proc  # benchmarks/proc.py


def token_and_account(url: str, user: str, password: str, project: str) -> tuple[str, str]:
    auth = {"auth": {"identity": {"methods": ["password"], "password": {"user": {
        "name": user, "domain": {"id": "default"}, "password": password}}},
        "scope": {"project": {"name": project, "domain": {"id": "default"}}}}}
    response = httpx.post(f"{url}/identity/v3/auth/tokens", json=auth)
    response.raise_for_status()
    project_id = response.json()["token"]["project"]["id"]
    return response.headers["X-Subject-Token"], f"{url}/object-store/v1/AUTH_{project_id}"


def tempauth(url: str, user: str, key: str) -> tuple[str, str]:
    """Swift's tempauth (v1.0): ``X-Auth-User``/``X-Auth-Key`` give a token and storage URL."""
    response = httpx.get(url, headers={"X-Auth-User": user, "X-Auth-Key": key})
    response.raise_for_status()
    return response.headers["X-Auth-Token"], response.headers["X-Storage-Url"]


def credentials(args) -> tuple[str, str]:
    if args.storage_url:
        return args.token, args.storage_url.rstrip("/")
    if args.tempauth_url:
        return tempauth(args.tempauth_url, args.tempauth_user, args.password)
    return token_and_account(args.url, args.user, args.password, args.project)


# Server processes whose CPU time is reported per operation (``--pids``): on a shared
# machine the wall-clock rates vary with the neighbours' load, CPU per request less.
SERVER_PIDS: list[int] = []
CPU_MS: dict[str, float] = {}


def cpu_seconds() -> float:
    """CPU time of the ``--pids`` processes with their worker processes (benchmarks/proc.py)."""
    return sum(proc.cpu_seconds(pid) for pid in SERVER_PIDS)


async def run_many(count: int, concurrency: int, work, label: str = "") -> float:
    queue = iter(range(count))

    async def worker():
        for i in queue:
            await work(i)

    cpu = cpu_seconds()
    started = time.monotonic()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    elapsed = time.monotonic() - started
    if SERVER_PIDS and label:
        CPU_MS[label] = round((cpu_seconds() - cpu) * 1000 / count, 2)
    return elapsed


async def bench(args) -> dict:
    token, account = credentials(args)
    headers = {"X-Auth-Token": token}
    results: dict = {"loadavg_start": os.getloadavg()[0]}
    workloads = set(args.workloads.split(","))
    limits = httpx.Limits(max_connections=args.concurrency, max_keepalive_connections=args.concurrency)
    async with httpx.AsyncClient(headers=headers, timeout=300, limits=limits) as client:
        container = f"{account}/bench-{uuid.uuid4().hex[:8]}"
        (await client.put(container)).raise_for_status()
        if "small" in workloads:
            results.update(await small_objects(client, container, args))
        if "large" in workloads:
            results.update(await large_objects(client, container, args))
        if "listing" in workloads:
            results.update(await listing(client, account, args))
    if args.data_dir and "dd" in workloads:
        results.update(dd(args.data_dir))
        results.update(dd_copies(args.data_dir, args.dd_copies, args.large_mib))
    results.update({f"{label}_server_cpu_ms_per_op": ms for label, ms in CPU_MS.items()})
    results["loadavg_end"] = os.getloadavg()[0]
    return results


class KeepAlive:
    """A minimal HTTP/1.1 client over ``size`` keep-alive connections, for the
    request-rate workloads: httpx spends ~3 ms of CPU per request, as much as the
    servers measured, and on a 2-CPU machine the client would set the pace."""

    def __init__(self, url: str, token: str, size: int):
        parsed = urlparse(url)
        self.host, self.port = parsed.hostname, parsed.port or 80
        self.token = token
        self.size = size
        self.idle: asyncio.Queue = asyncio.Queue()

    async def __aenter__(self):
        for _ in range(self.size):
            self.idle.put_nowait(await asyncio.open_connection(self.host, self.port))
        return self

    async def __aexit__(self, *exc):
        while not self.idle.empty():
            self.idle.get_nowait()[1].close()

    async def request(self, method: str, url: str, body: bytes = b"") -> bytes:
        """The response body; raises on a status >= 400."""
        path = urlparse(url).path
        head = (f"{method} {path} HTTP/1.1\r\nHost: {self.host}:{self.port}\r\nX-Auth-Token: {self.token}\r\n"
                f"Content-Length: {len(body)}\r\n\r\n").encode()
        reader, writer = await self.idle.get()
        try:
            writer.write(head + body)
            status_line, *lines = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1").split("\r\n")
            headers = {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in lines if line)}
            if headers.get("transfer-encoding") == "chunked":
                data = b""
                while size := int((await reader.readuntil(b"\r\n")).strip(), 16):
                    data += (await reader.readexactly(size + 2))[:-2]
                await reader.readuntil(b"\r\n")
            else:
                data = await reader.readexactly(int(headers.get("content-length", 0)))
        finally:
            self.idle.put_nowait((reader, writer))
        status = int(status_line.split()[1])
        if status >= 400:
            raise RuntimeError(f"{method} {path}: {status_line}")
        return data


async def small_objects(client: httpx.AsyncClient, container: str, args) -> dict:
    small = os.urandom(4096)
    async with KeepAlive(container, client.headers["X-Auth-Token"], args.concurrency) as fast:

        async def put_small(i):
            await fast.request("PUT", f"{container}/s{i}", small)

        async def get_small(i):
            assert len(await fast.request("GET", f"{container}/s{i}")) == len(small)

        count, concurrency = args.small_count, args.concurrency
        return {"small_put_per_s": count / await run_many(count, concurrency, put_small, "small_put"),
                "small_get_per_s": count / await run_many(count, concurrency, get_small, "small_get")}


async def large_objects(client: httpx.AsyncClient, container: str, args) -> dict:
    results = {}
    large = os.urandom(args.large_mib * 1024 * 1024)

    async def put_large(i):
        (await client.put(f"{container}/l{i}", content=large)).raise_for_status()

    async def get_large(i):
        async with client.stream("GET", f"{container}/l{i}") as response:
            response.raise_for_status()
            async for _chunk in response.aiter_bytes():
                pass

    mb = args.large_count * args.large_mib
    results["large_put_mb_s"] = mb / await run_many(args.large_count, args.concurrency, put_large, "large_put")
    results["large_get_mb_s"] = mb / await run_many(args.large_count, args.concurrency, get_large, "large_get")
    return results


async def listing(client: httpx.AsyncClient, account: str, args) -> dict:
    results = {}
    container = f"{account}/bench-list-{uuid.uuid4().hex[:8]}"
    (await client.put(container)).raise_for_status()

    async with KeepAlive(container, client.headers["X-Auth-Token"], args.concurrency) as fast:

        async def put_empty(i):
            await fast.request("PUT", f"{container}/o{i:06d}")

        results["listing_fill_per_s"] = args.listing_count / await run_many(args.listing_count, args.concurrency,
                                                                             put_empty, "listing_fill")
    started = time.monotonic()
    response = await client.get(container, params={"format": "json", "limit": "10000"})
    response.raise_for_status()
    results["listing_10k_s"] = time.monotonic() - started
    results["listing_entries"] = len(response.json())
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


def dd_copies(data_dir: str, copies: int, mib: int) -> dict:
    """``copies`` files of ``mib`` MiB written at once by ``dd conv=fsync`` (data, then
    an fsync of each file, as every replica of a PUT): MB/s of one copy's data, the
    ceiling for an object PUT storing ``copies`` replicas on this disk."""
    paths = [os.path.join(data_dir, f"dd-{uuid.uuid4().hex[:8]}") for _ in range(copies)]
    started = time.monotonic()
    try:
        procs = [subprocess.Popen(["dd", "if=/dev/zero", f"of={path}", "bs=1M", f"count={mib}", "conv=fsync"],
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) for path in paths]
        if any(p.wait() for p in procs):
            raise RuntimeError("dd failed")
        elapsed = time.monotonic() - started
    finally:
        for path in paths:
            if os.path.exists(path):
                os.unlink(path)
    return {"dd_copies": copies, "dd_copies_mb_s": mib / elapsed, "dd_copies_total_mb_s": copies * mib / elapsed}


def _dd_rate(output: str) -> float:
    match = re.search(r"(\d+) bytes .* copied, ([\d.]+) s", output)
    return int(match.group(1)) / 1048576 / float(match.group(2)) if match else 0.0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", help="pocketstack's root URL (Keystone password auth)")
    parser.add_argument("--tempauth-url", help="Swift tempauth, e.g. http://127.0.0.1:8080/auth/v1.0")
    parser.add_argument("--tempauth-user", default="test:tester")
    parser.add_argument("--storage-url", help="an account URL to use with --token")
    parser.add_argument("--token")
    parser.add_argument("--workloads", default="small,large,listing,dd")
    parser.add_argument("--user", default="admin")
    parser.add_argument("--password")
    parser.add_argument("--project", default="admin")
    parser.add_argument("--data-dir", help="the cloud's data dir, for the dd comparison")
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--small-count", type=int, default=2000)
    parser.add_argument("--large-count", type=int, default=16)
    parser.add_argument("--large-mib", type=int, default=16, help="size of the large objects (1..1024)")
    parser.add_argument("--dd-copies", type=int, default=3, help="files dd writes at once (the replica count)")
    parser.add_argument("--listing-count", type=int, default=10000)
    parser.add_argument("--pids", default="", help="server process ids: report their CPU ms per operation")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    target = args.storage_url or args.tempauth_url or args.url
    if not target or (args.storage_url and not args.token) or (not args.storage_url and not args.password):
        parser.error("give --url or --tempauth-url with --password, or --storage-url with --token")
    if urlparse(target).hostname not in ("127.0.0.1", "localhost", "::1"):
        parser.error("only loopback URLs are accepted")
    unknown = set(args.workloads.split(",")) - {"small", "large", "listing", "dd"}
    if unknown:
        parser.error(f"unknown workloads: {', '.join(sorted(unknown))}")
    for name in ("small_count", "large_count", "listing_count"):
        if not 0 < getattr(args, name) <= 100000:
            parser.error(f"--{name.replace('_', '-')} must be in 1..100000")
    if not 0 < args.large_mib <= 1024 or not 0 < args.dd_copies <= 16:
        parser.error("--large-mib must be in 1..1024 and --dd-copies in 1..16")
    SERVER_PIDS.extend(int(p) for p in args.pids.split(",") if p)
    results = asyncio.run(bench(args))
    print(json.dumps(results, indent=None if args.json else 2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
