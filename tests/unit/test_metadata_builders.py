"""The metadata builders without a cloud: network_data.json from Neutron resources, the
EC2 tree, path resolution and rendering, signatures and the shared secret's file."""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import replace

import pytest

from pocketstack.common import config
from pocketstack.compute.contract import GuestInstance
from pocketstack.metadata import ec2, openstack, paths, signing
from pocketstack.metadata.content import GuestMetadata, hostname
from pocketstack.metadata.networkinfo import NetworkInfo, dhcp_servers, from_resources
from pocketstack.metadata.secret import secret_file, shared_secret
from pocketstack.metadata.tree import JSON, PathNotFound, render

INSTANCE = GuestInstance(
    id="3f2a9c01-1111-4222-8333-444455556666", name="vm 1", hostname="vm-1", project_id="p1",
    reservation_id="r-0000abcd", launch_index=2, availability_zone="az1",
    image_ref="0badcafe-0000-4000-8000-000000000001", image_properties={"kernel_id": "k-not-a-uuid"},
    flavor_name="m1.tiny", ephemeral_gb=0, swap_mb=512, key_name="k", key_data="ssh-ed25519 AAAA k",
    user_data=None, metadata={}, security_groups=("default", "web"), volume_devices=("/dev/vdc", "/dev/vdb"))


NO_NETWORK = NetworkInfo()


def metadata(instance: GuestInstance = INSTANCE, network: NetworkInfo = NO_NETWORK,
             address: str | None = None) -> GuestMetadata:
    return GuestMetadata(instance, network, hostname(instance, "novalocal"), "c2VlZA==", address)


# -- network_data.json -------------------------------------------------------------------
PORT = {"id": "0123456789abcdef", "network_id": "n1", "mac_address": "fa:16:3e:00:00:01",
        "binding:vif_type": "unbound",
        "fixed_ips": [{"subnet_id": "s4", "ip_address": "10.0.0.5"}, {"subnet_id": "s6", "ip_address": "fd00::5"},
                      {"subnet_id": "s4b", "ip_address": "10.1.0.5"}]}
SUBNETS = {
    "s4": {"id": "s4", "ip_version": 4, "cidr": "10.0.0.0/24", "gateway_ip": "10.0.0.1", "enable_dhcp": True,
           "dns_nameservers": ["10.0.0.2"], "host_routes": []},
    "s4b": {"id": "s4b", "ip_version": 4, "cidr": "10.1.0.0/24", "gateway_ip": None, "enable_dhcp": False},
    "s6": {"id": "s6", "ip_version": 6, "cidr": "fd00::/64", "gateway_ip": "fd00::1", "enable_dhcp": True,
           "ipv6_address_mode": "slaac", "dns_nameservers": ["10.0.0.2", "fd00::2"], "host_routes": []},
}
NETWORKS = {"n1": {"id": "n1", "mtu": 1450}}


def test_dhcp_and_slaac_subnets():
    info = from_resources([PORT], SUBNETS, NETWORKS, {}, [])
    link = {"id": "tap0123456789a", "vif_id": PORT["id"], "type": "phy", "mtu": 1450,
            "ethernet_mac_address": "fa:16:3e:00:00:01"}
    assert info.network_data == {
        "links": [link],
        "networks": [
            {"id": "network0", "type": "ipv4_dhcp", "link": link["id"], "network_id": "n1"},
            {"id": "network1", "type": "ipv6_slaac", "link": link["id"], "ip_address": "fd00::5",
             "netmask": "ffff:ffff:ffff:ffff::", "routes": [{"network": "::", "netmask": "::", "gateway": "fd00::1"}],
             "network_id": "n1", "services": [{"type": "dns", "address": "10.0.0.2"},
                                              {"type": "dns", "address": "fd00::2"}]}],
        # Only the DNS servers of the networks announced (the first subnet of each version)
        # and each once; the DHCP network announces none (Nova still lists its servers).
        "services": [{"type": "dns", "address": "10.0.0.2"}, {"type": "dns", "address": "fd00::2"}]}
    assert info.fixed_ipv4 == ("10.0.0.5", "10.1.0.5") and info.floating_ipv4 == ()


def test_a_dhcp_port_leaves_the_mtu_to_dhcp_and_ovs_is_shown():
    dhcp = dhcp_servers([{"fixed_ips": [{"subnet_id": "s4", "ip_address": "10.0.0.2"}]}])
    info = from_resources([{**PORT, "binding:vif_type": "ovs"}], SUBNETS, NETWORKS, dhcp,
                          [{"floating_ip_address": "203.0.113.7"}, {"floating_ip_address": "2001:db8::7"}])
    assert info.network_data["links"][0]["mtu"] is None and info.network_data["links"][0]["type"] == "ovs"
    assert info.floating_ipv4 == ("203.0.113.7",)


def test_ports_without_subnets_give_empty_lists_and_no_ports_nothing():
    bare = {**PORT, "fixed_ips": []}
    assert from_resources([bare], SUBNETS, NETWORKS, {}, []).network_data == {
        "links": [], "networks": [], "services": []}
    assert from_resources([], {}, {}, {}, []).network_data == {}


# -- OpenStack tree ----------------------------------------------------------------------
def test_meta_data_keys_by_version():
    md = metadata()
    assert set(openstack.meta_data(md, openstack.FOLSOM)) == {
        "uuid", "public_keys", "keys", "hostname", "name", "launch_index", "availability_zone"}
    latest = openstack.meta_data(md, "latest")
    assert latest["hostname"] == "vm-1.novalocal" and latest["random_seed"] == "c2VlZA=="
    assert {"project_id", "devices", "dedicated_cpus"} <= set(latest)
    assert "project_id" not in openstack.meta_data(md, openstack.HAVANA)
    with pytest.raises(PathNotFound):
        openstack.meta_data(md, "2099-01-01")


