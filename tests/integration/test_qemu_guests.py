"""Real guests through the real ``openstack`` CLI: ``pocketstack up --hypervisor qemu``.

One cloud process (SQLite, the noop network datapath) with the QEMU hypervisor; the tiny
image (tests/tinyimage.py) is uploaded with ``openstack image create``, and a server is
booted from it with a config drive, a key pair, no NIC and a flavor asking for a CPU
topology.  What is asserted comes from the guest itself, on its serial console
(``openstack console log show``): the ``tiny-facts:`` lines (docs/guests.md).  Then the
power operations against the QEMU process: stop ends it, start boots again, kill -9 of
QEMU shows SHUTOFF within the power-state sync interval, delete leaves nothing behind.
Without QEMU, apt or the ISO tools the test skips; on CI (CI=true) it fails.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import time
from pathlib import Path

import pytest
from test_tiny_image import kvm_works

from tinyimage import tiny_image_path

from cloudproc import eventually, running_cloud

BOOT_TIMEOUT = float(os.environ.get("POCKETSTACK_TEST_BOOT_TIMEOUT", "240"))
SYNC_INTERVAL = 3.0
pytestmark = pytest.mark.timeout(int(3 * BOOT_TIMEOUT + 180))
KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHNbE0yIwLOuBnXq0tZm9qOLIF0ALxsDIlCzPOIq8tCW alpha@pocketstack"
LOGIN = re.compile(r"^\S+ login: ", re.M)


def facts(console: str) -> dict[str, str]:
    """``tiny-facts: <topic> ...`` lines by their first word (the last boot's line wins)."""
    found = {}
    for line in console.splitlines():
        if line.startswith("tiny-facts: "):
            body = line[len("tiny-facts: "):].strip()
            found[re.split(r"[ =]", body, maxsplit=1)[0]] = body
    return found


@pytest.fixture(autouse=True)
def _no_guest_outlives_its_test(tmp_path):
    """Guests outlive the cloud process by design (kill -9 of the compute service must not
    take them down), so a test that fails half-way would leave its QEMU running: end every
    guest whose state directory is under the test's own data directory."""
    yield
    for pidfile in tmp_path.glob("**/qemu/*/*/qemu.pid"):
        try:
            pid = int(pidfile.read_text())
            if f"guest={pidfile.parent.name}".encode() in Path(f"/proc/{pid}/cmdline").read_bytes():
                os.kill(pid, signal.SIGKILL)
        except (OSError, ValueError):
            pass


def pid_alive(pid: int) -> bool:
    try:
        return not Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0] == "Z"
    except FileNotFoundError:
        return False


