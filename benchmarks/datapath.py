#!/usr/bin/env python3
"""The Linux datapath with real packets: throughput, latency, rule changes, resync.

Drives ``LinuxDriver`` directly with Neutron-shaped dicts, as
tests/integration/test_network_datapath.py does, with veth "guests": a network namespace
per guest whose ``eth0`` is the peer of the port's ``tap<port11>`` on its bridge.  So the
figures are the datapath's own (bridges, br_netfilter, the security-group tables, the
router namespace and its NAT), not a hypervisor's: a QEMU guest adds its virtio/tap cost
on top.  Topology (``--ports`` filtered ports in all, the rest on a filler network)::

    ext 172.31.77.1 --[ext]-- router qg .10, floating .20 -> b1
                                 | qr 10.77.1.1          | qr 10.77.2.1
    a1 .11, a2 .12  --[net A]----+        b1 .11 --[net B]
    filler ports on net F (10.78.0.0/16), no devices: in the rules and sets only
    limit: l1 192.168.77.1 --[a plain bridge in its own namespace, no rules]-- l2 .2

Guests a1, a2, b1 are in group "bench" (egress anything; ingress ICMP and TCP
5201-5202); the filler ports in "default" (egress anything; ingress from "default").

Traffic, one TCP connection each, Python sockets in the namespaces (no iperf3 needed):

  router    a1 -> b1 across the router (two bridges, two passes through the
            security-group tables, a routed hop)
  floating  ext -> b1's floating IP (DNAT in the router, then net B's bridge)
  limit     l1 -> l2 on one bridge without br_netfilter or rules: the ceiling
  * throughput: ``--seconds`` of 256 KiB writes; Gbit/s and the sender's plus
    receiver's CPU seconds per GiB (getrusage of the two processes, which includes the
    kernel work done in their context: most of a veth's forwarding)
  * latency: ``--round-trips`` 1-byte request/response exchanges (TCP_NODELAY); p50
    and p99 in microseconds, CPU microseconds per round trip
  * ``--rounds`` rounds over the three paths in turn; each figure is the median

Control plane, at ``--ports`` filtered ports, ``--repeats`` times each (median, max):

  rule effect     a2 tries to connect to a1:5203 every 10 ms (a new connection each
                  time, 10 ms timeout: the resolution); the clock starts when the driver
                  is called with "bench" plus a rule for 5203 and stops when a connection
                  succeeds.  The rule is removed again between repeats.
  rule (small)    the driver call for a rule added to "bench" (3 ports)
  rule (all)      a rule added to "default" (every filler port is in it)
  membership      a filler port joins "bench" (its chains and two sets' elements)
  port added      a filler port created (its chains, map entries, a set element);
  port deleted    and deleted again
  port set down   a filler port's admin_state_up false (then true again)
  no-op           an event that changes no ruleset (a floating IP sent again)
  resync          a new LinuxDriver (an agent restart) ``sync``ing the whole state:
                  both tables replaced, every device checked

For each: wall seconds and the benchmark process's CPU seconds with its children's
(``nft``, ``ip``: utime+stime+cutime+cstime from /proc/self/stat); the load average is
printed beside each section.  Everything runs in namespaces named with a random
prefix, removed at the end (and on errors or Ctrl-C).  Needs root, iproute2, nftables.

    .venv/bin/python benchmarks/datapath.py --ports 1000
    .venv/bin/python benchmarks/datapath.py --ports 100 --seconds 2 --json
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

from pocketstack.network.drivers.linux import LinuxDriver

R = 77
TICK = os.sysconf("SC_CLK_TCK")
# The programs run inside the guests' namespaces (one script, a role per process).
AGENT = r"""
import resource, socket, sys, time
def cpu():
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime
role, args = sys.argv[1], sys.argv[2:]
if role == "serve":  # sink PORT, echo PORT+1, accept-and-close PORT+2
    import threading
    def serve(port, kind):
        s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(("0.0.0.0", port)); s.listen(64)
        while True:
            c, _ = s.accept()
            if kind == "accept":
                c.close(); continue
            c.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            start, total = cpu(), 0
            while True:
                data = c.recv(1 << 18)
                if not data: break
                total += len(data)
                if kind == "echo": c.sendall(data)
            c.close()
            if kind == "sink": print(total, cpu() - start, flush=True)
    base = int(args[0])
    for port, kind in ((base, "sink"), (base + 1, "echo"), (base + 2, "accept")):
        threading.Thread(target=serve, args=(port, kind), daemon=True).start()
    time.sleep(0.2); print("ready", flush=True)
    sys.stdin.read()
