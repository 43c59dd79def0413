"""Guests' NICs on the linux datapath: one tap per port, on the port's bridge, handed to
QEMU as a file descriptor.

What os-vif and libvirt do for Nova on a Neutron linuxbridge host, without either: a
port bound to this host reports ``binding:vif_type`` ``tap`` and the bridge of its
network (``binding:vif_details`` ``bridge_name``); each time a guest's QEMU starts, the
compute host creates the port's tap device, ``tap<first 11 characters of the port id>``
(Nova's device name), in the datapath's host namespace (``<network_datapath_prefix>host``,
where the bridges are) by opening ``/dev/net/tun`` there, gives it the network's MTU,
puts it on the bridge and brings it up -- all before QEMU starts, so the guest's first
DHCP request finds the network -- and QEMU gets the descriptor (``-netdev tap,fd=N``,
``-device virtio-net-pci,mac=<port MAC>,host_mtu=<MTU>``).  The datapath agent treats
the device as the port's (security-group rules, anti-spoofing) and keeps it on its
bridge at every reconcile.

Passing the descriptor rather than ``ifname=…,script=no`` is what keeps the device in a
namespace QEMU does not run in (QEMU would create it in its own, the host's) and ties
its life to QEMU's: the tap lives as long as QEMU holds it -- through a restart of the
compute service, which re-attaches to the running QEMU -- and goes when QEMU ends, so a
stopped or deleted guest leaves no device behind and the next start makes a fresh one.
"""

from __future__ import annotations

import contextlib
import json
import os

from pocketstack.common import netns
from pocketstack.compute.drivers.qemu_guest import GuestDef, pci_addr

# Nova's NIC_NAME_LEN (14): "tap" and the start of the port id.
DEVICE_PREFIX = "tap"
DEVICE_NAME_LEN = 14


def device_name(port_id: str) -> str:
    return (DEVICE_PREFIX + port_id)[:DEVICE_NAME_LEN]


def nic(port: dict, mtu: int | None) -> dict | None:
    """A guest NIC (an entry of ``GuestDef.nics``) for a port this host plugs as a tap;
    None for a port bound another way (the noop datapath's ``ovs``)."""
    details = port.get("binding:vif_details") or {}
    if port.get("binding:vif_type") != "tap" or not details.get("bridge_name"):
        return None
    return {"port_id": port["id"], "mac_address": port["mac_address"], "bridge": details["bridge_name"],
            "mtu": mtu}


def device_ids(port_id: str) -> tuple[str, str]:
    """QEMU's ids of a port's netdev and NIC device (stable: a hot-unplug finds them)."""
    return f"net-{port_id[:11]}", f"nic-{port_id[:11]}"


def device_properties(entry: dict) -> dict:
    """The guest's virtio-net device of ``entry``: the port's MAC and the network's MTU."""
    netdev, device = device_ids(entry["port_id"])
    properties: dict = {"driver": "virtio-net-pci", "netdev": netdev, "id": device, "mac": entry["mac_address"]}
    if entry.get("mtu"):
        properties["host_mtu"] = int(entry["mtu"])
    if entry.get("pci_slot") is not None:
        properties["addr"] = pci_addr(int(entry["pci_slot"]))
    return properties


class TapPlugger:
    """The QEMU driver's NIC backend on a host running the linux datapath."""

    def __init__(self, namespace: str):
        self.namespace = namespace

    def plug(self, guest: GuestDef) -> tuple[list[str], list[int]]:
        """The guest's ``-netdev``/``-device`` arguments and the tap descriptors they name
        (to pass to QEMU, then close)."""
        args: list[str] = []
        fds: list[int] = []
        try:
            for entry in guest.nics:
                fd = self.open(entry)
                fds.append(fd)
                netdev, _ = device_ids(entry["port_id"])
                args += ["-netdev", f"tap,id={netdev},fd={fd},vhost=off",
                         "-device", json.dumps(device_properties(entry))]
        except BaseException:
            for fd in fds:
                os.close(fd)
            raise
        return args, fds

    def open(self, entry: dict) -> int:
        """The port's tap, created on its bridge, up, with the network's MTU: its descriptor."""
        name = device_name(entry["port_id"])
        fd = netns.open_tap(self.namespace, name)
        try:
            settings = ["mtu", str(entry["mtu"])] if entry.get("mtu") else []
            netns.ip(self.namespace, "link", "set", "dev", name, *settings, "master", entry["bridge"], "up")
        except netns.CommandFailed:
            os.close(fd)
            raise
        return fd

    def unplug(self, nics: list[dict]) -> None:
        """Remove these NICs' taps (they go with QEMU anyway: this is for one that lingers)."""
        for entry in nics:
            with contextlib.suppress(netns.CommandFailed):
                netns.ip(self.namespace, "link", "del", device_name(entry["port_id"]), check=False)
