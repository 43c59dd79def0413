"""The metadata API guests read (Nova's nova-api-metadata), in process over the cloud's
contracts: every path of the OpenStack and EC2 trees, the signed headers the datapath's
proxy adds, and what is refused.  Servers are made through the compute API."""

from __future__ import annotations

import base64
import json

import pytest
from starlette.testclient import TestClient

from pocketstack.metadata import openstack, signing
from pocketstack.metadata.app import build_app
from pocketstack.metadata.ec2 import ec2_id

from conftest import unique
from test_compute_helpers import boot, call, make_flavor, make_image, new_member, wait, wait_gone

NET = "/network/v2.0"
SECRET = "functional-metadata-secret"
USER_DATA = b"#!/bin/sh\necho hello from user data\n"


@pytest.fixture(scope="module")
def client(cloud):
    app = build_app(cloud.compute, cloud.network, SECRET, "novalocal")
    with TestClient(app, base_url="http://169.254.169.254") as client:
        yield client


@pytest.fixture(scope="module")
def owner(api, admin_token):
    return new_member(api, admin_token)


def created(response, status: int = 201) -> dict:
    assert response.status_code == status, response.text
    return response.json()


@pytest.fixture(scope="module")
def servers(api, admin_token, owner):
    """``full``: on a static (no DHCP) subnet with DNS and a host route, a floating IP, a
    key pair, user data, metadata and an ephemeral disk; ``bare``: no ports, nothing else."""
    token = owner["token"]
    pool = created(api.request("POST", f"{NET}/networks", admin_token, json={"network": {
        "name": unique("mdpool"), "router:external": True}}))["network"]
    created(api.request("POST", f"{NET}/subnets", admin_token, json={"subnet": {
        "network_id": pool["id"], "ip_version": 4, "cidr": "203.0.113.0/24"}}))
    net = created(api.request("POST", f"{NET}/networks", token, json={"network": {"name": unique("mdnet")}}))
    net = net["network"]
    subnet = created(api.request("POST", f"{NET}/subnets", token, json={"subnet": {
        "network_id": net["id"], "ip_version": 4, "cidr": "10.97.0.0/24", "enable_dhcp": False,
        "dns_nameservers": ["10.97.0.53"], "host_routes": [{"destination": "172.16.0.0/12",
                                                             "nexthop": "10.97.0.254"}]}}))["subnet"]
    router = created(api.request("POST", f"{NET}/routers", token, json={"router": {
        "name": unique("mdr"), "external_gateway_info": {"network_id": pool["id"]}}}))["router"]
    created(api.request("PUT", f"{NET}/routers/{router['id']}/add_router_interface", token,
                        json={"subnet_id": subnet["id"]}), 200)
    keypair = created(call(api, "POST", "/os-keypairs", token, json={"keypair": {"name": unique("mdkey")}}))["keypair"]
    image, flavor = make_image(api, admin_token), make_flavor(api, admin_token, **{"OS-FLV-EXT-DATA:ephemeral": 1})
    full = boot(api, token, image, flavor["id"], name=unique("mdvm"), key_name=keypair["name"],
                user_data=base64.b64encode(USER_DATA).decode(), metadata={"role": "web"},
                networks=[{"uuid": net["id"], "fixed_ip": "10.97.0.10"}])["server"]["id"]
    bare = boot(api, token, image, flavor["id"], name=unique("mdbare"))["server"]["id"]
    for server_id in (full, bare):
        assert wait(api, token, server_id)["status"] == "ACTIVE"
    port = api.request("GET", f"{NET}/ports?device_id={full}", token).json()["ports"][0]
    fip = created(api.request("POST", f"{NET}/floatingips", token, json={"floatingip": {
        "floating_network_id": pool["id"], "port_id": port["id"]}}))["floatingip"]
    yield {"full": full, "bare": bare, "project": owner["project"]["id"], "keypair": keypair, "net": net,
           "subnet": subnet, "port": port, "fip": fip, "flavor": flavor, "image": image}
    api.request("DELETE", f"{NET}/floatingips/{fip['id']}", token)
    for server_id in (full, bare):
        call(api, "DELETE", f"/servers/{server_id}", token)
        wait_gone(api, token, server_id)


def get(client, path: str, instance_id: str, project_id: str, method: str = "GET", **extra):
    return client.request(method, path, headers={**signing.headers(SECRET, instance_id, project_id), **extra})


def body(client, servers, path: str, which: str = "full") -> str:
    r = get(client, path, servers[which], servers["project"])
    assert r.status_code == 200, (path, r.status_code, r.text)
    return r.text


