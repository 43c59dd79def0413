"""Whether KVM really runs a guest here: a 512-byte boot sector booted under KVM.

/dev/kvm answering, or QEMU starting a vCPU that never runs (``-S``), proves little on a
nested host: there a KVM guest may start and then stop at its first mode switch with
"KVM internal error ... emulation failure" (seen here in the bootloader of a Linux image,
on an ``iret`` in protected mode: the nested hypervisor cannot emulate what VMX cannot
run directly), and QEMU leaves it paused forever.  So the probe runs the kind of code
every bootloader runs — real mode, to 32-bit protected mode, an ``iret``, back to real
mode through a 16-bit segment, another ``iret`` — and then writes ``accel-probe-ok`` to
the first serial port.  KVM is used only if that line comes out.

The sector was assembled from this source (GNU as, ``as --32`` then ``ld -m elf_i386
-Ttext 0 --oformat binary``); :data:`BOOT_SECTOR` holds the 180 bytes of code, padded to
510 and ended by the boot signature::

    .code16                          # loaded at 0x7c00 by the BIOS
        cli; xor %ax,%ax; mov %ax,%ds; mov %ax,%ss; mov $0x7000,%sp
        lgdtl gdt_desc               # flat 32-bit code/data, 16-bit code/data
        mov %cr0,%eax; or $1,%eax; mov %eax,%cr0
        ljmpl $0x08, $pm32
    .code32
    pm32: mov $0x10,%ax; mov %ax,%ds; mov %ax,%es; mov %ax,%ss; mov $0x7000,%esp
        pushfl; pushl $0x08; pushl $after; iretl
    after: ljmpl $0x18, $pm16        # a 16-bit code segment, as BIOS thunks do
    .code16
    pm16: mov $0x20,%ax; mov %ax,%ds; mov %ax,%ss
        mov %cr0,%eax; and $0xfffffffe,%eax; mov %eax,%cr0
        ljmp $0, $rm
    rm: xor %ax,%ax; mov %ax,%ds; mov %ax,%ss
        pushfw; pushw %cs; pushw $rm2; iret
    rm2: mov $msg,%si; mov $0x3f8,%dx
    1:  lodsb; test %al,%al; jz 2f; outb %al,%dx; jmp 1b
    2:  hlt; jmp 2b
    msg: .asciz "accel-probe-ok\\n"
    gdt: .quad 0, 0x00cf9a000000ffff, 0x00cf92000000ffff, 0x00009a000000ffff, 0x000092000000ffff
    gdt_desc: .word 39; .long gdt
"""

from __future__ import annotations

import fcntl
import json
import os
import selectors
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

MARKER = b"accel-probe-ok"
_CODE = bytes.fromhex(
    "fa31c08ed88ed0bc0070660f0116b07c0f20c06683c8010f22c066ea227c0000080066b810008ed88ec08ed0bc007000009c6a08"
    "683a7c0000cfea417c00001800b820008ed88ed00f20c06683e0fe0f22c0ea577c000031c08ed88ed09c0e68637ccfbe747cbaf8"
    "03ac84c07403eeebf8f4ebfd616363656c2d70726f62652d6f6b0a008db400000000000000000000ffff0000009acf00ffff0000"
    "0092cf00ffff0000009a0000ffff0000009200002700887c")
BOOT_SECTOR = _CODE.ljust(510, b"\0") + b"\x55\xaa"


def probe_kvm(binary: str, cpu_model: str, timeout: float = 15.0) -> tuple[bool, str]:
    """Whether ``binary`` boots the probe sector under KVM with ``cpu_model`` (and, if not,
    the first thing QEMU said)."""
    return probe(binary, "kvm", cpu_model, timeout)


BOOT_ID = Path("/proc/sys/kernel/random/boot_id")
CACHE_FILE = "kvm-probe.json"


def default_cache_dir() -> Path:
    """Where :func:`probe_kvm_cached` keeps its answers: this user's directory under
    ``$XDG_RUNTIME_DIR`` or the temporary directory (every process of this user shares it)."""
    return Path(os.environ.get("XDG_RUNTIME_DIR") or tempfile.gettempdir()) / f"pocketstack-{os.getuid()}"