def test_future_versions_are_served_but_not_listed():
    assert openstack.listed_versions(dt.date(2016, 7, 1)) == [
        "2012-08-10", "2013-04-04", "2013-10-17", "2015-10-15", "2016-06-30", "latest"]


def test_openstack_answers():
    md = metadata(replace(INSTANCE, user_data=b"\x00\xffbinary"))
    assert paths.lookup(md, "/openstack/latest/user_data").body == b"\x00\xffbinary"
    answer = paths.lookup(md, "openstack/latest/meta_data.json")
    assert answer.content_type == JSON
    assert paths.lookup(md, "/openstack/latest/network_data.json").body == b"{}"


# -- EC2 tree ----------------------------------------------------------------------------
def test_ec2_ids():
    assert ec2.ec2_id("i", INSTANCE.id) == "i-3f2a9c01"
    assert ec2.ec2_id("aki", "k-not-a-uuid") == ec2.ec2_id("aki", "k-not-a-uuid")
    assert ec2.ec2_id("aki", "k-not-a-uuid").startswith("aki-") and len(ec2.ec2_id("aki", "x")) == 12


def test_ec2_tree():
    meta = ec2.tree(metadata(address="192.0.2.9"), "latest")["meta-data"]
    assert meta["instance-id"] == "i-3f2a9c01" and meta["ami-id"] == "ami-0badcafe"
    assert meta["kernel-id"] == ec2.ec2_id("aki", "k-not-a-uuid") and "ramdisk-id" not in meta
    assert meta["local-ipv4"] == "192.0.2.9"  # no fixed IPv4: the proxied address, as Nova
    assert meta["block-device-mapping"] == {"ami": "vda", "root": "/dev/vda", "swap": "/dev/vdb",
                                            "ebs0": "/dev/vdc", "ebs1": "/dev/vdb"}
    assert meta["placement"] == {"availability-zone": "az1"} and meta["instance-action"] == "none"
    old = ec2.tree(metadata(), "1.0")["meta-data"]
    assert "local-hostname" not in old and "placement" not in old and "instance-type" not in old
    booted_from_volume = ec2.tree(metadata(replace(INSTANCE, image_ref="")), "latest")["meta-data"]
    assert render(booted_from_volume["ami-id"]) == b"None"


def test_ec2_paths():
    md = metadata(network=NetworkInfo({}, ("10.0.0.5",), ("203.0.113.7",)))
    assert paths.lookup(md, "/latest/meta-data/security-groups").body == b"default\nweb"
    assert paths.lookup(md, "/latest/meta-data/public-keys/").body == b"0=k"
    assert paths.lookup(md, "/latest/meta-data/public-keys/0").body == b"openssh-key"
    assert paths.lookup(md, "/2009-04-04/meta-data/local-ipv4").body == b"10.0.0.5"
    assert paths.lookup(md, "/2009-04-04/meta-data/public-ipv4").body == b"203.0.113.7"
    assert paths.lookup(md, "/ec2").body == paths.lookup(md, "/ec2/").body
    assert paths.lookup(md, "/latest/meta-data/../meta-data/./hostname").body == b"vm-1.novalocal"
    for bad in ("/latest/meta-data/security-groups/web", "/latest/meta-data/hostname/x", "/9.9/meta-data",
                "/latest/meta-data/public-keys/0/_name"):
        with pytest.raises(PathNotFound):
            paths.lookup(md, bad)


@pytest.mark.parametrize("path, expected", [("/", []), ("", []), ("//a//b/", ["a", "b"]), ("/a/../..", []),
                                            ("/a/./b/..", ["a"])])
def test_path_tokens(path, expected):
    assert paths.tokens(path) == expected


def test_render():
    assert render({"b": 1, "a": {"x": 1}, "c": {"_name": "0=k"}, "_name": "hidden"}) == b"a/\nb\n0=k"
    assert render(["x", "y"]) == b"x\ny" and render(3) == b"3" and render(None) == b"None"


# -- signing and the secret --------------------------------------------------------------
def test_signature_is_hex_hmac_sha256():
    import hashlib
    import hmac

    assert signing.sign("s3cret", "abc") == hmac.new(b"s3cret", b"abc", hashlib.sha256).hexdigest()
    assert signing.verify("s3cret", "abc", signing.sign("s3cret", "abc"))
    assert not signing.verify("s3cret", "abc", signing.sign("s3cret", "abd"))
    assert not signing.verify("", "abc", signing.sign("", "abc"))  # no secret: nothing verifies
    assert not signing.verify("s3cret", "abc", "ü")


def test_secret_is_generated_once_and_kept_private(tmp_path):
    settings = config.load(overrides={"data_dir": tmp_path}, environ={})
    assert shared_secret(settings) == ""
    made = shared_secret(settings, create=True)
    assert len(made) == 64 and shared_secret(settings) == made and shared_secret(settings, create=True) == made
    assert os.stat(secret_file(settings)).st_mode & 0o777 == 0o600
    assert [p.name for p in tmp_path.iterdir()] == ["metadata-proxy-secret"]
    configured = config.load(overrides={"data_dir": tmp_path, "metadata_proxy_shared_secret": "set"}, environ={})
    assert shared_secret(configured, create=True) == "set"
