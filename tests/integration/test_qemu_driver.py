"""The QEMU compute driver against real QEMU processes (KVM when usable, TCG otherwise).

The guest is a 512-byte boot sector that prints a line on the serial port and halts: no
OS, so it answers QMP but ignores ACPI (power-down ends in a kill after the timeout) and
never releases a hot-unplugged disk.  Each test starts its own guests under its own state
directory and destroys them; the module checks no QEMU of its own is left behind.
"""

from __future__ import annotations

import hashlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

import pytest

import pocketstack
from pocketstack.compute import states
from pocketstack.compute.drivers import disks
from pocketstack.compute.drivers.base import GuestNotRunning, GuestSpec, Rescue
from pocketstack.compute.drivers.kvm_probe import probe, probe_kvm
from pocketstack.compute.drivers.qemu import GuestExists, QemuDriver, QemuError, ResizeError, VolumeDetachTimeout

from support import require_tools

# KVM when usable unless POCKETSTACK_TEST_QEMU_ACCEL=tcg (or kvm) says otherwise.
ACCEL = os.environ.get("POCKETSTACK_TEST_QEMU_ACCEL") or None
TOOLS = {"qemu-system-x86_64": "qemu-system-x86", "qemu-img": "qemu-utils"}


@pytest.fixture(autouse=True)
def _qemu_installed() -> None:
    require_tools(TOOLS, "the QEMU driver")


BANNER = b"pocketstack-guest-ok\r\n"
# xor ax,ax; mov ds,ax; mov si,msg; mov dx,0x3f8; next: lodsb; test al,al; jz halt;
# out dx,al; jmp next; halt: hlt; jmp halt; msg: ...
BOOT_CODE = bytes.fromhex("31c08ed8be157cbaf803ac84c07403eeebf8f4ebfd") + BANNER + b"\0"


def boot_sector() -> bytes:
    return BOOT_CODE.ljust(510, b"\0") + b"\x55\xaa"


class Images:
    def __init__(self, root: Path):
        self.root = root
        self.files: dict[str, tuple[Path, str]] = {}

    def add(self, image_id: str, path: Path, fmt: str) -> None:
        self.files[image_id] = (path, fmt)

    def image_meta(self, image_ref: str) -> disks.ImageMeta:
        path, fmt = self.files[image_ref]
        return disks.ImageMeta(image_ref, fmt, hashlib.md5(path.read_bytes()).hexdigest())

    def download(self, image_ref: str, out: BinaryIO) -> None:
        out.write(self.files[image_ref][0].read_bytes())


@pytest.fixture(scope="module")
def images(tmp_path_factory: pytest.TempPathFactory) -> Images:
    require_tools(TOOLS, "the QEMU driver")
    root = tmp_path_factory.mktemp("images")
    raw = root / "boot.raw"
    raw.write_bytes(boot_sector().ljust(1 << 20, b"\0"))
    qcow2 = root / "boot.qcow2"
    subprocess.run(["qemu-img", "convert", "-f", "raw", "-O", "qcow2", str(raw), str(qcow2)], check=True)
    evil = root / "evil.qcow2"
    subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", "-b", "/etc/passwd", "-F", "raw", str(evil), "1M"],
                   check=True)
    store = Images(root)
    store.add("boot", qcow2, "qcow2")
    store.add("evil", evil, "qcow2")
    return store


STARTED: set[int] = set()


@pytest.fixture
def driver(tmp_path: Path, images: Images) -> Iterator[QemuDriver]:
    drv = QemuDriver("qemu-host", tmp_path / "state", images, shutdown_timeout=1.0, detach_timeout=1.0, accel=ACCEL)
    yield drv
    for instance_id in drv.guests():
        pid = drv.pid(instance_id)
        if pid:
            STARTED.add(pid)
        drv.destroy(instance_id)
    drv.close()


