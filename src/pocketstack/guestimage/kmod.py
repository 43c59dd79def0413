"""Pick the kernel modules the guest loads, and the order to load them in.

Debian's kernel builds the virtio transport, disks, NIC and most filesystems as modules
(``CONFIG_VIRTIO_PCI=m``, ``CONFIG_VIRTIO_BLK=m``, ``CONFIG_ISO9660_FS=m``...), so the
initramfs has to carry them.  Busybox ``insmod`` loads one file and resolves nothing,
and a kernel package ships no ``modules.dep``; so the build reads each module's
``depends=`` and ``softdep=`` (``.modinfo``), computes the closure of :data:`WANTED`
and writes a load list in dependency order.  The guest's init loads that list with
plain ``insmod``: no depmod, no modprobe configuration, nothing to get out of date.
"""

from __future__ import annotations

import lzma
from collections.abc import Iterable, Mapping
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from pathlib import Path

from pocketstack.guestimage import elf
from pocketstack.guestimage.errors import BuildError

# What a cloud guest meets on QEMU/KVM (and what the tests attach), by module name.
WANTED = (
    # virtio: the transport, disks, NIC, SCSI, entropy, balloon, serial channel
    "virtio_pci", "virtio_blk", "virtio_net", "virtio_scsi", "virtio_rng", "virtio_balloon",
    "virtio_console",
    # emulated disks and CD-ROMs: a config drive is an IDE/SATA CD-ROM on the pc/q35 machines
    "ata_piix", "ahci", "sd_mod", "sr_mod",
    # an emulated NIC, for images booted with the e1000 model
    "e1000",
    # filesystems: config drive (iso9660 or vfat), the persistent data partition (ext4)
    "isofs", "vfat", "nls_cp437", "nls_ascii", "nls_utf8", "ext4",
    # ext4 checksums its metadata with crc32c through the crypto API (a soft dependency
    # modprobe would load by alias); t10_pi (sd_mod) likewise wants a crct10dif provider
    "crc32c_generic", "crct10dif_generic",
    # ACPI power button, so that an ACPI power-down (a clean "server stop") reaches acpid
    "button", "evdev",
)


class ModuleError(BuildError):
    """A wanted module or a dependency is missing from the kernel package."""


@dataclass(frozen=True)
class Module:
    name: str
    path: Path
    depends: tuple[str, ...]
    softdeps: tuple[str, ...]  # "softdep=pre: a b post: c" -> the pre ones, loaded first


def canonical(name: str) -> str:
    """Module names compare with ``-`` and ``_`` equal (``nls_cp437`` vs a file name)."""
    return name.replace("-", "_")


def module_name(path: Path) -> str:
    name = path.name
    for suffix in (".xz", ".zst", ".gz"):
        name = name.removesuffix(suffix)
    return canonical(name.removesuffix(".ko"))


def read_module(path: Path) -> bytes:
    """The module's ELF bytes (Debian compresses modules with xz from trixie on)."""
    data = path.read_bytes()
    if path.name.endswith(".xz"):
        return lzma.decompress(data)
    if path.name.endswith((".zst", ".gz")):
        raise ModuleError(f"{path.name}: only uncompressed and xz-compressed modules are supported")
    return data


def parse_softdeps(values: Iterable[str]) -> tuple[str, ...]:
    """The ``pre:`` modules of ``softdep=`` entries ("pre: crc32c post: x" -> ("crc32c",))."""
    pre: list[str] = []
    for value in values:
        section = ""
        for word in value.split():
            if word.endswith(":"):
                section = word[:-1]
            elif section == "pre":
                pre.append(canonical(word))
    return tuple(pre)


def scan(modules_dir: Path) -> dict[str, Module]:
    """Every module under ``lib/modules/<version>`` with what it needs, by name."""
    found: dict[str, Module] = {}
    for path in sorted(modules_dir.rglob("*.ko*")):
        if not path.name.endswith((".ko", ".ko.xz", ".ko.zst", ".ko.gz")):
            continue
        info = elf.modinfo(read_module(path))
        depends = tuple(canonical(d) for value in info.get("depends", []) for d in value.split(",") if d)
        found[module_name(path)] = Module(module_name(path), path, depends,
                                          parse_softdeps(info.get("softdep", [])))
    return found


def builtin_names(modules_dir: Path) -> set[str]:
    """Modules compiled into the kernel (``modules.builtin``): nothing to load for them."""
    listing = modules_dir / "modules.builtin"
    if not listing.exists():
        return set()
    return {module_name(Path(line.strip())) for line in listing.read_text().splitlines() if line.strip()}


def load_order(wanted: Iterable[str], available: Mapping[str, Module], builtin: AbstractSet[str] = frozenset()
               ) -> list[Module]:
    """The closure of ``wanted`` in an order where every module follows what it needs.

    A wanted module that is built in is skipped; one that is neither built in nor
    available is an error (the image would boot without its disk or network).  A
    soft dependency that is missing is ignored, as modprobe does.
    """
    order: list[Module] = []
    done: set[str] = set()
    visiting: set[str] = set()

    def visit(name: str, hard: bool, chain: tuple[str, ...]) -> None:
        name = canonical(name)
        if name in done or name in builtin:
            return
        module = available.get(name)
        if module is None:
            if hard:
                raise ModuleError(f"kernel module {name} not found (needed by {' -> '.join(chain) or 'the image'})")
            return
        if name in visiting:
            raise ModuleError(f"dependency cycle: {' -> '.join((*chain, name))}")
        visiting.add(name)
        for soft in module.softdeps:
            visit(soft, False, (*chain, name))
        for dependency in module.depends:
            visit(dependency, True, (*chain, name))
        visiting.discard(name)
        done.add(name)
        order.append(module)

    for name in wanted:
        visit(name, True, ())
    return order
