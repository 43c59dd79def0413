"""addFixedIp / removeFixedIp (Nova's multinic actions, 2.1–2.43) and the instance actions
of interface attach and detach, which Tempest's test_attach_interfaces and
test_device_tagging wait on (``compute_detach_interface`` succeeded)."""

from __future__ import annotations

from test_compute_network import delete, network, ports_of

from compute_fixtures import flavor, image, user  # noqa: F401 - fixtures
from test_compute_helpers import boot, call, wait


def action(api, token, server_id: str, body: dict, version: str = "2.43"):
    return call(api, "POST", f"/servers/{server_id}/action", token, version=version, json=body)


def addresses(api, token, server_id: str) -> list[str]:
    return sorted(ip["ip_address"] for port in ports_of(api, token, server_id) for ip in port["fixed_ips"])


def test_add_and_remove_a_fixed_ip(api, user, demo_token, image, flavor):
    token = user["token"]
    net, _ = network(api, token, "10.71.0.0/24")
    other, _ = network(api, token, "10.72.0.0/24")
    server_id = boot(api, token, image, flavor["id"], networks=[{"uuid": net["id"]}])["server"]["id"]
    assert wait(api, token, server_id)["status"] == "ACTIVE"
    [first] = addresses(api, token, server_id)

    assert action(api, token, server_id, {"addFixedIp": {"networkId": net["id"]}}).status_code == 202
    both = addresses(api, token, server_id)
    assert len(both) == 2 and first in both and len(ports_of(api, token, server_id)) == 1  # the same port
    added = next(a for a in both if a != first)
    server = call(api, "GET", f"/servers/{server_id}", token).json()["server"]
    assert sorted(a["addr"] for a in server["addresses"][net["name"]]) == both

    # No port on that network (Nova's compute host would log it): 404; bad bodies 400.
    missing = action(api, token, server_id, {"addFixedIp": {"networkId": other["id"]}})
    assert missing.status_code == 404 and "Network could not be found for instance" in missing.text
    for body in ({"addFixedIp": {}}, {"addFixedIp": {"networkId": ""}}, {"addFixedIp": {"networkId": "x" * 37}},
                 {"removeFixedIp": {}}, {"removeFixedIp": {"address": "not-an-ip"}}):
        assert action(api, token, server_id, body).status_code == 400, body
    unknown = action(api, token, server_id, {"removeFixedIp": {"address": "10.71.0.250"}})
    assert unknown.status_code == 400 and "doesn't have fixed IP '10.71.0.250'" in unknown.text
    # Another project sees no server; 2.44 removed both actions.
    assert action(api, demo_token, server_id, {"removeFixedIp": {"address": added}}).status_code == 404
    assert action(api, token, server_id, {"removeFixedIp": {"address": added}}, version="2.44").status_code == 404

    assert action(api, token, server_id, {"removeFixedIp": {"address": added}}).status_code == 202
    assert addresses(api, token, server_id) == [first]
    recorded = call(api, "GET", f"/servers/{server_id}/os-instance-actions", token).json()["instanceActions"]
    assert {"addFixedIp", "removeFixedIp"} <= {a["action"] for a in recorded}
    delete(api, token, server_id)


def test_interface_attach_and_detach_are_instance_actions(api, user, image, flavor):
    token = user["token"]
    net, _ = network(api, token, "10.73.0.0/24")
    server_id = boot(api, token, image, flavor["id"], networks="none")["server"]["id"]
    wait(api, token, server_id)
    r = call(api, "POST", f"/servers/{server_id}/os-interface", token, json={"interfaceAttachment": {
        "net_id": net["id"]}})
    assert r.status_code == 200, r.text
    port_id = r.json()["interfaceAttachment"]["port_id"]
    attach_request = r.headers["x-openstack-request-id"]
    r = call(api, "DELETE", f"/servers/{server_id}/os-interface/{port_id}", token)
    assert r.status_code == 202
    for request_id, name in ((attach_request, "attach_interface"), (r.headers["x-openstack-request-id"],
                                                                     "detach_interface")):
        shown = call(api, "GET", f"/servers/{server_id}/os-instance-actions/{request_id}", token, version="2.51")
        assert shown.status_code == 200, shown.text
        recorded = shown.json()["instanceAction"]
        assert recorded["action"] == name
        assert [(e["event"], e["result"]) for e in recorded["events"]] == [(f"compute_{name}", "Success")]
    # An unknown port is a 404 that records nothing.
    before = len(call(api, "GET", f"/servers/{server_id}/os-instance-actions", token).json()["instanceActions"])
    assert call(api, "DELETE", f"/servers/{server_id}/os-interface/{port_id}", token).status_code == 404
    after = len(call(api, "GET", f"/servers/{server_id}/os-instance-actions", token).json()["instanceActions"])
    assert before == after
    delete(api, token, server_id)
