"""Volumes and servers together: ``os-extended-volumes:volumes_attached`` in Nova's server
views, boot from volume through ``block_device_mapping_v2`` (from an image, from an
existing volume), delete_on_termination, failed builds, and Nova's 400s."""

from __future__ import annotations

import json
import time

import pytest

from pocketstack.common.context import RequestContext
from pocketstack.compute.transitions import load

from conftest import unique
from test_compute_helpers import call, make_flavor, new_member, wait, wait_gone

V = "OpenStack-API-Version"


@pytest.fixture(scope="module")
def flavor(api, admin_token):
    return make_flavor(api, admin_token, vcpus=1, ram=128, disk=1)


@pytest.fixture(scope="module")
def raw_image(api, admin_token) -> str:
    """A raw image with real bytes (the file backend writes raw images without qemu-img)."""
    image = api.request("POST", "/image/v2/images", admin_token, json={
        "name": unique("rawimg"), "disk_format": "raw", "container_format": "bare",
        "visibility": "public"}).json()
    r = api.request("PUT", f"/image/v2/images/{image['id']}/file", admin_token, content=b"\x01boot-sector" * 100,
                    headers={"Content-Type": "application/octet-stream"})
    assert r.status_code == 204, r.text
    return image["id"]


@pytest.fixture()
def project(api, admin_token):
    """A fresh project per test: its volume list is exactly what the test made."""
    member = new_member(api, admin_token)
    return {"token": member["token"], "id": member["project"]["id"]}


def volumes(api, project, method="GET", path="/volumes/detail", **kw):
    headers = {V: "volume 3.44"}
    return api.request(method, f"/volume/v3/{project['id']}{path}", project["token"], headers=headers, **kw)


def create_volume(api, project, **spec) -> dict:
    r = volumes(api, project, "POST", "/volumes", json={"volume": {"size": 1, "name": unique("vol"), **spec}})
    assert r.status_code == 202, r.text
    return wait_volume(api, project, r.json()["volume"]["id"], ("available", "error"))


def wait_volume(api, project, volume_id: str, statuses, timeout: float = 30.0) -> dict | None:
    deadline = time.monotonic() + timeout
    while True:
        r = volumes(api, project, path=f"/volumes/{volume_id}")
        if r.status_code == 404 and "deleted" in statuses:
            return None
        volume = r.json()["volume"]
        if volume["status"] in statuses:
            return volume
        assert time.monotonic() < deadline, volume
        time.sleep(0.05)


def boot(api, token, flavor_id: str, mappings: list[dict], expect: int = 202, **server):
    body = {"server": {"name": unique("bfv"), "flavorRef": flavor_id, "networks": "none",
                       "block_device_mapping_v2": mappings, **server}}
    r = call(api, "POST", "/servers", token, json=body)
    assert r.status_code == expect, r.text
    return r.json()


