"""Compute microversions 2.90-2.96 at their boundaries (the ceiling: test_compute_microversions_286).

2.90: a server's ``hostname`` on create, update and rebuild, shown to everyone; 2.91:
unshelve to a host, a null zone unpins; 2.92: key pairs are imported only, names may hold
``@`` and ``.``; 2.93: volume-backed rebuild re-images the root volume; 2.94: the hostname
may be an FQDN; 2.95: an evacuated server is left stopped; 2.96: ``pinned_availability_zone``."""

from __future__ import annotations

import pytest
from test_compute_moves import force_down
from test_volume_servers import raw_image, wait_volume  # noqa: F401 - raw_image: fixture

from compute_fixtures import flavor, image, user  # noqa: F401 - fixtures
from conftest import unique
from test_compute_helpers import add_hosts, boot, call, make_image, new_member, retire, wait

HOSTNAME = "OS-EXT-SRV-ATTR:hostname"


def create(api, token, image, flavor, version: str, **server):  # noqa: F811
    return call(api, "POST", "/servers", token, version=version, json={"server": {
        "name": unique("vm"), "imageRef": image, "flavorRef": flavor["id"], "networks": "none", **server}})


def test_hostname_on_create_update_and_rebuild_from_2_90(api, user, image, flavor):  # noqa: F811
    token = user["token"]
    r = create(api, token, image, flavor, "2.89", hostname="web-1")
    assert r.status_code == 400, r.text
    for bad in ("x", "-web", "web_1", "a" * 64, "web.example.org"):
        assert create(api, token, image, flavor, "2.90", hostname=bad).status_code == 400, bad
    r = create(api, token, image, flavor, "2.90", hostname="web-1", max_count=2)
    assert r.status_code == 400
    assert r.json()["badRequest"]["message"] == "Unable to allocate a single hostname to multiple instances"
    derived = create(api, token, image, flavor, "2.90", name="Guest_Instance 1.Domain.com").json()["server"]
    unnamed = create(api, token, image, flavor, "2.90", name="\u7684!").json()["server"]
    for made, hostname in ((derived, "guest-instance-1-domain-com"), (unnamed, f"Server-{unnamed['id']}")):
        wait(api, token, made["id"])  # Nova's sanitize_hostname, Server-<uuid> when nothing is left
        assert call(api, "GET", f"/servers/{made['id']}", token, version="2.90").json()["server"][HOSTNAME] == hostname
        call(api, "DELETE", f"/servers/{made['id']}", token)
    r = create(api, token, image, flavor, "2.90", hostname="web-1")
    assert r.status_code == 202, r.text
    server_id = r.json()["server"]["id"]
    wait(api, token, server_id)
    path = f"/servers/{server_id}"
    # everyone sees it from 2.90; a member did not before
    assert HOSTNAME not in call(api, "GET", path, token, version="2.89").json()["server"]
    assert call(api, "GET", path, token, version="2.90").json()["server"][HOSTNAME] == "web-1"
    listed = call(api, "GET", "/servers/detail", token, version="2.90").json()["servers"]
    assert [s[HOSTNAME] for s in listed if s["id"] == server_id] == ["web-1"]
    assert call(api, "PUT", path, token, version="2.89", json={"server": {"hostname": "web-2"}}).status_code == 400
    r = call(api, "PUT", path, token, version="2.90", json={"server": {"hostname": "web-2", "name": "Other Name"}})
    assert r.status_code == 200, r.text
    assert r.json()["server"][HOSTNAME] == "web-2" and r.json()["server"]["name"] == "Other Name"
    # a rename keeps it, as Nova's
    r = call(api, "PUT", path, token, version="2.90", json={"server": {"name": "Plain Name"}})
    assert r.json()["server"][HOSTNAME] == "web-2"
    action = f"{path}/action"
    body = {"rebuild": {"imageRef": image, "hostname": "web-3"}}
    assert call(api, "POST", action, token, version="2.89", json=body).status_code == 400
    r = call(api, "POST", action, token, version="2.90", json=body)
    assert r.status_code == 202, r.text
    assert r.json()["server"][HOSTNAME] == "web-3"
    wait(api, token, server_id)
    # 2.94: a fully qualified name
    fqdn = {"server": {"hostname": "web-4.example.org"}}
    assert call(api, "PUT", path, token, version="2.93", json=fqdn).status_code == 400
    r = call(api, "PUT", path, token, version="2.94", json=fqdn)
    assert r.status_code == 200 and r.json()["server"][HOSTNAME] == "web-4.example.org"
    r = call(api, "POST", action, token, version="2.94", json={"rebuild": {"imageRef": image, "hostname": "a.b.c"}})
    assert r.status_code == 202 and r.json()["server"][HOSTNAME] == "a.b.c"
    wait(api, token, server_id)
    r = create(api, token, image, flavor, "2.94", hostname="db.example.org")
    assert r.status_code == 202
    wait(api, token, r.json()["server"]["id"])
    assert call(api, "GET", f"/servers/{r.json()['server']['id']}", token,
                version="2.94").json()["server"][HOSTNAME] == "db.example.org"
    for created in (server_id, r.json()["server"]["id"]):
        call(api, "DELETE", f"/servers/{created}", token)


