"""Security-group rules and ports -> the nftables ruleset of the Linux datapath."""

from __future__ import annotations

import pytest

from pocketstack.network.drivers import nft_rules
from pocketstack.network.drivers.nft_rules import nat_ruleset, rule_match, ruleset

PORT_A = "aaaaaaaa-1111-4111-8111-111111111111"
PORT_B = "bbbbbbbb-2222-4222-8222-222222222222"
GROUP = "99999999-0000-4000-8000-000000000000"


def rule(direction="ingress", ethertype="IPv4", protocol=None, low=None, high=None, prefix=None, group=None):
    return {"direction": direction, "ethertype": ethertype, "protocol": protocol, "port_range_min": low,
            "port_range_max": high, "remote_ip_prefix": prefix, "remote_group_id": group}


def port(port_id=PORT_A, address="10.0.0.5", groups=(GROUP,), **extra):
    value = {"id": port_id, "network_id": "n", "mac_address": "FA:16:3E:00:00:01", "device_owner": "compute:nova",
             "fixed_ips": [{"subnet_id": "s", "ip_address": address}], "security_groups": list(groups),
             "allowed_address_pairs": [], "port_security_enabled": True}
    value.update(extra)
    return value


@pytest.mark.parametrize(("given", "expected"), [
    (rule(), "meta nfproto ipv4"),
    (rule(ethertype="IPv6", direction="egress"), "meta nfproto ipv6"),
    (rule(protocol="tcp", low=22, high=22), "meta nfproto ipv4 meta l4proto tcp tcp dport 22"),
    (rule(protocol="udp", low=1000, high=2000, prefix="192.0.2.0/24"),
     "meta nfproto ipv4 ip saddr 192.0.2.0/24 meta l4proto udp udp dport 1000-2000"),
    (rule(direction="egress", protocol="tcp", prefix="192.0.2.7/32"),
     "meta nfproto ipv4 ip daddr 192.0.2.7/32 meta l4proto tcp"),
    (rule(prefix="0.0.0.0/0", protocol="6"), "meta nfproto ipv4 meta l4proto 6"),
    (rule(protocol="icmp", low=8, high=0), "meta nfproto ipv4 meta l4proto icmp icmp type 8 icmp code 0"),
    (rule(protocol="icmp", low=3), "meta nfproto ipv4 meta l4proto icmp icmp type 3"),
    (rule(ethertype="IPv6", protocol="icmp", low=128), "meta nfproto ipv6 meta l4proto ipv6-icmp icmpv6 type 128"),
    (rule(ethertype="IPv6", protocol="ipv6-icmp"), "meta nfproto ipv6 meta l4proto ipv6-icmp"),
    (rule(ethertype="IPv6", prefix="2001:db8::/32", protocol="tcp", low=443, high=443),
     "meta nfproto ipv6 ip6 saddr 2001:db8::/32 meta l4proto tcp tcp dport 443"),
    (rule(group=GROUP, protocol="tcp", low=80, high=80),
     f"meta nfproto ipv4 ip saddr @sg-{GROUP}-v4 meta l4proto tcp tcp dport 80"),
    (rule(ethertype="IPv6", direction="egress", group=GROUP), f"meta nfproto ipv6 ip6 daddr @sg-{GROUP}-v6"),
])
def test_rule_match(given, expected):
    assert rule_match(given) == expected


@pytest.mark.parametrize("given", [
    rule(prefix="2001:db8::/32"),  # an IPv6 prefix in an IPv4 rule
    rule(protocol="ipv6-icmp"),  # ICMPv6 over IPv4
    rule(protocol="bogus"),
    rule(ethertype="IPX"),
])
def test_rules_nftables_cannot_express_allow_nothing(given):
    assert rule_match(given) is None


