#!/usr/bin/env python3
"""Real guests: from ``server create`` to the guest's login prompt, against plain QEMU.

For each ``--servers`` count N (default 1 and 10), two variants, one after the other:

  cloud  N servers created at once through the Compute API of a ``pocketstack up
         --hypervisor qemu`` cloud (started here in a temporary data directory, or
         ``--url`` of a running one): N concurrent ``POST /servers`` over httpx with a
         token, so no client start-up is measured (``openstack server create --help``
         alone takes about a second here: Python imports and plugin loading).  Servers have ``networks: none``
         and no config drive, so both variants boot exactly the same disk.
  plain  the limit: N ``qemu-system-x86_64`` processes started at once by this script,
         each with the command line the driver itself builds (``QemuDriver.command_line``
         on a ``GuestDef`` with the cloud guest's vCPUs, topology and memory: same
         accelerator and CPU model, ``-smp``/``-m``, disk as a qcow2 overlay of the same
         image, serial console logged to a file, ``-daemonize``), after a ``qemu-img
         create`` of that overlay as the driver does.

Per server, from the moment its create request is sent (cloud) or its overlay is about
to be made (plain): when the QEMU process started (its start time in /proc, so the
split between "the cloud's work" and "the guest's boot" costs nothing to observe) and
when ``<hostname> login: `` appeared on its serial console; min/median/max of each.

The console is watched by reading each guest's ``console.log`` in the QEMU state
directory every 0.1 s (``--watch file``, the default): the same method for both variants,
and no API requests competing with the boots being measured.  ``--watch api`` polls
``os-getConsoleOutput`` instead (every 0.5 s per server): what a user sees, at the price
of API load; QEMU start times are then not known.  Either way the prompt is checked once
through the API at the end.

Memory, once every guest of a batch is at its prompt: each QEMU's PSS and RSS (from
``/proc/<pid>/smaps_rollup``) and, for the cloud, the growth of the pocketstack
process's RSS per server.  CPU: the cloud process's user+system seconds per server
created (its children, such as ``qemu-img``, apart) and each QEMU's CPU seconds when its
prompt appeared.  The load average is printed beside every batch.  All servers and
QEMU processes are removed at the end of each batch, and on errors or Ctrl-C.

    .venv/bin/python benchmarks/guests.py --accel tcg                 # 1 and 10 servers
    .venv/bin/python benchmarks/guests.py --accel tcg --servers 4 --json
    .venv/bin/python benchmarks/guests.py --url http://127.0.0.1:8774 --password secret \\
        --state-dir ~/.local/share/pocketstack/qemu/$(hostname) --cloud-pid 1234
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import shutil
import signal
import socket
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
from compute import _free_port  # noqa: E402
from identity import _proc_cpu_seconds  # noqa: E402  (a process's CPU seconds, from /proc)

from pocketstack.compute.drivers import disks, qemu_guest  # noqa: E402
from pocketstack.compute.drivers.qemu import QemuDriver  # noqa: E402
from pocketstack.compute.drivers.qemu_guest import DiskDef, GuestDef  # noqa: E402

BIN = Path(sys.executable).parent
# busybox getty starts its prompt line with a carriage return ("\r\n\rtiny login: ")
LOGIN = re.compile(rb"^\r?\S+ login: ", re.M)
TICK = os.sysconf("SC_CLK_TCK")
VERSION = {"OpenStack-API-Version": "compute 2.64"}


def now() -> float:
    """The benchmark's clock: CLOCK_BOOTTIME, the clock of process start times in /proc."""
    return time.clock_gettime(time.CLOCK_BOOTTIME)


def started_at(pid: int) -> float | None:
    stat = qemu_guest.proc_stat(f"/proc/{pid}/stat")
    return int(stat[19]) / TICK if stat else None


