"""The order of a server's NICs in its guest: the order of the ``networks`` it was booted
with, as Nova's (its network info cache keeps the request's order, and libvirt plugs the
interfaces in that order), so the guest's first NIC (``eth0``) is the first network
asked for.  The network service lists a server's ports by creation, which puts ports made
before the boot (``networks: [{"port": ...}]``) first wherever they were asked for.

A requested port is that port; a requested network is the first port not yet placed on
it (the one with ``fixed_ip`` when one was asked for); ports attached later follow, in
the network service's order."""

from __future__ import annotations

from typing import Any


def _matches(port: dict, entry: dict) -> bool:
    if entry.get("port_id"):
        return bool(port["id"] == entry["port_id"])
    if port["network_id"] != entry.get("network_id"):
        return False
    fixed = entry.get("fixed_ip")
    return fixed is None or any(ip["ip_address"] == fixed for ip in port.get("fixed_ips") or ())


def in_request_order(ports: list[dict], requested: Any) -> list[dict]:
    """``ports`` (the network service's order) reordered as ``requested`` (the server's
    ``requested_networks``: a list of entries, or "auto"/"none"/None, which keep it)."""
    if not isinstance(requested, list):
        return list(ports)
    left = list(ports)
    placed: list[dict] = []
    for entry in requested:
        port = next((p for p in left if _matches(p, entry)), None)
        if port is not None:
            left.remove(port)
            placed.append(port)
    return placed + left