def test_a_protected_port_gets_anti_spoofing_and_its_groups_rules():
    groups = {GROUP: {"id": GROUP, "security_group_rules": [rule(direction="egress"), rule(protocol="tcp", low=22,
                                                                                               high=22)]}}
    text = ruleset([port(allowed_address_pairs=[{"ip_address": "10.0.0.64/28"},
                                                {"ip_address": "10.0.0.9", "mac_address": "fa:16:3e:00:00:02"}])],
                   groups).text()
    tag = PORT_A[:11]
    # One atomic replacement of both tables.
    assert text.startswith("table bridge pocketstack\ndelete table bridge pocketstack\n")
    assert "table inet pocketstack\ndelete table inet pocketstack\n" in text
    assert "iifname vmap @from-port\n    oifname vmap @to-port" in text
    assert f'map from-port {{ type ifname : verdict; elements = {{ "tap{tag}" : jump from-{tag} }}; }}' in text
    assert f'map to-port {{ type ifname : verdict; elements = {{ "tap{tag}" : jump to-{tag} }}; }}' in text
    assert "ether saddr != { fa:16:3e:00:00:01, fa:16:3e:00:00:02 } drop" in text
    assert "ether type { 8021q, 8021ad } drop" in text  # no tagged frame onto the network
    assert "arp saddr ip != { 10.0.0.5, 10.0.0.64/28, 10.0.0.9 } drop" in text
    assert "ether type ip ip saddr != { 10.0.0.5, 10.0.0.64/28, 10.0.0.9 } drop" in text
    assert "ip6 saddr != { fe80::f816:3eff:fe00:1, fe80::f816:3eff:fe00:2 } drop" in text
    assert "udp sport 68 udp dport 67 return" in text  # a DHCP client without an address
    # The sender's and the receiver's verdicts in two base chains: an accept ends only one.
    assert "chain forward-egress {\n    type filter hook forward priority 0; policy accept;\n" \
           "    meta mark and 0xffff vmap @egress\n" in text
    assert "chain forward-ingress {\n    type filter hook forward priority 1; policy accept;\n" \
           "    meta mark and 0xffff0000 vmap @ingress\n" in text
    egress = text[text.index(f"chain egress-{tag}"):text.index(f"chain ingress-{tag}")]
    ingress = text[text.index(f"chain ingress-{tag}"):]
    assert egress.index("ct state established,related accept") < egress.index(f"jump sg-{GROUP}-egress")
    assert "ct state invalid drop" in egress and egress.rstrip().endswith(f"jump sg-{GROUP}-egress\n    drop\n  }}")
    assert ingress.index("ct state established,related accept") < ingress.index(f"jump sg-{GROUP}-ingress")
    assert ingress.rstrip().endswith(f"jump sg-{GROUP}-ingress\n    drop\n  }}\n}}")
    # The group's rules, once, in its own chains.
    assert f"chain sg-{GROUP}-egress {{\n    meta nfproto ipv4 accept\n  }}" in text
    assert f"chain sg-{GROUP}-ingress {{\n    meta nfproto ipv4 meta l4proto tcp tcp dport 22 accept\n  }}" in text
    assert f"set sg-{GROUP}-v4 {{ type ipv4_addr; flags interval; auto-merge; elements = " \
           "{ 10.0.0.5, 10.0.0.64/28, 10.0.0.9 }; }" in text


def test_ports_without_port_security_and_network_ports_are_not_filtered():
    text = ruleset([port(port_security_enabled=False), port(PORT_B, device_owner="network:router_interface")],
                   {}).text()
    assert "map from-port { type ifname : verdict; }" in text and "map egress { type mark : verdict; }" in text
    assert "chain from-" not in text and "chain egress-" not in text


def test_a_port_set_administratively_down_passes_nothing():
    text = ruleset([port(admin_state_up=False), port(PORT_B, port_security_enabled=False, admin_state_up=False),
                    port("cccccccc-3333-4333-8333-333333333333", admin_state_up=True)], {}).text()
    assert f'set down {{ type ifname; elements = {{ "tap{PORT_A[:11]}", "tap{PORT_B[:11]}" }}; }}' in text
    assert "meta mark set 0x0\n    iifname @down drop\n    oifname @down drop\n" in text
    assert "set down { type ifname; }" in ruleset([port()], {}).text()  # none down


