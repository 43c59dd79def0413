"""What a QEMU guest is, apart from the driver that runs it: its definition (guest.json),
the pieces of its command line, what QEMU and KVM on this host can do, and what /proc and
QMP say about a running guest (diagnostics)."""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import re
import subprocess
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

from pocketstack.compute import states

QEMU = "qemu-system-x86_64"
KVM_GET_API_VERSION = 0xAE00
KVM_API_VERSION = 12
#: CPU models tried under KVM, best first (see QemuDriver._choose_accel)
KVM_CPU_MODELS = ("host", "host,-arch-capabilities")
VNC_DISPLAYS = 100  # a guest's VNC display is one of :0 to :99, TCP ports 5900-5999


def kvm_usable() -> tuple[bool, str]:
    """Whether KVM can be used, and why not."""
    try:
        fd = os.open("/dev/kvm", os.O_RDWR | os.O_CLOEXEC)
    except OSError as exc:
        return False, f"/dev/kvm: {exc.strerror}"
    try:
        version = fcntl.ioctl(fd, KVM_GET_API_VERSION)
    except OSError as exc:
        return False, f"KVM_GET_API_VERSION: {exc.strerror}"
    finally:
        os.close(fd)
    if version != KVM_API_VERSION:
        return False, f"KVM API version {version}, expected {KVM_API_VERSION}"
    return True, "KVM API version 12"


def qemu_version(binary: str = QEMU) -> int:
    """Nova's hypervisor_version integer: major*1000000 + minor*1000 + micro."""
    out = subprocess.run([binary, "--version"], capture_output=True, text=True, check=True).stdout
    match = re.search(r"version (\d+)\.(\d+)\.(\d+)", out)
    if not match:
        raise RuntimeError(f"cannot read the version of {binary}: {out[:80]!r}")
    major, minor, micro = (int(x) for x in match.groups())
    return major * 1_000_000 + minor * 1000 + micro


# query-status "status" -> Nova power state
RUN_STATES = {
    "running": states.RUNNING, "paused": states.POWER_PAUSED, "prelaunch": states.POWER_PAUSED,
    "inmigrate": states.POWER_PAUSED, "finish-migrate": states.POWER_PAUSED, "save-vm": states.POWER_PAUSED,
    "restore-vm": states.POWER_PAUSED, "debug": states.POWER_PAUSED, "colo": states.POWER_PAUSED,
    "postmigrate": states.POWER_SUSPENDED, "suspended": states.POWER_SUSPENDED,
    "shutdown": states.SHUTDOWN, "guest-panicked": states.CRASHED, "internal-error": states.CRASHED,
    "io-error": states.CRASHED, "watchdog": states.CRASHED,
}


# PCI slots of the pc machine's bus: 0 the host bridge, 1 the PIIX3 (IDE, the config
# drive's CD-ROM), 2 the VGA card; 3-31 for the guest's virtio disks and NICs.
FIRST_PCI_SLOT, LAST_PCI_SLOT = 3, 31


class NoPciSlot(Exception):
    """All 29 slots of the guest's PCI bus are taken."""


def pci_addr(slot: int) -> str:
    """QEMU's ``addr`` property of a device in ``slot`` (function 0)."""
    return f"{slot:x}"


@dataclass
class DiskDef:
    name: str  # node name and device id: root, eph0, swap, rescue, vol-<serial>
    path: str
    format: str  # raw | qcow2
    serial: str | None = None
    bootindex: int | None = None
    base: str | None = None  # the cached base image an overlay is backed by
    # disk (virtio-blk) | cdrom (IDE, read-only: the config drive, as Nova attaches it, or a
    # rescue CD) | ide-disk (an IDE hard disk: a rescue disk on hw_rescue_bus=ide)
    kind: str = "disk"
    pci_slot: int | None = None  # fixed for the disk's life (GuestDef.assign_pci_slots)
    shared: bool = False  # a multiattach volume: other guests write it too (share-rw, no exclusive lock)