@pytest.fixture(scope="module", autouse=True)
def no_qemu_left_behind() -> Iterator[None]:
    yield
    alive = [pid for pid in STARTED if _alive(pid)]
    assert not alive, f"QEMU processes left running: {alive}"


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] not in ("Z", "X")
    except OSError:
        return False


def spec(instance_id: str, **kw: object) -> GuestSpec:
    base = dict(instance_id=instance_id, name=f"vm-{instance_id[:8]}", vcpus=4, memory_mb=64, disk_gb=1,
                image_ref="boot", topology={"sockets": 2, "cores": 2, "threads": 1})
    base.update(kw)
    return GuestSpec(**base)  # type: ignore[arg-type]


def boot(driver: QemuDriver, instance_id: str = "11111111-2222-3333-4444-555555555555", **kw: object) -> str:
    assert driver.spawn(spec(instance_id, **kw)) == states.RUNNING
    STARTED.add(driver.pid(instance_id) or 0)
    return instance_id


def wait_console(driver: QemuDriver, instance_id: str, count: int = 1, timeout: float = 20) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        out = driver.console_output(instance_id)
        if out.count(BANNER.decode().strip()) >= count:
            return out
        time.sleep(0.05)
    raise AssertionError(f"banner x{count} not on the console: {driver.console_output(instance_id)!r}")


def qmp(driver: QemuDriver, instance_id: str, command: str, args: dict | None = None) -> object:
    return driver._qmp_cmd(instance_id, command, args)


def test_spawn_runs_a_guest_with_the_flavor_topology_and_memory(driver: QemuDriver) -> None:
    vm = boot(driver)
    wait_console(driver, vm)
    cpus = qmp(driver, vm, "query-cpus-fast")
    assert isinstance(cpus, list) and len(cpus) == 4
    assert {(c["props"]["socket-id"], c["props"]["core-id"]) for c in cpus} == {(0, 0), (0, 1), (1, 0), (1, 1)}
    assert qmp(driver, vm, "query-memory-size-summary")["base-memory"] == 64 << 20  # type: ignore[index]
    argv = Path(f"/proc/{driver.pid(vm)}/cmdline").read_bytes().split(b"\0")
    assert b"-nic" in argv and argv[argv.index(b"-nic") + 1] == b"none"
    assert driver.accel in ("kvm", "tcg")
    assert argv[argv.index(b"-cpu") + 1].decode() == driver.cpu_model
    assert driver.cpu_model.startswith("host" if driver.accel == "kvm" else "max")
    root = json.loads(subprocess.run(["qemu-img", "info", "-U", "--output=json", str(driver.state_dir / vm / "disk")],
                                     check=True, capture_output=True, text=True).stdout)
    assert root["virtual-size"] == 1 << 30 and root["backing-filename-format"] == "qcow2"


def test_pause_unpause_and_hard_reboot(driver: QemuDriver) -> None:
    vm = boot(driver)
    wait_console(driver, vm)
    assert driver.pause(vm) == states.POWER_PAUSED
    assert qmp(driver, vm, "query-status")["status"] == "paused"  # type: ignore[index]
    assert driver.unpause(vm) == states.RUNNING
    pid = driver.pid(vm)
    assert driver.reboot(vm, hard=True) == states.RUNNING
    assert driver.pid(vm) == pid  # a reset, not a new process
    wait_console(driver, vm, count=2)  # the boot sector ran again


def test_power_off_kills_a_guest_that_ignores_acpi_and_power_on_boots_it(driver: QemuDriver) -> None:
    vm = boot(driver)
    wait_console(driver, vm)
    started = time.monotonic()
    assert driver.power_off(vm) == states.SHUTDOWN
    assert time.monotonic() - started >= driver.shutdown_timeout  # the guest got its chance
    assert driver.pid(vm) is None
    assert driver.power_on(vm) == states.RUNNING
    STARTED.add(driver.pid(vm) or 0)
    wait_console(driver, vm, count=2)
    assert driver.reboot(vm, hard=False) == states.RUNNING  # soft: power-down, then a fresh QEMU
    wait_console(driver, vm, count=3)


