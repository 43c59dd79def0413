"""Flavors: CRUD, extra specs, private flavors and their access lists, visibility."""

from __future__ import annotations

import pytest

from compute_fixtures import member  # noqa: F401 - fixtures
from conftest import unique
from test_compute_helpers import call, make_flavor


def test_create_show_list_delete(api, admin_token, demo_token):
    flavor = make_flavor(api, admin_token, vcpus=2, ram=256, disk=3, id=unique("fid"), swap=128,
                         **{"OS-FLV-EXT-DATA:ephemeral": 1, "description": "small"})
    assert flavor["vcpus"] == 2 and flavor["ram"] == 256 and flavor["disk"] == 3 and flavor["swap"] == 128
    assert flavor["OS-FLV-EXT-DATA:ephemeral"] == 1 and flavor["os-flavor-access:is_public"] is True
    assert flavor["extra_specs"] == {} and flavor["description"] == "small"
    shown = call(api, "GET", f"/flavors/{flavor['id']}", demo_token).json()["flavor"]
    assert shown["name"] == flavor["name"]
    names = [f["name"] for f in call(api, "GET", "/flavors", demo_token).json()["flavors"]]
    assert flavor["name"] in names
    old = call(api, "GET", f"/flavors/{flavor['id']}", demo_token, version="2.1").json()["flavor"]
    assert "description" not in old and "extra_specs" not in old
    assert call(api, "POST", "/flavors", admin_token,
                json={"flavor": {"name": flavor["name"], "vcpus": 1, "ram": 1, "disk": 0}}).status_code == 409
    assert call(api, "DELETE", f"/flavors/{flavor['id']}", demo_token).status_code == 403
    assert call(api, "DELETE", f"/flavors/{flavor['id']}", admin_token).status_code == 202
    r = call(api, "GET", f"/flavors/{flavor['id']}", demo_token)
    assert r.status_code == 404 and "itemNotFound" in r.json()


@pytest.mark.parametrize("body", [
    {"name": "x", "vcpus": 0, "ram": 1, "disk": 0},
    {"name": "x", "vcpus": 1, "ram": "lots", "disk": 0},
    {"name": "", "vcpus": 1, "ram": 1, "disk": 0},
    {"name": "x", "vcpus": 1, "ram": 1},
    {"name": "x", "vcpus": 1, "ram": 1, "disk": 0, "bogus": 1},
])
def test_bad_flavor_is_400(api, admin_token, body):
    r = call(api, "POST", "/flavors", admin_token, json={"flavor": body})
    assert r.status_code == 400 and r.json()["badRequest"]["code"] == 400


@pytest.mark.parametrize("rxtx_factor,message", [
    ("abc", "does not match"),
    ("1e999", "does not match"),
    (0, "0 is less than or equal to the minimum of 0"),
    ("9" * 400, "'rxtx_factor' argument must be a float between 0 and 3.40282e+38"),
    (1e39, "1e+39 is greater than the maximum of 3.40282e+38"),
], ids=["letters", "exponent", "zero", "infinite-as-float", "past-single-precision"])
def test_rxtx_factor_must_be_a_positive_float(api, admin_token, rxtx_factor, message):
    """Nova's schema: a number, or a string of digits with an optional fraction, above 0
    and at most a single-precision float's maximum (the column's)."""
    body = {"name": unique("rxtx"), "vcpus": 1, "ram": 1, "disk": 0, "rxtx_factor": rxtx_factor}
    r = call(api, "POST", "/flavors", admin_token, json={"flavor": body})
    assert r.status_code == 400, r.text
    assert message in r.json()["badRequest"]["message"]


def test_rxtx_factor_as_a_numeric_string(api, admin_token):
    assert make_flavor(api, admin_token, rxtx_factor="2.5")["rxtx_factor"] == 2.5


@pytest.mark.parametrize("field", ["ram", "vcpus", "disk", "swap", "OS-FLV-EXT-DATA:ephemeral"])
@pytest.mark.parametrize("value", [2**31, 2**63 - 1, str(2**64)], ids=["2^31", "2^63-1", "2^64-as-string"])
def test_flavor_sizes_fit_a_32_bit_column(api, admin_token, field, value):
    body = {"name": unique("big"), "vcpus": 1, "ram": 1, "disk": 0, field: value}
    r = call(api, "POST", "/flavors", admin_token, json={"flavor": body})
    assert r.status_code == 400, r.text
    assert r.json()["badRequest"]["message"] == (f"Invalid input for field/attribute {field}. Value: {value}. "
                                                 f"{value} is greater than the maximum of 2147483647")


def test_update_description_needs_2_55(api, admin_token):
    flavor = make_flavor(api, admin_token)
    r = call(api, "PUT", f"/flavors/{flavor['id']}", admin_token, json={"flavor": {"description": "new"}})
    assert r.status_code == 200 and r.json()["flavor"]["description"] == "new"
    assert call(api, "PUT", f"/flavors/{flavor['id']}", admin_token, version="2.54",
                json={"flavor": {"description": "x"}}).status_code == 405