def memory_kb(pid: int) -> dict[str, int]:
    """Rss and Pss of ``pid`` in KiB (``smaps_rollup``: Pss shares a page among its users)."""
    found = {}
    with contextlib.suppress(OSError), open(f"/proc/{pid}/smaps_rollup") as f:
        for line in f:
            key = line.split(":")[0]
            if key in ("Rss", "Pss"):
                found[key.lower()] = int(line.split()[1])
    return found


def rss_kb(pid: int) -> int:
    with open(f"/proc/{pid}/status") as f:
        return next(int(line.split()[1]) for line in f if line.startswith("VmRSS:"))


def children_cpu(pid: int) -> float:
    """CPU seconds of the waited-for children of ``pid`` (qemu-img, genisoimage...)."""
    stat = qemu_guest.proc_stat(f"/proc/{pid}/stat")
    return (int(stat[13]) + int(stat[14])) / TICK if stat else 0.0


def spread(values: list[float]) -> dict | None:
    return {"min": round(min(values), 2), "median": round(statistics.median(values), 2),
            "max": round(max(values), 2)} if values else None


# -- the guests being watched ---------------------------------------------------------------

class Guest:
    """One guest's clock: when its creation began, its QEMU started, its prompt appeared."""

    def __init__(self, key: str, state: Path | None):
        self.key, self.state = key, state
        self.began = self.accepted = self.qemu_started = self.login = None
        self.pid: int | None = None
        self.died = False
        self.qemu_cpu_at_login: float | None = None
        self._offset, self._tail = 0, b""

    def poll_file(self) -> None:
        """Look for the QEMU process and the prompt in the state directory."""
        if self.state is None:
            return
        if self.pid is None:
            with contextlib.suppress(OSError, ValueError):
                self.pid = int((self.state / "qemu.pid").read_text().strip())
                self.qemu_started = started_at(self.pid)
        with contextlib.suppress(OSError), open(self.state / "console.log", "rb") as f:
            f.seek(self._offset)
            chunk = f.read()
            self._offset += len(chunk)
            self._tail = (self._tail + chunk)[-4096:]
            if LOGIN.search(self._tail):
                self.seen()
        if self.pid is not None and self.login is None:
            self.died = qemu_guest.proc_stat(f"/proc/{self.pid}/stat")[:1] in ([], ["Z"], ["X"])

    def seen(self) -> None:
        self.login = now()
        self.qemu_cpu_at_login = _proc_cpu_seconds(self.pid) if self.pid else None

    def figures(self) -> dict:
        def since(t):
            return None if t is None or self.began is None else t - self.began
        return {"accepted": since(self.accepted), "qemu_started": since(self.qemu_started),
                "login": since(self.login), "qemu_cpu": self.qemu_cpu_at_login}


def watch(guests: list[Guest], timeout: float, poll_api=None) -> None:
    """Until every guest shows its prompt (or ``timeout``): files every 0.1 s, or the API."""
    deadline = now() + timeout
    while now() < deadline:
        waiting = [g for g in guests if g.login is None and not g.died]
        if not waiting:
            return
        for guest in waiting:
            if poll_api is None:
                guest.poll_file()
            elif poll_api(guest.key):
                guest.seen()
        time.sleep(0.1 if poll_api is None else 0.5)


def summarize(name: str, guests: list[Guest], extra: dict) -> dict:
    rows = [g.figures() for g in guests]
    out = {"variant": name, "servers": len(guests), "at_login": sum(r["login"] is not None for r in rows),
           "qemu_died": sum(g.died for g in guests)}
    for key in ("accepted", "qemu_started", "login", "qemu_cpu"):
        values = [r[key] for r in rows if r[key] is not None]
        if values:
            out[f"{key}_s"] = spread(values)
    mem = [memory_kb(g.pid) for g in guests if g.pid]
    if mem and all(mem):
        out["qemu_pss_mib"] = spread([m["pss"] / 1024 for m in mem])
        out["qemu_rss_mib"] = spread([m["rss"] / 1024 for m in mem])
    return out | extra


