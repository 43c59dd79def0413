"""Just enough ELF reading to assemble a guest from distribution packages.

The tiny image is built without installing anything on the host and without running
guest binaries, so two facts have to be read from the files themselves: which shared
libraries a program needs (``DT_NEEDED``, to copy dropbear's libraries and nothing
else) and which modules a kernel module depends on (the ``depends=`` entry of its
``.modinfo`` section; a kernel package ships no ``modules.dep``, depmod writes that at
install time).  Only 64-bit little-endian ELF is handled: the image is x86-64.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass


class ElfError(ValueError):
    """The file is not a 64-bit little-endian ELF object this module can read."""


@dataclass(frozen=True)
class Section:
    name: str
    type: int
    offset: int
    size: int
    link: int


SHT_DYNAMIC = 6
DT_NEEDED = 1


def sections(data: bytes) -> dict[str, Section]:
    """The named sections of ELF object ``data``."""
    if data[:4] != b"\x7fELF" or len(data) < 64:
        raise ElfError("not an ELF file")
    if data[4] != 2 or data[5] != 1:
        raise ElfError("only 64-bit little-endian ELF is supported")
    shoff, = struct.unpack_from("<Q", data, 0x28)
    shentsize, shnum, shstrndx = struct.unpack_from("<HHH", data, 0x3A)
    raw = []
    for index in range(shnum):
        name, kind, _flags, _addr, offset, size, link = struct.unpack_from(
            "<IIQQQQI", data, shoff + index * shentsize)
        raw.append((name, kind, offset, size, link))
    if not raw:
        return {}
    strtab_offset = raw[shstrndx][2]
    result = {}
    for name, kind, offset, size, link in raw:
        end = data.index(b"\0", strtab_offset + name)
        label = data[strtab_offset + name:end].decode("ascii", "replace")
        result[label] = Section(label, kind, offset, size, link)
    return result


def modinfo(data: bytes) -> dict[str, list[str]]:
    """The ``.modinfo`` entries of kernel module ``data`` (a key may repeat: ``alias``)."""
    section = sections(data).get(".modinfo")
    if section is None:
        raise ElfError("no .modinfo section: not a kernel module")
    info: dict[str, list[str]] = {}
    for entry in data[section.offset:section.offset + section.size].split(b"\0"):
        key, sep, value = entry.decode("utf-8", "replace").partition("=")
        if sep:
            info.setdefault(key, []).append(value)
    return info


def needed(data: bytes) -> list[str]:
    """The ``DT_NEEDED`` shared libraries of program or library ``data``, in order."""
    found = sections(data)
    dynamic = found.get(".dynamic")
    if dynamic is None:
        return []  # statically linked
    by_index = list(found.values())
    strtab = next((s for s in found.values() if s.name == ".dynstr"), None)
    if strtab is None and dynamic.link < len(by_index):
        strtab = by_index[dynamic.link]
    if strtab is None:
        raise ElfError(".dynamic without a string table")
    names = []
    for offset in range(dynamic.offset, dynamic.offset + dynamic.size, 16):
        tag, value = struct.unpack_from("<qQ", data, offset)
        if tag == 0:
            break
        if tag == DT_NEEDED:
            start = strtab.offset + value
            names.append(data[start:data.index(b"\0", start)].decode("ascii"))
    return names
