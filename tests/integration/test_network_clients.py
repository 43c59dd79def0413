"""The real ``openstack`` CLI and openstacksdk against a real ``pocketstack up``: networking."""

from __future__ import annotations

import pytest

from cloudproc import running_cloud

# ~37 CLI invocations, each a new Python process: 204 s were measured on a loaded
# shared 2-core machine, so the budget is generous.
pytestmark = pytest.mark.timeout(400)


@pytest.fixture(scope="module")
def cloud_proc(tmp_path_factory):
    with running_cloud(tmp_path_factory.mktemp("network-cli")) as proc:
        yield proc


def test_openstack_cli_network_workflow(cloud_proc):
    os_ = cloud_proc.openstack
    public = os_("network", "create", "--external", "public", "-f", "json")
    assert public["router:external"] is True
    os_("subnet", "create", "--network", "public", "--subnet-range", "203.0.113.0/24", "public-v4", "-f", "json")

    def demo(*args, **kw):
        return os_(*args, cloud="pocketstack-demo", **kw)

    net = demo("network", "create", "private", "-f", "json")
    assert net["name"] == "private" and net["status"] == "ACTIVE"
    v4 = demo("subnet", "create", "--network", "private", "--subnet-range", "10.1.0.0/24", "private-v4", "-f", "json")
    assert v4["cidr"] == "10.1.0.0/24" and v4["gateway_ip"] == "10.1.0.1"
    v6 = demo("subnet", "create", "--network", "private", "--ip-version", "6", "--ipv6-ra-mode", "slaac",
              "--ipv6-address-mode", "slaac", "--subnet-range", "fd00:1::/64", "private-v6", "-f", "json")
    assert v6["ip_version"] == 6 and v6["ipv6_address_mode"] == "slaac"

    port = demo("port", "create", "--network", "private", "--fixed-ip", "subnet=private-v4,ip-address=10.1.0.50",
                "web-port", "-f", "json")
    addresses = {f["ip_address"] for f in port["fixed_ips"]}
    assert "10.1.0.50" in addresses and any(a.startswith("fd00:1::") for a in addresses)
    taken = demo("port", "create", "--network", "private", "--fixed-ip", "ip-address=10.1.0.50", "again",
                 check=False)
    assert taken.returncode != 0 and "10.1.0.50" in taken.stderr

    demo("security", "group", "create", "web", "-f", "json")
    rule = demo("security", "group", "rule", "create", "--protocol", "tcp", "--dst-port", "22", "web", "-f", "json")
    assert rule["port_range_min"] == 22 and rule["protocol"] == "tcp"
    demo("port", "set", "--security-group", "web", "web-port", parse=False)

    router = demo("router", "create", "gw", "-f", "json")
    assert router["name"] == "gw"
    demo("router", "add", "subnet", "gw", "private-v4", parse=False)
    demo("router", "set", "--external-gateway", "public", "gw", parse=False)
    shown = demo("router", "show", "gw", "-f", "json")
    assert shown["external_gateway_info"]["network_id"] == public["id"]
    assert len(shown["interfaces_info"]) == 1

    fip = demo("floating", "ip", "create", "public", "-f", "json")
    assert fip["floating_ip_address"].startswith("203.0.113.")
    demo("floating", "ip", "set", "--port", "web-port", fip["floating_ip_address"], parse=False)
    fip = demo("floating", "ip", "show", fip["id"], "-f", "json")
    assert fip["port_id"] == port["id"] and fip["fixed_ip_address"] == "10.1.0.50"

    listed = demo("port", "list", "--network", "private", "-f", "json")
    assert port["id"] in {p["ID"] for p in listed}
    usage = {q["Resource"]: q for q in os_("quota", "show", "--network", "--usage", "demo", "-f", "json")}
    assert usage["networks"]["Limit"] == 100 and usage["networks"]["In Use"] == 1
    assert usage["ports"]["In Use"] >= 2  # web-port and the router interface

    # QoS: the admin's shared policy with a rule, bound by the demo project to its network.
    qos = os_("network", "qos", "policy", "create", "--share", "gold", "-f", "json")
    assert qos["shared"] is True
    os_("network", "qos", "rule", "create", "--type", "bandwidth-limit", "--max-kbps", "1000", "--egress", "gold",
        "-f", "json")
    demo("network", "set", "--qos-policy", "gold", "private", parse=False)
    shown = os_("network", "qos", "policy", "show", "gold", "-f", "json")
    assert [(r["type"], r["max_kbps"], r["direction"]) for r in shown["rules"]] == [("bandwidth_limit", 1000,
                                                                                     "egress")]
    assert demo("network", "show", "private", "-f", "json")["qos_policy_id"] == qos["id"]

    # Tear down in the order Neutron requires.
    demo("floating", "ip", "delete", fip["id"], parse=False)
    demo("router", "unset", "--external-gateway", "gw", parse=False)
    demo("router", "remove", "subnet", "gw", "private-v4", parse=False)
    demo("router", "delete", "gw", parse=False)
    demo("port", "delete", "web-port", parse=False)
    demo("network", "delete", "private", parse=False)
    os_("network", "qos", "policy", "delete", "gold", parse=False)
    assert [n["ID"] for n in demo("network", "list", "-f", "json")] == [public["id"]]


