"""Real guests on real networks: ``pocketstack up --hypervisor qemu`` with the linux datapath.

Everything goes through the ``openstack`` CLI, as a user would: an external network (flat,
no DHCP) whose "outside" is a namespace this test creates (a veth on the external
network's bridge holding the subnet's gateway address, as DevStack's br-ex holds it), a
private network and subnet, a router between them, a security group without ingress
rules, a key pair, and the tiny image booted with a NIC on the private network.  What the
guest reports on its serial console (``tiny-facts:`` lines, docs/guests.md) shows that it
got its port's address and the network's MTU by DHCP from the network's ``network:dhcp``
port and that its gateway answers; then a floating IP makes it reachable from the
outside namespace exactly as far as its security group allows (ICMP, then SSH's port
22), through a stop/start (a new QEMU and tap), a hard reboot, suspend/resume, rescue,
a resize and a restart of the cloud process (QEMU keeps its tap); a second network's NIC
is hot-plugged into the running guest (DHCP gives it its address at the next boot) and
taken away again.  Connections to the floating IP every half second go on undisturbed
while the cloud process, which runs the network agent, is stopped, started and killed
(``kill -9``), and the networks' dnsmasq processes keep running; an nftables rule deleted
by hand meanwhile is put back by the agent of the next start.  The guest has no config
drive: its uuid and key come from 169.254.169.254, the router's metadata proxy in front
of the metadata API.  Every namespace is named with a prefix unique to the run and
removed at the end; no packet leaves them.

Needs root, QEMU, nftables, dnsmasq and the tiny image's tools: skipped without them,
failed on CI (CI=true).
"""

from __future__ import annotations

import contextlib
import os
import random
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest
from test_qemu_guests import BOOT_TIMEOUT, LOGIN, facts
from test_tiny_image import kvm_works

from tinyimage import tiny_image_path

from cloudproc import eventually, running_cloud
from support import require_netns, sh

TOOLS = {"ip": "iproute2", "nft": "nftables", "dnsmasq": "dnsmasq-base", "busybox": "busybox-static"}
KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHNbE0yIwLOuBnXq0tZm9qOLIF0ALxsDIlCzPOIq8tCW alpha@pocketstack"
pytestmark = pytest.mark.timeout(int(4 * BOOT_TIMEOUT + 300))
CONNECT = """
import socket, sys
try:
    socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=2).close()
except OSError:
    sys.exit(1)
"""
PROBE = """
import socket, sys, time
while True:
    try:
        socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=2).close()
        print("ok", flush=True)
    except OSError as error:
        print(f"{time.strftime('%H:%M:%S')} {error}", flush=True)
    time.sleep(0.5)
"""


class Outside:
    """The namespace on the external network: the world a floating IP faces."""

    def __init__(self, prefix: str, address: str):
        self.ns = f"{prefix}outside"
        self.host_ns = f"{prefix}host"
        self.device = f"{prefix[:-1][:9]}-out"
        self.address = address

    def plug(self, bridge: str) -> None:
        sh("ip", "netns", "add", self.ns)
        sh("ip", "-n", self.ns, "link", "set", "lo", "up")
        sh("ip", "-n", self.ns, "link", "add", "eth0", "type", "veth", "peer", "name", self.device,
           "netns", self.host_ns)
        sh("ip", "-n", self.host_ns, "link", "set", self.device, "master", bridge, "up")
        sh("ip", "-n", self.ns, "addr", "add", self.address, "dev", "eth0")
        sh("ip", "-n", self.ns, "link", "set", "eth0", "up")

    def ping(self, address: str) -> bool:
        return sh("ip", "netns", "exec", self.ns, "busybox", "ping", "-c", "1", "-W", "1", address,
                  check=False).returncode == 0

    def connects(self, address: str, port: int) -> bool:
        return sh("ip", "netns", "exec", self.ns, sys.executable, "-c", CONNECT, address, str(port),
                  check=False).returncode == 0

    def reaches(self, address: str, within: float = 30) -> bool:
        """Whether a ping gets through within ``within`` seconds (rules apply in about one)."""
        deadline = time.monotonic() + within
        while time.monotonic() < deadline:
            if self.ping(address):
                return True
        return False

    def probe(self, address: str, port: int) -> subprocess.Popen:
        """Connect to ``address``:``port`` every half second until stopped (a line per try:
        "ok" or the time and error); read with :func:`stop_probe`."""
        return subprocess.Popen(["ip", "netns", "exec", self.ns, sys.executable, "-c", PROBE, address, str(port)],
                                stdout=subprocess.PIPE, text=True)

    def remove(self) -> None:
        sh("ip", "netns", "delete", self.ns, check=False)


