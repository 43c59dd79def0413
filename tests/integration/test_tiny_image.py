"""The tiny guest image boots under plain QEMU and applies its config drive.

The image comes from ``tests/tinyimage.py`` (built by ``pocketstack image build-tiny``
when the builder or the packages changed, else reused from
``~/.cache/pocketstack-tests/guestimage``), then it is booted
with ``qemu-system-x86_64`` and nothing else: no ``-kernel``, the firmware boots the
disk's MBR.  KVM is used when /dev/kvm works, TCG otherwise (POCKETSTACK_TEST_ACCEL
forces one).  The guest has no network path off the host: ``-nic none``, or user-mode
networking with ``restrict=on`` (DHCP from QEMU itself, nothing routed).  Assertions are
on the serial console log: the ``tiny-facts:`` lines (docs/guests.md) and the login
prompt.  Without QEMU, apt or mtools the tests skip; on CI (CI=true) they fail.
"""

from __future__ import annotations

import functools
import json
import os
import re
import socket
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from pocketstack.compute.drivers.kvm_probe import probe_kvm_cached
from pocketstack.compute.drivers.qemu_guest import KVM_CPU_MODELS, QEMU, kvm_usable
from pocketstack.guestimage import configdrive
from pocketstack.guestimage.build import build_tiny
from tinyimage import cache_root, require_image_tools, tiny_image_path

LOGIN_TIMEOUT = float(os.environ.get("POCKETSTACK_TEST_BOOT_TIMEOUT", "240"))
LOGIN = r"^\S+ login: "
# A TCG boot on a loaded machine can take minutes; each test gets several boots' worth.
pytestmark = pytest.mark.timeout(int(3 * LOGIN_TIMEOUT + 120))
KEY_A = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHNbE0yIwLOuBnXq0tZm9qOLIF0ALxsDIlCzPOIq8tCW alpha@pocketstack"

@functools.cache
def kvm_cpu_model() -> str | None:
    """The CPU model the QEMU driver runs KVM guests with here, or None when its probe
    finds KVM unusable (on nested hosts /dev/kvm may exist and guests still fail).  The
    driver's own per-boot cache of the answer: the test processes and the clouds they
    start probe once between them."""
    if not kvm_usable()[0]:
        return None
    return next((model for model in KVM_CPU_MODELS if probe_kvm_cached(QEMU, model)[0]), None)


def kvm_works() -> bool:
    return kvm_cpu_model() is not None


def accelerator() -> list[str]:
    choice = os.environ.get("POCKETSTACK_TEST_ACCEL") or ("kvm" if kvm_works() else "tcg")
    return ["-accel", "kvm", "-cpu", kvm_cpu_model() or "host"] if choice == "kvm" else ["-accel", "tcg"]


@pytest.fixture(scope="session")
def tiny_image() -> Path:
    return tiny_image_path()


@pytest.fixture(scope="session")
def accel() -> list[str]:
    require_image_tools()
    return accelerator()


