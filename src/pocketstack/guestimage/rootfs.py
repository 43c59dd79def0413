"""The guest's root filesystem: what goes into the initramfs, and the small config files.

Everything the image does at boot is in one shell script, ``templates/init.sh``,
rendered here with the build's values (user, kernel version, labels) and run by the
kernel as ``/init``.  The rest is generated text -- inittab, the login banner, the
syslinux configuration -- kept in functions so the unit tests can check it without a
build.  Binaries come from unpacked Debian packages: busybox (static, provides the
shell and every utility through ``busybox --install -s`` at boot), dropbear with exactly
the shared libraries it needs, and the kernel modules :mod:`kmod` selected.
"""

from __future__ import annotations

import stat
from importlib import resources
from pathlib import Path

from pocketstack.guestimage import elf, rootexec
from pocketstack.guestimage.cpio import Tree
from pocketstack.guestimage.errors import BuildError
from pocketstack.guestimage.kmod import Module, read_module

USER = "cirros"
PASSWORD = "gocubsgo"  # cirros's well-known default; a test image, never a secret
HOSTNAME = "tiny"
CONFIG_LABEL = "config-2"
METADATA_HOST = "169.254.169.254"
METADATA_PATH = "/openstack/latest"
SUDO_GID = 27  # group "sudo", as on Debian: who may run /usr/lib/tiny/rootexec
LIB_DIR = "lib/x86_64-linux-gnu"
# What Tempest and CirrOS users run in a guest that busybox lacks: shell scripts over
# busybox (templates/*.sh), where util-linux, sudo and curl would put them.
TOOLS = {"usr/bin/sudo": "sudo.sh", "bin/lsblk": "lsblk.sh", "sbin/blkid": "blkid.sh",
         "sbin/mkfs": "mkfs.sh", "usr/bin/curl": "curl.sh"}
INTERPRETER = "lib64/ld-linux-x86-64.so.2"

# Plain text: busybox getty expands backslash escapes in /etc/issue.
BANNER = """
  ======================================================
   pocketstack tiny guest {release}
   a cirros-like test image built from Debian packages
  ======================================================

login as '{user}' user. default password: '{password}'.
"""


class RootfsError(BuildError):
    """A file the guest needs is missing from the unpacked packages."""


def template(name: str) -> str:
    return resources.files("pocketstack.guestimage").joinpath("templates", name).read_text()


def render(text: str, values: dict[str, str]) -> str:
    """Replace ``@@NAME@@`` markers; a marker left unfilled is an error, not a silent blank."""
    for key, value in values.items():
        text = text.replace(f"@@{key}@@", value)
    if "@@" in text:
        start = text.index("@@")
        raise ValueError(f"template marker left unfilled: {text[start:text.index('@@', start + 2) + 2]}")
    return text


def init_script(kernel_version: str, release: str) -> str:
    return render(template("init.sh"), {
        "USER": USER, "PASSWORD": PASSWORD, "HOSTNAME": HOSTNAME, "CONFIG_LABEL": CONFIG_LABEL,
        "DATA_LABEL": "tiny-data", "METADATA_HOST": METADATA_HOST,
        "METADATA_PATH": METADATA_PATH, "KERNEL_VERSION": kernel_version,
        "RELEASE": release, "SUDO_GID": str(SUDO_GID),
    })


def inittab() -> str:
    """busybox init: a login prompt on the serial console and on the first VT."""
    return ("# pocketstack tiny image: /init has set the machine up; init runs the logins.\n"
            "ttyS0::respawn:/sbin/getty -L 115200 ttyS0 vt100\n"
            "tty1::respawn:/sbin/getty 38400 tty1\n"
            "::ctrlaltdel:/sbin/reboot\n"
            "::shutdown:/etc/tiny/shutdown\n")


def shutdown_script() -> str:
    return ("#!/bin/sh\n"
            "# Run by init before reboot/poweroff: stop services, flush the data partition.\n"
            "echo 'tiny: shutting down'\n"
            "killall dropbear acpid udhcpc 2>/dev/null\n"
            "sync\n"
            "umount /home /root /tmp 2>/dev/null\n"
            "umount /mnt/data 2>/dev/null || mount -o remount,ro /mnt/data 2>/dev/null\n"
            "sync\n")


def mdev_conf() -> str:
    """mdev only runs the disk hook: devtmpfs has made every node already ("!": touch none)."""
    return ("# pocketstack tiny image: report disk hot-plug; leave /dev as devtmpfs made it.\n"
            "(vd[a-z]+|sd[a-z]+|hd[a-z]+|sr[0-9]+) 0:0 660 ! */etc/tiny/hotplug\n"
            ".* 0:0 600 !\n")


def issue(release: str) -> str:
    """``/etc/issue``: the banner getty prints above each login prompt."""
    return BANNER.format(release=release, user=USER, password=PASSWORD) + "\n"


def syslinux_cfg(kernel: str = "vmlinuz", initrd: str = "initrd.gz") -> str:
    """Boot at once, console on the serial port and the screen (``ttyS0`` last: /dev/console)."""
    return ("SERIAL 0 115200\n"
            "DEFAULT tiny\n"
            "PROMPT 0\n"
            "TIMEOUT 1\n"
            "LABEL tiny\n"
            f"  KERNEL /{kernel}\n"
            f"  INITRD /{initrd}\n"
            "  APPEND console=tty0 console=ttyS0,115200n8 quiet\n")


