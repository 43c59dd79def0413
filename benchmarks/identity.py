#!/usr/bin/env python3
"""Load benchmark for any Keystone v3 compatible Identity service.

Four workloads, measured one after the other, each after its own warm-up:

  issue      POST /v3/auth/tokens   (password method, project scope, with catalog)
  validate   GET  /v3/auth/tokens   (X-Subject-Token: a pool of pre-issued tokens,
                                     X-Auth-Token: an admin token)
  projects   GET  /v3/projects      (admin token)
  catalog    GET  /v3/auth/catalog  (admin token)

and one more on request, beside ``issue`` in the same run (``--workloads
issue,issue-kerberos``):

  issue-kerberos  POST /v3/auth/tokens (the kerberos method, the same scope): each request
                  with a fresh ``Authorization: Negotiate`` token that python-gssapi makes
                  from the ticket cache of the environment (``kinit`` first; KRB5CCNAME,
                  KRB5_CONFIG) for ``HTTP@<--kerberos-host>`` (default: the auth URL's
                  host); the server needs ``kerberos`` in ``auth_methods`` and a user the
                  principal names, with a role on ``--project``.
  issue-x509      POST <idp>/protocols/x509/auth over the TLS listener (``--x509-url``, the
                  https identity URL), presenting the client certificate ``--x509-cert``/
                  ``--x509-key`` (server verified with ``--x509-ca``): an unscoped federated
                  token through the provider ``--x509-idp``'s mapping.  The TLS handshake is
                  paid once per keep-alive connection, as a client session does.
  issue-oidc      POST <idp>/protocols/openid/auth with ``Authorization: Bearer`` access
                  tokens that the OpenID provider's token endpoint (``--oidc-token-url``)
                  issued by the password grant (``--oidc-client-id``/``-secret``,
                  ``--oidc-username``/``-password``), as keystoneauth's ``v3oidcpassword``
                  does: a pool of ``--subject-tokens`` of them, got before the measurement
                  (the provider's own CPU is not the Identity service's), each verified in
                  full at every request (no cache of verified tokens).
                  ``benchmarks/identity_federation.py`` starts a server, the test OpenID
                  provider and the certificates these two need, and runs them.

``--catalog-endpoints N`` first adds services with public/internal/admin endpoints in
a region of their own until the catalog holds at least N endpoints (idempotent), so that
two services compared have catalogs of the same size.

For each it prints requests/s, latency p50/p90/p99 (ms), errors and the client's own
CPU use per request (to show the client is not the bottleneck).  With ``--client raw``
the load process speaks HTTP/1.1 itself over asyncio streams (keep-alive, requests
formatted per call, responses read by Content-Length or chunks) instead of httpx: about
a fifth of httpx's CPU per request, which matters once the server needs less CPU per
request than httpx does (on a 2-core machine the client then takes most of the CPU and
caps every server's req/s alike).  ``--json`` prints the
same as one JSON document.

    python benchmarks/identity.py --auth-url http://127.0.0.1:18795/identity \\
        --username admin --password secret --project admin --duration 20

The load runs in a child process (``--client-processes``, default 1) with one
``httpx.AsyncClient`` per process and keep-alive connections (one per concurrent
worker), so the parent's setup work never overlaps the measurement.  On a small machine
the client still shares the CPU with the server: ``--client-cpus`` pins the load
process(es) (e.g. ``--client-cpus 1`` with the server under ``taskset -c 0``).

``--cold-start`` instead measures a pocketstack server itself: time from exec of
``pocketstack up`` to the first successful ``GET /identity/v3``, on a fresh data
directory and on a restart with the existing one, the server's CPU time until then, and
the idle RSS of the server process.  ``--source DIR`` runs another tree (before/after);
``--token-provider jws`` starts it with JWS tokens.  (Load figures of a JWS server: start
it with ``POCKETSTACK_TOKEN_PROVIDER=jws``; nothing else changes.)

Everything is bounded: every loop stops at ``--duration`` seconds or ``--requests``
requests (hard caps: 600 s, 1,000,000 requests), and only loopback URLs are accepted.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import ipaddress
import json
import multiprocessing as mp
import os
import platform
import shutil
import signal
import ssl
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
from pathlib import Path

import httpx
import proc  # benchmarks/proc.py

WORKLOADS = ("issue", "validate", "projects", "catalog")
# Not in the default list: they need a Kerberos realm, a TLS listener, an OpenID provider.
OPTIONAL_WORKLOADS = ("issue-kerberos", "issue-x509", "issue-oidc")
MAX_DURATION = 600.0
MAX_REQUESTS = 1_000_000
REPO = Path(__file__).resolve().parent.parent


# --------------------------------------------------------------------------- helpers
class RawResponse:
    def __init__(self, status_code: int, headers: dict[str, str], content: bytes):
        self.status_code, self.headers, self.content = status_code, headers, content


class RawClient:
    """A minimal HTTP/1.1 client (``--client raw``): the ``get``/``post`` the workloads
    use, over a pool of keep-alive connections to one loopback host:port."""

    def __init__(self, base: str):
        parts = urllib.parse.urlsplit(base)
        if parts.scheme != "http":
            raise SystemExit("--client raw speaks plain http only")
        self.host, self.port = parts.hostname or "127.0.0.1", parts.port or 80
        self.origin = f"{parts.scheme}://{parts.netloc}"
        self._free: list[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = []

    async def __aenter__(self) -> RawClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        for _, writer in self._free:
            writer.close()

    async def get(self, url: str, headers: dict[str, str] | None = None) -> RawResponse:
        return await self.request("GET", url, headers or {}, b"")

    async def post(self, url: str, content: bytes = b"", headers: dict[str, str] | None = None) -> RawResponse:
        return await self.request("POST", url, headers or {}, content)

    async def request(self, method: str, url: str, headers: dict[str, str], body: bytes) -> RawResponse:
        path = url[len(self.origin):] if url.startswith(self.origin) else url
        head = f"{method} {path} HTTP/1.1\r\nHost: {self.host}:{self.port}\r\nContent-Length: {len(body)}\r\n"
        head += "".join(f"{k}: {v}\r\n" for k, v in headers.items()) + "\r\n"
        reader, writer = self._free.pop() if self._free else await asyncio.open_connection(self.host, self.port)
        try:
            writer.write(head.encode() + body)
            raw = await reader.readuntil(b"\r\n\r\n")
            lines = raw.decode("latin-1").split("\r\n")
            status = int(lines[0].split(" ", 2)[1])
            got = {}
            for line in lines[1:]:
                if line:
                    name, _, value = line.partition(":")
                    got[name.strip().lower()] = value.strip()
            if got.get("transfer-encoding", "").lower() == "chunked":
                chunks = []
                while size := int((await reader.readuntil(b"\r\n")).split(b";")[0], 16):
                    chunks.append(await reader.readexactly(size + 2))
                await reader.readuntil(b"\r\n")
                content = b"".join(c[:-2] for c in chunks)
            else:
                content = await reader.readexactly(int(got.get("content-length", "0")))
        except BaseException:
            writer.close()
            raise
        if got.get("connection", "").lower() == "close":
            writer.close()
        else:
            self._free.append((reader, writer))
        return RawResponse(status, got, content)


def _check_loopback(url: str) -> None:
    host = urllib.parse.urlsplit(url).hostname or ""
    if host == "localhost":
        return
    try:
        if ipaddress.ip_address(host).is_loopback:
            return
    except ValueError:
        pass
    raise SystemExit(f"refusing to load {host!r}: only loopback addresses (127.0.0.0/8, ::1, localhost)")


def _base_url(auth_url: str) -> str:
    """``http://h:p/identity``, ``.../identity/v3`` or ``.../v3/`` -> URL without ``/v3``."""
    url = auth_url.rstrip("/")
    if url.endswith("/v3"):
        url = url[:-3]
    return url


