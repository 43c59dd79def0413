"""A DHCP port's address is the start of the pool, as Neutron's ``PreferNextAddressRequest``
gives it (``neutron/ipam/requests.py``: "preserve previous behavior of DHCP ports choosing
start of pool"); any other port's is random in the pool.

Tempest's ``test_port_list_filter_by_ip_substr`` creates ports at the 9th and 10th addresses
of a /28 on a network that has a DHCP port: a DHCP port at a random address took one of
them 2 times in 13 (a 409 ``IpAddressAlreadyAllocated``).
"""

from __future__ import annotations

from test_network_ipam import NET, create, network_with_subnet

from conftest import unique


def fixed_ips(port: dict) -> list[str]:
    return [ip["ip_address"] for ip in port["fixed_ips"]]


def test_dhcp_ports_take_the_lowest_free_addresses(api, admin_token):
    net, subnet = network_with_subnet(api, admin_token, cidr="10.44.0.0/28")  # pool .2-.14
    # (Both subnets first: with the noop datapath a subnet change drops the network's DHCP ports.)
    other = create(api, admin_token, "subnet", {"network_id": net["id"], "ip_version": 4, "cidr": "10.44.1.0/28"})
    first = create(api, admin_token, "port", {"network_id": net["id"], "device_owner": "network:dhcp",
                                              "device_id": unique("dhcp"), "fixed_ips": [{"subnet_id": subnet["id"]}]})
    assert fixed_ips(first) == ["10.44.0.2"]
    # With a subnet named and no address (how the DHCP port follows a new subnet), too.
    second = create(api, admin_token, "port", {"network_id": net["id"], "device_owner": "network:dhcp",
                                               "fixed_ips": [{"subnet_id": subnet["id"]}]})
    assert fixed_ips(second) == ["10.44.0.3"]
    # A port given the first address is skipped over; a freed one is taken again.
    taken = create(api, admin_token, "port", {"network_id": net["id"],
                                              "fixed_ips": [{"subnet_id": subnet["id"], "ip_address": "10.44.0.4"}]})
    # (The subnet is named: which of two IPv4 subnets a port without fixed_ips draws from
    # follows their creation times, equal to the second on MariaDB.)
    third = create(api, admin_token, "port", {"network_id": net["id"], "device_owner": "network:distributed",
                                              "fixed_ips": [{"subnet_id": subnet["id"]}]})
    assert fixed_ips(third) == ["10.44.0.5"]
    assert api.request("DELETE", f"{NET}/ports/{first['id']}", admin_token).status_code == 204
    again = create(api, admin_token, "port", {"network_id": net["id"], "device_owner": "network:dhcp",
                                              "fixed_ips": [{"subnet_id": subnet["id"]}]})
    assert fixed_ips(again) == ["10.44.0.2"]
    # A DHCP port re-addressed onto a second subnet gets that subnet's first address.
    moved = api.request("PUT", f"{NET}/ports/{again['id']}", admin_token, json={"port": {"fixed_ips": [
        {"subnet_id": subnet["id"], "ip_address": "10.44.0.2"}, {"subnet_id": other["id"]}]}})
    assert moved.status_code == 200, moved.text
    assert fixed_ips(moved.json()["port"]) == ["10.44.0.2", "10.44.1.2"]
    # Ordinary ports stay random among the free addresses (never the DHCP ones).
    ordinary = {fixed_ips(create(api, admin_token, "port", {"network_id": net["id"],
                                                            "fixed_ips": [{"subnet_id": other["id"]}]}))[0]
                for _ in range(4)}
    assert "10.44.1.2" not in ordinary and len(ordinary) == 4
    for port in (second, taken, third):
        api.request("DELETE", f"{NET}/ports/{port['id']}", admin_token)
    assert api.request("DELETE", f"{NET}/networks/{net['id']}", admin_token).status_code in (204, 409)


def test_a_dhcp_port_without_fixed_ips_takes_the_lowest_address(api, admin_token):
    net, _ = network_with_subnet(api, admin_token, cidr="10.45.0.0/28")
    create(api, admin_token, "port", {"network_id": net["id"], "fixed_ips": [{"ip_address": "10.45.0.2"}]})
    dhcp = create(api, admin_token, "port", {"network_id": net["id"], "device_owner": "network:dhcp"})
    assert fixed_ips(dhcp) == ["10.45.0.3"]
