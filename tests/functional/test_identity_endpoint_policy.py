"""Endpoint policies (OS-ENDPOINT-POLICY) through the Keystone v3 API: policy blobs
associated with endpoints, services and services in a region, the endpoints a policy
applies to and the policy an endpoint gets (keystone/api/policy.py, endpoints.py,
keystone/endpoint_policy/core.py)."""

from __future__ import annotations

import pytest
from test_identity_trusts import assert_error

from conftest import unique

V3 = "/identity/v3"


def create(api, token, path, key, body):
    r = api.request("POST", path, token, json={key: body})
    assert r.status_code == 201, r.text
    return r.json()[key]


def new_policy(api, token) -> dict:
    return create(api, token, f"{V3}/policies", "policy", {"type": "application/json", "blob": unique('{"r": "')})


def ext(policy_id: str) -> str:
    return f"{V3}/policies/{policy_id}/OS-ENDPOINT-POLICY"


@pytest.fixture
def cat(api, admin_token):
    """A service of its own; a region ``top`` with a child ``mid`` and grandchild ``leaf``,
    and a region ``other``; one endpoint in each, and one in no region."""
    service = create(api, admin_token, f"{V3}/services", "service", {"type": unique("epp"), "name": unique("epp")})
    top = create(api, admin_token, f"{V3}/regions", "region", {"id": unique("epp-top")})
    mid = create(api, admin_token, f"{V3}/regions", "region", {"id": unique("epp-mid"), "parent_region_id": top["id"]})
    leaf = create(api, admin_token, f"{V3}/regions", "region", {"id": unique("epp-leaf"),
                                                                "parent_region_id": mid["id"]})
    other = create(api, admin_token, f"{V3}/regions", "region", {"id": unique("epp-other")})
    regions = {"top": top, "mid": mid, "leaf": leaf, "other": other}
    endpoints = {name: create(api, admin_token, f"{V3}/endpoints", "endpoint", {
        "service_id": service["id"], "interface": "public", "url": f"http://{name}.epp.example/",
        "region_id": region["id"] if region else None})
        for name, region in [*regions.items(), ("none", None)]}
    return {"service": service, "regions": regions, "endpoints": endpoints}


def policy_of(api, token, endpoint_id):
    return api.request("GET", f"{V3}/endpoints/{endpoint_id}/OS-ENDPOINT-POLICY/policy", token)


def listed(api, token, policy_id) -> list[str]:
    r = api.request("GET", f"{ext(policy_id)}/endpoints", token)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["links"]["self"].endswith(f"/v3/policies/{policy_id}/OS-ENDPOINT-POLICY/endpoints")
    return [e["id"] for e in body["endpoints"]]


@pytest.mark.parametrize("kind", ["endpoint", "service", "service-region"])
def test_associate_check_replace_and_remove(api, admin_token, cat, kind):
    first, second = new_policy(api, admin_token), new_policy(api, admin_token)
    target = {"endpoint": f"endpoints/{cat['endpoints']['leaf']['id']}",
              "service": f"services/{cat['service']['id']}",
              "service-region": f"services/{cat['service']['id']}/regions/{cat['regions']['leaf']['id']}"}[kind]
    path = f"{ext(first['id'])}/{target}"
    assert_error(api.request("GET", path, admin_token), 404, "Could not find policy association.")
    r = api.request("PUT", path, admin_token)
    assert r.status_code == 204 and not r.content
    assert api.request("GET", path, admin_token).status_code == 204
    assert api.request("HEAD", path, admin_token).status_code == 204
    assert listed(api, admin_token, first["id"])
    assert cat["endpoints"]["leaf"]["id"] in listed(api, admin_token, first["id"])
    shown = policy_of(api, admin_token, cat["endpoints"]["leaf"]["id"])
    assert shown.status_code == 200, shown.text
    assert shown.json()["policy"] == {**first, "links": {"self": first["links"]["self"]}}
    # One policy per target: associating another replaces the first.
    assert api.request("PUT", f"{ext(second['id'])}/{target}", admin_token).status_code == 204
    assert_error(api.request("GET", path, admin_token), 404, "Could not find policy association.")
    assert listed(api, admin_token, first["id"]) == []
    assert policy_of(api, admin_token, cat["endpoints"]["leaf"]["id"]).json()["policy"]["id"] == second["id"]
    # Removing another policy's association leaves it; removing one's own drops it.
    assert api.request("DELETE", path, admin_token).status_code == 204
    assert api.request("GET", f"{ext(second['id'])}/{target}", admin_token).status_code == 204
    assert api.request("DELETE", f"{ext(second['id'])}/{target}", admin_token).status_code == 204
    assert_error(api.request("GET", f"{ext(second['id'])}/{target}", admin_token), 404)
    assert_error(policy_of(api, admin_token, cat["endpoints"]["leaf"]["id"]), 404,
                 f"No policy is associated with endpoint {cat['endpoints']['leaf']['id']}.")


