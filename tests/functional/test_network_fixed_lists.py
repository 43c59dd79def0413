"""The service providers and availability zones: fixed read-only lists any reader may
list (openstacksdk's project cleanup asks for the service providers), with Neutron's
list filters and ``fields``, and their extensions listed."""

from __future__ import annotations

from test_network_api import NET, call, other  # noqa: F401  (``other`` is a fixture)


def test_service_providers(api, demo_token, other):
    expected = [{"service_type": "L3_ROUTER_NAT", "name": "single_node", "default": False}]
    for token in (demo_token, other["reader"]):
        assert call(api, "GET", "/service-providers", token, status=200).json() == {"service_providers": expected}
    assert call(api, "GET", "/service-providers?service_type=L3_ROUTER_NAT&default=False", demo_token,
                status=200).json()["service_providers"] == expected
    assert call(api, "GET", "/service-providers?service_type=LOADBALANCERV2", demo_token,
                status=200).json()["service_providers"] == []
    assert call(api, "GET", "/service-providers?fields=name", demo_token, status=200).json() == {
        "service_providers": [{"name": "single_node"}]}
    assert api.request("GET", f"{NET}/service-providers").status_code == 401


def test_availability_zones(api, demo_token, other):
    listed = call(api, "GET", "/availability_zones", other["reader"], status=200).json()["availability_zones"]
    assert sorted(listed, key=lambda z: z["resource"]) == [
        {"name": "nova", "resource": "network", "state": "available"},
        {"name": "nova", "resource": "router", "state": "available"}]
    assert call(api, "GET", "/availability_zones?resource=router", demo_token, status=200).json() == {
        "availability_zones": [{"name": "nova", "resource": "router", "state": "available"}]}
    # The zone is the one every network shows.
    network = call(api, "GET", "/networks", demo_token, status=200).json()["networks"]
    assert all(n["availability_zones"] == ["nova"] for n in network)
    assert api.request("GET", f"{NET}/availability_zones").status_code == 401


def test_their_extensions_are_listed(api, demo_token):
    for alias, name in (("service-type", "Neutron Service Type Management"), ("availability_zone",
                                                                               "Availability Zone")):
        assert call(api, "GET", f"/extensions/{alias}", demo_token, status=200).json()["extension"]["name"] == name