def stop_probe(probe: subprocess.Popen) -> list[str]:
    probe.terminate()
    return probe.communicate(timeout=10)[0].splitlines()


def delete_rule(ns: str, chain: str, match: str) -> None:
    """Delete by hand the rule of ``chain`` (table inet pocketstack) that contains ``match``."""
    listing = sh("ip", "netns", "exec", ns, "nft", "-a", "list", "chain", "inet", "pocketstack", chain).stdout
    [handle] = [line.rsplit("# handle ", 1)[1] for line in listing.splitlines() if match in line]
    sh("ip", "netns", "exec", ns, "nft", "delete", "rule", "inet", "pocketstack", chain, "handle", handle)


@pytest.fixture
def prefix():
    require_netns(TOOLS, "guests on the Linux datapath")
    return f"pst{random.randrange(16**4):04x}-"


def cleanup(data_dir: Path, prefix: str) -> list[str]:
    """End the run's guests, remove its namespaces and dnsmasq processes; what was left behind."""
    from pocketstack.network.drivers.linux import LinuxDriver
    for pidfile in data_dir.glob("qemu/*/*/qemu.pid"):
        with contextlib.suppress(OSError, ValueError):
            os.kill(int(pidfile.read_text()), 9)
    with contextlib.suppress(Exception):
        LinuxDriver(data_dir / "datapath", prefix=prefix).destroy()
    return [ns for ns in sh("ip", "netns", "list").stdout.split() if ns.startswith(prefix)]


