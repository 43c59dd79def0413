"""The Block Storage API in process: volumes, actions, snapshots, types, quotas,
attachments, capabilities, and isolation between projects."""

from __future__ import annotations

import time

import pytest

from conftest import unique

V = "OpenStack-API-Version"


def base(api, token) -> str:
    project = api.cloud.identity.validate_token(token).project_id
    return f"/volume/v3/{project}"


def call(api, token, method, path, **kw):
    headers = {V: "volume 3.44", **kw.pop("headers", {})}
    return api.request(method, base(api, token) + path, token, headers=headers, **kw)


def wait(api, token, path, key, statuses, timeout=20):
    deadline = time.monotonic() + timeout
    while True:
        response = call(api, token, "GET", path)
        if response.status_code == 404 and statuses == ("deleted",):
            return None
        body = response.json()[key]
        if body["status"] in statuses:
            return body
        assert time.monotonic() < deadline, body
        time.sleep(0.05)


def create_volume(api, token, **spec):
    response = call(api, token, "POST", "/volumes", json={"volume": {"size": 1, "name": unique("vol"), **spec}})
    assert response.status_code == 202, response.text
    return wait(api, token, f"/volumes/{response.json()['volume']['id']}", "volume", ("available", "error"))


@pytest.fixture(scope="module")
def member(api, admin_token):
    """A member of a fresh project without volume quotas, so these tests never run into
    limits left behind by other tests on the shared demo project."""
    token = new_member(api, admin_token)
    project = api.cloud.identity.validate_token(token).project_id
    assert call(api, admin_token, "PUT", f"/os-quota-sets/{project}", json={"quota_set": {
        "volumes": -1, "gigabytes": -1, "snapshots": -1, "backups": -1, "backup_gigabytes": -1}}).status_code == 200
    return token


def test_version_discovery(api):
    response = api.request("GET", "/volume/")
    assert response.status_code == 300
    assert response.json()["versions"][0]["id"] == "v3.0"
    assert api.request("GET", "/volume/v3").json()["versions"][0]["min_version"] == "3.0"


def test_volume_lifecycle(api, member):
    volume = create_volume(api, member, metadata={"purpose": "test"})
    assert volume["status"] == "available"
    assert volume["bootable"] == "false" and volume["volume_type"] == "__DEFAULT__"
    assert volume["metadata"] == {"purpose": "test"}
    vid = volume["id"]
    path = api.cloud.service("volume").manager.backends.all[0].driver.path(vid)
    assert path.stat().st_size == 1024 ** 3

    response = call(api, member, "PUT", f"/volumes/{vid}", json={"volume": {"name": "renamed"}})
    assert response.json()["volume"]["name"] == "renamed"
    assert call(api, member, "POST", f"/volumes/{vid}/metadata",
                json={"metadata": {"k": "v"}}).json()["metadata"] == {"purpose": "test", "k": "v"}
    listed = call(api, member, "GET", "/volumes/detail?metadata={\"k\": \"v\"}").json()["volumes"]
    assert [v["id"] for v in listed] == [vid]
    assert call(api, member, "DELETE", f"/volumes/{vid}/metadata/k").status_code == 200
    assert call(api, member, "DELETE", f"/volumes/{vid}/metadata/k").status_code == 404

    assert call(api, member, "POST", f"/volumes/{vid}/action",
                json={"os-extend": {"new_size": 2}}).status_code == 202
    extended = wait(api, member, f"/volumes/{vid}", "volume", ("available",))
    assert extended["size"] == 2 and path.stat().st_size == 2 * 1024 ** 3
    bad = call(api, member, "POST", f"/volumes/{vid}/action", json={"os-extend": {"new_size": 1}})
    assert bad.status_code == 400 and "badRequest" in bad.json()

    assert call(api, member, "POST", f"/volumes/{vid}/action",
                json={"os-set_bootable": {"bootable": True}}).status_code == 200
    assert call(api, member, "GET", f"/volumes/{vid}").json()["volume"]["bootable"] == "true"
    assert call(api, member, "POST", f"/volumes/{vid}/action",
                json={"os-update_readonly_flag": {"readonly": True}}).status_code == 202

    assert call(api, member, "DELETE", f"/volumes/{vid}").status_code == 202
    wait(api, member, f"/volumes/{vid}", "volume", ("deleted",))
    assert not path.exists()
    missing = call(api, member, "GET", f"/volumes/{vid}")
    assert missing.status_code == 404 and "itemNotFound" in missing.json()