@dataclass
class GuestDef:
    """Everything needed to (re)start a guest; saved as guest.json."""

    instance_id: str
    name: str
    vcpus: int
    memory_mb: int
    topology: dict
    image_ref: str
    disks: list[DiskDef] = field(default_factory=list)
    volumes: list[DiskDef] = field(default_factory=list)
    nics: list[dict] = field(default_factory=list)
    rescue: bool = False
    stable_rescue: bool = False  # the rescue disk added, not in the root disk's place

    @classmethod
    def load(cls, path: Path) -> GuestDef:
        data = json.loads(path.read_text())
        data["disks"] = [DiskDef(**d) for d in data.get("disks", [])]
        data["volumes"] = [DiskDef(**d) for d in data.get("volumes", [])]
        return cls(**data)

    def assign_pci_slots(self) -> None:
        """Give every virtio disk and NIC that has none the lowest free PCI slot, kept in
        guest.json for the device's life.  A hot-plugged device takes whatever slot QEMU
        finds free, which a command line listing devices in another order would not give
        it again; a suspended guest resumed with its devices elsewhere on the bus fails to
        load its state (and a guest's own names for its NICs follow the slots).  So every
        device is placed explicitly, on the command line and in ``device_add`` alike."""
        disks = [d for d in self.disks + self.volumes if d.kind == "disk"]
        used = {d.pci_slot for d in disks} | {n.get("pci_slot") for n in self.nics}
        free = (slot for slot in range(FIRST_PCI_SLOT, LAST_PCI_SLOT + 1) if slot not in used)
        try:
            for disk in disks:
                if disk.pci_slot is None:
                    disk.pci_slot = next(free)
            for nic in self.nics:
                if nic.get("pci_slot") is None:
                    nic["pci_slot"] = next(free)
        except StopIteration:
            raise NoPciSlot(f"guest {self.instance_id} has no free PCI slot for another device") from None

    def save(self, path: Path) -> None:
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(asdict(self), indent=1))
        tmp.replace(path)


def proc_stat(path: str) -> list[str]:
    """The fields of a /proc stat file after the command name (field 3 onwards), or []."""
    try:
        with open(path) as f:
            return f.read().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return []


def disk_args(disk: DiskDef, bootindex: int | None) -> list[str]:
    blockdev: dict[str, Any] = {"node-name": disk.name, "driver": disk.format,
                                "file": {"driver": "file", "filename": disk.path, "node-name": f"{disk.name}-file"}}
    if disk.kind in ("cdrom", "ide-disk"):
        ide: dict[str, Any] = {"driver": "ide-hd", "drive": disk.name, "id": disk.name, "bus": "ide.0"}
        if disk.kind == "cdrom":
            blockdev["read-only"] = blockdev["file"]["read-only"] = True
            ide.update(driver="ide-cd", bus="ide.1")
        if bootindex is not None:
            ide["bootindex"] = bootindex
        return ["-blockdev", json.dumps(blockdev), "-device", json.dumps(ide)]
    device: dict[str, Any] = {"driver": "virtio-blk-pci", "drive": disk.name, "id": disk.name}
    if disk.pci_slot is not None:
        device["addr"] = pci_addr(disk.pci_slot)
    if disk.serial:
        device["serial"] = disk.serial[:20]
    if bootindex is not None:
        device["bootindex"] = bootindex
    if disk.shared:
        device["share-rw"] = True
    return ["-blockdev", json.dumps(blockdev), "-device", json.dumps(device)]


def volume_node(serial: str) -> str:
    """The QEMU node and device name of the volume ``serial`` (a volume id): QEMU limits
    node names to 31 characters, and the file node below it is ``<name>-file``; 20 hex
    digits of a UUID keep names unique among one guest's disks."""
    return "vol-" + re.sub(r"[^A-Za-z0-9]", "", serial)[:20]


def is_uuid(value: str) -> bool:
    return re.fullmatch(r"[0-9a-f]{8}-([0-9a-f]{4}-){3}[0-9a-f]{12}", value.lower()) is not None