class Guest:
    """One ``qemu-system-x86_64`` process and its serial log."""

    def __init__(self, workdir: Path, name: str, argv: list[str]):
        self.serial = workdir / f"{name}.serial.log"
        self.console = workdir / f"{name}.serial.sock"
        self.monitor = workdir / f"{name}.monitor.sock"
        # The serial port is a socket (to type at the login prompt) whose output QEMU
        # also writes to a log file, connected or not.
        self.argv = ["qemu-system-x86_64", *argv, "-display", "none", "-vga", "none",
                     "-chardev", f"socket,id=serial0,path={self.console},server=on,wait=off,logfile={self.serial}",
                     "-serial", "chardev:serial0",
                     "-monitor", f"unix:{self.monitor},server=on,wait=off"]
        self.serial.unlink(missing_ok=True)
        self.started = time.monotonic()
        self.process = subprocess.Popen(self.argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)

    def log(self) -> str:
        if not self.serial.exists():
            return ""
        return self.serial.read_bytes().replace(b"\0", b"").decode("utf-8", "replace").replace("\r", "")

    def wait_for(self, pattern: str, timeout: float = LOGIN_TIMEOUT) -> re.Match:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            match = re.search(pattern, self.log(), re.MULTILINE)
            if match:
                return match
            if self.process.poll() is not None:
                output = self.process.stdout.read().decode() if self.process.stdout else ""
                pytest.fail(f"qemu exited ({self.process.returncode}) before {pattern!r}: {output}\n{self.log()}")
            time.sleep(0.5)
        pytest.fail(f"no {pattern!r} on the serial console within {timeout:.0f}s:\n{self.log()}")

    def facts(self) -> dict[str, str]:
        """``tiny-facts: <topic> k=v ...`` lines by their first word (the last line wins)."""
        found = {}
        for line in self.log().splitlines():
            if line.startswith("tiny-facts: "):
                body = line[len("tiny-facts: "):]
                found[re.split(r"[= ]", body, maxsplit=1)[0]] = body
        return found

    def type(self, text: str, expect: str, timeout: float = 60) -> str:
        """Type ``text`` on the serial console; what the guest printed until ``expect``."""
        seen = len(self.log())
        with socket.socket(socket.AF_UNIX) as console:
            console.connect(str(self.console))
            console.sendall(text.encode())
            deadline = time.monotonic() + timeout
            while time.monotonic() < deadline:
                output = self.log()[seen:]
                if re.search(expect, output, re.MULTILINE):
                    return output
                time.sleep(0.3)
        pytest.fail(f"no {expect!r} after typing {text!r}:\n{self.log()[seen:]}")

    def hmp(self, command: str) -> None:
        with socket.socket(socket.AF_UNIX) as monitor:
            monitor.connect(str(self.monitor))
            monitor.sendall(command.encode() + b"\n")
            time.sleep(0.5)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


@pytest.fixture
def guests(tmp_path):
    started: list[Guest] = []

    def boot(name: str, argv: list[str]) -> Guest:
        guest = Guest(tmp_path, name, argv)
        started.append(guest)
        return guest

    yield boot
    for guest in started:
        guest.stop()


def overlay(base: Path, path: Path) -> Path:
    subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", "-F", "qcow2", "-b", str(base), str(path)], check=True)
    return path


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def keypair(directory: Path) -> tuple[Path, str]:
    private = directory / "id_ed25519"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "beta@pocketstack", "-f", str(private)],
                   check=True)
    return private, private.with_suffix(".pub").read_text().strip()


def ssh(private: Path, port: int, command: str) -> subprocess.CompletedProcess:
    return subprocess.run(["ssh", "-i", str(private), "-p", str(port), "-o", "BatchMode=yes",
                           "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null",
                           "-o", "ConnectTimeout=20", "-o", "LogLevel=ERROR", "cirros@127.0.0.1", command],
                          capture_output=True, text=True, timeout=120)


def meta_data(name: str, key: str, uuid: str) -> dict:
    return {"uuid": uuid, "name": name, "hostname": f"{name}.novalocal", "launch_index": 0,
            "availability_zone": "nova", "project_id": "p", "meta": {},
            "public_keys": {"default": key + "\n"},
            "keys": [{"name": "default", "type": "ssh", "data": key + "\n"}]}


def test_build_is_reproducible(tiny_image, tmp_path):
    """A fresh build from the same packages is the cached image, bit for bit."""
    again = build_tiny(tmp_path / "again.qcow2", "qcow2", 128, cache_root() / "guestimage")
    assert again.path.read_bytes() == tiny_image.read_bytes()


def test_image_is_an_ordinary_qcow2_disk(tiny_image):
    info = subprocess.run(["qemu-img", "info", "--output=json", str(tiny_image)], capture_output=True, text=True,
                          check=True).stdout
    assert '"format": "qcow2"' in info and '"virtual-size": 134217728' in info
    assert '"backing-filename"' not in info and '"data-file"' not in info
    assert tiny_image.stat().st_size < 40 * 1024 * 1024