def test_openstacksdk_network(cloud_proc):
    import openstack.config
    import openstack.connection

    config = openstack.config.OpenStackConfig(config_files=[str(cloud_proc.clouds_file)])
    conn = openstack.connection.Connection(config=config.get_one("pocketstack-demo"))
    net = conn.network.create_network(name="sdk-net")
    subnet = conn.network.create_subnet(network_id=net.id, ip_version=4, cidr="10.2.0.0/28", name="sdk-sub")
    ports = [conn.network.create_port(network_id=net.id) for _ in range(3)]
    assert len({p.fixed_ips[0]["ip_address"] for p in ports}) == 3
    assert {p.id for p in conn.network.ports(network_id=net.id)} == {p.id for p in ports}
    assert [n.id for n in conn.network.networks(name="sdk-net")] == [net.id]
    assert conn.network.find_subnet("sdk-sub").id == subnet.id
    for port in ports:
        conn.network.delete_port(port)
    conn.network.delete_network(net)
    conn.close()


def test_openstack_cli_trunk(cloud_proc):
    """``openstack network trunk create/set/unset/show/delete`` (the ports come from
    openstacksdk: only the trunk commands pay for a CLI process each)."""
    import openstack.config
    import openstack.connection
    from openstack import exceptions

    config = openstack.config.OpenStackConfig(config_files=[str(cloud_proc.clouds_file)])
    conn = openstack.connection.Connection(config=config.get_one("pocketstack-demo"))
    net = conn.network.create_network(name="trunk-net")
    parent, first, second = (conn.network.create_port(network_id=net.id, name=f"trunk-{n}")
                             for n in ("parent", "first", "second"))

    def demo(*args, **kw):
        return cloud_proc.openstack("network", "trunk", *args, cloud="pocketstack-demo", **kw)

    trunk = demo("create", "--parent-port", "trunk-parent", "--subport",
                 "port=trunk-first,segmentation-type=vlan,segmentation-id=100", "trunk1", "-f", "json")
    assert trunk["port_id"] == parent.id and trunk["status"] == "DOWN"
    demo("set", "--subport", "port=trunk-second,segmentation-type=vlan,segmentation-id=200", "trunk1", parse=False)
    demo("unset", "--subport", "trunk-first", "trunk1", parse=False)
    shown = demo("show", "trunk1", "-f", "json")
    assert shown["sub_ports"] == [{"port_id": second.id, "segmentation_type": "vlan", "segmentation_id": 200}]
    with pytest.raises(exceptions.ConflictException):
        conn.network.delete_port(parent)  # PortInUseAsTrunkParent
    assert conn.network.get_port(parent.id).trunk_details["sub_ports"][0]["mac_address"] == second.mac_address
    demo("delete", "trunk1", parse=False)
    for port in (parent, first, second):
        conn.network.delete_port(port)
    conn.network.delete_network(net)
    conn.close()