def probe_kvm_cached(binary: str, cpu_model: str, cache_dir: Path | None = None) -> tuple[bool, str]:
    """:func:`probe_kvm`, answered once per boot of the machine.

    Whether KVM runs a guest does not change while the machine runs, and finding out
    costs a QEMU start -- up to the probe's whole timeout (seen: 11 s) where /dev/kvm
    exists but the nested KVM cannot run the probe.  So the answer is kept in a small
    file keyed by the kernel's boot id, the QEMU binary (path, size, modification time)
    and the CPU model; processes probing at the same time wait for the first one's
    answer (a lock on the file).  Without a usable cache directory (not this user's, or
    writable by others) it probes every time."""
    directory = cache_dir or default_cache_dir()
    key = _probe_key(binary, cpu_model)
    if key is None or not _private_directory(directory):
        return probe_kvm(binary, cpu_model)
    path = directory / CACHE_FILE
    with open(directory / (CACHE_FILE + ".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        boot_id = BOOT_ID.read_text().strip()
        try:
            cached = json.loads(path.read_text())
        except (OSError, ValueError):
            cached = {}
        answers = cached.get("probes", {}) if cached.get("boot_id") == boot_id else {}
        if key in answers:
            ok, detail = answers[key]
            return bool(ok), f"{detail} (probed earlier since this boot)"
        ok, detail = answers[key] = probe_kvm(binary, cpu_model)
        scratch = path.with_suffix(".tmp")
        scratch.write_text(json.dumps({"boot_id": boot_id, "probes": answers}, indent=1) + "\n")
        os.replace(scratch, path)
    return ok, detail


def _probe_key(binary: str, cpu_model: str) -> str | None:
    found = shutil.which(binary)
    if not found or not BOOT_ID.exists():
        return None
    try:
        stat = os.stat(found)
    except OSError:
        return None
    return f"{os.path.realpath(found)}|{stat.st_size}|{stat.st_mtime_ns}|{cpu_model}"


def _private_directory(directory: Path) -> bool:
    """``directory`` exists (made now if not), belongs to this user and only they can write it."""
    try:
        directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        stat = directory.lstat()
    except OSError:
        return False
    return stat.st_uid == os.getuid() and not stat.st_mode & 0o022 and directory.is_dir() \
        and not directory.is_symlink()


def probe(binary: str, accel: str, cpu_model: str, timeout: float = 15.0) -> tuple[bool, str]:
    """Whether ``binary`` boots the probe sector with ``accel`` and ``cpu_model``."""
    with tempfile.TemporaryDirectory(prefix="pocketstack-kvm-probe-") as tmp:
        sector = Path(tmp) / "probe.img"
        sector.write_bytes(BOOT_SECTOR)
        argv = [binary, "-accel", accel, "-cpu", cpu_model, "-machine", "pc", "-m", "16", "-nodefaults",
                "-no-user-config", "-display", "none", "-monitor", "none", "-serial", "stdio",
                "-drive", f"file={sector},format=raw,if=ide"]
        try:
            qemu = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                    stderr=subprocess.PIPE)
        except OSError as exc:
            return False, str(exc)
        try:
            out, err = _read(qemu, timeout)
        finally:
            qemu.kill()
            qemu.wait()
    if MARKER in out:
        return True, f"a boot sector ran under {accel.upper()}"
    errors = [line for line in err.decode(errors="replace").splitlines() if line and "warning:" not in line]
    return False, errors[0] if errors else f"no output from the probe guest within {timeout:.0f}s"


def _read(process: subprocess.Popen, timeout: float) -> tuple[bytes, bytes]:
    """The process's stdout and stderr until the marker appears on stdout, QEMU reports an
    error (it then pauses the guest rather than exiting), it exits, or time is up."""
    assert process.stdout is not None and process.stderr is not None
    got = {process.stdout: b"", process.stderr: b""}
    deadline = time.monotonic() + timeout
    with selectors.DefaultSelector() as selector:
        for stream in got:
            selector.register(stream, selectors.EVENT_READ)
        while selector.get_map() and time.monotonic() < deadline:
            for key, _ in selector.select(max(0.0, deadline - time.monotonic())):
                chunk = os.read(key.fd, 4096)
                if chunk:
                    got[key.fileobj] += chunk  # type: ignore[index]
                else:
                    selector.unregister(key.fileobj)
            if MARKER in got[process.stdout] or b"error" in got[process.stderr].lower():
                break
    return got[process.stdout], got[process.stderr]