def test_bad_input_is_400(api, demo_token):
    for spec in ({"size": 0}, {"size": "x"}, {"size": -1}, {}):
        response = call(api, demo_token, "POST", "/volumes", json={"volume": spec})
        assert response.status_code == 400, (spec, response.text)
        assert response.json()["badRequest"]["code"] == 400
    assert call(api, demo_token, "POST", "/volumes", json={"volume": {"size": 1, "volume_type": "nope"}}
                ).status_code == 404
    assert call(api, demo_token, "POST", "/volumes/x/action", json={"os-nothing": {}}).status_code == 400
    assert call(api, demo_token, "POST", "/volumes/x/action", json={"os-extend": {"new_size": 2}}
                ).status_code == 404


def test_paging(api, member):
    name = unique("page")
    ids = {create_volume(api, member, name=name)["id"] for _ in range(3)}
    first = call(api, member, "GET", f"/volumes?name={name}&limit=2").json()
    assert len(first["volumes"]) == 2 and first["volumes_links"][0]["rel"] == "next"
    marker = first["volumes"][-1]["id"]
    rest = call(api, member, "GET", f"/volumes?name={name}&limit=2&marker={marker}").json()
    assert {v["id"] for v in first["volumes"] + rest["volumes"]} == ids


def test_projects_are_isolated(api, admin_token, demo_token):
    volume = create_volume(api, admin_token)
    demo_base = base(api, demo_token)
    assert api.request("GET", f"{demo_base}/volumes/{volume['id']}", demo_token).status_code == 404
    listed = api.request("GET", f"{demo_base}/volumes/detail?all_tenants=1", demo_token).json()["volumes"]
    assert volume["id"] not in {v["id"] for v in listed}
    reset = api.request("POST", f"{demo_base}/volumes/{volume['id']}/action", demo_token,
                        json={"os-reset_status": {"status": "error"}})
    assert reset.status_code == 404
    assert call(api, demo_token, "GET", "/scheduler-stats/get_pools").status_code == 403


def test_admin_reset_status_and_force_delete(api, admin_token):
    vid = create_volume(api, admin_token)["id"]
    assert call(api, admin_token, "POST", f"/volumes/{vid}/action",
                json={"os-reset_status": {"status": "in-use"}}).status_code == 202
    refused = call(api, admin_token, "DELETE", f"/volumes/{vid}")
    assert refused.status_code == 400
    assert "Volume status must be available or error" in refused.json()["badRequest"]["message"]
    assert call(api, admin_token, "POST", f"/volumes/{vid}/action", json={"os-force_delete": {}}).status_code == 202
    wait(api, admin_token, f"/volumes/{vid}", "volume", ("deleted",))


def test_snapshot_and_clone_copy_data(api, member):
    driver = api.cloud.service("volume").manager.backends.all[0].driver
    vid = create_volume(api, member)["id"]
    with open(driver.path(vid), "r+b") as fh:
        fh.seek(12345)
        fh.write(b"pocketstack data")
    response = call(api, member, "POST", "/snapshots", json={"snapshot": {"volume_id": vid, "name": "s"}})
    assert response.status_code == 202, response.text
    sid = response.json()["snapshot"]["id"]
    wait(api, member, f"/snapshots/{sid}", "snapshot", ("available",))
    from_snap = create_volume(api, member, snapshot_id=sid)
    clone = create_volume(api, member, source_volid=vid, size=2)
    for new in (from_snap, clone):
        assert new["status"] == "available"
        with open(driver.path(new["id"]), "rb") as fh:
            fh.seek(12345)
            assert fh.read(16) == b"pocketstack data"
    assert clone["size"] == 2 and from_snap["snapshot_id"] == sid
    refused = call(api, member, "DELETE", f"/volumes/{vid}")
    assert refused.status_code == 400  # it has a snapshot
    assert call(api, member, "DELETE", f"/snapshots/{sid}").status_code == 202
    wait(api, member, f"/snapshots/{sid}", "snapshot", ("deleted",))


