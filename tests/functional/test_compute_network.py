"""Servers get ports: compute asks the network service for them at the networking build
step, shows them as ``addresses`` and releases them on delete."""

from __future__ import annotations

import pytest

from compute_fixtures import flavor, image, user  # noqa: F401 - fixtures
from conftest import unique
from test_compute_helpers import boot, call, new_member, wait, wait_gone

NET = "/network/v2.0"


def network(api, token, cidr: str, **subnet) -> tuple[dict, dict]:
    r = api.request("POST", f"{NET}/networks", token, json={"network": {"name": unique("cnet")}})
    assert r.status_code == 201, r.text
    net = r.json()["network"]
    r = api.request("POST", f"{NET}/subnets", token, json={"subnet": {
        "network_id": net["id"], "ip_version": 4, "cidr": cidr, **subnet}})
    assert r.status_code == 201, r.text
    return net, r.json()["subnet"]


def ports_of(api, token, server_id: str) -> list[dict]:
    r = api.request("GET", f"{NET}/ports?device_id={server_id}", token)
    assert r.status_code == 200, r.text
    return r.json()["ports"]


def delete(api, token, server_id: str) -> None:
    assert call(api, "DELETE", f"/servers/{server_id}", token).status_code == 204
    wait_gone(api, token, server_id)


def test_boot_on_network_gets_an_address(api, user, image, flavor):
    token = user["token"]
    net, sub = network(api, token, "10.91.0.0/24")
    server_id = boot(api, token, image, flavor["id"], networks=[{"uuid": net["id"]}])["server"]["id"]
    server = wait(api, token, server_id)
    assert server["status"] == "ACTIVE", server.get("fault")
    addresses = server["addresses"][net["name"]]
    assert len(addresses) == 1 and addresses[0]["version"] == 4 and addresses[0]["OS-EXT-IPS:type"] == "fixed"
    assert addresses[0]["addr"].startswith("10.91.0.")
    ports = ports_of(api, token, server_id)
    assert len(ports) == 1 and ports[0]["device_owner"] == "compute:nova"
    assert ports[0]["fixed_ips"][0]["ip_address"] == addresses[0]["addr"]
    assert addresses[0]["OS-EXT-IPS-MAC:mac_addr"] == ports[0]["mac_address"]
    listed = [s for s in call(api, "GET", "/servers/detail", token).json()["servers"] if s["id"] == server_id]
    assert listed[0]["addresses"] == server["addresses"]
    delete(api, token, server_id)
    assert ports_of(api, token, server_id) == []
    assert api.request("GET", f"{NET}/ports/{ports[0]['id']}", token).status_code == 404


def test_fixed_ip_is_honoured_and_freed_on_delete(api, user, image, flavor):
    token = user["token"]
    net, _ = network(api, token, "10.92.0.0/24")
    for _ in range(2):  # the second boot gets the same address back once the first server is gone
        server_id = boot(api, token, image, flavor["id"],
                         networks=[{"uuid": net["id"], "fixed_ip": "10.92.0.50"}])["server"]["id"]
        server = wait(api, token, server_id)
        assert server["status"] == "ACTIVE", server.get("fault")
        assert [a["addr"] for a in server["addresses"][net["name"]]] == ["10.92.0.50"]
        delete(api, token, server_id)
        assert ports_of(api, token, server_id) == []


def test_boot_with_own_port(api, user, image, flavor):
    token = user["token"]
    net, _ = network(api, token, "10.93.0.0/24")
    port = api.request("POST", f"{NET}/ports", token, json={"port": {"network_id": net["id"]}}).json()["port"]
    server_id = boot(api, token, image, flavor["id"], networks=[{"port": port["id"]}])["server"]["id"]
    server = wait(api, token, server_id)
    assert server["status"] == "ACTIVE", server.get("fault")
    assert [a["addr"] for a in server["addresses"][net["name"]]] == [port["fixed_ips"][0]["ip_address"]]
    assert boot(api, token, image, flavor["id"], expect=409, networks=[{"port": port["id"]}])
    delete(api, token, server_id)
    kept = api.request("GET", f"{NET}/ports/{port['id']}", token).json()["port"]  # the user's port stays
    assert kept["device_id"] == "" and kept["status"] == "DOWN"


