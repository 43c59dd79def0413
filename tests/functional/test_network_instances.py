"""The Python interface compute uses (``cloud.service("network").manager``)."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from pocketstack.common.errors import ApiError

from conftest import unique

NET = "/network/v2.0"


@pytest.fixture
def manager(cloud):
    return cloud.service("network").manager


def ctx_of(cloud, token):
    return cloud.identity.validate_token(token)


def setup_network(api, token, cidr, **subnet):
    net = api.request("POST", f"{NET}/networks", token, json={"network": {"name": unique("net")}}).json()["network"]
    sub = api.request("POST", f"{NET}/subnets", token, json={"subnet": {
        "network_id": net["id"], "ip_version": 4, "cidr": cidr, **subnet}}).json()["subnet"]
    return net, sub


def test_allocate_list_and_deallocate(cloud, api, demo_token, manager):
    ctx = ctx_of(cloud, demo_token)
    net, sub = setup_network(api, demo_token, "10.80.0.0/24")
    mine = api.request("POST", f"{NET}/ports", demo_token, json={"port": {"network_id": net["id"]}}).json()["port"]
    instance = unique("vm")
    ports = manager.allocate_for_instance(ctx, instance, "host-1", [
        {"network_id": net["id"]}, {"network_id": net["id"], "fixed_ip": "10.80.0.42"}, {"port_id": mine["id"]}])
    assert len(ports) == 3
    assert all(p["device_id"] == instance and p["device_owner"] == "compute:nova" for p in ports)
    assert all(p["binding:host_id"] == "host-1" and p["status"] == "ACTIVE" for p in ports)
    assert ports[1]["fixed_ips"][0]["ip_address"] == "10.80.0.42"
    assert sorted(p["id"] for p in manager.list_instance_ports(instance)) == sorted(p["id"] for p in ports)
    addresses = manager.instance_addresses(instance)
    assert list(addresses) == [net["name"]]
    assert {a["addr"] for a in addresses[net["name"]]} == {p["fixed_ips"][0]["ip_address"] for p in ports}
    assert all(a["version"] == 4 and a["OS-EXT-IPS:type"] == "fixed" for a in addresses[net["name"]])
    driver = cloud.service("network").driver
    assert driver.of("port_updated", ports[0]["id"])
    manager.deallocate_for_instance(instance)
    assert manager.list_instance_ports(instance) == []
    assert api.request("GET", f"{NET}/ports/{ports[0]['id']}", demo_token).status_code == 404
    kept = api.request("GET", f"{NET}/ports/{mine['id']}", demo_token).json()["port"]
    assert kept["device_id"] == "" and kept["device_owner"] == "" and kept["status"] == "DOWN"


def test_created_ports_get_the_security_groups_the_server_asked_for(cloud, api, demo_token, manager):
    ctx = ctx_of(cloud, demo_token)
    net, _ = setup_network(api, demo_token, "10.84.0.0/24")
    web = api.request("POST", f"{NET}/security-groups", demo_token,
                      json={"security_group": {"name": unique("web")}}).json()["security_group"]
    other = api.request("POST", f"{NET}/security-groups", demo_token,
                        json={"security_group": {"name": unique("other")}}).json()["security_group"]
    instance = unique("vm")
    # By name and by id, as Nova takes them (python-openstackclient sends ids).
    [port] = manager.allocate_for_instance(ctx, instance, "h", [{"network_id": net["id"]}],
                                           [web["name"], other["id"]])
    assert port["security_groups"] == [web["id"], other["id"]]
    [default] = manager.allocate_for_instance(ctx, unique("vm"), "h", [{"network_id": net["id"]}], ["default"])
    groups = api.request("GET", f"{NET}/security-groups?name=default", demo_token).json()["security_groups"]
    assert default["security_groups"] == [groups[0]["id"]]
    with pytest.raises(ApiError) as raised:
        manager.allocate_for_instance(ctx, unique("vm"), "h", [{"network_id": net["id"]}], [unique("missing")])
    assert raised.value.status == 404 and raised.value.error_type == "SecurityGroupNotFound"


def test_failed_allocation_rolls_back(cloud, api, demo_token, manager):
    ctx = ctx_of(cloud, demo_token)
    net, _ = setup_network(api, demo_token, "10.81.0.0/24")
    full, _ = setup_network(api, demo_token, "10.82.0.0/29",
                            allocation_pools=[{"start": "10.82.0.2", "end": "10.82.0.2"}])
    api.request("POST", f"{NET}/ports", demo_token, json={"port": {"network_id": full["id"]}})
    mine = api.request("POST", f"{NET}/ports", demo_token, json={"port": {"network_id": net["id"]}}).json()["port"]
    instance = unique("vm")
    with pytest.raises(ApiError) as raised:
        manager.allocate_for_instance(ctx, instance, "host-1", [
            {"network_id": net["id"]}, {"port_id": mine["id"]}, {"network_id": full["id"]}])
    assert raised.value.status == 409 and raised.value.error_type == "IpAddressGenerationFailure"
    assert manager.list_instance_ports(instance) == []
    ports = api.request("GET", f"{NET}/ports?network_id={net['id']}", demo_token).json()["ports"]
    assert [p["id"] for p in ports] == [mine["id"]] and ports[0]["device_id"] == ""


def test_attach_and_detach_interface(cloud, api, demo_token, manager):
    ctx = ctx_of(cloud, demo_token)
    net, _ = setup_network(api, demo_token, "10.83.0.0/24")
    instance = unique("vm")
    assert manager.allocate_for_instance(ctx, instance, "h", "none") == []
    port = manager.attach_interface(ctx, instance, "h", network_id=net["id"], fixed_ip="10.83.0.7")
    assert port["fixed_ips"][0]["ip_address"] == "10.83.0.7"
    with pytest.raises(ApiError) as raised:
        manager.detach_interface(ctx, unique("other"), port["id"])
    assert raised.value.status == 404
    manager.detach_interface(ctx, instance, port["id"])
    assert manager.list_instance_ports(instance) == []


def test_auto_allocates_one_topology_per_project_even_when_racing(cloud, api, admin_token, manager):
    ext = api.request("POST", f"{NET}/networks", admin_token, json={"network": {
        "name": unique("ext"), "router:external": True}}).json()["network"]
    api.request("POST", f"{NET}/subnets", admin_token, json={"subnet": {
        "network_id": ext["id"], "ip_version": 4, "cidr": "203.0.113.0/24"}})
    project = api.request("POST", "/identity/v3/projects", admin_token,
                          json={"project": {"name": unique("auto")}}).json()["project"]
    name = unique("u")
    user = api.request("POST", "/identity/v3/users", admin_token,
                       json={"user": {"name": name, "password": "pw-secret"}}).json()["user"]
    role = api.request("GET", "/identity/v3/roles?name=member", admin_token).json()["roles"][0]["id"]
    api.request("PUT", f"/identity/v3/projects/{project['id']}/users/{user['id']}/roles/{role}", admin_token)
    token = api.token(name, "pw-secret", project=project["name"])
    ctx = ctx_of(cloud, token)
    barrier = threading.Barrier(4)

    def one(i):
        barrier.wait()
        return manager.allocate_for_instance(ctx, f"vm-{i}", "h", "auto")

    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(one, range(4)))
    assert len({r[0]["network_id"] for r in results}) == 1
    networks = api.request("GET", f"{NET}/networks?project_id={project['id']}", token).json()["networks"]
    assert [n["name"] for n in networks] == ["auto_allocated_network"]
    routers = api.request("GET", f"{NET}/routers", token).json()["routers"]
    assert len(routers) == 1 and routers[0]["external_gateway_info"]["network_id"]
    topology = api.request("GET", f"{NET}/auto-allocated-topology/{project['id']}", token).json()
    assert topology["auto_allocated_topology"]["id"] == networks[0]["id"]