# -- who may read ------------------------------------------------------------------------
def test_root_lists_ec2_versions_to_anyone(client):
    for path in ("/", "//", "/./"):
        r = client.get(path)
        assert r.status_code == 200 and r.headers["content-type"].startswith("text/plain")
        assert r.text.split("\n") == ["1.0", "2007-01-19", "2007-03-01", "2007-08-29", "2007-10-10",
                                      "2007-12-15", "2008-02-01", "2008-09-01", "2009-04-04", "latest"]


@pytest.mark.parametrize("missing", [signing.INSTANCE_ID, signing.TENANT_ID, signing.SIGNATURE])
def test_a_missing_header_is_a_400(client, servers, missing):
    headers = signing.headers(SECRET, servers["full"], servers["project"])
    del headers[missing]
    r = client.get("/openstack/latest/meta_data.json", headers=headers)
    assert r.status_code == 400 and f"{missing} header is missing from request." in r.text


def test_a_repeated_instance_header_is_a_400(client, servers):
    headers = list(signing.headers(SECRET, servers["full"], servers["project"]).items())
    r = client.get("/openstack/latest/meta_data.json", headers=headers + [(signing.INSTANCE_ID, servers["bare"])])
    assert r.status_code == 400 and "Multiple X-Instance-ID headers" in r.text


@pytest.mark.parametrize("signature", ["", "0" * 64, "not hex", signing.sign("another-secret", "x")])
def test_a_wrong_signature_is_a_403(client, servers, signature):
    headers = {**signing.headers(SECRET, servers["full"], servers["project"]), signing.SIGNATURE: signature}
    r = client.get("/openstack/latest/meta_data.json", headers=headers)
    assert r.status_code == 403 and "Invalid proxy request signature." in r.text


def test_another_instances_signature_is_a_403(client, servers):
    headers = {**signing.headers(SECRET, servers["full"], servers["project"]),
               signing.SIGNATURE: signing.sign(SECRET, servers["bare"])}
    assert client.get("/openstack/latest/meta_data.json", headers=headers).status_code == 403


def test_without_a_secret_everything_but_the_root_is_refused(cloud, servers):
    app = build_app(cloud.compute, cloud.network, "", "novalocal")
    with TestClient(app) as empty:
        assert empty.get("/").status_code == 200
        for secret in ("", SECRET):
            r = empty.get("/openstack/latest/meta_data.json",
                          headers=signing.headers(secret, servers["full"], servers["project"]))
            assert r.status_code == 403


def test_another_projects_tenant_id_is_a_404(client, servers, api, admin_token):
    other = new_member(api, admin_token)["project"]["id"]
    for tenant in (other, "", servers["project"].upper()):
        assert get(client, "/openstack/latest/meta_data.json", servers["full"], tenant).status_code == 404


def test_an_unknown_instance_is_a_404(client, servers):
    for instance_id in ("00000000-0000-4000-8000-000000000000", "not-a-uuid", "x" * 300):
        assert get(client, "/latest/meta-data/", instance_id, servers["project"]).status_code == 404


def test_only_get_and_head_are_served(client, servers):
    head = get(client, "/openstack/latest/meta_data.json", servers["full"], servers["project"], method="HEAD")
    assert head.status_code == 200 and head.content == b""
    assert head.headers["content-type"] == "application/json"
    for method in ("POST", "PUT", "DELETE", "PATCH"):
        for path in ("/openstack/latest/password", "/latest/meta-data/", "/"):
            if (method, path) == ("POST", "/openstack/latest/password"):
                continue  # the guest's one write: test_the_guest_posts_its_password_once
            assert get(client, path, servers["full"], servers["project"], method=method).status_code == 405


def test_the_guest_posts_its_password_once(api, client, servers, owner):
    """Nova's metadata password: posted once (256 bytes at most), read back by the guest
    and by ``os-server-password``; a second post is a 409 until the owner clears it."""
    server, project = servers["bare"], servers["project"]

    def post(content: bytes, version: str = "latest"):
        return client.request("POST", f"/openstack/{version}/password", content=content,
                              headers=signing.headers(SECRET, server, project))
    assert body(client, servers, "/openstack/latest/password", "bare") == ""
    assert post(b"x" * 257).status_code == 400
    r = post(b"ENCRYPTED==")
    assert r.status_code == 200, r.text
    assert body(client, servers, "/openstack/2013-04-04/password", "bare") == "ENCRYPTED=="
    assert post(b"again").status_code == 409
    token = owner["token"]
    assert call(api, "GET", f"/servers/{server}/os-server-password", token).json() == {"password": "ENCRYPTED=="}
    assert call(api, "DELETE", f"/servers/{server}/os-server-password", token).status_code == 204
    assert call(api, "GET", f"/servers/{server}/os-server-password", token).json() == {"password": ""}
    assert post(b"new").status_code == 200
    assert post(b"old version", "2012-08-10").status_code == 404  # before Grizzly's tree has no password