def test_unshelve_to_a_host_and_unpin_from_2_91(api, admin_token, image, flavor):  # noqa: F811
    zone, other_zone = unique("az91"), unique("az91b")
    near, far = add_hosts(api, zone, [4])[0], add_hosts(api, other_zone, [4])[0]
    member = new_member(api, admin_token)
    token = member["token"]
    try:
        server_id = boot(api, token, image, flavor["id"], availability_zone=zone)["server"]["id"]
        wait(api, token, server_id)
        action = f"/servers/{server_id}/action"
        assert call(api, "GET", f"/servers/{server_id}", token, version="2.96").json()["server"][
            "pinned_availability_zone"] == zone
        assert call(api, "POST", action, token, json={"shelve": None}).status_code == 202
        assert wait(api, token, server_id, until=("SHELVED_OFFLOADED",))["status"] == "SHELVED_OFFLOADED"

        def unshelve(value, version, expect, who=admin_token):
            r = call(api, "POST", action, who, version=version, json={"unshelve": value})
            assert r.status_code == expect, r.text
            return r

        unshelve({"host": far.host}, "2.90", 400)  # not in the schema before 2.91
        unshelve({"availability_zone": None}, "2.90", 400)
        unshelve({"host": far.host}, "2.91", 403, who=token)  # admins only
        message = unshelve({"host": unique("nohost")}, "2.91", 400).json()["badRequest"]["message"]
        assert message.startswith("Compute host ") and message.endswith(" could not be found.")
        # the server is pinned to its zone: another zone's host is a 409
        message = unshelve({"host": far.host}, "2.91", 409).json()["conflictingRequest"]["message"]
        assert message == f'Host "{far.host}" is not in the availability zone "{zone}".'
        message = unshelve({"host": near.host, "availability_zone": other_zone}, "2.91", 409).json()[
            "conflictingRequest"]["message"]
        assert message == f'Host "{near.host}" is not in the availability zone "{other_zone}".'
        # unpinned (a null zone) it may go anywhere, here to the host named
        unshelve({"availability_zone": None, "host": far.host}, "2.91", 202)
        shown = wait(api, admin_token, server_id)
        assert shown["status"] == "ACTIVE" and shown["OS-EXT-SRV-ATTR:host"] == far.host
        assert shown["OS-EXT-AZ:availability_zone"] == other_zone
        shown = call(api, "GET", f"/servers/{server_id}", token, version="2.96").json()["server"]
        assert shown["pinned_availability_zone"] is None
        assert "pinned_availability_zone" not in call(api, "GET", f"/servers/{server_id}", token,
                                                      version="2.95").json()["server"]
        call(api, "DELETE", f"/servers/{server_id}", token)
    finally:
        retire(api, [near, far])


def test_keypairs_are_imported_only_from_2_92(api, user):  # noqa: F811
    token = user["token"]
    generated = call(api, "POST", "/os-keypairs", token, version="2.91",
                     json={"keypair": {"name": unique("k91")}}).json()["keypair"]
    r = call(api, "POST", "/os-keypairs", token, version="2.92", json={"keypair": {"name": unique("k92")}})
    assert r.status_code == 400
    name = unique("me@host.example")
    body = {"keypair": {"name": name, "public_key": generated["public_key"]}}
    assert call(api, "POST", "/os-keypairs", token, version="2.91", json=body).status_code == 400
    r = call(api, "POST", "/os-keypairs", token, version="2.92", json=body)
    assert r.status_code == 201, r.text
    assert r.json()["keypair"]["name"] == name and "private_key" not in r.json()["keypair"]
    bad = {"keypair": {"name": "no/slash", "public_key": generated["public_key"]}}
    assert call(api, "POST", "/os-keypairs", token, version="2.92", json=bad).status_code == 400


@pytest.fixture()
def volume_backed(api, user, raw_image, flavor):  # noqa: F811
    token = user["token"]
    created = call(api, "POST", "/servers", token, version="2.92", json={"server": {
        "name": unique("bfv"), "flavorRef": flavor["id"], "networks": "none", "imageRef": "",
        "block_device_mapping_v2": [{"source_type": "image", "destination_type": "volume", "uuid": raw_image,
                                     "boot_index": 0, "volume_size": 1, "delete_on_termination": True}]}})
    assert created.status_code == 202, created.text
    server_id = created.json()["server"]["id"]
    server = wait(api, token, server_id)
    assert server["status"] == "ACTIVE"
    yield server_id, server["os-extended-volumes:volumes_attached"][0]["id"]
    call(api, "DELETE", f"/servers/{server_id}", token)