def test_volumes_attached_in_show_and_detail(api, project, flavor, raw_image):
    token = project["token"]
    servers = [boot(api, token, flavor["id"], [], imageRef=raw_image)["server"]["id"] for _ in range(2)]
    for server_id in servers:
        assert wait(api, token, server_id)["os-extended-volumes:volumes_attached"] == []
    vid = create_volume(api, project)["id"]
    r = call(api, "POST", f"/servers/{servers[0]}/os-volume_attachments", token,
             json={"volumeAttachment": {"volumeId": vid}})
    assert r.status_code == 200, r.text
    assert r.json()["volumeAttachment"]["device"] == "/dev/vdb"
    shown = call(api, "GET", f"/servers/{servers[0]}", token).json()["server"]
    assert shown["os-extended-volumes:volumes_attached"] == [{"id": vid, "delete_on_termination": False}]
    old = call(api, "GET", f"/servers/{servers[0]}", token, version="2.1").json()["server"]
    assert old["os-extended-volumes:volumes_attached"] == [{"id": vid}]
    detail = {s["id"]: s for s in call(api, "GET", "/servers/detail", token).json()["servers"]}
    assert detail[servers[0]]["os-extended-volumes:volumes_attached"] == [{"id": vid, "delete_on_termination": False}]
    assert detail[servers[1]]["os-extended-volumes:volumes_attached"] == []
    # The host completes the attach (as Nova's compute does) after the 200, and has given
    # the disk to the guest (the fake hypervisor logs it on the console).
    assert [a["server_id"] for a in wait_volume(api, project, vid, ("in-use",))["attachments"]] == [servers[0]]
    console = call(api, "POST", f"/servers/{servers[0]}/action", token, json={"os-getConsoleOutput": {}})
    assert f"virtio-blk: disk {vid} attached" in console.json()["output"]
    assert call(api, "DELETE", f"/servers/{servers[0]}/os-volume_attachments/{vid}", token).status_code == 202
    assert wait_volume(api, project, vid, ("available",))["attachments"] == []
    assert call(api, "GET", f"/servers/{servers[0]}", token).json()["server"][
        "os-extended-volumes:volumes_attached"] == []
    console = call(api, "POST", f"/servers/{servers[0]}/action", token, json={"os-getConsoleOutput": {}})
    assert f"virtio-blk: disk {vid} detached" in console.json()["output"]
    actions = call(api, "GET", f"/servers/{servers[0]}/os-instance-actions", token).json()["instanceActions"]
    assert {"attach_volume", "detach_volume"} <= {a["action"] for a in actions}
    # A volume still attached when its server is deleted is detached, not deleted.
    assert call(api, "POST", f"/servers/{servers[1]}/os-volume_attachments", token,
                json={"volumeAttachment": {"volumeId": vid}}).status_code == 200
    for server_id in servers:
        assert call(api, "DELETE", f"/servers/{server_id}", token).status_code == 204
        wait_gone(api, token, server_id)
    assert wait_volume(api, project, vid, ("available",))["attachments"] == []


def test_boot_from_image_to_volume(api, project, flavor, raw_image):
    token = project["token"]
    created = boot(api, token, flavor["id"], [{"source_type": "image", "destination_type": "volume",
                                                "uuid": raw_image, "boot_index": 0, "volume_size": 1,
                                                "delete_on_termination": True}], imageRef="")
    server = wait(api, token, created["server"]["id"])
    assert server["status"] == "ACTIVE", server.get("fault")
    assert server["image"] == ""
    [attached] = server["os-extended-volumes:volumes_attached"]
    assert attached["delete_on_termination"] is True
    volume = volumes(api, project, path=f"/volumes/{attached['id']}").json()["volume"]
    assert volume["status"] == "in-use" and volume["bootable"] == "true" and volume["size"] == 1
    assert volume["volume_image_metadata"]["image_id"] == raw_image
    assert [(a["server_id"], a["device"]) for a in volume["attachments"]] == [(server["id"], "/dev/vda")]
    r = call(api, "DELETE", f"/servers/{server['id']}/os-volume_attachments/{attached['id']}", token)
    assert r.status_code == 400 and "root device" in r.json()["badRequest"]["message"]
    assert call(api, "DELETE", f"/servers/{server['id']}", token).status_code == 204
    wait_gone(api, token, server["id"])
    assert wait_volume(api, project, attached["id"], ("deleted",)) is None
    usage = volumes(api, project, path=f"/os-quota-sets/{project['id']}?usage=true").json()["quota_set"]
    assert usage["volumes"]["in_use"] == 0 and usage["gigabytes"]["in_use"] == 0


def test_boot_from_existing_volume_keeps_it(api, project, flavor, raw_image):
    token = project["token"]
    vid = create_volume(api, project, imageRef=raw_image)["id"]
    created = boot(api, token, flavor["id"], [{"source_type": "volume", "destination_type": "volume",
                                                "uuid": vid, "boot_index": "0"}])
    server = wait(api, token, created["server"]["id"])
    assert server["status"] == "ACTIVE", server.get("fault")
    assert server["image"] == ""
    assert server["os-extended-volumes:volumes_attached"] == [{"id": vid, "delete_on_termination": False}]
    assert volumes(api, project, path=f"/volumes/{vid}").json()["volume"]["status"] == "in-use"
    # The volume is taken: another server cannot boot from it.
    r = boot(api, token, flavor["id"], [{"source_type": "volume", "destination_type": "volume", "uuid": vid,
                                         "boot_index": 0}], expect=400)
    assert "status must be 'available'" in r["badRequest"]["message"]
    assert call(api, "DELETE", f"/servers/{server['id']}", token).status_code == 204
    wait_gone(api, token, server["id"])
    volume = wait_volume(api, project, vid, ("available",))
    assert volume["attachments"] == []


