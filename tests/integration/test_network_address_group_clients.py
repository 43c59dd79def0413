"""The real ``openstack`` CLI and openstacksdk against a real ``pocketstack up``: address
groups (``openstack address group create/set/unset/show/list/delete``, a rule with
``--remote-address-group``)."""

from __future__ import annotations

import pytest

from cloudproc import running_cloud

pytestmark = pytest.mark.timeout(300)


@pytest.fixture(scope="module")
def cloud_proc(tmp_path_factory):
    with running_cloud(tmp_path_factory.mktemp("address-group-cli")) as proc:
        yield proc


def test_openstack_cli_address_groups(cloud_proc):
    import openstack.config
    import openstack.connection
    from openstack import exceptions

    def demo(*args, **kw):
        return cloud_proc.openstack(*args, cloud="pocketstack-demo", **kw)

    group = demo("address", "group", "create", "--address", "10.0.0.1", "--address", "192.168.1.7/24",
                 "--description", "clients", "ag1", "-f", "json")
    assert sorted(group["addresses"]) == ["10.0.0.1/32", "192.168.1.0/24"] and group["description"] == "clients"
    demo("address", "group", "set", "--address", "10.0.0.2", "--name", "ag2", "ag1", parse=False)
    demo("address", "group", "unset", "--address", "10.0.0.1", "ag2", parse=False)
    shown = demo("address", "group", "show", "ag2", "-f", "json")
    assert sorted(shown["addresses"]) == ["10.0.0.2/32", "192.168.1.0/24"]
    assert [g["ID"] for g in demo("address", "group", "list", "-f", "json")] == [group["id"]]
    demo("security", "group", "create", "ag-sg", parse=False)
    rule = demo("security", "group", "rule", "create", "--protocol", "tcp", "--dst-port", "22",
                "--remote-address-group", "ag2", "ag-sg", "-f", "json")
    assert rule["remote_address_group_id"] == group["id"]
    config = openstack.config.OpenStackConfig(config_files=[str(cloud_proc.clouds_file)])
    conn = openstack.connection.Connection(config=config.get_one("pocketstack-demo"))
    assert conn.network.get_address_group(group["id"]).name == "ag2"
    with pytest.raises(exceptions.ConflictException):
        conn.network.delete_address_group(group["id"])  # AddressGroupInUse
    conn.network.delete_security_group_rule(rule["id"])
    conn.network.delete_address_group(group["id"])
    conn.close()