def test_endpoints_of_a_policy(api, admin_token, cat):
    eps, regions, service_id = cat["endpoints"], cat["regions"], cat["service"]["id"]
    by_region, by_service, direct = (new_policy(api, admin_token) for _ in range(3))
    # A service in a region: the region's endpoints and those of every region below it.
    assert api.request("PUT", f"{ext(by_region['id'])}/services/{service_id}/regions/{regions['mid']['id']}",
                       admin_token).status_code == 204
    assert set(listed(api, admin_token, by_region["id"])) == {eps["mid"]["id"], eps["leaf"]["id"]}
    # A service: all its endpoints.
    assert api.request("PUT", f"{ext(by_service['id'])}/services/{service_id}", admin_token).status_code == 204
    assert set(listed(api, admin_token, by_service["id"])) == {e["id"] for e in eps.values()}
    # Direct endpoints, and a service too: each endpoint listed once.
    for name in ("other", "none"):
        assert api.request("PUT", f"{ext(direct['id'])}/endpoints/{eps[name]['id']}", admin_token).status_code == 204
    assert sorted(listed(api, admin_token, direct["id"])) == sorted([eps["other"]["id"], eps["none"]["id"]])
    assert api.request("PUT", f"{ext(direct['id'])}/services/{service_id}/regions/{regions['other']['id']}",
                       admin_token).status_code == 204
    assert sorted(listed(api, admin_token, direct["id"])) == sorted([eps["other"]["id"], eps["none"]["id"]])
    shown = api.request("GET", f"{ext(direct['id'])}/endpoints", admin_token).json()["endpoints"]
    assert {e["id"]: e for e in shown}[eps["none"]["id"]] == eps["none"]
    assert listed(api, admin_token, new_policy(api, admin_token)["id"]) == []


def test_resolution_order(api, admin_token, cat):
    """The endpoint's own policy, else its service's in its region or the nearest parent
    region, else its service's."""
    eps, regions, service_id = cat["endpoints"], cat["regions"], cat["service"]["id"]
    p_endpoint, p_top, p_leaf, p_service = (new_policy(api, admin_token) for _ in range(4))

    def effective(name):
        r = policy_of(api, admin_token, eps[name]["id"])
        return r.json()["policy"]["id"] if r.status_code == 200 else r.status_code

    assert {name: effective(name) for name in eps} == dict.fromkeys(eps, 404)
    api.request("PUT", f"{ext(p_service['id'])}/services/{service_id}", admin_token)
    api.request("PUT", f"{ext(p_top['id'])}/services/{service_id}/regions/{regions['top']['id']}", admin_token)
    api.request("PUT", f"{ext(p_leaf['id'])}/services/{service_id}/regions/{regions['leaf']['id']}", admin_token)
    api.request("PUT", f"{ext(p_endpoint['id'])}/endpoints/{eps['leaf']['id']}", admin_token)
    assert {name: effective(name) for name in eps} == {
        "leaf": p_endpoint["id"], "mid": p_top["id"], "top": p_top["id"], "other": p_service["id"],
        "none": p_service["id"]}
    api.request("DELETE", f"{ext(p_endpoint['id'])}/endpoints/{eps['leaf']['id']}", admin_token)
    assert effective("leaf") == p_leaf["id"]
    api.request("DELETE", f"{ext(p_leaf['id'])}/services/{service_id}/regions/{regions['leaf']['id']}", admin_token)
    assert effective("leaf") == p_top["id"]
    # A policy for another service in the same region does not apply.
    service2 = create(api, admin_token, f"{V3}/services", "service", {"type": unique("epp2")})
    stranger = create(api, admin_token, f"{V3}/endpoints", "endpoint", {
        "service_id": service2["id"], "interface": "public", "url": "http://x.epp.example/",
        "region_id": regions["leaf"]["id"]})
    assert_error(policy_of(api, admin_token, stranger["id"]), 404,
                 f"No policy is associated with endpoint {stranger['id']}.")