def test_failed_volume_build_leaves_nothing_attached(api, project, flavor, admin_token):
    """A volume that cannot be made (a qcow2 image of garbage bytes) fails the build: the
    server is in ERROR with a fault and the volume is attached to nothing."""
    token = project["token"]
    image = api.request("POST", "/image/v2/images", admin_token, json={
        "name": unique("badimg"), "disk_format": "qcow2", "container_format": "bare",
        "visibility": "public"}).json()
    api.request("PUT", f"/image/v2/images/{image['id']}/file", admin_token, content=b"not a qcow2 file",
                headers={"Content-Type": "application/octet-stream"})
    created = boot(api, token, flavor["id"], [{"source_type": "image", "destination_type": "volume",
                                                "uuid": image["id"], "boot_index": 0, "volume_size": 1}])
    server = wait(api, token, created["server"]["id"])
    assert server["status"] == "ERROR"
    assert "did not finish being created" in server["fault"]["message"]
    assert server["os-extended-volumes:volumes_attached"] == []
    [volume] = volumes(api, project).json()["volumes"]
    assert volume["status"] == "error" and volume["attachments"] == []
    assert call(api, "DELETE", f"/servers/{server['id']}", token).status_code == 204
    wait_gone(api, token, server["id"])
    assert volumes(api, project, "DELETE", f"/volumes/{volume['id']}").status_code == 202


def test_block_device_mapping_errors_are_400(api, project, flavor, raw_image):
    token = project["token"]
    plain = create_volume(api, project)["id"]  # empty: not bootable

    def bad(mappings, **server) -> str:
        return boot(api, token, flavor["id"], mappings, expect=400, **server)["badRequest"]["message"]

    assert "non-zero size" in bad([{"source_type": "image", "destination_type": "volume", "uuid": raw_image,
                                    "boot_index": 0}])
    assert "failed to get volume" in bad([{"source_type": "volume", "destination_type": "volume",
                                           "uuid": "00000000-0000-0000-0000-000000000000", "boot_index": 0}])
    assert "is not bootable" in bad([{"source_type": "volume", "destination_type": "volume", "uuid": plain,
                                      "boot_index": 0}])
    assert "Boot sequence" in bad([{"source_type": "volume", "destination_type": "volume", "uuid": plain,
                                    "boot_index": 1}])
    assert "Missing device UUID" in bad([{"source_type": "image", "destination_type": "volume",
                                          "boot_index": 0, "volume_size": 1}])
    assert "volume_size" in bad([{"source_type": "blank", "destination_type": "volume", "volume_size": "x",
                                  "boot_index": 1}], imageRef=raw_image)
    assert "Missing imageRef" in bad([])
    # Nothing was created by the refused requests.
    assert [v["id"] for v in volumes(api, project).json()["volumes"]] == [plain]
    assert call(api, "GET", "/servers", token).json()["servers"] == []


def test_rescued_server_refuses_volume_attach_and_detach(api, project, flavor, raw_image):
    """Nova attaches and detaches volumes only in ACTIVE, PAUSED, STOPPED, RESIZED (and the
    shelved/soft-deleted states): a RESCUED server gets 409 with InstanceInvalidState's
    wording, and the volume is left as it was (Tempest's ServerRescueNegativeTestJSON)."""
    token = project["token"]
    server_id = boot(api, token, flavor["id"], [], imageRef=raw_image)["server"]["id"]
    wait(api, token, server_id)
    attached, spare = create_volume(api, project)["id"], create_volume(api, project)["id"]
    assert call(api, "POST", f"/servers/{server_id}/os-volume_attachments", token,
                json={"volumeAttachment": {"volumeId": attached}}).status_code == 200
    r = call(api, "POST", f"/servers/{server_id}/action", token, json={"rescue": None})
    assert r.status_code == 200, r.text
    assert wait(api, token, server_id, until=("RESCUE",))["status"] == "RESCUE"
    r = call(api, "POST", f"/servers/{server_id}/os-volume_attachments", token,
             json={"volumeAttachment": {"volumeId": spare}})
    assert r.status_code == 409, r.text
    assert r.json()["conflictingRequest"]["message"] == (
        f"Cannot 'attach_volume' instance {server_id} while it is in vm_state rescued")
    r = call(api, "DELETE", f"/servers/{server_id}/os-volume_attachments/{attached}", token)
    assert r.status_code == 409, r.text
    assert r.json()["conflictingRequest"]["message"] == (
        f"Cannot 'detach_volume' instance {server_id} while it is in vm_state rescued")
    assert wait_volume(api, project, spare, ("available",))["attachments"] == []
    assert [a["server_id"] for a in wait_volume(api, project, attached, ("in-use",))["attachments"]] == [server_id]
    # Back to ACTIVE, both work again.
    assert call(api, "POST", f"/servers/{server_id}/action", token, json={"unrescue": None}).status_code == 202
    wait(api, token, server_id, until=("ACTIVE",))
    assert call(api, "DELETE", f"/servers/{server_id}/os-volume_attachments/{attached}", token).status_code == 202
    assert wait_volume(api, project, attached, ("available",))["attachments"] == []