def test_boots_with_config_drive_then_keeps_its_files_and_powers_off(tiny_image, accel, guests, tmp_path):
    disk = overlay(tiny_image, tmp_path / "root.qcow2")

    # First boot: config drive with hostname, key and a user-data script writing files
    # to the persistent partition; 2 vCPUs as 1 socket x 2 cores, 256 MiB, no NIC.
    drive_a = configdrive.write(tmp_path / "config-a.iso", meta_data("alpha", KEY_A, "a6a4fbf7-0000-4000-8000-1"),
                                b"#!/bin/sh\necho persisted-$(hostname) > /home/cirros/marker\n"
                                b"echo kept-in-tmp > /tmp/kept\n"
                                b"echo user-data-ran-as-$(id -u)\n")
    first = guests("first", [*accel, "-m", "256", "-smp", "2,sockets=1,cores=2,threads=1",
                             "-drive", f"file={disk},if=virtio,format=qcow2",
                             "-drive", f"file={drive_a},media=cdrom,format=raw", "-nic", "none"])
    first.wait_for(LOGIN)
    seconds = time.monotonic() - first.started
    facts = first.facts()
    assert facts["hostname"] == "hostname=alpha"
    assert facts["cpus"].startswith("cpus=2 sockets=1 cores=2 threads=1 nproc=2")
    total_kb = int(facts["memory"].split("total_kb=")[1])
    assert 160 * 1024 < total_kb <= 256 * 1024
    assert facts["metadata"] == "metadata source=config-drive uuid=a6a4fbf7-0000-4000-8000-1"
    assert f"tiny-facts: ssh-key user=cirros {KEY_A}" in first.log()
    assert "tiny-facts: disk name=vda size_bytes=134217728" in first.log()
    assert "user-data-ran-as-0" in first.log()
    assert "login as 'cirros' user. default password: 'gocubsgo'." in first.log()
    print(f"first boot to login: {seconds:.1f}s ({accel[1]}, load {os.getloadavg()[0]:.2f})")
    first.hmp("system_powerdown")  # ACPI power button: the guest shuts down cleanly
    first.wait_for(r"tiny: shutting down", timeout=120)
    first.process.wait(120)

    # Second boot of the same disk: a new config drive (other name and key), user-mode
    # networking restricted to the guest (nothing routed; only a port forwarded from the
    # host's loopback to its SSH server), 1 vCPU; the first boot's files remain.
    # network_data.json gives the NIC a static address (as Nova does for a subnet without
    # DHCP); the guest uses it rather than asking QEMU's DHCP server.
    private, key_b = keypair(tmp_path)
    network_data = {
        "links": [{"id": "tap0", "type": "ovs", "ethernet_mac_address": "52:54:00:12:34:56", "mtu": 1400,
                   "vif_id": "v"}],
        "networks": [{"id": "network0", "type": "ipv4", "link": "tap0", "ip_address": "10.0.2.50",
                      "netmask": "255.255.255.0", "network_id": "n",
                      "routes": [{"network": "0.0.0.0", "netmask": "0.0.0.0", "gateway": "10.0.2.2"}]}],
        "services": [{"type": "dns", "address": "10.0.2.3"}]}
    drive_b = configdrive.write(tmp_path / "config-b.iso", meta_data("beta", key_b, "b6a4fbf7-0000-4000-8000-2"),
                                b"#!/bin/sh\necho found-$(cat /home/cirros/marker)\n"
                                b"echo mtu-$(cat /sys/class/net/eth0/mtu) $(ip route | grep default)\n",
                                network_data)
    port = free_port()
    second = guests("second", [*accel, "-m", "192", "-smp", "1",
                               "-drive", f"file={disk},if=virtio,format=qcow2",
                               "-drive", f"file={drive_b},media=cdrom,format=raw",
                               "-nic", f"user,restrict=on,model=virtio-net-pci,mac=52:54:00:12:34:56,"
                                       f"hostfwd=tcp:127.0.0.1:{port}-10.0.2.50:22"])
    second.wait_for(LOGIN)
    facts = second.facts()
    assert facts["hostname"] == "hostname=beta"
    assert facts["cpus"].startswith("cpus=1 sockets=1 cores=1 threads=1")
    assert "found-persisted-alpha" in second.log()
    assert "tiny-facts: nic name=eth0 mac=52:54:00:12:34:56 address=10.0.2.50/24" in second.log()
    assert "tiny: eth0: static address 10.0.2.50/24 from network_data.json" in second.log()
    assert "mtu-1400 default via 10.0.2.2 dev eth0" in second.log()
    assert f"tiny-facts: ssh-key user=cirros {key_b}" in second.log()
    assert KEY_A not in second.log()  # authorized_keys is rewritten from each boot's metadata
    # dropbear lets the key from the config drive in.
    session = ssh(private, port, "id -un; hostname; cat /home/cirros/marker")
    assert session.returncode == 0, session.stderr
    assert session.stdout.split() == ["cirros", "beta", "persisted-alpha"]

    # What Tempest's scenario tests run in a CirrOS guest, as the cirros user: sudo, /tmp
    # kept across boots (its timestamps), /var/run, lsblk, the config drive by label.
    session = ssh(private, port, "sudo id -u; id -u; cat /tmp/kept; readlink /var/run")
    assert session.stdout.split() == ["0", "1000", "kept-in-tmp", "../run"], session.stderr
    session = ssh(private, port, "lsblk -lb --nodeps")
    header, *lines = session.stdout.splitlines()
    assert header.split() == ["NAME", "MAJ:MIN", "RM", "SIZE", "RO", "TYPE", "MOUNTPOINTS"], session.stdout
    rows = {line.split()[0]: line for line in lines}
    assert rows["vda"].split()[2:] == ["0", "134217728", "0", "disk"] and rows["vda"].index("disk") == header.index(
        "TYPE")  # where Tempest's get_disks looks for it
    assert rows["sr0"].split()[2:] == ["1", str(drive_b.stat().st_size), "1", "rom"]  # the config drive
    # Tempest's shell prologue adds /sbin (blkid's place, as util-linux puts it) to dropbear's PATH.
    session = ssh(private, port, "set -eu -o pipefail; PATH=$PATH:/sbin:/usr/sbin; "
                                 "sudo mount $(blkid -L config-2 -o device) /mnt; "
                                 "sudo cat /mnt/openstack/latest/meta_data.json; sudo umount /mnt")
    assert session.returncode == 0, session.stderr
    assert json.loads(session.stdout)["uuid"] == "b6a4fbf7-0000-4000-8000-2"
    assert ssh(private, port, "sudo -u nobody id").returncode == 1


