"""Instance HA of a scaled-out cloud whose compute hosts are network namespaces (issue 15).

The control plane runs in the machine's namespace: ``pocketstack api``, ``scheduler``,
``volume`` and ``ha`` over PostgreSQL, RabbitMQ and Redis.  Each of two compute hosts is a
network namespace of its own (``<base>h<x>``) running ``pocketstack compute --host`` (QEMU,
real guests of the tiny image) and ``pocketstack network-agent --host`` (Linux datapath,
its namespaces prefixed ``<base><x>-``), joined to the control plane by a veth on a bridge
of the machine, with addresses this test makes up::

    machine: bridge <base>br 10.R.0.1 ── socat → 127.0.0.1: PostgreSQL, RabbitMQ, Redis
      ├ veth ── <base>ha eth0 10.R.0.2   compute + agent of host a (and its QEMU guests)
      ├ veth ── <base>ha ul0 → <base>a-host 192.168.R.1 (the VXLAN underlay, moved in by the agent)
      ├ veth ── <base>hb eth0 10.R.0.3   compute + agent of host b
      └ veth ── <base>hb ul0 → <base>b-host 192.168.R.2

Every process shares one data directory (the shared storage of a real cloud: image
files, volume files, each host's ``qemu/<host>`` state).  Two servers boot on the
failing host (the one that does not serve the network's DHCP) with a port each on a
VXLAN network: one tagged ``automatic-recovery`` with a volume attached (its data seen by
the guest), one untagged; ``ha_recovery_mode`` is ``tagged``.  Then:

1. ``kill -9`` of the failing host's compute service alone: its guests run on, so the HA
   monitor records a ``PROCESS`` failure, ``ignored``; nothing moves.
2. The whole host is killed (every process of its namespaces: agent, QEMU, the compute
   service gone already): a ``COMPUTE_HOST`` failure, fenced by the ``command`` driver
   with a script that kills whatever is left in the host's namespaces and checks none is,
   then recovered: the tagged server ACTIVE on the other host with the same port, fixed
   IP (its guest gets it again by DHCP there) and volume (the re-created guest sees the
   disk at boot); the untagged one in ERROR with the policy's fault.  No server ever has
   a running QEMU on two hosts (sampled all along).
3. Two ``pocketstack ha`` processes run, and the leading one is killed (``kill -9``) the
   moment it has fenced the host: the other takes the lead and finishes the recovery,
   saying in the record from which stage it took over; the server is evacuated once.

Needs root, QEMU, nftables, dnsmasq, socat, the tiny image's tools and the three
backends: skipped without them, failed on CI.  About 2 minutes on TCG; run it with
/work/notes/heavy.
"""

from __future__ import annotations

import contextlib
import os
import random
import re
import signal
import socket
import subprocess
import sys
import threading
import uuid
from collections import Counter
from pathlib import Path

import httpx
import pytest
from test_network_datapath import TOOLS as DATAPATH_TOOLS
from test_qemu_guests import BOOT_TIMEOUT, LOGIN, facts
from test_tiny_image import kvm_works

from tinyimage import tiny_image_path

from backends import scratch_database
from cloudproc import BIN, ProcessGroup, admin_token, eventually, forget_cluster, free_port
from support import require_netns, require_service, sh

AMQP_PORT, REDIS_PORT, PG_PORT = 5672, 6379, 5432
SERVICE_DOWN_TIME = 5
TOOLS = {**DATAPATH_TOOLS, "socat": "socat", "nsenter": "util-linux"}
COMPUTE = {"OpenStack-API-Version": "compute 2.64"}
pytestmark = pytest.mark.timeout(int(3 * BOOT_TIMEOUT + 300))

FENCE_SCRIPT = """#!/bin/sh
# The fence of this test's hosts: kill every process of host $2's namespaces (the
# host's own and its datapath's), or check (for up to 10 s) that none is left.
set -u
case "$2" in
{cases}
    *) echo "unknown host $2" >&2; exit 2 ;;
esac
namespaces() {{ ip netns list | awk '{{print $1}}' | grep -e "^$HOST_NS\\$" -e "^$PREFIX"; }}
pids() {{ for ns in $(namespaces); do ip netns pids "$ns"; done; }}
if [ "$1" = kill ]; then
    pids | xargs -r kill -9
    exit 0
fi
for _ in $(seq 100); do
    [ -z "$(pids)" ] && exit 0
    sleep 0.1
done
echo "processes left on $2: $(pids | tr '\\n' ' ')" >&2
exit 1
"""


