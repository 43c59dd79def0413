"""Nova's ``/os-volumes`` and ``/os-snapshots`` proxy of the Block Storage service: the
same volumes and snapshots as the Block Storage API, in Nova's names; Nova's validation
and answers (400, 403 over quota, 404); offset/limit; gone from 2.36."""

from __future__ import annotations

import time

import pytest
from test_volume_servers import raw_image, volumes, wait_volume  # noqa: F401 - fixtures

from conftest import unique
from test_compute_helpers import call, make_flavor, new_member, wait

V235 = "2.35"


@pytest.fixture()
def project(api, admin_token):
    member = new_member(api, admin_token)
    return {"token": member["token"], "id": member["project"]["id"]}


def proxy(api, project, method, path, **kw):
    return call(api, method, path, project["token"], version=V235, **kw)


def create(api, project, **spec) -> dict:
    r = proxy(api, project, "POST", "/os-volumes", json={"volume": {"size": 1, **spec}})
    assert r.status_code == 200, r.text
    return r.json()["volume"]


def wait_proxy(api, project, kind: str, item_id: str, status: str, timeout: float = 30.0) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        r = proxy(api, project, "GET", f"/os-{kind}s/{item_id}")
        assert r.status_code == 200, r.text
        item = r.json()[kind]
        if item["status"] == status:
            return item
        assert time.monotonic() < deadline, item
        time.sleep(0.05)


def test_volume_create_show_list_delete_in_nova_names(api, project):
    r = proxy(api, project, "POST", "/os-volumes", json={"volume": {
        "size": "1", "display_name": "proxied", "display_description": "through nova",
        "metadata": {"purpose": "test"}}})
    assert r.status_code == 200, r.text
    created = r.json()["volume"]
    assert r.headers["Location"].endswith(f"/v2.1/os-volumes/{created['id']}")
    assert set(created) == {"id", "status", "size", "availabilityZone", "createdAt", "attachments", "displayName",
                            "displayDescription", "volumeType", "snapshotId", "metadata"}
    assert (created["size"], created["displayName"], created["displayDescription"]) == (1, "proxied", "through nova")
    assert created["metadata"] == {"purpose": "test"} and created["attachments"] == [{}]
    assert created["availabilityZone"] == "nova" and created["snapshotId"] is None
    shown = wait_proxy(api, project, "volume", created["id"], "available")
    # The same volume the Block Storage API shows, with its type's name.
    cinder = volumes(api, project, path=f"/volumes/{created['id']}").json()["volume"]
    assert (cinder["name"], cinder["status"], cinder["volume_type"]) == ("proxied", "available", shown["volumeType"])
    for path in ("/os-volumes", "/os-volumes/detail"):
        listed = proxy(api, project, "GET", path).json()["volumes"]
        assert [v["id"] for v in listed] == [created["id"]] and listed[0] == shown
    assert proxy(api, project, "DELETE", f"/os-volumes/{created['id']}").status_code == 202
    assert wait_volume(api, project, created["id"], ("deleted",)) is None
    r = proxy(api, project, "GET", f"/os-volumes/{created['id']}")
    assert r.status_code == 404 and r.json()["itemNotFound"]["message"] == f"Volume {created['id']} could not be found."


@pytest.mark.parametrize("size", ["#$%", "", "0", 0, -1, "1.5", None, True])
def test_volume_create_refuses_bad_sizes_with_400(api, project, size):
    r = proxy(api, project, "POST", "/os-volumes", json={"volume": {"size": size, "display_name": "bad"}})
    assert r.status_code == 400, r.text
    assert "badRequest" in r.json()
    assert volumes(api, project, path="/volumes").json()["volumes"] == []


def test_volume_create_refusals(api, project, admin_token):
    assert proxy(api, project, "POST", "/os-volumes", json={"volume": {}}).status_code == 400
    assert proxy(api, project, "POST", "/os-volumes", json={"volume": {"size": 1, "name": "x"}}).status_code == 400
    assert proxy(api, project, "POST", "/os-volumes", json={"volume": {"size": 2 ** 63}}).status_code == 400
    r = proxy(api, project, "POST", "/os-volumes", json={"volume": {"size": 1, "volume_type": "no-such-type"}})
    assert r.status_code == 404, r.text
    # Over the project's volume quota: Cinder's 413 is Nova's 403.
    r = api.request("PUT", f"/volume/v3/{project['id']}/os-quota-sets/{project['id']}", admin_token,
                    json={"quota_set": {"volumes": 1}})
    assert r.status_code == 200, r.text
    create(api, project)
    r = proxy(api, project, "POST", "/os-volumes", json={"volume": {"size": 1}})
    assert r.status_code == 403 and "forbidden" in r.json(), r.text


