"""Flavors without a cloud: the create and listing parsing, and the handlers on a real
flavor table (visibility, the 2.55 description, extra specs, access)."""

from __future__ import annotations

import pytest
from compute_api_support import ADMIN, MEMBER, call, caller, database

from pocketstack.common.errors import ApiError, Forbidden
from pocketstack.compute import errors
from pocketstack.compute.api import flavors
from pocketstack.compute.api.flavors import FlavorAccessApi, FlavorExtraSpecsApi, FlavorsApi
from pocketstack.compute.flavors import Flavors


def test_create_request_converts_digits_and_defaults():
    wanted = flavors.create_request({"name": "small", "ram": "512", "vcpus": 1, "disk": "0", "id": 7}, False)
    assert wanted == {"name": "small", "flavor_id": "7", "vcpus": 1, "ram": 512, "disk": 0, "ephemeral": 0,
                      "swap": 0, "rxtx_factor": 1.0, "is_public": True, "description": None}
    assert flavors.create_request({"name": "x", "ram": 1, "vcpus": 1, "disk": 1, "swap": "",
                                   "os-flavor-access:is_public": "off"}, False)["is_public"] is False


@pytest.mark.parametrize("data,error,message", [
    ({"ram": "99999999999"}, errors.FieldAboveMaximum,
     "Invalid input for field/attribute ram. Value: 99999999999. 99999999999 is greater than the maximum of "
     "2147483647"),
    ({"vcpus": "0"}, errors.InvalidFieldValue, "Invalid input for field/attribute vcpus. Value: 0."),
    ({"rxtx_factor": "9" * 40}, errors.InvalidRxtxFactor,
     "Invalid input received: 'rxtx_factor' argument must be a float between 0 and 3.40282e+38"),
    ({"description": "d"}, errors.DescriptionNotAllowed,
     "Invalid input for field/attribute flavor. Additional properties are not allowed ('description' was "
     "unexpected)"),
])
def test_create_request_refusals(data, error, message):
    with pytest.raises(error) as raised:
        flavors.create_request({"name": "x", "ram": 1, "vcpus": 1, "disk": 1, **data}, with_description=False)
    assert (raised.value.status, raised.value.message) == (400, message)


def test_listing_query():
    assert flavors.listing_query({}) == {"is_public": True, "sort": [("id", "asc")]}
    assert flavors.listing_query({"is_public": "None", "sort_key": "ram", "sort_dir": "desc"}) == {
        "is_public": None, "sort": [("memory_mb", "desc")]}
    assert flavors.listing_query({"is_public": "false"})["is_public"] is False
    with pytest.raises(errors.InvalidSortKey, match="Invalid sort key 'size'."):
        flavors.listing_query({"sort_key": "size"})
    with pytest.raises(errors.InvalidSortDir):
        flavors.listing_query({"sort_dir": "up"})
    with pytest.raises(ApiError, match="Invalid value 'maybe' for is_public"):
        flavors.listing_query({"is_public": "maybe"})


@pytest.fixture
def store(tmp_path):
    return Flavors(database(tmp_path))


def create(store, version="2.1", **fields):
    body = {"flavor": {"name": "f1", "ram": 256, "vcpus": 1, "disk": 1, **fields}}
    return call(FlavorsApi(store), "POST", "/v2.1/flavors", caller(*ADMIN), version=version, body=body)["flavor"]


def test_create_show_and_description_by_microversion(store):
    flavor = create(store, version="2.55", id="f1", description="tiny")
    assert flavor["description"] == "tiny" and flavor["links"][0]["href"].endswith("/v2.1/flavors/f1")
    old = call(FlavorsApi(store), "GET", "/v2.1/flavors/{flavor_id}", caller(*MEMBER), params={"flavor_id": "f1"})
    assert "description" not in old["flavor"] and old["flavor"]["ram"] == 256
    shown = call(FlavorsApi(store), "GET", "/v2.1/flavors/{flavor_id}", caller(*MEMBER), version="2.61",
                 params={"flavor_id": "f1"})
    assert shown["flavor"]["extra_specs"] == {} and shown["flavor"]["description"] == "tiny"