class Fabric:
    """The namespaces standing for the hosts, the bridge joining them, the forwarders."""

    def __init__(self, base: str, r: int, hosts: list[str]):
        self.base, self.r, self.hosts = base, r, hosts
        self.gateway = f"10.{r}.0.1"
        self.bridge = f"{base}br"
        self.forwarders: list[subprocess.Popen] = []

    def host_ns(self, host: str) -> str:
        return f"{self.base}h{host[-1]}"

    def prefix(self, host: str) -> str:
        return f"{self.base}{host[-1]}-"

    def vtep(self, host: str) -> str:
        return f"192.168.{self.r}.{self.hosts.index(host) + 1}"

    def build(self) -> None:
        sh("ip", "link", "add", self.bridge, "type", "bridge")
        sh("ip", "addr", "add", f"{self.gateway}/24", "dev", self.bridge)
        sh("ip", "link", "set", self.bridge, "up")
        for index, host in enumerate(self.hosts):
            ns, tag = self.host_ns(host), host[-1]
            sh("ip", "netns", "add", ns)
            sh("ip", "-n", ns, "link", "set", "lo", "up")
            for device, peer in (("eth0", f"{self.base}{tag}0"), ("ul0", f"{self.base}{tag}u")):
                sh("ip", "link", "add", peer, "type", "veth", "peer", "name", device, "netns", ns)
                sh("ip", "link", "set", peer, "master", self.bridge, "up")
            sh("ip", "-n", ns, "addr", "add", f"10.{self.r}.0.{index + 2}/24", "dev", "eth0")
            sh("ip", "-n", ns, "link", "set", "eth0", "up")
        for port in (PG_PORT, AMQP_PORT, REDIS_PORT):  # the backends listen on loopback only
            self.forwarders.append(subprocess.Popen(
                ["socat", f"TCP-LISTEN:{port},bind={self.gateway},fork,reuseaddr", f"TCP:127.0.0.1:{port}"],
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        reach = "import socket, sys; socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=1).close()"
        for port in (PG_PORT, AMQP_PORT, REDIS_PORT):
            eventually(lambda port=port: sh("nsenter", f"--net=/run/netns/{self.host_ns(self.hosts[0])}",
                                            sys.executable, "-c", reach, self.gateway, str(port),
                                            check=False).returncode == 0 or None, timeout=10, interval=0.2)

    def namespaces(self) -> list[str]:
        return [ns for ns in sh("ip", "netns", "list").stdout.split() if ns.startswith(self.base)]

    def pids(self, host: str) -> list[int]:
        found = []
        for ns in self.namespaces():
            if ns == self.host_ns(host) or ns.startswith(self.prefix(host)):
                found += [int(p) for p in sh("ip", "netns", "pids", ns, check=False).stdout.split()]
        return found

    def kill(self, host: str) -> None:
        for pid in self.pids(host):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)

    def destroy(self) -> list[str]:
        """Kill every process of the namespaces, remove them and the bridge; what is left."""
        for forwarder in self.forwarders:
            forwarder.kill()
            forwarder.wait()
        for host in self.hosts:
            self.kill(host)
        eventually(lambda: not any(self.pids(h) for h in self.hosts) or None, timeout=15, interval=0.2)
        for ns in self.namespaces():
            sh("ip", "netns", "delete", ns, check=False)
        sh("ip", "link", "del", self.bridge, check=False)
        return self.namespaces()


def qemu_processes(state: Path) -> Counter:
    """This cloud's running QEMU processes by the server they run: every host's guests
    (``state`` is the cloud's ``qemu/``) whose pidfile names a live QEMU of that server."""
    from pocketstack.compute.drivers.qemu_guest import running_guests

    found: Counter = Counter()
    for host in sorted(state.iterdir()) if state.is_dir() else []:
        found.update(running_guests(host).keys())
    return found


class Sampler(threading.Thread):
    """The most QEMU processes (hosts) seen at once for each server, every 0.2 s until stopped."""

    def __init__(self, state: Path):
        super().__init__(daemon=True)
        self.state = state
        self.most: Counter = Counter()
        self.done = threading.Event()

    def run(self) -> None:
        while not self.done.wait(0.2):
            self.most |= qemu_processes(self.state)


class Cloud(ProcessGroup):
    """The scaled-out cloud: control-plane processes here, hosts in their namespaces."""

    fabric: Fabric
    url: str
    token: str = ""
    project: str = ""

    def start_host(self, host: str) -> None:
        config = self.root / f"{host}.toml"
        # The compute service shares the cloud's storage (image and volume files, each host's
        # qemu/<host>); the agent keeps its datapath's state (data_dir/datapath) on its own.
        for name, data_dir, args in ((f"{host}-agent", f"{host}-agent", ("network-agent", "--host", host)),
                                     (f"{host}-compute", "api", ("compute", "--host", host, "--hypervisor", "qemu"))):
            log = open(self.root / f"{name}.log", "a")
            env = {k: v for k, v in os.environ.items() if not k.startswith("POCKETSTACK_")}
            # nsenter switches the network namespace only (``ip netns exec`` would give the
            # process a mount namespace of its own, hiding the datapath's named namespaces).
            self.processes[name] = subprocess.Popen(
                ["nsenter", f"--net=/run/netns/{self.fabric.host_ns(host)}", str(BIN / "pocketstack"),
                 "--config", str(config), "--data-dir", str(self.root / data_dir), *args],
                stdout=log, stderr=subprocess.STDOUT, env=env)
            log.close()

    def api(self, method: str, path: str, **kw) -> httpx.Response:
        headers = {"X-Auth-Token": self.token, **COMPUTE, **kw.pop("headers", {})}
        return httpx.request(method, self.url + path, headers=headers, timeout=30, **kw)

    def server(self, server_id: str) -> dict:
        return self.api("GET", f"/compute/v2.1/servers/{server_id}").json()["server"]

    def notifications(self) -> list[dict]:
        return self.api("GET", "/instance-ha/v1/notifications").json()["notifications"]

    def member(self, name: str) -> str:
        """The coordination member id of process ``name`` (how the HA record names it)."""
        return f"{socket.gethostname()}-{self.processes[name].pid}"

    def leads(self, name: str) -> bool:
        return f"this process leads ({self.member(name)})" in self.log(name)

    def console(self, host: str, server_id: str) -> str:
        path = self.root / "api" / "qemu" / host / server_id / "console.log"
        return path.read_bytes().decode(errors="replace").replace("\r", "") if path.exists() else ""


@pytest.fixture
def cloud(tmp_path):
    require_netns(TOOLS, "instance HA of hosts in network namespaces")
    for service in ("postgresql", "rabbitmq", "redis"):
        require_service(service)
    image = tiny_image_path()  # skips (or fails on CI) without the tools
    base, r = f"ph{random.randrange(16**4):04x}", random.randrange(100, 200)
    hosts = [f"{base}-a", f"{base}-b"]
    fabric = Fabric(base, r, hosts)
    cluster_name = f"pstest{uuid.uuid4().hex[:10]}"
    fence = tmp_path / "fence.sh"
    fence.write_text(FENCE_SCRIPT.format(cases="\n".join(
        f'    {h}) HOST_NS={fabric.host_ns(h)}; PREFIX={fabric.prefix(h)} ;;' for h in hosts)))
    fence.chmod(0o755)
    accel = os.environ.get("POCKETSTACK_TEST_ACCEL") or ("kvm" if kvm_works() else "tcg")
    sampler = Sampler(tmp_path / "api" / "qemu")
    with scratch_database("postgresql", tmp_path) as database_url:
        def settings(address: str) -> str:
            return f'''[pocketstack]
database_url = "{database_url.replace("127.0.0.1", address)}"
transport_url = "amqp://guest:guest@{address}:{AMQP_PORT}/"
coordination_url = "redis://{address}:{REDIS_PORT}"
cluster_name = "{cluster_name}"
heartbeat_interval = 1.0
service_down_time = {SERVICE_DOWN_TIME}
bcrypt_rounds = 4
hypervisor = "qemu"
qemu_accel = "{accel}"
shutdown_timeout = 10
network_datapath = "linux"
ha_monitor_interval = 1.0
ha_confirm_count = 2
ha_recovery_mode = "tagged"
ha_fence_driver = "command"
ha_fence_command = "{fence} kill {{host}}"
ha_fence_verify_command = "{fence} check {{host}}"
ha_fence_attempts = 1'''
        (tmp_path / "control.toml").write_text(settings("127.0.0.1"))
        for host in hosts:
            (tmp_path / f"{host}.toml").write_text(settings(fabric.gateway) + f'''
network_datapath_prefix = "{fabric.prefix(host)}"
network_datapath_local_ip = "{fabric.vtep(host)}/24"
network_datapath_underlay = "ul0"
''')
        port = free_port()
        cloud = Cloud(tmp_path, tmp_path / "control.toml")
        cloud.fabric, cloud.url = fabric, f"http://127.0.0.1:{port}"
        try:
            fabric.build()
            cloud.start_api("api", port)  # it migrates the database: the others start after it
            cloud.token, cloud.project = admin_token(cloud.url)
            for name, *args in (("scheduler",), ("volume", "--host", "storage")):
                cloud.start(name, name, *args, data_dir="api")
            cloud.start("ha-1", "ha", data_dir="api")
            eventually(lambda: cloud.leads("ha-1"), timeout=60, interval=0.5)
            cloud.start("ha-2", "ha", data_dir="api")  # a follower: the lead is taken
            for host in hosts:
                cloud.start_host(host)

            def hosts_up():
                for name, process in cloud.processes.items():
                    assert process.poll() is None, f"{name} exited:\n{cloud.log(name)}"
                services = cloud.api("GET", "/compute/v2.1/os-services?binary=nova-compute").json()["services"]
                agents = cloud.api("GET", "/network/v2.0/agents").json()["agents"]
                return ({s["host"] for s in services if s["state"] == "up"} == set(hosts)
                        and {a["host"] for a in agents if a["alive"]} == set(hosts))
            eventually(hosts_up, timeout=120, interval=1)
            cloud.image = image
            sampler.start()
            yield cloud
        finally:
            sampler.done.set()
            cloud.stop_all()
            left = fabric.destroy()
            servers = {"scheduler": [socket.gethostname()], "volume": ["storage"],
                       "compute": hosts, "network-agent": hosts}
            with contextlib.suppress(Exception):
                forget_cluster(cluster_name, servers)
            assert not left, f"namespaces left behind: {left}"
            if sampler.is_alive():
                sampler.join()
            assert max(sampler.most.values(), default=0) <= 1, f"a server ran twice: {sampler.most}"


def test_a_killed_host_in_its_namespace_is_fenced_and_its_tagged_server_back_elsewhere(cloud, tmp_path):
    run = cloud.openstack
    failing_is, r = cloud.fabric.hosts, cloud.fabric.r
    marker = b"pocketstack-volume-data:" + b"0123456789abcdef" * 2
    data = tmp_path / "marker.raw"
    data.write_bytes(marker + bytes((1 << 20) - len(marker)))
    run("image", "create", "tiny", "--disk-format", "qcow2", "--container-format", "bare", "--file",
        str(cloud.image), "--public", "-f", "json")
    run("image", "create", "marker", "--disk-format", "raw", "--container-format", "bare", "--file", str(data),
        "-f", "json")
    run("flavor", "create", "tiny.1", "--vcpus", "1", "--ram", "192", "--disk", "1", "-f", "json")
    volume_id = run("volume", "create", "--image", "marker", "--size", "1", "data", "-f", "json")["id"]
    network = run("network", "create", "private", "-f", "json")
    run("subnet", "create", "--network", "private", "--subnet-range", f"10.{r}.1.0/24", "private-subnet",
        "-f", "json")
    run("security", "group", "rule", "create", "--protocol", "icmp", "--ingress", "default", "-f", "json")

    # The host that fails is the one that does not serve the network's DHCP.
    [dhcp] = cloud.api("GET", f"/network/v2.0/ports?network_id={network['id']}&device_owner=network:dhcp"
                       ).json()["ports"]
    spare = dhcp["binding:host_id"]
    [failing] = [h for h in failing_is if h != spare]
    services = {s["host"]: s["id"] for s in cloud.api("GET", "/compute/v2.1/os-services?binary=nova-compute"
                                                      ).json()["services"]}
    assert cloud.api("PUT", f"/compute/v2.1/os-services/{services[spare]}",
                     json={"status": "disabled"}).status_code == 200
    ids = {}
    for name, extra in (("tagged", ("--tag", "automatic-recovery")), ("untagged", ())):
        ids[name] = run("--os-compute-api-version", "2.52", "server", "create", "--flavor", "tiny.1", "--image",
                        "tiny", "--network", "private", "--config-drive", "true", *extra, name, "-f", "json")["id"]
    for server_id in ids.values():
        eventually(lambda server_id=server_id: cloud.server(server_id)["status"] in ("ACTIVE", "ERROR"),
                   timeout=BOOT_TIMEOUT, interval=1)
        assert (cloud.server(server_id)["status"], cloud.server(server_id)["OS-EXT-SRV-ATTR:host"]) == (
            "ACTIVE", failing)
    assert cloud.api("PUT", f"/compute/v2.1/os-services/{services[spare]}",
                     json={"status": "enabled"}).status_code == 200
    tagged = ids["tagged"]
    [port] = cloud.api("GET", f"/network/v2.0/ports?device_id={tagged}").json()["ports"]
    fixed_ip = port["fixed_ips"][0]["ip_address"]
    assert (port["binding:host_id"], port["status"]) == (failing, "ACTIVE")

    eventually(lambda: LOGIN.search(cloud.console(failing, tagged)), timeout=BOOT_TIMEOUT, interval=2)
    seen = facts(cloud.console(failing, tagged))
    assert seen["nic"] == f"nic name=eth0 mac={port['mac_address']} address={fixed_ip}/24 mtu=1450", seen
    run("server", "add", "volume", tagged, volume_id)
    attached = "tiny-facts: disk-attached name=vdb size_bytes=1073741824 head=pocketstack-volume-data:0123"
    eventually(lambda: attached in cloud.console(failing, tagged), timeout=90, interval=1)
    guests = qemu_processes(cloud.root / "api" / "qemu")
    assert guests[tagged] == 1 and guests[ids["untagged"]] == 1

    # (1) Only the compute service dies: the guests run on, a PROCESS failure is recorded.
    compute = cloud.processes[f"{failing}-compute"]
    compute.send_signal(signal.SIGKILL)
    compute.wait()
    process = eventually(lambda: [n for n in cloud.notifications() if n["type"] == "PROCESS"],
                         timeout=SERVICE_DOWN_TIME * 6, interval=1)
    assert [(n["status"], n["payload"]["process_name"]) for n in process] == [("ignored", "nova-compute")]
    assert not [n for n in cloud.notifications() if n["type"] == "COMPUTE_HOST"]
    assert qemu_processes(cloud.root / "api" / "qemu") == guests
    assert cloud.server(tagged)["OS-EXT-SRV-ATTR:host"] == failing

    # (2) The whole host dies: fenced, the tagged server comes back on the spare host --
    # (3) though the HA process that fenced it is killed at once and the other finishes.
    cloud.fabric.kill(failing)
    eventually(lambda: not cloud.fabric.pids(failing), timeout=15, interval=0.2)
    eventually(lambda: f"host {failing} fenced" in cloud.log("ha-1"), timeout=BOOT_TIMEOUT, interval=0.1)
    leader = cloud.processes["ha-1"]
    leader.send_signal(signal.SIGKILL)
    leader.wait()
    assert not [n for n in cloud.notifications() if n["status"] == "finished"], cloud.notifications()
    eventually(lambda: cloud.leads("ha-2"), timeout=60, interval=0.5)

    def finished():
        found = [n for n in cloud.notifications() if n["type"] == "COMPUTE_HOST"]
        return found if found and found[0]["status"] not in ("new", "running") else None
    [notification] = eventually(finished, timeout=BOOT_TIMEOUT, interval=1)
    shown = cloud.api("GET", f"/instance-ha/v1/notifications/{notification['notification_uuid']}",
                      headers={"OpenStack-API-Version": "instance-ha 1.3"}).json()["notification"]
    assert notification["status"] == "finished", (shown, cloud.log("ha-2"))
    tasks = {t["name"]: t for t in shown["recovery_workflow_details"]}
    assert {name: t["state"] for name, t in tasks.items()} == {
        "CheckHostAliveTask": "SUCCESS", "FenceHostTask": "SUCCESS", "DisableComputeServiceTask": "SUCCESS",
        "PrepareHAEnabledInstancesTask": "SUCCESS", "EvacuateInstancesTask": "SUCCESS"}, shown
    took_over = re.compile(rf"HA process {cloud.member('ha-2')} took over the recovery at stage "
                           rf"(fencing|fenced|evacuating) from {cloud.member('ha-1')}, which no longer leads")
    lines = [d["message"] for t in tasks.values() for d in t["progress_details"]]
    assert [line for line in lines if took_over.fullmatch(line)], lines
    assert tasks["EvacuateInstancesTask"]["progress_details"][-1]["message"] == "1 succeeded, 0 failed, 1 ignored"
    # The network fence reached the agents (the HA process sends on RPC), and the spare host
    # sends nothing to the fenced one any more.
    for name in ("ha-1", "ha-2"):
        assert "dropped" not in cloud.log(name), cloud.log(name)
    fdb = sh("bridge", "-n", f"{cloud.fabric.prefix(spare)}host", "fdb", "show").stdout
    assert f"dst {cloud.fabric.vtep(failing)} " not in fdb + " ", fdb

    server = cloud.server(tagged)
    assert (server["status"], server["OS-EXT-SRV-ATTR:host"]) == ("ACTIVE", spare), server
    assert [v["id"] for v in server["os-extended-volumes:volumes_attached"]] == [volume_id]
    volume = cloud.api("GET", f"/volume/v3/{cloud.project}/volumes/{volume_id}").json()["volume"]
    assert volume["status"] == "in-use" and [a["server_id"] for a in volume["attachments"]] == [tagged], volume
    [moved] = cloud.api("GET", f"/network/v2.0/ports?device_id={tagged}").json()["ports"]
    assert (moved["id"], moved["mac_address"], moved["fixed_ips"]) == (port["id"], port["mac_address"],
                                                                       port["fixed_ips"])
    eventually(lambda: cloud.api("GET", f"/network/v2.0/ports/{port['id']}").json()["port"]["status"] == "ACTIVE",
               timeout=30, interval=1)
    assert cloud.api("GET", f"/network/v2.0/ports/{port['id']}").json()["port"]["binding:host_id"] == spare
    # The re-created guest boots with the volume and gets its fixed IP by DHCP on the spare host.
    eventually(lambda: LOGIN.search(cloud.console(spare, tagged)), timeout=BOOT_TIMEOUT, interval=2)
    seen = facts(cloud.console(spare, tagged))
    assert seen["nic"] == f"nic name=eth0 mac={port['mac_address']} address={fixed_ip}/24 mtu=1450", seen
    assert "tiny-facts: disk name=vdb size_bytes=1073741824" in cloud.console(spare, tagged)
    assert (cloud.root / "api" / "volumes" / f"volume-{volume_id}").read_bytes()[:len(marker)] == marker

    untagged = cloud.server(ids["untagged"])
    assert untagged["status"] == "ERROR" and untagged["OS-EXT-SRV-ATTR:host"] == failing, untagged
    assert untagged["fault"]["message"] == (f"Host {failing} failed and was fenced; the server was not evacuated "
                                            "(ha_recovery_mode='tagged')."), untagged["fault"]
    running = qemu_processes(cloud.root / "api" / "qemu")
    assert running[tagged] == 1 and ids["untagged"] not in running, running
    migrations = cloud.api("GET", f"/compute/v2.1/os-migrations?instance_uuid={tagged}",
                           headers={"OpenStack-API-Version": "compute 2.59"}).json()["migrations"]
    assert [(m["migration_type"], m["source_compute"], m["dest_compute"], m["status"]) for m in migrations] == [
        ("evacuation", failing, spare, "done")], migrations