def test_exhausted_subnet_is_error_with_fault(api, user, image, flavor):
    token = user["token"]
    net, _ = network(api, token, "10.94.0.0/30")  # one address besides the gateway
    filler = api.request("POST", f"{NET}/ports", token, json={"port": {"network_id": net["id"]}})
    assert filler.status_code == 201, filler.text
    server_id = boot(api, token, image, flavor["id"], networks=[{"uuid": net["id"]}])["server"]["id"]
    server = wait(api, token, server_id)
    assert server["status"] == "ERROR" and server["fault"]["code"] == 500
    assert "No more IP addresses available" in server["fault"]["message"]
    assert server["addresses"] == {} and ports_of(api, token, server_id) == []
    delete(api, token, server_id)
    limits = call(api, "GET", "/limits", token).json()["limits"]["absolute"]
    assert limits["totalInstancesUsed"] == 0


def test_none_has_no_addresses(api, user, image, flavor):
    token = user["token"]
    server_id = boot(api, token, image, flavor["id"], networks="none")["server"]["id"]
    server = wait(api, token, server_id)
    assert server["status"] == "ACTIVE" and server["addresses"] == {}
    assert ports_of(api, token, server_id) == []
    delete(api, token, server_id)


@pytest.mark.parametrize("networks, status, message", [
    ([{"uuid": "00000000-0000-0000-0000-00000000dead"}], 400, "could not be found"),
    ([{"port": "00000000-0000-0000-0000-00000000dead"}], 400, "could not be found"),
    ([{"fixed_ip": "10.0.0.1"}], 400, "network uuid"),
    ([{"uuid": "x", "bogus": 1}], 400, "bogus"),
])
def test_bad_networks_are_rejected(api, user, image, flavor, networks, status, message):
    body = boot(api, user["token"], image, flavor["id"], expect=status, networks=networks)
    assert message in body["badRequest"]["message"]


def test_fixed_ip_with_max_count_is_400(api, user, image, flavor):
    net, _ = network(api, user["token"], "10.95.0.0/24")
    body = boot(api, user["token"], image, flavor["id"], expect=400, max_count=2,
                networks=[{"uuid": net["id"], "fixed_ip": "10.95.0.9"}])
    assert "max_count" in body["badRequest"]["message"]


def test_resumed_networking_step_does_not_duplicate_ports(api, user, image, flavor):
    """A build interrupted at the networking step (a restart) is resumed with one set of ports."""
    from pocketstack.compute import states as st
    from pocketstack.compute.transitions import transition

    token = user["token"]
    compute = api.cloud.service("compute").compute
    net, _ = network(api, token, "10.96.0.0/24")
    server_id = boot(api, token, image, flavor["id"], networks=[{"uuid": net["id"]}])["server"]["id"]
    assert wait(api, token, server_id)["status"] == "ACTIVE"
    compute.hosts.driver(compute.instances.get(server_id).host).destroy(server_id)
    assert transition(compute.db, server_id, {"task_state": None},
                      {"vm_state": st.BUILDING, "task_state": st.NETWORKING})
    compute.manager.recover(compute.instances.get(server_id))
    server = wait(api, token, server_id)
    assert server["status"] == "ACTIVE", server.get("fault")
    assert len(ports_of(api, token, server_id)) == 1 and len(server["addresses"][net["name"]]) == 1
    delete(api, token, server_id)
    assert ports_of(api, token, server_id) == []


