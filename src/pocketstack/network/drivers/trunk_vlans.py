"""Trunks in the Linux datapath: a VLAN device per subport on its parent's tap (pure but
for :func:`apply`).

As Neutron's linuxbridge trunk driver plumbs them: a trunk's parent port is the guest's
tap ``tap<parent11>`` on the parent network's bridge, and each subport is a VLAN device
``tap<subport11>`` (802.1Q, the subport's ``segmentation_id``) whose lower device is that
tap.  The subport's device is then a port device like any other: the reconcile puts it
on its own network's bridge, and the security-group tables (which know devices by name)
filter it as the subport.  So a frame the guest sends tagged with the VLAN id enters the
subport's device untagged, and one from the subport's network leaves by the tap with
the tag; untagged frames stay on the parent's network.  The kernel takes a VLAN device
away with its lower device (the guest stopped).

What the datapath knows of a trunk is its parent's ``trunk_details`` (the subports, with
their segmentation); a trunk is wired where its parent's tap is.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from pocketstack.common import netns

LOG = logging.getLogger(__name__)

ACTIVE, DOWN, DEGRADED, ERROR = "ACTIVE", "DOWN", "DEGRADED", "ERROR"


@dataclass(frozen=True)
class Subport:
    """One VLAN device wanted: ``device`` on ``parent`` (a tap) with ``vlan``."""

    trunk_id: str
    port_id: str
    device: str
    parent: str
    vlan: int


def wanted(ports: Iterable[dict], tap_name: Callable[[str], str], present: Iterable[str]) -> dict[str, Subport]:
    """The subports' VLAN devices by name, for the trunks whose parent's tap is among the
    ``present`` devices (segmentation ``vlan`` only: the one type the API takes)."""
    here = set(present)
    found: dict[str, Subport] = {}
    for port in sorted(ports, key=lambda p: p["id"]):
        details = port.get("trunk_details")
        parent = tap_name(port["id"])
        if not details or parent not in here:
            continue
        for sub in details.get("sub_ports") or []:
            if sub.get("segmentation_type") != "vlan":
                continue
            device = tap_name(sub["port_id"])
            found[device] = Subport(details["trunk_id"], sub["port_id"], device, parent, int(sub["segmentation_id"]))
    return found


def is_vlan(link: dict) -> bool:
    return (link.get("linkinfo") or {}).get("info_kind") == "vlan"


def matches(link: dict, subport: Subport) -> bool:
    """Whether an existing device (``ip -j -d link``) is the subport's VLAN device."""
    data = (link.get("linkinfo") or {}).get("info_data") or {}
    return (is_vlan(link) and link.get("link") == subport.parent and data.get("id") == subport.vlan
            and data.get("protocol", "802.1Q") == "802.1Q")


def stale(links: dict[str, dict], want: dict[str, Subport]) -> list[str]:
    """The port VLAN devices (``tap…``) to delete: no subport's any more, or on another
    parent or VLAN (made again right)."""
    return sorted(name for name, link in links.items()
                  if name.startswith("tap") and is_vlan(link)
                  and (name not in want or not matches(link, want[name])))


def outcome(subports: dict[str, str]) -> str:
    """A trunk's status from its subports' (port id -> ACTIVE or DOWN): ACTIVE when all
    are wired (or it has none), ERROR when none is, DEGRADED otherwise."""
    wired = sum(1 for status in subports.values() if status == ACTIVE)
    if wired == len(subports):
        return ACTIVE
    return ERROR if wired == 0 else DEGRADED


