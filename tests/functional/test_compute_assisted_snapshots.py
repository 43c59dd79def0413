"""``/os-assisted-volume-snapshots``: the service API Cinder's remotefs drivers call --
Nova's validation and 400s, the service-or-admin policy, the cast to the host of the
server the volume is attached to, and the failure reported on the Block Storage
snapshot."""

from __future__ import annotations

import json
import time
import uuid

import pytest
from test_volume_servers import create_volume, raw_image, volumes, wait_volume  # noqa: F401 - fixtures

from conftest import unique
from test_compute_helpers import call, make_flavor, new_member, wait

PATH = "/os-assisted-volume-snapshots"


@pytest.fixture()
def attached(api, admin_token, raw_image):  # noqa: F811
    """A server of a fresh project with a volume attached (in-use)."""
    member = new_member(api, admin_token)
    project = {"token": member["token"], "id": member["project"]["id"]}
    flavor = make_flavor(api, admin_token, vcpus=1, ram=128, disk=1)
    r = call(api, "POST", "/servers", project["token"], json={"server": {
        "name": unique("avs"), "flavorRef": flavor["id"], "imageRef": raw_image, "networks": "none"}})
    server_id = r.json()["server"]["id"]
    wait(api, project["token"], server_id)
    volume = create_volume(api, project)
    r = call(api, "POST", f"/servers/{server_id}/os-volume_attachments", project["token"],
             json={"volumeAttachment": {"volumeId": volume["id"]}})
    assert r.status_code == 200, r.text
    wait_volume(api, project, volume["id"], ("in-use",))
    return project, server_id, volume["id"]


def _create_info(snapshot_id: str) -> dict:
    return {"snapshot_id": snapshot_id, "type": "qcow2", "new_file": "volume-x.snap"}


def console(api, token, server_id: str) -> str:
    r = call(api, "POST", f"/servers/{server_id}/action", token, json={"os-getConsoleOutput": {}})
    assert r.status_code == 200, r.text
    return r.json()["output"]


def wait_console(api, admin_token, server_id: str, text: str, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while text not in console(api, admin_token, server_id):
        assert time.monotonic() < deadline, text
        time.sleep(0.05)


def test_create_and_delete_reach_the_servers_host(api, admin_token, attached):
    _, server_id, volume_id = attached
    snapshot_id = str(uuid.uuid4())
    r = call(api, "POST", PATH, admin_token, json={"snapshot": {
        "volume_id": volume_id, "create_info": {**_create_info(snapshot_id), "id": snapshot_id}}})
    assert r.status_code == 200, r.text
    assert r.json() == {"snapshot": {"id": snapshot_id, "volumeId": volume_id}}
    wait_console(api, admin_token, server_id, f"disk {volume_id} now on overlay volume-x.snap")
    # Without ``id`` in create_info, Nova answers a null id.
    r = call(api, "POST", PATH, admin_token, json={"snapshot": {"volume_id": volume_id,
                                                                "create_info": _create_info(snapshot_id)}})
    assert r.json() == {"snapshot": {"id": None, "volumeId": volume_id}}
    delete_info = json.dumps({"volume_id": volume_id, "type": "qcow2", "file_to_merge": "volume-x.snap"})
    r = call(api, "DELETE", f"{PATH}/{snapshot_id}", admin_token, params={"delete_info": delete_info})
    assert r.status_code == 204, r.text
    wait_console(api, admin_token, server_id, f"disk {volume_id} snapshot {snapshot_id} merged")


def test_refusals(api, admin_token, attached):
    project, _, volume_id = attached
    good = {"snapshot": {"volume_id": volume_id, "create_info": _create_info(str(uuid.uuid4()))}}
    # A project member is neither a service user nor an admin.
    assert call(api, "POST", PATH, project["token"], json=good).status_code == 403
    bad_bodies = [{}, {"snapshot": {"volume_id": volume_id}},
                  {"snapshot": {"volume_id": volume_id, "create_info": {**_create_info("s"), "type": "raw"}}},
                  {"snapshot": {"volume_id": volume_id, "create_info": {"snapshot_id": "s", "type": "qcow2"}}},
                  {"snapshot": {"volume_id": "", "create_info": _create_info("s")}}]
    for bad in bad_bodies:
        r = call(api, "POST", PATH, admin_token, json=bad)
        assert r.status_code == 400 and "badRequest" in r.json(), (bad, r.text)
    # A volume attached to no server: Nova's VolumeBDMNotFound, a 400.
    unattached = str(uuid.uuid4())
    r = call(api, "POST", PATH, admin_token, json={"snapshot": {"volume_id": unattached,
                                                                "create_info": _create_info("s")}})
    assert r.status_code == 400
    assert r.json()["badRequest"]["message"] == f"No volume Block Device Mapping with id {unattached}."
    for query in ({}, {"delete_info": "not json"}, {"delete_info": "{}"}, {"delete_info": "[1]"},
                  {"delete_info": json.dumps({"volume_id": unattached})}):
        r = call(api, "DELETE", f"{PATH}/{uuid.uuid4()}", admin_token, params=query)
        assert r.status_code == 400 and "badRequest" in r.json(), (query, r.text)
    assert call(api, "DELETE", f"{PATH}/x", project["token"],
                params={"delete_info": json.dumps({"volume_id": volume_id})}).status_code == 403


def test_a_disk_the_guest_lacks_sets_the_snapshot_to_error(api, admin_token, attached):
    """The host's hypervisor cannot snapshot a volume that is not one of the guest's
    disks; as Nova's libvirt driver, the host reports ``error`` on the snapshot."""
    project, server_id, volume_id = attached
    other = create_volume(api, project)
    r = volumes(api, project, "POST", "/snapshots", json={"snapshot": {"volume_id": other["id"], "name": "s"}})
    snapshot_id = r.json()["snapshot"]["id"]
    deadline = time.monotonic() + 30
    while volumes(api, project, path=f"/snapshots/{snapshot_id}").json()["snapshot"]["status"] != "available":
        assert time.monotonic() < deadline
        time.sleep(0.05)
    # The remotefs driver's snapshot is ``creating`` while the hypervisor works on it.
    r = api.request("POST", f"/volume/v3/{project['id']}/snapshots/{snapshot_id}/action", admin_token,
                    json={"os-reset_status": {"status": "creating"}})
    assert r.status_code == 202, r.text
    # The host is asked about a volume its guest does not have (as a cast for a volume
    # detached meanwhile would): the hypervisor refuses, the snapshot goes to error.
    compute = api.cloud.service("compute").compute
    compute.manager.volume_snapshot_create(server_id, other["id"], _create_info(snapshot_id))
    assert volumes(api, project, path=f"/snapshots/{snapshot_id}").json()["snapshot"]["status"] == "error"
    # ...while the attached volume's snapshot goes through.
    compute.manager.volume_snapshot_create(server_id, volume_id, _create_info(snapshot_id))
    assert f"disk {volume_id} now on overlay" in console(api, admin_token, server_id)