def test_kill_9_of_qemu_is_shutdown_and_power_on_recovers(driver: QemuDriver) -> None:
    vm = boot(driver)
    pid = driver.pid(vm)
    assert pid
    os.kill(pid, signal.SIGKILL)
    deadline = time.monotonic() + 10
    while driver.power_state(vm) != states.SHUTDOWN and time.monotonic() < deadline:
        time.sleep(0.05)
    assert driver.power_state(vm) == states.SHUTDOWN
    assert driver.power_on(vm) == states.RUNNING


def test_a_guest_powering_itself_off_is_shutdown(driver: QemuDriver, tmp_path: Path) -> None:
    # mov dx,0x604; mov ax,0x2000; out dx,ax (PIIX4 PM1a_CNT: SLP_EN, S5); hlt; jmp $-1
    poweroff = (bytes.fromhex("ba0406b80020eff4ebfd").ljust(510, b"\0") + b"\x55\xaa").ljust(1 << 20, b"\0")
    volume = tmp_path / "poweroff-volume"
    volume.write_bytes(poweroff)
    vm = "55555555-2222-3333-4444-555555555555"
    driver.spawn(spec(vm, root_volume=str(volume), image_ref=""))
    deadline = time.monotonic() + 30
    while driver.power_state(vm) != states.SHUTDOWN and time.monotonic() < deadline:
        time.sleep(0.1)
    assert driver.power_state(vm) == states.SHUTDOWN  # never a stale RUNNING
    assert driver.pid(vm) is None


def test_suspend_saves_the_guest_to_disk_and_resume_restores_it(driver: QemuDriver) -> None:
    vm = boot(driver)
    wait_console(driver, vm)
    assert driver.suspend(vm) == states.POWER_SUSPENDED
    assert driver.pid(vm) is None
    saved = driver.state_dir / vm / "suspended.state"
    assert saved.stat().st_size > 0
    assert driver.resume(vm) == states.RUNNING
    STARTED.add(driver.pid(vm) or 0)
    assert not saved.exists()
    time.sleep(0.5)
    # Restored, not rebooted: the boot sector did not run (print) a second time.
    assert driver.console_output(vm).count(BANNER.decode().strip()) == 1
    assert driver.pause(vm) == states.POWER_PAUSED


def test_volume_hot_plug_and_detach(driver: QemuDriver, tmp_path: Path) -> None:
    vm = boot(driver)
    volume = tmp_path / "volume-1"
    volume.write_bytes(b"volume data".ljust(1 << 20, b"\0"))
    pci_before = _virtio_blk_count(driver, vm)
    serial = "8de41e9c-5630-4283-bc91-230f43780585"  # a volume id: node names must stay within QEMU's 31
    driver.attach_volume(vm, str(volume), serial)
    block = {b["device"] or b["qdev"]: b for b in qmp(driver, vm, "query-block")}  # type: ignore[union-attr]
    assert any(b.get("inserted", {}).get("file") == str(volume) for b in block.values())
    assert _virtio_blk_count(driver, vm) == pci_before + 1
    # No OS in the guest to acknowledge the PCI eject: the detach times out, named.
    with pytest.raises(VolumeDetachTimeout):
        driver.detach_volume(vm, serial)
    # Stopped, the volume is in the definition (given at the next start); detach then works.
    driver.power_off(vm)
    assert driver.power_on(vm) == states.RUNNING
    assert _virtio_blk_count(driver, vm) == pci_before + 1
    driver.power_off(vm)
    driver.detach_volume(vm, serial)
    driver.power_on(vm)
    assert _virtio_blk_count(driver, vm) == pci_before
    assert not any(b.get("inserted", {}).get("file") == str(volume)
                   for b in qmp(driver, vm, "query-block"))  # type: ignore[union-attr]


