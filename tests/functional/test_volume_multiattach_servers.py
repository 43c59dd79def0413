"""Multiattach volumes and servers: a volume type with ``multiattach="<is> True"`` makes
volumes Compute attaches to several servers from 2.60 (400 before, Nova's words), Nova's
``_check_volume_already_attached`` for the others, detaches that leave the volume in-use
while another server has it, boot from a multiattach volume, and the hypervisor told the
disk is shared."""

from __future__ import annotations

import time

import pytest
from test_volume_servers import create_volume, project, raw_image, volumes, wait_volume  # noqa: F401 - fixtures

from conftest import unique
from test_compute_helpers import call, make_flavor, wait


@pytest.fixture(scope="module")
def flavor(api, admin_token):
    return make_flavor(api, admin_token, vcpus=1, ram=128, disk=1)


@pytest.fixture(scope="module")
def multiattach_type(api, admin_token) -> str:
    r = api.request("GET", "/identity/v3/auth/tokens", admin_token, headers={"X-Subject-Token": admin_token})
    project_id = r.json()["token"]["project"]["id"]
    name = unique("multi")
    r = api.request("POST", f"/volume/v3/{project_id}/types", admin_token, json={"volume_type": {
        "name": name, "extra_specs": {"multiattach": "<is> True"}}})
    assert r.status_code == 200, r.text
    return name


def server(api, token, flavor_id: str, image_id: str) -> str:
    r = call(api, "POST", "/servers", token, json={"server": {
        "name": unique("ma"), "flavorRef": flavor_id, "imageRef": image_id, "networks": "none"}})
    assert r.status_code == 202, r.text
    server_id = r.json()["server"]["id"]
    assert wait(api, token, server_id)["status"] == "ACTIVE"
    return server_id


def attach(api, token, server_id: str, volume_id: str, version: str = "2.60", expect: int = 200):
    r = call(api, "POST", f"/servers/{server_id}/os-volume_attachments", token, version=version,
             json={"volumeAttachment": {"volumeId": volume_id}})
    assert r.status_code == expect, r.text
    return r.json()


def detach(api, token, server_id: str, volume_id: str) -> None:
    r = call(api, "DELETE", f"/servers/{server_id}/os-volume_attachments/{volume_id}", token, version="2.60")
    assert r.status_code == 202, r.text


def guest_disks(api, server_id: str) -> dict[str, str]:
    compute = api.cloud.service("compute").compute
    host = compute.instances.get(server_id).host
    return dict(compute.hosts.driver(host)._guest(server_id).volumes)


def wait_attached(api, project, volume_id: str, count: int, timeout: float = 30.0) -> dict:
    """The volume once exactly ``count`` attachments show (an in-use volume stays in-use
    while a second server's attachment completes or a first one's detach ends)."""
    deadline = time.monotonic() + timeout
    while True:
        shown = volumes(api, project, path=f"/volumes/{volume_id}").json()["volume"]
        if len(shown["attachments"]) == count and shown["status"] in ("in-use", "available"):
            return shown
        assert time.monotonic() < deadline, shown
        time.sleep(0.05)


def test_attach_to_two_servers_and_detach_one_by_one(api, project, flavor, raw_image, multiattach_type):
    token = project["token"]
    one, two = (server(api, token, flavor["id"], raw_image) for _ in range(2))
    volume = create_volume(api, project, volume_type=multiattach_type)
    assert volume["multiattach"] is True
    attach(api, token, one, volume["id"])
    wait_volume(api, project, volume["id"], ("in-use",))
    attach(api, token, two, volume["id"])
    shown = wait_attached(api, project, volume["id"], 2)
    assert shown["status"] == "in-use"
    assert sorted(a["server_id"] for a in shown["attachments"]) == sorted([one, two])
    for server_id in (one, two):
        assert volume["id"] in guest_disks(api, server_id)
        [listed] = call(api, "GET", f"/servers/{server_id}/os-volume_attachments", token,
                        version="2.60").json()["volumeAttachments"]
        assert listed["volumeId"] == volume["id"]
    # The same server twice: Nova's 400.
    body = attach(api, token, one, volume["id"], expect=400)
    assert body["badRequest"]["message"] == f"Invalid volume: volume {volume['id']} already attached"
    detach(api, token, one, volume["id"])
    # The detach of one server's attachment leaves the other's: still in-use.
    shown = wait_attached(api, project, volume["id"], 1)
    assert shown["status"] == "in-use" and [a["server_id"] for a in shown["attachments"]] == [two]
    assert volume["id"] not in guest_disks(api, one) and volume["id"] in guest_disks(api, two)
    detach(api, token, two, volume["id"])
    assert wait_volume(api, project, volume["id"], ("available",))["attachments"] == []