def test_swap_volume_put(api, project, flavor, raw_image, admin_token):
    """``PUT …/os-volume_attachments/{volume_id}`` is Nova's swap, which only Cinder calls
    (policy ``…:swap``, service or admin) while it migrates the volume in the URL: an
    unknown volume in the URL is 404 (Tempest's
    test_update_attached_volume_with_nonexistent_volume_in_uri), a volume that is not
    migrating 409 -- and no volume migrates here -- and a bad body 400."""
    token = project["token"]
    server_id = boot(api, token, flavor["id"], [], imageRef=raw_image)["server"]["id"]
    wait(api, token, server_id)
    attached, spare = create_volume(api, project)["id"], create_volume(api, project)["id"]
    assert call(api, "POST", f"/servers/{server_id}/os-volume_attachments", token,
                json={"volumeAttachment": {"volumeId": attached}}).status_code == 200
    path = f"/servers/{server_id}/os-volume_attachments"
    swap = {"volumeAttachment": {"volumeId": spare}}
    r = call(api, "PUT", f"{path}/{attached}", token, json=swap)
    assert r.status_code == 403, r.text
    missing = "3f1a2b4c-0000-4000-8000-000000000000"
    r = call(api, "PUT", f"{path}/{missing}", admin_token, json=swap)
    assert r.status_code == 404, r.text
    assert r.json()["itemNotFound"]["message"] == f"Volume {missing} could not be found."
    r = call(api, "PUT", f"{path}/{attached}", admin_token, json=swap)
    assert r.status_code == 409, r.text
    assert r.json()["conflictingRequest"]["message"] == (
        f"volume {attached} is not migrating; this API should only be called by Cinder")
    for bad in ({"volumeAttachment": {}}, {"volumeAttachment": {"volumeId": "nope"}},
                {"volumeAttachment": {"volumeId": spare, "device": "/dev/vdc"}}, {}):
        assert call(api, "PUT", f"{path}/{attached}", admin_token, json=bad).status_code == 400, bad
    r = call(api, "PUT", f"/servers/{missing}/os-volume_attachments/{attached}", admin_token, json=swap)
    assert r.status_code == 404, r.text
    # Nothing changed.
    assert [a["server_id"] for a in wait_volume(api, project, attached, ("in-use",))["attachments"]] == [server_id]
    assert wait_volume(api, project, spare, ("available",))["attachments"] == []


