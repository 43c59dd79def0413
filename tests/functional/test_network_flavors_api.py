"""Service flavors and service profiles (Neutron's flavors extension): CRUD, the
service_type and profile checks, binding profiles to flavors, and the policies (admins
write; everyone reads flavors, only admins read profiles)."""

from __future__ import annotations

from test_network_rbac_scopes import call, create, error

from conftest import unique

FLAVOR_KEYS = {"id", "name", "description", "service_type", "enabled", "service_profiles"}
PROFILE_KEYS = {"id", "description", "driver", "enabled", "metainfo"}
MISSING = "00000000-0000-0000-0000-000000000000"


def flavor(api, token, status=201, **attrs):
    return create(api, token, "flavors", "flavor", {"name": unique("fl"), "service_type": "L3_ROUTER_NAT", **attrs},
                  status)


def profile(api, token, status=201, **attrs):
    return create(api, token, "service_profiles", "service_profile", {"metainfo": '{"data": "value"}', **attrs},
                  status)


def test_extension_is_listed(api, demo_token):
    assert call(api, "GET", "/extensions/flavors", demo_token, status=200).json()["extension"]["name"] == \
        "Neutron Service Flavors"


def test_flavor_crud(api, admin_token, demo_token):
    made = flavor(api, admin_token, description="routers")
    assert set(made) == FLAVOR_KEYS
    assert (made["enabled"], made["service_profiles"], made["service_type"]) == (True, [], "L3_ROUTER_NAT")
    path = f"/flavors/{made['id']}"
    # everyone reads flavors
    assert call(api, "GET", path, demo_token, status=200).json()["flavor"] == made
    assert made["id"] in {f["id"] for f in call(api, "GET", "/flavors", demo_token, status=200).json()["flavors"]}
    assert call(api, "GET", "/flavors?id=33", admin_token, status=200).json()["flavors"] == []
    updated = call(api, "PUT", path, admin_token, {"flavor": {"enabled": False, "name": "n", "description": None}},
                   200).json()["flavor"]
    assert (updated["enabled"], updated["name"], updated["description"]) == (False, "n", None)
    assert error(api, "PUT", path, admin_token, {"flavor": {"service_type": "QOS"}}, 400)["message"] == \
        "Cannot update read-only attribute service_type"
    listed = call(api, "GET", "/flavors?enabled=false&service_type=L3_ROUTER_NAT", admin_token,
                  status=200).json()["flavors"]
    assert made["id"] in {f["id"] for f in listed} and all(not f["enabled"] for f in listed)
    call(api, "DELETE", path, admin_token, status=204)
    assert error(api, "GET", path, admin_token, None, 404) == {
        "type": "FlavorNotFound", "message": f"Flavor {made['id']} could not be found.", "detail": ""}


def test_flavor_validation(api, admin_token):
    assert flavor(api, admin_token, 400, service_type="FIREWALL") == {
        "type": "InvalidServiceType", "message": "Invalid service type FIREWALL.", "detail": ""}
    assert flavor(api, admin_token, service_type="FLAVORS")["service_type"] == "FLAVORS"
    create(api, admin_token, "flavors", "flavor", {"name": "no type"}, 400)
    flavor(api, admin_token, 400, name="x" * 256)
    flavor(api, admin_token, 400, service_profiles=["not-a-uuid"])
    flavor(api, admin_token, 404, service_profiles=[MISSING])
    flavor(api, admin_token, 400, tenant_id="someone")


