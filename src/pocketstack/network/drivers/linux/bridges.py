"""The datapath's host namespace: one bridge a local network, every port device on its
network's bridge (an unknown one quarantined), trunk subports as VLAN devices
(:mod:`..trunk_vlans`) and QoS limits on the port devices (:mod:`..tc_qos`)."""

from __future__ import annotations

import logging

from pocketstack.common import netns
from pocketstack.network.drivers import tc_qos, trunk_vlans
from pocketstack.network.drivers.linux.namespaces import Namespaces

LOG = logging.getLogger(__name__)


class HostBridges(Namespaces):
    """The host namespace's devices, for :class:`~.driver.LinuxDriver`."""

    def _bridges(self) -> None:
        links = netns.links(self.host_ns)
        wanted = {self.bridge_name(n): n for n in self._local_networks()}
        for name in links:
            if name.startswith("br-") and name not in wanted:
                netns.ip(self.host_ns, "link", "del", name)
        for name, network_id in wanted.items():
            if name not in links:
                netns.ip(self.host_ns, "link", "add", name, "type", "bridge")
            link = links.get(name, {})
            if str(link.get("mtu")) != self._mtu(network_id) or "UP" not in link.get("flags", []):
                netns.ip(self.host_ns, "link", "set", name, "mtu", self._mtu(network_id), "up")

    def _attach_ports(self) -> dict[str, dict]:
        """Every port device on its network's bridge (the unknown ones quarantined); the
        host namespace's devices, as they were read."""
        links = netns.links(self.host_ns)
        local = self._local_networks()
        for name, link in links.items():
            if not name.startswith("tap"):
                continue
            port = next((p for p in self.ports.values() if self.tap_name(p["id"]) == name), None)
            if port is None or port.get("network_id") not in local:
                # A guest's tap may be plugged before its port's event arrives (or outlive
                # it until the guest stops): quarantined, not deleted, until it is known.
                if link.get("master") or "UP" in link.get("flags", []):
                    netns.ip(self.host_ns, "link", "set", name, "nomaster", "down")
                continue
            bridge = self.bridge_name(port["network_id"])
            mtu = self._mtu(port["network_id"])
            if link.get("master") != bridge:
                netns.ip(self.host_ns, "link", "set", name, "master", bridge)
            if str(link.get("mtu")) != mtu or "UP" not in link.get("flags", []):
                netns.ip(self.host_ns, "link", "set", name, "mtu", mtu, "up")
        return links

    def _subport_devices(self) -> dict[str, trunk_vlans.Subport]:
        """The VLAN devices of the trunks whose parent's tap is here (:mod:`.trunk_vlans`),
        made before the ports go on their bridges (a subport's device is one of them)."""
        links = netns.links(self.host_ns)
        wanted = trunk_vlans.wanted(self.ports.values(), self.tap_name, links)
        failed = trunk_vlans.apply(self.host_ns, links, wanted)
        for name, error in sorted(failed.items()):
            LOG.error("linux datapath: trunk subport device %s not made: %s", name, error)
        return wanted

    def _trunk_outcomes(self, subports: dict[str, trunk_vlans.Subport]) -> None:
        links = netns.links(self.host_ns)
        self._devices = frozenset(name for name in links if name.startswith("tap"))
        self.trunk_reports.observe(trunk_vlans.trunks_here(self.ports.values(), self.tap_name, links),
                                   trunk_vlans.statuses(links, subports, self._bridge_of))

    def _bridge_of(self, port_id: str) -> str | None:
        port = self.ports.get(port_id)
        if port is None or port.get("network_id") not in self._local_networks():
            return None
        return self.bridge_name(port["network_id"])

    def _shape(self, links: dict[str, dict]) -> None:
        """The QoS bandwidth limits of every port device (:mod:`.tc_qos`) among the host
        namespace's ``links``, applied where they changed (or the device is a new one:
        another ifindex); ``sync`` re-applies them all."""
        taps = {name: link for name, link in links.items() if name.startswith("tap")}
        by_tap = {self.tap_name(p["id"]): p for p in self.ports.values()}
        for name in set(self._shaped) - set(taps):
            if self._shaped.pop(name)[1]:
                tc_qos.forget(self.host_ns, name)
        for name, link in taps.items():
            port = by_tap.get(name)
            wanted = tc_qos.limits(port, self.networks, self.qos_policies) if port is not None else {}
            state = (link.get("ifindex"), tuple(sorted(wanted.items())))
            last = self._shaped.get(name)
            if last == state and not self._forced:
                continue
            if wanted or (last is not None and last[1]) or self._forced:
                tc_qos.apply(self.host_ns, name, wanted)
            self._shaped[name] = state
