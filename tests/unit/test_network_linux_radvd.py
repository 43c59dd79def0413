"""A router's interfaces and their IPv6 subnets -> radvd.conf (Neutron's flags per RA mode)."""

from __future__ import annotations

from pathlib import Path

from pocketstack.network.drivers.radvd_config import command, config


def subnet(cidr: str, ra_mode: str | None, version: int = 6, dns: tuple[str, ...] = ()) -> dict:
    return {"id": cidr, "ip_version": version, "cidr": cidr, "ipv6_ra_mode": ra_mode, "ipv6_address_mode": ra_mode,
            "dns_nameservers": list(dns)}


def test_each_mode_gets_neutrons_flags_and_prefix():
    slaac = subnet("2001:db8:1::/64", "slaac", dns=("2001:db8::53", "2001:db8::54", "2001:db8::55", "2001:db8::56"))
    stateless = subnet("2001:db8:2::/64", "dhcpv6-stateless", dns=("2001:db8::99",))
    stateful = subnet("2001:db8:3::/64", "dhcpv6-stateful")
    text = config([("qr-b", 1500, [stateful]), ("qr-a", 1450, [subnet("10.0.0.0/24", None, 4), slaac, stateless])])
    assert text == """interface qr-a {
  AdvSendAdvert on;
  MinRtrAdvInterval 30;
  MaxRtrAdvInterval 100;
  AdvLinkMTU 1450;
  AdvOtherConfigFlag on;
  RDNSS 2001:db8::53 2001:db8::54 2001:db8::55 {};
  prefix 2001:db8:1::/64 {
    AdvOnLink on;
    AdvAutonomous on;
  };
  prefix 2001:db8:2::/64 {
    AdvOnLink on;
    AdvAutonomous on;
  };
};
interface qr-b {
  AdvSendAdvert on;
  MinRtrAdvInterval 30;
  MaxRtrAdvInterval 100;
  AdvLinkMTU 1500;
  AdvManagedFlag on;
  prefix 2001:db8:3::/64 {
    AdvOnLink on;
    AdvAutonomous off;
  };
};
"""


def test_nothing_to_advertise_without_an_ra_mode():
    # An address mode alone means some router outside OpenStack advertises the prefix.
    outside = dict(subnet("2001:db8:4::/64", None), ipv6_address_mode="slaac")
    assert config([("qr-a", 1500, [subnet("10.0.0.0/24", None, 4), outside])]) == ""
    assert config([]) == ""


def test_command_names_its_state_directory():
    assert command(Path("/state/r")) == ["radvd", "-C", "/state/r/radvd.conf", "-p", "/state/r/pid", "-m",
                                         "logfile", "-l", "/state/r/radvd.log"]
