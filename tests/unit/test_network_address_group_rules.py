"""Security-group rules naming an address group -> nftables sets of the group's CIDRs,
updated in place when the group's addresses change."""

from __future__ import annotations

from test_network_linux_rules import GROUP, port, rule

from pocketstack.network.drivers.nft_rules import rule_match, ruleset

AG = "abababab-0000-4000-8000-000000000000"


def ag_rule(**kwargs) -> dict:
    return dict(rule(**kwargs), remote_address_group_id=AG)


def groups_with(*rules: dict) -> dict:
    return {GROUP: {"id": GROUP, "security_group_rules": list(rules)}}


def test_rule_match_names_the_groups_set_of_its_family():
    assert rule_match(ag_rule(protocol="tcp", low=80, high=80)) == \
        f"meta nfproto ipv4 ip saddr @ag-{AG}-v4 meta l4proto tcp tcp dport 80"
    assert rule_match(ag_rule(direction="egress", ethertype="IPv6")) == f"meta nfproto ipv6 ip6 daddr @ag-{AG}-v6"


def test_a_named_group_is_a_pair_of_interval_sets_of_its_addresses():
    address_groups = {AG: {"id": AG, "addresses": ["10.0.0.0/24", "10.0.0.5/32", "2001:db8::/64", "192.0.2.7/32"]}}
    text = ruleset([port()], groups_with(ag_rule()), address_groups=address_groups).text()
    assert f"set ag-{AG}-v4 {{ type ipv4_addr; flags interval; auto-merge; elements = " \
           "{ 10.0.0.0/24, 10.0.0.5, 192.0.2.7 }; }" in text
    assert f"set ag-{AG}-v6 {{ type ipv6_addr; flags interval; auto-merge; elements = {{ 2001:db8::/64 }}; }}" in text
    assert f"ip saddr @ag-{AG}-v4 accept" in text
    # Unknown to the driver yet: empty sets, the rule allows nothing.
    empty = ruleset([port()], groups_with(ag_rule())).text()
    assert f"set ag-{AG}-v4 {{ type ipv4_addr; flags interval; auto-merge; }}" in empty
    # Named by no rule: no sets.
    assert "ag-" not in ruleset([port()], groups_with(rule()), address_groups=address_groups).text()


def test_changed_addresses_rewrite_only_the_groups_set():
    before = ruleset([port()], groups_with(ag_rule()), address_groups={AG: {"addresses": ["10.0.0.0/24"]}})
    after = ruleset([port()], groups_with(ag_rule()), address_groups={AG: {"addresses": ["10.0.0.0/24",
                                                                                         "10.1.0.9/32"]}})
    where = f"inet pocketstack ag-{AG}-v4"
    assert after.changes_from(before) == f"flush set {where}\nadd element {where} {{ 10.0.0.0/24, 10.1.0.9 }}\n"
    emptied = ruleset([port()], groups_with(ag_rule()), address_groups={AG: {"addresses": []}})
    assert emptied.changes_from(after) == f"flush set {where}\n"


def test_a_rule_naming_a_group_adds_its_sets_before_its_chain_and_dropping_it_deletes_them_after():
    address_groups = {AG: {"addresses": ["10.0.0.0/24"]}}
    plain = ruleset([port()], groups_with(rule()), address_groups=address_groups)
    named = ruleset([port()], groups_with(ag_rule()), address_groups=address_groups)
    update = named.changes_from(plain)
    assert update is not None and update.index(f"add set inet pocketstack ag-{AG}-v4") < \
        update.index(f"chain sg-{GROUP}-ingress")
    back = plain.changes_from(named)
    assert back is not None and back.index(f"chain sg-{GROUP}-ingress") < \
        back.index(f"delete set inet pocketstack ag-{AG}-v4")