def test_ports_are_numbered_in_the_mark_and_remote_group_sets_follow_membership():
    other = "77777777-0000-4000-8000-000000000000"
    text = ruleset([port(), port(PORT_B, address="10.0.0.6", groups=(GROUP, other))], {}).text()
    assert f"map egress {{ type mark : verdict; elements = {{ 0x1 : jump egress-{PORT_A[:11]}, " \
           f"0x2 : jump egress-{PORT_B[:11]} }}; }}" in text
    assert f"map ingress {{ type mark : verdict; elements = {{ 0x10000 : jump ingress-{PORT_A[:11]}, " \
           f"0x20000 : jump ingress-{PORT_B[:11]} }}; }}" in text
    # Single addresses: plain sets (an element can be added or deleted alone).
    assert f"set sg-{GROUP}-v4 {{ type ipv4_addr; elements = {{ 10.0.0.5, 10.0.0.6 }}; }}" in text
    assert f"set sg-{other}-v4 {{ type ipv4_addr; elements = {{ 10.0.0.6 }}; }}" in text
    assert f"set sg-{other}-v6 {{ type ipv6_addr; }}" in text  # empty but defined


def test_a_port_without_ipv4_addresses_may_send_no_ipv4_or_arp():
    rules = nft_rules._spoof_chains(port(address="2001:db8::5"), 1)[f"from-{PORT_A[:11]}"]
    assert "ether type arp drop" in rules and "ether type ip drop" in rules
    assert "ether type ip6 ip6 saddr != { 2001:db8::5, fe80::f816:3eff:fe00:1 } drop" in rules


def test_router_nat():
    text = nat_ruleset("qg-x", "203.0.113.10", ["10.0.0.0/24", "10.0.1.0/24"], [("203.0.113.20", "10.0.0.5")])
    assert "ip daddr 203.0.113.20 dnat to 10.0.0.5" in text
    assert 'oifname "qg-x" ip saddr 10.0.0.5 snat to 203.0.113.20' in text
    assert 'oifname "qg-x" ip saddr { 10.0.0.0/24, 10.0.1.0/24 } snat to 203.0.113.10' in text
    # The floating IP's own SNAT comes before the router's.
    assert text.index("snat to 203.0.113.20") < text.index("snat to 203.0.113.10")
    assert "snat" not in nat_ruleset(None, None, ["10.0.0.0/24"], [])
    assert "saddr {" not in nat_ruleset("qg-x", "203.0.113.10", [], [])  # enable_snat false


def test_each_network_bridge_gets_a_stable_conntrack_zone():
    net_a, net_b = "0000abcd-0000-4000-8000-000000000000", "ffffffff-0000-4000-8000-000000000000"
    text = ruleset([], {}, [net_b, net_a]).text()
    assert "type filter hook prerouting priority raw; policy accept;" in text
    assert "ct zone set iifname map @zones" in text
    assert f'map zones {{ typeof iifname : ct zone; elements = {{ "br-{net_a[:11]}" : {0xabcd + 1}, ' \
           f'"br-{net_b[:11]}" : 1 }}; }}' in text
    assert "map zones { typeof iifname : ct zone; }" in ruleset([], {}).text()


# -- incremental updates: only what changed, or None when the tables must be replaced ------

OTHER = "77777777-0000-4000-8000-000000000000"
NET, NET2 = "0000abcd-0000-4000-8000-000000000000", "ffffffff-0000-4000-8000-000000000000"


def groups(*rules_of_group):
    return {GROUP: {"id": GROUP, "security_group_rules": list(rules_of_group)},
            OTHER: {"id": OTHER, "security_group_rules": [rule(direction="egress")]}}


def two_ports(a_groups=(GROUP,), b_address="10.0.0.6", **b_extra):
    return [port(groups=a_groups), port(PORT_B, address=b_address, groups=(OTHER,), **b_extra)]


def test_nothing_changed_is_an_empty_update():
    rules = ruleset(two_ports(), groups(rule()), [NET])
    assert rules == ruleset(two_ports(), groups(rule()), [NET])
    assert rules.changes_from(ruleset(two_ports(), groups(rule()), [NET])) == ""


def test_a_groups_rule_change_rewrites_only_the_groups_chain():
    before = ruleset(two_ports(), groups(rule()), [NET])
    after = ruleset(two_ports(), groups(rule(), rule(protocol="tcp", low=22, high=22)), [NET])
    assert after.changes_from(before) == (
        f"flush chain inet pocketstack sg-{GROUP}-ingress\ntable inet pocketstack {{\n"
        f"  chain sg-{GROUP}-ingress {{\n    meta nfproto ipv4 accept\n"
        "    meta nfproto ipv4 meta l4proto tcp tcp dport 22 accept\n  }\n}\n")