def _virtio_blk_count(driver: QemuDriver, vm: str) -> int:
    buses = qmp(driver, vm, "query-pci")
    return sum(1 for bus in buses for dev in bus["devices"]  # type: ignore[union-attr]
               if dev["id"]["vendor"] == 0x1AF4 and dev["id"]["device"] == 0x1001)


def test_snapshot_is_a_standalone_consistent_qcow2(driver: QemuDriver, tmp_path: Path, images: Images) -> None:
    vm = boot(driver, disk_gb=0)  # root disk of the image's own size (1 MiB)
    dest = tmp_path / "snap.qcow2"
    assert driver.snapshot_to(vm, str(dest)) == "qcow2"
    assert driver.power_state(vm) == states.RUNNING  # paused only while copying
    info = json.loads(subprocess.run(["qemu-img", "info", "--output=json", str(dest)], check=True,
                                     capture_output=True, text=True).stdout)
    assert "backing-filename" not in info and info["virtual-size"] == 1 << 20
    disks.inspect_image(dest, "qcow2")  # a snapshot passes the checks its upload will meet
    raw = tmp_path / "snap.raw"
    subprocess.run(["qemu-img", "convert", "-O", "raw", str(dest), str(raw)], check=True)
    assert raw.read_bytes()[:512] == boot_sector()


def test_resize_changes_cpus_memory_and_disk_and_revert_restores_them(driver: QemuDriver) -> None:
    vm = boot(driver, vcpus=2, topology={"sockets": 1, "cores": 2, "threads": 1})
    with pytest.raises(GuestExists):
        driver.spawn(spec(vm))
    bigger = spec(vm, vcpus=4, memory_mb=128, disk_gb=2, topology={"sockets": 1, "cores": 2, "threads": 2})
    assert driver.resize(bigger) == states.RUNNING
    STARTED.add(driver.pid(vm) or 0)
    assert _shape(driver, vm) == (4, {0}, {0, 1}, 128 << 20, 2 << 30)
    assert driver.revert_resize(vm) == states.RUNNING
    assert _shape(driver, vm) == (2, {0}, {0}, 64 << 20, 1 << 30)
    driver.resize(bigger)
    driver.confirm_resize(vm)
    assert not (driver.state_dir / vm / "resize-backup").exists()
    with pytest.raises(ResizeError, match="cannot shrink"):
        driver.resize(spec(vm, disk_gb=1))
    assert _shape(driver, vm) == (4, {0}, {0, 1}, 128 << 20, 2 << 30)


def _shape(driver: QemuDriver, vm: str) -> tuple[int, set[int], set[int], int, int]:
    cpus = qmp(driver, vm, "query-cpus-fast")
    memory = qmp(driver, vm, "query-memory-size-summary")["base-memory"]  # type: ignore[index]
    disk = next(b for b in qmp(driver, vm, "query-block") if b["qdev"].endswith("/root/virtio-backend"))  # type: ignore[union-attr]
    return (len(cpus), {c["props"]["socket-id"] for c in cpus}, {c["props"]["thread-id"] for c in cpus},  # type: ignore[union-attr]
            memory, disk["inserted"]["image"]["virtual-size"])


def test_rescue_boots_a_rescue_disk_with_the_root_disk_second(driver: QemuDriver) -> None:
    vm = boot(driver)
    assert driver.rescue(vm) == states.RUNNING
    STARTED.add(driver.pid(vm) or 0)
    argv = Path(f"/proc/{driver.pid(vm)}/cmdline").read_bytes().decode().split("\0")
    devices = [json.loads(a) for a in argv if a.startswith('{"driver": "virtio-blk-pci"')]
    assert [(d["id"], d.get("bootindex")) for d in devices] == [("rescue", 0), ("root", 1)]
    # The rescue disk sits in the root disk's PCI slot (the guest's vda), the root disk after it.
    rescued = _virtio_blk_slots(driver, vm)
    assert rescued["rescue"] < rescued["root"], rescued
    assert driver.unrescue(vm) == states.RUNNING
    assert _virtio_blk_slots(driver, vm) == {"root": rescued["rescue"]}
    assert not (driver.state_dir / vm / "disk.rescue").exists()
    assert {b["qdev"] for b in qmp(driver, vm, "query-block")} == {"/machine/peripheral/root/virtio-backend"}  # type: ignore[union-attr]