def guest_processes(server_id: str) -> list[int]:
    """Live processes whose command line names the guest (``-name guest=<id>``)."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            argv = Path(f"/proc/{entry}/cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if f"guest={server_id}".encode() in argv and pid_alive(int(entry)):
            found.append(int(entry))
    return found


def test_boot_console_stop_start_kill_delete(tmp_path):
    image = tiny_image_path()  # skips (or fails on CI) without the tools
    env = {"POCKETSTACK_SYNC_POWER_STATE_INTERVAL": str(SYNC_INTERVAL), "POCKETSTACK_SHUTDOWN_TIMEOUT": "30"}
    # As the tiny image's tests: KVM only where it runs a guest with -cpu host (on some
    # nested hosts a KVM guest starts and then crashes), else TCG; POCKETSTACK_TEST_ACCEL forces one.
    env["POCKETSTACK_QEMU_ACCEL"] = os.environ.get("POCKETSTACK_TEST_ACCEL") or ("kvm" if kvm_works() else "tcg")
    with running_cloud(tmp_path, "--hypervisor", "qemu", env=env) as cloud:
        started = time.monotonic()
        hypervisors = cloud.openstack("hypervisor", "list", "-f", "json")
        assert [h["Hypervisor Hostname"] for h in hypervisors] == [socket.gethostname()]
        assert hypervisors[0]["Hypervisor Type"] == "QEMU"

        cloud.openstack("image", "create", "tiny", "--disk-format", "qcow2", "--container-format", "bare",
                        "--file", str(image), "--public", "-f", "json")
        cloud.openstack("flavor", "create", "tiny.2s", "--vcpus", "2", "--ram", "192", "--disk", "1",
                        "--property", "hw:cpu_sockets=2", "--property", "hw:cpu_cores=1",
                        "--property", "hw:cpu_threads=1", "-f", "json")
        key_file = tmp_path / "k.pub"
        key_file.write_text(KEY + "\n")
        cloud.openstack("keypair", "create", "k", "--public-key", str(key_file), "-f", "json")
        server = cloud.openstack("server", "create", "--config-drive", "true", "--key-name", "k", "--nic", "none",
                                 "--flavor", "tiny.2s", "--image", "tiny", "--wait", "vm1", "-f", "json",
                                 timeout=BOOT_TIMEOUT)
        assert server["status"] == "ACTIVE"
        server_id = server["id"]
        guest_dir = cloud.data_dir / "qemu" / socket.gethostname() / server_id

        def console() -> str:
            return cloud.openstack("console", "log", "show", server_id, parse=False).stdout

        def status() -> str:
            return cloud.openstack("server", "show", server_id, "-f", "json")["status"]

        def qemu_pid() -> int:
            return int((guest_dir / "qemu.pid").read_text())

        # The guest as it sees itself: topology and memory of the flavor, hostname, uuid
        # and key from the config drive.
        eventually(lambda: len(LOGIN.findall(console())) >= 1, timeout=BOOT_TIMEOUT, interval=2)
        booted = time.monotonic() - started
        seen = facts(console())
        assert seen["cpus"].startswith("cpus=2 sockets=2 cores=1 threads=1 nproc=2"), seen
        total_kb = int(seen["memory"].split("total_kb=")[1])
        assert 120 * 1024 < total_kb <= 192 * 1024
        assert seen["hostname"] == "hostname=vm1"
        assert seen["metadata"] == f"metadata source=config-drive uuid={server_id}"
        assert f"tiny-facts: ssh-key user=cirros {KEY}" in console()
        pid = qemu_pid()
        assert pid_alive(pid)

        # stop: ACPI power-down, SHUTOFF, the QEMU process gone.
        cloud.openstack("server", "stop", server_id)
        eventually(lambda: status() == "SHUTOFF", timeout=90, interval=1)
        assert not pid_alive(pid)
        assert cloud.openstack("server", "show", server_id, "-f", "json")["OS-EXT-STS:power_state"] == 4  # SHUTDOWN

        # start: a new QEMU and a second boot on the (appended) serial log.
        cloud.openstack("server", "start", server_id)
        eventually(lambda: status() == "ACTIVE", timeout=90, interval=1)
        new_pid = qemu_pid()
        assert new_pid != pid and pid_alive(new_pid)
        eventually(lambda: len(LOGIN.findall(console())) >= 2, timeout=BOOT_TIMEOUT, interval=2)

        # kill -9 of QEMU: the power-state sync finds the guest shut down.
        os.kill(new_pid, signal.SIGKILL)
        killed = time.monotonic()
        eventually(lambda: status() == "SHUTOFF", timeout=SYNC_INTERVAL + 30, interval=0.5)
        print(f"boot to login {booted:.1f}s; SHUTOFF {time.monotonic() - killed:.1f}s after kill -9; "
              f"load {os.getloadavg()[0]:.2f}")

        # delete: no process, no state directory.
        cloud.openstack("server", "delete", "--wait", server_id, timeout=120)
        assert not guest_dir.exists()
        assert not pid_alive(new_pid)
        assert guest_processes(server_id) == []


def test_resize_revert_snapshot_and_boot_from_volume(tmp_path):
    """Same-host resize changes the guest's vCPUs and revert brings them back; a snapshot
    (qcow2, streamed to the Image service) boots into a second server holding a file the
    first one wrote; a server boots from a volume; shelve and unshelve a real guest."""
    image = tiny_image_path()
    env = {"POCKETSTACK_QEMU_ACCEL": os.environ.get("POCKETSTACK_TEST_ACCEL") or ("kvm" if kvm_works() else "tcg"),
           "POCKETSTACK_SHUTDOWN_TIMEOUT": "30"}
    with running_cloud(tmp_path, "--hypervisor", "qemu", env=env) as cloud:
        cloud.openstack("image", "create", "tiny", "--disk-format", "qcow2", "--container-format", "bare",
                        "--file", str(image), "--public", "-f", "json")
        cloud.openstack("flavor", "create", "tiny.1", "--vcpus", "1", "--ram", "192", "--disk", "1", "-f", "json")
        cloud.openstack("flavor", "create", "tiny.2s", "--vcpus", "2", "--ram", "192", "--disk", "1",
                        "--property", "hw:cpu_sockets=2", "-f", "json")
        writer = tmp_path / "writer.sh"
        writer.write_text("#!/bin/sh\necho persisted-$(hostname) > /home/cirros/marker\n")
        server_id = cloud.openstack("server", "create", "--config-drive", "true", "--nic", "none",
                                    "--user-data", str(writer), "--flavor", "tiny.1", "--image", "tiny", "--wait",
                                    "first", "-f", "json", timeout=BOOT_TIMEOUT)["id"]

        def console(server: str) -> str:
            return cloud.openstack("console", "log", "show", server, parse=False).stdout

        def status(server: str) -> str:
            return cloud.openstack("server", "show", server, "-f", "json")["status"]

        def boots(server: str, count: int) -> dict[str, str]:
            eventually(lambda: len(LOGIN.findall(console(server))) >= count, timeout=BOOT_TIMEOUT, interval=2)
            return facts(console(server))

        assert boots(server_id, 1)["cpus"].startswith("cpus=1 sockets=1 cores=1 threads=1")

        cloud.openstack("server", "resize", "--flavor", "tiny.2s", "--wait", server_id, timeout=BOOT_TIMEOUT)
        assert status(server_id) == "VERIFY_RESIZE"
        assert boots(server_id, 2)["cpus"].startswith("cpus=2 sockets=2 cores=1 threads=1")
        cloud.openstack("server", "resize", "revert", server_id)
        eventually(lambda: status(server_id) == "ACTIVE", timeout=90, interval=1)
        assert boots(server_id, 3)["cpus"].startswith("cpus=1 sockets=1 cores=1 threads=1")

        # A stopped guest has written its files out (ACPI power-down: a clean shutdown).
        cloud.openstack("server", "stop", server_id)
        eventually(lambda: status(server_id) == "SHUTOFF", timeout=90, interval=1)
        snapshot = cloud.openstack("server", "image", "create", "--name", "snap", "--wait", server_id, "-f", "json",
                                   timeout=300)
        shown = cloud.openstack("image", "show", snapshot["id"], "-f", "json")
        assert (shown["status"], shown["disk_format"]) == ("active", "qcow2")
        reader = tmp_path / "reader.sh"
        reader.write_text("#!/bin/sh\necho found-$(cat /home/cirros/marker)\n")
        second = cloud.openstack("server", "create", "--config-drive", "true", "--nic", "none", "--user-data",
                                 str(reader), "--flavor", "tiny.1", "--image", "snap", "second", "-f",
                                 "json", timeout=BOOT_TIMEOUT)["id"]
        # Meanwhile a server booted from a 1 GiB volume made from the image: the volume's
        # file is its root disk.
        from_volume = cloud.openstack("server", "create", "--nic", "none", "--flavor", "tiny.1", "--image", "tiny",
                                      "--boot-from-volume", "1", "third", "-f", "json", timeout=BOOT_TIMEOUT)["id"]
        eventually(lambda: status(second) == "ACTIVE" and status(from_volume) == "ACTIVE", timeout=BOOT_TIMEOUT,
                   interval=1)
        assert boots(second, 1)["hostname"] == "hostname=second"
        assert "found-persisted-first" in console(second)
        boots(from_volume, 1)
        assert "tiny-facts: disk name=vda size_bytes=1073741824" in console(from_volume)
        volume_id = cloud.openstack("server", "show", from_volume, "-f", "json")["volumes_attached"][0]["id"]
        assert (cloud.data_dir / "volumes" / f"volume-{volume_id}").exists()

        # Shelve: the stopped guest's disk becomes the image first-shelved, its QEMU and
        # disks go (offloaded at once); unshelve boots a new guest from that image, which
        # is then deleted.
        cloud.openstack("server", "shelve", server_id)
        eventually(lambda: status(server_id) == "SHELVED_OFFLOADED", timeout=300, interval=1)
        assert guest_processes(server_id) == []
        shelved = cloud.openstack("image", "list", "--name", "first-shelved", "-f", "json")
        assert [i["Status"] for i in shelved] == ["active"]
        cloud.openstack("server", "unshelve", server_id)
        eventually(lambda: status(server_id) == "ACTIVE", timeout=BOOT_TIMEOUT, interval=1)
        assert len(guest_processes(server_id)) == 1
        assert boots(server_id, 1)["hostname"] == "hostname=first"
        assert cloud.openstack("image", "list", "--name", "first-shelved", "-f", "json") == []
        for server in (server_id, second, from_volume):
            cloud.openstack("server", "delete", "--wait", server, timeout=120)
            assert guest_processes(server) == []


def test_volume_hot_plug_power_actions_and_compute_restart(tmp_path):
    """A volume made from an image is hot-plugged into a running guest, which sees the disk
    and the data written before the attach, keeps it through suspend/resume and gives it
    back on detach, and across a rebuild; pause, soft and hard reboot and rescue each
    change the guest as the API says; diagnostics are QEMU's; after kill -9 of the cloud
    process the guest keeps running and the restarted cloud manages it again."""
    image = tiny_image_path()
    env = {"POCKETSTACK_QEMU_ACCEL": os.environ.get("POCKETSTACK_TEST_ACCEL") or ("kvm" if kvm_works() else "tcg"),
           "POCKETSTACK_SHUTDOWN_TIMEOUT": "30", "POCKETSTACK_SYNC_POWER_STATE_INTERVAL": str(SYNC_INTERVAL)}
    marker = b"pocketstack-volume-data:" + b"0123456789abcdef" * 2
    data = tmp_path / "marker.raw"
    data.write_bytes(marker + bytes((1 << 20) - len(marker)))
    with running_cloud(tmp_path, "--hypervisor", "qemu", env=env) as cloud:
        cloud.openstack("image", "create", "tiny", "--disk-format", "qcow2", "--container-format", "bare",
                        "--file", str(image), "--public", "-f", "json")
        cloud.openstack("image", "create", "marker", "--disk-format", "raw", "--container-format", "bare",
                        "--file", str(data), "-f", "json")
        cloud.openstack("flavor", "create", "tiny.1", "--vcpus", "1", "--ram", "192", "--disk", "1", "-f", "json")
        volume_id = cloud.openstack("volume", "create", "--image", "marker", "--size", "1", "data", "-f", "json")["id"]
        server_id = cloud.openstack("server", "create", "--config-drive", "true", "--nic", "none", "--flavor",
                                    "tiny.1", "--image", "tiny", "--wait", "vm", "-f", "json",
                                    timeout=BOOT_TIMEOUT)["id"]
        guest_dir = cloud.data_dir / "qemu" / socket.gethostname() / server_id

        def console() -> str:
            return cloud.openstack("console", "log", "show", server_id, parse=False).stdout

        def show() -> dict:
            return cloud.openstack("server", "show", server_id, "-f", "json")

        def volume_status() -> str:
            return cloud.openstack("volume", "show", volume_id, "-f", "json")["status"]

        def boots(count: int) -> None:
            eventually(lambda: len(LOGIN.findall(console())) >= count, timeout=BOOT_TIMEOUT, interval=2)

        def qemu_pid() -> int:
            return int((guest_dir / "qemu.pid").read_text())

        boots(1)
        eventually(lambda: volume_status() == "available", timeout=60, interval=1)
        # Diagnostics come from the host: QEMU's own figures for this guest.
        diagnostics = cloud.openstack("server", "show", "--diagnostics", server_id, "-f", "json")
        assert diagnostics["hypervisor"] in ("qemu", "kvm") and diagnostics["num_cpus"] == 1, diagnostics
        assert diagnostics["uptime"] > 0 and diagnostics["memory_details"]["used"] > 0
        assert diagnostics["cpu_details"][0]["time"] > 0 and diagnostics["num_disks"] == 2  # root + config drive

        # Hot-plug: the running guest sees a new 1 GiB disk starting with the image's bytes.
        cloud.openstack("server", "add", "volume", server_id, volume_id, parse=False)
        eventually(lambda: volume_status() == "in-use", timeout=60, interval=1)
        attached = "tiny-facts: disk-attached name=vdb size_bytes=1073741824 head=pocketstack-volume-data:0123"
        eventually(lambda: attached in console(), timeout=60, interval=1)
        assert [v["id"] for v in show()["volumes_attached"]] == [volume_id]

        # pause: QEMU stops the vCPUs (QMP runstate "paused"), the sync keeps it PAUSED.
        cloud.openstack("server", "pause", server_id)
        eventually(lambda: show()["status"] == "PAUSED", timeout=60, interval=1)
        time.sleep(SYNC_INTERVAL + 1)
        assert (show()["status"], show()["OS-EXT-STS:power_state"]) == ("PAUSED", 3)
        cloud.openstack("server", "unpause", server_id)
        eventually(lambda: show()["status"] == "ACTIVE", timeout=60, interval=1)

        # suspend: the guest's state goes to disk and QEMU ends; resume brings back the same
        # boot (no new login prompt) with the hot-plugged disk still there.
        pid = qemu_pid()
        cloud.openstack("server", "suspend", server_id)
        eventually(lambda: show()["status"] == "SUSPENDED", timeout=120, interval=1)
        assert not pid_alive(pid) and (guest_dir / "suspended.state").exists()
        cloud.openstack("server", "resume", server_id)
        eventually(lambda: show()["status"] == "ACTIVE", timeout=120, interval=1)
        assert pid_alive(qemu_pid()) and qemu_pid() != pid
        assert len(LOGIN.findall(console())) == 1

        # rebuild: a new guest (its serial log starts afresh) on a fresh root disk from the
        # image, the volume still attached.
        cloud.openstack("server", "rebuild", "--image", "tiny", "--wait", server_id, timeout=BOOT_TIMEOUT)
        boots(1)
        assert "tiny-facts: disk name=vdb size_bytes=1073741824" in console()
        cloud.openstack("server", "remove", "volume", server_id, volume_id, parse=False)
        eventually(lambda: volume_status() == "available", timeout=90, interval=1)
        assert "tiny-facts: disk-detached name=vdb" in console()

        # soft reboot: a clean power-down and a new boot; hard reboot: a reset of the same QEMU.
        cloud.openstack("server", "reboot", "--soft", "--wait", server_id, timeout=BOOT_TIMEOUT)
        boots(2)
        pid = qemu_pid()
        cloud.openstack("server", "reboot", "--hard", "--wait", server_id, timeout=BOOT_TIMEOUT)
        boots(3)
        assert qemu_pid() == pid

        # rescue: the guest boots a fresh disk of the image with its own root disk second.
        cloud.openstack("server", "rescue", server_id)
        eventually(lambda: show()["status"] == "RESCUE", timeout=120, interval=1)
        boots(4)
        assert "tiny-facts: disk name=vdb size_bytes=1073741824" in console().rsplit("login: ", 2)[-2]
        cloud.openstack("server", "unrescue", server_id)
        eventually(lambda: show()["status"] == "ACTIVE", timeout=120, interval=1)
        boots(5)
        pid = qemu_pid()
        cloud.process.kill()  # kill -9 of the compute service (the all-in-one process)
        cloud.process.wait()
        assert pid_alive(pid)

    with running_cloud(tmp_path, "--hypervisor", "qemu", env=env) as cloud:
        # The restarted host re-attaches to the running guest instead of booting it again.
        assert show()["status"] == "ACTIVE" and qemu_pid() == pid and pid_alive(pid)
        time.sleep(SYNC_INTERVAL + 1)
        assert show()["status"] == "ACTIVE" and qemu_pid() == pid
        cloud.openstack("server", "stop", server_id)
        eventually(lambda: show()["status"] == "SHUTOFF", timeout=90, interval=1)
        assert not pid_alive(pid)
        cloud.openstack("server", "delete", "--wait", server_id, timeout=120)
        assert guest_processes(server_id) == []
