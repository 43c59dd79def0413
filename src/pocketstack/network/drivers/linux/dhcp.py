"""A DHCP namespace a network with a DHCP port here: the port's veth, its dnsmasq
(:mod:`..dnsmasq_config`) and, for an IPv4 subnet no router serves, 169.254.169.254 and
the metadata proxy (Neutron's isolated metadata)."""

from __future__ import annotations

from pocketstack.common import netns
from pocketstack.network.drivers import dnsmasq_config, metadata_proxy, vxlan
from pocketstack.network.drivers.daemons import Daemon
from pocketstack.network.drivers.linux.namespaces import Namespaces
from pocketstack.network.drivers.nft_rules import tag

DHCP_OWNER = "network:dhcp"


class DhcpNamespaces(Namespaces):
    """The networks' DHCP namespaces, for :class:`~.driver.LinuxDriver`."""

    def _dhcp(self, proxied: set[str]) -> set[str]:
        wanted = set()
        for network_id in sorted(self.networks):
            subnets = [s for s in self.subnets.values() if s.get("network_id") == network_id]
            served = dnsmasq_config.dhcp_subnets(subnets)
            port = next((p for p in sorted(self.ports.values(), key=lambda p: p["id"])
                         if p.get("network_id") == network_id and p.get("device_owner") == DHCP_OWNER
                         and vxlan.here(p, self.host)), None)
            if not served or port is None:
                continue
            ns = self.dhcp_ns(network_id)
            wanted.add(ns)
            if self._ensure(ns):
                # The DHCP port's addresses are the API's: no SLAAC of its own from the RAs.
                netns.sysctl(ns, "net.ipv6.conf.default.accept_ra", "0")
                self._dnsmasq(network_id).stop()  # one still running serves a deleted namespace
            links = netns.links(ns)
            inner = f"ns-{tag(port['id'])}"
            for name in links:
                if name.startswith("ns-") and name != inner:
                    netns.ip(ns, "link", "del", name)
            self._veth(ns, inner, port, links)
            addresses = {a for f in port.get("fixed_ips") or [] if (a := self._prefixed(f))}
            # Isolated metadata (Neutron's enable_isolated_metadata): the guests of an
            # IPv4 subnet no router serves reach 169.254.169.254 here, by a host route.
            metadata_routes: dict[str, str] = {}
            if self.metadata is not None:
                isolated = dnsmasq_config.isolated_subnets(served, self._router_gateways())
                metadata_routes = {f["subnet_id"]: f["ip_address"] for f in port.get("fixed_ips") or []
                                   if f["subnet_id"] in isolated}
            if metadata_routes:
                addresses.add(f"{metadata_proxy.ADDRESS}/32")
            netns.set_addresses(ns, inner, addresses)
            if metadata_routes:
                assert self.metadata is not None
                self.metadata.serve(ns, {network_id}, (metadata_proxy.ADDRESS, 80))
                proxied.add(ns)
            ports = [p for p in self.ports.values() if p.get("network_id") == network_id]
            self._start_dnsmasq(network_id, ns, inner, ports, subnets, metadata_routes)
        return wanted

    def _router_gateways(self) -> set[tuple[str, str]]:
        """(subnet id, address) of every router interface: a subnet whose gateway address
        is among them has a router (and its metadata proxy)."""
        return {(f["subnet_id"], f["ip_address"]) for router in self.routers.values()
                for port in self._interfaces(router) for f in port.get("fixed_ips") or []}

    def _dnsmasq(self, network_id: str) -> Daemon:
        return Daemon(self.state_dir / "dhcp" / network_id)

    def _start_dnsmasq(self, network_id: str, ns: str, interface: str, ports: list[dict], subnets: list[dict],
                       metadata_routes: dict[str, str]) -> None:
        daemon = self._dnsmasq(network_id)
        opts = dnsmasq_config.opts_file(ports, subnets, int(self._mtu(network_id)), metadata_routes)
        daemon.ensure(ns, dnsmasq_config.command(network_id, interface, subnets, daemon.directory),
                      {"dnsmasq.conf": "", "hosts": dnsmasq_config.hosts_file(ports, subnets), "opts": opts},
                      reloadable=lambda running, wanted: dnsmasq_config.reloadable(running.get("hosts", ""),
                                                                                  wanted["hosts"]))