elif role == "source":
    c = socket.create_connection((args[0], int(args[1])), timeout=10)
    chunk, sent, start, began = b"\0" * (1 << 18), 0, cpu(), time.monotonic()
    while time.monotonic() - began < float(args[2]):
        c.sendall(chunk); sent += len(chunk)
    c.shutdown(socket.SHUT_WR); c.recv(1)
    print(sent, time.monotonic() - began, cpu() - start, flush=True)
elif role == "rr":
    c = socket.create_connection((args[0], int(args[1])), timeout=10)
    c.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    times, count = [], int(args[2])
    for i in range(count + 200):
        if i == 200: start = cpu()
        t = time.perf_counter_ns(); c.sendall(b"x"); c.recv(1); times.append(time.perf_counter_ns() - t)
    print(" ".join(str(x) for x in times[200:]), cpu() - start, flush=True)
elif role == "probe":
    deadline = time.monotonic() + float(args[2])
    print("ready", flush=True)
    while time.monotonic() < deadline:
        try:
            socket.create_connection((args[0], int(args[1])), timeout=0.01).close()
            print(time.monotonic(), flush=True); break
        except OSError:
            time.sleep(0.001)
    else:
        print("timeout", flush=True)
"""


def sh(*args: str) -> str:
    return subprocess.run(args, check=True, capture_output=True, text=True).stdout


def in_ns(ns: str, *args: str, **kw) -> subprocess.Popen:
    return subprocess.Popen(["ip", "netns", "exec", ns, sys.executable, "-c", AGENT, *args],
                            stdout=subprocess.PIPE, text=True, **kw)


def run_in(ns: str, *args: str, timeout: float = 120) -> str:
    process = in_ns(ns, *args)
    out, _ = process.communicate(timeout=timeout)
    if process.returncode:
        raise RuntimeError(f"{args[0]} in {ns} failed ({process.returncode})")
    return out


def cpu_seconds() -> float:
    """This process's user+system CPU seconds with its waited-for children's (nft, ip)."""
    fields = Path("/proc/self/stat").read_text().rsplit(")", 1)[1].split()
    return sum(int(x) for x in fields[11:15]) / TICK


def uid() -> str:
    return str(uuid.uuid4())


def mac() -> str:
    return "fa:16:3e:" + ":".join(f"{random.randrange(256):02x}" for _ in range(3))


def load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def rule(direction: str, protocol: str | None = None, low: int | None = None, high: int | None = None,
         group: str | None = None) -> dict:
    return {"id": uid(), "direction": direction, "ethertype": "IPv4", "protocol": protocol, "port_range_min": low,
            "port_range_max": high, "remote_ip_prefix": None, "remote_group_id": group}


class World:
    """The Neutron-shaped state (kept so that a restarted driver can be given it), the
    driver, and the namespaces of the guests and of the limit."""

    def __init__(self, state_dir: Path, prefix: str):
        self.state_dir, self.prefix = state_dir, prefix
        self.driver = LinuxDriver(state_dir, prefix=prefix)
        self.state: dict[str, dict[str, dict]] = {k: {} for k in ("networks", "subnets", "ports", "routers",
                                                                   "floatingips", "security_groups")}
        self.namespaces: list[str] = []
        self.processes: list[subprocess.Popen] = []
        self.nets: dict[str, tuple[dict, dict]] = {}
        self.ports: dict[str, dict] = {}

    def put(self, kind: str, item: dict) -> None:
        self.state[kind + "s"][item["id"]] = item
        getattr(self.driver, f"{kind}_updated")(item)

    def network(self, name: str, cidr: str, gateway: str) -> None:
        net = {"id": uid(), "name": name, "mtu": 1500}
        subnet = {"id": uid(), "network_id": net["id"], "ip_version": 4, "cidr": cidr, "gateway_ip": gateway,
                  "enable_dhcp": False, "dns_nameservers": [], "host_routes": []}
        self.nets[name] = (net, subnet)
        self.state["networks"][net["id"]] = net
        self.state["subnets"][subnet["id"]] = subnet

    def port(self, name: str, network: str, address: str, groups: list[str], owner: str = "compute:nova",
             device_id: str = "", **extra) -> dict:
        net, subnet = self.nets[network]
        port = {"id": uid(), "name": name, "network_id": net["id"], "mac_address": mac(),
                "fixed_ips": [{"subnet_id": subnet["id"], "ip_address": address}], "device_owner": owner,
                "device_id": device_id or uid(), "security_groups": groups, "port_security_enabled": True,
                "allowed_address_pairs": [], "extra_dhcp_opts": [], "dns_name": "", "admin_state_up": True}
        port.update(extra)
        self.ports[name] = port
        self.state["ports"][port["id"]] = port
        return port

    def netns(self, name: str) -> str:
        ns = f"{self.prefix}g-{name}"
        sh("ip", "netns", "add", ns)
        self.namespaces.append(ns)
        sh("ip", "-n", ns, "link", "set", "lo", "up")
        return ns

    def guest(self, name: str, address: str, gateway: str) -> str:
        ns = self.netns(name)
        port = self.ports[name]
        sh("ip", "-n", ns, "link", "add", "eth0", "address", port["mac_address"], "type", "veth", "peer", "name",
           self.driver.tap_name(port["id"]), "netns", self.driver.host_ns)
        self.driver.plug(port["id"])
        sh("ip", "-n", ns, "addr", "add", address, "dev", "eth0")
        sh("ip", "-n", ns, "link", "set", "eth0", "up")
        sh("ip", "-n", ns, "route", "add", "default", "via", gateway)
        return ns

    def serve(self, ns: str, base: int) -> None:
        server = in_ns(ns, "serve", str(base), stdin=subprocess.PIPE)
        self.processes.append(server)
        assert server.stdout is not None and server.stdout.readline().strip() == "ready"

    def close(self) -> None:
        for process in self.processes:
            process.kill()
            process.wait()
        for ns in self.namespaces:
            subprocess.run(["ip", "netns", "delete", ns], check=False)
        self.driver.destroy()


def build(world: World, ports: int) -> dict[str, str]:
    """The topology above; returns the guests' namespaces by name."""
    bench = {"id": uid(), "name": "bench", "security_group_rules": [rule("egress"), rule("ingress", "icmp"),
                                                                    rule("ingress", "tcp", 5201, 5202)]}
    default = {"id": uid(), "name": "default", "security_group_rules": [rule("egress")]}
    default["security_group_rules"].append(rule("ingress", group=default["id"]))
    for group in (bench, default):
        world.state["security_groups"][group["id"]] = group
    world.network("A", f"10.{R}.1.0/24", f"10.{R}.1.1")
    world.network("B", f"10.{R}.2.0/24", f"10.{R}.2.1")
    world.network("ext", f"172.31.{R}.0/24", f"172.31.{R}.1")
    world.network("F", f"10.{R + 1}.0.0/16", f"10.{R + 1}.0.1")
    world.port("a1", "A", f"10.{R}.1.11", [bench["id"]])
    world.port("a2", "A", f"10.{R}.1.12", [bench["id"]])
    world.port("b1", "B", f"10.{R}.2.11", [bench["id"]])
    world.port("ext", "ext", f"172.31.{R}.1", [], owner="test:external", port_security_enabled=False)
    for i in range(ports - 3):
        world.port(f"f{i}", "F", f"10.{R + 1}.{2 + i // 250}.{1 + i % 250}", [default["id"]])
    router_id = uid()
    interfaces = [world.port("qr-A", "A", f"10.{R}.1.1", [], owner="network:router_interface", device_id=router_id),
                  world.port("qr-B", "B", f"10.{R}.2.1", [], owner="network:router_interface", device_id=router_id)]
    world.port("qg", "ext", f"172.31.{R}.10", [], owner="network:router_gateway", device_id=router_id)
    router = {"id": router_id, "routes": [], "interfaces": interfaces, "admin_state_up": True,
              "external_gateway_info": {"network_id": world.nets["ext"][0]["id"], "enable_snat": True}}
    world.state["routers"][router_id] = router
    fip = {"id": uid(), "floating_ip_address": f"172.31.{R}.20", "fixed_ip_address": f"10.{R}.2.11",
           "port_id": world.ports["b1"]["id"], "router_id": router_id}
    world.state["floatingips"][fip["id"]] = fip
    world.driver.sync({kind: list(items.values()) for kind, items in world.state.items()})
    guests = {"a1": world.guest("a1", f"10.{R}.1.11/24", f"10.{R}.1.1"),
              "a2": world.guest("a2", f"10.{R}.1.12/24", f"10.{R}.1.1"),
              "b1": world.guest("b1", f"10.{R}.2.11/24", f"10.{R}.2.1"),
              "ext": world.guest("ext", f"172.31.{R}.1/24", f"172.31.{R}.10")}
    # The limit: two namespaces on a plain bridge (in a namespace of its own), no rules.
    hub = world.netns("hub")
    sh("ip", "-n", hub, "link", "add", "br0", "type", "bridge")
    sh("ip", "-n", hub, "link", "set", "br0", "up")
    for family in ("iptables", "ip6tables"):  # no br_netfilter pass (on by default where it is loaded)
        subprocess.run(["ip", "netns", "exec", hub, "sysctl", "-qw", f"net.bridge.bridge-nf-call-{family}=0"],
                       check=False, capture_output=True)
    for index, name in enumerate(("l1", "l2"), start=1):
        ns = guests[name] = world.netns(name)
        sh("ip", "-n", ns, "link", "add", "eth0", "type", "veth", "peer", "name", f"p{index}", "netns", hub)
        sh("ip", "-n", hub, "link", "set", f"p{index}", "master", "br0", "up")
        sh("ip", "-n", ns, "addr", "add", f"192.168.{R}.{index}/24", "dev", "eth0")
        sh("ip", "-n", ns, "link", "set", "eth0", "up")
    return guests