def test_a_restarted_host_finishes_the_attach_and_detach_it_had_begun(api, project, flavor, raw_image):
    """The host owns a volume's ``attaching``/``detaching``: the API reserved (or began
    detaching) the volume and cast to the host, which stopped before doing it.  When the
    host's service starts again it finishes both (the guest gets the disk, the volume is
    in-use; the guest gives the other back, the volume is available), instead of leaving
    them to the volume service's recovery window."""
    token = project["token"]
    server_id = boot(api, token, flavor["id"], [], imageRef=raw_image)["server"]["id"]
    wait(api, token, server_id)
    compute = api.cloud.service("compute").compute
    inst = load(compute.db, server_id)
    driver = compute.hosts.driver(inst.host)
    volumes = compute.volumes()
    to_attach, to_detach = create_volume(api, project)["id"], create_volume(api, project)["id"]
    # to_detach is attached the normal way, then its detach is begun and never cast.
    assert call(api, "POST", f"/servers/{server_id}/os-volume_attachments", token,
                json={"volumeAttachment": {"volumeId": to_detach}}).status_code == 200
    wait_volume(api, project, to_detach, ("in-use",))
    caller = RequestContext(user_id=inst.user_id, project_id=inst.project_id, roles=["member"])
    attachment = volumes.attachments.list(caller, instance_id=server_id, volume_id=to_detach)[0]
    volumes.attachments.begin_detaching(caller, attachment.id)
    # to_attach is reserved for the server as the API does, and its cast is lost.
    mapping = compute.block_devices.add(server_id, to_attach, "/dev/vdc")
    compute.block_devices.record_attachment(mapping, volumes.attachments.create(caller, to_attach, server_id).id)
    assert wait_volume(api, project, to_attach, ("reserved",))["status"] == "reserved"
    assert wait_volume(api, project, to_detach, ("detaching",))["status"] == "detaching"
    assert to_attach not in driver._guest(server_id).volumes

    compute.manager.finish_volume_attachments(inst.host)

    assert [a["server_id"] for a in wait_volume(api, project, to_attach, ("in-use",))["attachments"]] == [server_id]
    assert wait_volume(api, project, to_detach, ("available",))["attachments"] == []
    assert set(driver._guest(server_id).volumes) == {to_attach}
    shown = call(api, "GET", f"/servers/{server_id}", token).json()["server"]
    assert shown["os-extended-volumes:volumes_attached"] == [{"id": to_attach, "delete_on_termination": False}]
    assert call(api, "DELETE", f"/servers/{server_id}", token).status_code == 204
    wait_gone(api, token, server_id)
    assert wait_volume(api, project, to_attach, ("available",))["attachments"] == []


def test_a_user_cannot_detach_through_cinder_what_nova_attached(api, project, flavor, raw_image):
    """OSSA-2023-003 (Cinder bug 2004555): deleting on the Block Storage side an attachment
    through which compute gave the volume to a server would leave the device on the host
    while the volume goes elsewhere.  ``os-detach`` and ``DELETE /attachments/{id}`` of it
    are Cinder's 409; the volume stays in-use and compute's own detach still works."""
    token = project["token"]
    server_id = boot(api, token, flavor["id"], [], imageRef=raw_image)["server"]["id"]
    wait(api, token, server_id)
    vid = create_volume(api, project)["id"]
    assert call(api, "POST", f"/servers/{server_id}/os-volume_attachments", token,
                json={"volumeAttachment": {"volumeId": vid}}).status_code == 200
    attachment = wait_volume(api, project, vid, ("in-use",))["attachments"][0]["attachment_id"]
    message = f"Detach volume from instance {server_id} using the Compute API"
    r = volumes(api, project, "POST", f"/volumes/{vid}/action", json={"os-detach": {"attachment_id": attachment}})
    assert r.status_code == 409 and r.json()["conflictingRequest"]["message"] == message, r.text
    r = api.request("DELETE", f"/volume/v3/{project['id']}/attachments/{attachment}", token,
                    headers={V: "volume 3.27"})
    assert r.status_code == 409 and r.json()["conflictingRequest"]["message"] == message, r.text
    assert wait_volume(api, project, vid, ("in-use",))["attachments"][0]["attachment_id"] == attachment
    assert call(api, "DELETE", f"/servers/{server_id}/os-volume_attachments/{vid}", token).status_code == 202
    assert wait_volume(api, project, vid, ("available",))["attachments"] == []
    assert call(api, "DELETE", f"/servers/{server_id}", token).status_code == 204
    wait_gone(api, token, server_id)