def test_types_and_access(api, admin_token, demo_token):
    name = unique("type")
    response = call(api, admin_token, "POST", "/types", json={"volume_type": {
        "name": name, "os-volume-type-access:is_public": False, "extra_specs": {"multiattach": "<is> True"}}})
    assert response.status_code == 200, response.text
    tid = response.json()["volume_type"]["id"]
    assert call(api, demo_token, "GET", f"/types/{tid}").status_code == 404
    assert call(api, demo_token, "POST", "/types", json={"volume_type": {"name": unique()}}).status_code == 403
    demo_project = api.cloud.identity.validate_token(demo_token).project_id
    assert call(api, admin_token, "POST", f"/types/{tid}/action",
                json={"addProjectAccess": {"project": demo_project}}).status_code == 202
    assert call(api, demo_token, "GET", f"/types/{tid}").json()["volume_type"]["name"] == name
    volume = create_volume(api, demo_token, volume_type=name)
    assert volume["multiattach"] is True and volume["volume_type"] == name
    assert call(api, admin_token, "POST", "/types", json={"volume_type": {"name": name}}).status_code == 409


def new_member(api, admin_token, role: str = "member", project: dict | None = None) -> str:
    """A token for a fresh user with ``role`` (the member role by default) on ``project``
    (a fresh one by default)."""
    project = project or new_project(api, admin_token)
    user = api.request("POST", "/identity/v3/users", admin_token, json={"user": {
        "name": unique("user"), "domain_id": "default", "password": "pw-secret"}}).json()["user"]
    roles = api.request("GET", f"/identity/v3/roles?name={role}", admin_token).json()["roles"]
    assert api.request("PUT", f"/identity/v3/projects/{project['id']}/users/{user['id']}/roles/{roles[0]['id']}",
                       admin_token).status_code == 204
    return api.token(user["name"], "pw-secret", project=project["name"])


def new_project(api, admin_token) -> dict:
    return api.request("POST", "/identity/v3/projects", admin_token, json={"project": {
        "name": unique("proj"), "domain_id": "default"}}).json()["project"]


def test_quota_limits_creates(api, admin_token):
    token = new_member(api, admin_token)
    project = api.cloud.identity.validate_token(token).project_id
    response = call(api, admin_token, "PUT", f"/os-quota-sets/{project}",
                    json={"quota_set": {"volumes": 2, "gigabytes": 3}})
    assert response.status_code == 200 and response.json()["quota_set"]["volumes"] == 2
    assert call(api, admin_token, "PUT", f"/os-quota-sets/{project}",
                json={"quota_set": {"bogus": 1}}).status_code == 400
    assert call(api, token, "PUT", f"/os-quota-sets/{project}",
                json={"quota_set": {"volumes": 99}}).status_code == 403
    first = create_volume(api, token, size=2)
    over = call(api, token, "POST", "/volumes", json={"volume": {"size": 2}})
    assert over.status_code == 413 and "overLimit" in over.json()
    create_volume(api, token, size=1)
    assert call(api, token, "POST", "/volumes", json={"volume": {"size": 1}}).status_code == 413
    usage = call(api, token, "GET", f"/os-quota-sets/{project}?usage=true").json()["quota_set"]
    assert usage["volumes"] == {"limit": 2, "in_use": 2, "reserved": 0, "allocated": 0}
    assert usage["gigabytes"]["in_use"] == 3
    limits = call(api, token, "GET", "/limits").json()["limits"]["absolute"]
    assert limits["totalVolumesUsed"] == 2 and limits["maxTotalVolumes"] == 2
    call(api, token, "DELETE", f"/volumes/{first['id']}")
    wait(api, token, f"/volumes/{first['id']}", "volume", ("deleted",))
    assert call(api, token, "GET", f"/os-quota-sets/{project}?usage=true").json()[
        "quota_set"]["gigabytes"]["in_use"] == 1
    call(api, admin_token, "PUT", f"/os-quota-sets/{project}", json={"quota_set": {"per_volume_gigabytes": 1}})
    assert call(api, token, "POST", "/volumes", json={"volume": {"size": 2}}).status_code == 413
    defaults = call(api, token, "GET", f"/os-quota-sets/{project}/defaults").json()["quota_set"]
    assert defaults["volumes"] == 10


