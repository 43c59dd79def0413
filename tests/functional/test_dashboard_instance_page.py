"""The instance page's last Horizon pieces, without a browser, on the shared cloud: a
floating IP associated (an existing one, or one allocated there and then) with one of the
server's addresses and disassociated, the Networking API's state checked each time and
its refusals (another project's floating IP, an address already taken) shown in words;
and the action log leading to each action's events, their tracebacks for admins only."""

from __future__ import annotations

import html
import re

import pytest
from test_dashboard import admin, member, project_of  # noqa: F401 - fixtures, used by name

from conftest import unique
from test_compute_helpers import boot, call, make_flavor, make_image, wait, wait_gone

NET = "/network/v2.0"


def _net(api, token, method, path, body=None, status=None):
    response = api.request(method, f"{NET}{path}", token, json=body)
    assert status is None or response.status_code == status, response.text
    return response.json() if response.content else None


def _flash(browser, response) -> str:
    """The message of the page a form's 303 leads to."""
    assert response.status_code == 303, response.text
    page = browser.get(response.headers["location"].removeprefix("/dashboard")).text
    return html.unescape(re.search(r'<p class="flash [a-z]+" role="[a-z]+">([^<]*)</p>', page).group(1))


@pytest.fixture
def reachable_server(api, admin_token, demo_token):
    """A demo server on a network a router joins to a fresh external network."""
    external = _net(api, admin_token, "POST", "/networks", {"network": {
        "name": unique("ext"), "router:external": True}}, 201)["network"]
    _net(api, admin_token, "POST", "/subnets", {"subnet": {"network_id": external["id"], "ip_version": 4,
                                                           "cidr": "198.18.77.0/24"}}, 201)
    private = _net(api, demo_token, "POST", "/networks", {"network": {"name": unique("fipnet")}}, 201)["network"]
    subnet = _net(api, demo_token, "POST", "/subnets", {"subnet": {
        "network_id": private["id"], "ip_version": 4, "cidr": "10.77.0.0/24"}}, 201)["subnet"]
    router = _net(api, demo_token, "POST", "/routers", {"router": {
        "name": unique("fiprouter"), "external_gateway_info": {"network_id": external["id"]}}}, 201)["router"]
    _net(api, demo_token, "PUT", f"/routers/{router['id']}/add_router_interface", {"subnet_id": subnet["id"]}, 200)
    server = boot(api, demo_token, make_image(api, admin_token), make_flavor(api, admin_token)["id"],
                  networks=[{"uuid": private["id"]}])["server"]
    wait(api, demo_token, server["id"], until=("ACTIVE",))
    yield server, external
    call(api, "DELETE", f"/servers/{server['id']}", demo_token)
    wait_gone(api, demo_token, server["id"])
    for fip in _net(api, admin_token, "GET", f"/floatingips?floating_network_id={external['id']}")["floatingips"]:
        _net(api, admin_token, "DELETE", f"/floatingips/{fip['id']}")
    _net(api, demo_token, "PUT", f"/routers/{router['id']}/remove_router_interface", {"subnet_id": subnet["id"]})
    _net(api, demo_token, "DELETE", f"/routers/{router['id']}")
    _net(api, demo_token, "DELETE", f"/networks/{private['id']}")
    _net(api, admin_token, "DELETE", f"/networks/{external['id']}")


