"""``meta_data.json``'s ``devices``: the device tags of a server's volumes and ports
(``networks[].tag`` and ``block_device_mapping_v2[].tag`` at boot, 2.42; tagged
``os-interface`` and ``os-volume_attachments`` attaches, 2.49), as Tempest's
test_device_tagging reads them from inside the guest.  The metadata API in process, the
servers made through the compute API on the fake hosts."""

from __future__ import annotations

import time

import pytest
from starlette.testclient import TestClient
from test_volume_servers import create_volume, project, raw_image, wait_volume  # noqa: F401 - fixtures

from pocketstack.metadata import openstack, signing
from pocketstack.metadata.app import build_app

from conftest import unique
from test_compute_helpers import call, make_flavor, wait, wait_gone

NET = "/network/v2.0"
SECRET = "device-tag-metadata-secret"


@pytest.fixture(scope="module")
def client(cloud):
    app = build_app(cloud.compute, cloud.network, SECRET, "novalocal")
    with TestClient(app, base_url="http://169.254.169.254") as client:
        yield client


@pytest.fixture(scope="module")
def flavor(api, admin_token):
    return make_flavor(api, admin_token, vcpus=1, ram=128, disk=1)


def network(api, token: str, cidr: str) -> str:
    net = api.request("POST", f"{NET}/networks", token, json={"network": {"name": unique("tagnet")}}).json()
    r = api.request("POST", f"{NET}/subnets", token, json={"subnet": {
        "network_id": net["network"]["id"], "ip_version": 4, "cidr": cidr}})
    assert r.status_code == 201, r.text
    return net["network"]["id"]


def devices(client, project, server_id: str, version: str = "latest") -> list[dict]:
    r = client.get(f"/openstack/{version}/meta_data.json",
                   headers=signing.headers(SECRET, server_id, project["id"]))
    assert r.status_code == 200, r.text
    return r.json()["devices"]


def ports_by_network(api, token: str, server_id: str) -> dict[str, list[dict]]:
    out: dict[str, list[dict]] = {}
    for port in api.request("GET", f"{NET}/ports?device_id={server_id}", token).json()["ports"]:
        out.setdefault(port["network_id"], []).append(port)
    return out


def test_tags_given_at_boot(api, client, project, flavor, raw_image):
    token = project["token"]
    net1, net2 = network(api, token, "10.61.0.0/24"), network(api, token, "10.62.0.0/24")
    boot_volume = create_volume(api, project, imageRef=raw_image)
    other, untagged = create_volume(api, project), create_volume(api, project)
    r = call(api, "POST", "/servers", token, version="2.42", json={"server": {
        "name": unique("tagged"), "flavorRef": flavor["id"],
        "networks": [{"uuid": net1, "tag": "net-1"}, {"uuid": net2}],
        "block_device_mapping_v2": [
            {"uuid": boot_volume["id"], "source_type": "volume", "destination_type": "volume", "boot_index": 0,
             "tag": "boot"},
            {"uuid": other["id"], "source_type": "volume", "destination_type": "volume", "boot_index": 1,
             "tag": "other"},
            {"uuid": untagged["id"], "source_type": "volume", "destination_type": "volume", "boot_index": 2}]}})
    assert r.status_code == 202, r.text
    server_id = r.json()["server"]["id"]
    try:
        assert wait(api, token, server_id)["status"] == "ACTIVE"
        mac = ports_by_network(api, token, server_id)[net1][0]["mac_address"]
        # Disks first (boot order), then NICs; untagged devices are left out, as in Nova.
        assert devices(client, project, server_id) == [
            {"type": "disk", "serial": boot_volume["id"], "bus": "none", "address": "none", "tags": ["boot"]},
            {"type": "disk", "serial": other["id"], "bus": "none", "address": "none", "tags": ["other"]},
            {"type": "nic", "mac": mac, "vf_trusted": False, "bus": "none", "address": "none", "tags": ["net-1"]}]
        # vf_trusted came with Rocky; Newton's first version already had the list.
        newton = devices(client, project, server_id, openstack.NEWTON_ONE)
        assert [d.get("vf_trusted") for d in newton] == [None, None, None]
    finally:
        call(api, "DELETE", f"/servers/{server_id}", token)
        wait_gone(api, token, server_id)


def test_tagged_attachments_come_and_go(api, client, project, flavor, raw_image):
    token = project["token"]
    net = network(api, token, "10.63.0.0/24")
    r = call(api, "POST", "/servers", token, version="2.49", json={"server": {
        "name": unique("attach"), "flavorRef": flavor["id"], "imageRef": raw_image, "networks": "none"}})
    assert r.status_code == 202, r.text
    server_id = r.json()["server"]["id"]
    try:
        wait(api, token, server_id)
        assert devices(client, project, server_id) == []
        r = call(api, "POST", f"/servers/{server_id}/os-interface", token, version="2.49",
                 json={"interfaceAttachment": {"net_id": net, "tag": "nic-tag"}})
        assert r.status_code == 200, r.text
        attachment = r.json()["interfaceAttachment"]
        volume = create_volume(api, project)
        r = call(api, "POST", f"/servers/{server_id}/os-volume_attachments", token, version="2.49",
                 json={"volumeAttachment": {"volumeId": volume["id"], "tag": "volume-tag"}})
        assert r.status_code == 200, r.text
        wait_volume(api, project, volume["id"], ("in-use",))
        assert sorted(d["tags"][0] for d in devices(client, project, server_id)) == ["nic-tag", "volume-tag"]
        nic = next(d for d in devices(client, project, server_id) if d["type"] == "nic")
        assert nic["mac"] == attachment["mac_addr"]

        call(api, "DELETE", f"/servers/{server_id}/os-volume_attachments/{volume['id']}", token)
        wait_volume(api, project, volume["id"], ("available",))
        call(api, "DELETE", f"/servers/{server_id}/os-interface/{attachment['port_id']}", token)
        deadline = time.monotonic() + 30
        while devices(client, project, server_id) and time.monotonic() < deadline:
            time.sleep(0.05)  # the port's detach completes after the 202
        assert devices(client, project, server_id) == []
    finally:
        call(api, "DELETE", f"/servers/{server_id}", token)
        wait_gone(api, token, server_id)