def test_a_stable_device_rescue_adds_the_rescue_device_first_in_the_boot_order(driver: QemuDriver) -> None:
    """hw_rescue_device=cdrom (on ide): the root disk keeps its slot and is second to boot."""
    vm = boot(driver)
    slots = _virtio_blk_slots(driver, vm)
    assert driver.rescue(vm, Rescue(device="cdrom", bus="ide")) == states.RUNNING
    STARTED.add(driver.pid(vm) or 0)
    argv = Path(f"/proc/{driver.pid(vm)}/cmdline").read_bytes().decode().split("\0")
    devices = {d["id"]: d for d in (json.loads(a) for a in argv if a.startswith('{"driver": "'))}
    assert (devices["rescue"]["driver"], devices["rescue"]["bootindex"]) == ("ide-cd", 0)
    assert devices["root"].get("bootindex") == 1 and _virtio_blk_slots(driver, vm) == slots
    assert driver.unrescue(vm) == states.RUNNING
    assert _virtio_blk_slots(driver, vm) == slots
    with pytest.raises(QemuError, match="not a floppy on fdc"):
        driver.rescue(vm, Rescue(device="floppy", bus="fdc"))
    assert driver.power_state(vm) == states.RUNNING


def test_a_new_driver_reattaches_to_running_guests(driver: QemuDriver, images: Images) -> None:
    vm = boot(driver)
    pid = driver.pid(vm)
    driver.close()  # the compute service goes away; the guest does not
    again = QemuDriver("qemu-host", driver.state_dir, images, shutdown_timeout=1.0, accel=ACCEL)
    try:
        assert again.reattached == [vm]
        assert again.pid(vm) == pid
        assert again.power_state(vm) == states.RUNNING
        assert again.pause(vm) == states.POWER_PAUSED
        assert again.unpause(vm) == states.RUNNING
    finally:
        again.destroy(vm)
        again.close()
    assert not _alive(pid or 0)


def test_guests_outlive_a_killed_compute_service_and_are_managed_again(tmp_path: Path, images: Images) -> None:
    volume = tmp_path / "root-volume"
    volume.write_bytes(boot_sector().ljust(1 << 20, b"\0"))
    state, vm = tmp_path / "state", "33333333-2222-3333-4444-555555555555"
    code = (f"import time\nfrom pocketstack.compute.drivers.qemu import QemuDriver\n"
            f"from pocketstack.compute.drivers.base import GuestSpec\n"
            f"d = QemuDriver('qemu-host', {str(state)!r}, None, accel={ACCEL!r})\n"
            f"d.spawn(GuestSpec({vm!r}, 'vm', 1, 64, 0, '', {{'sockets': 1, 'cores': 1, 'threads': 1}}, "
            f"root_volume={str(volume)!r}))\nprint('up', flush=True)\ntime.sleep(300)\n")
    env = dict(os.environ, PYTHONPATH=str(Path(pocketstack.__file__).parents[1]))
    service = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, env=env, text=True)
    try:
        assert service.stdout is not None and service.stdout.readline() == "up\n"
    finally:
        service.kill()  # kill -9 of the compute service
        service.wait()
    again = QemuDriver("qemu-host", state, images, shutdown_timeout=1.0, accel=ACCEL)
    pid = again.pid(vm)
    try:
        assert pid and again.reattached == [vm]
        STARTED.add(pid)
        wait_console(again, vm)
        assert again.power_state(vm) == states.RUNNING
        assert again.reboot(vm, hard=True) == states.RUNNING
        wait_console(again, vm, count=2)
    finally:
        again.destroy(vm)
        again.close()
    assert not _alive(pid or 0)


