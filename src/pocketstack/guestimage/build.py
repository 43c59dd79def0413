"""``pocketstack image build-tiny``: the whole build, from packages to a disk image.

Steps: fetch the packages (:mod:`debs`), unpack them, pick the kernel modules
(:mod:`kmod`), write the initramfs (:mod:`rootfs`, :mod:`cpio`), make the boot and data
partitions and the MBR disk (:mod:`disk`), convert to qcow2.  Everything happens in a
scratch directory beside the output; the package cache is kept for the next build.

Reproducible: two builds from the same packages give the same image, bit for bit (raw
and qcow2), whoever runs them.  Every timestamp is SOURCE_DATE_EPOCH or a fixed date
(initramfs entries, FAT directory entries including syslinux's own, ext4 via
E2FSPROGS_FAKE_TIME), the initramfs is sorted and owned by root, gzip carries no time,
and the disk signature, FAT serial and ext4 UUID are derived from the package versions.
"""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from pocketstack.guestimage import cpio, debs, disk, kmod, rootfs

log = logging.getLogger(__name__)

FORMATS = ("qcow2", "raw")
DEFAULT_SIZE_MIB = 128
BOOT_MIB = 40
# A fixed timestamp for every file (2024-01-01; FAT cannot store dates before 1980).
# SOURCE_DATE_EPOCH, the reproducible-builds convention, overrides it.
DEFAULT_EPOCH = 1704067200
GUEST_PACKAGES = ("busybox-static",)
SSH_PACKAGE = "dropbear-bin"
BOOT_PACKAGE = "syslinux"  # mbr.bin and the mtools-based syslinux installer


@dataclass
class Result:
    path: Path
    format: str
    size_mib: int
    kernel_version: str
    packages: dict[str, str]
    modules: list[str]
    initramfs_bytes: int
    seconds: float
    file_bytes: int = field(default=0)

    def summary(self) -> str:
        return (f"{self.path}: {self.format}, {self.size_mib} MiB virtual, {self.file_bytes / 1e6:.1f} MB on disk, "
                f"kernel {self.kernel_version}, initramfs {self.initramfs_bytes / 1e6:.1f} MB, "
                f"{len(self.modules)} modules, built in {self.seconds:.1f}s")


def default_cache(data_dir: Path) -> Path:
    return data_dir / "cache" / "guestimage"


def build_epoch() -> int:
    return int(os.environ.get("SOURCE_DATE_EPOCH", DEFAULT_EPOCH))


def release_name(kernel_version: str) -> str:
    from pocketstack import __version__

    return f"{__version__} (linux {kernel_version})"


def _identity(packages: dict[str, debs.Package]) -> bytes:
    text = "\n".join(f"{p.name}={p.version}" for p in sorted(packages.values(), key=lambda p: p.name))
    return hashlib.sha256(text.encode()).digest()


def build_tiny(output: Path, fmt: str = "qcow2", size_mib: int = DEFAULT_SIZE_MIB, cache: Path | None = None,
               data_dir: Path | None = None) -> Result:
    """Build the tiny guest image at ``output``; see the module docstring for the steps."""
    if fmt not in FORMATS:
        raise ValueError(f"unknown format {fmt!r}: choose one of {', '.join(FORMATS)}")
    layout = disk.plan(size_mib, BOOT_MIB)
    started = time.monotonic()
    cache = cache or default_cache(data_dir or Path.home() / ".local/share/pocketstack")
    packages = debs.Cache(cache / "debs")
    kernel_name = debs.kernel_package()
    fetched = packages.fetch([kernel_name, *GUEST_PACKAGES, BOOT_PACKAGE])
    fetched.update(packages.fetch_with_depends([SSH_PACKAGE]))
    log.info("packages: %s", ", ".join(f"{p.name} {p.version}" for p in fetched.values()))

    output = output.resolve()
    output.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=".tiny-build-", dir=output.parent) as scratch_name:
        scratch = Path(scratch_name)
        guest, kernel, boot_tools = scratch / "guest", scratch / "kernel", scratch / "syslinux"
        for package in fetched.values():
            target = kernel if package.name == kernel_name else boot_tools if package.name == BOOT_PACKAGE else guest
            debs.unpack(package, target)
        modules_root = kernel / "lib/modules"
        versions = sorted(p.name for p in modules_root.iterdir()) if modules_root.is_dir() else []
        if len(versions) != 1:
            raise disk.DiskError(f"{kernel_name} holds {len(versions)} module trees, expected one")
        kernel_version = versions[0]
        modules_dir = modules_root / kernel_version
        modules = kmod.load_order(kmod.WANTED, kmod.scan(modules_dir), kmod.builtin_names(modules_dir))
        release = release_name(kernel_version)
        epoch = build_epoch()
        tree = rootfs.build_tree(guest, kernel_version, modules, release)
        tree.file("etc/tiny/packages", "".join(f"{p.name} {p.version}\n"
                                               for p in sorted(fetched.values(), key=lambda p: p.name)))
        initrd = scratch / "initrd.gz"
        initrd.write_bytes(cpio.initramfs(tree, epoch))
        vmlinuz = kernel / f"boot/vmlinuz-{kernel_version}"
        config = scratch / "syslinux.cfg"
        config.write_text(rootfs.syslinux_cfg())
        shutil.rmtree(kernel / "lib")  # ~400 MB of modules we no longer need

        identity = _identity(fetched)
        signature = int.from_bytes(identity[:4], "little")
        boot_image, data_image, raw = scratch / "boot.fat", scratch / "data.ext4", scratch / "disk.raw"
        disk.build_boot_partition(boot_image, layout.boot, {"vmlinuz": vmlinuz, "initrd.gz": initrd,
                                                            "syslinux.cfg": config},
                                  boot_tools / "usr/bin/syslinux", signature, epoch)
        disk.build_data_partition(data_image, layout.data, str(uuid.UUID(bytes=identity[4:20])), epoch)
        boot_code = (boot_tools / "usr/lib/SYSLINUX/mbr.bin").read_bytes()
        disk.assemble(raw, layout, boot_code, signature, boot_image, data_image)
        disk.convert(raw, output, fmt)
        initramfs_bytes = initrd.stat().st_size
    result = Result(output, fmt, size_mib, kernel_version, {p.name: p.version for p in fetched.values()},
                    [m.name for m in modules], initramfs_bytes, time.monotonic() - started,
                    output.stat().st_blocks * 512)
    log.info("%s", result.summary())
    return result