def _auth_body(args: argparse.Namespace) -> dict:
    return {"auth": {
        "identity": {"methods": ["password"], "password": {"user": {
            "name": args.username, "domain": {"name": args.user_domain}, "password": args.password}}},
        "scope": {"project": {"name": args.project, "domain": {"name": args.project_domain}}},
    }}


def _kerberos_body(args: argparse.Namespace) -> dict:
    body = _auth_body(args)
    body["auth"]["identity"] = {"methods": ["kerberos"], "kerberos": {}}
    return body


def _negotiate_factory(host: str):
    """``make() -> "Negotiate <token>"``: a fresh GSS-API (Kerberos) token for
    ``HTTP@host`` each call (the server's replay cache refuses a token twice)."""
    import base64

    import gssapi  # the kerberos extra: only this workload needs it

    service = gssapi.Name(f"HTTP@{host}", gssapi.NameType.hostbased_service)
    creds = gssapi.Credentials(usage="initiate")

    def make() -> str:
        context = gssapi.SecurityContext(name=service, creds=creds, usage="initiate", mech=gssapi.MechType.kerberos)
        return "Negotiate " + base64.b64encode(context.step()).decode()
    return make


def _proc_cpu_seconds(pids: list[int] | None) -> float | None:
    """CPU seconds of the server ``pids`` (each with its worker processes: a server and
    the memcached it uses), None without any."""
    return sum(proc.cpu_seconds(pid) for pid in pids) if pids else None


def _pid_list(text: str) -> list[int]:
    return [int(x) for x in text.split(",") if x.strip()]


def _client_tls(ctx: dict) -> ssl.SSLContext:
    """The TLS context of the x509 workload: the listener's CA, the client certificate."""
    context = ssl.create_default_context(cafile=ctx["x509_ca"])
    context.load_cert_chain(ctx["x509_cert"], ctx["x509_key"])
    return context


def _oidc_tokens(args: argparse.Namespace) -> list[str]:
    """``--subject-tokens`` access tokens from the provider's password grant."""
    _check_loopback(args.oidc_token_url)
    grant = {"grant_type": "password", "username": args.oidc_username, "password": args.oidc_password,
             "scope": "openid"}
    tokens = []
    with httpx.Client(timeout=60.0, trust_env=False, auth=(args.oidc_client_id, args.oidc_client_secret)) as client:
        for _ in range(max(1, args.subject_tokens)):
            r = client.post(args.oidc_token_url, data=grant)
            if r.status_code != 200:
                raise SystemExit(f"the OpenID provider refused the password grant: HTTP {r.status_code} {r.text[:300]}")
            tokens.append(r.json()["access_token"])
    return tokens


def _percentile(sorted_values: list[float], q: float) -> float:
    if not sorted_values:
        return float("nan")
    k = (len(sorted_values) - 1) * q
    lo = int(k)
    hi = min(lo + 1, len(sorted_values) - 1)
    return sorted_values[lo] + (sorted_values[hi] - sorted_values[lo]) * (k - lo)


# --------------------------------------------------------------------------- load
def _request_factory(workload: str, base: str, ctx: dict):
    """A coroutine function ``fire(client, i) -> ok`` for one request of ``workload``."""
    if workload == "issue":
        url = base + "/v3/auth/tokens"
        body = json.dumps(ctx["auth_body"]).encode()
        headers = {"Content-Type": "application/json"}
        if ctx.get("nocatalog"):
            url += "?nocatalog"

        async def fire(client: httpx.AsyncClient, i: int) -> bool:
            r = await client.post(url, content=body, headers=headers)
            return r.status_code == 201 and "x-subject-token" in r.headers
        return fire
    if workload == "issue-kerberos":
        url = base + "/v3/auth/tokens" + ("?nocatalog" if ctx.get("nocatalog") else "")
        body = json.dumps(ctx["kerberos_auth_body"]).encode()
        negotiate = _negotiate_factory(ctx["kerberos_host"])

        async def fire(client: httpx.AsyncClient, i: int) -> bool:
            r = await client.post(url, content=body, headers={"Content-Type": "application/json",
                                                              "Authorization": negotiate()})
            return r.status_code == 201 and "x-subject-token" in r.headers
        return fire
    if workload in ("issue-x509", "issue-oidc"):
        url, headers = _federated_sign_in(workload, base, ctx)

        async def fire(client: httpx.AsyncClient, i: int) -> bool:
            r = await client.post(url, headers=headers[i % len(headers)])
            return r.status_code == 201 and "x-subject-token" in r.headers
        return fire
    if workload == "validate":
        url = base + "/v3/auth/tokens"
        subjects = ctx["subject_tokens"]
        admin = ctx["admin_token"]
        if ctx.get("nocatalog"):
            url += "?nocatalog"

        async def fire(client: httpx.AsyncClient, i: int) -> bool:
            r = await client.get(url, headers={"X-Auth-Token": admin,
                                               "X-Subject-Token": subjects[i % len(subjects)]})
            return r.status_code == 200
        return fire
    if workload in ("projects", "catalog"):
        url = base + ("/v3/projects" if workload == "projects" else "/v3/auth/catalog")
        headers = {"X-Auth-Token": ctx["admin_token"]}

        async def fire(client: httpx.AsyncClient, i: int) -> bool:
            r = await client.get(url, headers=headers)
            return r.status_code == 200
        return fire
    raise ValueError(workload)