def test_attachments_never_double_attach(api, member):
    vid = create_volume(api, member)["id"]
    first = call(api, member, "POST", "/attachments", json={"attachment": {
        "volume_uuid": vid, "instance_uuid": "11111111-1111-1111-1111-111111111111"}})
    assert first.status_code == 200, first.text
    second = call(api, member, "POST", "/attachments", json={"attachment": {
        "volume_uuid": vid, "instance_uuid": "22222222-2222-2222-2222-222222222222"}})
    assert second.status_code == 400
    aid = first.json()["attachment"]["id"]
    updated = call(api, member, "PUT", f"/attachments/{aid}",
                   json={"attachment": {"connector": {"host": "h1", "mountpoint": "/dev/vdb"}}})
    assert updated.json()["attachment"]["connection_info"]["driver_volume_type"] == "file"
    assert call(api, member, "POST", f"/attachments/{aid}/action", json={"os-complete": {}}).status_code == 204
    volume = call(api, member, "GET", f"/volumes/{vid}").json()["volume"]
    assert volume["status"] == "in-use" and volume["attachments"][0]["device"] == "/dev/vdb"
    assert call(api, member, "DELETE", f"/volumes/{vid}").status_code == 400
    assert call(api, member, "DELETE", f"/attachments/{aid}").status_code == 200
    assert call(api, member, "GET", f"/volumes/{vid}").json()["volume"]["status"] == "available"
    old = api.request("GET", base(api, member) + "/attachments", member, headers={V: "volume 3.0"})
    assert old.status_code == 404


def test_pools_publish_capabilities(api, admin_token):
    pools = call(api, admin_token, "GET", "/scheduler-stats/get_pools?detail=true").json()["pools"]
    caps = pools[0]["capabilities"]
    for key in ("thin_provisioning_support", "total_capacity_gb", "free_capacity_gb", "QoS_support",
                "multiattach", "replication_enabled"):
        assert key in caps
    assert "pocketstack:sparse_files" in caps
    services = call(api, admin_token, "GET", "/os-services").json()["services"]
    assert {s["binary"] for s in services} == {"cinder-scheduler", "cinder-volume", "cinder-backup"}
    assert all(s["state"] == "up" for s in services)
    host = call(api, admin_token, "GET", "/capabilities/pocketstack@file").json()
    assert "thin_provisioning" in host["properties"] and "pocketstack:qcow2_support" in host["properties"]


def read(path, offset, length) -> bytes:
    with open(path, "rb") as fh:
        fh.seek(offset)
        return fh.read(length)