def test_multiattach_needs_2_60(api, project, flavor, raw_image, multiattach_type):
    token = project["token"]
    server_id = server(api, token, flavor["id"], raw_image)
    volume = create_volume(api, project, volume_type=multiattach_type)
    body = attach(api, token, server_id, volume["id"], version="2.59", expect=400)
    assert body["badRequest"]["message"] == ("Multiattach volumes are only supported starting with compute API "
                                             "version 2.60.")
    assert wait_volume(api, project, volume["id"], ("available",))["attachments"] == []


def test_plain_volume_stays_single_attach(api, project, flavor, raw_image):
    token = project["token"]
    one, two = (server(api, token, flavor["id"], raw_image) for _ in range(2))
    volume = create_volume(api, project)
    assert volume["multiattach"] is False
    attach(api, token, one, volume["id"])
    wait_volume(api, project, volume["id"], ("in-use",))
    body = attach(api, token, two, volume["id"], expect=400)
    assert body["badRequest"]["message"] == (f"Invalid volume: volume {volume['id']} is already attached to "
                                             f"instances: {one}")


def test_boot_from_multiattach_volume(api, project, flavor, raw_image, multiattach_type):
    token = project["token"]
    volume = create_volume(api, project, volume_type=multiattach_type, imageRef=raw_image)
    mapping = [{"uuid": volume["id"], "source_type": "volume", "destination_type": "volume", "boot_index": 0,
                "delete_on_termination": False}]
    body = {"server": {"name": unique("mabfv"), "flavorRef": flavor["id"], "networks": "none",
                       "block_device_mapping_v2": mapping}}
    r = call(api, "POST", "/servers", token, version="2.59", json=body)
    assert r.status_code == 400, r.text
    assert "2.60" in r.json()["badRequest"]["message"]
    r = call(api, "POST", "/servers", token, version="2.60", json=body)
    assert r.status_code == 202, r.text
    first = r.json()["server"]["id"]
    assert wait(api, token, first)["status"] == "ACTIVE"
    # In use by the first server, the volume may still be given to another one at boot.
    mapping[0]["boot_index"] = -1
    r = call(api, "POST", "/servers", token, version="2.60", json={"server": {
        **body["server"], "imageRef": raw_image, "block_device_mapping_v2": mapping}})
    assert r.status_code == 202, r.text
    second = r.json()["server"]["id"]
    assert wait(api, token, second)["status"] == "ACTIVE"
    shown = wait_attached(api, project, volume["id"], 2)
    assert sorted(a["server_id"] for a in shown["attachments"]) == sorted([first, second])


def test_no_multiattach_to_shelved_offloaded(api, project, flavor, raw_image, multiattach_type):
    token = project["token"]
    server_id = server(api, token, flavor["id"], raw_image)
    assert call(api, "POST", f"/servers/{server_id}/action", token, json={"shelve": None}).status_code == 202
    wait(api, token, server_id, until=("SHELVED_OFFLOADED",))  # shelved_offload_time = 0: offloaded at once
    volume = create_volume(api, project, volume_type=multiattach_type)
    body = attach(api, token, server_id, volume["id"], expect=400)
    assert body["badRequest"]["message"] == ("Attaching multiattach volumes is not supported for "
                                             "shelved-offloaded instances.")


def test_swap_of_a_multiattached_volume_is_refused(api, admin_token, project, flavor, raw_image, multiattach_type):
    """Tempest's TestMultiAttachVolumeSwap (skipped there with two compute hosts): a
    read-only multiattach volume on two servers, the admin's swap refused as Nova refuses
    any swap Cinder did not start (409, the volume is not migrating), nothing changed."""
    token = project["token"]
    one, two = (server(api, token, flavor["id"], raw_image) for _ in range(2))
    volume = create_volume(api, project, volume_type=multiattach_type)
    spare = create_volume(api, project, volume_type=multiattach_type)
    r = api.request("POST", f"/volume/v3/{project['id']}/volumes/{volume['id']}/action", admin_token,
                    json={"os-update_readonly_flag": {"readonly": True}})
    assert r.status_code == 202, r.text
    for server_id in (one, two):
        attach(api, token, server_id, volume["id"])
    wait_attached(api, project, volume["id"], 2)
    r = call(api, "PUT", f"/servers/{one}/os-volume_attachments/{volume['id']}", admin_token, version="2.60",
             json={"volumeAttachment": {"volumeId": spare["id"]}})
    assert r.status_code == 409, r.text
    assert sorted(a["server_id"] for a in wait_attached(api, project, volume["id"], 2)["attachments"]) == sorted(
        [one, two])
    assert wait_volume(api, project, spare["id"], ("available",))["attachments"] == []