async def _run_phase(client, fire, concurrency: int, duration: float | None, requests: int | None,
                     record: bool) -> dict:
    """Run ``fire`` from ``concurrency`` workers until the time or request budget is spent."""
    latencies: list[float] = []
    errors = 0
    error_samples: list[str] = []
    issued = 0
    start = time.perf_counter()
    deadline = start + min(duration or MAX_DURATION, MAX_DURATION)
    budget = min(requests or MAX_REQUESTS, MAX_REQUESTS)

    async def worker() -> None:
        nonlocal errors, issued
        while True:
            if issued >= budget or time.perf_counter() >= deadline:
                return
            i = issued
            issued += 1
            t0 = time.perf_counter()
            try:
                ok = await fire(client, i)
                if not ok and len(error_samples) < 5:
                    error_samples.append("unexpected status")
            except Exception as exc:  # noqa: BLE001 - any failure is counted, never fatal
                ok = False
                if len(error_samples) < 5:
                    error_samples.append(f"{type(exc).__name__}: {exc}")
            t1 = time.perf_counter()
            if record:
                latencies.append(t1 - t0)
            if not ok:
                errors += 1

    await asyncio.gather(*(worker() for _ in range(concurrency)))
    elapsed = time.perf_counter() - start
    return {"latencies": latencies, "errors": errors, "elapsed": elapsed, "count": issued,
            "error_samples": error_samples}


def _load_process(workload: str, base: str, ctx: dict, concurrency: int, warmup: float,
                  duration: float | None, requests: int | None, cpus: list[int] | None,
                  server_pid: list[int] | None, barrier, queue, client_kind: str = "httpx") -> None:
    """Child process: warm up, wait for the siblings, measure, report through ``queue``."""
    if cpus:
        os.sched_setaffinity(0, cpus)
    try:
        import uvloop  # type: ignore
        uvloop.install()
    except ImportError:
        pass

    async def main() -> dict:
        limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
        timeout = httpx.Timeout(60.0)
        client_cm = RawClient(base) if client_kind == "raw" else httpx.AsyncClient(
            limits=limits, timeout=timeout, trust_env=False,
            verify=_client_tls(ctx) if workload == "issue-x509" else True)
        async with client_cm as client:
            fire = _request_factory(workload, base, ctx)
            if warmup > 0:
                await _run_phase(client, fire, concurrency, warmup, None, record=False)
            barrier.wait(timeout=120)
            r0, s0, l0 = os.times(), _proc_cpu_seconds(server_pid), os.getloadavg()[0]
            result = await _run_phase(client, fire, concurrency, duration, requests, record=True)
            r1, s1, l1 = os.times(), _proc_cpu_seconds(server_pid), os.getloadavg()[0]
            result["client_cpu"] = (r1.user - r0.user) + (r1.system - r0.system)
            result["server_cpu"] = s1 - s0 if s0 is not None and s1 is not None else None
            result["loadavg"] = [l0, l1]
            return result

    try:
        queue.put(asyncio.run(main()))
    except Exception as exc:  # noqa: BLE001
        queue.put({"fatal": f"{type(exc).__name__}: {exc}"})