def test_backup_incremental_restore(api, member):
    driver = api.cloud.service("volume").manager.backends.all[0].driver
    vid = create_volume(api, member)["id"]
    with open(driver.path(vid), "r+b") as fh:
        fh.seek(5 << 20)
        fh.write(b"first")
    response = call(api, member, "POST", "/backups", json={"backup": {"volume_id": vid, "name": "b1"}})
    assert response.status_code == 202, response.text
    full = response.json()["backup"]["id"]
    assert wait(api, member, f"/backups/{full}", "backup", ("available", "error"))["status"] == "available"
    assert call(api, member, "GET", f"/volumes/{vid}").json()["volume"]["status"] == "available"
    with open(driver.path(vid), "r+b") as fh:
        fh.seek(900 << 20)
        fh.write(b"second")
    incr = call(api, member, "POST", "/backups", json={"backup": {"volume_id": vid, "incremental": True}})
    incr_id = incr.json()["backup"]["id"]
    shown = wait(api, member, f"/backups/{incr_id}", "backup", ("available",))
    assert shown["is_incremental"] is True and shown["object_count"] == 1
    assert call(api, member, "DELETE", f"/backups/{full}").status_code == 400  # has a child

    restored = call(api, member, "POST", f"/backups/{incr_id}/restore", json={"restore": {}})
    assert restored.status_code == 202, restored.text
    new_id = restored.json()["restore"]["volume_id"]
    wait(api, member, f"/volumes/{new_id}", "volume", ("available",))
    assert read(driver.path(new_id), 5 << 20, 5) == b"first" and read(driver.path(new_id), 900 << 20, 6) == b"second"
    assert driver.path(new_id).stat().st_size == driver.path(vid).stat().st_size

    other = create_volume(api, member)["id"]
    assert call(api, member, "POST", f"/backups/{full}/restore",
                json={"restore": {"volume_id": other}}).status_code == 202
    wait(api, member, f"/volumes/{other}", "volume", ("available",))
    assert read(driver.path(other), 5 << 20, 5) == b"first" and read(driver.path(other), 900 << 20, 6) == b"\0" * 6
    for backup_id in (incr_id, full):
        assert call(api, member, "DELETE", f"/backups/{backup_id}").status_code == 202
        wait(api, member, f"/backups/{backup_id}", "backup", ("deleted",))


def test_qos_specs_associate(api, admin_token, demo_token):
    name = unique("qos")
    created = call(api, admin_token, "POST", "/qos-specs", json={"qos_specs": {
        "name": name, "consumer": "front-end", "total_iops_sec": "500"}})
    assert created.status_code == 200, created.text
    qos = created.json()["qos_specs"]
    assert qos["specs"] == {"total_iops_sec": "500"} and qos["consumer"] == "front-end"
    assert call(api, demo_token, "GET", "/qos-specs").status_code == 403
    assert call(api, admin_token, "POST", "/qos-specs", json={"qos_specs": {"name": name}}).status_code == 409
    assert call(api, admin_token, "POST", "/qos-specs", json={"qos_specs": {
        "name": unique(), "consumer": "nowhere"}}).status_code == 400
    vtype = call(api, admin_token, "POST", "/types", json={"volume_type": {"name": unique("qt")}}).json()["volume_type"]
    assert call(api, admin_token, "GET", f"/qos-specs/{qos['id']}/associate?vol_type_id={vtype['id']}"
                ).status_code == 202
    assert call(api, admin_token, "GET", f"/types/{vtype['id']}").json()["volume_type"]["qos_specs_id"] == qos["id"]
    assocs = call(api, admin_token, "GET", f"/qos-specs/{qos['id']}/associations").json()["qos_associations"]
    assert assocs == [{"association_type": "volume_type", "name": vtype["name"], "id": vtype["id"]}]
    assert call(api, admin_token, "PUT", f"/qos-specs/{qos['id']}", json={"qos_specs": {"read_iops_sec": 9}}
                ).json() == {"qos_specs": {"read_iops_sec": "9"}}
    assert call(api, admin_token, "PUT", f"/qos-specs/{qos['id']}/delete_keys",
                json={"keys": ["total_iops_sec"]}).status_code == 202
    assert call(api, admin_token, "GET", f"/qos-specs/{qos['id']}").json()["qos_specs"]["specs"] == {
        "read_iops_sec": "9"}
    assert call(api, admin_token, "DELETE", f"/qos-specs/{qos['id']}").status_code == 400  # still associated
    assert call(api, admin_token, "GET", f"/qos-specs/{qos['id']}/disassociate?vol_type_id={vtype['id']}"
                ).status_code == 202
    assert call(api, admin_token, "DELETE", f"/qos-specs/{qos['id']}").status_code == 202
    assert call(api, admin_token, "GET", f"/qos-specs/{qos['id']}").status_code == 404