def test_snapshot_of_a_volume_backed_server_boots_a_new_volume(api, project, flavor, raw_image):
    """Tempest's test_image_defined_boot_from_volume: ``createImage`` of a volume-backed
    server snapshots its volume and registers a data-less image mapping that snapshot; a
    server booted from the image gets a new volume made from the snapshot as its root."""
    token = project["token"]
    origin = create_volume(api, project, imageRef=raw_image)
    first = wait(api, token, boot(api, token, flavor["id"], [
        {"source_type": "volume", "destination_type": "volume", "uuid": origin["id"], "boot_index": 0,
         "delete_on_termination": True}], imageRef="")["server"]["id"])
    assert first["status"] == "ACTIVE", first.get("fault")
    r = call(api, "POST", f"/servers/{first['id']}/action", token, version="2.45",
             json={"createImage": {"name": "bfv-snap", "metadata": {"purpose": "test"}}})
    assert r.status_code == 202, r.text
    image = api.request("GET", f"/image/v2/images/{r.json()['image_id']}", token).json()
    assert (image["status"], image["size"], image["disk_format"], image["container_format"]) == (
        "active", 0, "qcow2", "bare")
    assert (image["bdm_v2"], image["root_device_name"], image["purpose"]) == ("True", "/dev/vda", "test")
    [mapping] = json.loads(image["block_device_mapping"])
    assert {k: mapping[k] for k in ("source_type", "destination_type", "boot_index", "device_name",
                                    "delete_on_termination", "volume_size", "volume_id", "image_id")} == {
        "source_type": "snapshot", "destination_type": "volume", "boot_index": 0, "device_name": "/dev/vda",
        "delete_on_termination": True, "volume_size": 1, "volume_id": None, "image_id": None}
    snapshot = volumes(api, project, path=f"/snapshots/{mapping['snapshot_id']}").json()["snapshot"]
    assert snapshot["volume_id"] == origin["id"] and snapshot["name"] == "snapshot for bfv-snap"
    assert call(api, "GET", f"/servers/{first['id']}", token).json()["server"]["OS-EXT-STS:task_state"] is None
    actions = call(api, "GET", f"/servers/{first['id']}/os-instance-actions", token).json()["instanceActions"]
    assert "createImage" in {a["action"] for a in actions}
    deadline = time.monotonic() + 30
    while snapshot["status"] != "available":
        assert time.monotonic() < deadline, snapshot
        time.sleep(0.05)
        snapshot = volumes(api, project, path=f"/snapshots/{snapshot['id']}").json()["snapshot"]

    second = wait(api, token, boot(api, token, flavor["id"], [], imageRef=image["id"])["server"]["id"])
    assert second["status"] == "ACTIVE", second.get("fault")
    assert second["image"]["id"] == image["id"]  # Nova records the imageRef whatever the root disk
    [attached] = second["os-extended-volumes:volumes_attached"]
    assert attached["delete_on_termination"] is True and attached["id"] != origin["id"]
    made = volumes(api, project, path=f"/volumes/{attached['id']}").json()["volume"]
    assert made["snapshot_id"] == snapshot["id"] and made["size"] == 1
    assert [(a["server_id"], a["device"]) for a in made["attachments"]] == [(second["id"], "/dev/vda")]
    assert made["volume_image_metadata"]["image_id"] == raw_image  # carried from the origin volume
    assert call(api, "DELETE", f"/servers/{second['id']}", token).status_code == 204
    wait_gone(api, token, second["id"])
    assert wait_volume(api, project, made["id"], ("deleted",)) is None
    assert volumes(api, project, "DELETE", f"/snapshots/{snapshot['id']}").status_code == 202
    assert call(api, "DELETE", f"/servers/{first['id']}", token).status_code == 204
    wait_gone(api, token, first["id"])


def test_admin_attaches_a_volume_of_its_own_project_to_a_members_server(api, admin_token, project, flavor,
                                                                        raw_image):
    """The host completes an attach the API allowed, whoever's project the volume is in
    (Tempest's assisted-snapshot test attaches an admin's volume to a member's server);
    the server's delete detaches it again."""
    server_id = boot(api, project["token"], flavor["id"], [], imageRef=raw_image)["server"]["id"]
    wait(api, project["token"], server_id)
    admin_project = api.request("GET", "/identity/v3/auth/tokens", admin_token,
                                headers={"X-Subject-Token": admin_token}).json()["token"]["project"]
    admins = {"token": admin_token, "id": admin_project["id"]}
    volume = create_volume(api, admins)
    r = call(api, "POST", f"/servers/{server_id}/os-volume_attachments", admin_token,
             json={"volumeAttachment": {"volumeId": volume["id"]}})
    assert r.status_code == 200, r.text
    attached = wait_volume(api, admins, volume["id"], ("in-use", "available"))
    assert attached["status"] == "in-use" and attached["attachments"][0]["server_id"] == server_id
    assert call(api, "DELETE", f"/servers/{server_id}", project["token"]).status_code == 204
    wait_gone(api, project["token"], server_id)
    assert wait_volume(api, admins, volume["id"], ("available",))["attachments"] == []