def test_create_is_admin_only_and_checked_before_the_body(store):
    with pytest.raises(Forbidden):
        call(FlavorsApi(store), "POST", "/v2.1/flavors", caller(*MEMBER), body={"bad": True})


def test_update_before_2_55_is_a_405(store):
    create(store, id="f1")
    with pytest.raises(errors.FlavorUpdateNotAllowed) as raised:
        call(FlavorsApi(store), "PUT", "/v2.1/flavors/{flavor_id}", caller(*ADMIN), params={"flavor_id": "f1"},
             body={"flavor": {"description": "x"}})
    assert raised.value.status == 405
    updated = call(FlavorsApi(store), "PUT", "/v2.1/flavors/{flavor_id}", caller(*ADMIN), version="2.55",
                   params={"flavor_id": "f1"}, body={"flavor": {"description": "x"}})
    assert updated["flavor"]["description"] == "x"


def test_private_flavors_are_hidden_and_listed_with_a_next_link(store):
    create(store, id="a", name="a")
    create(store, id="b", name="b", **{"os-flavor-access:is_public": False})
    listed = call(FlavorsApi(store), "GET", "/v2.1/flavors", caller(*MEMBER), query="limit=1")
    assert [f["id"] for f in listed["flavors"]] == ["a"]
    assert "marker=a" in listed["flavors_links"][0]["href"]
    with pytest.raises(errors.FlavorNotFound, match="Flavor b could not be found."):
        call(FlavorsApi(store), "GET", "/v2.1/flavors/{flavor_id}", caller(*MEMBER), params={"flavor_id": "b"})
    access = FlavorAccessApi(store)
    shared = call(access, "POST", "/v2.1/flavors/{flavor_id}/action", caller(*ADMIN), params={"flavor_id": "b"},
                  body={"addTenantAccess": {"tenant": "p1"}})
    assert shared == {"flavor_access": [{"flavor_id": "b", "tenant_id": "p1"}]}
    assert call(FlavorsApi(store), "GET", "/v2.1/flavors/{flavor_id}", caller(*MEMBER),
                params={"flavor_id": "b"})["flavor"]["id"] == "b"
    with pytest.raises(errors.FlavorAccessListPublic):
        call(access, "GET", "/v2.1/flavors/{flavor_id}/os-flavor-access", caller(*ADMIN), params={"flavor_id": "a"})
    with pytest.raises(Forbidden):  # the action's own rule, after the body named it
        call(access, "POST", "/v2.1/flavors/{flavor_id}/action", caller(*MEMBER), params={"flavor_id": "b"},
             body={"removeTenantAccess": {"tenant": "p1"}})


def test_extra_specs(store):
    create(store, id="f1")
    specs = FlavorExtraSpecsApi(store)
    path = "/v2.1/flavors/{flavor_id}/os-extra_specs"
    assert call(specs, "POST", path, caller(*ADMIN), params={"flavor_id": "f1"},
                body={"extra_specs": {"hw:cpu_policy": "dedicated", "n": 2}}) == {
        "extra_specs": {"hw:cpu_policy": "dedicated", "n": "2"}}
    with pytest.raises(errors.BodyUriMismatch):
        call(specs, "PUT", path + "/{key}", caller(*ADMIN), params={"flavor_id": "f1", "key": "n"},
             body={"m": "1"})
    assert call(specs, "GET", path + "/{key}", caller(*MEMBER), params={"flavor_id": "f1", "key": "n"}) == {"n": "2"}
    assert call(specs, "DELETE", path + "/{key}", caller(*ADMIN),
                params={"flavor_id": "f1", "key": "n"}).status_code == 200
    with pytest.raises(errors.FlavorExtraSpecsNotFound, match="Flavor f1 has no extra specs with key n."):
        call(specs, "GET", path + "/{key}", caller(*MEMBER), params={"flavor_id": "f1", "key": "n"})