# -- the cloud ------------------------------------------------------------------------------

@contextlib.contextmanager
def own_cloud(args):
    """``pocketstack up --hypervisor qemu`` in a temporary data directory: its URL, state
    directory of its one host and pid.  Guests outlive their cloud (QEMU daemonizes), so
    any left when it stops are ended here from their pidfiles."""
    data_dir = Path(tempfile.mkdtemp(prefix="pocketstack-guests-bench-"))
    port = _free_port()
    env = dict(os.environ, POCKETSTACK_BCRYPT_ROUNDS="4", POCKETSTACK_LOG_LEVEL=args.log_level,
               # 10 one-vCPU guests on 2 cores: Nova's default overcommit of 4.0 allows 8
               POCKETSTACK_CPU_ALLOCATION_RATIO=str(max(4.0, max(args.servers) * args.vcpus)))
    if args.accel != "auto":
        env["POCKETSTACK_QEMU_ACCEL"] = args.accel
    command = [str(BIN / "pocketstack"), "--data-dir", str(data_dir), "up", "--hypervisor", "qemu",
               "--port", str(port), "--admin-password", args.password,
               "--clouds-file", str(data_dir / "clouds.yaml")]
    state = data_dir / "qemu" / socket.gethostname()
    with open(data_dir / "server.log", "w") as log:
        # its own session: a Ctrl-C here must not stop it before its servers are deleted
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env=env,
                                   start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            if process.poll() is not None:
                raise SystemExit(f"pocketstack exited:\n{(data_dir / 'server.log').read_text()[-3000:]}")
            with contextlib.suppress(httpx.TransportError):
                if httpx.get(url + "/identity/v3", timeout=1).status_code == 200:
                    break
            if time.monotonic() > deadline:
                raise SystemExit("pocketstack did not start in 120 s")
            time.sleep(0.3)
        yield url, state, process.pid
    finally:
        process.terminate()
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        if state.exists():
            for guest_dir in state.iterdir():
                pid = qemu_guest.running_pid(guest_dir / "qemu.pid", qemu_guest.QEMU, guest_dir.name)
                if pid:
                    end(pid)
        if args.keep:
            print(f"data directory kept: {data_dir}", file=sys.stderr)
        else:
            shutil.rmtree(data_dir, ignore_errors=True)


