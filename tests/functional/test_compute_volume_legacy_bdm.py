"""The legacy ``block_device_mapping`` (v1) of a server create: Nova's 2.1 schema, its
conversion to v2 (``BlockDeviceDict.from_legacy``: a volume mapped to ``vda`` is the root,
any other one is attached beside the image) and its 400s."""

from __future__ import annotations

import pytest
from test_volume_servers import create_volume, project, raw_image, wait_volume  # noqa: F401 - fixtures

from conftest import unique
from test_compute_helpers import call, make_flavor, wait, wait_gone


@pytest.fixture(scope="module")
def flavor(api, admin_token):
    return make_flavor(api, admin_token, vcpus=1, ram=128, disk=1)


def create(api, token, flavor_id: str, expect: int = 202, **server):
    body = {"server": {"name": unique("legacy"), "flavorRef": flavor_id, "networks": "none", **server}}
    r = call(api, "POST", "/servers", token, json=body)
    assert r.status_code == expect, r.text
    return r.json()


def attachments(api, token, server_id: str) -> list[dict]:
    r = call(api, "GET", f"/servers/{server_id}/os-volume_attachments", token)
    assert r.status_code == 200, r.text
    return r.json()["volumeAttachments"]


def test_legacy_volume_beside_the_image(api, project, flavor, raw_image):
    """cinder-tempest-plugin's incremental backup test: an image-booted server with a v1
    mapping naming only a volume (and delete_on_termination '0')."""
    token = project["token"]
    volume = create_volume(api, project)
    server_id = create(api, token, flavor["id"], imageRef=raw_image,
                       block_device_mapping=[{"volume_id": volume["id"], "delete_on_termination": "0"}])["server"]["id"]
    server = wait(api, token, server_id)
    assert server["status"] == "ACTIVE"
    assert server["image"]["id"] == raw_image  # the image is the root disk
    [attached] = attachments(api, token, server_id)
    assert attached["volumeId"] == volume["id"] and attached["device"] == "/dev/vdb"
    assert wait_volume(api, project, volume["id"], ("in-use",))["attachments"][0]["server_id"] == server_id
    assert call(api, "DELETE", f"/servers/{server_id}", token).status_code == 204
    wait_gone(api, token, server_id)
    assert wait_volume(api, project, volume["id"], ("available",))["id"] == volume["id"]  # not deleted


def test_legacy_volume_on_vda_is_the_root(api, project, flavor, raw_image):
    token = project["token"]
    volume = create_volume(api, project, imageRef=raw_image)
    server_id = create(api, token, flavor["id"], block_device_mapping=[
        {"volume_id": volume["id"], "device_name": "vda", "delete_on_termination": True}])["server"]["id"]
    server = wait(api, token, server_id)
    assert server["status"] == "ACTIVE" and server["image"] == ""  # volume-backed: no image recorded
    [attached] = attachments(api, token, server_id)
    assert attached["device"] == "/dev/vda"
    assert call(api, "DELETE", f"/servers/{server_id}", token).status_code == 204
    wait_gone(api, token, server_id)
    wait_volume(api, project, volume["id"], ("deleted",))  # delete_on_termination honoured


def test_legacy_snapshot_becomes_a_new_volume(api, project, flavor, raw_image):
    token = project["token"]
    source = create_volume(api, project)
    r = api.request("POST", f"/volume/v3/{project['id']}/snapshots", token,
                    json={"snapshot": {"volume_id": source["id"], "name": unique("snap")}})
    assert r.status_code == 202, r.text
    snapshot_id = r.json()["snapshot"]["id"]
    server_id = create(api, token, flavor["id"], imageRef=raw_image, block_device_mapping=[
        {"snapshot_id": snapshot_id, "device_name": "/dev/vdc", "volume_size": 1,
         "delete_on_termination": "true"}])["server"]["id"]
    assert wait(api, token, server_id)["status"] == "ACTIVE"
    [attached] = attachments(api, token, server_id)
    assert attached["volumeId"] != source["id"] and attached["device"] == "/dev/vdc"
    made = wait_volume(api, project, attached["volumeId"], ("in-use",))
    assert made["snapshot_id"] == snapshot_id


def test_both_syntaxes_are_refused(api, project, flavor, raw_image):
    volume = create_volume(api, project)
    body = create(api, project["token"], flavor["id"], expect=400, imageRef=raw_image,
                  block_device_mapping=[{"volume_id": volume["id"]}],
                  block_device_mapping_v2=[{"uuid": volume["id"], "source_type": "volume",
                                            "destination_type": "volume"}])
    assert body["badRequest"]["message"] == ("Using different block_device_mapping syntaxes is not allowed "
                                             "in the same request.")
    assert wait_volume(api, project, volume["id"], ("available",))["attachments"] == []


@pytest.mark.parametrize("item, words", [
    ({"device_name": "vdb"}, "Block Device Mapping is Invalid: Unrecognized legacy format."),
    ({"volume_id": "not-a-uuid"}, "volume_id"),
    ({"volume_id": "8d5853f7-56e7-4988-9b0c-48cea3c7049a", "source_type": "volume"}, "source_type"),
    ({"volume_id": "8d5853f7-56e7-4988-9b0c-48cea3c7049a", "device_name": "bad name"}, "device_name"),
    ({"volume_id": "8d5853f7-56e7-4988-9b0c-48cea3c7049a", "volume_size": 0}, "volume_size"),
    ({"volume_id": "8d5853f7-56e7-4988-9b0c-48cea3c7049a", "delete_on_termination": "maybe"},
     "delete_on_termination"),
])
def test_bad_legacy_items_are_400(api, project, flavor, raw_image, item, words):
    body = create(api, project["token"], flavor["id"], expect=400, imageRef=raw_image, block_device_mapping=[item])
    assert words in body["badRequest"]["message"]


def test_legacy_volume_that_does_not_exist(api, project, flavor, raw_image):
    missing = "8d5853f7-56e7-4988-9b0c-48cea3c7049a"
    body = create(api, project["token"], flavor["id"], expect=400, imageRef=raw_image,
                  block_device_mapping=[{"volume_id": missing}])
    assert missing in body["badRequest"]["message"]


def test_no_device_and_swap_items_map_no_volume(api, project, flavor, raw_image):
    token = project["token"]
    server_id = create(api, token, flavor["id"], imageRef=raw_image, block_device_mapping=[
        {"device_name": "vdb", "no_device": True}, {"virtual_name": "swap", "device_name": "vdc"}])["server"]["id"]
    assert wait(api, token, server_id)["status"] == "ACTIVE"
    assert attachments(api, token, server_id) == []