def apply(ns: str, links: dict[str, dict], want: dict[str, Subport]) -> dict[str, str]:
    """Make ``ns``'s subport VLAN devices exactly ``want`` (given its ``links``); the
    devices that could not be made (a name taken by a device of another kind, a kernel
    refusal), by name, with the error."""
    failed: dict[str, str] = {}
    for name in stale(links, want):
        netns.ip(ns, "link", "del", name, check=False)
        links.pop(name, None)
    for name, subport in sorted(want.items()):
        if name in links:
            if not matches(links[name], subport):
                failed[name] = f"device {name} exists and is not VLAN {subport.vlan} of {subport.parent}"
            continue
        try:
            netns.ip(ns, "link", "add", "link", subport.parent, "name", name, "type", "vlan", "id", str(subport.vlan))
        except netns.CommandFailed as error:
            failed[name] = str(error)
    return failed


def statuses(links: dict[str, dict], want: dict[str, Subport], bridge_of: Callable[[str], str | None]
             ) -> dict[str, dict[str, str]]:
    """Per trunk, each subport's status as the devices are (``links``, read after the
    reconcile): ACTIVE when its VLAN device is right, up and on its network's bridge
    (``bridge_of(port id)``, None for a port the driver cannot place)."""
    result: dict[str, dict[str, str]] = {}
    for name, subport in want.items():
        link = links.get(name) or {}
        bridge = bridge_of(subport.port_id)
        ok = bool(link) and matches(link, subport) and bridge is not None and link.get("master") == bridge
        result.setdefault(subport.trunk_id, {})[subport.port_id] = ACTIVE if ok else DOWN
    return result


def trunks_here(ports: Iterable[dict], tap_name: Callable[[str], str], present: Iterable[str]) -> dict[str, list[str]]:
    """The trunks whose parent's tap is among ``present``: trunk id -> its subports' ids
    (a trunk without subports is wired too: ACTIVE)."""
    here = set(present)
    return {p["trunk_details"]["trunk_id"]: sorted(s["port_id"] for s in p["trunk_details"].get("sub_ports") or [])
            for p in ports if p.get("trunk_details") and tap_name(p["id"]) in here}


@dataclass
class Reports:
    """What the datapath reports of the trunks it wires (Neutron's agent-side trunk RPC):
    for every trunk here whose wiring changed since the last report, BUILD and then its
    outcome with its subports' statuses, handed to ``reporter`` (trunk id, status,
    subport id -> status; None: nobody listens, nothing is kept).

    :meth:`observe` runs inside a reconcile and only queues; :meth:`send` runs after it
    and is not re-entered: the reporter's changes come back to the driver as events,
    whose reconcile queues what changed again and returns, while the outer loop sends.
    A report that fails is made again after the next reconcile."""

    reporter: Callable[[str, str, dict[str, str]], None] | None = None
    reported: dict[str, tuple] = field(default_factory=dict)  # trunk id -> (status, subports) last reported
    queue: list[tuple[str, str, dict[str, str]]] = field(default_factory=list)
    sending: bool = False

    def observe(self, here: dict[str, list[str]], statuses: dict[str, dict[str, str]]) -> None:
        """The trunks here (trunk id -> subport ids) and their subports' statuses now;
        trunks no longer here are forgotten (reported anew when their parent's tap is back)."""
        for trunk_id in set(self.reported) - set(here):
            del self.reported[trunk_id]
        for trunk_id, members in sorted(here.items()):
            wired = {port_id: statuses.get(trunk_id, {}).get(port_id, DOWN) for port_id in members}
            now = (outcome(wired), tuple(sorted(wired.items())))
            if self.reported.get(trunk_id) != now:
                self.reported[trunk_id] = now
                self.queue += [(trunk_id, "BUILD", {}), (trunk_id, now[0], wired)]

    def send(self) -> None:
        if self.reporter is None:
            self.queue.clear()
            return
        if self.sending:
            return
        self.sending = True
        try:
            while self.queue:
                trunk_id, status, subports = self.queue.pop(0)
                try:
                    self.reporter(trunk_id, status, subports)
                except Exception:  # noqa: BLE001 - reported again after the next reconcile
                    LOG.exception("could not report trunk %s as %s", trunk_id, status)
                    self.reported.pop(trunk_id, None)
        finally:
            self.sending = False