class Api:
    """An admin-scoped client of the cloud's Compute and Image APIs."""

    def __init__(self, url: str, username: str, password: str, project: str):
        body = {"auth": {"identity": {"methods": ["password"], "password": {"user": {
            "name": username, "domain": {"id": "default"}, "password": password}}},
            "scope": {"project": {"name": project, "domain": {"id": "default"}}}}}
        response = httpx.post(url + "/identity/v3/auth/tokens", json=body, timeout=30)
        response.raise_for_status()
        self.project_id = response.json()["token"]["project"]["id"]
        self.undo: list[tuple[str, str, dict | None]] = []  # what prepare() changed, to change back
        self.client = httpx.Client(base_url=url, timeout=300, headers={
            "X-Auth-Token": response.headers["X-Subject-Token"], **VERSION}, limits=httpx.Limits(max_connections=64))

    def call(self, method: str, path: str, expect=(200, 201, 202, 204), **kw) -> httpx.Response:
        response = self.client.request(method, path, **kw)
        if response.status_code not in ((expect,) if isinstance(expect, int) else expect):
            raise SystemExit(f"{method} {path}: {response.status_code} {response.text[:500]}")
        return response

    def prepare(self, image_file: Path, vcpus: int, ram: int, disk: int) -> tuple[str, str]:
        """No instance/core/RAM quota, a flavor and the tiny image; their ids (:meth:`restore`
        puts the quota back and deletes the two)."""
        quotas = f"/compute/v2.1/os-quota-sets/{self.project_id}"
        old = self.call("GET", quotas).json()["quota_set"]
        self.call("PUT", quotas, json={"quota_set": {"instances": -1, "cores": -1, "ram": -1}})
        self.undo.append(("PUT", quotas, {"quota_set": {k: old[k] for k in ("instances", "cores", "ram")}}))
        flavor = self.call("POST", "/compute/v2.1/flavors", json={"flavor": {
            "name": "guestbench-" + uuid.uuid4().hex[:6], "vcpus": vcpus, "ram": ram, "disk": disk}}).json()
        self.undo.append(("DELETE", f"/compute/v2.1/flavors/{flavor['flavor']['id']}", None))
        image = self.call("POST", "/image/v2/images", json={
            "name": "guestbench-tiny", "disk_format": "qcow2", "container_format": "bare"}).json()["id"]
        self.undo.append(("DELETE", f"/image/v2/images/{image}", None))
        with open(image_file, "rb") as f:
            self.call("PUT", f"/image/v2/images/{image}/file", content=f.read(),
                      headers={"Content-Type": "application/octet-stream"})
        return flavor["flavor"]["id"], image

    def restore(self) -> None:
        """Undo what :meth:`prepare` did (a ``--url`` cloud is left as it was found)."""
        for method, path, body in reversed(self.undo):
            self.client.request(method, path, json=body)
        self.undo.clear()

    def accel(self) -> str | None:
        """The accelerator the cloud's (first) QEMU host uses, from its cpu_info."""
        hypervisors = self.call("GET", "/compute/v2.1/os-hypervisors/detail").json()["hypervisors"]
        info = hypervisors[0].get("cpu_info") if hypervisors else None
        info = json.loads(info) if isinstance(info, str) else info or {}
        return info.get("accel")

    def console_has_login(self, server_id: str) -> bool:
        response = self.call("POST", f"/compute/v2.1/servers/{server_id}/action",
                             json={"os-getConsoleOutput": {"length": 50}}, expect=(200, 404, 409))
        return response.status_code == 200 and bool(LOGIN.search(response.json()["output"].encode()))

    def delete(self, server_ids: list[str], timeout: float = 300) -> None:
        for server_id in server_ids:
            self.call("DELETE", f"/compute/v2.1/servers/{server_id}", expect=(204, 404))
        deadline = time.monotonic() + timeout
        for server_id in server_ids:
            while self.call("GET", f"/compute/v2.1/servers/{server_id}", expect=(200, 404)).status_code == 200:
                if time.monotonic() > deadline:
                    raise SystemExit(f"server {server_id} not deleted after {timeout} s")
                time.sleep(0.5)


def cloud_batch(api: Api, args, count: int, flavor: str, image: str, state: Path | None, pid: int | None,
                created: list[str]) -> tuple[dict, GuestDef | None]:
    """``count`` servers created at once; their figures, and one guest's definition."""
    guests: list[Guest] = []
    rss_before = rss_kb(pid) if pid else None
    cpu_before, child_before = (_proc_cpu_seconds(pid), children_cpu(pid)) if pid else (None, None)
    load_before = os.getloadavg()

    def create(index: int) -> Guest:
        began = now()
        server = api.call("POST", "/compute/v2.1/servers", expect=202, json={"server": {
            "name": f"guestbench-{count}-{index}", "flavorRef": flavor, "imageRef": image,
            "networks": "none"}}).json()["server"]
        guest = Guest(server["id"], state / server["id"] if state else None)
        guest.began, guest.accepted = began, now()
        created.append(server["id"])
        return guest

    with ThreadPoolExecutor(count) as pool:
        guests = list(pool.map(create, range(count)))
    watch(guests, args.timeout, None if args.watch == "file" else api.console_has_login)
    extra: dict = {"load_average": [list(load_before), list(os.getloadavg())]}
    if pid:  # before the console check below: its requests are not part of a create
        extra["cloud_cpu_s_per_server"] = round((_proc_cpu_seconds(pid) - cpu_before) / count, 2)
        extra["cloud_children_cpu_s_per_server"] = round((children_cpu(pid) - child_before) / count, 2)
        extra["cloud_rss_growth_mib_per_server"] = round((rss_kb(pid) - rss_before) / 1024 / count, 1)
    extra["api_console_shows_login"] = sum(api.console_has_login(g.key) for g in guests)
    template = None
    if state and guests and (state / guests[0].key / "guest.json").exists():
        template = GuestDef.load(state / guests[0].key / "guest.json")
    figures = summarize("cloud", guests, extra)
    api.delete([g.key for g in guests])
    for g in guests:
        created.remove(g.key)
    return figures, template