def test_extra_specs(api, admin_token, demo_token):
    flavor = make_flavor(api, admin_token)
    base = f"/flavors/{flavor['id']}/os-extra_specs"
    r = call(api, "POST", base, admin_token, json={"extra_specs": {"hw:cpu_sockets": "1", "trait:X": "required"}})
    assert r.status_code == 200 and r.json()["extra_specs"]["hw:cpu_sockets"] == "1"
    assert call(api, "GET", base, demo_token).json()["extra_specs"] == {"hw:cpu_sockets": "1",
                                                                        "trait:X": "required"}
    assert call(api, "PUT", f"{base}/hw:cpu_sockets", admin_token, json={"hw:cpu_sockets": "2"}).json() == {
        "hw:cpu_sockets": "2"}
    assert call(api, "PUT", f"{base}/a", admin_token, json={"b": "2"}).status_code == 400
    assert call(api, "GET", f"{base}/hw:cpu_sockets", demo_token).json() == {"hw:cpu_sockets": "2"}
    assert call(api, "POST", base, demo_token, json={"extra_specs": {"a": "b"}}).status_code == 403
    assert call(api, "DELETE", f"{base}/trait:X", admin_token).status_code == 200
    assert call(api, "DELETE", f"{base}/trait:X", admin_token).status_code == 404
    shown = call(api, "GET", f"/flavors/{flavor['id']}", demo_token).json()["flavor"]
    assert shown["extra_specs"] == {"hw:cpu_sockets": "2"}


def test_private_flavor_access(api, admin_token, member):
    flavor = make_flavor(api, admin_token, **{"os-flavor-access:is_public": False})
    token, project_id = member["token"], member["project"]["id"]
    assert call(api, "GET", f"/flavors/{flavor['id']}", token).status_code == 404
    listed = {f["id"] for f in call(api, "GET", "/flavors?is_public=none", token).json()["flavors"]}
    assert flavor["id"] not in listed
    action = f"/flavors/{flavor['id']}/action"
    r = call(api, "POST", action, admin_token, json={"addTenantAccess": {"tenant": project_id}})
    assert r.status_code == 200
    assert r.json()["flavor_access"] == [{"flavor_id": flavor["id"], "tenant_id": project_id}]
    assert call(api, "POST", action, admin_token,
                json={"addTenantAccess": {"tenant": project_id}}).status_code == 409
    assert call(api, "GET", f"/flavors/{flavor['id']}", token).status_code == 200
    listed = {f["id"] for f in call(api, "GET", "/flavors?is_public=none", token).json()["flavors"]}
    assert flavor["id"] in listed
    assert call(api, "GET", f"/flavors/{flavor['id']}/os-flavor-access", admin_token).json()["flavor_access"]
    assert call(api, "POST", action, token, json={"removeTenantAccess": {"tenant": project_id}}).status_code == 403
    assert call(api, "POST", action, admin_token,
                json={"removeTenantAccess": {"tenant": project_id}}).status_code == 200
    assert call(api, "GET", f"/flavors/{flavor['id']}", token).status_code == 404
    public = make_flavor(api, admin_token)
    assert call(api, "GET", f"/flavors/{public['id']}/os-flavor-access", admin_token).status_code == 404


def test_list_paging_and_filters(api, admin_token, demo_token):
    small = make_flavor(api, admin_token, ram=64)
    big = make_flavor(api, admin_token, ram=999999)
    ids = [f["id"] for f in call(api, "GET", "/flavors/detail?minRam=999999", demo_token).json()["flavors"]]
    assert big["id"] in ids and small["id"] not in ids
    page = call(api, "GET", "/flavors?limit=1", demo_token).json()
    assert len(page["flavors"]) == 1 and "marker=" in page["flavors_links"][0]["href"]
    assert call(api, "GET", "/flavors?marker=nope", demo_token).status_code == 400
    assert call(api, "GET", "/flavors?sort_key=bogus", demo_token).status_code == 400


@pytest.mark.parametrize("raw,public", [("True", True), ("false", False), ("ON", True), ("0", False)])
def test_is_public_accepts_nova_boolean_strings(api, admin_token, raw, public):
    flavor = make_flavor(api, admin_token, **{"os-flavor-access:is_public": raw})
    assert flavor["os-flavor-access:is_public"] is public
    r = call(api, "POST", "/flavors", admin_token, json={"flavor": {
        "name": unique("cflv"), "vcpus": 1, "ram": 64, "disk": 1, "os-flavor-access:is_public": "maybe"}})
    assert r.status_code == 400 and "badRequest" in r.json()


def test_numeric_flavor_id_becomes_a_string(api, admin_token):
    number = int(unique("").replace("-", "")[-9:], 16) % 10**9 + 10**9
    flavor = make_flavor(api, admin_token, id=number)
    assert flavor["id"] == str(number)
    assert call(api, "GET", f"/flavors/{number}", admin_token).json()["flavor"]["id"] == str(number)


def test_is_public_query_takes_oslo_strings_and_unset_spec_is_200(api, admin_token):
    private = make_flavor(api, admin_token, **{"os-flavor-access:is_public": False})
    for raw in ("f", "false", "no", "0", "n"):
        listed = call(api, "GET", f"/flavors/detail?is_public={raw}", admin_token).json()["flavors"]
        assert private["id"] in [f["id"] for f in listed], raw
    assert call(api, "GET", "/flavors?is_public=maybe", admin_token).status_code == 400
    call(api, "POST", f"/flavors/{private['id']}/os-extra_specs", admin_token, json={"extra_specs": {"k": "v"}})
    r = call(api, "DELETE", f"/flavors/{private['id']}/os-extra_specs/k", admin_token)
    assert r.status_code == 200 and not r.content
