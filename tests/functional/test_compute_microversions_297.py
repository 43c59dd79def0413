"""Compute microversions 2.97-2.104 at their boundaries (the ceiling: test_compute_microversions_286).

2.97: ``/servers/{id}/shares`` (no host supports virtiofs: none, 404, 409); 2.98: the image's
properties in server views; 2.99: the ``spice-direct`` console type (no SPICE here: 400) and a
closed console token query; 2.100: ``scheduler_hints``; 2.101: a volume attach is 202 with no
body; 2.102: flavors' ``name`` filter, no ``rxtx_factor``/``OS-FLV-DISABLED:disabled``, every
query closed; 2.103: ``/os-volumes_boot`` gone; 2.104: ``pinned_availability_zone`` updatable."""

from __future__ import annotations

import uuid

from test_volume_servers import create_volume, project, raw_image, wait_volume  # noqa: F401 - fixtures

from compute_fixtures import flavor, image, user  # noqa: F401 - fixtures
from conftest import unique
from test_compute_helpers import add_hosts, boot, call, make_flavor, make_image, new_member, retire, wait


def test_shares_from_2_97(api, admin_token, user, image, flavor):  # noqa: F811
    token = user["token"]
    server_id = boot(api, token, image, flavor["id"])["server"]["id"]
    wait(api, token, server_id)
    shares = f"/servers/{server_id}/shares"
    share = str(uuid.uuid4())
    assert call(api, "GET", shares, token, version="2.96").status_code == 404
    r = call(api, "GET", shares, token, version="2.97")
    assert r.status_code == 200 and r.json() == {"shares": []}
    assert call(api, "GET", shares, token, version="2.97", params={"x": "1"}).status_code == 400
    r = call(api, "GET", f"{shares}/{share}", token, version="2.97")
    assert r.status_code == 404 and r.json()["itemNotFound"]["message"] == f"Share {share} could not be found."
    body = {"share": {"share_id": share, "tag": "data"}}
    assert call(api, "POST", shares, token, version="2.97", json={"share": {"share_id": "x"}}).status_code == 400
    r = call(api, "POST", shares, token, version="2.97", json=body)  # the server must be stopped
    assert r.status_code == 409
    assert r.json()["conflictingRequest"]["message"] == (
        f"Cannot 'create share' instance {server_id} while it is in vm_state active")
    assert call(api, "DELETE", f"{shares}/{share}", token, version="2.97").status_code == 409
    assert call(api, "POST", f"/servers/{server_id}/action", token, json={"os-stop": None}).status_code == 202
    assert wait(api, token, server_id, until=("SHUTOFF",))["status"] == "SHUTOFF"
    r = call(api, "POST", shares, token, version="2.97", json=body)  # no host offers virtiofs
    assert r.status_code == 409
    assert r.json()["conflictingRequest"]["message"] == (
        "Feature not supported because either compute or instance are not configured correctly.")
    assert call(api, "DELETE", f"{shares}/{share}", token, version="2.97").status_code == 404
    other = new_member(api, admin_token)  # another project's server is not found
    assert call(api, "GET", shares, other["token"], version="2.97").status_code == 404
    call(api, "DELETE", f"/servers/{server_id}", token)


def test_image_properties_and_scheduler_hints_from_2_98_and_2_100(api, admin_token, user, flavor):  # noqa: F811
    token = user["token"]
    first = make_image(api, admin_token, hw_disk_bus="virtio", os_distro="cirros", my_own="x")
    second = make_image(api, admin_token, hw_video_model="vga")
    server_id = boot(api, token, first, flavor["id"], hints={"foo": "bar", "list": ["a", "b"]})["server"]["id"]
    plain = boot(api, token, first, flavor["id"])["server"]["id"]
    wait(api, token, server_id)
    wait(api, token, plain)
    path = f"/servers/{server_id}"
    assert "properties" not in call(api, "GET", path, token, version="2.97").json()["server"]["image"]
    shown = call(api, "GET", path, token, version="2.98").json()["server"]
    # only the properties Nova's ImageMetaProps knows
    assert shown["image"]["properties"] == {"hw_disk_bus": "virtio", "os_distro": "cirros"}
    assert shown["image"]["id"] == first and "scheduler_hints" not in shown
    listed = {s["id"]: s for s in call(api, "GET", "/servers/detail", token, version="2.100").json()["servers"]}
    assert listed[server_id]["image"]["properties"] == {"hw_disk_bus": "virtio", "os_distro": "cirros"}
    # every hint a list, as Nova's request spec keeps them; none given: {}
    assert listed[server_id]["scheduler_hints"] == {"foo": ["bar"], "list": ["a", "b"]}
    assert listed[plain]["scheduler_hints"] == {}
    assert "scheduler_hints" not in call(api, "GET", path, token, version="2.99").json()["server"]
    assert call(api, "GET", path, token, version="2.100").json()["server"]["scheduler_hints"] == {
        "foo": ["bar"], "list": ["a", "b"]}
    r = call(api, "PUT", path, token, version="2.100", json={"server": {"name": "renamed"}})
    assert r.status_code == 200, r.text
    assert r.json()["server"]["image"]["properties"] == {"hw_disk_bus": "virtio", "os_distro": "cirros"}
    assert r.json()["server"]["scheduler_hints"] == {"foo": ["bar"], "list": ["a", "b"]}
    r = call(api, "POST", f"{path}/action", token, version="2.100", json={"rebuild": {"imageRef": second}})
    assert r.status_code == 202, r.text
    assert r.json()["server"]["image"] == {**r.json()["server"]["image"], "id": second,
                                           "properties": {"hw_video_model": "vga"}}
    assert r.json()["server"]["scheduler_hints"] == {"foo": ["bar"], "list": ["a", "b"]}
    wait(api, token, server_id)
    for created in (server_id, plain):
        call(api, "DELETE", f"/servers/{created}", token)