# -- plain QEMU -----------------------------------------------------------------------------

def plain_batch(driver: QemuDriver, args, count: int, template: GuestDef, image: Path, work: Path,
                pids: list[int]) -> dict:
    """``count`` plain QEMUs started at once with the driver's command line for ``template``."""
    load_before = os.getloadavg()

    def start(index: int) -> Guest:
        instance_id = str(uuid.uuid4())
        d = work / instance_id
        d.mkdir(mode=0o700)
        guest = Guest(instance_id, d)
        guest.began = now()
        disks.create_overlay(image, "qcow2", d / "disk", args.disk)
        definition = GuestDef(instance_id, f"plain-{index}", template.vcpus, template.memory_mb,
                              dict(template.topology), "plain", disks=[DiskDef("root", str(d / "disk"), "qcow2",
                                                                               base=str(image))])
        argv = driver.command_line(definition)
        with open(d / "qemu.log", "wb") as err:
            subprocess.run(argv, cwd=d, stdin=subprocess.DEVNULL, stdout=err, stderr=err, start_new_session=True,
                           timeout=120, check=True)
        guest.accepted = now()
        guest.poll_file()
        if guest.pid:
            pids.append(guest.pid)
        return guest

    with ThreadPoolExecutor(count) as pool:
        guests = list(pool.map(start, range(count)))
    watch(guests, args.timeout)
    figures = summarize("plain", guests, {"load_average": [list(load_before), list(os.getloadavg())]})
    for guest in guests:
        if guest.pid:
            end(guest.pid)
            pids.remove(guest.pid)
        shutil.rmtree(guest.state, ignore_errors=True)
    return figures


def end(pid: int) -> None:
    """SIGTERM, then SIGKILL after 10 s, and wait until the process is gone."""
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + 10
    while qemu_guest.proc_stat(f"/proc/{pid}/stat")[:1] not in ([], ["Z"], ["X"]):
        if time.monotonic() > deadline:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
            deadline = time.monotonic() + 10
        time.sleep(0.05)


# -- main -----------------------------------------------------------------------------------

