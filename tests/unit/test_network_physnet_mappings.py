"""network_physical_interface_mappings and the uplinks it gives flat and VLAN networks (pure)."""

from __future__ import annotations

import hashlib

import pytest

from pocketstack.common.config import load
from pocketstack.network.drivers.physnets import parse_mappings, subinterface, uplink, wanted


def test_mappings_parse_as_neutrons_physical_interface_mappings():
    assert parse_mappings("") == {}
    assert parse_mappings(" physnet1:eth1 , public:eth2,") == {"physnet1": "eth1", "public": "eth2"}
    assert parse_mappings("physnet1:enp0s31f6.7") == {"physnet1": "enp0s31f6.7"}  # a VLAN device may be mapped


@pytest.mark.parametrize("value, message", [
    ("physnet1", "'physnet1' is not physnet:interface"),
    ("physnet1:", "is not physnet:interface"),
    (":eth1", "is not physnet:interface"),
    ("physnet1:eth1,physnet1:eth2", "physical network 'physnet1' is mapped twice"),
    ("physnet1:eth1,public:eth1", "interface 'eth1' is mapped twice"),
    ("physnet1:averyveryverylongname", "is not an interface name"),
    ("physnet1:eth1:0", "is not an interface name"),
    ("physnet1:a/b", "is not an interface name"),
    ("physnet1:br-ex", "'br-ex' cannot be mapped"),
    ("physnet1:tap0", "'tap0' cannot be mapped"),
    ("physnet1:lo", "'lo' cannot be mapped"),
])
def test_a_bad_mapping_is_a_clear_error(value, message):
    with pytest.raises(ValueError, match=f"setting 'network_physical_interface_mappings': .*{message}"):
        parse_mappings(value)


def test_a_bad_mapping_stops_the_start(tmp_path):
    from pocketstack.network.service import local_driver
    settings = load(environ={"POCKETSTACK_DATA_DIR": str(tmp_path),
                             "POCKETSTACK_NETWORK_PHYSICAL_INTERFACE_MAPPINGS": "physnet1"})
    with pytest.raises(ValueError, match="'physnet1' is not physnet:interface"):
        local_driver(settings, {"api"}, None)


def test_subinterface_names_are_neutrons():
    assert subinterface("eth1", 1000) == "eth1.1000"
    assert subinterface("enp0s31f6", 4094) == "enp0s31f6.4094"  # 14 characters: as it is
    assert subinterface("wlp0s20f3u1", 5) == "wlp0s20f3u1.5"
    digest = hashlib.sha1(b"wlp0s20f3u1", usedforsecurity=False).hexdigest()
    assert subinterface("wlp0s20f3u1", 1000) == f"wlp0{digest[:6]}.1000"  # 16: shortened, 15 at most
    assert len(subinterface("abcdefghijklmno", 4094)) == 15


def test_uplinks_of_flat_and_vlan_networks_on_mapped_physnets():
    mappings = {"physnet1": "eth1", "public": "eth2"}
    flat = {"provider:network_type": "flat", "provider:physical_network": "public"}
    vlan = {"provider:network_type": "vlan", "provider:physical_network": "physnet1", "provider:segmentation_id": 1000}
    assert uplink(flat, mappings) == ("eth2", None)
    assert uplink(vlan, mappings) == ("eth1", 1000)
    assert uplink({**vlan, "provider:physical_network": "physnet2"}, mappings) is None  # unmapped: bridge alone
    assert uplink({"provider:network_type": "vxlan", "provider:segmentation_id": 7}, mappings) is None
    assert uplink({"provider:network_type": "local"}, mappings) is None
    assert uplink({}, mappings) is None  # a network without provider attributes
    networks = {"b": flat, "a": dict(flat), "c": vlan, "d": {**vlan, "provider:segmentation_id": 1001}}
    # One flat network per interface (the API's FlatNetworkInUse): the first by id.
    assert wanted(networks, mappings) == {"eth2": ("a", "eth2", None), "eth1.1000": ("c", "eth1", 1000),
                                          "eth1.1001": ("d", "eth1", 1001)}