def test_offset_and_limit(api, project):
    made = [create(api, project, display_name=f"v{i}")["id"] for i in range(3)]
    everything = [v["id"] for v in proxy(api, project, "GET", "/os-volumes").json()["volumes"]]
    assert sorted(everything) == sorted(made)
    assert [v["id"] for v in proxy(api, project, "GET", "/os-volumes?limit=2").json()["volumes"]] == everything[:2]
    assert [v["id"] for v in proxy(api, project, "GET", "/os-volumes/detail?offset=1&limit=1").json()["volumes"]] \
        == everything[1:2]
    # limit=0 is no limit, as in Nova's common.limited.
    assert len(proxy(api, project, "GET", "/os-volumes?limit=0").json()["volumes"]) == 3
    assert proxy(api, project, "GET", "/os-volumes?limit=-1").status_code == 400
    assert proxy(api, project, "GET", "/os-volumes?offset=x").status_code == 400


def test_attached_volume_shows_its_server_and_device(api, admin_token, project, raw_image):  # noqa: F811
    flavor = make_flavor(api, admin_token, vcpus=1, ram=128, disk=1)
    token = project["token"]
    r = call(api, "POST", "/servers", token, json={"server": {
        "name": unique("vm"), "flavorRef": flavor["id"], "imageRef": raw_image, "networks": "none"}})
    server_id = r.json()["server"]["id"]
    wait(api, token, server_id)
    vol = create(api, project)
    wait_proxy(api, project, "volume", vol["id"], "available")
    r = call(api, "POST", f"/servers/{server_id}/os-volume_attachments", token,
             json={"volumeAttachment": {"volumeId": vol["id"]}})
    assert r.status_code == 200, r.text
    shown = wait_proxy(api, project, "volume", vol["id"], "in-use")
    assert shown["attachments"] == [{"id": vol["id"], "volumeId": vol["id"], "serverId": server_id,
                                     "device": "/dev/vdb"}]
    # Attached: Cinder refuses the delete, Nova relays a 400.
    r = proxy(api, project, "DELETE", f"/os-volumes/{vol['id']}")
    assert r.status_code == 400 and "badRequest" in r.json(), r.text


def test_snapshot_create_show_list_delete(api, project):
    vol = create(api, project)
    wait_proxy(api, project, "volume", vol["id"], "available")
    r = proxy(api, project, "POST", "/os-snapshots", json={"snapshot": {
        "volume_id": vol["id"], "display_name": "snap", "display_description": "of vol", "force": "false"}})
    assert r.status_code == 200, r.text
    snap = r.json()["snapshot"]
    assert set(snap) == {"id", "volumeId", "status", "size", "createdAt", "displayName", "displayDescription"}
    assert (snap["volumeId"], snap["size"], snap["displayName"], snap["displayDescription"]) == (
        vol["id"], 1, "snap", "of vol")
    shown = wait_proxy(api, project, "snapshot", snap["id"], "available")
    for path in ("/os-snapshots", "/os-snapshots/detail"):
        assert proxy(api, project, "GET", path).json()["snapshots"] == [shown]
    # A volume with a snapshot cannot be deleted (Cinder's 400).
    assert proxy(api, project, "DELETE", f"/os-volumes/{vol['id']}").status_code == 400
    assert proxy(api, project, "DELETE", f"/os-snapshots/{snap['id']}").status_code == 202
    deadline = time.monotonic() + 30
    while proxy(api, project, "GET", f"/os-snapshots/{snap['id']}").status_code != 404:
        assert time.monotonic() < deadline
        time.sleep(0.05)
    r = proxy(api, project, "DELETE", f"/os-snapshots/{snap['id']}")
    assert r.status_code == 404 and r.json()["itemNotFound"]["message"] == f"Snapshot {snap['id']} could not be found."


def test_snapshot_refusals(api, project):
    assert proxy(api, project, "POST", "/os-snapshots", json={"snapshot": {}}).status_code == 400
    r = proxy(api, project, "POST", "/os-snapshots", json={"snapshot": {"volume_id": "x", "force": "maybe"}})
    assert r.status_code == 400
    r = proxy(api, project, "POST", "/os-snapshots", json={"snapshot": {"volume_id": "no-such-volume"}})
    assert r.status_code == 404


def test_other_projects_volumes_are_404_and_readers_only_read(api, admin_token, project):
    vol = create(api, project)
    other = new_member(api, admin_token)
    r = call(api, "GET", f"/os-volumes/{vol['id']}", other["token"], version=V235)
    assert r.status_code == 404
    assert call(api, "GET", "/os-volumes", other["token"], version=V235).json()["volumes"] == []
    assert call(api, "DELETE", f"/os-volumes/{vol['id']}", other["token"], version=V235).status_code == 404
    reader = new_member(api, admin_token, role="reader", project=other["project"])
    assert call(api, "GET", "/os-volumes", reader["token"], version=V235).status_code == 200
    r = call(api, "POST", "/os-volumes", reader["token"], version=V235, json={"volume": {"size": 1}})
    assert r.status_code == 403


def test_gone_from_2_36(api, project):
    for method, path in (("GET", "/os-volumes"), ("GET", "/os-snapshots/detail"), ("POST", "/os-volumes")):
        r = call(api, method, path, project["token"], version="2.36", json={"volume": {"size": 1}})
        assert r.status_code == 404, (method, path, r.text)
