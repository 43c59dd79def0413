"""Neutron's net-mtu-writable rules (neutron-tempest-plugin's NetworksNegativeTest): a
network's MTU is at most its type's (ML2's get_mtu from global_physnet_mtu and path_mtu,
VXLAN less its 50 bytes), and a subnet needs 68 bytes (IPv4) or 1280 (IPv6) of it, on
create and on an MTU update alike."""

from __future__ import annotations

import pytest

from pocketstack.common.config import load
from pocketstack.network.segments import SegmentConfig

from conftest import unique

NET = "/network/v2.0"


def call(api, method, path, token, body=None, status=None):
    r = api.request(method, f"{NET}{path}", token, json=body)
    if status is not None:
        assert r.status_code == status, r.text
    return r


def make_network(api, token, **extra):
    return call(api, "POST", "/networks", token, {"network": {"name": unique("mtu"), **extra}}, 201).json()["network"]


def subnet(api, token, network_id, version, status):
    cidr = "10.77.0.0/24" if version == 4 else "fd00:77::/64"
    return call(api, "POST", "/subnets", token, {"subnet": {"network_id": network_id, "ip_version": version,
                                                            "cidr": cidr}}, status)


def neutron_error(response) -> tuple[str, str]:
    error = response.json()["NeutronError"]
    return error["type"], error["message"]


def test_net_mtu_writable_is_advertised(api, demo_token):
    aliases = {e["alias"] for e in call(api, "GET", "/extensions", demo_token, status=200).json()["extensions"]}
    assert {"net-mtu", "net-mtu-writable"} <= aliases


def test_a_project_network_gets_at_most_the_vxlan_mtu(api, demo_token):
    # The default settings: physical MTU 1500, project networks VXLAN, so 1450.
    assert make_network(api, demo_token)["mtu"] == 1450
    assert make_network(api, demo_token, mtu=0)["mtu"] == 1450
    assert make_network(api, demo_token, mtu="1400")["mtu"] == 1400
    refused = call(api, "POST", "/networks", demo_token, {"network": {"name": unique("mtu"), "mtu": 1451}}, 400)
    assert neutron_error(refused) == ("InvalidInput", "Invalid input for operation: Requested MTU is too big, "
                                                      "maximum is 1450.")
    assert neutron_error(call(api, "POST", "/networks", demo_token, {"network": {"mtu": -1}}, 400)) == (
        "HTTPBadRequest", "Invalid input for mtu. Reason: '-1' should be non-negative.")


def test_an_update_is_held_to_the_same_maximum(api, demo_token):
    net = make_network(api, demo_token, mtu=1300)
    refused = call(api, "PUT", f"/networks/{net['id']}", demo_token, {"network": {"mtu": 1451}}, 400)
    assert "maximum is 1450" in neutron_error(refused)[1]
    assert call(api, "PUT", f"/networks/{net['id']}", demo_token, {"network": {"mtu": 1450}},
                200).json()["network"]["mtu"] == 1450


def test_provider_types_have_the_physical_mtu(api, admin_token):
    vlan = make_network(api, admin_token, **{"provider:network_type": "vlan", "mtu": 1500})
    assert vlan["mtu"] == 1500
    refused = call(api, "PUT", f"/networks/{vlan['id']}", admin_token, {"network": {"mtu": 1501}}, 400)
    assert "maximum is 1500" in neutron_error(refused)[1]
    assert make_network(api, admin_token, **{"provider:network_type": "local"})["mtu"] == 1500


def test_subnets_need_the_minimum_mtu_of_their_ip_version(api, demo_token):
    tiny = make_network(api, demo_token, mtu=67)
    refused = subnet(api, demo_token, tiny["id"], 4, 409)
    assert neutron_error(refused) == ("NetworkMTUSubnetConflict",
                                      f"MTU of {tiny['id']} is not valid, subnet requires a minimum of 68")
    small = make_network(api, demo_token, mtu=1279)
    assert neutron_error(subnet(api, demo_token, small["id"], 6, 409))[1].endswith("a minimum of 1280")
    subnet(api, demo_token, small["id"], 4, 201)


@pytest.mark.parametrize("version,below", [(4, 67), (6, 1279)])
def test_an_mtu_update_below_what_the_subnets_need_is_a_409(api, demo_token, version, below):
    net = make_network(api, demo_token, mtu=1280)
    subnet(api, demo_token, net["id"], version, 201)
    refused = call(api, "PUT", f"/networks/{net['id']}", demo_token, {"network": {"mtu": below}}, 409)
    assert neutron_error(refused)[0] == "NetworkMTUSubnetConflict"
    assert call(api, "GET", f"/networks/{net['id']}", demo_token, status=200).json()["network"]["mtu"] == 1280
    # Without subnets any MTU the type allows is taken.
    bare = make_network(api, demo_token, mtu=1280)
    assert call(api, "PUT", f"/networks/{bare['id']}", demo_token, {"network": {"mtu": below}},
                200).json()["network"]["mtu"] == below


def test_path_mtu_lowers_the_vxlan_maximum_only():
    config = SegmentConfig.from_settings(load(environ={"POCKETSTACK_NETWORK_PATH_MTU": "1400"}))
    assert (config.max_mtu("vxlan"), config.max_mtu("vlan"), config.max_mtu("flat"), config.max_mtu("local")) == (
        1350, 1500, 1500, 1500)
    jumbo = SegmentConfig.from_settings(load(environ={"POCKETSTACK_NETWORK_PHYSNET_MTU": "9000"}))
    assert jumbo.max_mtu("vxlan") == 8950