def running_pid(pidfile: Path, binary: str, instance_id: str) -> int | None:
    """The pid in ``pidfile`` if that process runs and is ``binary`` started for
    ``instance_id`` (``-name guest=<id>``); None for a stale pidfile or a zombie."""
    try:
        pid = int(pidfile.read_text().strip())
        if proc_stat(f"/proc/{pid}/stat")[:1] in (["Z"], ["X"], []):
            return None
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except (OSError, ValueError):
        return None
    if Path(cmdline[0].decode(errors="replace")).name != Path(binary).name:
        return None
    return pid if f"guest={instance_id}".encode() in cmdline else None


def running_guests(state_dir: Path, binary: str = QEMU) -> dict[str, int]:
    """The guests of a host's state directory whose QEMU runs, with its pid: read from the
    pidfiles and checked in /proc, no QMP and no driver (the instance-HA probe and the
    ``qemu-host`` fence driver use it from any process of the machine)."""
    if not state_dir.is_dir():
        return {}
    found = {}
    for entry in sorted(state_dir.iterdir()):
        pid = running_pid(entry / "qemu.pid", binary, entry.name) if (entry / "guest.json").exists() else None
        if pid is not None:
            found[entry.name] = pid
    return found


def exiting(pidfile: Path) -> bool:
    """Whether the process of ``pidfile`` is a zombie main thread with threads still running
    (a QEMU being killed: the last thread still holds its files, the disk locks among them)."""
    try:
        pid = int(pidfile.read_text().strip())
        if proc_stat(f"/proc/{pid}/stat")[:1] != ["Z"]:
            return False
        return any(proc_stat(f"/proc/{pid}/task/{tid}/stat")[:1] not in (["Z"], ["X"], [])
                   for tid in os.listdir(f"/proc/{pid}/task"))
    except (OSError, ValueError):
        return False


def command_line(guest: GuestDef, binary: str, accel: str, cpu_model: str, nic_args: list[str],
                 incoming: str | None = None, vnc_listen: str = "127.0.0.1") -> list[str]:
    """The QEMU command line of ``guest``, run from its state directory (the relative paths);
    ``incoming``: QEMU's ``-incoming`` URI, where the guest's state comes from (a saved
    state through ``exec:``, or ``defer`` for a live migration's destination), the guest
    started paused (``-S``) in either case; the VNC display listens
    on ``vnc_listen``, on the first free port from 5900 (see :func:`vnc_display`)."""
    topo = guest.topology or {}
    sockets, cores, threads = (int(topo.get(k) or 1) for k in ("sockets", "cores", "threads"))
    if sockets * cores * threads != guest.vcpus:
        sockets, cores, threads = guest.vcpus, 1, 1
    argv = [binary, "-name", f"guest={guest.instance_id}", "-machine", f"pc,accel={accel}",
            "-cpu", cpu_model,
            "-smp", f"{guest.vcpus},sockets={sockets},cores={cores},threads={threads}",
            "-m", str(guest.memory_mb),
            "-nodefaults", "-no-user-config", "-display", "none", "-vga", "std", "-vnc", vnc_display(vnc_listen),
            "-qmp", "unix:qmp.sock,server=on,wait=off",
            "-chardev", "socket,id=serial0,path=serial.sock,server=on,wait=off,logfile=console.log,logappend=on",
            "-serial", "chardev:serial0", "-pidfile", "qemu.pid", "-daemonize"]
    rescue = [d for d in guest.disks if d.name == "rescue"] if guest.rescue else []
    own = [d for d in guest.disks if d.name != "rescue"] + guest.volumes
    if not rescue:
        ordered, boot_order = own, ["root"]
    elif guest.stable_rescue:  # every disk where it was, the rescue device added
        ordered, boot_order = own + rescue, ["rescue", "root"]
    else:
        ordered, boot_order = _rescue_first(rescue + own), ["rescue", "root"]
    if is_uuid(guest.instance_id):
        argv += ["-uuid", guest.instance_id]
    for disk in ordered:
        argv += disk_args(disk, bootindex=boot_order.index(disk.name) if disk.name in boot_order else None)
    argv += nic_args
    if incoming is not None:
        argv += ["-S", "-incoming", incoming]
    return argv


