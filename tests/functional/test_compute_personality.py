"""File injection (``personality``, create and rebuild before 2.57): Nova's base64 check
and ``injected_files*`` limits, the files kept with the server and given to its guest by
the metadata service (``meta_data.json`` ``files`` and ``/openstack/content/NNNN``) and
the config drive; gone from 2.57."""

from __future__ import annotations

import base64
import json

import pytest
from starlette.testclient import TestClient

from pocketstack.guestimage import configdrive
from pocketstack.metadata import signing
from pocketstack.metadata.app import build_app

from test_compute_helpers import call, make_flavor, make_image, new_member, wait

SECRET = "personality-metadata-secret"


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


@pytest.fixture(scope="module")
def setup(api, admin_token, cloud):
    member = new_member(api, admin_token)
    app = build_app(cloud.contract("compute"), cloud.network, SECRET, "novalocal")
    with TestClient(app, base_url="http://169.254.169.254") as metadata:
        yield {"member": member, "image": make_image(api, admin_token),
               "flavor": make_flavor(api, admin_token, vcpus=1, ram=64, disk=1), "metadata": metadata}


def read(setup, server_id: str, path: str):
    headers = signing.headers(SECRET, server_id, setup["member"]["project"]["id"])
    return setup["metadata"].get(path, headers=headers)


def test_injected_files_reach_the_guest(api, setup):
    token = setup["member"]["token"]
    files = [{"path": "/etc/motd", "contents": b64("hello guest\n")}, {"path": "/root/x", "contents": b64("x")}]
    r = call(api, "POST", "/servers", token, version="2.56", json={"server": {
        "name": "injected", "imageRef": setup["image"], "flavorRef": setup["flavor"]["id"], "networks": "none",
        "personality": files}})
    assert r.status_code == 202, r.text
    server_id = r.json()["server"]["id"]
    wait(api, token, server_id)
    meta = read(setup, server_id, "/openstack/latest/meta_data.json").json()
    assert meta["files"] == [{"path": "/etc/motd", "content_path": "/content/0000"},
                             {"path": "/root/x", "content_path": "/content/0001"}]
    assert read(setup, server_id, "/openstack/content/0000").content == b"hello guest\n"
    assert read(setup, server_id, "/openstack/content/0001").content == b"x"
    assert read(setup, server_id, "/openstack/content/0002").status_code == 404
    # A rebuild before 2.57 replaces them.
    r = call(api, "POST", f"/servers/{server_id}/action", token, version="2.56", json={"rebuild": {
        "imageRef": setup["image"], "personality": [{"path": "rebuild.txt", "contents": b64("again")}]}})
    assert r.status_code == 202, r.text
    wait(api, token, server_id)
    assert read(setup, server_id, "/openstack/latest/meta_data.json").json()["files"] == [
        {"path": "rebuild.txt", "content_path": "/content/0000"}]
    assert read(setup, server_id, "/openstack/content/0000").content == b"again"
    r = call(api, "POST", f"/servers/{server_id}/action", token, version="2.57", json={"rebuild": {
        "imageRef": setup["image"], "personality": []}})
    assert r.status_code == 400, r.text


@pytest.mark.parametrize("files,status", [
    ([{"path": "/a", "contents": "not base64!"}], 400),
    ([{"path": "/a"}, {"contents": b64("x"), "path": "/b", "mode": "0644"}], 400),
    ([{"path": f"/f{i}", "contents": b64("x")} for i in range(6)], 403),  # more than injected_files (5)
    ([{"path": "/" + "p" * 255, "contents": b64("x")}], 403),  # path over 255 bytes
    ([{"path": "/big", "contents": b64("x" * 10241)}], 403),  # content over 10240 bytes
])
def test_refusals(api, setup, files, status):
    r = call(api, "POST", "/servers", setup["member"]["token"], version="2.56", json={"server": {
        "name": "refused", "imageRef": setup["image"], "flavorRef": setup["flavor"]["id"], "networks": "none",
        "personality": files}})
    assert r.status_code == status, r.text
    assert ("badRequest" if status == 400 else "forbidden") in r.json()


def test_gone_from_2_57(api, setup):
    r = call(api, "POST", "/servers", setup["member"]["token"], version="2.57", json={"server": {
        "name": "late", "imageRef": setup["image"], "flavorRef": setup["flavor"]["id"], "networks": "none",
        "personality": [{"path": "/a", "contents": b64("x")}]}})
    assert r.status_code == 400, r.text


def test_the_config_drive_carries_them():
    meta = {"uuid": "u", "files": [{"path": "/etc/motd", "content_path": "/content/0000"}]}
    written = configdrive.files(meta, injected=[("0000", b"hello")])
    assert written["openstack/content/0000"] == b"hello"
    assert json.loads(written["openstack/latest/meta_data.json"])["files"][0]["content_path"] == "/content/0000"
