"""Who may put a port on which network, and claim which device (Neutron's port policy and
``_enforce_device_owner_not_router_intf_or_device_id``): a project uses its own networks
and shared ones; another project's external network is visible but not usable; only the
network's owner (or an admin) picks addresses, MACs, port security, address pairs and
``network:*`` device owners; a router interface port may only name the caller's router."""

from __future__ import annotations

import pytest

from conftest import unique
from test_network_api import call, create, other, private  # noqa: F401  (``other`` is a fixture)


@pytest.fixture(scope="module")
def admin_external(api, admin_token):
    """The admin's external network: visible to every project, shared with none."""
    net = create(api, admin_token, "network", {"name": unique("ext"), "router:external": True})
    sub = create(api, admin_token, "subnet", {"network_id": net["id"], "ip_version": 4, "cidr": "198.18.10.0/24",
                                              "enable_dhcp": False})
    return net, sub


@pytest.fixture(scope="module")
def admin_shared(api, admin_token):
    net = create(api, admin_token, "network", {"name": unique("shared"), "shared": True})
    sub = create(api, admin_token, "subnet", {"network_id": net["id"], "ip_version": 4, "cidr": "198.18.20.0/24"})
    return net, sub


def _ports_on(api, admin_token, network_id):
    return call(api, "GET", f"/ports?network_id={network_id}", admin_token, status=200).json()["ports"]


def _error_of(response, status):
    assert response.status_code == status, response.text
    return response.json()["NeutronError"]


@pytest.mark.parametrize("attrs", [
    {},
    {"fixed_ips": [{"ip_address": "198.18.10.50"}]},
    {"device_owner": "network:router_gateway", "fixed_ips": [{"ip_address": "198.18.10.51"}]},
    {"device_owner": "network:floatingip"},
])
def test_no_port_on_another_projects_external_network(api, admin_token, demo_token, admin_external, attrs):
    net, _ = admin_external
    assert call(api, "GET", f"/networks/{net['id']}", demo_token, status=200)  # visible, not usable
    error = create(api, demo_token, "port", {"network_id": net["id"], **attrs}, status=403)
    assert error["type"] == "PolicyNotAuthorized"
    assert _ports_on(api, admin_token, net["id"]) == []


def test_no_port_on_a_network_the_project_cannot_see(api, demo_token, other):
    """Neutron's policy hook looks the network's owner up as an admin, so a port on
    another project's private network is a policy refusal (403); only a network that
    does not exist is a 404."""
    net, _ = private(api, other["member"], "10.150.0.0/24")
    error = create(api, demo_token, "port", {"network_id": net["id"]}, status=403)
    assert error["type"] == "PolicyNotAuthorized"
    missing = "00000000-0000-0000-0000-00000000beef"
    error = create(api, demo_token, "port", {"network_id": missing}, status=404)
    assert error == {"type": "NetworkNotFound", "message": f"Network {missing} could not be found.", "detail": ""}


@pytest.mark.parametrize("attrs", [
    {"fixed_ips": [{"ip_address": "198.18.20.40"}]},
    {"fixed_ips": [{"subnet_id": "SUBNET", "ip_address": "198.18.20.41"}]},
    {"device_owner": "network:dhcp"},
    {"device_owner": "network:router_gateway"},
    {"mac_address": "fa:16:3e:12:34:56"},
    {"port_security_enabled": False},
    {"allowed_address_pairs": [{"ip_address": "10.0.0.0/8"}]},
])
def test_shared_network_users_may_not_set_owner_attributes(api, admin_token, other, admin_shared, attrs):
    net, sub = admin_shared
    if "fixed_ips" in attrs:
        attrs = {"fixed_ips": [{k: sub["id"] if v == "SUBNET" else v for k, v in attrs["fixed_ips"][0].items()}]}
    error = create(api, other["member"], "port", {"network_id": net["id"], **attrs}, status=403)
    assert error["type"] == "PolicyNotAuthorized"
    assert [p for p in _ports_on(api, admin_token, net["id"]) if p["project_id"] == other["project"]["id"]] == []


def test_shared_network_users_get_plain_ports(api, other, admin_shared):
    net, sub = admin_shared
    token = other["member"]
    port = create(api, token, "port", {"network_id": net["id"], "fixed_ips": [{"subnet_id": sub["id"]}],
                                       "device_owner": "compute:nova", "device_id": unique("vm")})
    assert port["project_id"] == other["project"]["id"]
    for attrs in ({"fixed_ips": [{"subnet_id": sub["id"], "ip_address": "198.18.20.42"}]},
                  {"fixed_ips": [{"subnet_id": sub["id"]}]},
                  {"device_owner": "network:dhcp"},
                  {"port_security_enabled": False},
                  {"allowed_address_pairs": [{"ip_address": "10.0.0.0/8"}]}):
        error = call(api, "PUT", f"/ports/{port['id']}", token, {"port": attrs}, status=403).json()["NeutronError"]
        assert error["type"] == "PolicyNotAuthorized", attrs
    shown = call(api, "GET", f"/ports/{port['id']}", token, status=200).json()["port"]
    assert (shown["fixed_ips"], shown["device_owner"]) == (port["fixed_ips"], "compute:nova")
    renamed = call(api, "PUT", f"/ports/{port['id']}", token, {"port": {"name": "mine", "device_owner": "compute:az"}},
                   status=200).json()["port"]
    assert (renamed["name"], renamed["device_owner"]) == ("mine", "compute:az")
    call(api, "DELETE", f"/ports/{port['id']}", token, status=204)


