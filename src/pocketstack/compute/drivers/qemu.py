"""Real guests: one ``qemu-system-x86_64`` per server, driven over QMP.

State of a guest, all under ``<state>/<instance_id>/``::

    guest.json        the definition: CPU, memory, disks, volumes, NICs, rescue (the
                      "domain XML"); every start builds the command line from it
    qemu.pid          pidfile QEMU writes; with the command line in /proc it identifies
                      the process on re-attach
    qmp.sock          the QMP control socket
    serial.sock       the serial console (interactive), logged to console.log
    console.log       everything the guest wrote to its serial port (console output)
    (VNC)             the display, on TCP at the host's ``vnc_listen`` address, port 5900 +
                      the first display free when QEMU starts (``query-vnc`` tells which)
    qemu.log          QEMU's own stderr
    disk              root disk: qcow2 overlay on a cached base image
    disk.eph0, disk.swap, disk.rescue    ephemeral, swap and rescue disks
    disk.config       the config drive (an ISO 9660 ``config-2``), an IDE CD-ROM
    suspended.state   the saved RAM and device state of a suspended guest

QEMU is started with ``-daemonize``: it runs in its own session, re-parented away from the
compute service, so guests keep running when the service stops or crashes; a new driver
on the same state directory re-attaches to them (pidfile + ``/proc/<pid>/cmdline``, then
QMP).  KVM is used when ``/dev/kvm`` answers ``KVM_GET_API_VERSION``, TCG otherwise.
A guest's NICs (``GuestDef.nics``, from the ports bound to it) come from the host's NIC
backend (:class:`NicBackend`: on the linux datapath :class:`~.vifs.TapPlugger`, a tap
per port passed to QEMU as a descriptor at every start); without NICs, ``-nic none``.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import shlex
import shutil
import signal
import subprocess
import tempfile
import threading
import time
from pathlib import Path
from typing import Any, Protocol

from pocketstack.compute import states
from pocketstack.compute.drivers import disks, qemu_guest, qemu_moves, vifs
from pocketstack.compute.drivers.base import (
    Driver,
    GuestAgentMissing,
    GuestNotRunning,
    GuestSpec,
    HostResources,
    MoveControl,
    Rescue,
)
from pocketstack.compute.drivers.kvm_probe import probe_kvm_cached
from pocketstack.compute.drivers.qemu_guest import KVM_CPU_MODELS, QEMU, DiskDef, GuestDef, kvm_usable, qemu_version
from pocketstack.compute.drivers.qmp import QmpError, QmpLoop

log = logging.getLogger(__name__)

LOG_ROTATE_BYTES = 8 << 20
CONSOLE_TAIL = 1 << 20  # console_output returns at most the last MiB of the serial log


class QemuError(Exception):
    """A guest operation failed (the message says which and why)."""


# How a rescue image's (hw_rescue_device, hw_rescue_bus) is attached: the devices this
# driver's machine (QEMU's ``pc``) has a bus for; the defaults are Nova's on x86.
RESCUE_DEVICES = {("disk", "virtio"): "disk", ("disk", "ide"): "ide-disk", ("cdrom", "ide"): "cdrom"}


def rescue_kind(rescue: Rescue) -> str:
    device = rescue.device or "disk"
    bus = rescue.bus or ("ide" if device == "cdrom" else "virtio")
    kind = RESCUE_DEVICES.get((device, bus))
    if kind is None:
        raise QemuError(f"this QEMU host attaches a rescue disk on the virtio or ide bus or a rescue cdrom on ide, "
                        f"not a {device} on {bus} (the rescue image's hw_rescue_device and hw_rescue_bus)")
    return kind


class GuestNotFound(QemuError):
    pass


class GuestExists(QemuError):
    """spawn() of a guest this host already has (a resize or rebuild goes through its own method)."""


class ResizeError(QemuError):
    """The resize cannot be done (Nova's ResizeError), e.g. a root disk shrink."""


class AssistedSnapshotUnsupported(RuntimeError):
    """A remotefs assisted snapshot asked of a driver whose volumes have no overlay chain."""


class VolumeDetachTimeout(QemuError):
    """The guest did not release a hot-unplugged disk (Nova's DeviceDetachFailed)."""


class NicBackend(Protocol):
    def plug(self, guest: GuestDef) -> tuple[list[str], list[int]]:
        """The ``-netdev``/``-device`` arguments of the guest's NICs and the descriptors
        to pass to QEMU (closed by the caller once QEMU runs)."""

    def open(self, entry: dict) -> int:
        """One NIC's backend, plugged: the descriptor to hand to a running QEMU."""

    def unplug(self, nics: list[dict]) -> None: ...


class QemuDriver(Driver):
    """A compute host's hypervisor: QEMU processes it starts and finds again."""

    def __init__(self, host: str, state_dir: str | Path, images: disks.ImageStore | None = None, *,
                 cache_dir: str | Path | None = None, accel: str | None = None, shutdown_timeout: float = 60,
                 qemu_binary: str = QEMU, rescue_image_ref: str | None = None,
                 nic_backend: NicBackend | None = None,
                 detach_timeout: float = 20, vnc_listen: str = "127.0.0.1", live_migration_bandwidth: int = 0):
        self.host = host
        self.state_dir = Path(state_dir)
        self.state_dir.mkdir(mode=0o700, parents=True, exist_ok=True)  # sockets in it control the guests
        self.cache = disks.ImageCache(Path(cache_dir) if cache_dir else self.state_dir / "_base", images) \
            if images is not None else None
        self.binary = qemu_binary
        self.shutdown_timeout = shutdown_timeout
        self.detach_timeout = detach_timeout
        self.vnc_listen = vnc_listen
        #: MiB/s a live migration's memory copy may use (0: no cap)
        self.live_migration_bandwidth = live_migration_bandwidth
        self.rescue_image_ref = rescue_image_ref
        #: plugs the guests' NICs (None: guests get none, whatever ports they have)
        self.nic_backend = nic_backend
        self.accel, self.cpu_model = self._choose_accel(accel)
        self.version = qemu_version(qemu_binary)
        self._qmp = QmpLoop(f"qmp-{host}")
        self._locks: dict[str, threading.RLock] = {}
        self._guard = threading.Lock()
        #: the figures of the last live migration of each guest that left this host
        self.migrations: dict[str, dict] = {}
        self.reattached = self._reattach()

    # -- plumbing ------------------------------------------------------------------
    def _choose_accel(self, accel: str | None) -> tuple[str, str]:
        """KVM with ``-cpu host`` where /dev/kvm works and a probe guest really runs under
        it (:mod:`.kvm_probe`, probed once per boot of the machine), TCG with ``-cpu max``
        otherwise; logged once.  Some nested hypervisors refuse the IA32_ARCH_CAPABILITIES
        MSR that ``host`` passes through: then ``host`` without it."""
        if accel == "tcg":
            log.info("QEMU driver on %s: TCG acceleration (configured)", self.host)
            return "tcg", "max"
        usable, why = kvm_usable()
        if usable:
            for model in KVM_CPU_MODELS:
                ok, detail = probe_kvm_cached(self.binary, model)
                if ok:
                    log.info("QEMU driver on %s: KVM acceleration, -cpu %s (%s)", self.host, model, why)
                    return "kvm", model
                why = f"-cpu {model}: {detail}"
        if accel == "kvm":
            raise QemuError(f"KVM was asked for but is not usable: {why}")
        log.warning("QEMU driver on %s: TCG acceleration, guests run emulated (no KVM: %s)", self.host, why)
        return "tcg", "max"

    def close(self) -> None:
        """Stop talking to the guests (they keep running)."""
        self._qmp.close()

    def _dir(self, instance_id: str) -> Path:
        if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.-]*", instance_id):
            raise GuestNotFound(f"invalid instance id {instance_id!r}")
        return self.state_dir / instance_id

    def _lock(self, instance_id: str) -> threading.RLock:
        with self._guard:
            return self._locks.setdefault(instance_id, threading.RLock())

    def _definition(self, instance_id: str) -> GuestDef:
        path = self._dir(instance_id) / "guest.json"
        if not path.exists():
            raise GuestNotFound(f"no guest {instance_id} on host {self.host}")
        return GuestDef.load(path)

    def _save(self, guest: GuestDef) -> None:
        guest.save(self._dir(guest.instance_id) / "guest.json")

    def pid(self, instance_id: str) -> int | None:
        """The pid of the guest's QEMU if it is running (verified against its command line)."""
        return qemu_guest.running_pid(self._dir(instance_id) / "qemu.pid", self.binary, instance_id)

    def _qmp_cmd(self, instance_id: str, command: str, args: dict | None = None, timeout: float = 30) -> Any:
        # A command that ends QEMU is never repeated on a new connection (it may have worked).
        return self._qmp.execute(instance_id, self._dir(instance_id) / "qmp.sock", command, args, timeout,
                                 retry=command not in ("quit", "system_powerdown"))

    def _reattach(self) -> list[str]:
        found = []
        for entry in sorted(self.state_dir.iterdir()):
            if not (entry / "guest.json").exists():
                continue
            if self.pid(entry.name) is None:
                continue
            try:
                self._qmp_cmd(entry.name, "query-status")
            except QmpError as exc:
                log.warning("guest %s: QEMU runs but its QMP does not answer: %s", entry.name, exc)
                continue
            found.append(entry.name)
        if found:
            log.info("QEMU driver on %s re-attached to %d running guest(s)", self.host, len(found))
        return found

    def guests(self) -> list[str]:
        """Every guest defined on this host (running or not)."""
        return sorted(e.name for e in self.state_dir.iterdir() if (e / "guest.json").exists())

    # -- the command line ----------------------------------------------------------
    def _plug(self, guest: GuestDef) -> tuple[list[str], list[int]]:
        if not guest.nics:
            return ["-nic", "none"], []
        if self.nic_backend is None:
            raise QemuError(f"guest {guest.instance_id} has NICs but this host has no NIC backend")
        return self.nic_backend.plug(guest)

    def _start(self, guest: GuestDef, incoming: str | None = None) -> None:
        d = self._dir(guest.instance_id)
        self._qmp.drop(guest.instance_id)
        if self._exiting(guest.instance_id) and not self._wait_exit(guest.instance_id, 30):
            raise QemuError(f"the previous QEMU of {guest.instance_id} is still exiting")
        for stale in ("qemu.pid", "qmp.sock", "serial.sock"):
            (d / stale).unlink(missing_ok=True)
        guest.assign_pci_slots()  # a definition from before fixed slots gets them now
        self._save(guest)
        nics, fds = self._plug(guest)
        argv = qemu_guest.command_line(guest, self.binary, self.accel, self.cpu_model, nics, incoming,
                                       vnc_listen=self.vnc_listen)
        for log_file in ("console.log", "qemu.log"):  # rotated at start, one old copy kept (like virtlogd)
            with contextlib.suppress(FileNotFoundError):
                if (d / log_file).stat().st_size > LOG_ROTATE_BYTES:
                    (d / log_file).replace(d / f"{log_file}.0")
        with open(d / "qemu.log", "ab") as err:
            err.write(f"--- {time.strftime('%Y-%m-%dT%H:%M:%S')} {shlex.join(argv)}\n".encode())
            err.flush()
            try:
                done = subprocess.run(argv, cwd=d, stdin=subprocess.DEVNULL, stdout=err, stderr=err,
                                      start_new_session=True, timeout=120, check=False, pass_fds=fds)
            finally:
                for fd in fds:  # QEMU holds its own copies: its taps live as long as it does
                    os.close(fd)
        if done.returncode != 0 or self.pid(guest.instance_id) is None:
            raise QemuError(f"QEMU for {guest.instance_id} did not start: {self._log_tail(d)}")

    @staticmethod
    def _log_tail(d: Path) -> str:
        try:
            lines = (d / "qemu.log").read_text(errors="replace").splitlines()
        except OSError:
            return "(no qemu.log)"
        tail = [line for line in lines[-5:] if not line.startswith("--- ")]
        return " / ".join(tail) or "(nothing logged)"

    def _wait_exit(self, instance_id: str, timeout: float) -> bool:
        """Wait until the guest's QEMU has fully exited: not only its main thread (a zombie
        already, which is all ``pid()`` sees) but every thread, the last of which still
        holds its files, among them the disk image locks a new QEMU needs."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.pid(instance_id) is None and not self._exiting(instance_id):
                return True
            time.sleep(0.05)
        return self.pid(instance_id) is None and not self._exiting(instance_id)

    def _exiting(self, instance_id: str) -> bool:
        return qemu_guest.exiting(self._dir(instance_id) / "qemu.pid")

    def _stop_process(self, instance_id: str, graceful: float = 0.0) -> None:
        """End the guest's QEMU: ACPI power-down for ``graceful`` seconds, then quit, then SIGKILL."""
        if self.pid(instance_id) is None:
            self._qmp.drop(instance_id)
            return
        if graceful > 0:
            with contextlib.suppress(QmpError):
                self._qmp_cmd(instance_id, "system_powerdown")
                if self._wait_exit(instance_id, graceful):
                    self._qmp.drop(instance_id)
                    return
        with contextlib.suppress(QmpError):
            self._qmp_cmd(instance_id, "quit", timeout=10)
        if not self._wait_exit(instance_id, 10):
            pid = self.pid(instance_id)
            if pid is not None:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
                self._wait_exit(instance_id, 10)
        self._qmp.drop(instance_id)

    def _status(self, instance_id: str) -> str:
        return self._qmp_cmd(instance_id, "query-status")["status"]

    # -- Driver --------------------------------------------------------------------
    def resources(self) -> HostResources:
        vcpus = len(os.sched_getaffinity(0))
        with open("/proc/meminfo") as f:
            mem_kb = next(int(line.split()[1]) for line in f if line.startswith("MemTotal:"))
        disk_gb = shutil.disk_usage(self.state_dir).total >> 30
        model = "unknown"
        with contextlib.suppress(OSError, StopIteration), open("/proc/cpuinfo") as f:
            model = next(line.split(":", 1)[1].strip() for line in f if line.startswith("model name"))
        # COMPUTE_RESCUE_BFV: a volume-backed server is rescued by a stable device rescue
        # (the rescue disk added, its volumes where they were).
        return HostResources(vcpus=vcpus, memory_mb=mem_kb >> 10, disk_gb=disk_gb, hypervisor_type="QEMU",
                             hypervisor_version=self.version, traits=frozenset({"COMPUTE_RESCUE_BFV"}),
                             cpu_info={"arch": "x86_64", "model": model, "vendor": "", "accel": self.accel,
                                       "topology": {"sockets": 1, "cores": vcpus, "threads": 1}})

    def spawn(self, spec: GuestSpec) -> int:
        with self._lock(spec.instance_id):
            d = self._dir(spec.instance_id)
            if (d / "guest.json").exists():
                raise GuestExists(f"guest {spec.instance_id} already exists on host {self.host}")
            d.mkdir(mode=0o700, parents=True, exist_ok=True)
            volumes = [DiskDef(qemu_guest.volume_node(serial), path, "raw", serial=serial,
                               shared=serial in spec.shared_volumes) for path, serial in spec.volumes]
            guest = GuestDef(spec.instance_id, spec.name, spec.vcpus, spec.memory_mb, dict(spec.topology),
                             spec.image_ref, volumes=volumes, nics=[dict(n) for n in spec.nics])
            try:
                guest.disks = self._make_disks(spec, d)
                self._save(guest)
                self._start(guest)
            except BaseException:
                # Nothing half-made stays behind: a failed spawn can be retried, or rescheduled.
                self._stop_process(spec.instance_id)
                shutil.rmtree(d, ignore_errors=True)
                raise
            return self.power_state(spec.instance_id)

    def _make_disks(self, spec: GuestSpec, d: Path) -> list[DiskDef]:
        made = []
        if spec.root_volume:
            made.append(DiskDef("root", spec.root_volume, "raw", serial=spec.root_volume_serial,
                                shared=spec.root_volume_serial in spec.shared_volumes))
        else:
            if self.cache is None:
                raise QemuError("this QEMU host has no image store to boot images from")
            base, fmt = self.cache.base(spec.image_ref)
            disks.create_overlay(base, fmt, d / "disk", spec.disk_gb, spec.image_ref)
            made.append(DiskDef("root", str(d / "disk"), "qcow2", base=str(base)))
        if spec.ephemeral_gb:
            disks.create_ephemeral(d / "disk.eph0", spec.ephemeral_gb)
            made.append(DiskDef("eph0", str(d / "disk.eph0"), "raw"))
        if spec.swap_mb:
            disks.create_swap(d / "disk.swap", spec.swap_mb)
            made.append(DiskDef("swap", str(d / "disk.swap"), "raw"))
        if spec.config_drive:
            shutil.copyfile(spec.config_drive, d / "disk.config")
            made.append(DiskDef("config", str(d / "disk.config"), "raw", kind="cdrom"))
        return made

    def destroy(self, instance_id: str) -> None:
        with self._lock(instance_id):
            self._stop_process(instance_id)
            with contextlib.suppress(GuestNotFound):
                guest = self._definition(instance_id)
                if guest.nics and self.nic_backend is not None:
                    self.nic_backend.unplug(guest.nics)
            shutil.rmtree(self._dir(instance_id), ignore_errors=True)

    def power_off(self, instance_id: str) -> int:
        """ACPI power-down; after ``shutdown_timeout`` seconds without the guest going, quit."""
        with self._lock(instance_id):
            self._definition(instance_id)
            self._stop_process(instance_id, graceful=self.shutdown_timeout)
            return self.power_state(instance_id)

    def power_on(self, instance_id: str) -> int:
        with self._lock(instance_id):
            guest = self._definition(instance_id)
            if self.pid(instance_id) is not None:
                if self._status(instance_id) in ("paused", "prelaunch"):
                    self._qmp_cmd(instance_id, "cont")
                return self.power_state(instance_id)
            if (self._dir(instance_id) / "suspended.state").exists():
                return self._resume(guest)
            self._start(guest)
            return self.power_state(instance_id)

    def reboot(self, instance_id: str, hard: bool) -> int:
        """Hard: reset the machine (or start it if QEMU is gone).  Soft: ACPI power-down,
        and a fresh start once the guest has gone (after ``shutdown_timeout`` it is ended
        anyway, Nova's fall-back to a hard reboot)."""
        with self._lock(instance_id):
            guest = self._definition(instance_id)
            if self.pid(instance_id) is None:
                self._start(guest)
            elif hard:
                self._qmp_cmd(instance_id, "system_reset")
                if self._status(instance_id) != "running":
                    self._qmp_cmd(instance_id, "cont")
            else:
                self._stop_process(instance_id, graceful=self.shutdown_timeout)
                self._start(guest)
            return self.power_state(instance_id)

    def pause(self, instance_id: str) -> int:
        with self._lock(instance_id):
            self._qmp_cmd(instance_id, "stop")
            return self.power_state(instance_id)

    def unpause(self, instance_id: str) -> int:
        with self._lock(instance_id):
            self._qmp_cmd(instance_id, "cont")
            return self.power_state(instance_id)

    def suspend(self, instance_id: str) -> int:
        """Save RAM and device state to ``suspended.state`` (QMP migrate to a file through
        ``exec:``; QEMU 7.2 has no ``file:`` URI) and end the process."""
        with self._lock(instance_id):
            d = self._dir(instance_id)
            state, part = d / "suspended.state", d / "suspended.state.part"
            state.unlink(missing_ok=True)
            part.unlink(missing_ok=True)
            uri = f"exec:cat > {shlex.quote(str(part))} && mv -f {shlex.quote(str(part))} {shlex.quote(str(state))}"
            self._qmp_cmd(instance_id, "migrate", {"uri": uri})
            deadline = time.monotonic() + 600
            while True:
                status = self._qmp_cmd(instance_id, "query-migrate").get("status")
                if status == "completed":
                    break
                if status in ("failed", "cancelled") or time.monotonic() > deadline:
                    with contextlib.suppress(QmpError):
                        self._qmp_cmd(instance_id, "cont")
                    raise QemuError(f"suspend of {instance_id}: saving its state {status or 'timed out'}")
                time.sleep(0.05)
            self._stop_process(instance_id)
            end = time.monotonic() + 60  # `cat` finishes writing after QEMU closed the pipe
            while not state.exists() and time.monotonic() < end:
                time.sleep(0.05)
            if not state.exists():
                raise QemuError(f"suspend of {instance_id}: the state file was not completed")
            return self.power_state(instance_id)

    def resume(self, instance_id: str) -> int:
        with self._lock(instance_id):
            guest = self._definition(instance_id)
            if self.pid(instance_id) is not None:  # suspended from inside (S3) or never saved
                if self._status(instance_id) == "suspended":
                    self._qmp_cmd(instance_id, "system_wakeup")
                else:
                    self._qmp_cmd(instance_id, "cont")
                return self.power_state(instance_id)
            return self._resume(guest)

    def _resume(self, guest: GuestDef) -> int:
        state = self._dir(guest.instance_id) / "suspended.state"
        if not state.exists():
            raise QemuError(f"guest {guest.instance_id} has no saved state to resume from")
        self._start(guest, incoming="exec:cat " + shlex.quote(str(state)))
        deadline = time.monotonic() + 600
        while True:
            status = self._qmp_cmd(guest.instance_id, "query-migrate").get("status")
            if status == "completed":
                break
            if status in ("failed", "cancelled") or time.monotonic() > deadline:
                self._stop_process(guest.instance_id)
                raise QemuError(f"resume of {guest.instance_id}: restoring its state {status or 'timed out'}: "
                                f"{self._log_tail(self._dir(guest.instance_id))}")
            time.sleep(0.05)
        self._qmp_cmd(guest.instance_id, "cont")
        state.unlink()
        return self.power_state(guest.instance_id)

    def rescue(self, instance_id: str, rescue: Rescue | None = None) -> int:
        """Boot a fresh disk of the rescue image (by default the image the server was built
        from, as Nova does) with the server's own disks attached: in the root disk's place
        with the root disk after it, or -- a stable device rescue -- added as the device the
        image's ``hw_rescue_device``/``hw_rescue_bus`` ask for, first in the boot order,
        every other disk where it was."""
        rescue = rescue or Rescue()
        kind = rescue_kind(rescue)
        with self._lock(instance_id):
            guest = self._definition(instance_id)
            d = self._dir(instance_id)
            if self.cache is None:
                raise QemuError("this QEMU host has no image store to rescue from")
            base, fmt = self.cache.base(rescue.image_ref or self.rescue_image_ref or guest.image_ref)
            self._stop_process(instance_id)
            (d / "disk.rescue").unlink(missing_ok=True)
            disks.create_overlay(base, fmt, d / "disk.rescue", 0)
            guest.disks = [x for x in guest.disks if x.name != "rescue"] + \
                [DiskDef("rescue", str(d / "disk.rescue"), "qcow2", base=str(base), kind=kind)]
            guest.rescue = True
            guest.stable_rescue = rescue.stable
            self._save(guest)
            self._start(guest)
            return self.power_state(instance_id)

    def set_admin_password(self, instance_id: str, password: str, image_properties: dict) -> None:
        """Nova's libvirt sets it through the QEMU guest agent, which the image must ask for
        (``hw_qemu_guest_agent``, else 409).  These guests get no agent channel, so even an
        image that asks has no agent to answer: Nova's answer for an unresponsive agent."""
        if str(image_properties.get("hw_qemu_guest_agent", "")).lower() not in ("yes", "true", "1", "on", "y", "t"):
            raise GuestAgentMissing(instance_id)
        raise NotImplementedError("no QEMU guest agent channel")

    def unrescue(self, instance_id: str) -> int:
        with self._lock(instance_id):
            guest = self._definition(instance_id)
            self._stop_process(instance_id)
            guest.disks = [x for x in guest.disks if x.name != "rescue"]
            guest.rescue = guest.stable_rescue = False
            self._save(guest)
            (self._dir(instance_id) / "disk.rescue").unlink(missing_ok=True)
            self._start(guest)
            return self.power_state(instance_id)

    def resize(self, spec: GuestSpec) -> int:
        """Give the guest the flavor of ``spec`` on this host: QEMU ended, the definition and
        root disk kept aside for a revert, the root disk grown, the guest started with the
        new ``-smp``/``-m``."""
        with self._lock(spec.instance_id):
            guest = self._definition(spec.instance_id)
            d = self._dir(spec.instance_id)
            root = next(x for x in guest.disks if x.name == "root")
            size = _virtual_size(Path(root.path), root.format)
            wanted = spec.disk_gb << 30
            if spec.disk_gb and wanted < size and not spec.root_volume:
                raise ResizeError(f"cannot shrink the root disk of {spec.instance_id} from {size} bytes "
                                  f"to {spec.disk_gb} GiB")
            self._stop_process(spec.instance_id, graceful=self.shutdown_timeout)
            backup = d / "resize-backup"
            if not backup.exists():  # a second resize before confirm keeps the oldest for revert
                tmp = d / "resize-backup.part"
                shutil.rmtree(tmp, ignore_errors=True)
                tmp.mkdir()
                shutil.copy2(d / "guest.json", tmp / "guest.json")
                if Path(root.path).parent == d:
                    shutil.copy2(root.path, tmp / Path(root.path).name)
                tmp.rename(backup)
            if spec.disk_gb and wanted > size and Path(root.path).parent == d:
                disks.resize(Path(root.path), root.format, wanted)
            guest.vcpus, guest.memory_mb, guest.topology = spec.vcpus, spec.memory_mb, dict(spec.topology)
            self._save(guest)
            self._start(guest)
            return self.power_state(spec.instance_id)

    def confirm_resize(self, instance_id: str) -> None:
        with self._lock(instance_id):
            shutil.rmtree(self._dir(instance_id) / "resize-backup", ignore_errors=True)

    def revert_resize(self, instance_id: str) -> int:
        """Back to the definition and root disk from before the resize, and started."""
        with self._lock(instance_id):
            d = self._dir(instance_id)
            backup = d / "resize-backup"
            if not backup.exists():
                raise ResizeError(f"guest {instance_id} has no resize to revert")
            self._stop_process(instance_id, graceful=self.shutdown_timeout)
            for saved in backup.iterdir():
                shutil.copy2(saved, d / saved.name)
            shutil.rmtree(backup)
            guest = self._definition(instance_id)
            self._start(guest)
            return self.power_state(instance_id)

    # -- moves between hosts (qemu_moves) --------------------------------------------
    def _peer(self, other: Driver) -> QemuDriver:
        if not isinstance(other, QemuDriver) or other is self:
            raise QemuError(f"a guest of QEMU host {self.host} moves only to another QEMU host, not {other.host}")
        return other

    def migrate_disk_and_power_off(self, instance_id: str, dest: Driver) -> None:
        with self._lock(instance_id):
            qemu_moves.migrate_disk_and_power_off(self, instance_id, self._peer(dest))

    def finish_migration(self, spec: GuestSpec, power_on: bool) -> int:
        with self._lock(spec.instance_id):
            guest = self._definition(spec.instance_id)
            if power_on and self.pid(spec.instance_id) is None:
                self._start(guest)
            return self.power_state(spec.instance_id)

    def confirm_migration(self, instance_id: str) -> None:
        with self._lock(instance_id):
            qemu_moves.confirm_migration(self, instance_id)

    def finish_revert_migration(self, spec: GuestSpec, power_on: bool) -> int:
        qemu_moves.finish_revert_migration(self, spec.instance_id, power_on)
        return self.power_state(spec.instance_id)

    def live_migration(self, spec: GuestSpec, dest: Driver, control: MoveControl | None = None) -> int:
        """QEMU's live migration with the disks mirrored (:mod:`.qemu_moves`); the
        figures QEMU gives are kept in ``migrations`` (by instance) and logged."""
        peer = self._peer(dest)
        self.migrations[spec.instance_id] = qemu_moves.live_migration(self, spec.instance_id, peer, control)
        return peer.power_state(spec.instance_id)

    def recover_live_migration(self, instance_id: str, dest: Driver, resume: bool) -> bool:
        return qemu_moves.recover_live_migration(self, instance_id, self._peer(dest), resume)

    def snapshot_to(self, instance_id: str, dest: str) -> str:
        """A consistent standalone qcow2 of the root disk at ``dest``: the guest is paused
        (QEMU drains and flushes its disks on ``stop``) while qemu-img flattens the chain."""
        with self._lock(instance_id):
            guest = self._definition(instance_id)
            root = next(x for x in guest.disks if x.name == "root")
            running = self.pid(instance_id) is not None
            was_running = running and self._status(instance_id) == "running"
            if was_running:
                self._qmp_cmd(instance_id, "stop")
            try:
                disks.convert(Path(root.path), root.format, Path(dest), force_share=running)
            finally:
                if was_running:
                    self._qmp_cmd(instance_id, "cont")
            return "qcow2"

    def snapshot(self, instance_id: str) -> bytes:
        with tempfile.TemporaryDirectory(dir=self.state_dir, prefix="_snap-") as tmp:
            path = Path(tmp) / "snapshot.qcow2"
            self.snapshot_to(instance_id, str(path))
            return path.read_bytes()

    def console_output(self, instance_id: str) -> str:
        path = self._dir(instance_id) / "console.log"
        try:
            with open(path, "rb") as f:
                f.seek(max(0, path.stat().st_size - CONSOLE_TAIL))
                return f.read().decode(errors="replace")
        except FileNotFoundError:
            return ""

    def vnc_address(self, instance_id: str) -> tuple[str, int]:
        """The TCP address QEMU's VNC server took (``query-vnc``); GuestNotRunning when
        the guest's QEMU is not running."""
        if self.pid(instance_id) is None:
            raise GuestNotRunning(f"guest {instance_id} is not running on host {self.host}")
        address = qemu_guest.vnc_address(self._qmp_cmd(instance_id, "query-vnc"))
        if address is None:
            raise GuestNotRunning(f"guest {instance_id} has no TCP VNC display until its next start")
        return address

    def power_state(self, instance_id: str) -> int:
        d = self._dir(instance_id)
        if not (d / "guest.json").exists():
            return states.NOSTATE
        if self.pid(instance_id) is None:
            return states.POWER_SUSPENDED if (d / "suspended.state").exists() else states.SHUTDOWN
        try:
            return qemu_guest.RUN_STATES.get(self._status(instance_id), states.NOSTATE)
        except QmpError:
            return states.SHUTDOWN if self.pid(instance_id) is None else states.NOSTATE

    def diagnostics(self, instance_id: str) -> dict:
        """Nova's 2.48 diagnostics (see :func:`qemu_guest.diagnostics`)."""
        with self._lock(instance_id):
            guest = self._definition(instance_id)
            measured = qemu_guest.diagnostics(guest, self.pid(instance_id), lambda cmd: self._qmp_cmd(instance_id, cmd))
            return {"hypervisor": "kvm" if self.accel == "kvm" else "qemu", **measured}

    def power_update_event(self, instance_id: str, target: str) -> int:
        """A QEMU guest's power is this host's to switch, never someone else's: as Nova's
        libvirt driver, the ``power-update`` event is not supported (its action's event
        fails and the server is left as it was)."""
        raise NotImplementedError("power-update events are for hypervisors whose machines others power (Ironic)")

    def cache_image(self, image_id: str) -> bool:
        """2.81's pre-caching: the image's base file fetched (and checked) into the cache
        guests' disks are made from; False when it was there."""
        if self.cache is None:
            raise NotImplementedError("this host keeps no image cache")
        existed = self.cache.has(image_id)
        self.cache.base(image_id)
        return not existed

    def prune_base_images(self, min_age: float) -> list[Path]:
        """Remove cached base images no guest of this host is backed by and unused for
        ``min_age`` seconds (Nova's image cache manager; run it periodically).  A cache
        directory shared between hosts must be pruned with every host's guests known: use
        a per-host cache (the default) or prune from one place."""
        if self.cache is None:
            return []
        in_use = {disk.base for guest_id in self.guests() for disk in self._definition(guest_id).disks
                  if disk.base}
        resize_backups = [*self.state_dir.glob("*/resize-backup/guest.json"),
                          *self.state_dir.glob(f"{qemu_moves.KEPT}/*/guest.json")]
        in_use |= {disk.base for path in resize_backups for disk in GuestDef.load(path).disks if disk.base}
        return self.cache.prune({b for b in in_use if b}, min_age)

    # -- volumes ---------------------------------------------------------------------
    def attach_volume(self, instance_id: str, device_path: str, serial: str, shared: bool = False) -> None:
        """Hot-plug the volume file as a virtio-blk disk whose serial is ``serial`` (the
        guest sees it as /dev/disk/by-id/virtio-<serial>); a stopped guest gets it at its
        next start.  A ``shared`` (multiattach) volume's device is ``share-rw``: QEMU then
        takes no exclusive write lock on the file, so other guests may open it too."""
        with self._lock(instance_id):
            guest = self._definition(instance_id)
            if any(v.serial == serial for v in guest.volumes):
                return
            disk = DiskDef(qemu_guest.volume_node(serial), device_path, "raw", serial=serial, shared=shared)
            guest.volumes.append(disk)
            guest.assign_pci_slots()  # saved below only once QEMU has the device
            assert disk.pci_slot is not None
            if self.pid(instance_id) is not None:
                node = disk.name
                self._qmp_cmd(instance_id, "blockdev-add", {
                    "node-name": node, "driver": "raw",
                    "file": {"driver": "file", "filename": device_path, "node-name": f"{node}-file"}})
                device: dict[str, object] = {"driver": "virtio-blk-pci", "drive": node, "id": node,
                                             "serial": serial[:20], "addr": qemu_guest.pci_addr(disk.pci_slot)}
                if shared:
                    device["share-rw"] = True
                try:
                    self._qmp_cmd(instance_id, "device_add", device)
                except QmpError:
                    with contextlib.suppress(QmpError):
                        self._qmp_cmd(instance_id, "blockdev-del", {"node-name": node})
                    raise
            self._save(guest)

    def detach_volume(self, instance_id: str, serial: str) -> None:
        """Hot-unplug the volume: ``device_del`` (the guest has to release the PCI device,
        as with real hardware), then ``blockdev-del``.  Raises :class:`VolumeDetachTimeout`
        when the guest does not let go within ``detach_timeout`` seconds."""
        with self._lock(instance_id):
            guest = self._definition(instance_id)
            disk = next((v for v in guest.volumes if v.serial == serial), None)
            if disk is None:
                return
            if self.pid(instance_id) is not None:
                node = disk.name
                if not self._unplug(instance_id, node):
                    raise VolumeDetachTimeout(f"guest {instance_id} did not release volume {serial} "
                                              f"within {self.detach_timeout:.0f}s")
                with contextlib.suppress(QmpError):  # gone with its device already, or never added
                    self._qmp_cmd(instance_id, "blockdev-del", {"node-name": node})
            guest.volumes = [v for v in guest.volumes if v.serial != serial]
            self._save(guest)

    def extend_volume(self, instance_id: str, serial: str, new_size: int) -> None:
        """Tell a running guest its volume grew: QMP ``block_resize`` of the disk's node to
        the file's new size (the guest sees a capacity change event); a stopped guest reads
        the size at its next start."""
        with self._lock(instance_id):
            guest = self._definition(instance_id)
            disk = next((d for d in guest.disks + guest.volumes if d.serial == serial), None)
            if disk is None:
                raise QemuError(f"guest {instance_id} has no disk of volume {serial}")
            if self.pid(instance_id) is not None:
                self._qmp_cmd(instance_id, "block_resize", {"node-name": disk.name, "size": new_size})

    # Assisted snapshots switch a guest's disk to a qcow2 overlay a Cinder remotefs driver
    # prepared beside the volume's file; pocketstack's volumes are plain raw files of its
    # own file backend, which never asks for one, so there is no overlay chain to manage.
    def volume_snapshot_create(self, instance_id: str, volume_id: str, create_info: dict) -> None:
        raise AssistedSnapshotUnsupported("the QEMU driver takes no assisted snapshots: pocketstack's volumes are "
                                          "raw files, not a remotefs qcow2 chain")

    def volume_snapshot_delete(self, instance_id: str, volume_id: str, snapshot_id: str, delete_info: dict) -> None:
        raise AssistedSnapshotUnsupported("the QEMU driver takes no assisted snapshots: pocketstack's volumes are "
                                          "raw files, not a remotefs qcow2 chain")

    def attach_nic(self, instance_id: str, nic: dict) -> None:
        """Hot-plug a NIC (``vifs.nic``): the backend's descriptor handed over QMP
        (``getfd``), ``netdev_add`` and a virtio-net ``device_add``; a stopped guest gets it
        at its next start."""
        with self._lock(instance_id):
            guest = self._definition(instance_id)
            if any(n["port_id"] == nic["port_id"] for n in guest.nics):
                return
            if self.nic_backend is None:
                raise QemuError(f"host {self.host} has no NIC backend to plug a NIC into {instance_id}")
            entry = dict(nic)
            guest.nics.append(entry)
            guest.assign_pci_slots()  # saved below only once QEMU has the device
            if self.pid(instance_id) is not None:
                device = vifs.device_properties(entry)
                fd = self.nic_backend.open(nic)
                try:
                    self._qmp.execute(instance_id, self._dir(instance_id) / "qmp.sock", "getfd",
                                      {"fdname": device["netdev"]}, fd=fd)
                finally:
                    os.close(fd)  # QEMU holds its own copy now
                try:
                    self._qmp_cmd(instance_id, "netdev_add", {"type": "tap", "id": device["netdev"],
                                                              "fd": device["netdev"], "vhost": False})
                    self._qmp_cmd(instance_id, "device_add", device)
                except QmpError:
                    with contextlib.suppress(QmpError):
                        self._qmp_cmd(instance_id, "netdev_del", {"id": device["netdev"]})
                    raise
            self._save(guest)

    def detach_nic(self, instance_id: str, port_id: str) -> None:
        """Hot-unplug a port's NIC: ``device_del`` (the guest releases the PCI device), then
        ``netdev_del``, which closes the tap.  Raises :class:`QemuError` when the guest does
        not let go within ``detach_timeout`` seconds."""
        with self._lock(instance_id):
            guest = self._definition(instance_id)
            entry = next((n for n in guest.nics if n["port_id"] == port_id), None)
            if entry is None:
                return
            if self.pid(instance_id) is not None:
                netdev, device = vifs.device_ids(port_id)
                if not self._unplug(instance_id, device):
                    raise QemuError(f"guest {instance_id} did not release the NIC of port {port_id} "
                                    f"within {self.detach_timeout:.0f}s")
                with contextlib.suppress(QmpError):  # gone already, or never added
                    self._qmp_cmd(instance_id, "netdev_del", {"id": netdev})
            guest.nics = [n for n in guest.nics if n["port_id"] != port_id]
            self._save(guest)
            if self.nic_backend is not None:
                self.nic_backend.unplug([entry])

    def _unplug(self, instance_id: str, device: str) -> bool:
        """``device_del`` and wait until the guest has released the device (a PCI unplug
        needs its cooperation, as with real hardware); False when it has not within
        ``detach_timeout`` seconds.  A device already gone is released."""
        if device not in self._peripherals(instance_id):
            return True
        with contextlib.suppress(QmpError):  # already requested: DeviceNotFound/in progress
            self._qmp_cmd(instance_id, "device_del", {"id": device})
        deadline = time.monotonic() + self.detach_timeout
        while device in self._peripherals(instance_id):
            if time.monotonic() > deadline:
                return False
            time.sleep(0.1)
        return True

    def _peripherals(self, instance_id: str) -> set[str]:
        return {p["name"] for p in self._qmp_cmd(instance_id, "qom-list", {"path": "/machine/peripheral"})}


def _virtual_size(path: Path, fmt: str) -> int:
    return int(disks.qemu_img_info(path, fmt, force_share=True)["virtual-size"])