# -- the OpenStack tree ------------------------------------------------------------------
def test_openstack_versions(client, servers):
    listed = body(client, servers, "/openstack").split("\n")
    assert listed[0] == "2012-08-10" and listed[-1] == "latest" and "2025-04-04" in listed
    assert body(client, servers, "/openstack/") == body(client, servers, "/openstack")


def test_openstack_version_listing(client, servers):
    assert body(client, servers, "/openstack/latest/").split("\n") == [
        "meta_data.json", "user_data", "password", "vendor_data.json", "network_data.json", "vendor_data2.json"]
    assert body(client, servers, "/openstack/latest", "bare").split("\n") == [
        "meta_data.json", "password", "vendor_data.json", "network_data.json", "vendor_data2.json"]
    assert body(client, servers, "/openstack/2012-08-10").split("\n") == ["meta_data.json", "user_data"]
    assert body(client, servers, "/openstack/2013-10-17", "bare").split("\n") == [
        "meta_data.json", "password", "vendor_data.json"]


def test_meta_data_json(client, servers):
    r = get(client, "/openstack/latest/meta_data.json", servers["full"], servers["project"])
    assert r.status_code == 200 and r.headers["content-type"] == "application/json"
    data = r.json()
    keypair = servers["keypair"]
    assert data["uuid"] == servers["full"] and data["name"].startswith("mdvm-")
    assert data["hostname"] == f"{data['name']}.novalocal"
    assert data["project_id"] == servers["project"] and data["launch_index"] == 0
    assert data["availability_zone"] == "nova" and data["meta"] == {"role": "web"}
    assert data["public_keys"] == {keypair["name"]: keypair["public_key"]}
    assert data["keys"] == [{"name": keypair["name"], "type": "ssh", "data": keypair["public_key"]}]
    assert data["devices"] == [] and data["dedicated_cpus"] == []
    assert len(base64.b64decode(data["random_seed"])) == 512
    folsom = json.loads(body(client, servers, "/openstack/2012-08-10/meta_data.json"))
    assert "random_seed" not in folsom and "project_id" not in folsom and "devices" not in folsom
    bare = json.loads(body(client, servers, "/openstack/latest/meta_data.json", "bare"))
    assert "meta" not in bare and "public_keys" not in bare and "keys" not in bare


def test_user_data(client, servers):
    r = get(client, "/openstack/latest/user_data", servers["full"], servers["project"])
    assert r.status_code == 200 and r.content == USER_DATA
    assert get(client, "/openstack/latest/user_data", servers["bare"], servers["project"]).status_code == 404
    assert get(client, "/latest/user-data", servers["bare"], servers["project"]).status_code == 404


def test_network_data_json(client, servers):
    port, subnet, net = servers["port"], servers["subnet"], servers["net"]
    data = json.loads(body(client, servers, "/openstack/latest/network_data.json"))
    assert data == {
        "links": [{"id": ("tap" + port["id"])[:14], "vif_id": port["id"], "type": "ovs", "mtu": net["mtu"],
                   "ethernet_mac_address": port["mac_address"]}],
        "networks": [{"id": "network0", "type": "ipv4", "link": ("tap" + port["id"])[:14],
                      "ip_address": "10.97.0.10", "netmask": "255.255.255.0",
                      "routes": [{"network": "0.0.0.0", "netmask": "0.0.0.0", "gateway": subnet["gateway_ip"]},
                                 {"network": "172.16.0.0", "netmask": "255.240.0.0", "gateway": "10.97.0.254"}],
                      "network_id": net["id"], "services": [{"type": "dns", "address": "10.97.0.53"}]}],
        "services": [{"type": "dns", "address": "10.97.0.53"}]}
    assert json.loads(body(client, servers, "/openstack/latest/network_data.json", "bare")) == {}


def test_vendor_data_and_password(client, servers):
    assert json.loads(body(client, servers, "/openstack/latest/vendor_data.json")) == {}
    assert json.loads(body(client, servers, "/openstack/latest/vendor_data2.json")) == {"static": {}}
    assert body(client, servers, "/openstack/latest/password") == ""
    for path in ("/openstack/2013-04-04/vendor_data.json", "/openstack/2016-06-30/vendor_data2.json",
                 "/openstack/2012-08-10/password"):
        assert get(client, path, servers["full"], servers["project"]).status_code == 404, path


@pytest.mark.parametrize("path", [
    "/openstack/1999-01-01/meta_data.json", "/openstack/latest/nothing", "/openstack/latest/meta_data.json/uuid",
    "/openstack/content/0000", "/openstack/latest/meta_data.json/..//nothing", "/2000-01-01/meta-data/",
    "/latest/meta-data/nothing", "/latest/meta-data/security-groups/default", "/latest/meta-data/instance-id/x",
    "/latest/meta-data/public-keys/0/_name", "/latest/nothing", "/ec2/nothing"])
