"""An ordinary MBR disk image, assembled from partition images without mounting anything.

Layout (what ``sfdisk -l`` shows)::

    sector 0        MBR: syslinux's mbr.bin boot code, disk signature, partition table
    1 MiB ...       partition 1, active, FAT16 "TINYBOOT": syslinux (ldlinux.sys),
                    syslinux.cfg, vmlinuz, initrd.gz
    after it        partition 2, Linux, ext4 labelled "tiny-data": the guest's persistent
                    /home and /root (the rest of the root filesystem is the initramfs)

Why this shape: the firmware (SeaBIOS) runs the MBR code, which chain-loads the active
partition's boot sector, which is syslinux; so the image boots with a bare
``qemu-system-x86_64 -drive file=...`` like any cloud image, with no ``-kernel``.  The
FAT partition is formatted with ``mformat`` and filled with ``mcopy`` (mtools work on a
file), syslinux's mtools installer writes its boot sector into that file, and ext4 is
made by ``mke2fs`` on a plain file; so the whole build needs neither root nor a loop
device.  Each partition is built as its own file, then copied into place here.
"""

from __future__ import annotations

import os
import shutil
import struct
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from pocketstack.guestimage.errors import BuildError

SECTOR = 512
MIB = 1024 * 1024
ALIGN_SECTORS = MIB // SECTOR  # partitions start on MiB boundaries, as fdisk does

TYPE_FAT16_LBA = 0x0E
TYPE_LINUX = 0x83

BOOT_LABEL = "TINYBOOT"
DATA_LABEL = "tiny-data"


class DiskError(BuildError):
    """A tool the disk build needs is missing or failed."""


@dataclass(frozen=True)
class Partition:
    start: int  # first sector
    sectors: int
    type: int
    active: bool = False

    @property
    def offset(self) -> int:
        return self.start * SECTOR

    @property
    def size(self) -> int:
        return self.sectors * SECTOR


@dataclass(frozen=True)
class Layout:
    total_sectors: int
    boot: Partition
    data: Partition

    @property
    def partitions(self) -> tuple[Partition, ...]:
        return (self.boot, self.data)


def plan(size_mib: int, boot_mib: int) -> Layout:
    """Partition a ``size_mib`` disk: a ``boot_mib`` FAT partition at 1 MiB, data after it."""
    if boot_mib < 16:
        raise ValueError("the boot partition needs at least 16 MiB (kernel and initramfs)")
    data_mib = size_mib - 1 - boot_mib
    if data_mib < 8:
        raise ValueError(f"--size {size_mib} MiB is too small: at least {boot_mib + 9} MiB "
                         f"(1 MiB for the partition table, {boot_mib} MiB boot, 8 MiB data)")
    boot = Partition(ALIGN_SECTORS, boot_mib * ALIGN_SECTORS, TYPE_FAT16_LBA, active=True)
    data = Partition(boot.start + boot.sectors, data_mib * ALIGN_SECTORS, TYPE_LINUX)
    return Layout(size_mib * ALIGN_SECTORS, boot, data)


def chs(lba: int) -> bytes:
    """The legacy cylinder/head/sector triple of ``lba`` (255 heads, 63 sectors/track)."""
    cylinder, rest = divmod(lba, 255 * 63)
    if cylinder > 1023:
        return bytes((254, 255, 255))  # beyond CHS: the conventional "use LBA" marker
    head, sector = divmod(rest, 63)
    sector += 1
    return bytes((head, ((cylinder >> 2) & 0xC0) | sector, cylinder & 0xFF))


def mbr(layout: Layout, boot_code: bytes, signature: int) -> bytes:
    """Sector 0: boot code (at most 440 bytes), disk signature, four partition slots, 55AA."""
    if len(boot_code) > 440:
        raise ValueError("MBR boot code is limited to 440 bytes")
    sector = bytearray(SECTOR)
    sector[:len(boot_code)] = boot_code
    struct.pack_into("<I", sector, 440, signature)
    for index, part in enumerate(layout.partitions):
        last = part.start + part.sectors - 1
        entry = (bytes((0x80 if part.active else 0,)) + chs(part.start) + bytes((part.type,)) + chs(last)
                 + struct.pack("<II", part.start, part.sectors))
        sector[446 + 16 * index:462 + 16 * index] = entry
    sector[510:512] = b"\x55\xaa"
    return bytes(sector)


def parse_mbr(sector: bytes) -> list[Partition]:
    """The used partition slots of an MBR (the tests read the image back with it)."""
    if sector[510:512] != b"\x55\xaa":
        raise ValueError("no MBR signature")
    found = []
    for index in range(4):
        entry = sector[446 + 16 * index:462 + 16 * index]
        start, count = struct.unpack_from("<II", entry, 8)
        if entry[4]:
            found.append(Partition(start, count, entry[4], active=entry[0] == 0x80))
    return found


def run(argv: list[str], env: dict[str, str] | None = None) -> None:
    try:
        done = subprocess.run(argv, capture_output=True, text=True, check=False,
                              env={**os.environ, **(env or {})})
    except FileNotFoundError as error:
        raise DiskError(f"{argv[0]} is not installed: {error}") from error
    if done.returncode != 0:
        raise DiskError(f"{' '.join(argv)} failed ({done.returncode}): {done.stderr.strip() or done.stdout.strip()}")