def run_workload(workload: str, base: str, ctx: dict, args: argparse.Namespace) -> dict:
    procs = max(1, args.client_processes)
    per_proc = [args.concurrency // procs + (1 if i < args.concurrency % procs else 0) for i in range(procs)]
    per_proc = [c for c in per_proc if c > 0]
    requests = None
    if args.requests:
        requests = [args.requests // len(per_proc) + (1 if i < args.requests % len(per_proc) else 0)
                    for i in range(len(per_proc))]
    mpctx = mp.get_context("spawn")
    barrier = mpctx.Barrier(len(per_proc))
    queue = mpctx.Queue()
    children = [mpctx.Process(target=_load_process, daemon=True,
                              args=(workload, base, ctx, c, args.warmup, args.duration,
                                    requests[i] if requests else None, args.client_cpus, args.server_pid,
                                    barrier, queue, args.client))
                for i, c in enumerate(per_proc)]
    for child in children:
        child.start()
    limit = args.warmup + min(args.duration or MAX_DURATION, MAX_DURATION) + 180
    parts = [queue.get(timeout=limit) for _ in children]
    for child in children:
        child.join(timeout=10)
        if child.is_alive():
            child.kill()
    fatal = [p["fatal"] for p in parts if "fatal" in p]
    if fatal:
        raise SystemExit(f"{workload}: load process failed: {fatal[0]}")
    latencies = sorted(x for p in parts for x in p["latencies"])
    count = sum(p["count"] for p in parts)
    errors = sum(p["errors"] for p in parts)
    elapsed = max(p["elapsed"] for p in parts)
    ok = count - errors
    ms = [x * 1000 for x in latencies]
    return {
        "requests": count, "errors": errors, "seconds": round(elapsed, 3),
        "rps": round(ok / elapsed, 1) if elapsed else 0.0,
        "p50_ms": round(_percentile(ms, 0.50), 2), "p90_ms": round(_percentile(ms, 0.90), 2),
        "p99_ms": round(_percentile(ms, 0.99), 2), "max_ms": round(ms[-1], 2) if ms else None,
        "mean_ms": round(statistics.fmean(ms), 2) if ms else None,
        "client_cpu_ms_per_req": round(sum(p["client_cpu"] for p in parts) * 1000 / count, 3) if count else None,
        # CPU the server process spent per request (needs --server-pid): less sensitive
        # than req/s to other load on a shared machine.
        "server_cpu_ms_per_req": round(parts[0]["server_cpu"] * 1000 / count, 2)
        if count and parts[0]["server_cpu"] is not None else None,
        "loadavg_1min": [round(x, 2) for x in parts[0]["loadavg"]],
        "error_samples": [s for p in parts for s in p["error_samples"]][:5],
    }


# --------------------------------------------------------------------------- setup
def prepare(base: str, args: argparse.Namespace) -> dict:
    """Issue the admin token and the pool of subject tokens the workloads use."""
    body = _auth_body(args)
    with httpx.Client(timeout=60.0, trust_env=False) as client:
        r = client.get(base + "/v3")
        r.raise_for_status()
        version = r.json().get("version", {}).get("id")
        r = client.post(base + "/v3/auth/tokens", json=body)
        if r.status_code != 201:
            raise SystemExit(f"cannot authenticate as {args.username!r}: HTTP {r.status_code} {r.text[:300]}")
        admin = r.headers["X-Subject-Token"]
        subjects = []
        for _ in range(args.subject_tokens):
            r = client.post(base + "/v3/auth/tokens", json=body)
            r.raise_for_status()
            subjects.append(r.headers["X-Subject-Token"])
        r = client.get(base + "/v3/projects", headers={"X-Auth-Token": admin})
        r.raise_for_status()
        n_projects = len(r.json()["projects"])
        n_endpoints = pad_catalog(client, base, admin, args.catalog_endpoints)
    ctx = {"auth_body": body, "admin_token": admin, "subject_tokens": subjects, "api_version": version,
           "projects_listed": n_projects, "catalog_endpoints": n_endpoints, "nocatalog": args.nocatalog}
    if "issue-x509" in args.workloads:
        _check_loopback(args.x509_url)
        ctx.update(x509_base=_base_url(args.x509_url), x509_idp=args.x509_idp, x509_ca=args.x509_ca,
                   x509_cert=args.x509_cert, x509_key=args.x509_key)
    if "issue-oidc" in args.workloads:
        ctx.update(oidc_idp=args.oidc_idp, oidc_tokens=_oidc_tokens(args))
    for workload in ("issue-x509", "issue-oidc"):
        if workload in args.workloads:
            _first_sign_in(workload, base, ctx)
    if "issue-kerberos" in args.workloads:
        ctx["kerberos_auth_body"] = _kerberos_body(args)
        ctx["kerberos_host"] = args.kerberos_host or urllib.parse.urlsplit(base).hostname
        r = httpx.post(base + "/v3/auth/tokens?nocatalog", json=ctx["kerberos_auth_body"], timeout=60.0,
                       headers={"Authorization": _negotiate_factory(ctx["kerberos_host"])()}, trust_env=False)
        if r.status_code != 201:
            raise SystemExit(f"cannot sign in with Kerberos: HTTP {r.status_code} {r.text[:300]}")
    return ctx


def _federated_sign_in(workload: str, base: str, ctx: dict) -> tuple[str, list[dict[str, str]]]:
    """The URL of a federated workload's sign-in and the headers to send in turn."""
    if workload == "issue-x509":
        return (f"{ctx['x509_base']}/v3/OS-FEDERATION/identity_providers/{ctx['x509_idp']}/protocols/x509/auth",
                [{}])
    return (f"{base}/v3/OS-FEDERATION/identity_providers/{ctx['oidc_idp']}/protocols/openid/auth",
            [{"Authorization": "Bearer " + t} for t in ctx["oidc_tokens"]])


def _first_sign_in(workload: str, base: str, ctx: dict) -> None:
    """One sign-in before the load, so that a set-up error stops the run with its answer."""
    url, headers = _federated_sign_in(workload, base, ctx)
    verify = _client_tls(ctx) if workload == "issue-x509" else True
    with httpx.Client(timeout=60.0, trust_env=False, verify=verify) as client:
        r = client.post(url, headers=headers[0])
    if r.status_code != 201:
        raise SystemExit(f"{workload}: cannot sign in: HTTP {r.status_code} {r.text[:300]}")


def pad_catalog(client: httpx.Client, base: str, admin: str, target: int) -> int:
    """Add benchmark services (3 endpoints each) until the catalog has ``target``
    endpoints; returns how many it has."""
    headers = {"X-Auth-Token": admin}

    def count() -> int:
        r = client.get(base + "/v3/auth/catalog", headers=headers)
        r.raise_for_status()
        return sum(len(service["endpoints"]) for service in r.json()["catalog"])

    have = count()
    index = 0
    while have < target:
        index += 1
        r = client.post(base + "/v3/services", headers=headers, json={"service": {
            "type": f"bench-{index}-{have}", "name": f"bench-{index}", "enabled": True}})
        r.raise_for_status()
        service = r.json()["service"]["id"]
        for interface in ("public", "internal", "admin"):
            r = client.post(base + "/v3/endpoints", headers=headers, json={"endpoint": {
                "service_id": service, "interface": interface, "region_id": "RegionOne",
                "url": f"http://127.0.0.1:9/bench-{index}/{interface}"}})
            r.raise_for_status()
        have = count()
    return have


def cmd_load(args: argparse.Namespace) -> int:
    _check_loopback(args.auth_url)
    base = _base_url(args.auth_url)
    ctx = prepare(base, args)
    results = {}
    for workload in args.workloads:
        results[workload] = run_workload(workload, base, ctx, args)
        if not args.json:
            _print_row(workload, results[workload], header=len(results) == 1)
        if args.pause:
            time.sleep(args.pause)
    report = {
        "label": args.label, "auth_url": args.auth_url,
        "date": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "machine": {"cpus": os.cpu_count(), "platform": platform.platform(), "python": platform.python_version()},
        "params": {"concurrency": args.concurrency, "duration": args.duration, "requests": args.requests,
                   "warmup": args.warmup, "client_processes": args.client_processes,
                   "client_cpus": args.client_cpus, "server_pid": args.server_pid, "client": args.client,
                   "subject_tokens": args.subject_tokens,
                   "nocatalog": args.nocatalog},
        "server": {"api_version": ctx["api_version"], "projects_listed": ctx["projects_listed"],
                   "catalog_endpoints": ctx["catalog_endpoints"]},
        "results": results,
    }
    if args.json:
        print(json.dumps(report, indent=2))
    if args.output:
        Path(args.output).write_text(json.dumps(report, indent=2) + "\n")
    return 1 if any(r["errors"] for r in results.values()) else 0


def _print_row(workload: str, r: dict, header: bool) -> None:
    if header:
        print(f"{'workload':<14} {'req/s':>9} {'p50 ms':>8} {'p90 ms':>8} {'p99 ms':>8} {'max ms':>8} "
              f"{'requests':>9} {'errors':>7} {'srv cpu ms/req':>15} {'cli cpu ms/req':>15} {'load1':>11}")
    print(f"{workload:<14} {r['rps']:>9.1f} {r['p50_ms']:>8.2f} {r['p90_ms']:>8.2f} {r['p99_ms']:>8.2f} "
          f"{r['max_ms'] or 0:>8.1f} {r['requests']:>9} {r['errors']:>7} "
          f"{r['server_cpu_ms_per_req'] if r['server_cpu_ms_per_req'] is not None else '-':>15} "
          f"{r['client_cpu_ms_per_req'] or 0:>15.3f} {'%.1f->%.1f' % tuple(r['loadavg_1min']):>11}", flush=True)
    for sample in r["error_samples"]:
        print(f"  error: {sample}", flush=True)


# --------------------------------------------------------------------------- cold start
def _default_pocketstack() -> str:
    for candidate in (Path(sys.executable).parent / "pocketstack", REPO / ".venv" / "bin" / "pocketstack"):
        if candidate.exists():
            return str(candidate)
    return shutil.which("pocketstack") or "pocketstack"


def _rss_kib(pid: int) -> int:
    out = subprocess.run(["ps", "-o", "rss=", "-p", str(pid)], capture_output=True, text=True).stdout.strip()
    return int(out) if out else 0


def _start_and_probe(cmd: list[str], probe: str, env: dict, timeout: float,
                     log, nice: int = 0) -> tuple[subprocess.Popen, float, float]:
    """Start ``cmd`` (at niceness ``nice``); once ``probe`` answers 200: the process, the
    wall time and the CPU time the server used to get there (steady on a loaded machine,
    unlike the wall time)."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
                            preexec_fn=(lambda: os.nice(nice)) if nice else None)
    deadline = t0 + timeout
    with httpx.Client(timeout=2.0, trust_env=False) as client:
        while time.perf_counter() < deadline:
            if proc.poll() is not None:
                raise SystemExit(f"server exited with {proc.returncode} before serving: {' '.join(cmd)}")
            try:
                if client.get(probe).status_code == 200:
                    return proc, time.perf_counter() - t0, _proc_cpu_seconds([proc.pid]) or 0.0
            except httpx.TransportError:
                pass
            time.sleep(0.005)
    _stop(proc)
    raise SystemExit(f"server not serving {probe} after {timeout}s")


def _service_roots(origin: str) -> tuple[float, dict[str, int]]:
    """Once the server answers: GET each service's root (the URLs the root document
    ``/`` lists), one after the other; the seconds until the last answered, and each
    root's status.  A root answers 200 or, where the real service
    does (Keystone, Glance, Cinder), 300 Multiple Choices with its versions; each
    service's API is built on its first request, so this shows what that costs."""
    statuses = {}
    t0 = time.perf_counter()
    with httpx.Client(timeout=60.0, trust_env=False) as client:
        for name, url in client.get(origin + "/").json()["services"].items():
            statuses[name] = client.get(url + "/").status_code
    return time.perf_counter() - t0, statuses