def test_os_interface_attach_list_show_detach(api, user, demo_token, image, flavor):
    token = user["token"]
    net, _ = network(api, token, "10.97.0.0/24")
    other, _ = network(api, token, "10.98.0.0/24")
    server_id = boot(api, token, image, flavor["id"], networks=[{"uuid": net["id"]}])["server"]["id"]
    assert wait(api, token, server_id)["status"] == "ACTIVE"
    listed = call(api, "GET", f"/servers/{server_id}/os-interface", token).json()["interfaceAttachments"]
    assert len(listed) == 1 and listed[0]["net_id"] == net["id"] and listed[0]["port_state"] == "ACTIVE"
    assert set(listed[0]) == {"port_id", "net_id", "fixed_ips", "mac_addr", "port_state"}
    r = call(api, "POST", f"/servers/{server_id}/os-interface", token, json={"interfaceAttachment": {
        "net_id": other["id"], "fixed_ips": [{"ip_address": "10.98.0.77"}]}})
    assert r.status_code == 200, r.text
    attached = r.json()["interfaceAttachment"]
    assert attached["net_id"] == other["id"] and attached["fixed_ips"][0]["ip_address"] == "10.98.0.77"
    shown = call(api, "GET", f"/servers/{server_id}/os-interface/{attached['port_id']}", token)
    assert shown.status_code == 200 and shown.json()["interfaceAttachment"] == attached
    server = call(api, "GET", f"/servers/{server_id}", token).json()["server"]
    assert [a["addr"] for a in server["addresses"][other["name"]]] == ["10.98.0.77"]
    # Errors: taken address, both ids, unknown network, other projects.
    taken = call(api, "POST", f"/servers/{server_id}/os-interface", token, json={"interfaceAttachment": {
        "net_id": other["id"], "fixed_ips": [{"ip_address": "10.98.0.77"}]}})
    assert taken.status_code == 409, taken.text
    both = call(api, "POST", f"/servers/{server_id}/os-interface", token, json={"interfaceAttachment": {
        "net_id": other["id"], "port_id": attached["port_id"]}})
    assert both.status_code == 400
    missing = call(api, "POST", f"/servers/{server_id}/os-interface", token, json={"interfaceAttachment": {
        "net_id": "00000000-0000-0000-0000-00000000dead"}})
    assert missing.status_code == 404, missing.text
    assert call(api, "GET", f"/servers/{server_id}/os-interface", demo_token).status_code == 404
    assert call(api, "DELETE", f"/servers/{server_id}/os-interface/{attached['port_id']}",
                token).status_code == 202
    assert api.request("GET", f"{NET}/ports/{attached['port_id']}", token).status_code == 404
    assert call(api, "DELETE", f"/servers/{server_id}/os-interface/{attached['port_id']}",
                token).status_code == 404
    assert call(api, "GET", f"/servers/{server_id}/os-interface/{attached['port_id']}", token).status_code == 404
    assert len(call(api, "GET", f"/servers/{server_id}/os-interface", token).json()["interfaceAttachments"]) == 1
    delete(api, token, server_id)
    assert ports_of(api, token, server_id) == []


def _claimed_server(api, admin_token, user, image, flavor, cidr: str, foreign_cidr: str) -> dict:
    """A server of ``user`` on its own network, and another project's port whose
    ``device_id`` names the server (Neutron lets a project name any device)."""
    token = user["token"]
    net, _ = network(api, token, cidr)
    server_id = boot(api, token, image, flavor["id"], networks=[{"uuid": net["id"]}])["server"]["id"]
    assert wait(api, token, server_id)["status"] == "ACTIVE"
    mine, = ports_of(api, token, server_id)
    intruder = new_member(api, admin_token)
    foreign_net, _ = network(api, intruder["token"], foreign_cidr)
    r = api.request("POST", f"{NET}/ports", intruder["token"], json={"port": {
        "network_id": foreign_net["id"], "device_id": server_id, "device_owner": "compute:nova"}})
    assert r.status_code == 201, r.text
    return {"net": net, "server_id": server_id, "mine": mine, "intruder": intruder, "foreign_net": foreign_net,
            "foreign": r.json()["port"]}


