"""The Placement HTTP API in process, on every backend."""

from __future__ import annotations

import uuid

import pytest

from conftest import unique

LATEST = "placement 1.39"


def new_uuid() -> str:
    return str(uuid.uuid4())


class Placement:
    """A thin client: admin token, a chosen microversion, paths under /placement."""

    def __init__(self, api, token: str):
        self.api, self.token = api, token

    def __call__(self, method: str, path: str, version: str = LATEST, token: str | None = None, **kwargs):
        headers = {"OpenStack-API-Version": version} if version else {}
        return self.api.request(method, "/placement" + path, token or self.token, headers=headers, **kwargs)

    def provider(self, **inventories) -> str:
        response = self("POST", "/resource_providers", json={"name": unique("rp")})
        assert response.status_code == 200, response.text
        rp = response.json()["uuid"]
        if inventories:
            response = self("PUT", f"/resource_providers/{rp}/inventories", json={
                "resource_provider_generation": 0,
                "inventories": {rc: {"total": total} for rc, total in inventories.items()}})
            assert response.status_code == 200, response.text
        return rp


@pytest.fixture
def pl(api, admin_token):
    return Placement(api, admin_token)


def error_code(response) -> str:
    body = response.json()
    assert set(body["errors"][0]) >= {"status", "title", "detail", "request_id"}
    assert body["errors"][0]["status"] == response.status_code
    return body["errors"][0].get("code")


def test_version_discovery_and_microversions(pl, api):
    response = api.client.get("/placement/")
    assert response.status_code == 200
    assert response.json()["versions"][0] | {"links": None} == {
        "id": "v1.0", "min_version": "1.0", "max_version": "1.39", "status": "CURRENT", "links": None}
    response = pl("GET", "/resource_providers", version="placement 1.14")
    assert response.headers["openstack-api-version"] == "placement 1.14"
    assert "OpenStack-API-Version" in response.headers["vary"]
    assert "cache-control" not in response.headers  # arrived in 1.15
    response = pl("GET", "/resource_providers", version="placement 1.15")
    assert response.headers["cache-control"] == "no-cache" and "last-modified" in response.headers
    response = pl("GET", "/resource_providers", version="placement 1.99")
    assert response.status_code == 406
    assert response.json()["errors"][0]["max_version"] == "1.39"
    assert pl("GET", "/resource_providers", version="placement latest").headers["openstack-api-version"] \
        == "placement 1.39"


def test_admin_only(pl, demo_token, api):
    response = pl("GET", "/resource_providers", token=demo_token)
    assert response.status_code == 403
    assert error_code(response) == "placement.undefined_code"
    assert api.client.get("/placement/resource_providers").status_code == 401


def test_provider_crud(pl):
    name = unique("rp")
    response = pl("POST", "/resource_providers", version="placement 1.0", json={"name": name})
    assert response.status_code == 201 and response.text == ""
    location = response.headers["location"]
    rp = location.rsplit("/", 1)[1]
    assert location.endswith(f"/placement/resource_providers/{rp}")
    body = pl("GET", f"/resource_providers/{rp}").json()
    assert body["name"] == name and body["generation"] == 0 and body["root_provider_uuid"] == rp
    assert body["parent_provider_uuid"] is None
    assert {link["rel"] for link in body["links"]} == {"self", "inventories", "usages", "aggregates", "traits",
                                                      "allocations"}
    assert "root_provider_uuid" not in pl("GET", f"/resource_providers/{rp}", version="placement 1.13").json()

    duplicate = pl("POST", "/resource_providers", json={"name": name})
    assert duplicate.status_code == 409 and error_code(duplicate) == "placement.duplicate_name"
    assert pl("POST", "/resource_providers", json={"name": ""}).status_code == 400
    assert pl("POST", "/resource_providers", json={"name": "x", "bogus": 1}).status_code == 400
    assert pl("POST", "/resource_providers", content=b"{not json").status_code == 400

    child = pl("POST", "/resource_providers", json={"name": unique("child"), "parent_provider_uuid": rp}).json()
    assert child["root_provider_uuid"] == rp and child["parent_provider_uuid"] == rp
    tree = pl("GET", f"/resource_providers?in_tree={child['uuid']}").json()["resource_providers"]
    assert {p["uuid"] for p in tree} == {rp, child["uuid"]}
    blocked = pl("DELETE", f"/resource_providers/{rp}")
    assert blocked.status_code == 409 and error_code(blocked) == "placement.resource_provider.cannot_delete_parent"

    renamed = pl("PUT", f"/resource_providers/{rp}", json={"name": name + "-new"})
    assert renamed.status_code == 200 and renamed.json()["name"] == name + "-new"
    listed = pl("GET", f"/resource_providers?name={name}-new").json()["resource_providers"]
    assert [p["uuid"] for p in listed] == [rp]
    assert pl("GET", "/resource_providers?bogus=1").status_code == 400

    assert pl("DELETE", f"/resource_providers/{child['uuid']}").status_code == 204
    assert pl("DELETE", f"/resource_providers/{rp}").status_code == 204
    missing = pl("GET", f"/resource_providers/{rp}")
    assert missing.status_code == 404 and missing.json()["errors"][0]["title"] == "Not Found"