def test_deletions_drop_associations(api, admin_token, cat):
    eps, regions, service_id = cat["endpoints"], cat["regions"], cat["service"]["id"]
    p_endpoint, p_region, p_service = (new_policy(api, admin_token) for _ in range(3))
    api.request("PUT", f"{ext(p_endpoint['id'])}/endpoints/{eps['none']['id']}", admin_token)
    api.request("PUT", f"{ext(p_region['id'])}/services/{service_id}/regions/{regions['leaf']['id']}", admin_token)
    api.request("PUT", f"{ext(p_service['id'])}/services/{service_id}", admin_token)
    # A deleted policy: the endpoint falls back to its service's policy.
    assert api.request("DELETE", f"{V3}/policies/{p_endpoint['id']}", admin_token).status_code == 204
    assert policy_of(api, admin_token, eps["none"]["id"]).json()["policy"]["id"] == p_service["id"]
    # A deleted endpoint: no longer listed, and a new association with a new endpoint is clean.
    assert api.request("PUT", f"{ext(p_region['id'])}/endpoints/{eps['top']['id']}", admin_token).status_code == 204
    assert api.request("DELETE", f"{V3}/endpoints/{eps['top']['id']}", admin_token).status_code == 204
    assert set(listed(api, admin_token, p_region["id"])) == {eps["leaf"]["id"]}
    # A deleted region: its association goes (its endpoint stays, in no region).
    assert api.request("DELETE", f"{V3}/endpoints/{eps['leaf']['id']}", admin_token).status_code == 204
    assert api.request("DELETE", f"{V3}/regions/{regions['leaf']['id']}", admin_token).status_code == 204
    recreated = create(api, admin_token, f"{V3}/regions", "region", {"id": regions["leaf"]["id"]})
    assert_error(api.request("GET", f"{ext(p_region['id'])}/services/{service_id}/regions/{recreated['id']}",
                             admin_token), 404, "Could not find policy association.")
    # A deleted service: its association (and its endpoints') go.
    assert api.request("DELETE", f"{V3}/services/{service_id}", admin_token).status_code == 204
    assert listed(api, admin_token, p_service["id"]) == []
    assert listed(api, admin_token, p_region["id"]) == []


def test_missing_things_are_404(api, admin_token, cat):
    policy = new_policy(api, admin_token)
    endpoint_id, service_id, region_id = (cat["endpoints"]["top"]["id"], cat["service"]["id"],
                                          cat["regions"]["top"]["id"])
    missing = unique("missing")
    for method in ("PUT", "GET", "HEAD", "DELETE"):
        cases = [
            (f"{ext(missing)}/endpoints/{endpoint_id}", f"Could not find policy: {missing}."),
            (f"{ext(policy['id'])}/endpoints/{missing}", f"Could not find endpoint: {missing}."),
            (f"{ext(missing)}/services/{service_id}", f"Could not find policy: {missing}."),
            (f"{ext(policy['id'])}/services/{missing}", f"Could not find service: {missing}."),
            (f"{ext(policy['id'])}/services/{missing}/regions/{region_id}", f"Could not find service: {missing}."),
            (f"{ext(policy['id'])}/services/{service_id}/regions/{missing}", f"Could not find region: {missing}."),
            (f"{ext(missing)}/services/{service_id}/regions/{region_id}", f"Could not find policy: {missing}.")]
        for path, message in cases:
            r = api.request(method, path, admin_token)
            if method == "HEAD":
                assert r.status_code == 404, (path, r.status_code)
            else:
                assert_error(r, 404, message)
    assert_error(api.request("GET", f"{ext(missing)}/endpoints", admin_token), 404,
                 f"Could not find policy: {missing}.")
    assert_error(policy_of(api, admin_token, missing), 404, f"Could not find endpoint: {missing}.")


def test_only_admins_and_system_readers(api, admin_token, demo_token, cat):
    policy = new_policy(api, admin_token)
    endpoint_id, service_id, region_id = (cat["endpoints"]["top"]["id"], cat["service"]["id"],
                                          cat["regions"]["top"]["id"])
    for target in (f"endpoints/{endpoint_id}", f"services/{service_id}", f"services/{service_id}/regions/{region_id}"):
        assert api.request("PUT", f"{ext(policy['id'])}/{target}", admin_token).status_code == 204
        for method in ("PUT", "GET", "DELETE"):
            assert_error(api.request(method, f"{ext(policy['id'])}/{target}", demo_token), 403)
        assert api.request("GET", f"{ext(policy['id'])}/{target}", admin_token).status_code == 204
    assert_error(api.request("GET", f"{ext(policy['id'])}/endpoints", demo_token), 403)
    assert_error(policy_of(api, demo_token, endpoint_id), 403)
