"""The real ``openstack`` CLI and openstacksdk against a real ``pocketstack up``: metering
labels and rules (``openstack network meter [rule] create/show/list/delete``) and service
flavors and profiles (``openstack network flavor [profile] create/set/show/list/delete``,
``network flavor add/remove profile``)."""

from __future__ import annotations

import pytest

from cloudproc import running_cloud

pytestmark = pytest.mark.timeout(300)


@pytest.fixture(scope="module")
def cloud_proc(tmp_path_factory):
    with running_cloud(tmp_path_factory.mktemp("metering-cli")) as proc:
        yield proc


def test_openstack_cli_meters(cloud_proc):
    run = cloud_proc.openstack
    meter = run("network", "meter", "create", "--description", "outside", "--share", "m1", "-f", "json")
    assert (meter["name"], meter["description"], meter["shared"]) == ("m1", "outside", True)
    rule = run("network", "meter", "rule", "create", "--egress", "--exclude", "--remote-ip-prefix", "10.0.0.0/8",
               "m1", "-f", "json")
    assert (rule["direction"], rule["is_excluded"], rule["remote_ip_prefix"]) == ("egress", True, "10.0.0.0/8")
    other = run("network", "meter", "rule", "create", "--ingress", "--source-ip-prefix", "192.0.2.0/24",
                "--destination-ip-prefix", "198.51.100.7", "m1", "-f", "json")
    assert other["destination_ip_prefix"] == "198.51.100.7/32"
    clash = run("network", "meter", "rule", "create", "--egress", "--exclude", "--remote-ip-prefix", "10.1.0.0/16",
                "m1", check=False)
    assert clash.returncode != 0 and "overlaps another" in clash.stderr
    assert run("network", "meter", "show", "m1", "-f", "json")["id"] == meter["id"]
    assert {r["ID"] for r in run("network", "meter", "rule", "list", "-f", "json")} >= {rule["id"], other["id"]}
    run("network", "meter", "rule", "delete", rule["id"], parse=False)
    run("network", "meter", "delete", "m1", parse=False)
    assert rule["id"] not in run("network", "meter", "rule", "list", "-f", "value", parse=False).stdout
    assert other["id"] not in run("network", "meter", "rule", "list", "-f", "value", parse=False).stdout
    # a member of the demo project is no manager: 403
    refused = cloud_proc.openstack("network", "meter", "create", "m2", cloud="pocketstack-demo", check=False)
    assert refused.returncode != 0


def test_openstack_cli_and_sdk_flavors(cloud_proc):
    import openstack.config
    import openstack.connection
    from openstack import exceptions

    run = cloud_proc.openstack
    flavor = run("network", "flavor", "create", "--service-type", "L3_ROUTER_NAT", "--description", "routers",
                 "gold", "-f", "json")
    assert (flavor["service_type"], flavor["enabled"]) == ("L3_ROUTER_NAT", True)
    profile = run("network", "flavor", "profile", "create", "--metainfo", '{"a": 1}', "-f", "json")
    run("network", "flavor", "add", "profile", "gold", profile["id"], parse=False)
    assert run("network", "flavor", "show", "gold", "-f", "json")["service_profile_ids"] == [profile["id"]]
    run("network", "flavor", "set", "--disable", "gold", parse=False)
    assert run("network", "flavor", "show", "gold", "-f", "json")["enabled"] is False
    bad = run("network", "flavor", "create", "--service-type", "FIREWALL", "bad", check=False)
    assert bad.returncode != 0 and "Invalid service type FIREWALL" in bad.stderr
    # everyone reads flavors; profiles are the admin's
    assert "gold" in cloud_proc.openstack("network", "flavor", "list", "-f", "value", cloud="pocketstack-demo",
                                          parse=False).stdout
    config = openstack.config.OpenStackConfig(config_files=[str(cloud_proc.clouds_file)])
    conn = openstack.connection.Connection(config=config.get_one("pocketstack"))
    with pytest.raises(exceptions.ConflictException):
        conn.network.delete_service_profile(profile["id"])  # ServiceProfileInUse
    run("network", "flavor", "remove", "profile", "gold", profile["id"], parse=False)
    conn.network.delete_service_profile(profile["id"])
    conn.network.delete_flavor(flavor["id"])
    assert conn.network.find_flavor("gold") is None
    conn.close()