def test_inventories_and_generations(pl):
    rp = pl.provider()
    body = {"resource_provider_generation": 0,
            "inventories": {"VCPU": {"total": 8, "allocation_ratio": 16.0}, "MEMORY_MB": {"total": 2048,
                                                                                         "reserved": 512}}}
    response = pl("PUT", f"/resource_providers/{rp}/inventories", json=body)
    assert response.status_code == 200
    assert response.json()["resource_provider_generation"] == 1
    assert response.json()["inventories"]["VCPU"] == {"total": 8, "reserved": 0, "min_unit": 1, "max_unit": 8,
                                                      "step_size": 1, "allocation_ratio": 16.0}
    stale = pl("PUT", f"/resource_providers/{rp}/inventories", json=body)
    assert stale.status_code == 409 and error_code(stale) == "placement.concurrent_update"

    one = pl("GET", f"/resource_providers/{rp}/inventories/MEMORY_MB").json()
    assert one["reserved"] == 512 and one["resource_provider_generation"] == 1
    updated = pl("PUT", f"/resource_providers/{rp}/inventories/MEMORY_MB",
                 json={"resource_provider_generation": 1, "total": 4096})
    assert updated.status_code == 200 and updated.json()["total"] == 4096 and updated.json()["reserved"] == 0
    assert pl("PUT", f"/resource_providers/{rp}/inventories/DISK_GB",
              json={"resource_provider_generation": 2, "total": 1}).status_code == 400
    added = pl("POST", f"/resource_providers/{rp}/inventories", json={"resource_class": "DISK_GB", "total": 10})
    assert added.status_code == 201 and added.json()["resource_provider_generation"] == 3

    for bad in ({"total": 0}, {"total": 4, "reserved": 5}, {"total": 4, "min_unit": 3, "max_unit": 2},
                {"total": "four"}, {"total": 4, "allocation_ratio": 0}):
        response = pl("PUT", f"/resource_providers/{rp}/inventories",
                      json={"resource_provider_generation": 3, "inventories": {"VCPU": bad}})
        assert response.status_code == 400, bad
    unknown = pl("PUT", f"/resource_providers/{rp}/inventories",
                 json={"resource_provider_generation": 3, "inventories": {"NOPE": {"total": 1}}})
    assert unknown.status_code == 400

    consumer = new_uuid()
    assert pl("PUT", f"/allocations/{consumer}", json={
        "allocations": {rp: {"resources": {"DISK_GB": 5}}}, "project_id": "p", "user_id": "u",
        "consumer_generation": None, "consumer_type": "INSTANCE"}).status_code == 204
    in_use = pl("DELETE", f"/resource_providers/{rp}/inventories/DISK_GB")
    assert in_use.status_code == 409 and error_code(in_use) == "placement.inventory.inuse"
    assert pl("DELETE", f"/allocations/{consumer}").status_code == 204
    assert pl("DELETE", f"/resource_providers/{rp}/inventories/DISK_GB").status_code == 204
    assert pl("GET", f"/resource_providers/{rp}/inventories/DISK_GB").status_code == 404
    assert pl("DELETE", f"/resource_providers/{rp}/inventories", version="placement 1.4").status_code == 404
    assert pl("DELETE", f"/resource_providers/{rp}/inventories").status_code == 204
    assert pl("GET", f"/resource_providers/{rp}/inventories").json()["inventories"] == {}


