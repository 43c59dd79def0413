"""A volume's image metadata: recorded from the image at create, inherited by a clone,
and changed with ``os-set_image_metadata`` / ``os-unset_image_metadata``, read with
``os-show_image_metadata`` and in the volume's detail view."""

from __future__ import annotations

from conftest import unique
from test_volume_api import call, create_volume, member  # noqa: F401 - member is a fixture


def action(api, token, vid, name, args):
    return call(api, token, "POST", f"/volumes/{vid}/action", json={name: args})


def test_image_metadata_lifecycle(api, admin_token, member):  # noqa: F811
    image = api.request("POST", "/image/v2/images", admin_token, json={
        "name": unique("img"), "disk_format": "raw", "container_format": "bare", "visibility": "public"}).json()
    assert api.request("PUT", f"/image/v2/images/{image['id']}/file", admin_token, content=b"\x01" * 4096,
                       headers={"Content-Type": "application/octet-stream"}).status_code == 204
    volume = create_volume(api, member, imageRef=image["id"])
    assert volume["status"] == "available"
    recorded = volume["volume_image_metadata"]
    assert recorded["image_id"] == image["id"] and recorded["image_name"] == image["name"]
    assert recorded["disk_format"] == "raw" and recorded["size"] == "4096"

    changed = action(api, member, volume["id"], "os-set_image_metadata",
                     {"metadata": {"kernel_id": "k-1", "ramdisk_id": "somedisk", "image_name": "renamed"}})
    assert changed.status_code == 200, changed.text
    assert changed.json()["metadata"]["kernel_id"] == "k-1" and changed.json()["metadata"]["image_id"] == image["id"]
    shown = call(api, member, "GET", f"/volumes/{volume['id']}").json()["volume"]["volume_image_metadata"]
    assert shown["image_name"] == "renamed" and shown["ramdisk_id"] == "somedisk"

    assert action(api, member, volume["id"], "os-unset_image_metadata", {"key": "ramdisk_id"}).status_code == 200
    assert action(api, member, volume["id"], "os-unset_image_metadata", {"key": "ramdisk_id"}).status_code == 404
    listed = action(api, member, volume["id"], "os-show_image_metadata", None)
    assert listed.status_code == 200 and "ramdisk_id" not in listed.json()["metadata"]
    assert listed.json()["metadata"]["kernel_id"] == "k-1"

    clone = create_volume(api, member, source_volid=volume["id"])
    assert clone["volume_image_metadata"] == listed.json()["metadata"]

    assert action(api, member, volume["id"], "os-set_image_metadata", {"meta": {}}).status_code == 400
    assert action(api, member, volume["id"], "os-set_image_metadata", {"metadata": {"k": ["x"]}}).status_code == 400
    assert action(api, member, volume["id"], "os-unset_image_metadata", {}).status_code == 400


def test_plain_volume_has_no_image_metadata(api, member):  # noqa: F811
    volume = create_volume(api, member)
    assert "volume_image_metadata" not in volume
    shown = action(api, member, volume["id"], "os-show_image_metadata", {})
    assert shown.status_code == 200 and shown.json() == {"metadata": {}}
