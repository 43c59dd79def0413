"""``rootexec``: the set-uid helper behind the tiny image's ``sudo``, written here as machine code.

CirrOS lets its user run anything as root through ``sudo`` (``NOPASSWD: ALL``), and
Tempest's scenario tests rely on it.  Debian's sudo needs PAM and a dozen libraries, and
busybox cannot do it: its set-uid applets only drop or keep the *effective* uid, and its
``/etc/busybox.conf`` mechanism frees its rule list after the first check, so a second
applet run in the same shell reads freed memory (it crashed, or ran ``id`` as root, when
tried).  So the image carries this helper: a 200-byte static x86-64 program, installed
``root:sudo`` with mode ``4750`` -- the kernel lets only root and members of group
``sudo`` (the ``cirros`` user) execute it -- that makes every uid and gid 0, drops the
supplementary groups and executes ``argv[1]`` with ``argv[1:]`` and the environment it
was given.  It searches no PATH and parses nothing; ``/usr/bin/sudo`` (a shell script,
``templates/sudo.sh``) gives it ``/usr/bin/env`` with a clean environment.  Any failing
system call ends it with status 127 before the ``execve``, so it never runs a program
with partial privileges.

Written as bytes, not compiled, so the image needs no compiler and stays reproducible;
each instruction is listed with its assembly (GNU ``as``, Intel syntax, gives the same
bytes).
"""

from __future__ import annotations

import struct

BASE = 0x400000
EHDR_SIZE = 64
PHDR_SIZE = 56
PT_LOAD, PT_GNU_STACK = 1, 0x6474E551
PF_X, PF_W, PF_R = 1, 2, 4

# x86-64 Linux system calls: number in eax, arguments in rdi, rsi, rdx; result in rax.
CODE = b"".join((
    b"\x31\xff",                  # xor edi, edi           size = 0
    b"\x31\xf6",                  # xor esi, esi           list = NULL
    b"\xb8\x74\x00\x00\x00",      # mov eax, 116           setgroups(0, NULL)
    b"\x0f\x05",                  # syscall
    b"\x48\x85\xc0",              # test rax, rax
    b"\x75\x36",                  # jnz fail
    b"\x31\xff",                  # xor edi, edi
    b"\xb8\x6a\x00\x00\x00",      # mov eax, 106           setgid(0): real, effective, saved
    b"\x0f\x05",                  # syscall
    b"\x48\x85\xc0",              # test rax, rax
    b"\x75\x28",                  # jnz fail
    b"\x31\xff",                  # xor edi, edi
    b"\xb8\x69\x00\x00\x00",      # mov eax, 105           setuid(0): real, effective, saved
    b"\x0f\x05",                  # syscall
    b"\x48\x85\xc0",              # test rax, rax
    b"\x75\x1a",                  # jnz fail
    b"\x48\x8b\x7c\x24\x10",      # mov rdi, [rsp+16]      path = argv[1]
    b"\x48\x8d\x74\x24\x10",      # lea rsi, [rsp+16]      argv = &argv[1]
    b"\x48\x8b\x04\x24",          # mov rax, [rsp]         argc
    b"\x48\x8d\x54\xc4\x10",      # lea rdx, [rsp+rax*8+16]  envp = &argv[argc + 1]
    b"\xb8\x3b\x00\x00\x00",      # mov eax, 59            execve(path, argv, envp)
    b"\x0f\x05",                  # syscall
    # fail:
    b"\xbf\x7f\x00\x00\x00",      # mov edi, 127
    b"\xb8\x3c\x00\x00\x00",      # mov eax, 60            exit(127)
    b"\x0f\x05",                  # syscall
))


def program() -> bytes:
    """The helper as a complete ELF executable: header, two program headers, code."""
    code_offset = EHDR_SIZE + 2 * PHDR_SIZE
    size = code_offset + len(CODE)
    header = struct.pack(
        "<4sBBBBB7xHHIQQQIHHHHHH",
        b"\x7fELF", 2, 1, 1, 0, 0,  # 64-bit, little-endian, ELF version 1, System V ABI
        2, 0x3E, 1,  # ET_EXEC, EM_X86_64, EV_CURRENT
        BASE + code_offset, EHDR_SIZE, 0,  # entry, program headers, no section headers
        0, EHDR_SIZE, PHDR_SIZE, 2, 0, 0, 0)
    load = struct.pack("<IIQQQQQQ", PT_LOAD, PF_R | PF_X, 0, BASE, BASE, size, size, 0x1000)
    stack = struct.pack("<IIQQQQQQ", PT_GNU_STACK, PF_R | PF_W, 0, 0, 0, 0, 0, 16)  # no executable stack
    return header + load + stack + CODE