def test_resource_classes(pl):
    names = [rc["name"] for rc in pl("GET", "/resource_classes").json()["resource_classes"]]
    assert {"VCPU", "MEMORY_MB", "DISK_GB"} <= set(names)
    name = "CUSTOM_" + uuid.uuid4().hex.upper()
    assert pl("POST", "/resource_classes", json={"name": name}).status_code == 201
    assert pl("POST", "/resource_classes", json={"name": name}).status_code == 409
    assert pl("POST", "/resource_classes", json={"name": "lower"}).status_code == 400
    assert pl("GET", f"/resource_classes/{name}").json()["name"] == name
    assert pl("PUT", f"/resource_classes/{name}").status_code == 204
    other = "CUSTOM_" + uuid.uuid4().hex.upper()
    assert pl("PUT", f"/resource_classes/{other}").status_code == 201
    assert pl("DELETE", "/resource_classes/VCPU").status_code == 400
    rp = pl.provider(**{name: 5})
    assert pl("DELETE", f"/resource_classes/{name}").status_code == 409
    assert pl("DELETE", f"/resource_providers/{rp}").status_code == 204
    assert pl("DELETE", f"/resource_classes/{name}").status_code == 204
    assert pl("GET", f"/resource_classes/{name}").status_code == 404
    assert pl("GET", "/resource_classes", version="placement 1.1").status_code == 404


def test_traits(pl):
    trait = "CUSTOM_" + uuid.uuid4().hex.upper()
    assert pl("PUT", f"/traits/{trait}").status_code == 201
    assert pl("PUT", f"/traits/{trait}").status_code == 204
    assert pl("PUT", "/traits/NOT_CUSTOM").status_code == 400
    assert pl("GET", f"/traits/{trait}").status_code == 204
    assert trait in pl("GET", "/traits?name=startswith:CUSTOM_").json()["traits"]
    assert pl("GET", f"/traits?name=in:{trait},COMPUTE_NODE").json()["traits"] == ["COMPUTE_NODE", trait]

    rp = pl.provider(VCPU=1)
    response = pl("PUT", f"/resource_providers/{rp}/traits",
                  json={"traits": [trait, "COMPUTE_NODE"], "resource_provider_generation": 1})
    assert response.status_code == 200
    assert response.json() == {"traits": sorted([trait, "COMPUTE_NODE"]), "resource_provider_generation": 2}
    stale = pl("PUT", f"/resource_providers/{rp}/traits", json={"traits": [], "resource_provider_generation": 1})
    assert stale.status_code == 409 and error_code(stale) == "placement.concurrent_update"
    unknown = pl("PUT", f"/resource_providers/{rp}/traits",
                 json={"traits": ["CUSTOM_NEVER_DEFINED_X"], "resource_provider_generation": 2})
    assert unknown.status_code == 400
    assert trait in pl("GET", "/traits?associated=true").json()["traits"]
    assert pl("DELETE", f"/traits/{trait}").status_code == 409
    listed = pl("GET", f"/resource_providers?required={trait}").json()["resource_providers"]
    assert [p["uuid"] for p in listed] == [rp]
    assert rp not in {p["uuid"] for p in pl("GET", f"/resource_providers?required=!{trait}").json()[
        "resource_providers"]}
    assert pl("DELETE", f"/resource_providers/{rp}/traits").status_code == 204
    assert pl("GET", f"/resource_providers/{rp}/traits").json()["traits"] == []
    assert pl("DELETE", f"/traits/{trait}").status_code == 204
    assert pl("GET", f"/traits/{trait}").status_code == 404
    assert pl("DELETE", "/traits/COMPUTE_NODE").status_code == 400


def test_aggregates(pl):
    rp, agg = pl.provider(VCPU=2), new_uuid()
    response = pl("PUT", f"/resource_providers/{rp}/aggregates",
                  json={"aggregates": [agg], "resource_provider_generation": 1})
    assert response.status_code == 200 and response.json() == {"aggregates": [agg],
                                                               "resource_provider_generation": 2}
    assert pl("GET", f"/resource_providers/{rp}/aggregates", version="placement 1.18").json() == {"aggregates": [agg]}
    listed = pl("GET", f"/resource_providers?member_of=in:{agg},{new_uuid()}").json()["resource_providers"]
    assert [p["uuid"] for p in listed] == [rp]
    legacy = pl("PUT", f"/resource_providers/{rp}/aggregates", version="placement 1.1", json=[])
    assert legacy.status_code == 200 and legacy.json() == {"aggregates": []}