def test_guest_gets_dhcp_reaches_gateway_and_floating_ip_follows_security_group(tmp_path, prefix):
    image = tiny_image_path()  # skips (or fails on CI) without the tools
    r = random.randrange(100, 200)
    env = {"POCKETSTACK_NETWORK_DATAPATH": "linux", "POCKETSTACK_NETWORK_DATAPATH_PREFIX": prefix,
           "POCKETSTACK_SHUTDOWN_TIMEOUT": "20",
           "POCKETSTACK_QEMU_ACCEL": os.environ.get("POCKETSTACK_TEST_ACCEL") or ("kvm" if kvm_works() else "tcg")}
    outside = Outside(prefix, f"172.31.{r}.1/24")
    probe: subprocess.Popen | None = None
    try:
        with running_cloud(tmp_path, "--hypervisor", "qemu", env=env) as cloud:
            def run(*args: str, **kw):
                return cloud.openstack(*args, **kw)

            # -- the networks ---------------------------------------------------------------
            run("image", "create", "tiny", "--disk-format", "qcow2", "--container-format", "bare",
                "--file", str(image), "--public", "-f", "json")
            run("flavor", "create", "tiny.1", "--vcpus", "1", "--ram", "192", "--disk", "1", "-f", "json")
            ext = run("network", "create", "--external", "--provider-network-type", "flat",
                      "--provider-physical-network", "public", "ext", "-f", "json")
            run("subnet", "create", "--network", "ext", "--subnet-range", f"172.31.{r}.0/24", "--no-dhcp",
                "--gateway", f"172.31.{r}.1", "--allocation-pool", f"start=172.31.{r}.10,end=172.31.{r}.50",
                "ext-subnet", "-f", "json")
            private = run("network", "create", "private", "-f", "json")
            subnet = run("subnet", "create", "--network", "private", "--subnet-range", f"10.{r}.1.0/24",
                         "private-subnet", "-f", "json")
            run("router", "create", "r1", "-f", "json")
            run("router", "set", "--external-gateway", "ext", "r1")
            run("router", "add", "subnet", "r1", "private-subnet")
            outside.plug(f"br-{ext['id'][:11]}")

            # The DHCP port is in the API, and dnsmasq answers from its address.
            [dhcp] = run("port", "list", "--network", "private", "--device-owner", "network:dhcp", "--long",
                         "-f", "json")
            dhcp_ip = dhcp["Fixed IP Addresses"][0]["ip_address"]
            dhcp_ns = f"{prefix}dhcp-{private['id']}"
            assert f"inet {dhcp_ip}/24 " in sh("ip", "-n", dhcp_ns, "-4", "addr", "show").stdout

            # -- the guest: no ingress allowed yet ----------------------------------------
            guest_sg = run("security", "group", "create", "guest-sg", "-f", "json")
            key_file = tmp_path / "k.pub"
            key_file.write_text(KEY + "\n")
            run("keypair", "create", "k", "--public-key", str(key_file), "-f", "json")
            server = run("server", "create", "--flavor", "tiny.1", "--image", "tiny", "--key-name", "k",
                         "--network", "private", "--security-group", "guest-sg", "--wait", "vm1", "-f", "json",
                         timeout=BOOT_TIMEOUT)
            server_id = server["id"]
            [port] = run("port", "list", "--device-id", server_id, "-f", "json")
            port = run("port", "show", port["ID"], "-f", "json")
            fixed_ip = port["fixed_ips"][0]["ip_address"]
            assert (port["binding_vif_type"], port["binding_host_id"]) == ("tap", server["OS-EXT-SRV-ATTR:host"])
            assert port["binding_vif_details"]["bridge_name"] == f"br-{private['id'][:11]}"
            tap = f"tap{port['id'][:11]}"
            link = sh("ip", "-n", f"{prefix}host", "link", "show", tap).stdout
            assert f"master br-{private['id'][:11]}" in link and " mtu 1450 " in link

            def console(of: str = server_id) -> str:
                return run("console", "log", "show", of, parse=False).stdout

            def boot(count: int, of: str = server_id) -> dict[str, str]:
                eventually(lambda: len(LOGIN.findall(console(of))) >= count, timeout=BOOT_TIMEOUT, interval=2)
                return facts(console(of))

            def status() -> str:
                return run("server", "show", server_id, "-f", "json")["status"]

            seen = boot(1)
            assert seen["nic"] == f"nic name=eth0 mac={port['mac_address']} address={fixed_ip}/24 mtu=1450", seen
            assert seen["gateway"] == f"gateway address={subnet['gateway_ip']} ping=ok", seen
            assert re.search(rf"tiny: eth0: DHCP lease {re.escape(fixed_ip)}/24", console())
            assert seen["metadata"] == f"metadata source=metadata-service uuid={server_id}", seen
            assert f"tiny-facts: ssh-key user=cirros {KEY}" in console()  # through the router's proxy

            # -- the floating IP, as far as the security group allows -----------------------
            fip = run("floating", "ip", "create", "ext", "-f", "json")["floating_ip_address"]
            run("server", "add", "floating", "ip", server_id, fip)
            assert outside.ping(f"172.31.{r}.1")
            assert not outside.reaches(fip, within=3)
            icmp = run("security", "group", "rule", "create", "--protocol", "icmp", "--ingress", "guest-sg",
                       "-f", "json")
            assert outside.reaches(fip)
            assert not outside.connects(fip, 22)
            run("security", "group", "rule", "create", "--protocol", "tcp", "--dst-port", "22", "--ingress",
                "guest-sg", "-f", "json")
            assert eventually(lambda: outside.connects(fip, 22), timeout=30, interval=0.5)
            run("security", "group", "rule", "delete", icmp["id"])
            assert not outside.reaches(fip, within=3)
            assert outside.connects(fip, 22)

            # -- the NIC through what restarts QEMU or resets the guest ---------------------
            run("server", "stop", server_id)
            eventually(lambda: status() == "SHUTOFF", timeout=90, interval=1)
            assert sh("ip", "-n", f"{prefix}host", "link", "show", tap, check=False).returncode != 0  # gone with QEMU
            run("server", "start", server_id)
            eventually(lambda: status() == "ACTIVE", timeout=90, interval=1)
            assert boot(2)["gateway"] == f"gateway address={subnet['gateway_ip']} ping=ok"
            assert eventually(lambda: outside.connects(fip, 22), timeout=60, interval=1)
            run("server", "reboot", "--hard", server_id)
            eventually(lambda: status() == "ACTIVE", timeout=90, interval=1)
            assert boot(3)["nic"].startswith(f"nic name=eth0 mac={port['mac_address']} address={fixed_ip}/24")
            assert eventually(lambda: outside.connects(fip, 22), timeout=60, interval=1)
            run("server", "suspend", server_id)
            eventually(lambda: status() == "SUSPENDED", timeout=120, interval=1)
            assert not outside.connects(fip, 22)
            run("server", "resume", server_id)
            eventually(lambda: status() == "ACTIVE", timeout=120, interval=1)
            assert eventually(lambda: outside.connects(fip, 22), timeout=60, interval=1)  # no new boot
            run("server", "rescue", server_id)
            eventually(lambda: status() == "RESCUE", timeout=120, interval=1)
            assert boot(4)["gateway"] == f"gateway address={subnet['gateway_ip']} ping=ok"
            run("server", "unrescue", server_id)
            eventually(lambda: status() == "ACTIVE", timeout=120, interval=1)
            # Booted to its login before the resize stops it (on a loaded machine a guest
            # still booting was powered off first: its fifth login never came).
            assert boot(5)["gateway"] == f"gateway address={subnet['gateway_ip']} ping=ok"
            run("flavor", "create", "tiny.2", "--vcpus", "2", "--ram", "192", "--disk", "1", "-f", "json")
            run("server", "resize", "--flavor", "tiny.2", "--wait", server_id, timeout=BOOT_TIMEOUT)
            run("server", "resize", "confirm", server_id)
            eventually(lambda: status() == "ACTIVE", timeout=120, interval=1)
            assert boot(6)["nic"].startswith(f"nic name=eth0 mac={port['mac_address']} address={fixed_ip}/24")
            assert eventually(lambda: outside.connects(fip, 22), timeout=60, interval=1)

            # -- a second NIC hot-plugged into the running guest, then taken away ------------
            second = run("network", "create", "second", "-f", "json")
            run("subnet", "create", "--network", "second", "--subnet-range", f"10.{r}.2.0/24", "--gateway", "none",
                "second-subnet", "-f", "json")
            run("server", "add", "network", server_id, "second")
            [extra] = [p for p in run("port", "list", "--device-id", server_id, "--long", "-f", "json")
                       if p["ID"] != port["id"]]
            extra_tap = f"tap{extra['ID'][:11]}"
            link = sh("ip", "-n", f"{prefix}host", "link", "show", extra_tap).stdout
            assert f"master br-{second['id'][:11]}" in link and "LOWER_UP" in link  # carrier: QEMU holds it
            run("server", "reboot", "--hard", server_id)  # the guest configures both NICs at boot
            eventually(lambda: status() == "ACTIVE", timeout=90, interval=1)
            extra_ip = extra["Fixed IP Addresses"][0]["ip_address"]
            assert boot(7)["nic"].startswith(f"nic name=eth1 mac={extra['MAC Address']} address={extra_ip}/24")
            assert eventually(lambda: outside.connects(fip, 22), timeout=60, interval=1)
            run("server", "remove", "port", server_id, extra["ID"])
            assert sh("ip", "-n", f"{prefix}host", "link", "show", extra_tap, check=False).returncode != 0
            assert [p["ID"] for p in run("port", "list", "--device-id", server_id, "-f", "json")] == [port["id"]]
            assert outside.connects(fip, 22)
            dnsmasq = sh("pgrep", "-f", f"{tmp_path}/data/datapath/dhcp/").stdout.split()
            assert dnsmasq
            probe = outside.probe(fip, 22)  # from here on, through two restarts of the agent
        # -- a restart of the cloud (compute and network agent): the running guest keeps its tap
        with running_cloud(tmp_path, "--hypervisor", "qemu", env=env) as cloud:
            assert outside.connects(fip, 22)
            assert f"master br-{private['id'][:11]}" in sh("ip", "-n", f"{prefix}host", "link", "show", tap).stdout
            # -- kill -9 of the process that runs the agent: nothing shuts down, nothing changes
            time.sleep(2)
            cloud.process.kill()
            cloud.process.wait()
            time.sleep(3)
            tries = stop_probe(probe)
            assert len(tries) >= 10 and set(tries) == {"ok"}, tries  # stop, start and kill: never cut off
            assert sh("pgrep", "-f", f"{tmp_path}/data/datapath/dhcp/").stdout.split() == dnsmasq
        # -- a rule deleted by hand while no agent runs: the next one puts it back
        delete_rule(f"{prefix}host", f"sg-{guest_sg['id']}-ingress", "dport 22 accept")
        assert not outside.connects(fip, 22)
        with running_cloud(tmp_path, "--hypervisor", "qemu", env=env) as cloud:
            assert eventually(lambda: outside.connects(fip, 22), timeout=30, interval=0.5)
            assert sh("pgrep", "-f", f"{tmp_path}/data/datapath/dhcp/").stdout.split() == dnsmasq
            cloud.openstack("server", "delete", "--wait", server_id, timeout=120)
            assert sh("ip", "-n", f"{prefix}host", "link", "show", tap, check=False).returncode != 0
            assert not outside.connects(fip, 22)
    finally:
        if probe is not None and probe.poll() is None:
            probe.kill()
        outside.remove()
        left = cleanup(tmp_path / "data", prefix)
        assert not left, f"namespaces left behind: {left}"