def test_spice_direct_console_and_token_query_from_2_99(api, admin_token, user, image, flavor):  # noqa: F811
    token = user["token"]
    server_id = boot(api, token, image, flavor["id"])["server"]["id"]
    wait(api, token, server_id)
    path = f"/servers/{server_id}/remote-consoles"
    body = {"remote_console": {"protocol": "spice", "type": "spice-direct"}}
    r = call(api, "POST", path, token, version="2.98", json=body)
    assert r.status_code == 400 and "spice-direct" in r.json()["badRequest"]["message"]  # not in the schema
    r = call(api, "POST", path, token, version="2.99", json=body)  # no SPICE console here, as Nova without it
    assert r.status_code == 400
    assert r.json()["badRequest"]["message"] == "Unavailable console type spice-direct."
    tokens = "/os-console-auth-tokens/" + unique("tok")
    assert call(api, "GET", tokens, admin_token, version="2.98", params={"x": "1"}).status_code == 404
    r = call(api, "GET", tokens, admin_token, version="2.99", params={"x": "1"})
    assert r.status_code == 400 and "'x' was unexpected" in r.json()["badRequest"]["message"]
    assert call(api, "GET", tokens, admin_token, version="2.99").status_code == 404
    call(api, "DELETE", f"/servers/{server_id}", token)


def test_volume_attach_is_202_from_2_101(api, project, flavor, raw_image):  # noqa: F811
    token = project["token"]
    server_id = boot(api, token, raw_image, flavor["id"])["server"]["id"]
    wait(api, token, server_id)
    attachments = f"/servers/{server_id}/os-volume_attachments"
    before, after = create_volume(api, project)["id"], create_volume(api, project)["id"]
    r = call(api, "POST", attachments, token, version="2.100", json={"volumeAttachment": {"volumeId": before}})
    assert r.status_code == 200 and r.json()["volumeAttachment"]["volumeId"] == before
    wait_volume(api, project, before, ("in-use",))
    r = call(api, "POST", attachments, token, version="2.101", json={"volumeAttachment": {"volumeId": after}})
    assert r.status_code == 202 and r.content == b""
    [attachment] = wait_volume(api, project, after, ("in-use",))["attachments"]
    assert attachment["server_id"] == server_id
    for volume_id in (before, after):
        assert call(api, "DELETE", f"{attachments}/{volume_id}", token).status_code == 202
        wait_volume(api, project, volume_id, ("available",))
    call(api, "DELETE", f"/servers/{server_id}", token)


def test_flavors_and_closed_queries_from_2_102(api, admin_token, user, image, flavor):  # noqa: F811
    token = user["token"]
    name = unique("mv102-flavor")
    created = make_flavor(api, admin_token, name=name)["id"]
    shown = call(api, "GET", f"/flavors/{created}", token, version="2.101").json()["flavor"]
    assert shown["rxtx_factor"] == 1.0 and shown["OS-FLV-DISABLED:disabled"] is False
    shown = call(api, "GET", f"/flavors/{created}", token, version="2.102").json()["flavor"]
    assert "rxtx_factor" not in shown and "OS-FLV-DISABLED:disabled" not in shown
    listed = call(api, "GET", "/flavors/detail", token, version="2.102").json()["flavors"]
    assert listed and all("rxtx_factor" not in f for f in listed)
    # name: a regular expression, from 2.102 (an unknown parameter before)
    assert call(api, "GET", "/flavors", token, version="2.101", params={"name": name}).status_code == 400
    r = call(api, "GET", "/flavors", token, version="2.102", params={"name": name[-8:]})
    assert [f["id"] for f in r.json()["flavors"]] == [created]
    r = call(api, "GET", "/flavors", token, version="2.102", params={"name": "^" + name + "$"})
    assert [f["id"] for f in r.json()["flavors"]] == [created]
    assert call(api, "GET", "/flavors", token, version="2.102", params={"name": "^nomatch-zz$"}).json()[
        "flavors"] == []
    assert call(api, "GET", "/flavors", token, version="2.101", params={"sort_key": "rxtx_factor"}).status_code == 200
    assert call(api, "GET", "/flavors", token, version="2.102", params={"sort_key": "rxtx_factor"}).status_code == 400
    body = {"flavor": {"name": unique("f102"), "ram": 64, "vcpus": 1, "disk": 1, "rxtx_factor": 2.0}}
    r = call(api, "POST", "/flavors", admin_token, version="2.101", json=body)
    assert r.status_code == 200, r.text
    assert call(api, "POST", "/flavors", admin_token, version="2.102", json=body).status_code == 400
    # every query closed from 2.102: undeclared ones were ignored before
    server_id = boot(api, token, image, flavor["id"])["server"]["id"]
    wait(api, token, server_id)
    for path in (f"/servers/{server_id}", f"/servers/{server_id}/ips", f"/servers/{server_id}/metadata",
                 "/os-availability-zone", f"/flavors/{created}", f"/flavors/{created}/os-extra_specs"):
        assert call(api, "GET", path, token, version="2.101", params={"bogus": "1"}).status_code == 200, path
        r = call(api, "GET", path, token, version="2.102", params={"bogus": "1"})
        assert r.status_code == 400, path
        assert r.json()["badRequest"]["message"] == "Additional properties are not allowed ('bogus' was unexpected)"
        assert call(api, "GET", path, token, version="2.102").status_code == 200, path
    # the listings keep their names
    assert call(api, "GET", "/servers/detail", token, version="2.102", params={"name": "x"}).status_code == 200
    call(api, "DELETE", f"/servers/{server_id}", token)