def test_volume_backed_rebuild_reimages_the_root_volume_from_2_93(api, admin_token, user, raw_image,  # noqa: F811
                                                                   volume_backed):
    token = user["token"]
    server_id, volume_id = volume_backed
    project = {"token": token, "id": user["project"]["id"]}
    action = f"/servers/{server_id}/action"
    other = make_image(api, admin_token, disk_format="raw")
    r = call(api, "POST", action, token, version="2.92", json={"rebuild": {"imageRef": other}})
    assert r.status_code == 400
    assert r.json()["badRequest"]["message"] == (
        f"Image {other} is unacceptable: Unable to rebuild with a different image for a volume-backed server.")
    # the image it holds: rebuilt in place, the volume untouched
    r = call(api, "POST", action, token, version="2.92", json={"rebuild": {"imageRef": raw_image}})
    assert r.status_code == 202, r.text
    assert wait(api, token, server_id)["status"] == "ACTIVE"
    r = call(api, "POST", action, token, version="2.93", json={"rebuild": {"imageRef": other}})
    assert r.status_code == 202, r.text
    assert r.json()["server"]["image"] == ""  # still volume-backed
    shown = wait(api, token, server_id)
    assert shown["status"] == "ACTIVE", shown.get("fault")
    volume = wait_volume(api, project, volume_id, ("in-use",))
    assert volume["volume_image_metadata"]["image_id"] == other
    [attachment] = volume["attachments"]
    assert attachment["server_id"] == server_id
    attached = call(api, "GET", f"/servers/{server_id}/os-volume_attachments/{volume_id}", token,
                    version="2.93").json()["volumeAttachment"]
    assert attached["device"] == "/dev/vda"
    host = wait(api, admin_token, server_id)["OS-EXT-SRV-ATTR:host"]
    assert server_id in api.cloud.service("compute").compute.hosts.driver(host)._guests


def test_evacuated_server_is_stopped_from_2_95(api, admin_token, image, flavor):  # noqa: F811
    zone = unique("az95")
    nodes = add_hosts(api, zone, [4, 4])
    member = new_member(api, admin_token)
    try:
        servers = {}
        for version in ("2.94", "2.95"):
            server_id = boot(api, member["token"], image, flavor["id"], availability_zone=zone)["server"]["id"]
            servers[version] = server_id
            assert wait(api, member["token"], server_id)["status"] == "ACTIVE"
        hosts = {v: wait(api, admin_token, s)["OS-EXT-SRV-ATTR:host"] for v, s in servers.items()}
        for version, server_id in servers.items():
            source = next(n for n in nodes if n.host == hosts[version])
            force_down(api, admin_token, source)
            try:
                r = call(api, "POST", f"/servers/{server_id}/action", admin_token, version=version,
                         json={"evacuate": {}})
                assert r.status_code == 200, r.text
                shown = wait(api, admin_token, server_id)
            finally:
                force_down(api, admin_token, source, down=False)
            assert shown["OS-EXT-SRV-ATTR:host"] != hosts[version]
            assert shown["status"] == ("ACTIVE" if version == "2.94" else "SHUTOFF"), shown
            assert shown["OS-EXT-STS:vm_state"] == ("active" if version == "2.94" else "stopped")
        for server_id in servers.values():
            call(api, "DELETE", f"/servers/{server_id}", member["token"])
    finally:
        retire(api, nodes)


def test_pinned_availability_zone_from_2_96(api, user, image, flavor):  # noqa: F811
    token = user["token"]
    unpinned = boot(api, token, image, flavor["id"])["server"]["id"]
    pinned = boot(api, token, image, flavor["id"], availability_zone="nova")["server"]["id"]
    for server_id in (unpinned, pinned):
        wait(api, token, server_id)
    shown = {s["id"]: s for s in call(api, "GET", "/servers/detail", token, version="2.96").json()["servers"]}
    assert shown[unpinned]["pinned_availability_zone"] is None
    assert shown[pinned]["pinned_availability_zone"] == "nova"
    assert call(api, "GET", f"/servers/{pinned}", token, version="2.96").json()["server"][
        "pinned_availability_zone"] == "nova"
    r = call(api, "PUT", f"/servers/{pinned}", token, version="2.96", json={"server": {"name": "p"}})
    assert r.json()["server"]["pinned_availability_zone"] == "nova"
    old = call(api, "GET", "/servers/detail", token, version="2.95").json()["servers"]
    assert all("pinned_availability_zone" not in s for s in old)
    for server_id in (unpinned, pinned):
        call(api, "DELETE", f"/servers/{server_id}", token)