def test_boot_volume_type_from_2_67(api, admin_token, project, flavor, raw_image):
    """2.67's ``volume_type`` in ``block_device_mapping_v2``: the build's new volume gets
    that type; Nova's 400s for a local disk, an existing volume or an unknown type."""
    vtype = api.request("POST", f"/volume/v3/{project['id']}/types", admin_token, headers={V: "volume 3.44"},
                        json={"volume_type": {"name": unique("bfvtype")}}).json()["volume_type"]
    image_bdm = {"boot_index": 0, "uuid": raw_image, "source_type": "image", "destination_type": "volume",
                 "volume_size": 1, "delete_on_termination": True}
    r = call(api, "POST", "/servers", project["token"], version="2.67", json={"server": {
        "name": unique("typed"), "flavorRef": flavor["id"], "networks": "none",
        "block_device_mapping_v2": [{**image_bdm, "volume_type": vtype["name"]}]}})
    assert r.status_code == 202, r.text
    shown = wait(api, project["token"], r.json()["server"]["id"])
    volume_id = shown["os-extended-volumes:volumes_attached"][0]["id"]
    assert volumes(api, project, path=f"/volumes/{volume_id}").json()["volume"]["volume_type"] == vtype["name"]
    existing = create_volume(api, project)
    for mapping, message in (
            ({"boot_index": 0, "uuid": raw_image, "source_type": "image", "destination_type": "local",
              "volume_type": vtype["name"]}, "destination_type=local is not supported"),
            ({"boot_index": 0, "uuid": existing["id"], "source_type": "volume", "destination_type": "volume",
              "volume_type": vtype["name"]}, "existing volume is not supported"),
            ({**image_bdm, "volume_type": "no-such-type"}, "Volume type no-such-type could not be found.")):
        r = call(api, "POST", "/servers", project["token"], version="2.67", json={"server": {
            "name": unique("refused"), "flavorRef": flavor["id"], "networks": "none", "imageRef": raw_image,
            "block_device_mapping_v2": [mapping]}})
        assert r.status_code == 400 and message in r.json()["badRequest"]["message"], r.text


def test_connector_actions(api, admin_token, project, flavor, raw_image):
    """os-initialize_connection answers the file backend's local connection; a user's
    os-terminate_connection of a volume compute attached is Cinder's 409 (OSSA-2023-003),
    of one nobody attached a no-op 202."""
    loose = create_volume(api, project)
    connector = {"connector": {"host": "somewhere", "initiator": "iqn.x"}}
    r = volumes(api, project, "POST", f"/volumes/{loose['id']}/action", json={"os-initialize_connection": connector})
    assert r.status_code == 200, r.text
    info = r.json()["connection_info"]
    assert info["driver_volume_type"] == "local" and info["data"]["device_path"].endswith(loose["id"])
    r = volumes(api, project, "POST", f"/volumes/{loose['id']}/action", json={"os-terminate_connection": connector})
    assert r.status_code == 202, r.text
    assert volumes(api, project, "POST", f"/volumes/{loose['id']}/action",
                   json={"os-terminate_connection": {}}).status_code == 400
    server_id = boot(api, project["token"], flavor["id"], [], imageRef=raw_image)["server"]["id"]
    wait(api, project["token"], server_id)
    r = call(api, "POST", f"/servers/{server_id}/os-volume_attachments", project["token"],
             json={"volumeAttachment": {"volumeId": loose["id"]}})
    assert r.status_code == 200, r.text
    wait_volume(api, project, loose["id"], ("in-use",))
    r = volumes(api, project, "POST", f"/volumes/{loose['id']}/action",
                json={"os-terminate_connection": {"connector": {"host": "anywhere"}}})
    assert r.status_code == 409 and "using the Compute API" in r.text, r.text
    # Not even the admin's force detach takes it from compute (Cinder's OSSA-2023-003 fix).
    r = api.request("POST", f"/volume/v3/{project['id']}/volumes/{loose['id']}/action", admin_token,
                    json={"os-force_detach": {"connector": None}})
    assert r.status_code == 409 and "using the Compute API" in r.text, r.text
    assert wait_volume(api, project, loose["id"], ("in-use",))["status"] == "in-use"