def test_os_volumes_boot_is_gone_from_2_103(api, user, image, flavor):  # noqa: F811
    token = user["token"]
    body = {"server": {"name": unique("vb"), "imageRef": image, "flavorRef": flavor["id"], "networks": "none"}}
    r = call(api, "POST", "/os-volumes_boot", token, version="2.102", json=body)
    assert r.status_code == 202, r.text
    server_id = r.json()["server"]["id"]
    wait(api, token, server_id)
    for path in ("/os-volumes_boot", "/os-volumes_boot/detail"):
        listed = call(api, "GET", path, token, version="2.102").json()["servers"]
        assert server_id in [s["id"] for s in listed]
        assert call(api, "GET", path, token, version="2.103").status_code == 404
    one = f"/os-volumes_boot/{server_id}"
    assert call(api, "GET", one, token, version="2.102").json()["server"]["id"] == server_id
    r = call(api, "PUT", one, token, version="2.102", json={"server": {"name": "via-alias"}})
    assert r.status_code == 200 and r.json()["server"]["name"] == "via-alias"
    for method in ("GET", "DELETE"):
        assert call(api, method, one, token, version="2.103").status_code == 404
    assert call(api, "POST", "/os-volumes_boot", token, version="2.103", json=body).status_code == 404
    assert call(api, "DELETE", one, token, version="2.102").status_code == 204


def test_pinned_availability_zone_updatable_from_2_104(api, admin_token, image, flavor):  # noqa: F811
    zone, other_zone = unique("az104"), unique("az104b")
    nodes = add_hosts(api, zone, [4]) + add_hosts(api, other_zone, [4])
    member = new_member(api, admin_token)
    token = member["token"]
    try:
        pinned = boot(api, token, image, flavor["id"], availability_zone=zone)["server"]["id"]
        unpinned = boot(api, token, image, flavor["id"])["server"]["id"]
        for server_id in (pinned, unpinned):
            wait(api, token, server_id)
        path = f"/servers/{pinned}"

        def update(value, version="2.104", expect=200, server=pinned):
            r = call(api, "PUT", f"/servers/{server}", token, version=version,
                     json={"server": {"pinned_availability_zone": value}})
            assert r.status_code == expect, r.text
            return r.json()

        update(None, version="2.103", expect=400)  # not in the schema before 2.104
        update(zone)  # the zone it is pinned to: a no-op
        message = update(other_zone, expect=409)["conflictingRequest"]["message"]
        assert message == ("Cannot change pinned availability zone directly. Unpin first by setting "
                           "pinned_availability_zone to null.")
        assert update(None)["server"]["pinned_availability_zone"] is None
        assert call(api, "GET", path, token, version="2.104").json()["server"]["pinned_availability_zone"] is None
        assert update(None)["server"]["pinned_availability_zone"] is None  # unpinned again: a no-op
        message = update(other_zone, expect=409)["conflictingRequest"]["message"]
        assert message == (f"Server can only be pinned to its current availability zone '{zone}', but "
                           f"'{other_zone}' was requested.")
        assert update(zone)["server"]["pinned_availability_zone"] == zone
        assert call(api, "GET", path, token, version="2.96").json()["server"]["pinned_availability_zone"] == zone
        update("", expect=400)
        # a server booted without a zone may be pinned to the one it landed in
        landed = call(api, "GET", f"/servers/{unpinned}", token, version="2.104").json()["server"]
        assert landed["pinned_availability_zone"] is None
        assert update(landed["OS-EXT-AZ:availability_zone"], server=unpinned)["server"][
            "pinned_availability_zone"] == landed["OS-EXT-AZ:availability_zone"]
        for server_id in (pinned, unpinned):
            call(api, "DELETE", f"/servers/{server_id}", token)
    finally:
        retire(api, nodes)