def test_base_images_in_use_are_kept_and_unused_ones_pruned(driver: QemuDriver) -> None:
    vm = boot(driver)
    base = driver._definition(vm).disks[0].base
    assert base and Path(base).exists()
    assert driver.prune_base_images(min_age=0) == []
    driver.destroy(vm)
    assert driver.prune_base_images(min_age=0) == [Path(base)]


def test_destroy_removes_the_guest(driver: QemuDriver) -> None:
    vm = boot(driver)
    pid = driver.pid(vm)
    driver.destroy(vm)
    assert not _alive(pid or 0)
    assert not (driver.state_dir / vm).exists()
    assert driver.power_state(vm) == states.NOSTATE
    driver.destroy(vm)  # again: nothing to do


def test_unsafe_image_is_refused_before_qemu_starts(driver: QemuDriver) -> None:
    with pytest.raises(disks.ImageBackingFile):
        driver.spawn(spec("22222222-2222-3333-4444-555555555555", image_ref="evil"))
    assert driver.pid("22222222-2222-3333-4444-555555555555") is None
    assert driver.guests() == []  # nothing half-made left: the spawn can be retried


def test_a_failed_start_leaves_nothing_behind(driver: QemuDriver) -> None:
    vm = "44444444-2222-3333-4444-555555555555"
    with pytest.raises(QemuError, match="did not start: .*memory"):
        driver.spawn(spec(vm, memory_mb=1 << 40))  # no host has a PiB of RAM for it
    assert driver.guests() == [] and not (driver.state_dir / vm).exists()


def test_boot_from_a_volume_file(driver: QemuDriver, tmp_path: Path) -> None:
    volume = tmp_path / "root-volume"
    volume.write_bytes(boot_sector().ljust(1 << 20, b"\0"))
    vm = boot(driver, root_volume=str(volume), root_volume_serial="rootvol", image_ref="")
    wait_console(driver, vm)
    assert not (driver.state_dir / vm / "disk").exists()


def test_diagnostics_of_a_running_guest(driver: QemuDriver) -> None:
    vm = boot(driver, vcpus=2, topology={"sockets": 1, "cores": 2, "threads": 1})
    wait_console(driver, vm)  # the boot read its disk
    diag = driver.diagnostics(vm)
    assert [c["id"] for c in diag["cpu_details"]] == [0, 1] and diag["num_cpus"] == 2
    assert diag["cpu_details"][0]["time"] > 0  # vCPU 0 ran the firmware
    assert diag["memory_details"]["maximum"] == 64 and diag["memory_details"]["used"] > 0
    assert diag["num_disks"] == 1 and diag["disk_details"][0]["read_bytes"] >= 512
    driver.power_off(vm)
    assert driver.diagnostics(vm)["cpu_details"][1]["time"] == 0


def test_vnc_display_on_loopback_tcp_and_none_when_stopped(driver: QemuDriver) -> None:
    vm = boot(driver)
    host, port = driver.vnc_address(vm)
    assert host == "127.0.0.1" and 5900 <= port < 6000
    with socket.create_connection((host, port), timeout=10) as conn:
        assert conn.recv(12) == b"RFB 003.008\n"  # no password: the proxy's token is the lock
    driver.power_off(vm)
    with pytest.raises(GuestNotRunning):
        driver.vnc_address(vm)