def test_floating_ips_are_associated_and_disassociated_from_the_instance_page(
        api, member, admin_token, demo_token, reachable_server):
    server, external = reachable_server
    here = f"/instances/{server['id']}/floating-ips"
    free = _net(api, demo_token, "POST", "/floatingips", {"floatingip": {
        "floating_network_id": external["id"]}}, 201)["floatingip"]
    page = member.get(f"/instances/{server['id']}").text
    target = re.search(r'<select id="f-target" name="target" required>\s*<option value="([^"]+)">', page).group(1)
    port_id, fixed_ip = target.split("_")
    assert fixed_ip.startswith("10.77.0.")
    assert f'<option value="{free["id"]}">{free["floating_ip_address"]}</option>' in page
    assert f'<option value="allocate:{external["id"]}">A new one from {external["name"]}</option>' in page

    # An existing free floating IP of the project, then Neutron's refusal of a second one.
    assert _flash(member, member.post(here, {"floatingip": free["id"], "target": target})) == (
        f"Floating IP {free['floating_ip_address']} associated with {fixed_ip}.")
    shown = _net(api, demo_token, "GET", f"/floatingips/{free['id']}")["floatingip"]
    assert (shown["port_id"], shown["fixed_ip_address"]) == (port_id, fixed_ip)
    assert f'data-floating-ip="{free["floating_ip_address"]}"' in member.get(f"/instances/{server['id']}").text
    before = len(_net(api, demo_token, "GET", "/floatingips")["floatingips"])
    message = _flash(member, member.post(here, {"floatingip": f"allocate:{external['id']}", "target": target}))
    assert f"as that fixed IP already has a floating IP on external network {external['id']}" in message
    assert len(_net(api, demo_token, "GET", "/floatingips")["floatingips"]) == before  # nothing allocated

    # Disassociated; then one allocated and associated in one step.
    assert _flash(member, member.post(here, {"action": "disassociate", "floatingip_id": free["id"]})) == (
        "Floating IP disassociated.")
    assert _net(api, demo_token, "GET", f"/floatingips/{free['id']}")["floatingip"]["port_id"] is None
    message = _flash(member, member.post(here, {"floatingip": f"allocate:{external['id']}", "target": target}))
    new = [f for f in _net(api, demo_token, "GET", "/floatingips")["floatingips"] if f["port_id"] == port_id]
    assert len(new) == 1 and new[0]["id"] != free["id"] and new[0]["fixed_ip_address"] == fixed_ip
    assert message == f"Floating IP {new[0]['floating_ip_address']} associated with {fixed_ip}."

    # Another project's floating IP, an address not the server's, no CSRF secret: refused.
    foreign = _net(api, admin_token, "POST", "/floatingips", {"floatingip": {
        "floating_network_id": external["id"], "project_id": project_of(api, admin_token)}}, 201)["floatingip"]
    _net(api, demo_token, "PUT", f"/floatingips/{new[0]['id']}", {"floatingip": {"port_id": None}}, 200)
    for fields in ({"floatingip": foreign["id"], "target": target},
                   {"action": "disassociate", "floatingip_id": foreign["id"]}):
        message = _flash(member, member.post(here, fields))
        assert f"Floating IP {foreign['id']} could not be found" in message, message
    assert _net(api, admin_token, "GET", f"/floatingips/{foreign['id']}")["floatingip"]["port_id"] is None
    assert _flash(member, member.post(here, {"floatingip": free["id"], "target": f"{port_id}_10.9.9.9"})) == (
        "That address is not one of this instance's.")
    assert _flash(member, member.post(here, {"floatingip": free["id"]})) == (
        "The instance's address to associate it with is required.")
    refused = member.post(here, {"floatingip": free["id"], "target": target}, csrf="")
    assert refused.status_code == 403 and "did not come from this site" in refused.text
    assert _net(api, demo_token, "GET", f"/floatingips/{free['id']}")["floatingip"]["port_id"] is None


def test_the_action_log_leads_to_each_actions_events(api, admin, member, admin_token, demo_token):
    server = boot(api, demo_token, make_image(api, admin_token), make_flavor(api, admin_token)["id"])["server"]
    wait(api, demo_token, server["id"], until=("ACTIVE",))
    assert call(api, "POST", f"/servers/{server['id']}/action", demo_token, json={"os-stop": None}).status_code \
        == 202
    wait(api, demo_token, server["id"], until=("SHUTOFF",))
    page = member.get(f"/instances/{server['id']}").text
    log = re.findall(rf'<tr data-action="([^"]+)"><td><a href="/dashboard/instances/{server["id"]}/actions/\1">'
                     r'([a-z_]+)</a>', page)
    assert [name for _request, name in log] == ["stop", "create"]
    stop = log[0][0]
    # A step of the stop that failed: Nova records the error and its traceback.
    actions = api.cloud.service("compute").compute.actions
    action_id = next(a.id for a in actions.list(server["id"]) if a.request_id == stop)
    with pytest.raises(RuntimeError), actions.event(action_id, "compute_cleanup", None):
        raise RuntimeError("the disk <b>vanished</b>")
    path = f"/instances/{server['id']}/actions/{stop}"
    for browser, sees_traceback in ((member, False), (admin, True)):
        detail = browser.get(path)
        assert detail.status_code == 200
        events = dict(re.findall(r'<tr data-event="([a-z_]+)">.*?<span class="status s-[a-z]+">(\w+)</span>',
                                 detail.text, re.S))
        assert events == {"compute_stop_instance": "Success", "compute_cleanup": "Error"}, detail.text
        assert ("RuntimeError: the disk &lt;b&gt;vanished&lt;/b&gt;" in detail.text) is sees_traceback
        assert "<b>vanished" not in detail.text
        assert ('data-traceback="compute_cleanup"' in detail.text) is sees_traceback
    assert member.get(f"/instances/{server['id']}/actions/req-nope").status_code == 404
    call(api, "DELETE", f"/servers/{server['id']}", demo_token)