def test_unknown_paths_are_404(client, servers, path):
    r = get(client, path, servers["full"], servers["project"])
    assert r.status_code == 404 and r.text.startswith("404 Not Found")


# -- the EC2 tree ------------------------------------------------------------------------
def test_ec2_listings(client, servers):
    assert body(client, servers, "/latest").split("\n") == ["meta-data/", "user-data"]
    assert body(client, servers, "/latest/", "bare") == "meta-data/"
    listing = body(client, servers, "/latest/meta-data/").split("\n")
    assert listing == ["ami-id", "ami-launch-index", "ami-manifest-path", "block-device-mapping/", "hostname",
                       "instance-action", "instance-id", "instance-type", "local-hostname", "local-ipv4",
                       "placement/", "public-hostname", "public-ipv4", "public-keys/", "reservation-id",
                       "security-groups"]
    assert "public-keys/" not in body(client, servers, "/latest/meta-data", "bare").split("\n")
    assert body(client, servers, "/1.0/meta-data").split("\n") == [
        "ami-id", "ami-launch-index", "ami-manifest-path", "hostname", "instance-id", "local-ipv4", "public-keys/",
        "reservation-id", "security-groups"]
    assert body(client, servers, "/latest/meta-data/public-keys") == f"0={servers['keypair']['name']}"
    assert body(client, servers, "/latest/meta-data/public-keys/0/") == "openssh-key"
    assert body(client, servers, "/latest/meta-data/placement") == "availability-zone"
    assert body(client, servers, "/latest/meta-data/block-device-mapping").split("\n") == [
        "ami", "ephemeral0", "root"]


def test_ec2_values(client, servers):
    full = servers["full"]
    values = {name: body(client, servers, f"/2009-04-04/meta-data/{name}") for name in (
        "ami-id", "ami-launch-index", "ami-manifest-path", "instance-id", "instance-type", "local-ipv4",
        "public-ipv4", "security-groups", "instance-action", "placement/availability-zone",
        "block-device-mapping/root", "block-device-mapping/ami", "block-device-mapping/ephemeral0",
        "public-keys/0/openssh-key")}
    assert values == {
        "ami-id": ec2_id("ami", servers["image"]), "ami-launch-index": "0", "ami-manifest-path": "FIXME",
        "instance-id": f"i-{full.replace('-', '')[:8]}", "instance-type": servers["flavor"]["name"],
        "local-ipv4": "10.97.0.10", "public-ipv4": servers["fip"]["floating_ip_address"],
        "security-groups": "default", "instance-action": "none", "placement/availability-zone": "nova",
        "block-device-mapping/root": "/dev/vda", "block-device-mapping/ami": "vda",
        "block-device-mapping/ephemeral0": "/dev/vdb",
        "public-keys/0/openssh-key": servers["keypair"]["public_key"]}
    hostname = body(client, servers, "/latest/meta-data/hostname")
    assert hostname.endswith(".novalocal") and hostname == body(client, servers, "/latest/meta-data/local-hostname")
    assert body(client, servers, "/latest/meta-data/reservation-id").startswith("r-")
    assert body(client, servers, "/latest/meta-data/public-ipv4", "bare") == ""
    assert body(client, servers, "/ec2/latest/meta-data/instance-id") == values["instance-id"]
    r = get(client, "/latest/user-data", full, servers["project"])
    assert r.status_code == 200 and r.content == USER_DATA


def test_a_deleted_server_is_a_404(client, api, owner, servers):
    token = owner["token"]
    server_id = boot(api, token, servers["image"], servers["flavor"]["id"])["server"]["id"]
    wait(api, token, server_id)
    assert get(client, "/latest/meta-data/instance-id", server_id, servers["project"]).status_code == 200
    call(api, "DELETE", f"/servers/{server_id}", token)
    wait_gone(api, token, server_id)
    assert get(client, "/latest/meta-data/instance-id", server_id, servers["project"]).status_code == 404


def test_the_config_drive_reads_the_same_builder(cloud, client, servers):
    """The compute host's config drive content comes from the builder the API serves."""
    compute = cloud.compute
    drive = compute.manager._metadata(compute.instances.get(servers["full"]))
    served = json.loads(body(client, servers, "/openstack/latest/meta_data.json"))
    assert {k: v for k, v in drive.meta_data().items() if k != "random_seed"} == \
        {k: v for k, v in served.items() if k != "random_seed"}
    assert drive.network.network_data == json.loads(body(client, servers, "/openstack/latest/network_data.json"))
    assert drive.meta_data(openstack.FOLSOM).keys() < drive.meta_data().keys()