def one_path(guests: dict[str, str], sinks: dict[str, subprocess.Popen], client: str, server: str, address: str,
             args) -> dict[str, float]:
    """One throughput run and one request/response run from ``client`` to ``address``."""
    sent, seconds, source_cpu = run_in(guests[client], "source", address, "5201", str(args.seconds)).split()
    sink = sinks[server]
    assert sink.stdout is not None
    received, sink_cpu = sink.stdout.readline().split()
    assert int(received) == int(sent), (received, sent)
    *times, rr_cpu = run_in(guests[client], "rr", address, "5202", str(args.round_trips)).split()
    micro = sorted(int(t) / 1000 for t in times)
    return {"gbit_s": int(received) * 8 / float(seconds) / 1e9,
            "cpu_s_per_gib": (float(source_cpu) + float(sink_cpu)) / (int(received) / 2**30),
            "rr_p50_us": statistics.median(micro), "rr_p99_us": micro[int(len(micro) * 0.99)],
            "rr_cpu_us": float(rr_cpu) / len(micro) * 1e6}


def traffic(world: World, guests: dict[str, str], args) -> dict:
    """``--rounds`` rounds over the three paths in turn (so that the machine's other load
    falls on all of them alike); the median of each figure."""
    world.serve(guests["b1"], 5201)
    world.serve(guests["l2"], 5201)
    sinks = {"b1": world.processes[-2], "l2": world.processes[-1]}
    paths = {"router": ("a1", "b1", f"10.{R}.2.11"), "floating": ("ext", "b1", f"172.31.{R}.20"),
             "limit": ("l1", "l2", f"192.168.{R}.2")}
    runs: dict[str, list[dict[str, float]]] = {name: [] for name in paths}
    before = load()
    for _ in range(args.rounds):
        for name, (client, server, address) in paths.items():
            runs[name].append(one_path(guests, sinks, client, server, address, args))
    figures = {}
    for name, results in runs.items():
        figures[name] = {key: round(statistics.median(r[key] for r in results), 2) for key in results[0]}
        figures[name]["load"] = f"{before} -> {load()}"
        show(args, name, figures[name])
    return figures


