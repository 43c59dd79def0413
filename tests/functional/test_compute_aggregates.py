"""Host aggregates (``os-aggregates``): CRUD, hosts, metadata, and the availability zone
an aggregate gives its hosts, which ``os-availability-zone`` shows and the scheduler
honours."""

from __future__ import annotations

import pytest

from conftest import unique
from test_compute_helpers import add_hosts, boot, call, make_flavor, make_image, retire, wait, wait_gone


@pytest.fixture()
def aggregate(api, admin_token):
    r = call(api, "POST", "/os-aggregates", admin_token, json={"aggregate": {"name": unique("agg")}})
    assert r.status_code == 200, r.text
    agg = r.json()["aggregate"]
    yield agg
    call(api, "DELETE", f"/os-aggregates/{agg['id']}", admin_token)


def test_create_show_update_list_delete(api, admin_token):
    name = unique("agg")
    r = call(api, "POST", "/os-aggregates", admin_token, version="2.41",
             json={"aggregate": {"name": name, "availability_zone": unique("az")}})
    assert r.status_code == 200, r.text
    created = r.json()["aggregate"]
    assert created["name"] == name and created["deleted"] is False and created["deleted_at"] is None
    assert "hosts" not in created and "metadata" not in created and created["uuid"]
    assert isinstance(created["id"], int)
    agg_id = created["id"]

    shown = call(api, "GET", f"/os-aggregates/{agg_id}", admin_token, version="2.1").json()["aggregate"]
    assert shown["hosts"] == [] and shown["metadata"] == {"availability_zone": created["availability_zone"]}
    assert "uuid" not in shown

    zone = unique("az")
    r = call(api, "PUT", f"/os-aggregates/{agg_id}", admin_token,
             json={"aggregate": {"name": name + "-2", "availability_zone": zone}})
    assert r.status_code == 200, r.text
    updated = r.json()["aggregate"]
    assert updated["name"] == name + "-2" and updated["availability_zone"] == zone
    assert updated["metadata"] == {"availability_zone": zone} and updated["updated_at"]

    listed = call(api, "GET", "/os-aggregates", admin_token).json()["aggregates"]
    assert [a["name"] for a in listed if a["id"] == agg_id] == [name + "-2"]

    assert call(api, "DELETE", f"/os-aggregates/{agg_id}", admin_token).status_code == 200
    r = call(api, "GET", f"/os-aggregates/{agg_id}", admin_token)
    assert r.status_code == 404 and "itemNotFound" in r.json()


@pytest.mark.parametrize("agg_id", [str(2**31), str(2**63), str(2**64)])
@pytest.mark.parametrize("method,body", [
    ("GET", None), ("PUT", {"aggregate": {"name": "renamed"}}), ("DELETE", None),
    ("POST", {"set_metadata": {"metadata": {"k": "v"}}}),
], ids=["show", "update", "delete", "action"])
def test_ids_no_row_can_have_are_404(api, admin_token, agg_id, method, body):
    """Nova looks any integer up (and finds nothing); the id column is 32-bit."""
    path = f"/os-aggregates/{agg_id}" + ("/action" if method == "POST" else "")
    r = call(api, method, path, admin_token, json=body)
    assert r.status_code == 404, r.text
    assert r.json()["itemNotFound"]["message"] == f"Aggregate {agg_id} could not be found."


@pytest.mark.parametrize("name", ["", "a" * 256, " padded"])
def test_bad_names_are_400(api, admin_token, name):
    r = call(api, "POST", "/os-aggregates", admin_token, json={"aggregate": {"name": name}})
    assert r.status_code == 400 and "badRequest" in r.json()


def test_duplicate_name_unknown_ids_and_policy(api, admin_token, demo_token, aggregate):
    r = call(api, "POST", "/os-aggregates", admin_token, json={"aggregate": {"name": aggregate["name"]}})
    assert r.status_code == 409 and "conflictingRequest" in r.json()
    for method in ("GET", "DELETE"):
        assert call(api, method, "/os-aggregates/-1", admin_token).status_code == 404
        assert call(api, method, "/os-aggregates/nonsense", admin_token).status_code == 404
    assert call(api, "GET", "/os-aggregates", demo_token).status_code == 403
    assert call(api, "GET", f"/os-aggregates/{aggregate['id']}", demo_token).status_code == 403
    assert call(api, "DELETE", f"/os-aggregates/{aggregate['id']}", demo_token).status_code == 403
    r = call(api, "POST", "/os-aggregates", demo_token, json={"aggregate": {"name": unique("agg")}})
    assert r.status_code == 403
    r = call(api, "POST", f"/os-aggregates/{aggregate['id']}/action", demo_token,
             json={"add_host": {"host": "compute-1"}})
    assert r.status_code == 403
    r = call(api, "POST", f"/os-aggregates/{aggregate['id']}/action", admin_token, json={"fly": {}})
    assert r.status_code == 400