def shared_libraries(programs: list[Path], search: list[Path]) -> dict[str, Path]:
    """Every library ``programs`` load (transitively), by soname, found under ``search``."""
    found: dict[str, Path] = {}
    pending = [name for program in programs for name in elf.needed(program.read_bytes())]
    while pending:
        soname = pending.pop()
        if soname in found:
            continue
        for directory in search:
            candidate = directory / soname
            if candidate.exists():
                found[soname] = candidate.resolve()
                pending.extend(elf.needed(found[soname].read_bytes()))
                break
        else:
            raise RootfsError(f"shared library {soname} not found in the unpacked packages")
    return found


def build_tree(unpacked: Path, kernel_version: str, modules: list[Module], release: str) -> Tree:
    """The initramfs contents from the packages unpacked (each ``dpkg-deb -x``) under ``unpacked``."""
    tree = Tree()
    for directory in ("bin", "sbin", "usr/bin", "usr/sbin", "etc", "proc", "sys", "dev", "run", "tmp", "var/log",
                      "home", "root", "mnt", "lib", LIB_DIR, "usr/share/udhcpc", "usr/share/tiny"):
        tree.directory(directory)
    tree.symlink("var/run", "../run")  # pid files: Tempest reads /var/run/udhcpc.eth0.pid
    tree.directory("tmp", 0o1777)
    tree.directory("root", 0o700)
    tree.device("dev/console", stat.S_IFCHR, 5, 1)
    tree.device("dev/null", stat.S_IFCHR, 1, 3, 0o666)

    busybox = unpacked / "bin/busybox"
    if not busybox.exists():
        raise RootfsError("bin/busybox missing: busybox-static not unpacked")
    # Set-uid root, as CirrOS ships it: Debian's busybox-static is built with FEATURE_SUID, so
    # only the applets that need it (ping, ping6, traceroute, su...) keep root and every other
    # applet drops it.  Without it the cirros user cannot ping (Tempest's scenario tests do).
    tree.file("bin/busybox", busybox.read_bytes(), 0o4755)
    tree.symlink("bin/sh", "busybox")
    tree.symlink("sbin/init", "../bin/busybox")
    tree.file("init", init_script(kernel_version, release), 0o755)

    programs = {"usr/sbin/dropbear": unpacked / "usr/sbin/dropbear",
                "usr/bin/dropbearkey": unpacked / "usr/bin/dropbearkey",
                "usr/bin/dbclient": unpacked / "usr/bin/dbclient"}
    for target, source in programs.items():
        if not source.exists():
            raise RootfsError(f"{target} missing: dropbear-bin not unpacked")
        tree.file(target, source.read_bytes(), 0o755)
    search = [unpacked / "lib/x86_64-linux-gnu", unpacked / "usr/lib/x86_64-linux-gnu"]
    libraries = shared_libraries(list(programs.values()), search)
    loader = next((p for p in search if (p / "ld-linux-x86-64.so.2").exists()), None)
    if loader is None:
        raise RootfsError("ld-linux-x86-64.so.2 missing: libc6 not unpacked")
    libraries["ld-linux-x86-64.so.2"] = (loader / "ld-linux-x86-64.so.2").resolve()
    for soname, path in sorted(libraries.items()):
        tree.file(f"{LIB_DIR}/{soname}", path.read_bytes(), 0o755)
    tree.symlink(INTERPRETER, f"../{LIB_DIR}/ld-linux-x86-64.so.2")
    tree.symlink("usr/lib64", "../lib64")

    for module in modules:
        tree.file(f"lib/modules/{kernel_version}/{module.name}.ko", read_module(module.path))
    tree.file("etc/tiny/modules", "".join(f"{module.name}\n" for module in modules))

    tree.file("etc/inittab", inittab())
    tree.file("etc/issue", issue(release))
    tree.file("etc/tiny/release", f"{release}\n")
    tree.file("etc/tiny/shutdown", shutdown_script(), 0o755)
    tree.file("etc/shells", "/bin/sh\n/bin/ash\n")
    tree.file("etc/nsswitch.conf", "passwd: files\ngroup: files\nshadow: files\nhosts: files dns\n")
    tree.file("etc/acpi/PWRF/00000080", "#!/bin/sh\npoweroff\n", 0o755)
    tree.file("etc/profile", 'export PATH=/usr/sbin:/usr/bin:/sbin:/bin\nexport PS1="\\u@\\h:\\w\\$ "\n')
    tree.file("usr/share/udhcpc/default.script", template("udhcpc.script"), 0o755)
    tree.file("usr/share/tiny/json.awk", template("json.awk"))
    tree.file("etc/tiny/hotplug", template("hotplug.sh"), 0o755)
    tree.file("etc/mdev.conf", mdev_conf())
    tree.file("usr/lib/tiny/rootexec", rootexec.program(), 0o4750, gid=SUDO_GID)
    for tool, name in TOOLS.items():
        tree.file(tool, template(name), 0o755)
    return tree