def _rescue_first(disks: list[DiskDef]) -> list[DiskDef]:
    """A rescued guest's disks with the rescue disk in the root disk's PCI slot and the root
    disk in the rescue disk's: the guest's first disk (vda) is the rescue system and its
    own root disk the second (vdb), as Nova rescues, while every other device keeps its
    slot.  No device is hot-plugged into, nor suspended with, a rescued guest."""
    by_name = {d.name: d for d in disks}
    rescue, root = by_name.get("rescue"), by_name.get("root")
    if rescue is None or root is None:
        return disks
    swapped = {"rescue": replace(rescue, pci_slot=root.pci_slot), "root": replace(root, pci_slot=rescue.pci_slot)}
    return [swapped.get(d.name, d) for d in disks]


def vnc_display(listen: str) -> str:
    """QEMU's ``-vnc`` for a display on ``listen`` at the first free port of 5900-5999
    (``to=``: QEMU binds it itself, so two guests starting at once never race for one), no
    password: the noVNC proxy's token is the lock, the listen address the fence."""
    host = f"[{listen}]" if ":" in listen else listen
    return f"{host}:0,to={VNC_DISPLAYS - 1}"


def vnc_address(info: dict) -> tuple[str, int] | None:
    """(host, port) of QMP's ``query-vnc`` answer; None without a TCP display (a guest
    started with the unix-socket display of earlier versions, until its next start)."""
    if not info.get("enabled") or info.get("family") not in ("ipv4", "ipv6"):
        return None
    return info["host"], int(info["service"])


def diagnostics(guest: GuestDef, pid: int | None, qmp: Callable[[str], Any]) -> dict:
    """Nova's 2.48 diagnostics of a guest whose QEMU is ``pid`` (None: not running):
    per-vCPU time (the vCPU threads QEMU names in query-cpus-fast), memory (RSS of QEMU),
    per-disk I/O (query-blockstats); ``qmp`` runs a QMP command on it."""
    base = {"uptime": 0, "num_cpus": guest.vcpus, "num_disks": len(guest.disks) + len(guest.volumes),
            "num_nics": len(guest.nics), "nic_details": [],
            "memory_details": {"maximum": guest.memory_mb, "used": 0},
            "cpu_details": [{"id": i, "time": 0, "utilisation": None} for i in range(guest.vcpus)],
            "disk_details": []}
    if pid is None:
        return base
    tick = os.sysconf("SC_CLK_TCK")
    cpus = []
    for cpu in qmp("query-cpus-fast"):
        ticks = proc_stat(f"/proc/{pid}/task/{cpu['thread-id']}/stat")
        cpus.append({"id": cpu["cpu-index"], "utilisation": None,
                     "time": (int(ticks[11]) + int(ticks[12])) * 1_000_000_000 // tick if ticks else 0})
    disks_out = []
    for dev in qmp("query-blockstats"):
        st_ = dev.get("stats") or {}
        disks_out.append({"read_bytes": st_.get("rd_bytes", 0), "read_requests": st_.get("rd_operations", 0),
                          "write_bytes": st_.get("wr_bytes", 0), "write_requests": st_.get("wr_operations", 0),
                          "errors_count": st_.get("failed_rd_operations", 0)
                          + st_.get("failed_wr_operations", 0)})
    stat = proc_stat(f"/proc/{pid}/stat")
    with open("/proc/uptime") as f:
        host_uptime = float(f.read().split()[0])
    rss_kb = 0
    with contextlib.suppress(OSError), open(f"/proc/{pid}/status") as f:
        rss_kb = next((int(line.split()[1]) for line in f if line.startswith("VmRSS:")), 0)
    return base | {"uptime": int(host_uptime - int(stat[19]) / tick) if stat else 0,
                   "cpu_details": sorted(cpus, key=lambda c: c["id"]), "disk_details": disks_out,
                   "memory_details": {"maximum": guest.memory_mb, "used": rss_kb >> 10}}
