"""Extending an attached volume (Cinder 3.42 ``os-extend`` of an ``in-use`` volume): Block
Storage grows it, puts it back ``in-use`` and sends Compute ``volume-extended``; Compute
records the ``extend_volume`` action whose ``compute_extend_volume`` event is the host
resizing the guest's disk (the fake hypervisor records the new size)."""

from __future__ import annotations

import time

import pytest
from test_volume_servers import create_volume, project, raw_image, volumes, wait_volume  # noqa: F401 - fixtures

from conftest import unique
from test_compute_helpers import call, make_flavor, wait

GiB = 1 << 30


@pytest.fixture(scope="module")
def flavor(api, admin_token):
    return make_flavor(api, admin_token, vcpus=1, ram=128, disk=1)


@pytest.fixture()
def attached(api, project, flavor, raw_image):
    token = project["token"]
    r = call(api, "POST", "/servers", token, json={"server": {
        "name": unique("ext"), "flavorRef": flavor["id"], "imageRef": raw_image, "networks": "none"}})
    server_id = r.json()["server"]["id"]
    wait(api, token, server_id)
    volume = create_volume(api, project)
    r = call(api, "POST", f"/servers/{server_id}/os-volume_attachments", token,
             json={"volumeAttachment": {"volumeId": volume["id"]}})
    assert r.status_code == 200, r.text
    wait_volume(api, project, volume["id"], ("in-use",))
    return server_id, volume["id"]


def extend(api, project, volume_id: str, new_size: int, version: str = "3.42"):
    return api.request("POST", f"/volume/v3/{project['id']}/volumes/{volume_id}/action", project["token"],
                       headers={"OpenStack-API-Version": f"volume {version}"},
                       json={"os-extend": {"new_size": new_size}})


def extend_event(api, token, server_id: str, timeout: float = 30.0) -> dict:
    """The ``compute_extend_volume`` event of the server's ``extend_volume`` action, once finished."""
    deadline = time.monotonic() + timeout
    while True:
        actions = call(api, "GET", f"/servers/{server_id}/os-instance-actions", token).json()["instanceActions"]
        action = next((a for a in actions if a["action"] == "extend_volume"), None)
        if action is not None:
            detail = call(api, "GET", f"/servers/{server_id}/os-instance-actions/{action['request_id']}",
                          token, version="2.51").json()["instanceAction"]
            event = next((e for e in detail.get("events", []) if e["event"] == "compute_extend_volume"), None)
            if event is not None and event["finish_time"]:
                return event
        assert time.monotonic() < deadline, actions
        time.sleep(0.05)


def test_extend_in_use_volume(api, admin_token, project, attached):
    server_id, volume_id = attached
    r = extend(api, project, volume_id, 2)
    assert r.status_code == 202, r.text
    volume = wait_volume(api, project, volume_id, ("in-use", "error_extending"))
    for _ in range(400):  # in-use before and after: wait for the size
        volume = volumes(api, project, path=f"/volumes/{volume_id}").json()["volume"]
        if volume["size"] == 2:
            break
        time.sleep(0.05)
    assert volume["status"] == "in-use" and volume["size"] == 2
    assert [a["server_id"] for a in volume["attachments"]] == [server_id]
    event = extend_event(api, admin_token, server_id)
    assert event["result"] == "Success"
    compute = api.cloud.service("compute").compute
    inst = compute.instances.get(server_id)
    assert compute.hosts.driver(inst.host)._guest(server_id).volume_sizes[volume_id] == 2 * GiB
    [mapping] = [b for b in compute.block_devices.for_instance(server_id) if b.volume_id == volume_id]
    assert mapping.volume_size == 2


def test_in_use_extend_needs_3_42(api, project, attached):
    _, volume_id = attached
    r = extend(api, project, volume_id, 2, version="3.41")
    assert r.status_code == 400, r.text
    assert "in-use" in r.json()["badRequest"]["message"]
    volume = volumes(api, project, path=f"/volumes/{volume_id}").json()["volume"]
    assert volume["status"] == "in-use" and volume["size"] == 1


def test_extend_must_grow(api, project, attached):
    _, volume_id = attached
    r = extend(api, project, volume_id, 1)
    assert r.status_code == 400, r.text
    assert "must be greater than current size" in r.json()["badRequest"]["message"]


def test_volume_extended_event_through_the_api(api, admin_token, project, attached):
    """What Cinder sends over Nova's API (2.51): the host resizes the disk of the volume in
    the tag; before 2.51 the event is refused (400 for it, 207 for the request)."""
    server_id, volume_id = attached
    event = {"name": "volume-extended", "server_uuid": server_id, "tag": volume_id}
    r = call(api, "POST", "/os-server-external-events", admin_token, version="2.50", json={"events": [event]})
    assert r.status_code == 207 and r.json()["events"][0]["code"] == 400, r.text
    r = call(api, "POST", "/os-server-external-events", admin_token, version="2.51", json={"events": [event]})
    assert r.status_code == 200, r.text
    assert extend_event(api, admin_token, server_id)["result"] == "Success"
    compute = api.cloud.service("compute").compute
    inst = compute.instances.get(server_id)
    assert compute.hosts.driver(inst.host)._guest(server_id).volume_sizes[volume_id] == GiB


def test_volume_extended_event_for_a_volume_not_attached(api, admin_token, project, attached):
    """Nova logs and ignores a volume the server does not have: the event still succeeds."""
    server_id, _ = attached
    other = create_volume(api, project)
    event = {"name": "volume-extended", "server_uuid": server_id, "tag": other["id"]}
    r = call(api, "POST", "/os-server-external-events", admin_token, version="2.51", json={"events": [event]})
    assert r.status_code == 200, r.text
    assert extend_event(api, admin_token, server_id)["result"] == "Success"