def test_profiles_and_bindings(api, admin_token, demo_token):
    made = profile(api, admin_token, description="p")
    assert set(made) == PROFILE_KEYS
    assert (made["driver"], made["enabled"], made["metainfo"]) == ("", True, '{"data": "value"}')
    assert profile(api, admin_token, 400, metainfo="") == {
        "type": "ServiceProfileEmpty", "message": "Service Profile needs either a driver or metainfo.", "detail": ""}
    assert profile(api, admin_token, 404, driver="neutron.services.l3_router.service_providers.dvr.DvrDriver",
                   metainfo="")["message"] == ("Service Profile driver neutron.services.l3_router.service_providers."
                                              "dvr.DvrDriver could not be found.")
    single_node = "neutron.services.l3_router.service_providers.single_node.SingleNodeDriver"
    assert profile(api, admin_token, driver=single_node, metainfo=None)["driver"] == single_node
    path = f"/service_profiles/{made['id']}"
    assert call(api, "PUT", path, admin_token, {"service_profile": {"enabled": False}},
                200).json()["service_profile"]["enabled"] is False
    # only admins read profiles: others list none, and are told one does not exist
    assert error(api, "GET", path, demo_token, None, 404) == {
        "type": "HTTPNotFound", "message": "The resource could not be found.", "detail": ""}
    assert call(api, "GET", "/service_profiles", demo_token, status=200).json() == {"service_profiles": []}
    call(api, "PUT", path, demo_token, {"service_profile": {"description": "x"}}, 404)

    owner = flavor(api, admin_token)
    bindings = f"/flavors/{owner['id']}/service_profiles"
    body = {"service_profile": {"id": made["id"]}}
    assert call(api, "POST", bindings, admin_token, body, 201).json() == body
    assert call(api, "GET", f"/flavors/{owner['id']}", admin_token, status=200).json()["flavor"][
        "service_profiles"] == [made["id"]]
    assert error(api, "POST", bindings, admin_token, body, 409)["type"] == "FlavorServiceProfileBindingExists"
    error(api, "POST", f"/flavors/{MISSING}/service_profiles", admin_token, body, 404)
    error(api, "POST", bindings, admin_token, {"service_profile": {"id": MISSING}}, 404)
    error(api, "POST", bindings, admin_token, {"service_profile": {"id": "nope"}}, 400)
    call(api, "POST", bindings, demo_token, body, 403)
    call(api, "DELETE", f"{bindings}/{made['id']}", demo_token, status=403)
    # a bound profile neither changes nor goes
    assert error(api, "PUT", path, admin_token, {"service_profile": {"description": "x"}}, 409)["type"] == \
        "ServiceProfileInUse"
    assert error(api, "DELETE", path, admin_token, None, 409)["message"] == \
        f"Service Profile {made['id']} is used by some service instance."
    call(api, "DELETE", f"{bindings}/{made['id']}", admin_token, status=204)
    assert error(api, "DELETE", f"{bindings}/{made['id']}", admin_token, None, 404)["message"] == \
        f"Service Profile {made['id']} is not associated with flavor {owner['id']}."
    # bound through the flavor's own attribute; a flavor's bindings go with it
    assert call(api, "PUT", f"/flavors/{owner['id']}", admin_token, {"flavor": {"service_profiles": [made["id"]]}},
                200).json()["flavor"]["service_profiles"] == [made["id"]]
    call(api, "DELETE", f"/flavors/{owner['id']}", admin_token, status=204)
    call(api, "DELETE", path, admin_token, status=204)
    call(api, "GET", path, admin_token, status=404)


def test_only_admins_write_flavors(api, demo_token, admin_token):
    flavor(api, demo_token, 403)
    made = flavor(api, admin_token)
    call(api, "PUT", f"/flavors/{made['id']}", demo_token, {"flavor": {"name": "x"}}, 403)
    call(api, "DELETE", f"/flavors/{made['id']}", demo_token, status=403)
    profile(api, demo_token, 403)
    other = profile(api, admin_token)
    call(api, "DELETE", f"/service_profiles/{other['id']}", demo_token, status=404)
    call(api, "DELETE", f"/service_profiles/{other['id']}", admin_token, status=204)
    call(api, "DELETE", f"/flavors/{made['id']}", admin_token, status=204)


def test_routers_made_with_a_flavor(api, admin_token, demo_token):
    """l3-flavors: a router names a flavor whose first bound profile is enabled and has a
    listed provider's driver; the flavor is then in use; flavor_id never changes."""
    made = flavor(api, admin_token)
    routers = "/routers"
    assert error(api, "POST", routers, demo_token, {"router": {"name": "r", "flavor_id": made["id"]}}, 404) == {
        "type": "FlavorServiceProfileBindingNotFound", "detail": "",
        "message": f"Service Profile  is not associated with flavor {made['id']}."}
    single_node = profile(api, admin_token, driver="neutron.services.l3_router.service_providers.single_node."
                                                  "SingleNodeDriver", enabled=False)
    call(api, "POST", f"/flavors/{made['id']}/service_profiles", admin_token,
         {"service_profile": {"id": single_node["id"]}}, 201)
    assert error(api, "POST", routers, demo_token, {"router": {"flavor_id": made["id"]}}, 503)["type"] == \
        "ServiceProfileDisabled"
    call(api, "DELETE", f"/flavors/{made['id']}/service_profiles/{single_node['id']}", admin_token, status=204)
    call(api, "PUT", f"/service_profiles/{single_node['id']}", admin_token, {"service_profile": {"enabled": True}},
         200)
    call(api, "POST", f"/flavors/{made['id']}/service_profiles", admin_token,
         {"service_profile": {"id": single_node["id"]}}, 201)
    router = call(api, "POST", routers, demo_token, {"router": {"name": "r", "flavor_id": made["id"]}},
                  201).json()["router"]
    assert router["flavor_id"] == made["id"]
    assert call(api, "GET", f"{routers}?flavor_id={made['id']}", demo_token, status=200).json()["routers"] == [router]
    assert error(api, "PUT", f"{routers}/{router['id']}", demo_token, {"router": {"flavor_id": None}}, 400)[
        "message"] == "Cannot update read-only attribute flavor_id"
    assert error(api, "DELETE", f"/flavors/{made['id']}", admin_token, None, 409) == {
        "type": "FlavorInUse", "message": f"Flavor {made['id']} is used by some service instance.", "detail": ""}
    assert error(api, "POST", routers, demo_token, {"router": {"flavor_id": MISSING}}, 404)["type"] == \
        "FlavorNotFound"
    plain = call(api, "POST", routers, demo_token, {"router": {"name": "plain"}}, 201).json()["router"]
    assert plain["flavor_id"] is None
    for made_router in (router, plain):
        call(api, "DELETE", f"{routers}/{made_router['id']}", demo_token, status=204)
    call(api, "DELETE", f"/flavors/{made['id']}", admin_token, status=204)