def timed(call) -> tuple[float, float]:
    cpu, began = cpu_seconds(), time.monotonic()
    call()
    return time.monotonic() - began, cpu_seconds() - cpu


def spread(samples: list[tuple[float, float]]) -> dict:
    walls, cpus = [s[0] for s in samples], [s[1] for s in samples]
    return {"wall_s": round(statistics.median(walls), 3), "wall_max_s": round(max(walls), 3),
            "cpu_s": round(statistics.median(cpus), 3), "n": len(samples)}


def control(world: World, guests: dict[str, str], args) -> dict:
    driver, state = world.driver, world.state
    bench = next(g for g in state["security_groups"].values() if g["name"] == "bench")
    default = next(g for g in state["security_groups"].values() if g["name"] == "default")
    world.serve(guests["a1"], 5201)  # 5203 accepts and closes: the probe's target

    def group_with(group: dict, extra: list[dict]) -> dict:
        return dict(group, security_group_rules=group["security_group_rules"] + extra)

    figures: dict = {}
    effect, calls = [], []
    before = load()
    for _ in range(args.repeats):
        probe = in_ns(guests["a2"], "probe", f"10.{R}.1.11", "5203", "30")
        assert probe.stdout is not None and probe.stdout.readline().strip() == "ready"
        time.sleep(0.2)  # a few refused attempts first
        began, cpu = time.monotonic(), cpu_seconds()
        driver.security_group_updated(group_with(bench, [rule("ingress", "tcp", 5203, 5203)]))
        calls.append((time.monotonic() - began, cpu_seconds() - cpu))
        out, _ = probe.communicate(timeout=60)
        if out.strip() == "timeout":
            raise RuntimeError("the rule never took effect")
        effect.append((float(out) - began, 0.0))
        driver.security_group_updated(bench)
    figures["rule effect"] = dict(spread(effect), cpu_s=None, load=f"{before} -> {load()}")
    figures["rule (small)"] = dict(spread(calls), load=f"{before} -> {load()}")
    show(args, "rule effect", figures["rule effect"])
    show(args, "rule (small)", figures["rule (small)"])

    extra = dict(world.ports["f0"], id=uid(), mac_address=mac(),
                 fixed_ips=[dict(world.ports["f0"]["fixed_ips"][0], ip_address=f"10.{R + 1}.255.1")])
    events = {
        "rule (all)": (lambda: driver.security_group_updated(group_with(default, [rule("ingress", "tcp", 22, 22)])),
                       lambda: driver.security_group_updated(default)),
        "membership": (lambda: driver.port_updated(dict(world.ports["f0"], security_groups=[default["id"],
                                                                                             bench["id"]])),
                       lambda: driver.port_updated(world.ports["f0"])),
        "port added": (lambda: driver.port_updated(extra), lambda: driver.port_deleted(extra)),
        "port set down": (lambda: driver.port_updated(dict(world.ports["f0"], admin_state_up=False)),
                          lambda: driver.port_updated(world.ports["f0"])),
        "no-op": (lambda: driver.floatingip_updated(next(iter(state["floatingips"].values()))), lambda: None),
    }
    for name, (change, undo) in events.items():
        before = load()
        samples, undone = [], []
        for _ in range(args.repeats):
            samples.append(timed(change))
            undone.append(timed(undo))
        figures[name] = dict(spread(samples), load=f"{before} -> {load()}")
        show(args, name, figures[name])
        if name == "port added":
            figures["port deleted"] = dict(spread(undone), load=f"{before} -> {load()}")
            show(args, "port deleted", figures["port deleted"])

    before = load()
    samples = []
    for _ in range(args.repeats):
        restarted = LinuxDriver(world.state_dir, prefix=world.prefix)
        samples.append(timed(functools.partial(restarted.sync, {k: list(v.values()) for k, v in state.items()})))
        world.driver = driver = restarted
    figures["resync"] = dict(spread(samples), load=f"{before} -> {load()}")
    show(args, "resync", figures["resync"])
    if driver.last_error:
        raise RuntimeError(f"the driver failed: {driver.last_error}")
    return figures


