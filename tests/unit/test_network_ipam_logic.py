"""Pure IPAM logic: candidate choice, EUI-64, default pools, prefix selection."""

from __future__ import annotations

import ipaddress
from collections import Counter

import pytest

from pocketstack.network import ipam
from pocketstack.network.subnets import default_pools


def test_pick_free_only_returns_free_values_and_spreads_them():
    ranges = [(10, 19), (30, 34)]
    used = {10, 11, 12, 31, 33}
    picks = Counter(ipam.pick_free(ranges, used) for _ in range(4000))
    free = {13, 14, 15, 16, 17, 18, 19, 30, 32, 34}
    assert set(picks) == free
    # Uniform over the free values: no value is starved or favoured.
    assert min(picks.values()) > 4000 / len(free) * 0.6


def test_pick_free_raises_when_full():
    with pytest.raises(ipam.Exhausted):
        ipam.pick_free([(1, 3)], {1, 2, 3})


def test_eui64_matches_neutron():
    assert ipam.eui64_address("2001:db8::/64", "fa:16:3e:33:44:55") == "2001:db8::f816:3eff:fe33:4455"


def test_default_pools_exclude_network_broadcast_and_gateway():
    net = ipaddress.ip_network("10.0.0.0/24")
    assert default_pools(net, "10.0.0.1") == [{"start": "10.0.0.2", "end": "10.0.0.254"}]
    assert default_pools(net, None) == [{"start": "10.0.0.1", "end": "10.0.0.254"}]
    assert default_pools(net, "10.0.0.10") == [{"start": "10.0.0.1", "end": "10.0.0.9"},
                                               {"start": "10.0.0.11", "end": "10.0.0.254"}]
    v6 = ipaddress.ip_network("2001:db8::/126")
    assert default_pools(v6, "2001:db8::1") == [{"start": "2001:db8::2", "end": "2001:db8::3"}]


def test_choose_prefix_skips_allocated_space():
    assert ipam.choose_prefix(["10.0.0.0/16"], [], 24) == "10.0.0.0/24"
    assert ipam.choose_prefix(["10.0.0.0/16"], ["10.0.0.0/23", "10.0.3.0/24"], 24) == "10.0.2.0/24"
    assert ipam.choose_prefix(["10.0.0.0/16"], ["10.0.0.128/25"], 24) == "10.0.1.0/24"
    assert ipam.choose_prefix(["10.0.0.0/24"], ["10.0.0.0/24"], 26) is None
    assert ipam.choose_prefix(["10.0.0.0/24"], [], 16) is None


def test_prefix_fits():
    assert ipam.prefix_fits(["10.0.0.0/16"], ["10.0.1.0/24"], "10.0.2.0/24")
    assert not ipam.prefix_fits(["10.0.0.0/16"], ["10.0.1.0/24"], "10.0.1.128/25")
    assert not ipam.prefix_fits(["10.0.0.0/16"], [], "10.1.0.0/24")


def test_generated_macs_use_the_neutron_base():
    macs = {ipam.generate_mac() for _ in range(100)}
    assert all(m.startswith("fa:16:3e:") and len(m) == 17 for m in macs)
    assert len(macs) > 90


def test_first_free_is_the_lowest_free_value_of_the_ranges():
    assert ipam.first_free([(30, 34), (10, 19)], {10, 11, 13}) == 12
    assert ipam.first_free([(10, 12), (30, 34)], {10, 11, 12}) == 30
    with pytest.raises(ipam.Exhausted):
        ipam.first_free([(1, 3)], {1, 2, 3})
