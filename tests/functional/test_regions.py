"""Further regions (``regions``): one Keystone, each region its own services and data.

Clients that test multi-region logic need endpoints of several regions in the catalog
and resources that exist in one region only.
"""

from __future__ import annotations

import time

import pytest
from starlette.testclient import TestClient

from pocketstack.common import config

from conftest import ADMIN_PASSWORD, DEMO_PASSWORD

R2 = "/regions/RegionTwo"


@pytest.fixture(scope="module")
def two_regions(tmp_path_factory):
    from pocketstack.cloud import Cloud
    from pocketstack.identity.bootstrap import bootstrap, sync_catalog

    data_dir = tmp_path_factory.mktemp("regions")
    settings = config.load(overrides={"data_dir": data_dir, "bcrypt_rounds": 4, "port": 8780,
                                      "regions": "RegionTwo"}, environ={})
    cloud = Cloud(settings)
    bootstrap(cloud.identity, admin_password=ADMIN_PASSWORD, demo_password=DEMO_PASSWORD,
              region=settings.region, services=cloud.catalog())
    for region in cloud.regions:
        sync_catalog(cloud.identity, region.settings.region, region.catalog())
    with TestClient(cloud.asgi_app(), base_url="http://127.0.0.1:8780") as client:
        body = {"auth": {"identity": {"methods": ["password"], "password": {"user": {
            "name": "admin", "domain": {"id": "default"}, "password": ADMIN_PASSWORD}}},
            "scope": {"project": {"name": "admin", "domain": {"id": "default"}}}}}
        response = client.post("/identity/v3/auth/tokens", json=body)
        client.headers["X-Auth-Token"] = response.headers["X-Subject-Token"]
        yield client, response.json()["token"]


def test_the_catalog_lists_every_regional_service_in_each_region(two_regions):
    _, token = two_regions
    urls = {(service["type"], endpoint["region"]): endpoint["url"]
            for service in token["catalog"] for endpoint in service["endpoints"] if endpoint["interface"] == "public"}
    for kind in ("compute", "network", "block-storage", "image", "object-store", "placement"):
        assert urls[(kind, "RegionOne")] != urls[(kind, "RegionTwo")]
        assert f"{R2}/" in urls[(kind, "RegionTwo")]
    assert ("identity", "RegionOne") in urls and ("identity", "RegionTwo") not in urls


def test_resources_live_in_their_own_region(two_regions):
    client, token = two_regions
    made = client.post(f"{R2}/network/v2.0/networks", json={"network": {"name": "only-in-two"}})
    assert made.status_code == 201, made.text
    names = {n["name"] for n in client.get("/network/v2.0/networks").json()["networks"]}
    assert "only-in-two" not in names
    assert client.get(f"/network/v2.0/networks/{made.json()['network']['id']}").status_code == 404
    assert {n["name"] for n in client.get(f"{R2}/network/v2.0/networks").json()["networks"]} >= {"only-in-two"}
    project = token["project"]["id"]
    volume = client.post(f"{R2}/volume/v3/{project}/volumes", json={"volume": {"size": 1, "name": "v2"}})
    assert volume.status_code == 202, volume.text
    assert client.get(f"/volume/v3/{project}/volumes").json()["volumes"] == []


def test_a_server_boots_on_the_regions_own_hosts(two_regions):
    client, _ = two_regions
    flavor = client.post(f"{R2}/compute/v2.1/flavors", json={"flavor": {
        "name": "r2", "ram": 64, "vcpus": 1, "disk": 0}}).json()["flavor"]
    image = client.post(f"{R2}/image/v2/images", json={"name": "r2", "disk_format": "raw",
                                                       "container_format": "bare"}).json()
    client.put(f"{R2}/image/v2/images/{image['id']}/file", content=b"x" * 512,
               headers={"Content-Type": "application/octet-stream"})
    server = client.post(f"{R2}/compute/v2.1/servers", json={"server": {
        "name": "r2", "imageRef": image["id"], "flavorRef": flavor["id"], "networks": "none"}})
    assert server.status_code == 202, server.text
    server_id = server.json()["server"]["id"]
    deadline = time.monotonic() + 30
    while client.get(f"{R2}/compute/v2.1/servers/{server_id}").json()["server"]["status"] != "ACTIVE":
        assert time.monotonic() < deadline
        time.sleep(0.1)
    assert client.get(f"/compute/v2.1/servers/{server_id}").status_code == 404
    assert client.get(f"/image/v2/images/{image['id']}").status_code == 404


def test_regions_are_an_all_in_one_feature(tmp_path):
    from pocketstack.cloud import Cloud

    for overrides in ({"regions": "RegionOne"}, {"regions": "R2,R2"},
                      {"regions": "R2", "transport_url": "amqp://guest:guest@127.0.0.1:5672/"}):
        settings = config.load(overrides={"data_dir": tmp_path, **overrides}, environ={})
        with pytest.raises(ValueError, match="region"):
            Cloud(settings, migrate=False)


def test_fault_rules_apply_in_every_region(two_regions):
    """One rules API (at the root; none under a region), whose rules every region applies."""
    client, _ = two_regions
    assert client.get(f"{R2}/_pocketstack/faults").status_code == 404
    rule = client.post("/_pocketstack/faults", json={"fault": {
        "service": "network", "path": "/v2.0/routers", "action": "error", "status": 503}}).json()["fault"]
    try:
        assert client.get("/network/v2.0/routers").status_code == 503
        assert client.get(f"{R2}/network/v2.0/routers").status_code == 503
    finally:
        assert client.delete(f"/_pocketstack/faults/{rule['id']}").status_code == 204
    assert client.get(f"{R2}/network/v2.0/routers").status_code == 200
