"""Ports and subnets -> a network's dnsmasq hosts file, options file and command line."""

from __future__ import annotations

from pathlib import Path

from pocketstack.network.drivers.dnsmasq_config import command, hosts_file, isolated_subnets, opts_file, reloadable

V4 = {"id": "s4", "network_id": "n", "ip_version": 4, "cidr": "10.0.0.0/24", "gateway_ip": "10.0.0.1",
      "enable_dhcp": True, "dns_nameservers": ["192.0.2.53", "192.0.2.54"], "host_routes": []}
V6 = {"id": "s6", "network_id": "n", "ip_version": 6, "cidr": "2001:db8::/64", "gateway_ip": "2001:db8::1",
      "enable_dhcp": True, "dns_nameservers": [], "host_routes": []}
OFF = {"id": "s0", "network_id": "n", "ip_version": 4, "cidr": "10.9.0.0/24", "gateway_ip": None,
       "enable_dhcp": False, "dns_nameservers": [], "host_routes": []}


def port(port_id, mac, *addresses, **extra):
    value = {"id": port_id, "mac_address": mac, "device_owner": "compute:nova", "dns_name": "",
             "fixed_ips": [{"subnet_id": s, "ip_address": a} for s, a in addresses]}
    value.update(extra)
    return value


def test_hosts_file_lists_each_served_address_with_a_name():
    """A port's tag only where its extra_dhcp_opts need one: a tagged host line makes
    SIGHUP unsafe for dnsmasq 2.90, so its network's dnsmasq is restarted instead."""
    ports = [port("p2", "FA:16:3E:00:00:02", ("s4", "10.0.0.6"), dns_name="web1"),
             port("p1", "fa:16:3e:00:00:01", ("s4", "10.0.0.5"), ("s6", "2001:db8::5"), ("s0", "10.9.0.5")),
             port("d", "fa:16:3e:00:00:09", ("s4", "10.0.0.2"), device_owner="network:dhcp")]
    plain = hosts_file(ports, [V4, V6, OFF])
    assert plain == (
        "fa:16:3e:00:00:01,host-10-0-0-5.openstacklocal,10.0.0.5\n"
        "fa:16:3e:00:00:01,host-2001-db8--5.openstacklocal,[2001:db8::5]\n"
        "fa:16:3e:00:00:02,web1.openstacklocal,10.0.0.6\n")
    assert hosts_file([], [V4]) == ""
    ports[0]["extra_dhcp_opts"] = [{"opt_name": "bootfile-name", "opt_value": "pxelinux.0", "ip_version": 4}]
    tagged = hosts_file(ports, [V4, V6, OFF])
    assert tagged.endswith("fa:16:3e:00:00:02,web1.openstacklocal,10.0.0.6,set:port-p2\n")
    assert (reloadable(plain, plain), reloadable(tagged, tagged), reloadable("", plain)) == (True, False, True)


def test_a_host_line_gone_or_changed_restarts_dnsmasq():
    """A new line is a SIGHUP; a line gone or changed is a restart: the lease dnsmasq keeps
    for the old MAC and address would refuse the next port given that address."""
    old = "fa:16:3e:00:00:01,host-10-0-0-5.openstacklocal,10.0.0.5\n"
    new = "fa:16:3e:00:00:02,host-10-0-0-5.openstacklocal,10.0.0.5\n"
    router = "fa:16:3e:00:00:09,host-10-0-0-1.openstacklocal,10.0.0.1\n"
    assert reloadable(old, old + router)
    assert not reloadable(old + router, router)
    assert not reloadable(old + router, new + router)


def test_options_per_subnet_and_port():
    routed = dict(V4, dns_nameservers=[], host_routes=[{"destination": "192.168.0.0/16", "nexthop": "10.0.0.254"}])
    ports = [port("p1", "fa:16:3e:00:00:01", ("s4", "10.0.0.5"),
                  extra_dhcp_opts=[{"opt_name": "bootfile-name", "opt_value": "pxelinux.0", "ip_version": 4},
                                   {"opt_name": "150", "opt_value": "10.0.0.9"},
                                   {"opt_name": "dns-server", "opt_value": "[2001:db8::53]", "ip_version": 6}])]
    assert opts_file([], [V4, OFF]) == ("tag:subnet-s4,option:router,10.0.0.1\n"
                                        "tag:subnet-s4,option:dns-server,192.0.2.53,192.0.2.54\n")
    assert opts_file(ports, [routed], mtu=1450) == (
        "tag:subnet-s4,option:router,10.0.0.1\n"
        "tag:subnet-s4,option:mtu,1450\n"
        "tag:subnet-s4,option:classless-static-route,192.168.0.0/16,10.0.0.254,0.0.0.0/0,10.0.0.1\n"
        "tag:subnet-s4,249,192.168.0.0/16,10.0.0.254,0.0.0.0/0,10.0.0.1\n"
        "tag:port-p1,option:bootfile-name,pxelinux.0\n"
        "tag:port-p1,150,10.0.0.9\n"
        "tag:port-p1,option6:dns-server,[2001:db8::53]\n")
    # No gateway: the router option is sent empty, so clients install no default route.
    assert opts_file([], [dict(V4, gateway_ip=None, dns_nameservers=[])]) == "tag:subnet-s4,option:router\n"


