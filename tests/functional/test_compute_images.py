"""Nova's image proxy (``/v2.1/images``, gone from 2.36): list, show, metadata and
delete through the image service with the caller's own rights."""

from __future__ import annotations

import pytest

from conftest import unique
from test_compute_helpers import call, make_image, new_member


@pytest.fixture(scope="module")
def owner(api, admin_token):
    return new_member(api, admin_token)


@pytest.fixture()
def image(api, owner):
    body = {"name": unique("pimg"), "disk_format": "raw", "container_format": "bare", "min_ram": 64,
            "purpose": "proxy"}
    created = api.request("POST", "/image/v2/images", owner["token"], json=body).json()
    api.request("PUT", f"/image/v2/images/{created['id']}/file", owner["token"], content=b"bytes",
                headers={"Content-Type": "application/octet-stream"})
    return created


def test_list_show_and_filters(api, owner, image):
    token = owner["token"]
    listed = call(api, "GET", "/images", token, version="2.1").json()["images"]
    entry = next(i for i in listed if i["id"] == image["id"])
    assert set(entry) == {"id", "name", "links"} and entry["name"] == image["name"]
    shown = call(api, "GET", f"/images/{image['id']}", token, version="2.1").json()["image"]
    assert shown["status"] == "ACTIVE" and shown["progress"] == 100 and shown["minRam"] == 64
    assert shown["metadata"] == {"purpose": "proxy"} and shown["OS-EXT-IMG-SIZE:size"] == 5
    by_name = call(api, "GET", f"/images/detail?name={image['name']}", token, version="2.1").json()["images"]
    assert [i["id"] for i in by_name] == [image["id"]]
    saving = call(api, "GET", "/images/detail?status=SAVING", token, version="2.1").json()["images"]
    assert image["id"] not in [i["id"] for i in saving]
    bigger = call(api, "GET", "/images/detail?minRam=65", token, version="2.1").json()["images"]
    assert image["id"] not in [i["id"] for i in bigger]
    assert call(api, "GET", "/images/detail?status=bogus", token, version="2.1").status_code == 400
    r = call(api, "GET", f"/images/{image['id']}", token, version="2.36")
    assert r.status_code == 404 and "itemNotFound" in r.json()
    r = call(api, "GET", "/images/00000000-0000-0000-0000-000000000000", token, version="2.1")
    assert r.status_code == 404 and r.json()["itemNotFound"]["message"] == "Image not found."


def test_metadata_and_delete(api, owner, demo_token, image):
    token, path = owner["token"], f"/images/{image['id']}/metadata"
    r = call(api, "POST", path, token, version="2.1", json={"metadata": {"a": "1"}})
    assert r.status_code == 200 and r.json()["metadata"] == {"purpose": "proxy", "a": "1"}
    r = call(api, "PUT", path, token, version="2.1", json={"metadata": {"b": "2"}})
    assert r.json()["metadata"] == {"b": "2"}
    r = call(api, "PUT", f"{path}/c", token, version="2.1", json={"meta": {"c": "3"}})
    assert r.status_code == 200 and r.json() == {"meta": {"c": "3"}}
    assert call(api, "GET", f"{path}/c", token, version="2.1").json() == {"meta": {"c": "3"}}
    assert call(api, "PUT", f"{path}/c", token, version="2.1", json={"meta": {"d": "4"}}).status_code == 400
    assert call(api, "DELETE", f"{path}/c", token, version="2.1").status_code == 204
    assert call(api, "GET", f"{path}/c", token, version="2.1").status_code == 404
    assert call(api, "GET", path, token, version="2.1").json() == {"metadata": {"b": "2"}}
    too_many = {f"k{i}": "v" for i in range(129)}
    assert call(api, "POST", path, token, version="2.1", json={"metadata": too_many}).status_code == 403
    # Someone else's private image does not exist for the caller.
    assert call(api, "DELETE", f"/images/{image['id']}", demo_token, version="2.1").status_code == 404
    assert call(api, "DELETE", f"/images/{image['id']}", token, version="2.1").status_code == 204
    assert call(api, "GET", f"/images/{image['id']}", token, version="2.1").status_code == 404


def test_public_images_are_listed_for_everyone(api, admin_token, demo_token):
    image_id = make_image(api, admin_token)
    listed = call(api, "GET", "/images/detail", demo_token, version="2.1").json()["images"]
    assert image_id in [i["id"] for i in listed]
