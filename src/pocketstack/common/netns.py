"""Network namespaces and their devices through iproute2 (``ip -n <ns> …``).

Every call names a namespace: nothing here touches the namespace it runs in (the
host's), except creating and deleting the namespaces themselves.  Shared by the network
datapath (``network/drivers/linux/``) and the compute host that plugs guests' taps
into it (``compute/drivers/vifs.py``), as Neutron's agents and os-vif share ``ip_lib``.
"""

from __future__ import annotations

import ctypes
import fcntl
import json
import logging
import os
import struct
import subprocess
import threading
from collections.abc import Callable
from typing import Any, TypeVar

LOG = logging.getLogger(__name__)


class CommandFailed(RuntimeError):
    pass


def run(*args: str, input: str | None = None, check: bool = True) -> str:
    result = subprocess.run(list(args), input=input, capture_output=True, text=True, check=False)
    if check and result.returncode != 0:
        raise CommandFailed(f"{' '.join(args)}: {result.stderr.strip() or result.stdout.strip()}")
    return result.stdout


def ip(ns: str, *args: str, check: bool = True) -> str:
    return run("ip", "-n", ns, *args, check=check)


def namespaces() -> set[str]:
    out = run("ip", "-j", "netns", "list")
    return {entry["name"] for entry in json.loads(out or "[]")}


def ensure(ns: str) -> bool:
    """Create the namespace unless it exists; whether it was created."""
    if ns in namespaces():
        return False
    run("ip", "netns", "add", ns)
    ip(ns, "link", "set", "lo", "up")
    return True


def delete(ns: str) -> None:
    if ns in namespaces():
        run("ip", "netns", "delete", ns)


def execute(ns: str, *args: str, input: str | None = None, check: bool = True) -> str:
    return run("ip", "netns", "exec", ns, *args, input=input, check=check)


def links(ns: str) -> dict[str, dict[str, Any]]:
    """The namespace's devices by name (``ip -j -d link``: kind, master, mtu, address…)."""
    out = ip(ns, "-j", "-d", "link", "show")
    return {link["ifname"]: link for link in json.loads(out or "[]")}


def addresses(ns: str, device: str) -> set[str]:
    """The device's global addresses as ``address/prefix``."""
    out = ip(ns, "-j", "addr", "show", "dev", device)
    found = set()
    for link in json.loads(out or "[]"):
        for info in link.get("addr_info", []):
            if info.get("scope") == "global":
                found.add(f"{info['local']}/{info['prefixlen']}")
    return found


def set_addresses(ns: str, device: str, wanted: set[str]) -> None:
    """Exactly these global addresses on the device.  IPv6 ones skip duplicate address
    detection: the API made them unique, and a daemon (dnsmasq, radvd) must not find the
    address still tentative."""
    have = addresses(ns, device)
    for address in have - wanted:
        ip(ns, "addr", "del", address, "dev", device)
    for address in wanted - have:
        ip(ns, "addr", "add", address, "dev", device, *(["nodad"] if ":" in address else []))


def sysctl(ns: str, key: str, value: str) -> None:
    execute(ns, "sysctl", "-q", "-w", f"{key}={value}")


# -- descriptors made inside a namespace (a guest's tap, a listening socket) --------------------
_CLONE_NEWNET = 0x40000000
_TUNSETIFF = 0x400454CA
_IFF_TAP, _IFF_NO_PI, _IFF_VNET_HDR = 0x0002, 0x1000, 0x4000
T = TypeVar("T")


def inside(ns: str, make: Callable[[], T], what: str) -> T:
    """``make()`` run in namespace ``ns``: what it opens (a tap, a socket) belongs to that
    namespace for good, whichever process or thread uses it later.  It runs in a thread
    of its own (``setns`` changes only the calling thread), which ends after."""
    made: list[T] = []
    failed: list[OSError] = []

    def work() -> None:
        libc = ctypes.CDLL(None, use_errno=True)
        target = os.open(f"/run/netns/{ns}", os.O_RDONLY)
        try:
            if libc.setns(target, _CLONE_NEWNET) != 0:
                raise OSError(ctypes.get_errno(), f"setns into {ns}")
            made.append(make())
        except OSError as error:
            failed.append(error)
        finally:
            os.close(target)

    thread = threading.Thread(target=work, name=f"{what} in {ns}")
    thread.start()
    thread.join()
    if failed:
        raise CommandFailed(f"could not make {what} in {ns}: {failed[0]}")
    return made[0]


def open_tap(ns: str, name: str, vnet_hdr: bool = True) -> int:
    """Create tap device ``name`` in namespace ``ns`` and return its file descriptor.

    For QEMU (``-netdev tap,fd=N``): the device lives in ``ns`` while the process that
    holds the descriptor runs anywhere, and it disappears when the last holder closes it
    (a guest that stops takes its NIC with it).
    """
    def make() -> int:
        tap = os.open("/dev/net/tun", os.O_RDWR | os.O_CLOEXEC)
        try:
            flags = _IFF_TAP | _IFF_NO_PI | (_IFF_VNET_HDR if vnet_hdr else 0)
            fcntl.ioctl(tap, _TUNSETIFF, struct.pack("16sH", name.encode(), flags))
        except OSError:
            os.close(tap)
            raise
        return tap

    return inside(ns, make, f"tap {name}")