def test_a_port_claiming_a_server_it_was_not_bound_to_is_not_shown(api, admin_token, user, image, flavor):
    """As Nova shows the ports in its network info cache (the ones it bound), another
    project's port naming the server as its device is never part of the server."""
    token = user["token"]
    claimed = _claimed_server(api, admin_token, user, image, flavor, "10.111.0.0/24", "10.112.0.0/24")
    net, server_id, foreign = claimed["net"], claimed["server_id"], claimed["foreign"]
    for viewer in (token, admin_token):
        server = call(api, "GET", f"/servers/{server_id}", viewer).json()["server"]
        assert list(server["addresses"]) == [net["name"]]
        everyone = "?all_tenants=1" if viewer == admin_token else ""
        listed = [s for s in call(api, "GET", f"/servers/detail{everyone}", viewer).json()["servers"]
                  if s["id"] == server_id]
        assert list(listed[0]["addresses"]) == [net["name"]]
        assert list(call(api, "GET", f"/servers/{server_id}/ips", viewer).json()["addresses"]) == [net["name"]]
        assert call(api, "GET", f"/servers/{server_id}/ips/{claimed['foreign_net']['name']}", viewer
                    ).status_code == 404
        attachments = call(api, "GET", f"/servers/{server_id}/os-interface", viewer).json()["interfaceAttachments"]
        assert [a["port_id"] for a in attachments] == [claimed["mine"]["id"]]
        assert call(api, "GET", f"/servers/{server_id}/os-interface/{foreign['id']}", viewer).status_code == 404
    assert call(api, "DELETE", f"/servers/{server_id}/os-interface/{foreign['id']}", token).status_code == 404
    delete(api, token, server_id)
    kept = api.request("GET", f"{NET}/ports/{foreign['id']}", claimed["intruder"]["token"]).json()["port"]
    assert kept["device_id"] == server_id  # not the server's: its deletion leaves it alone


def test_server_actions_leave_a_port_claiming_the_server_alone(api, admin_token, user, image, flavor):
    """Security groups and floating IPs of a server (even an admin's view and actions) go
    to the ports compute bound, never to another project's port naming the server."""
    token = user["token"]
    claimed = _claimed_server(api, admin_token, user, image, flavor, "10.115.0.0/24", "10.116.0.0/24")
    server_id, foreign, intruder = claimed["server_id"], claimed["foreign"], claimed["intruder"]
    group = api.request("POST", f"{NET}/security-groups", token, json={"security_group": {
        "name": unique("sg")}}).json()["security_group"]
    for viewer in (token, admin_token):
        groups = call(api, "GET", f"/servers/{server_id}/os-security-groups", viewer,
                      version="2.35").json()["security_groups"]
        assert [g["name"] for g in groups] == ["default"]
    r = call(api, "POST", f"/servers/{server_id}/action", admin_token, json={"addSecurityGroup": {
        "name": group["name"]}})
    assert r.status_code == 202, r.text
    kept = api.request("GET", f"{NET}/ports/{foreign['id']}", intruder["token"]).json()["port"]
    assert kept["security_groups"] == foreign["security_groups"]
    external = api.request("POST", f"{NET}/networks", admin_token, json={"network": {
        "name": unique("ext"), "router:external": True}}).json()["network"]
    api.request("POST", f"{NET}/subnets", admin_token, json={"subnet": {
        "network_id": external["id"], "ip_version": 4, "cidr": "198.18.40.0/24"}})
    fip = api.request("POST", f"{NET}/floatingips", admin_token, json={"floatingip": {
        "floating_network_id": external["id"]}}).json()["floatingip"]
    r = call(api, "POST", f"/servers/{server_id}/action", admin_token, json={"addFloatingIp": {
        "address": fip["floating_ip_address"], "fixed_address": foreign["fixed_ips"][0]["ip_address"]}},
             version="2.35")
    assert r.status_code == 400 and r.json()["badRequest"]["message"] == \
        "Specified fixed address not assigned to instance", r.text
    delete(api, token, server_id)