def test_a_ports_groups_change_rewrites_its_chains_and_the_groups_sets():
    before = ruleset(two_ports(), groups(), [NET])
    after = ruleset(two_ports(a_groups=(GROUP, OTHER)), groups(), [NET])
    update = after.changes_from(before)
    a = PORT_A[:11]
    assert f"  chain egress-{a} {{" in update and f"jump sg-{OTHER}-egress\n    drop\n  }}" in update
    assert f"add element inet pocketstack sg-{OTHER}-v4 {{ 10.0.0.5 }}" in update
    assert PORT_B[:11] not in update and "delete" not in update


def test_a_ports_new_address_updates_its_anti_spoofing_and_its_groups_set():
    before = ruleset(two_ports(), groups(), [NET])
    after = ruleset(two_ports(b_address="10.0.0.7"), groups(), [NET])
    update = after.changes_from(before)
    b = PORT_B[:11]
    assert f"delete element inet pocketstack sg-{OTHER}-v4 {{ 10.0.0.6 }}\n" \
           f"add element inet pocketstack sg-{OTHER}-v4 {{ 10.0.0.7 }}\n" in update
    assert f"flush chain bridge pocketstack from-{b}\ntable bridge pocketstack {{\n  chain from-{b} {{" in update
    assert f"sg-{GROUP}" not in update and PORT_A[:11] not in update


def test_a_membership_change_adds_and_deletes_only_set_elements():
    three = [*two_ports(), port("cccccccc-3333-4333-8333-333333333333", address="10.0.0.8", groups=(GROUP,))]
    before = ruleset(three, groups())
    moved = [dict(three[0], security_groups=[GROUP, OTHER]), three[1],
             dict(three[2], security_groups=[OTHER])]
    update = ruleset(moved, groups()).changes_from(before)
    lines = [line for line in update.splitlines() if "element" in line]
    assert lines == [f"add element inet pocketstack sg-{OTHER}-v4 {{ 10.0.0.5, 10.0.0.8 }}",
                     f"delete element inet pocketstack sg-{GROUP}-v4 {{ 10.0.0.8 }}"]
    # The moved ports' chains change (their groups' rules), never the tables.
    assert "delete table" not in update and "flush set" not in update


def test_a_set_with_cidr_members_is_an_interval_set_rewritten_whole():
    pair = [{"ip_address": "10.0.1.0/28"}]
    before = ruleset(two_ports(allowed_address_pairs=pair), groups())
    after = ruleset(two_ports(allowed_address_pairs=pair, b_address="10.0.0.9"), groups())
    assert f"set sg-{OTHER}-v4 {{ type ipv4_addr; flags interval; auto-merge; " \
           "elements = { 10.0.0.6, 10.0.1.0/28 }; }" in before.text()
    update = after.changes_from(before)
    assert f"flush set inet pocketstack sg-{OTHER}-v4\n" \
           f"add element inet pocketstack sg-{OTHER}-v4 {{ 10.0.0.9, 10.0.1.0/28 }}\n" in update
    assert "delete element" not in update


def test_a_set_that_turns_to_intervals_replaces_both_tables():
    before = ruleset(two_ports(), groups(rule()), [NET])
    after = ruleset(two_ports(allowed_address_pairs=[{"ip_address": "10.0.1.0/28"}]), groups(rule()), [NET],
                    before.numbers)
    assert after.changes_from(before) is None


def test_a_port_set_down_or_a_network_updates_the_down_set_or_the_zones():
    before = ruleset(two_ports(), groups(rule()), [NET])
    down = ruleset(two_ports(admin_state_up=False), groups(rule()), [NET], before.numbers)
    assert down.changes_from(before) == f'add element bridge pocketstack down {{ "tap{PORT_B[:11]}" }}\n'
    wider = ruleset(two_ports(), groups(rule()), [NET, NET2], before.numbers)
    assert wider.changes_from(before) == f'add element inet pocketstack zones {{ "br-{NET2[:11]}" : 1 }}\n'
    assert before.changes_from(wider) == f'delete element inet pocketstack zones {{ "br-{NET2[:11]}" }}\n'