def _stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _cold_start_command(args: argparse.Namespace, data: Path, port: int) -> list[str]:
    """``pocketstack --data-dir DATA up ...``: the installed executable, or with ``--source``
    the tree given run by this Python (``-m pocketstack.cli.main``), e.g. a ``git archive``
    of an older commit for a before/after comparison."""
    exe = [sys.executable, "-m", "pocketstack.cli.main"] if args.source else \
        [args.pocketstack_bin or _default_pocketstack()]
    return [*exe, "--data-dir", str(data), "up", "--port", str(port), "--admin-password", "secret",
            "--clouds-file", str(data / "clouds.yaml")]


def _cold_start_env(args: argparse.Namespace, tmp: Path) -> dict[str, str]:
    """The server's environment.  Bytecode: an installed package has its modules compiled
    (pip writes .pyc files), so by default the server may write and read them, in a
    directory of the run (``PYTHONPYCACHEPREFIX``), filled by an uncounted first start;
    ``--no-bytecode-cache`` measures compiling every module at every start instead (what
    a source tree run with PYTHONDONTWRITEBYTECODE=1 does)."""
    env = dict(os.environ)
    if args.bcrypt_rounds:
        env["POCKETSTACK_BCRYPT_ROUNDS"] = str(args.bcrypt_rounds)
    if args.token_provider:
        env["POCKETSTACK_TOKEN_PROVIDER"] = args.token_provider
    if args.source:
        env["PYTHONPATH"] = str(Path(args.source).resolve())
    if args.bytecode_cache:
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        env["PYTHONPYCACHEPREFIX"] = str(tmp / "pycache")
    else:
        env["PYTHONDONTWRITEBYTECODE"] = "1"
    return env