def test_boots_without_any_metadata(tiny_image, accel, guests, tmp_path):
    guest = guests("bare", [*accel, "-m", "128", "-drive", f"file={tiny_image},snapshot=on,format=qcow2",
                            "-nic", "none"])
    guest.wait_for(LOGIN)
    assert "tiny-facts: hostname=tiny" in guest.log()
    assert "tiny-facts: metadata source=none uuid=" in guest.log()
    assert "tiny-facts: ssh-key" not in guest.log()
    # The cirros-style password works at the serial console's login prompt.
    guest.type("cirros\r", r"Password: ")
    guest.type("gocubsgo\r", r"cirros@tiny:~\$ ")
    assert "uid=1000(cirros)" in guest.type("id\r", r"uid=\d+\(\w+\)")
    assert "null-ok" in guest.type("echo x > /dev/null && echo null-ok\r", r"null-ok\s")

    # A disk hot-plugged while the guest runs (what a volume attach does) is reported with
    # its first bytes; unplugged, it is reported gone.
    volume = tmp_path / "volume.raw"
    with open(volume, "wb") as handle:
        handle.write(b"pocketstack-volume-marker\n")
        handle.truncate(8 * 1024 * 1024)
    guest.hmp(f"drive_add 0 if=none,id=vol1,file={volume},format=raw")
    guest.hmp("device_add virtio-blk-pci,drive=vol1,id=vol1dev")
    attached = guest.wait_for(r"^tiny-facts: disk-attached name=(\w+) size_bytes=(\d+) head=(\S+)", timeout=120)
    assert attached.group(2) == str(8 * 1024 * 1024)
    assert attached.group(3).startswith("pocketstack-volume-marker.")
    guest.hmp("device_del vol1dev")
    guest.wait_for(rf"^tiny-facts: disk-detached name={attached.group(1)}$", timeout=120)