def test_config_drive_is_a_read_only_cdrom(driver: QemuDriver, tmp_path: Path) -> None:
    iso = tmp_path / "config.iso"
    iso.write_bytes(b"config-2 stand-in".ljust(64 << 10, b"\0"))
    vm = boot(driver, config_drive=str(iso))
    block = {b["qdev"]: b for b in qmp(driver, vm, "query-block")}  # type: ignore[union-attr]
    cdrom = block["config"]  # an IDE device: query-block names it by its id
    assert cdrom["removable"] and cdrom["inserted"]["ro"]
    assert cdrom["inserted"]["file"] == str(driver.state_dir / vm / "disk.config")
    assert (driver.state_dir / vm / "disk.config").read_bytes() == iso.read_bytes()


def test_resources_are_the_hosts_own(driver: QemuDriver) -> None:
    res = driver.resources()
    assert res.vcpus == len(os.sched_getaffinity(0))
    assert res.hypervisor_type == "QEMU" and res.hypervisor_version >= 7_000_000
    assert res.memory_mb > 0 and res.disk_gb > 0


def test_the_kvm_probe_runs_a_mode_switching_guest() -> None:
    """The probe sector really switches modes and prints its marker (under TCG, which runs
    everywhere); under KVM the probe says yes only when that same guest runs, else why not
    (on a nested host whose KVM cannot emulate the switch: "KVM internal error")."""
    assert probe("qemu-system-x86_64", "tcg", "max") == (True, "a boot sector ran under TCG")
    started = time.monotonic()
    ok, detail = probe_kvm("qemu-system-x86_64", "host,-arch-capabilities")
    assert ok or detail, "a refused KVM comes with a reason"
    assert time.monotonic() - started < 20
    if not os.access("/dev/kvm", os.R_OK | os.W_OK):
        assert not ok


def _virtio_blk_slots(driver: QemuDriver, vm: str) -> dict[str, int]:
    """The guest's virtio-blk devices by QEMU id, with their PCI slots (query-pci)."""
    buses = qmp(driver, vm, "query-pci")
    return {dev["qdev_id"]: dev["slot"] for bus in buses for dev in bus["devices"]  # type: ignore[union-attr]
            if dev["id"]["vendor"] == 0x1AF4 and dev["id"]["device"] == 0x1001}


def test_hot_plugged_disks_keep_their_pci_slots_through_suspend_and_resume(driver: QemuDriver,
                                                                           tmp_path: Path) -> None:
    """A disk hot-plugged into a hole of the PCI bus (left by a detach) sits in a slot a
    command line listing the disks in order would not give it; each device's slot is fixed
    in the definition, so the guest resumed from a suspend finds its devices where they
    were (without that QEMU refuses the saved state)."""
    vm = boot(driver)
    wait_console(driver, vm)
    volumes = {}
    for name in ("a", "b", "c"):
        volumes[name] = tmp_path / f"volume-{name}"
        volumes[name].write_bytes(bytes(1 << 20))
    serials = {name: f"{name * 8}-0000-4000-8000-000000000000" for name in volumes}
    driver.attach_volume(vm, str(volumes["a"]), serials["a"])
    driver.attach_volume(vm, str(volumes["b"]), serials["b"])
    driver.power_off(vm)
    driver.detach_volume(vm, serials["a"])  # stopped: leaves a hole below b's slot
    assert driver.power_on(vm) == states.RUNNING
    STARTED.add(driver.pid(vm) or 0)
    driver.attach_volume(vm, str(volumes["c"]), serials["c"])
    before = _virtio_blk_slots(driver, vm)
    node = {name: driver_node(serial) for name, serial in serials.items()}
    assert before[node["c"]] < before[node["b"]], before  # c took the hole
    assert driver.suspend(vm) == states.POWER_SUSPENDED
    assert driver.resume(vm) == states.RUNNING
    STARTED.add(driver.pid(vm) or 0)
    assert _virtio_blk_slots(driver, vm) == before
    driver.destroy(vm)


def driver_node(serial: str) -> str:
    from pocketstack.compute.drivers.qemu_guest import volume_node

    return volume_node(serial)