def cmd_cold_start(args: argparse.Namespace) -> int:
    port = args.cold_start_port
    probe = f"http://127.0.0.1:{port}{args.probe_path}"
    runs: dict[str, list[float]] = {"fresh": [], "restart": []}
    roots: dict[str, list[float]] = {"fresh": [], "restart": []}
    statuses: dict[str, int] = {}
    cpu: dict[str, list[float]] = {"fresh": [], "restart": []}
    rss: dict[str, list[int]] = {"fresh": [], "restart": []}
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="pocketstack-cold-") as tmp_name:
        tmp = Path(tmp_name)
        env = _cold_start_env(args, tmp)
        log = open(tmp / "server.log", "wb")
        if args.bytecode_cache:  # uncounted: writes the bytecode an installed package would have
            proc_, _, _ = _start_and_probe(_cold_start_command(args, tmp / "warm-up", port), probe, env, 120.0, log,
                                           args.nice)
            _stop(proc_)
        for n in range(args.cold_start_runs):
            data = tmp / f"data{n}"
            cmd = _cold_start_command(args, data, port)
            for phase in ("fresh", "restart"):
                proc_, elapsed, used = _start_and_probe(cmd, probe, env, 120.0, log, args.nice)
                runs[phase].append(elapsed)
                cpu[phase].append(used)
                if args.service_roots:
                    spent, statuses = _service_roots(f"http://127.0.0.1:{port}")
                    roots[phase].append(elapsed + spent)
                time.sleep(args.idle_wait)
                rss[phase].append(_rss_kib(proc_.pid))
                _stop(proc_)
                if not args.json:
                    every = f", {roots[phase][-1] * 1000:.0f} ms to every service's root" if args.service_roots else ""
                    print(f"run {n + 1} {phase:<8} {elapsed * 1000:8.0f} ms to first 200 on {probe} "
                          f"({used * 1000:.0f} ms of server CPU){every}, idle RSS {rss[phase][-1] / 1024:.1f} MiB, "
                          f"load {os.getloadavg()[0]:.2f}", flush=True)
        log.close()
    summary = {
        "command": " ".join(_cold_start_command(args, Path("DIR"), port)),
        "source": str(Path(args.source).resolve()) if args.source else None,
        "bytecode_cache": args.bytecode_cache,
        "nice": args.nice,
        "probe": probe,
        "bcrypt_rounds": args.bcrypt_rounds or int(env.get("POCKETSTACK_BCRYPT_ROUNDS", 12)),
        "token_provider": env.get("POCKETSTACK_TOKEN_PROVIDER", "fernet"),
        "loadavg_before": [round(x, 2) for x in load_before],
        "loadavg_after": [round(x, 2) for x in os.getloadavg()],
        "fresh_ms": {"median": round(statistics.median(runs["fresh"]) * 1000), "min": round(min(runs["fresh"]) * 1000),
                     "all": [round(x * 1000) for x in runs["fresh"]]},
        "restart_ms": {"median": round(statistics.median(runs["restart"]) * 1000),
                       "min": round(min(runs["restart"]) * 1000), "all": [round(x * 1000) for x in runs["restart"]]},
        "cpu_ms": {phase: {"median": round(statistics.median(v) * 1000), "all": [round(x * 1000) for x in v]}
                   for phase, v in cpu.items()},
        "idle_rss_mib": {phase: {"median": round(statistics.median(v) / 1024, 1),
                                 "all": [round(x / 1024, 1) for x in v]} for phase, v in rss.items()},
        "idle_wait_s": args.idle_wait,
    }
    if args.service_roots:
        summary["service_roots_ms"] = {phase: {"median": round(statistics.median(v) * 1000),
                                               "all": [round(x * 1000) for x in v]} for phase, v in roots.items()}
        summary["service_root_status"] = statuses
    if args.json:
        print(json.dumps(summary, indent=2))
    else:
        print(f"command: {summary['command']}" + (f" (PYTHONPATH={summary['source']})" if args.source else "")
              + f"; bytecode cache {'on' if args.bytecode_cache else 'off'}; niceness {args.nice}")
        print(f"fresh data dir: median {summary['fresh_ms']['median']} ms, min {summary['fresh_ms']['min']} ms "
              f"({summary['cpu_ms']['fresh']['median']} ms CPU); restart: median "
              f"{summary['restart_ms']['median']} ms, min {summary['restart_ms']['min']} ms "
              f"({summary['cpu_ms']['restart']['median']} ms CPU); idle RSS median "
              f"{summary['idle_rss_mib']['restart']['median']} MiB (after restart), "
              f"{summary['idle_rss_mib']['fresh']['median']} MiB (after fresh start); load average "
              f"{summary['loadavg_before'][0]} -> {summary['loadavg_after'][0]}")
        if args.service_roots:
            print(f"every service's root answered: fresh median {summary['service_roots_ms']['fresh']['median']} ms, "
                  f"restart median {summary['service_roots_ms']['restart']['median']} ms "
                  f"({', '.join(f'{k} {v}' for k, v in statuses.items())})")
    if args.output:
        Path(args.output).write_text(json.dumps(summary, indent=2) + "\n")
    return 0


# --------------------------------------------------------------------------- issue vs bcrypt
# The bare bcrypt check, in a process of its own: "ready" once the hash exists, then N
# checks on T threads per line "N" read, "done" after each batch.
_BARE_BCRYPT = """
import bcrypt, concurrent.futures, sys
rounds, threads = int(sys.argv[1]), int(sys.argv[2])
hashed = bcrypt.hashpw(b"secret", bcrypt.gensalt(rounds))
print("ready", flush=True)
with concurrent.futures.ThreadPoolExecutor(threads) as pool:
    while (line := sys.stdin.readline().strip()):
        assert all(pool.map(lambda _: bcrypt.checkpw(b"secret", hashed), range(int(line))))
        print("done", flush=True)
"""