# mtools refuses images whose geometry looks odd unless told not to check it.
MTOOLS_ENV = {"MTOOLS_SKIP_CHECK": "1", "MTOOLS_NO_VFAT": "0"}


def build_boot_partition(path: Path, part: Partition, files: dict[str, Path], syslinux: Path,
                         serial: int, mtime: float) -> None:
    """Format ``path`` as FAT, copy ``files`` (name in the root -> host file), install syslinux.

    The boot sector's "hidden sectors" field is the partition's start sector, which is
    how syslinux's boot sector finds ldlinux.sys on the whole disk.
    """
    with open(path, "wb") as handle:
        handle.truncate(part.size)
    run(["mformat", "-i", str(path), "-T", str(part.sectors), "-h", "64", "-s", "32", "-H", str(part.start),
         "-N", f"{serial:08x}", "-v", BOOT_LABEL, "::"], MTOOLS_ENV)
    for name, source in sorted(files.items()):
        os.utime(source, (mtime, mtime))
        run(["mcopy", "-m", "-o", "-i", str(path), str(source), f"::{name}"], MTOOLS_ENV)
    run([str(syslinux), "--install", str(path)], MTOOLS_ENV)
    with open(path, "r+b") as handle:
        fix_root_timestamps(handle, int(mtime))


def dos_datetime(epoch: int) -> tuple[int, int]:
    """FAT's (time, date) words for ``epoch`` (UTC, two-second resolution)."""
    t = time.gmtime(epoch)
    return ((t.tm_hour << 11) | (t.tm_min << 5) | (t.tm_sec // 2),
            ((t.tm_year - 1980) << 9) | (t.tm_mon << 5) | t.tm_mday)


def fix_root_timestamps(handle: BinaryIO, epoch: int) -> int:
    """Set every root directory entry's times to ``epoch``; the number of entries changed.

    syslinux stamps ldlinux.sys and ldlinux.c32 with the time of the build; without this
    the boot partition differed between two builds of the same packages by those bytes.
    Only FAT12/16 (a fixed root directory after the FATs) is handled, which is what a
    boot partition of this size gets.
    """
    handle.seek(0)
    boot = handle.read(512)
    sector_size, = struct.unpack_from("<H", boot, 11)
    reserved, = struct.unpack_from("<H", boot, 14)
    fats = boot[16]
    root_entries, = struct.unpack_from("<H", boot, 17)
    fat_sectors, = struct.unpack_from("<H", boot, 22)
    if root_entries == 0 or fat_sectors == 0:
        return 0  # FAT32: the root directory is a cluster chain; leave it
    handle.seek((reserved + fats * fat_sectors) * sector_size)
    root = bytearray(handle.read(root_entries * 32))
    clock, day = dos_datetime(epoch)
    changed = 0
    for offset in range(0, len(root), 32):
        first, attributes = root[offset], root[offset + 11]
        if first == 0:
            break
        if first == 0xE5 or attributes == 0x0F:  # deleted, or a long-name fragment
            continue
        root[offset + 13] = 0  # creation time, 10 ms units
        struct.pack_into("<HHH", root, offset + 14, clock, day, day)  # created, accessed
        struct.pack_into("<HH", root, offset + 22, clock, day)  # modified
        changed += 1
    handle.seek((reserved + fats * fat_sectors) * sector_size)
    handle.write(root)
    return changed


def build_data_partition(path: Path, part: Partition, uuid: str, mtime: int) -> None:
    """An empty ext4 filesystem labelled ``tiny-data`` (fixed UUID and time: reproducible)."""
    mke2fs = shutil.which("mke2fs") or shutil.which("mkfs.ext4") or "/sbin/mke2fs"
    with open(path, "wb") as handle:
        handle.truncate(part.size)
    run([mke2fs, "-q", "-F", "-t", "ext4", "-L", DATA_LABEL, "-U", uuid, "-E", f"hash_seed={uuid},root_owner=0:0",
         "-m", "0", str(path)], {"E2FSPROGS_FAKE_TIME": str(mtime)})


def copy_sparse(source: Path, target: BinaryIO, offset: int, chunk: int = MIB) -> None:
    """Copy ``source`` into open file ``target`` at ``offset``, skipping all-zero chunks."""
    zero = bytes(chunk)
    with open(source, "rb") as handle:
        position = offset
        while block := handle.read(chunk):
            if block != zero[:len(block)]:
                target.seek(position)
                target.write(block)
            position += len(block)


def assemble(output: Path, layout: Layout, boot_code: bytes, signature: int, boot_image: Path,
             data_image: Path) -> None:
    """Write the raw disk: MBR, then each partition image at its offset (sparse file)."""
    with open(output, "wb") as target:
        target.truncate(layout.total_sectors * SECTOR)
        target.write(mbr(layout, boot_code, signature))
        copy_sparse(boot_image, target, layout.boot.offset)
        copy_sparse(data_image, target, layout.data.offset)


def convert(raw: Path, output: Path, fmt: str) -> None:
    """``raw`` as ``output`` in ``fmt``: qcow2 (compressed, what Glance gets) or raw (moved)."""
    if fmt == "raw":
        os.replace(raw, output)
        return
    qemu_img = shutil.which("qemu-img")
    if qemu_img is None:
        raise DiskError("qemu-img is not installed (package qemu-utils); use --format raw without it")
    run([qemu_img, "convert", "-q", "-f", "raw", "-O", "qcow2", "-c", "-o", "compat=1.1", str(raw), str(output)])