def test_an_admin_attached_interface_belongs_to_the_server_project(api, admin_token, user, image, flavor):
    token = user["token"]
    net, _ = network(api, token, "10.113.0.0/24")
    server_id = boot(api, token, image, flavor["id"])["server"]["id"]
    assert wait(api, token, server_id)["status"] == "ACTIVE"
    r = call(api, "POST", f"/servers/{server_id}/os-interface", admin_token,
             json={"interfaceAttachment": {"net_id": net["id"]}})
    assert r.status_code == 200, r.text
    port = api.request("GET", f"{NET}/ports/{r.json()['interfaceAttachment']['port_id']}", token)
    assert port.status_code == 200 and port.json()["port"]["project_id"] == user["project"]["id"]
    delete(api, token, server_id)


def test_another_projects_port_is_not_usable_for_a_server(api, admin_token, user, image, flavor):
    token = user["token"]
    server_id = boot(api, token, image, flavor["id"])["server"]["id"]
    assert wait(api, token, server_id)["status"] == "ACTIVE"
    stranger = new_member(api, admin_token)
    net, _ = network(api, stranger["token"], "10.114.0.0/24")
    port = api.request("POST", f"{NET}/ports", stranger["token"], json={"port": {"network_id": net["id"]}}).json()
    r = call(api, "POST", f"/servers/{server_id}/os-interface", admin_token,
             json={"interfaceAttachment": {"port_id": port["port"]["id"]}})
    assert r.status_code == 400, r.text
    assert r.json()["badRequest"]["message"] == f"Port {port['port']['id']} not usable for instance {server_id}."
    kept = api.request("GET", f"{NET}/ports/{port['port']['id']}", stranger["token"]).json()["port"]
    assert kept["device_id"] == ""
    delete(api, token, server_id)


def test_no_server_port_on_networks_the_project_may_not_use(api, admin_token, user, image, flavor):
    """Nova's ExternalNetworkAttachForbidden, and Neutron's rule that only a network's owner
    picks an address on it."""
    token = user["token"]
    external = api.request("POST", f"{NET}/networks", admin_token, json={"network": {
        "name": unique("ext"), "router:external": True}}).json()["network"]
    api.request("POST", f"{NET}/subnets", admin_token, json={"subnet": {
        "network_id": external["id"], "ip_version": 4, "cidr": "198.18.30.0/24"}})
    shared = api.request("POST", f"{NET}/networks", admin_token, json={"network": {
        "name": unique("shared"), "shared": True}}).json()["network"]
    api.request("POST", f"{NET}/subnets", admin_token, json={"subnet": {
        "network_id": shared["id"], "ip_version": 4, "cidr": "198.18.31.0/24"}})
    refused = f"It is not allowed to create an interface on external network {external['id']}"
    server_id = boot(api, token, image, flavor["id"], networks=[{"uuid": external["id"]}])["server"]["id"]
    server = wait(api, token, server_id)
    assert server["status"] == "ERROR" and refused in server["fault"]["message"]
    delete(api, token, server_id)
    server_id = boot(api, token, image, flavor["id"], networks=[{"uuid": shared["id"], "fixed_ip": "198.18.31.9"}]
                     )["server"]["id"]
    assert wait(api, token, server_id)["status"] == "ERROR"
    delete(api, token, server_id)
    server_id = boot(api, token, image, flavor["id"])["server"]["id"]
    assert wait(api, token, server_id)["status"] == "ACTIVE"
    for spec, status in (({"net_id": external["id"]}, 403),
                         ({"net_id": shared["id"], "fixed_ips": [{"ip_address": "198.18.31.10"}]}, 403),
                         ({"net_id": shared["id"]}, 200)):
        r = call(api, "POST", f"/servers/{server_id}/os-interface", token, json={"interfaceAttachment": spec})
        assert r.status_code == status, r.text
    assert list(call(api, "GET", f"/servers/{server_id}", token).json()["server"]["addresses"]) == [shared["name"]]
    assert api.request("GET", f"{NET}/ports?network_id={external['id']}", admin_token).json()["ports"] == []
    delete(api, token, server_id)
