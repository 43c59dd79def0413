"""Block Storage behaviour cinder-tempest-plugin's API tests found missing (issue 16): the
volume type an image names, and backups owned by the project that makes them."""

from __future__ import annotations

from conftest import unique
from test_volume_api import call, create_volume, member, wait  # noqa: F401 - member is a fixture


def image_with(api, admin_token, **properties) -> dict:
    image = api.request("POST", "/image/v2/images", admin_token, json={
        "name": unique("img"), "disk_format": "raw", "container_format": "bare", "visibility": "public",
        **properties}).json()
    assert api.request("PUT", f"/image/v2/images/{image['id']}/file", admin_token, content=b"\x03" * 4096,
                       headers={"Content-Type": "application/octet-stream"}).status_code == 204
    return image


def test_volume_from_image_gets_the_type_the_image_names(api, admin_token, member):  # noqa: F811
    name = unique("imgtype")
    response = call(api, admin_token, "POST", "/types", json={"volume_type": {"name": name}})
    assert response.status_code == 200, response.text
    image = image_with(api, admin_token, cinder_img_volume_type=name)
    assert create_volume(api, member, imageRef=image["id"])["volume_type"] == name
    # A type given with the create wins; a type the image names but nobody has is the default.
    assert create_volume(api, member, imageRef=image["id"], volume_type="__DEFAULT__")["volume_type"] == "__DEFAULT__"
    missing = image_with(api, admin_token, cinder_img_volume_type=unique("notype"))
    assert create_volume(api, member, imageRef=missing["id"])["volume_type"] == "__DEFAULT__"


def backup(api, token, volume_id: str, status: int = 202, **spec) -> dict:
    response = call(api, token, "POST", "/backups", json={"backup": {"volume_id": volume_id, **spec}})
    assert response.status_code == status, response.text
    if status != 202:
        return response.json()
    return wait(api, token, f"/backups/{response.json()['backup']['id']}", "backup", ("available", "error"))


def test_backups_belong_to_the_project_that_makes_them(api, admin_token, member):  # noqa: F811
    volume = create_volume(api, member)["id"]
    mine = backup(api, member, volume)
    # The member's backup is no parent for the admin's incremental one.
    refused = backup(api, admin_token, volume, status=400, incremental=True)
    assert refused["badRequest"]["message"] == "Invalid backup: No backups available to do an incremental backup."
    full = backup(api, admin_token, volume)
    admin_project = api.cloud.identity.validate_token(admin_token).project_id
    assert full["status"] == "available" and full["id"] not in {
        b["id"] for b in call(api, member, "GET", "/backups").json()["backups"]}
    incremental = backup(api, admin_token, volume, incremental=True)
    assert incremental["is_incremental"]
    shown = call(api, admin_token, "GET", f"/backups/{full['id']}").json()["backup"]
    assert shown["has_dependent_backups"] and shown.get("os-backup-project-attr:project_id",
                                                        admin_project) == admin_project
    assert not call(api, member, "GET", f"/backups/{mine['id']}").json()["backup"]["has_dependent_backups"]