def test_a_group_created_or_deleted_adds_or_deletes_its_sets_and_chains_around_the_ports_chains():
    third = "33333333-0000-4000-8000-000000000000"
    before = ruleset(two_ports(), groups(rule()), [NET])
    with_third = groups(rule(group=third))
    with_third[third] = {"id": third, "security_group_rules": []}
    after = ruleset(two_ports(), with_third, [NET])
    update = after.changes_from(before)
    assert update.startswith(f"add set inet pocketstack sg-{third}-v4 {{ type ipv4_addr; }}\n"
                             f"add set inet pocketstack sg-{third}-v6 {{ type ipv6_addr; }}\n")
    assert f"ip saddr @sg-{third}-v4 accept" in update and "delete table" not in update
    assert f"  chain sg-{third}-egress {{" in update and f"  chain sg-{third}-ingress {{" in update
    back = before.changes_from(after)  # the chain stops using the set before the set goes
    assert back.index(f"flush chain inet pocketstack sg-{GROUP}-ingress") < back.index(
        f"delete set inet pocketstack sg-{third}-v4")
    assert back.endswith(f"delete chain inet pocketstack sg-{third}-ingress\n"
                         f"delete chain inet pocketstack sg-{third}-egress\n"
                         f"delete set inet pocketstack sg-{third}-v4\ndelete set inet pocketstack sg-{third}-v6\n")


def test_a_port_added_or_removed_adds_or_deletes_its_chains_and_map_entries_others_keep_their_numbers():
    c = "cccccccc-3333-4333-8333-333333333333"
    three = ruleset([*two_ports(), port(c, address="10.0.0.8")], groups(), [NET])
    assert three.numbers == {PORT_A: 1, PORT_B: 2, c: 3}
    # B goes: the others keep their numbers (their chains and entries are not touched).
    two = ruleset([*two_ports()[:1], port(c, address="10.0.0.8")], groups(), [NET], three.numbers)
    assert two.numbers == {PORT_A: 1, c: 3}
    update = two.changes_from(three)
    b = PORT_B[:11]
    assert update.splitlines() == [
        f'delete element bridge pocketstack from-port {{ "tap{b}" }}',
        f'delete element bridge pocketstack to-port {{ "tap{b}" }}',
        "delete element inet pocketstack egress { 0x2 }", "delete element inet pocketstack ingress { 0x20000 }",
        f"delete element inet pocketstack sg-{OTHER}-v4 {{ 10.0.0.6 }}",
        f"delete chain inet pocketstack ingress-{b}", f"delete chain inet pocketstack egress-{b}",
        f"delete chain bridge pocketstack to-{b}", f"delete chain bridge pocketstack from-{b}"]
    # A new port takes the lowest free number; its chains exist before the entries jump to them.
    back = ruleset([*two_ports(), port(c, address="10.0.0.8")], groups(), [NET], two.numbers)
    assert back.numbers == {PORT_A: 1, PORT_B: 2, c: 3}
    update = back.changes_from(two)
    assert update.index(f"  chain from-{b} {{") < update.index(f'add element bridge pocketstack from-port '
                                                                 f'{{ "tap{b}" : jump from-{b} }}')
    assert update.index(f"  chain egress-{b} {{") < update.index(f"add element inet pocketstack egress "
                                                                   f"{{ 0x2 : jump egress-{b} }}")
    assert "flush" not in update and "delete" not in update and PORT_A[:11] not in update


def test_a_port_and_its_group_deleted_together_lose_the_port_first():
    c, third = "cccccccc-3333-4333-8333-333333333333", "33333333-0000-4000-8000-000000000000"
    both = groups()
    both[third] = {"id": third, "security_group_rules": []}
    before = ruleset([*two_ports(), port(c, address="10.0.0.8", groups=(third,))], both)
    update = ruleset(two_ports(), groups(), numbers=before.numbers).changes_from(before)
    assert update.index(f"delete chain inet pocketstack egress-{c[:11]}") < update.index(
        f"delete chain inet pocketstack sg-{third}-egress")
