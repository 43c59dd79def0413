"""The network_* settings (ML2's segment options) parsed from TOML and the environment."""

from __future__ import annotations

import pytest

from pocketstack.common.config import load
from pocketstack.network.segments import SegmentConfig


def test_defaults_are_neutrons_devstack_layout():
    config = SegmentConfig.from_settings(load(environ={}))
    assert config.vlan_ranges == {"physnet1": [(1000, 2999)]}
    assert config.vxlan_ranges == [(1, 65535)]
    assert config.flat_networks == ("public", "physnet1")
    assert config.tenant_network_type == "vxlan"
    assert (config.max_mtu("vxlan"), config.max_mtu("vlan"), config.max_mtu("flat")) == (1450, 1500, 1500)


def test_toml_file(tmp_path):
    path = tmp_path / "pocketstack.toml"
    path.write_text('network_vlan_ranges = "physnet1:10:20, physnet2, physnet1:30:40"\n'
                    'network_vni_ranges = "100:199,500:500"\n'
                    'network_flat_networks = "*"\n'
                    'network_tenant_network_type = "vlan"\n'
                    'network_physnet_mtu = 9000\n')
    config = SegmentConfig.from_settings(load(path, environ={}))
    assert config.vlan_ranges == {"physnet1": [(10, 20), (30, 40)], "physnet2": []}
    assert config.vxlan_ranges == [(100, 199), (500, 500)]
    assert config.flat_allowed("anything") and not config.flat_allowed(None)
    assert config.tenant_network_type == "vlan"
    assert config.max_mtu("vxlan") == 8950


def test_environment_overrides():
    config = SegmentConfig.from_settings(load(environ={"POCKETSTACK_NETWORK_VNI_RANGES": "7:9",
                                                       "POCKETSTACK_NETWORK_FLAT_NETWORKS": "ext"}))
    assert config.vxlan_ranges == [(7, 9)]
    assert config.flat_allowed("ext") and not config.flat_allowed("public")


@pytest.mark.parametrize("name, value, message", [
    ("NETWORK_VLAN_RANGES", "physnet1:0:10", "outside 1:4094"),
    ("NETWORK_VLAN_RANGES", "physnet1:20:10", "reversed"),
    ("NETWORK_VLAN_RANGES", "physnet1:a:b", "is not min:max"),
    ("NETWORK_VNI_RANGES", "1:16777216", "outside 1:16777215"),
    ("NETWORK_VNI_RANGES", "5", "is not min:max"),
    ("NETWORK_TENANT_NETWORK_TYPE", "flat", "is not one of"),
    ("NETWORK_TENANT_NETWORK_TYPE", "gre", "is not one of"),
])
def test_malformed_values_fail_at_start(name, value, message):
    with pytest.raises(ValueError, match=message):
        SegmentConfig.from_settings(load(environ={f"POCKETSTACK_{name}": value}))


def test_vlan_tenant_networks_need_a_range():
    with pytest.raises(ValueError, match="no range"):
        SegmentConfig.from_settings(load(environ={"POCKETSTACK_NETWORK_TENANT_NETWORK_TYPE": "vlan",
                                                  "POCKETSTACK_NETWORK_VLAN_RANGES": "physnet1"}))


def test_network_datapath_selects_the_driver(tmp_path):
    from pocketstack.network.drivers.noop import NoopDriver
    from pocketstack.network.service import local_driver
    settings = load(environ={"POCKETSTACK_DATA_DIR": str(tmp_path)})
    assert settings.network_datapath == "noop" and settings.network_datapath_prefix == "ps-"
    assert isinstance(local_driver(settings, {"api"}, None), NoopDriver)
    bogus = load(environ={"POCKETSTACK_DATA_DIR": str(tmp_path), "POCKETSTACK_NETWORK_DATAPATH": "ovs"})
    with pytest.raises(ValueError, match="'network_datapath': 'ovs' is not one of 'noop', 'linux'"):
        local_driver(bogus, {"api"}, None)


def test_the_linux_datapath_refuses_clearly_when_it_cannot_run(tmp_path):
    import os
    import shutil

    from pocketstack.network.drivers.linux import DatapathUnavailable, LinuxDriver
    from pocketstack.network.service import local_driver
    settings = load(environ={"POCKETSTACK_DATA_DIR": str(tmp_path), "POCKETSTACK_NETWORK_DATAPATH": "linux",
                             "POCKETSTACK_NETWORK_DATAPATH_PREFIX": "psx-"})
    if os.geteuid() == 0 and all(shutil.which(t) for t in ("ip", "nft", "dnsmasq")):
        driver = local_driver(settings, {"api"}, None)  # creates nothing until the first event
        assert isinstance(driver, LinuxDriver) and driver.host_ns == "psx-host"
        assert driver.state_dir == tmp_path / "datapath"
        assert driver.tunnel is None and "tunneling_ip" not in driver.status()  # the only host
    else:
        with pytest.raises(DatapathUnavailable, match="network_datapath = \"linux\" needs"):
            local_driver(settings, {"api"}, None)


def test_the_vxlan_settings_make_the_driver_one_host_among_several(tmp_path):
    from pocketstack.network.service import tunnel
    base = {"POCKETSTACK_DATA_DIR": str(tmp_path), "POCKETSTACK_NETWORK_AGENT_HOST": "host-a"}
    assert tunnel(load(environ=base), None) is None
    found = tunnel(load(environ={**base, "POCKETSTACK_NETWORK_DATAPATH_LOCAL_IP": "192.0.2.5/24",
                                 "POCKETSTACK_NETWORK_DATAPATH_UNDERLAY": "eth1"}), None)
    assert found is not None and (found.host, found.underlay) == ("host-a", "eth1")
    assert found.configurations() == {"tunneling_ip": "192.0.2.5", "tunnel_types": ["vxlan"]}
    with pytest.raises(ValueError, match="'network_datapath_local_ip': 'eth0' is not an IP address"):
        tunnel(load(environ={**base, "POCKETSTACK_NETWORK_DATAPATH_LOCAL_IP": "eth0"}), None)
    with pytest.raises(ValueError, match="'network_datapath_underlay' needs 'network_datapath_local_ip'"):
        tunnel(load(environ={**base, "POCKETSTACK_NETWORK_DATAPATH_UNDERLAY": "eth1"}), None)