def show(args, title: str, figures: dict) -> None:
    if not args.json:
        print(f"{title:>13}: " + ", ".join(f"{k}={v}" for k, v in figures.items() if v is not None), flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--ports", type=int, default=1000, help="filtered ports on the host, 4 to 20,000")
    parser.add_argument("--seconds", type=float, default=5.0, help="of each throughput run")
    parser.add_argument("--round-trips", type=int, default=5000)
    parser.add_argument("--rounds", type=int, default=3, help="of the traffic runs, over the paths in turn")
    parser.add_argument("--repeats", type=int, default=5, help="of each control-plane measurement")
    parser.add_argument("--no-traffic", action="store_true", help="control-plane figures only")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    if not 4 <= args.ports <= 20000 or not 0 < args.seconds <= 60 or not 1 <= args.repeats <= 50 \
            or not 1 <= args.rounds <= 20:
        parser.error("--ports 4..20000, --seconds up to 60, --repeats 1..50, --rounds 1..20")
    if os.geteuid() != 0:
        parser.error("needs root (network namespaces)")
    import pocketstack
    report: dict = {"ports": args.ports, "cpus": os.cpu_count(), "pocketstack": str(Path(pocketstack.__file__).parent),
                    "kernel": os.uname().release, "nft": sh("nft", "--version").strip(), "load": load()}
    show(args, "machine", report)
    with tempfile.TemporaryDirectory(prefix="dpbench-") as tmp:
        world = World(Path(tmp) / "state", f"dpb{random.randrange(16**4):04x}-")
        try:
            began = time.monotonic()
            guests = build(world, args.ports)
            report["build_s"] = round(time.monotonic() - began, 1)
            if not args.no_traffic:
                report["traffic"] = traffic(world, guests, args)
            report["control"] = control(world, guests, args)
        finally:
            world.close()
    if args.json:
        print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