def tiny_image() -> Path:
    """The tests' cached tiny image (built on first use), as tests/tinyimage.py finds it."""
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
    from tinyimage import tiny_image_path

    return tiny_image_path()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--servers", type=int, nargs="+", default=[1, 10], help="batch sizes, in order")
    parser.add_argument("--accel", choices=["auto", "kvm", "tcg"], default="auto",
                        help="QEMU accelerator of both variants (auto: the driver's choice, KVM where it works)")
    parser.add_argument("--image", type=Path, help="qcow2 image to boot (default: the tests' tiny image)")
    parser.add_argument("--vcpus", type=int, default=1)
    parser.add_argument("--ram", type=int, default=128, help="flavor RAM, MiB")
    parser.add_argument("--disk", type=int, default=1, help="flavor root disk, GiB")
    parser.add_argument("--watch", choices=["file", "api"], default="file",
                        help="how the login prompt is looked for (see above)")
    parser.add_argument("--variants", choices=["both", "cloud", "plain"], default="both")
    parser.add_argument("--plain-first", action="store_true", help="plain QEMU before the cloud in each batch "
                        "(the first batch's plain guests then take vCPUs, topology and memory from the flavor)")
    parser.add_argument("--url", help="a running cloud with a QEMU host instead of starting one")
    parser.add_argument("--username", default="admin")
    parser.add_argument("--password", default="bench-secret")
    parser.add_argument("--project", default="admin")
    parser.add_argument("--state-dir", type=Path, help="with --url: the QEMU host's state directory")
    parser.add_argument("--cloud-pid", type=int, help="with --url: the cloud process, for its CPU and RSS")
    parser.add_argument("--timeout", type=float, default=900, help="seconds for a batch to reach its prompts")
    parser.add_argument("--log-level", default="WARNING", help="the started cloud's log level")
    parser.add_argument("--keep", action="store_true", help="keep the started cloud's data directory")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    if not all(1 <= n <= 64 for n in args.servers):
        parser.error("--servers: between 1 and 64 each")
    if args.url and args.watch == "file" and not args.state_dir:
        parser.error("--url with --watch file needs --state-dir")
    if args.url and not re.match(r"https?://(127\.0\.0\.1|localhost|\[::1\])[:/]", args.url + "/"):
        parser.error("only loopback URLs are accepted")

    image = args.image or tiny_image()
    report: dict = {"cpus": os.cpu_count(), "accel": args.accel, "watch": args.watch, "flavor": {
        "vcpus": args.vcpus, "ram_mib": args.ram, "disk_gib": args.disk}, "batches": []}
    work = Path(tempfile.mkdtemp(prefix="guestbench-plain-"))
    created: list[str] = []
    plain_pids: list[int] = []
    with contextlib.ExitStack() as stack:
        stack.callback(shutil.rmtree, work, ignore_errors=True)
        stack.callback(lambda: [end(pid) for pid in list(plain_pids)])
        if args.url:
            url, state, pid = args.url, args.state_dir, args.cloud_pid
        else:
            url, state, pid = stack.enter_context(own_cloud(args))
        api = Api(url, args.username, args.password, args.project)
        stack.callback(api.restore)
        stack.callback(lambda: created and api.delete(list(created)))
        flavor, image_id = api.prepare(image, args.vcpus, args.ram, args.disk)
        accel = api.accel() if args.accel == "auto" else args.accel
        driver = QemuDriver("guestbench-plain", work / "_driver", accel=accel)
        stack.callback(driver.close)
        report["accel"], report["cpu_model"] = driver.accel, driver.cpu_model
        _show(args, "machine", {"cpus": os.cpu_count(), "accel": driver.accel, "cpu": driver.cpu_model,
                                "image": image.name, "load_average": os.getloadavg()})
        template = GuestDef("template", "template", args.vcpus, args.ram,
                            {"sockets": args.vcpus, "cores": 1, "threads": 1}, "plain")
        variants = ["cloud", "plain"] if args.variants == "both" else [args.variants]
        for count in args.servers:
            for variant in sorted(variants, reverse=args.plain_first):
                if variant == "cloud":
                    figures, seen = cloud_batch(api, args, count, flavor, image_id, state, pid, created)
                    template = seen or template
                else:
                    figures = plain_batch(driver, args, count, template, image, work, plain_pids)
                report["batches"].append(figures)
                _show(args, f"{variant} x{count}", figures)
    if args.json:
        print(json.dumps(report, indent=2))
    return 0


def _show(args, title: str, figures: dict) -> None:
    """One line per batch; spreads as min/median/max, load averages as 1-minute figures."""
    def text(key, value):
        if isinstance(value, dict) and "median" in value:
            return f"{key}={value['min']}/{value['median']}/{value['max']}"
        if key == "load_average":
            loads = value if isinstance(value[0], list) else [value]
            return "load=" + "->".join(f"{load[0]:.2f}" for load in loads)
        return f"{key}={value}"
    if not args.json:
        print(f"{title:>10}: " + ", ".join(text(k, v) for k, v in figures.items() if k != "variant"), flush=True)


if __name__ == "__main__":
    sys.exit(main())