def test_network_owners_set_owner_attributes_on_their_networks(api, other):
    token = other["member"]
    net, sub = private(api, token, "10.151.0.0/24")
    port = create(api, token, "port", {"network_id": net["id"], "device_owner": "network:dhcp",
                                       "fixed_ips": [{"subnet_id": sub["id"], "ip_address": "10.151.0.9"}],
                                       "mac_address": "fa:16:3e:00:15:09"})
    assert port["fixed_ips"] == [{"subnet_id": sub["id"], "ip_address": "10.151.0.9"}]
    moved = call(api, "PUT", f"/ports/{port['id']}", token, {"port": {
        "fixed_ips": [{"subnet_id": sub["id"], "ip_address": "10.151.0.10"}], "device_owner": "network:distributed"}},
        status=200).json()["port"]
    assert moved["fixed_ips"][0]["ip_address"] == "10.151.0.10"
    # A reader of the owning project is still only a reader.
    create(api, other["reader"], "port", {"network_id": net["id"]}, status=403)


@pytest.mark.parametrize("owner", ["network:router_interface", "network:ha_router_replicated_interface",
                                   "network:router_interface_distributed"])
def test_router_interface_port_must_name_an_own_router(api, admin_token, other, owner):
    token = other["member"]
    net, _ = private(api, token, "10.152.0.0/24")
    foreign = create(api, admin_token, "router", {"name": unique("r")})
    expected = {"type": "DeviceIDNotOwnedByTenant", "detail": "",
                "message": f"The following device_id {foreign['id']} is not owned by your project or matches "
                           "another project router."}
    error = create(api, token, "port", {"network_id": net["id"], "device_owner": owner, "device_id": foreign["id"]},
                   status=409)
    assert error == expected
    assert call(api, "GET", f"/ports?device_id={foreign['id']}", admin_token, status=200).json()["ports"] == []
    # The same by update: naming the router, or turning a port naming it into an interface.
    port = create(api, token, "port", {"network_id": net["id"]})
    for attrs in ({"device_owner": owner, "device_id": foreign["id"]},):
        error = call(api, "PUT", f"/ports/{port['id']}", token, {"port": attrs}, status=409).json()["NeutronError"]
        assert error == expected
    named = create(api, token, "port", {"network_id": net["id"], "device_id": foreign["id"]})
    error = call(api, "PUT", f"/ports/{named['id']}", token, {"port": {"device_owner": owner}},
                 status=409).json()["NeutronError"]
    assert error == expected
    interface = create(api, token, "port", {"network_id": net["id"], "device_owner": owner,
                                            "device_id": unique("not-a-router")})
    error = call(api, "PUT", f"/ports/{interface['id']}", token, {"port": {"device_id": foreign["id"]}},
                 status=409).json()["NeutronError"]
    assert error == expected
    # The caller's own router is fine; so is the admin, for anyone's router.
    mine = create(api, token, "router", {"name": unique("r")})
    create(api, token, "port", {"network_id": net["id"], "device_owner": owner, "device_id": mine["id"]})
    create(api, admin_token, "port", {"network_id": net["id"], "device_owner": owner, "device_id": foreign["id"],
                                      "project_id": other["project"]["id"]})


def test_no_router_interface_on_a_subnet_of_another_project(api, admin_token, other, admin_shared):
    """Neutron's LP-1757482: a router of one project may not take the gateway address of a
    subnet of another project's (globally shared) network."""
    net, sub = admin_shared
    router = create(api, other["member"], "router", {"name": unique("r")})
    r = call(api, "PUT", f"/routers/{router['id']}/add_router_interface", other["member"], {"subnet_id": sub["id"]})
    assert _error_of(r, 400) == {
        "type": "BadRequest", "detail": "",
        "message": f"Bad router request: Cannot add interface to router because subnet {sub['id']} is not owned by "
                   "project making the request."}
    assert [p for p in _ports_on(api, admin_token, net["id"]) if p["device_id"] == router["id"]] == []
    admin_router = create(api, admin_token, "router", {"name": unique("r")})
    call(api, "PUT", f"/routers/{admin_router['id']}/add_router_interface", admin_token, {"subnet_id": sub["id"]},
         status=200)
