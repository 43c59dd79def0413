"""Generic volume groups (3.13+), group types and specs (3.11+) and group snapshots
(3.14+), as Cinder serves them (Tempest's admin test_group_types, test_group_type_specs,
test_groups, test_group_snapshots)."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

from conftest import unique
from test_volume_api import call, member, wait  # noqa: F401 - member is a fixture

G = {"OpenStack-API-Version": "volume 3.44"}


def group_type(api, admin_token, **spec) -> dict:
    r = call(api, admin_token, "POST", "/group_types", json={"group_type": {"name": unique("gt"), **spec}})
    assert r.status_code == 202, r.text
    return r.json()["group_type"]


def volume_type(api, admin_token, **specs) -> dict:
    r = call(api, admin_token, "POST", "/types", json={"volume_type": {"name": unique("vt"), "extra_specs": specs}})
    assert r.status_code == 200, r.text
    return r.json()["volume_type"]


def make_group(api, token, gtype, vtypes, **extra) -> dict:
    r = call(api, token, "POST", "/groups", json={"group": {
        "group_type": gtype["id"], "volume_types": [t["id"] for t in vtypes], "name": unique("grp"), **extra}})
    assert r.status_code == 202, r.text
    assert set(r.json()["group"]) == {"id", "name"}
    return wait(api, token, f"/groups/{r.json()['group']['id']}", "group", ("available", "error"))


def group_volume(api, token, group, vtype) -> dict:
    r = call(api, token, "POST", "/volumes", json={"volume": {"size": 1, "volume_type": vtype["id"],
                                                              "group_id": group["id"]}})
    assert r.status_code == 202, r.text
    assert r.json()["volume"]["group_id"] == group["id"]
    return wait(api, token, f"/volumes/{r.json()['volume']['id']}", "volume", ("available", "error"))


def members(api, token, group_id) -> set[str]:
    return {v["id"] for v in call(api, token, "GET", f"/volumes/detail?group_id={group_id}").json()["volumes"]}


def gone(api, token, path, timeout=20) -> None:
    deadline = time.monotonic() + timeout
    while call(api, token, "GET", path).status_code != 404:
        assert time.monotonic() < deadline, call(api, token, "GET", path).text
        time.sleep(0.05)


def test_group_types_and_specs(api, admin_token, member):  # noqa: F811
    specs = {"consistent_group_snapshot_enabled": "<is> False"}
    gtype = group_type(api, admin_token, description="d", group_specs=specs, is_public=True)
    assert gtype["is_public"] is True and gtype["group_specs"] == specs
    r = call(api, admin_token, "PUT", f"/group_types/{gtype['id']}", json={"group_type": {"name": unique("gt2"),
                                                                                           "description": "u"}})
    assert r.status_code == 200 and r.json()["group_type"]["description"] == "u", r.text
    shown = call(api, member, "GET", f"/group_types/{gtype['id']}").json()["group_type"]
    assert "group_specs" not in shown  # only the admin sees the specs
    private = group_type(api, admin_token, is_public=False)
    names = lambda q, token=admin_token: [t["name"] for t in call(api, token, "GET", f"/group_types{q}").json()[  # noqa: E731
        "group_types"]]
    assert private["name"] in names("?is_public=None") and private["name"] not in names("")
    assert private["name"] in names("?is_public=false") and gtype["name"] not in names("?is_public=false")
    assert private["name"] not in names("?is_public=None", member)
    assert call(api, member, "GET", f"/group_types/{private['id']}").status_code == 404
    asc = names("?is_public=None&sort=name:asc")
    assert asc == sorted(asc)
    r = call(api, admin_token, "GET", "/group_types/default")
    assert r.status_code == 404 and r.json()["itemNotFound"]["message"] == "Default group type can not be found."
    # specs
    base = f"/group_types/{gtype['id']}/group_specs"
    r = call(api, admin_token, "POST", base, json={"group_specs": {"key1": "value1", "key2": "value2"}})
    assert r.status_code == 202 and r.json() == {"group_specs": {"key1": "value1", "key2": "value2"}}, r.text
    assert call(api, admin_token, "GET", base + "/key1").json() == {"key1": "value1"}
    r = call(api, admin_token, "PUT", base + "/key2", json={"key2": "v2"})
    assert r.status_code == 200 and r.json() == {"key2": "v2"}
    assert call(api, admin_token, "PUT", base + "/key2", json={"key3": "v"}).status_code == 400
    assert call(api, admin_token, "GET", base).json()["group_specs"]["key2"] == "v2"
    assert call(api, admin_token, "DELETE", base + "/key1").status_code == 202
    r = call(api, admin_token, "GET", base + "/key1")
    assert r.status_code == 404 and r.json()["itemNotFound"]["message"] == (
        f"Group Type {gtype['id']} has no extra spec with key key1.")
    assert call(api, admin_token, "DELETE", base + "/key1").status_code == 404
    assert call(api, member, "POST", base, json={"group_specs": {"k": "v"}}).status_code == 403
    assert call(api, admin_token, "POST", base, json={"group_specs": {"bad key!": "v"}}).status_code == 400
    # management is the admin's; bodies are checked first; versions
    assert call(api, member, "POST", "/group_types", json={"group_type": {"name": "x"}}).status_code == 403
    assert call(api, admin_token, "POST", "/group_types", json={"group_type": {}}).status_code == 400
    r = call(api, admin_token, "POST", "/group_types", json={"group_type": {"name": gtype["name"] + "-"}})
    assert r.status_code == 202
    r = call(api, admin_token, "POST", "/group_types", json={"group_type": {"name": r.json()["group_type"]["name"]}})
    assert r.status_code == 409, r.text
    assert call(api, admin_token, "PUT", f"/group_types/{gtype['id']}", json={"group_type": {}}).status_code == 400
    assert call(api, admin_token, "GET", "/group_types", headers={"OpenStack-API-Version": "volume 3.10"}
                ).status_code == 404
    assert call(api, admin_token, "DELETE", f"/group_types/{private['id']}").status_code == 202
    assert call(api, admin_token, "GET", f"/group_types/{private['id']}").status_code == 404


def test_group_lifecycle(api, admin_token, member):  # noqa: F811
    gtype, vtype = group_type(api, admin_token), volume_type(api, admin_token)
    other = volume_type(api, admin_token)
    group = make_group(api, member, gtype, [vtype], description="first")
    assert group["status"] == "available" and group["volume_types"] == [vtype["id"]]
    assert group["group_type"] == gtype["id"] and group["group_snapshot_id"] is None
    assert group["replication_status"] == "disabled" and "volumes" not in group
    v1, v2 = group_volume(api, member, group, vtype), group_volume(api, member, group, vtype)
    assert v1["status"] == v2["status"] == "available"
    shown = call(api, member, "GET", f"/groups/{group['id']}?list_volume=true").json()["group"]
    assert set(shown["volumes"]) == {v1["id"], v2["id"]}
    # a volume of a type the group does not allow; a group's volume is deleted with it
    r = call(api, member, "POST", "/volumes", json={"volume": {"size": 1, "volume_type": other["id"],
                                                               "group_id": group["id"]}})
    assert r.status_code == 400 and "must be supported by this group" in r.text
    assert call(api, member, "DELETE", f"/volumes/{v1['id']}").status_code == 400
    assert call(api, admin_token, "DELETE", f"/types/{vtype['id']}").status_code == 400  # the group uses it
    # update: rename, remove, add back
    r = call(api, member, "PUT", f"/groups/{group['id']}", json={"group": {
        "name": "new_group", "description": "This is a new group", "remove_volumes": v2["id"]}})
    assert r.status_code == 202, r.text
    shown = call(api, member, "GET", f"/groups/{group['id']}").json()["group"]
    assert shown["name"] == "new_group" and shown["description"] == "This is a new group"
    assert members(api, member, group["id"]) == {v1["id"]}
    assert call(api, member, "PUT", f"/groups/{group['id']}", json={"group": {
        "add_volumes": v2["id"]}}).status_code == 202
    assert members(api, member, group["id"]) == {v1["id"], v2["id"]}
    stray = call(api, member, "POST", "/volumes", json={"volume": {"size": 1, "volume_type": other["id"]}}).json()
    wait(api, member, f"/volumes/{stray['volume']['id']}", "volume", ("available",))
    r = call(api, member, "PUT", f"/groups/{group['id']}", json={"group": {"add_volumes": stray["volume"]["id"]}})
    assert r.status_code == 400 and "is not supported by the group" in r.text
    r = call(api, member, "PUT", f"/groups/{group['id']}", json={"group": {"add_volumes": v1["id"],
                                                                           "remove_volumes": v1["id"]}})
    assert r.status_code == 400
    assert call(api, member, "PUT", f"/groups/{group['id']}", json={"group": {}}).status_code == 400
    # lists
    listed = call(api, member, "GET", "/groups").json()["groups"]
    assert {"id": group["id"], "name": "new_group"} in listed
    detail = call(api, member, "GET", "/groups/detail").json()["groups"]
    assert [g["volume_types"] for g in detail if g["id"] == group["id"]] == [[vtype["id"]]]
    # delete: refused with volumes unless delete-volumes
    r = call(api, member, "POST", f"/groups/{group['id']}/action", json={"delete": {"delete-volumes": False}})
    assert r.status_code == 400 and "delete-volumes flag is required" in r.text
    empty = make_group(api, member, gtype, [vtype])
    assert call(api, member, "POST", f"/groups/{empty['id']}/action", json={"delete": {}}).status_code == 202
    assert call(api, member, "POST", f"/groups/{group['id']}/action",
                json={"delete": {"delete-volumes": True}}).status_code == 202
    for path in (f"/groups/{empty['id']}", f"/groups/{group['id']}", f"/volumes/{v1['id']}", f"/volumes/{v2['id']}"):
        gone(api, member, path)
    assert call(api, admin_token, "DELETE", f"/types/{other['id']}").status_code == 400  # the stray volume has it
    assert call(api, admin_token, "DELETE", f"/group_types/{gtype['id']}").status_code == 202


def test_group_snapshots_and_groups_from_sources(api, admin_token, member):  # noqa: F811
    gtype, vtype = group_type(api, admin_token), volume_type(api, admin_token)
    group = make_group(api, member, gtype, [vtype])
    volume = group_volume(api, member, group, vtype)
    r = call(api, member, "POST", "/group_snapshots", json={"group_snapshot": {"group_id": group["id"],
                                                                               "name": "gs"}})
    assert r.status_code == 202, r.text
    assert set(r.json()["group_snapshot"]) == {"id", "name", "group_type_id"}
    gs = wait(api, member, f"/group_snapshots/{r.json()['group_snapshot']['id']}", "group_snapshot",
              ("available", "error"))
    assert gs["status"] == "available" and gs["group_id"] == group["id"] and gs["group_type_id"] == gtype["id"]
    [snapshot] = [x for x in call(api, member, "GET", "/snapshots/detail").json()["snapshots"]
                  if x["volume_id"] == volume["id"]]
    assert snapshot["status"] == "available" and snapshot["group_snapshot_id"] == gs["id"]
    assert call(api, member, "DELETE", f"/snapshots/{snapshot['id']}").status_code == 400  # part of a group
    listed = call(api, member, "GET", "/group_snapshots").json()["group_snapshots"]
    assert {"id": gs["id"], "name": "gs"} in listed
    detail = call(api, member, "GET", "/group_snapshots/detail").json()["group_snapshots"]
    assert all("created_at" in x and "group_id" in x for x in detail)
    # a group with snapshots cannot be deleted
    r = call(api, member, "POST", f"/groups/{group['id']}/action", json={"delete": {"delete-volumes": True}})
    assert r.status_code == 400 and "Group has existing snapshots." in r.text
    # groups from the group snapshot and from the group
    for source in ({"group_snapshot_id": gs["id"]}, {"source_group_id": group["id"]}):
        r = call(api, member, "POST", "/groups/action", json={"create-from-src": {"name": unique("copy"), **source}})
        assert r.status_code == 202, r.text
        copy = wait(api, member, f"/groups/{r.json()['group']['id']}", "group", ("available", "error"))
        assert copy["status"] == "available" and copy["volume_types"] == [vtype["id"]]
        assert copy["group_snapshot_id"] == source.get("group_snapshot_id")
        assert copy["source_group_id"] == source.get("source_group_id")
        [copied] = members(api, member, copy["id"])
        assert call(api, member, "GET", f"/volumes/{copied}").json()["volume"]["status"] == "available"
        assert call(api, member, "POST", f"/groups/{copy['id']}/action",
                    json={"delete": {"delete-volumes": True}}).status_code == 202
        gone(api, member, f"/groups/{copy['id']}")
    assert call(api, member, "POST", "/groups/action", json={"create-from-src": {
        "group_snapshot_id": gs["id"], "source_group_id": group["id"]}}).status_code == 400
    # reset statuses (admin): group 3.20, group snapshot 3.19
    for status in ("creating", "available", "error", "available"):
        assert call(api, admin_token, "POST", f"/groups/{group['id']}/action",
                    json={"reset_status": {"status": status}}).status_code == 202
        assert call(api, member, "GET", f"/groups/{group['id']}").json()["group"]["status"] == status
        assert call(api, admin_token, "POST", f"/group_snapshots/{gs['id']}/action",
                    json={"reset_status": {"status": status}}).status_code == 202
        assert call(api, member, "GET", f"/group_snapshots/{gs['id']}").json()["group_snapshot"]["status"] == status
    r = call(api, admin_token, "POST", f"/groups/{group['id']}/action", json={"reset_status": {"status": "bogus"}})
    assert r.status_code == 400 and "Group status: bogus is invalid" in r.text
    assert call(api, member, "POST", f"/groups/{group['id']}/action",
                json={"reset_status": {"status": "error"}}).status_code == 403
    assert call(api, admin_token, "POST", f"/groups/{group['id']}/action", json={"reset_status": {"status": "error"}},
                headers={"OpenStack-API-Version": "volume 3.19"}).status_code == 400
    # delete the group snapshot (its snapshots go with it), then the group
    assert call(api, member, "DELETE", f"/group_snapshots/{gs['id']}").status_code == 202
    gone(api, member, f"/group_snapshots/{gs['id']}")
    gone(api, member, f"/snapshots/{snapshot['id']}")
    assert call(api, member, "POST", f"/groups/{group['id']}/action",
                json={"delete": {"delete-volumes": True}}).status_code == 202
    gone(api, member, f"/groups/{group['id']}")


def test_group_isolation_quota_and_scheduling(api, admin_token, member, demo_token):  # noqa: F811
    gtype, vtype = group_type(api, admin_token), volume_type(api, admin_token)
    group = make_group(api, member, gtype, [vtype])
    assert call(api, demo_token, "GET", f"/groups/{group['id']}").status_code == 404
    assert call(api, demo_token, "POST", "/volumes", json={"volume": {
        "size": 1, "volume_type": vtype["id"], "group_id": group["id"]}}).status_code == 404
    assert call(api, member, "GET", "/groups", headers={"OpenStack-API-Version": "volume 3.12"}).status_code == 404
    project = api.cloud.identity.validate_token(member).project_id
    usage = call(api, admin_token, "GET", f"/os-quota-sets/{project}?usage=true").json()["quota_set"]["groups"]
    assert usage["in_use"] >= 1
    # a group whose volume type no backend serves goes to error, as Cinder's scheduler leaves it
    bad = make_group(api, member, gtype, [volume_type(api, admin_token, vendor_name="nobody")])
    assert bad["status"] == "error"
    assert call(api, member, "POST", f"/groups/{bad['id']}/action", json={"delete": {}}).status_code == 202
    gone(api, member, f"/groups/{bad['id']}")
    r = call(api, member, "POST", "/groups", json={"group": {"group_type": "nope", "volume_types": [vtype["id"]]}})
    assert r.status_code == 404
    assert r.json()["itemNotFound"]["message"] == "Group type with name nope could not be found."
    assert call(api, member, "POST", "/groups", json={"group": {"group_type": gtype["id"],
                                                                "volume_types": []}}).status_code == 400


def test_racing_group_changes_are_decided_by_cas(api, admin_token, member):  # noqa: F811
    """Concurrent requests on groups: one volume added to many groups at once joins exactly
    one; a group delete racing a group snapshot create leaves either the deleted group
    or a group with its snapshot, never both half-done; quota ``groups`` counts what exists."""
    gtype, vtype = group_type(api, admin_token), volume_type(api, admin_token)
    groups = [make_group(api, member, gtype, [vtype]) for _ in range(6)]
    r = call(api, member, "POST", "/volumes", json={"volume": {"size": 1, "volume_type": vtype["id"]}})
    volume = wait(api, member, f"/volumes/{r.json()['volume']['id']}", "volume", ("available",))

    def add(group):
        return call(api, member, "PUT", f"/groups/{group['id']}", json={"group": {"add_volumes": volume["id"]}})
    with ThreadPoolExecutor(6) as pool:
        answers = [r.status_code for r in pool.map(add, groups)]
    assert sorted(answers) == [202] + [400] * 5, answers
    assert call(api, member, "GET", f"/volumes/{volume['id']}").json()["volume"]["group_id"] in {
        g["id"] for g in groups}

    empty = groups[1] if volume["id"] not in members(api, member, groups[1]["id"]) else groups[2]

    def delete():
        return call(api, member, "POST", f"/groups/{empty['id']}/action", json={"delete": {}}).status_code

    def snapshot():
        return call(api, member, "POST", "/group_snapshots", json={"group_snapshot": {
            "group_id": empty["id"]}}).status_code
    with ThreadPoolExecutor(2) as pool:
        deleted, snapped = pool.submit(delete), pool.submit(snapshot)
        outcome = (deleted.result(), snapped.result())
    assert outcome in ((202, 400), (202, 404), (400, 202)), outcome
    if outcome[0] == 202:
        gone(api, member, f"/groups/{empty['id']}")
    else:
        assert call(api, member, "GET", f"/groups/{empty['id']}").json()["group"]["status"] == "available"
    project = api.cloud.identity.validate_token(member).project_id
    deadline = time.monotonic() + 20
    while True:
        existing = len(call(api, member, "GET", "/groups").json()["groups"])
        used = call(api, admin_token, "GET", f"/os-quota-sets/{project}?usage=true").json()["quota_set"]["groups"]
        if used["in_use"] == existing:
            break
        assert time.monotonic() < deadline, (used, existing)
        time.sleep(0.05)