def test_allocations_lifecycle(pl):
    rp = pl.provider(VCPU=4, MEMORY_MB=1024)
    consumer, project = new_uuid(), unique("proj")
    body = {"allocations": {rp: {"resources": {"VCPU": 2, "MEMORY_MB": 256}}}, "project_id": project,
            "user_id": "u1", "consumer_generation": None, "consumer_type": "INSTANCE"}
    assert pl("PUT", f"/allocations/{consumer}", json=body).status_code == 204
    shown = pl("GET", f"/allocations/{consumer}").json()
    assert shown["allocations"][rp]["resources"] == {"VCPU": 2, "MEMORY_MB": 256}
    assert shown["consumer_generation"] == 0 and shown["project_id"] == project
    assert shown["consumer_type"] == "INSTANCE"
    stale = pl("PUT", f"/allocations/{consumer}", json=body)  # consumer_generation None but it exists
    assert stale.status_code == 409 and error_code(stale) == "placement.concurrent_update"
    too_big = pl("PUT", f"/allocations/{consumer}", json={**body, "consumer_generation": 0,
                                                          "allocations": {rp: {"resources": {"VCPU": 5}}}})
    assert too_big.status_code == 409
    assert pl("PUT", f"/allocations/{consumer}", json={**body, "consumer_generation": 0}).status_code == 204
    missing_field = {k: v for k, v in body.items() if k != "consumer_generation"}
    assert pl("PUT", f"/allocations/{consumer}", json=missing_field).status_code == 400
    unknown_rp = pl("PUT", f"/allocations/{new_uuid()}", json={**body, "allocations": {new_uuid(): {
        "resources": {"VCPU": 1}}}})
    assert unknown_rp.status_code == 400

    on_rp = pl("GET", f"/resource_providers/{rp}/allocations").json()
    assert on_rp["allocations"] == {consumer: {"resources": {"VCPU": 2, "MEMORY_MB": 256}}}
    usages = pl("GET", f"/resource_providers/{rp}/usages").json()
    assert usages["usages"] == {"VCPU": 2, "MEMORY_MB": 256}
    assert pl("GET", f"/usages?project_id={project}", version="placement 1.9").json() == {
        "usages": {"VCPU": 2, "MEMORY_MB": 256}}
    assert pl("GET", f"/usages?project_id={project}").json() == {
        "usages": {"INSTANCE": {"consumer_count": 1, "VCPU": 2, "MEMORY_MB": 256}}}
    assert pl("GET", "/usages").status_code == 400

    # POST /allocations: move the instance's allocation to a migration record atomically.
    migration = new_uuid()
    moved = pl("POST", "/allocations", json={
        migration: {"allocations": {rp: {"resources": {"VCPU": 2, "MEMORY_MB": 256}}}, "project_id": project,
                    "user_id": "u1", "consumer_generation": None, "consumer_type": "MIGRATION"},
        consumer: {"allocations": {}, "project_id": project, "user_id": "u1", "consumer_generation": 1,
                   "consumer_type": "INSTANCE"}})
    assert moved.status_code == 204, moved.text
    assert pl("GET", f"/allocations/{consumer}").json()["allocations"] == {}
    assert pl("DELETE", f"/allocations/{consumer}").status_code == 404
    assert pl("DELETE", f"/allocations/{migration}").status_code == 204
    assert pl("GET", f"/resource_providers/{rp}/usages").json()["usages"] == {"VCPU": 0, "MEMORY_MB": 0}


def test_legacy_allocation_format(pl):
    rp, consumer = pl.provider(VCPU=2), new_uuid()
    body = {"allocations": [{"resource_provider": {"uuid": rp}, "resources": {"VCPU": 1}}]}
    assert pl("PUT", f"/allocations/{consumer}", version="placement 1.8", json=body).status_code == 400
    response = pl("PUT", f"/allocations/{consumer}", version="placement 1.8",
                  json={**body, "project_id": "p", "user_id": "u"})
    assert response.status_code == 204
    shown = pl("GET", f"/allocations/{consumer}", version="placement 1.0").json()
    assert shown == {"allocations": {rp: {"generation": 2, "resources": {"VCPU": 1}}}}
    assert pl("POST", "/allocations", version="placement 1.12", json={}).status_code == 404