def test_a_subnet_without_a_router_at_its_gateway_is_isolated_and_routes_metadata_to_dhcp():
    other = dict(V4, id="s5", cidr="10.0.5.0/24", gateway_ip="10.0.5.1")
    # A router interface at s4's gateway; one on s5 at another address does not count.
    routers = {("s4", "10.0.0.1"), ("s5", "10.0.5.99")}
    assert isolated_subnets([V4, other, V6, OFF], routers) == {"s5"}
    assert isolated_subnets([V4, other], set()) == {"s4", "s5"}
    # Option 121 (and 249): the metadata route first, the default route kept.
    assert opts_file([], [dict(V4, dns_nameservers=[])], metadata_routes={"s4": "10.0.0.2"}) == (
        "tag:subnet-s4,option:router,10.0.0.1\n"
        "tag:subnet-s4,option:classless-static-route,169.254.169.254/32,10.0.0.2,0.0.0.0/0,10.0.0.1\n"
        "tag:subnet-s4,249,169.254.169.254/32,10.0.0.2,0.0.0.0/0,10.0.0.1\n")
    assert "169.254" not in opts_file([], [V4], metadata_routes={"s5": "10.0.5.2"})


def test_command_serves_only_listed_hosts_on_the_dhcp_port():
    args = command("n", "ns-abc", [V4, V6, OFF], Path("/state/n"), lease_seconds=600)
    assert args[0] == "dnsmasq"
    assert "--interface=ns-abc" in args and "--bind-interfaces" in args and "--port=0" in args
    assert "--conf-file=/state/n/dnsmasq.conf" in args and "--leasefile-ro" in args
    assert "--dhcp-hostsfile=/state/n/hosts" in args and "--dhcp-optsfile=/state/n/opts" in args
    assert "--pid-file=/state/n/pid" in args
    assert [a for a in args if a.startswith("--dhcp-range")] == [
        "--dhcp-range=set:subnet-s4,10.0.0.0,static,255.255.255.0,600s",
        "--dhcp-range=set:subnet-s6,2001:db8::,static,64,600s"]


def test_ipv6_subnets_by_address_mode():
    """Stateful (or no mode): addresses by MAC; stateless: options only; SLAAC: not dnsmasq's."""
    stateful = dict(V6, id="sf", ipv6_ra_mode="dhcpv6-stateful", ipv6_address_mode="dhcpv6-stateful",
                    dns_nameservers=["2001:db8::53", "2001:db8::54"])
    stateless = dict(V6, id="sl", cidr="2001:db8:1::/64", ipv6_ra_mode="dhcpv6-stateless",
                     ipv6_address_mode="dhcpv6-stateless", dns_nameservers=["2001:db8::53"])
    slaac = dict(V6, id="sa", cidr="2001:db8:2::/64", ipv6_ra_mode="slaac", ipv6_address_mode="slaac")
    wide = dict(V6, id="w", cidr="2001:db8:8::/56")  # dnsmasq takes no DHCPv6 range shorter than /64
    subnets = [stateful, stateless, slaac, wide]
    ports = [port("p1", "fa:16:3e:00:00:01", ("sf", "2001:db8::5"), ("sl", "2001:db8:1::f816:3eff:fe00:1"),
                  ("sa", "2001:db8:2::f816:3eff:fe00:1"))]
    assert hosts_file(ports, subnets) == "fa:16:3e:00:00:01,host-2001-db8--5.openstacklocal,[2001:db8::5]\n"
    assert opts_file([], subnets, mtu=1450) == ("tag:subnet-sf,option6:dns-server,[2001:db8::53],[2001:db8::54]\n"
                                                "tag:subnet-sl,option6:dns-server,[2001:db8::53]\n")
    assert [a for a in command("n", "ns-abc", subnets, Path("/s")) if a.startswith("--dhcp-range")] == [
        "--dhcp-range=set:subnet-sf,2001:db8::,static,64,86400s",
        "--dhcp-range=set:subnet-sl,2001:db8:1::,static,64,86400s"]