def test_racing_force_deletes_of_a_snapshot_are_never_a_500(api, admin_token):
    """The second of two force deletes may find the snapshot gone between its lookup and
    its update (the worker deleted the row): that is the snapshot's 404, not a crash."""
    from concurrent.futures import ThreadPoolExecutor

    vid = create_volume(api, admin_token)["id"]
    statuses = []
    for _ in range(8):
        sid = call(api, admin_token, "POST", "/snapshots",
                   json={"snapshot": {"volume_id": vid, "name": "s"}}).json()["snapshot"]["id"]
        wait(api, admin_token, f"/snapshots/{sid}", "snapshot", ("available",))
        with ThreadPoolExecutor(4) as pool:
            statuses += pool.map(lambda _, sid=sid: call(api, admin_token, "POST", f"/snapshots/{sid}/action",
                                                         json={"os-force_delete": {}}).status_code, range(4))
        wait(api, admin_token, f"/snapshots/{sid}", "snapshot", ("deleted",))
    assert set(statuses) <= {202, 404}, statuses
    assert call(api, admin_token, "DELETE", f"/volumes/{vid}").status_code == 202


def test_cascade_delete_takes_the_snapshots_with_the_volume(api, admin_token):
    """``DELETE /volumes/{id}?cascade=true`` (Cinder): the volume's snapshots go to
    ``deleting`` with it and are deleted first; without cascade, or with a snapshot that
    is not available or error, it is Cinder's 400 and nothing changes; quota usage of
    volumes, snapshots and gigabytes comes back to zero."""
    token = new_member(api, admin_token)
    project = api.cloud.identity.validate_token(token).project_id
    volume = create_volume(api, token)
    snapshots = []
    for _ in range(2):
        r = call(api, token, "POST", "/snapshots", json={"snapshot": {"volume_id": volume["id"]}})
        assert r.status_code == 202, r.text
        snapshots.append(wait(api, token, f"/snapshots/{r.json()['snapshot']['id']}", "snapshot", ("available",)))
    r = call(api, token, "DELETE", f"/volumes/{volume['id']}")
    assert r.status_code == 400 and "have snapshots" in r.json()["badRequest"]["message"]
    assert call(api, token, "DELETE", f"/volumes/{volume['id']}?cascade=maybe").status_code == 400
    # A snapshot being created (reset there by the admin) cannot be cascaded.
    stuck = snapshots[0]["id"]
    assert call(api, admin_token, "POST", f"/snapshots/{stuck}/action",
                json={"os-reset_status": {"status": "creating"}}).status_code == 202
    r = call(api, token, "DELETE", f"/volumes/{volume['id']}?cascade=true")
    assert r.status_code == 400, r.text
    assert {call(api, token, "GET", f"/snapshots/{s['id']}").json()["snapshot"]["status"] for s in snapshots} == \
        {"creating", "available"}
    assert call(api, token, "GET", f"/volumes/{volume['id']}").json()["volume"]["status"] == "available"
    assert call(api, admin_token, "POST", f"/snapshots/{stuck}/action",
                json={"os-reset_status": {"status": "error"}}).status_code == 202

    assert call(api, token, "DELETE", f"/volumes/{volume['id']}?cascade=True").status_code == 202
    assert wait(api, token, f"/volumes/{volume['id']}", "volume", ("deleted",)) is None
    for snapshot in snapshots:
        assert call(api, token, "GET", f"/snapshots/{snapshot['id']}").status_code == 404
    usage = call(api, token, "GET", f"/os-quota-sets/{project}?usage=true").json()["quota_set"]
    assert (usage["volumes"]["in_use"], usage["snapshots"]["in_use"], usage["gigabytes"]["in_use"]) == (0, 0, 0)