# An inetd-style HTTP responder: QEMU's user-mode networking runs it once per guest
# connection to 169.254.169.254:80 (guestfwd=...-cmd:), the connection on stdin/stdout.
# No socket is opened on the host at all.
RESPONDER = textwrap.dedent("""
    import sys
    from pathlib import Path
    root, log = Path(sys.argv[1]), Path(sys.argv[2])
    request = sys.stdin.buffer.readline().decode().split()
    while sys.stdin.buffer.readline() not in (b"\\r\\n", b"\\n", b""):
        pass
    path = request[1] if len(request) > 1 else "/"
    with log.open("a") as out:
        out.write(path + "\\n")
    target = root / path.lstrip("/")
    if target.resolve().is_relative_to(root.resolve()) and target.is_file():
        body, status = target.read_bytes(), "200 OK"
    else:
        body, status = b"not found", "404 Not Found"
    sys.stdout.buffer.write(f"HTTP/1.0 {status}\\r\\nContent-Length: {len(body)}\\r\\n\\r\\n".encode() + body)
    sys.stdout.buffer.flush()
""")


def test_reads_the_metadata_service_without_a_config_drive(tiny_image, accel, guests, tmp_path):
    root = tmp_path / "metadata"
    private, key = keypair(tmp_path)
    for name, data in configdrive.files(meta_data("gamma", key, "c6a4fbf7-0000-4000-8000-3"),
                                        b"#!/bin/sh\necho user-data-from-metadata-service\n").items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_bytes(data)
    responder, requests = tmp_path / "responder.py", tmp_path / "requests.log"
    responder.write_text(RESPONDER)
    # The guest's network is 169.254.169.0/24 so that 169.254.169.254 is on it; nothing
    # is routed anywhere (restrict=on); port 80 there runs the responder.
    nic = (f"user,restrict=on,model=virtio-net-pci,mac=52:54:00:12:34:56,net=169.254.169.0/24,host=169.254.169.2,"
           f"dhcpstart=169.254.169.15,guestfwd=tcp:169.254.169.254:80-cmd:{sys.executable} {responder} {root} "
           f"{requests}")
    port = free_port()
    guest = guests("service", [*accel, "-m", "128", "-drive", f"file={tiny_image},if=virtio,snapshot=on,format=qcow2",
                               "-nic", f"{nic},hostfwd=tcp:127.0.0.1:{port}-169.254.169.15:22"])
    guest.wait_for(LOGIN)
    assert "tiny-facts: hostname=gamma" in guest.log()
    assert "tiny-facts: metadata source=metadata-service uuid=c6a4fbf7-0000-4000-8000-3" in guest.log()
    assert "tiny-facts: nic name=eth0 mac=52:54:00:12:34:56 address=169.254.169.15/24" in guest.log()
    assert f"tiny-facts: ssh-key user=cirros {key}" in guest.log()
    assert "user-data-from-metadata-service" in guest.log()
    assert requests.read_text().split() == ["/openstack/latest/meta_data.json", "/openstack/latest/user_data"]
    # The cirros user reads it with curl, as Tempest's metadata check does.
    session = ssh(private, port, "curl http://169.254.169.254/openstack/latest/meta_data.json")
    assert json.loads(session.stdout)["uuid"] == "c6a4fbf7-0000-4000-8000-3", session.stderr
    session = ssh(private, port, "curl -fsS http://169.254.169.254/nothing; echo status=$?")
    assert session.stdout == "status=22\n" and "returned error: 404" in session.stderr
    assert ssh(private, port, "curl -X POST -d pw http://169.254.169.254/openstack/2013-10-17/password").returncode == 0
    assert requests.read_text().split()[-3:] == ["/openstack/latest/meta_data.json", "/nothing",
                                                 "/openstack/2013-10-17/password"]