def test_allocation_candidates(pl):
    trait = "CUSTOM_" + uuid.uuid4().hex.upper()
    assert pl("PUT", f"/traits/{trait}").status_code == 201
    big, small = pl.provider(VCPU=16, MEMORY_MB=8192), pl.provider(VCPU=1, MEMORY_MB=8192)
    for rp in (big, small):
        generation = pl("GET", f"/resource_providers/{rp}").json()["generation"]
        pl("PUT", f"/resource_providers/{rp}/traits", json={"traits": [trait], "resource_provider_generation":
                                                            generation})
    response = pl("GET", f"/allocation_candidates?resources=VCPU:2,MEMORY_MB:512&required={trait}")
    assert response.status_code == 200
    body = response.json()
    assert body["allocation_requests"] == [{"allocations": {big: {"resources": {"VCPU": 2, "MEMORY_MB": 512}}},
                                            "mappings": {"": [big]}}]
    assert body["provider_summaries"][big]["resources"]["VCPU"] == {"capacity": 16, "used": 0}
    assert body["provider_summaries"][big]["traits"] == [trait]
    both = pl("GET", f"/allocation_candidates?resources=VCPU:1&required={trait}").json()
    assert set(both["provider_summaries"]) == {big, small}
    limited = pl("GET", f"/allocation_candidates?resources=VCPU:1&required={trait}&limit=1").json()
    assert len(limited["allocation_requests"]) == 1
    assert pl("GET", f"/allocation_candidates?resources=VCPU:1&required={trait},!{trait}").status_code == 400
    any_of = pl("GET", f"/allocation_candidates?resources=VCPU:1&required=in:{trait},COMPUTE_NODE").json()
    assert set(any_of["provider_summaries"]) >= {big, small}
    old = pl("GET", f"/allocation_candidates?resources=VCPU:2&required={trait}", version="placement 1.17").json()
    assert old["allocation_requests"] == [{"allocations": {big: {"resources": {"VCPU": 2}}}}]
    assert set(old["provider_summaries"][big]["resources"]) == {"VCPU"}
    for bad in ("resources=VCPU", "resources=VCPU:x", "resources=VCPU:1,VCPU:2", "resources=NOPE:1",
                "resources=VCPU:1&limit=0", "required=COMPUTE_NODE", "resources=VCPU:1&bogus=1"):
        response = pl("GET", f"/allocation_candidates?{bad}")
        assert response.status_code == 400, bad
    assert error_code(pl("GET", "/allocation_candidates?resources=VCPU")) == "placement.query.bad_value"
    assert pl("GET", "/allocation_candidates?resources=VCPU:1", version="placement 1.9").status_code == 404


def test_granular_request_groups(pl):
    trait = "CUSTOM_" + uuid.uuid4().hex.upper()
    assert pl("PUT", f"/traits/{trait}").status_code == 201
    root = pl("POST", "/resource_providers", json={"name": unique("root")}).json()["uuid"]
    nics = []
    for _ in range(2):
        nic = pl("POST", "/resource_providers", json={"name": unique("nic"), "parent_provider_uuid": root}).json()
        pl("PUT", f"/resource_providers/{nic['uuid']}/inventories", json={
            "resource_provider_generation": 0, "inventories": {"SRIOV_NET_VF": {"total": 1}}})
        pl("PUT", f"/resource_providers/{nic['uuid']}/traits", json={"traits": [trait],
                                                                     "resource_provider_generation": 1})
        nics.append(nic["uuid"])
    pl("PUT", f"/resource_providers/{root}/inventories", json={
        "resource_provider_generation": 0, "inventories": {"VCPU": {"total": 4}}})

    base = f"resources=VCPU:1&resources1=SRIOV_NET_VF:1&required1={trait}&in_tree={root}"
    isolated = pl("GET", f"/allocation_candidates?{base}&resources2=SRIOV_NET_VF:1&required2={trait}"
                         "&group_policy=isolate").json()
    # Two VFs on two one-VF NICs: each NIC once, in either group order.
    assert len(isolated["allocation_requests"]) == 2
    first = isolated["allocation_requests"][0]
    assert first["allocations"][root] == {"resources": {"VCPU": 1}}
    assert {first["mappings"]["1"][0], first["mappings"]["2"][0]} == set(nics)
    assert first["mappings"][""] == [root]
    assert set(isolated["provider_summaries"]) == {root, *nics}
    assert isolated["provider_summaries"][nics[0]]["root_provider_uuid"] == root

    single = pl("GET", f"/allocation_candidates?{base}").json()
    assert sorted(r["mappings"]["1"][0] for r in single["allocation_requests"]) == sorted(nics)
    # group_policy=none lets both groups pick one NIC, but 2 VFs do not fit on a 1-VF NIC.
    crowded = pl("GET", f"/allocation_candidates?{base}&resources2=SRIOV_NET_VF:1&required2={trait}"
                        "&group_policy=none").json()
    assert len(crowded["allocation_requests"]) == 2

    missing_policy = pl("GET", "/allocation_candidates?resources1=VCPU:1&resources2=VCPU:1")
    assert missing_policy.status_code == 400
    assert pl("GET", "/allocation_candidates?resources1=VCPU:1", version="placement 1.24").status_code == 400
    assert pl("GET", "/allocation_candidates?resources_NIC=VCPU:1", version="placement 1.32").status_code == 400
    assert pl("GET", "/allocation_candidates?resources_NIC=VCPU:1").status_code == 200
    assert pl("GET", "/allocation_candidates?required1=COMPUTE_NODE&resources=VCPU:1").status_code == 400