def test_hosts_and_metadata(api, admin_token, aggregate):
    node, = add_hosts(api, "nova", [2])
    action = f"/os-aggregates/{aggregate['id']}/action"
    try:
        r = call(api, "POST", action, admin_token, json={"add_host": {"host": node.host}})
        assert r.status_code == 200, r.text
        assert r.json()["aggregate"]["hosts"] == [node.host]
        r = call(api, "POST", action, admin_token, json={"add_host": {"host": node.host}})
        assert r.status_code == 409
        r = call(api, "POST", action, admin_token, json={"add_host": {"host": unique("nohost")}})
        assert r.status_code == 404
        r = call(api, "DELETE", f"/os-aggregates/{aggregate['id']}", admin_token)
        assert r.status_code == 400, "an aggregate with hosts cannot be deleted"

        r = call(api, "POST", action, admin_token, json={"set_metadata": {"metadata": {"ssd": "true", "x": "1"}}})
        assert r.status_code == 200 and r.json()["aggregate"]["metadata"] == {"ssd": "true", "x": "1"}
        r = call(api, "POST", action, admin_token, json={"set_metadata": {"metadata": {"x": None}}})
        assert r.json()["aggregate"]["metadata"] == {"ssd": "true"}

        r = call(api, "POST", action, admin_token, json={"remove_host": {"host": node.host}})
        assert r.status_code == 200 and r.json()["aggregate"]["hosts"] == []
        r = call(api, "POST", action, admin_token, json={"remove_host": {"host": node.host}})
        assert r.status_code == 404 and "itemNotFound" in r.json()
    finally:
        retire(api, [node])


def zones(api, admin_token) -> dict[str, list[str]]:
    info = call(api, "GET", "/os-availability-zone/detail", admin_token).json()["availabilityZoneInfo"]
    return {z["zoneName"]: sorted(z["hosts"] or {}) for z in info}


def test_zone_metadata_moves_hosts_and_the_scheduler_follows(api, admin_token):
    nodes = add_hosts(api, "nova", [4, 4])
    zone, other_zone = unique("az"), unique("az")
    aggs = []
    try:
        for name_zone in (zone, other_zone):
            r = call(api, "POST", "/os-aggregates", admin_token,
                     json={"aggregate": {"name": unique("agg"), "availability_zone": name_zone}})
            aggs.append(r.json()["aggregate"]["id"])
        r = call(api, "POST", f"/os-aggregates/{aggs[0]}/action", admin_token,
                 json={"add_host": {"host": nodes[0].host}})
        assert r.status_code == 200, r.text
        assert zones(api, admin_token)[zone] == [nodes[0].host]

        # A host cannot be in two zones at once.
        r = call(api, "POST", f"/os-aggregates/{aggs[1]}/action", admin_token,
                 json={"add_host": {"host": nodes[0].host}})
        assert r.status_code == 400 and "badRequest" in r.json()

        image, flavor = make_image(api, admin_token), make_flavor(api, admin_token)
        server = boot(api, admin_token, image, flavor["id"], availability_zone=zone)["server"]
        shown = wait(api, admin_token, server["id"])
        assert shown["status"] == "ACTIVE"
        assert shown["OS-EXT-SRV-ATTR:host"] == nodes[0].host and shown["OS-EXT-AZ:availability_zone"] == zone
        call(api, "DELETE", f"/servers/{server['id']}", admin_token)
        wait_gone(api, admin_token, server["id"])

        # Renaming the zone through set_metadata moves the host with it.
        renamed = unique("az")
        r = call(api, "POST", f"/os-aggregates/{aggs[0]}/action", admin_token,
                 json={"set_metadata": {"metadata": {"availability_zone": renamed}}})
        assert r.status_code == 200 and r.json()["aggregate"]["availability_zone"] == renamed
        assert zones(api, admin_token)[renamed] == [nodes[0].host] and zone not in zones(api, admin_token)

        # Leaving the aggregate puts the host back in the default zone.
        call(api, "POST", f"/os-aggregates/{aggs[0]}/action", admin_token,
             json={"remove_host": {"host": nodes[0].host}})
        assert nodes[0].host in zones(api, admin_token)["nova"]
    finally:
        retire(api, nodes)
        for agg_id in aggs:
            call(api, "DELETE", f"/os-aggregates/{agg_id}", admin_token)
