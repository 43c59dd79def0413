"""Security-group rules keep ``remote_ip_prefix`` as given and show the network it names
as ``normalized_cidr``; the duplicate check compares that network, as Neutron's."""

from __future__ import annotations

from conftest import unique

RULES = "/network/v2.0/security-group-rules"


def add_rule(api, token, group_id, prefix, ethertype="IPv4"):
    return api.request("POST", RULES, token, json={"security_group_rule": {
        "security_group_id": group_id, "direction": "ingress", "ethertype": ethertype, "protocol": "tcp",
        "port_range_min": 80, "port_range_max": 80, "remote_ip_prefix": prefix}})


def test_prefix_is_kept_and_normalised_beside_it(api, demo_token):
    group = api.request("POST", "/network/v2.0/security-groups", demo_token,
                        json={"security_group": {"name": unique("pfx")}}).json()["security_group"]
    r = add_rule(api, demo_token, group["id"], "10.2.3.124/24")
    assert r.status_code == 201, r.text
    rule = r.json()["security_group_rule"]
    assert rule["remote_ip_prefix"] == "10.2.3.124/24" and rule["normalized_cidr"] == "10.2.3.0/24"
    shown = api.request("GET", f"{RULES}/{rule['id']}", demo_token).json()["security_group_rule"]
    assert (shown["remote_ip_prefix"], shown["normalized_cidr"]) == ("10.2.3.124/24", "10.2.3.0/24")
    # Another address in the same /24 is the same rule; a different network is not.
    dup = add_rule(api, demo_token, group["id"], "10.2.3.1/24")
    assert dup.status_code == 409 and dup.json()["NeutronError"]["type"] == "SecurityGroupRuleExists"
    assert rule["id"] in dup.json()["NeutronError"]["message"]
    assert add_rule(api, demo_token, group["id"], "10.2.4.1/24").status_code == 201
    v6 = add_rule(api, demo_token, group["id"], "2001:db8::5/64", "IPv6").json()["security_group_rule"]
    assert v6["remote_ip_prefix"] == "2001:db8::5/64" and v6["normalized_cidr"] == "2001:db8::/64"
    # Rules without a prefix have none to normalise.
    listed = api.request("GET", f"{RULES}?security_group_id={group['id']}", demo_token).json()
    egress = [x for x in listed["security_group_rules"] if x["direction"] == "egress"]
    assert egress and all(x["remote_ip_prefix"] is None and x["normalized_cidr"] is None for x in egress)
    assert api.request("DELETE", f"/network/v2.0/security-groups/{group['id']}", demo_token).status_code == 204