def _bare_bcrypt_cpu(rounds: int, threads: int, checks: int) -> float:
    """CPU seconds per ``bcrypt.checkpw`` at cost ``rounds``, ``threads`` at a time, read
    from /proc like the server's (the interpreter's start and the hash not counted)."""
    child = subprocess.Popen([sys.executable, "-c", _BARE_BCRYPT, str(rounds), str(threads)], text=True,
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    assert child.stdin is not None and child.stdout is not None
    try:
        if child.stdout.readline().strip() != "ready":
            raise SystemExit("the bare bcrypt process failed")
        before = proc.cpu_seconds(child.pid)
        child.stdin.write(f"{checks}\n")
        child.stdin.flush()
        if child.stdout.readline().strip() != "done":
            raise SystemExit("the bare bcrypt process failed")
        return (proc.cpu_seconds(child.pid) - before) / checks
    finally:
        child.stdin.close()
        child.wait(timeout=60)


def cmd_issue_vs_bcrypt(args: argparse.Namespace) -> int:
    """Token issue (password, the verified-secret cache off: every issue pays one full
    bcrypt check) against bare ``bcrypt.checkpw`` at the same cost, by CPU per operation.

    Starts its own ``pocketstack up`` (``--source`` for another tree), issues
    ``--requests`` tokens at ``--concurrency`` and reads the server's CPU (every process,
    from /proc), then runs as many bare checks on as many threads; ``--rounds`` times in
    turn, so that a change in the machine's load falls on both alike.  The server's idle
    CPU (its background workers) over the same time is shown beside it."""
    rounds = args.bcrypt_rounds or 12
    port = args.cold_start_port
    base = f"http://127.0.0.1:{port}/identity"
    requests = args.requests or 40
    rows = []
    with tempfile.TemporaryDirectory(prefix="pocketstack-issue-") as tmp_name:
        tmp = Path(tmp_name)
        env = _cold_start_env(args, tmp) | {"POCKETSTACK_BCRYPT_ROUNDS": str(rounds),
                                            "POCKETSTACK_VERIFIED_SECRET_TTL": str(args.verified_secret_ttl)}
        with open(tmp / "server.log", "wb") as log:
            server, _, _ = _start_and_probe(_cold_start_command(args, tmp / "data", port), base + "/v3", env, 120.0,
                                            log, args.nice)
            try:
                args.server_pid, args.subject_tokens = [server.pid], 1
                ctx = prepare(base, args)
                time.sleep(5.0)  # the API worker processes start once the server answers
                for n in range(args.rounds):
                    idle0, t0 = proc.cpu_seconds(server.pid), time.perf_counter()
                    time.sleep(2.0)
                    idle = (proc.cpu_seconds(server.pid) - idle0) / (time.perf_counter() - t0)
                    load0 = os.getloadavg()[0]
                    args.requests, args.duration = requests, None
                    issue = run_workload("issue", base, ctx, args)
                    bare = _bare_bcrypt_cpu(rounds, args.concurrency, requests)
                    row = {"round": n + 1, "issue_cpu_ms": issue["server_cpu_ms_per_req"],
                           "issue_rps": issue["rps"], "errors": issue["errors"],
                           "bcrypt_cpu_ms": round(bare * 1000, 2), "server_idle_cpu_ms_per_s": round(idle * 1000, 1),
                           "idle_share_ms": round(idle * issue["seconds"] * 1000 / max(issue["requests"], 1), 2),
                           "loadavg": [round(load0, 2), round(os.getloadavg()[0], 2)]}
                    row["ratio"] = round(row["bcrypt_cpu_ms"] / row["issue_cpu_ms"], 3)
                    rows.append(row)
                    if not args.json:
                        print(f"round {n + 1}: issue {row['issue_cpu_ms']:.1f} ms CPU/request "
                              f"({row['issue_rps']:.1f} req/s, {row['errors']} errors; of which idle background "
                              f"≈{row['idle_share_ms']:.1f} ms), bare bcrypt.checkpw {row['bcrypt_cpu_ms']:.1f} ms "
                              f"CPU/check -> issue at {row['ratio'] * 100:.1f}% of the bare bcrypt rate; "
                              f"load {row['loadavg'][0]} -> {row['loadavg'][1]}", flush=True)
            finally:
                _stop(server)
    ratios = [r["ratio"] for r in rows]
    summary = {"command": " ".join(_cold_start_command(args, Path("DIR"), port)), "bcrypt_rounds": rounds,
               "verified_secret_ttl": args.verified_secret_ttl, "concurrency": args.concurrency,
               "requests_per_round": requests, "rounds": rows, "median_ratio": statistics.median(ratios)}
    if args.json:
        print(json.dumps(summary, indent=2))
    else:
        print(f"median: token issue at {summary['median_ratio'] * 100:.1f}% of the bare bcrypt rate "
              f"(cost {rounds}, verified_secret_ttl {args.verified_secret_ttl}, concurrency {args.concurrency})")
    if args.output:
        Path(args.output).write_text(json.dumps(summary, indent=2) + "\n")
    return 0


# --------------------------------------------------------------------------- compare
def cmd_compare(paths: list[str]) -> int:
    """Markdown table of two or more ``--output`` reports; ratios are vs. the last one."""
    reports = [json.loads(Path(p).read_text()) for p in paths]
    names = [r.get("label") or Path(p).stem for r, p in zip(reports, paths)]
    ref = reports[-1]
    head = "| workload | " + " | ".join(f"{n} req/s | {n} p50 ms | {n} p99 ms | {n} server CPU ms/req"
                                       for n in names)
    ratios = [n for n in names[:-1]]
    head += "".join(f" | {n} / {names[-1]} (req/s)" for n in ratios) + " |"
    print(head)
    print("|" + "---|" * (1 + 4 * len(names) + len(ratios)))
    for workload in WORKLOADS:
        if not all(workload in r["results"] for r in reports):
            continue
        cells = []
        for r in reports:
            x = r["results"][workload]
            err = f" ({x['errors']} err)" if x["errors"] else ""
            cpu = x.get("server_cpu_ms_per_req")
            cells += [f"{x['rps']:.1f}{err}", f"{x['p50_ms']:.1f}", f"{x['p99_ms']:.1f}",
                      f"{cpu:.1f}" if cpu is not None else "-"]
        base = ref["results"][workload]["rps"]
        for r in reports[:-1]:
            cells.append(f"{r['results'][workload]['rps'] / base:.2f}x" if base else "n/a")
        print(f"| {workload} | " + " | ".join(cells) + " |")
    return 0


# --------------------------------------------------------------------------- CLI
def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__)
    p.add_argument("--auth-url", default="http://127.0.0.1:18795/identity",
                   help="Keystone v3 endpoint, with or without /v3 (loopback only)")
    p.add_argument("--username", default="admin")
    p.add_argument("--password", default="secret")
    p.add_argument("--project", default="admin")
    p.add_argument("--user-domain", default="Default", help="user domain name")
    p.add_argument("--project-domain", default="Default", help="project domain name")
    p.add_argument("--concurrency", type=int, default=8, help="concurrent requests in flight (connections)")
    budget = p.add_mutually_exclusive_group()
    budget.add_argument("--duration", type=float, default=None, help="seconds per workload (default 15)")
    budget.add_argument("--requests", type=int, default=None, help="requests per workload instead of a duration")
    p.add_argument("--warmup", type=float, default=3.0, help="seconds of unmeasured load before each workload")
    p.add_argument("--workloads", default=",".join(WORKLOADS),
                   help=f"comma-separated subset of {','.join(WORKLOADS + OPTIONAL_WORKLOADS)}")
    p.add_argument("--subject-tokens", type=int, default=16, help="size of the pool of tokens validated")
    p.add_argument("--kerberos-host", default=None,
                   help="issue-kerberos: the host of the service principal HTTP/<host> (default: the auth URL's)")
    p.add_argument("--x509-url", default="https://127.0.0.1:18797/identity",
                   help="issue-x509: the TLS listener's identity URL (loopback only)")
    p.add_argument("--x509-idp", default="x509-bench", help="issue-x509: the identity provider of the issuer")
    p.add_argument("--x509-cert", help="issue-x509: client certificate (PEM)")
    p.add_argument("--x509-key", help="issue-x509: its private key (PEM)")
    p.add_argument("--x509-ca", help="issue-x509: CA bundle verifying the listener's certificate")
    p.add_argument("--oidc-idp", default="oidc-bench", help="issue-oidc: the identity provider with `openid`")
    p.add_argument("--oidc-token-url", help="issue-oidc: the OpenID provider's token endpoint (loopback only)")
    p.add_argument("--oidc-client-id", default="pocketstack")
    p.add_argument("--oidc-client-secret", default="cli-secret")
    p.add_argument("--oidc-username", default="alice")
    p.add_argument("--oidc-password", default="wonderland")
    p.add_argument("--nocatalog", action="store_true", help="add ?nocatalog to issue/validate")
    p.add_argument("--catalog-endpoints", type=int, default=0,
                   help="first pad the catalog with benchmark services to at least this many endpoints")
    p.add_argument("--client-processes", type=int, default=1, help="load generator processes")
    p.add_argument("--client", choices=("httpx", "raw"), default="httpx",
                   help="the load processes' HTTP client: httpx, or a minimal HTTP/1.1 one (cheaper)")
    p.add_argument("--client-cpus", default=None,
                   help="pin the load process(es) to these CPUs, e.g. '1' or '0,1'")
    p.add_argument("--server-pid", type=_pid_list, default=None,
                   help="server process id(s), comma-separated (a server and its memcached): report "
                        "their CPU ms per request, each with its child processes (Linux /proc)")
    p.add_argument("--pause", type=float, default=1.0, help="seconds of idle between workloads")
    p.add_argument("--label", default="", help="free text stored in the JSON report (e.g. server name)")
    p.add_argument("--json", action="store_true", help="print a JSON report instead of a table")
    p.add_argument("--output", help="also write the JSON report to this file")
    p.add_argument("--compare", nargs="+", metavar="REPORT.json",
                   help="print a markdown table of --output reports (ratios vs. the last one) and exit")
    cold = p.add_argument_group("cold start (pocketstack only)")
    cold.add_argument("--cold-start", action="store_true",
                      help="measure `pocketstack up` start-up time and idle RSS instead of load")
    cold.add_argument("--pocketstack-bin", help="pocketstack executable (default: the one beside this Python)")
    cold.add_argument("--cold-start-port", type=int, default=18796)
    cold.add_argument("--cold-start-runs", type=int, default=5)
    cold.add_argument("--bcrypt-rounds", type=int, default=None, help="POCKETSTACK_BCRYPT_ROUNDS for the server")
    cold.add_argument("--token-provider", choices=("fernet", "jws"), default=None,
                      help="POCKETSTACK_TOKEN_PROVIDER for the server (jws: a key pair made at first start)")
    cold.add_argument("--idle-wait", type=float, default=3.0, help="seconds idle before reading RSS")
    cold.add_argument("--source", help="run this source tree (its src/ directory) with this Python instead of "
                                       "the installed pocketstack")
    cold.add_argument("--no-bytecode-cache", dest="bytecode_cache", action="store_false",
                      help="compile every module at every start (default: bytecode cached as in an installed "
                           "package, after one uncounted start)")
    cold.add_argument("--probe-path", default="/identity/v3", help="the path polled for the first 200")
    vs = p.add_argument_group("token issue against bare bcrypt (pocketstack only; also --source, --bcrypt-rounds, "
                              "--cold-start-port, --requests per round, --concurrency)")
    vs.add_argument("--issue-vs-bcrypt", action="store_true",
                    help="start pocketstack, compare token issue's server CPU per request with bare bcrypt.checkpw's")
    vs.add_argument("--rounds", type=int, default=3, help="issue / bare bcrypt rounds, in turn")
    vs.add_argument("--verified-secret-ttl", type=float, default=0.0,
                    help="the server's verified_secret_ttl (default 0: the cache off, a full bcrypt per issue)")
    cold.add_argument("--service-roots", action="store_true",
                      help="after the first 200, GET every service's root in turn and report the time from "
                           "exec until the last answered (each service's API is built on its first request)")
    cold.add_argument("--nice", type=int, default=0,
                      help="niceness of the server (e.g. -20 as root: ahead of a machine's background load, "
                           "closer to what an unloaded machine gives it)")
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.compare:
        return cmd_compare(args.compare)
    if args.cold_start:
        return cmd_cold_start(args)
    if args.issue_vs_bcrypt:
        return cmd_issue_vs_bcrypt(args)
    if args.duration is None and args.requests is None:
        args.duration = 15.0
    if args.concurrency < 1:
        raise SystemExit("--concurrency must be >= 1")
    args.workloads = [w.strip() for w in args.workloads.split(",") if w.strip()]
    unknown = set(args.workloads) - set(WORKLOADS) - set(OPTIONAL_WORKLOADS)
    if unknown:
        raise SystemExit(f"unknown workload(s): {', '.join(sorted(unknown))}")
    args.client_cpus = [int(c) for c in args.client_cpus.split(",")] if args.client_cpus else None
    return cmd_load(args)


if __name__ == "__main__":
    sys.exit(main())
