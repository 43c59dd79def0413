"""A router namespace a router served here: its interface and gateway veths and their
addresses, static routes, NAT and floating addresses (:func:`..nft_rules.nat_ruleset`),
radvd for its IPv6 subnets (:mod:`..radvd_config`), its metadata proxy and its metering
table (:mod:`.metering`)."""

from __future__ import annotations

import ipaddress
import json
import logging
import shutil

from pocketstack.common import netns
from pocketstack.network.drivers import daemons, metadata_proxy, nft_rules, radvd_config, vxlan
from pocketstack.network.drivers.daemons import Daemon
from pocketstack.network.drivers.linux.metering import MeteringNamespaces
from pocketstack.network.drivers.nft_rules import tag

LOG = logging.getLogger(__name__)


class RouterNamespaces(MeteringNamespaces):
    """The routers' namespaces, for :class:`~.driver.LinuxDriver`."""

    def _routers(self, proxied: set[str]) -> set[str]:
        # A router with admin_state_up false is not served at all, as Neutron's L3 agent
        # removes it: no namespace (so its interfaces go), no NAT, no metadata proxy.
        active = {i: r for i, r in self.routers.items() if r.get("admin_state_up") is not False and self._hosts(r)}
        wanted = set()
        advertising: set[str] = set()  # routers whose radvd runs
        for router_id, router in sorted(active.items()):
            ns = self.router_ns(router_id)
            wanted.add(ns)
            if self._ensure(ns):
                self._radvd_daemon(router_id).stop()  # one still running serves a deleted namespace
            netns.sysctl(ns, "net.ipv4.ip_forward", "1")
            netns.sysctl(ns, "net.ipv6.conf.all.forwarding", "1")
            # As Neutron's L3 agent: an interface answers ARP only for its own addresses.
            # Two interfaces on one network (an IPv4 and an IPv6 subnet) otherwise both
            # answer for the IPv4 gateway, and a request reaching the IPv6-only one cannot
            # be redirected to the metadata proxy (no IPv4 address to redirect to).
            netns.sysctl(ns, "net.ipv4.conf.all.arp_ignore", "1")
            netns.sysctl(ns, "net.ipv4.conf.all.arp_announce", "2")
            links = netns.links(ns)
            devices: dict[str, tuple[dict, set[str]]] = {}
            snat: list[str] = []
            for port in self._interfaces(router):
                if port.get("network_id") not in self.networks:
                    continue
                addresses = {a for f in port.get("fixed_ips") or [] if (a := self._prefixed(f))}
                devices[f"qr-{tag(port['id'])}"] = (port, addresses)
                snat += [self.subnets[f["subnet_id"]]["cidr"] for f in port.get("fixed_ips") or []
                         if f["subnet_id"] in self.subnets and self.subnets[f["subnet_id"]]["ip_version"] == 4]
            gateway = self._gateway_port(router)
            floating = [(f["floating_ip_address"], f["fixed_ip_address"]) for f in self.floatingips.values()
                        if f.get("router_id") == router_id and f.get("port_id") and f.get("fixed_ip_address")]
            gateway_device = gateway_ip = None
            routes: dict[str, str] = {}
            if gateway is not None:
                gateway_device = f"qg-{tag(gateway['id'])}"
                addresses = {a for f in gateway.get("fixed_ips") or [] if (a := self._prefixed(f))}
                addresses |= {f"{fip}/32" for fip, _ in floating}
                devices[gateway_device] = (gateway, addresses)
                for fixed in gateway.get("fixed_ips") or []:
                    subnet = self.subnets.get(fixed["subnet_id"])
                    if subnet and subnet["ip_version"] == 4:
                        gateway_ip = gateway_ip or fixed["ip_address"]
                    if subnet and subnet.get("gateway_ip"):  # the default route of each IP version
                        routes.setdefault("0.0.0.0/0" if subnet["ip_version"] == 4 else "::/0", subnet["gateway_ip"])
            for route in router.get("routes") or []:
                routes[route["destination"]] = route["nexthop"]
            for name in links:
                if name.startswith(("qr-", "qg-")) and name not in devices:
                    netns.ip(ns, "link", "del", name)
            for name, (port, addresses) in devices.items():
                self._veth(ns, name, port, links)
                netns.set_addresses(ns, name, addresses)
            self._set_routes(ns, routes)
            if self._radvd(router_id, ns, [(name, port) for name, (port, _) in devices.items() if port is not gateway]):
                advertising.add(router_id)
            enable_snat = (router.get("external_gateway_info") or {}).get("enable_snat", True)
            if self.metadata is not None:
                self.metadata.serve(ns, {p["network_id"] for p, _ in devices.values() if p is not gateway})
                proxied.add(ns)
            self._nft(ns, nft_rules.nat_ruleset(gateway_device, gateway_ip, snat if enable_snat else [], floating,
                                                metadata_proxy.PORT if self.metadata is not None else None))
            self._meter(ns, router, gateway_device)
        daemons.stop_others(self.state_dir / "radvd", advertising)
        self._metering_forget(wanted)
        return wanted

    def _radvd_daemon(self, router_id: str) -> Daemon:
        return Daemon(self.state_dir / "radvd" / router_id)

    def _radvd(self, router_id: str, ns: str, interfaces: list[tuple[str, dict]]) -> bool:
        """Run the router's radvd for its interfaces' IPv6 subnets with an RA mode (stop it
        if there are none); whether it runs."""
        conf = radvd_config.config([(name, int(self._mtu(port["network_id"])),
                                     [self.subnets[f["subnet_id"]] for f in port.get("fixed_ips") or []
                                      if f["subnet_id"] in self.subnets]) for name, port in interfaces])
        daemon = self._radvd_daemon(router_id)
        if not conf:
            daemon.stop()
            return False
        if shutil.which("radvd") is None:
            # One router without advertisements must not stop the rest of the reconcile.
            LOG.error("router %s has IPv6 subnets to advertise, but radvd (Debian package radvd) is not installed",
                      router_id)
            return False
        daemon.ensure(ns, radvd_config.command(daemon.directory), {"radvd.conf": conf})
        return True

    def _hosts(self, router: dict) -> bool:
        """Whether the router is served here: its ports are bound to this host (where
        its L3 agent is), or this is the only host."""
        ports = [*self._interfaces(router), *filter(None, [self._gateway_port(router)])]
        return self.host is None or any(vxlan.here(p, self.host) for p in ports)

    @staticmethod
    def _set_routes(ns: str, routes: dict[str, str]) -> None:
        """Static routes (``proto static``) exactly ``routes``: destination CIDR -> next
        hop, IPv4 and IPv6."""
        wanted: dict[tuple[str, str], str] = {}
        for destination, nexthop in routes.items():
            network = ipaddress.ip_network(destination, strict=False)
            # As ``ip`` shows them: "default", a host route without its length.
            shown = ("default" if network.prefixlen == 0 else str(network.network_address)
                     if network.prefixlen == network.max_prefixlen else str(network))
            wanted[(f"-{network.version}", shown)] = nexthop
        have = {(family, r["dst"]): r.get("gateway") for family in ("-4", "-6")
                for r in json.loads(netns.ip(ns, family, "-j", "route", "show", "proto", "static") or "[]")}
        for family, destination in have:
            if (family, destination) not in wanted:
                netns.ip(ns, family, "route", "del", destination, "proto", "static", check=False)
        for (family, destination), nexthop in wanted.items():
            if have.get((family, destination)) != nexthop:
                netns.ip(ns, family, "route", "replace", destination, "via", nexthop, "proto", "static")
