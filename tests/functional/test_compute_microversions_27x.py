"""Compute microversions from 2.69 on, each at its boundary: below it the old behaviour,
at it the new one, and Nova's 400s for bad new input.

2.70 device tags of ports and volumes, 2.71 ``server_groups`` in a server's show, update
and rebuild responses, 2.72 (nothing changes: no port carries a resource request), 2.73
``locked_reason`` and the ``locked`` filter and sort key, 2.74 ``host``/``hypervisor_hostname``
on create."""

from __future__ import annotations

import pytest
from test_compute_network import network
from test_volume_servers import create_volume, wait_volume

from compute_fixtures import flavor, image, user  # noqa: F401 - fixtures
from conftest import unique
from test_compute_helpers import boot, call, new_member, wait


def interfaces(api, token, server_id: str, version: str) -> list[dict]:
    r = call(api, "GET", f"/servers/{server_id}/os-interface", token, version=version)
    assert r.status_code == 200, r.text
    return r.json()["interfaceAttachments"]


def attach_interface(api, token, server_id: str, spec: dict, version: str, expect: int = 200):
    r = call(api, "POST", f"/servers/{server_id}/os-interface", token, version=version,
             json={"interfaceAttachment": spec})
    assert r.status_code == expect, r.text
    return r.json()


def test_port_tags_from_2_70(api, user, image, flavor):  # noqa: F811
    token = user["token"]
    net, _ = network(api, token, "10.71.0.0/24")
    other, _ = network(api, token, "10.72.0.0/24")
    server_id = boot(api, token, image, flavor["id"], networks=[{"uuid": net["id"], "tag": "boot-nic"}])["server"]["id"]
    assert wait(api, token, server_id)["status"] == "ACTIVE"
    old = interfaces(api, token, server_id, "2.69")
    assert len(old) == 1 and "tag" not in old[0]
    assert [i["tag"] for i in interfaces(api, token, server_id, "2.70")] == ["boot-nic"]
    # Tagged attach is 2.49's; before, the tag is an unknown property (400).
    refused = attach_interface(api, token, server_id, {"net_id": other["id"], "tag": "t"}, "2.48", expect=400)
    assert "tag" in refused["badRequest"]["message"] and refused["badRequest"]["code"] == 400
    for bad in ("a/b", "a,b", "x" * 61, 5):
        refused = attach_interface(api, token, server_id, {"net_id": other["id"], "tag": bad}, "2.70", expect=400)
        assert refused["badRequest"]["code"] == 400
    hidden = attach_interface(api, token, server_id, {"net_id": other["id"], "tag": "hot-nic"}, "2.69")
    assert "tag" not in hidden["interfaceAttachment"]
    shown = call(api, "GET", f"/servers/{server_id}/os-interface/{hidden['interfaceAttachment']['port_id']}",
                 token, version="2.70").json()["interfaceAttachment"]
    assert shown["tag"] == "hot-nic" and {k: v for k, v in shown.items() if k != "tag"} == hidden["interfaceAttachment"]
    untagged = attach_interface(api, token, server_id, {"net_id": other["id"]}, "2.70")["interfaceAttachment"]
    assert untagged["tag"] is None
    assert sorted(str(i["tag"]) for i in interfaces(api, token, server_id, "2.70")) == ["None", "boot-nic", "hot-nic"]
    port_id = hidden["interfaceAttachment"]["port_id"]
    assert call(api, "DELETE", f"/servers/{server_id}/os-interface/{port_id}", token).status_code == 202
    assert sorted(str(i["tag"]) for i in interfaces(api, token, server_id, "2.70")) == ["None", "boot-nic"]
    assert call(api, "DELETE", f"/servers/{server_id}", token).status_code == 204


@pytest.fixture()
def project(api, admin_token):
    member = new_member(api, admin_token)
    return {"token": member["token"], "id": member["project"]["id"]}


def volume_attachments(api, token, server_id: str, version: str) -> list[dict]:
    r = call(api, "GET", f"/servers/{server_id}/os-volume_attachments", token, version=version)
    assert r.status_code == 200, r.text
    return r.json()["volumeAttachments"]


def test_volume_tags_from_2_70(api, project, image, flavor):  # noqa: F811
    token = project["token"]
    boot_volume = create_volume(api, project)["id"]
    server_id = boot(api, token, image, flavor["id"], block_device_mapping_v2=[
        {"source_type": "image", "destination_type": "local", "uuid": image, "boot_index": 0},
        {"source_type": "volume", "destination_type": "volume", "uuid": boot_volume, "boot_index": None,
         "tag": "data"}])["server"]["id"]
    assert wait(api, token, server_id)["status"] == "ACTIVE"
    assert [("tag" in a) for a in volume_attachments(api, token, server_id, "2.69")] == [False]
    assert [a["tag"] for a in volume_attachments(api, token, server_id, "2.70")] == ["data"]
    hot, plain = create_volume(api, project)["id"], create_volume(api, project)["id"]
    path = f"/servers/{server_id}/os-volume_attachments"
    for bad in ("a/b", "x" * 61):
        r = call(api, "POST", path, token, version="2.70", json={"volumeAttachment": {"volumeId": hot, "tag": bad}})
        assert r.status_code == 400 and r.json()["badRequest"]["code"] == 400, r.text
    r = call(api, "POST", path, token, version="2.70", json={"volumeAttachment": {"volumeId": hot, "tag": "hot"}})
    assert r.status_code == 200, r.text
    assert r.json()["volumeAttachment"] == {"id": hot, "serverId": server_id, "volumeId": hot, "device": "/dev/vdc",
                                            "tag": "hot"}
    wait_volume(api, project, hot, ("in-use",))
    r = call(api, "POST", path, token, version="2.69", json={"volumeAttachment": {"volumeId": plain}})
    assert r.status_code == 200 and "tag" not in r.json()["volumeAttachment"], r.text
    wait_volume(api, project, plain, ("in-use",))
    shown = call(api, "GET", f"{path}/{hot}", token, version="2.70").json()["volumeAttachment"]
    assert shown["tag"] == "hot"
    assert "tag" not in call(api, "GET", f"{path}/{hot}", token, version="2.69").json()["volumeAttachment"]
    assert {a["volumeId"]: a["tag"] for a in volume_attachments(api, token, server_id, "2.70")} == {
        boot_volume: "data", hot: "hot", plain: None}
    # A shelved-offloaded server has no host to tag a disk: Nova's 400; untagged is fine.
    assert call(api, "POST", f"/servers/{server_id}/action", token, json={"shelve": None}).status_code == 202
    assert wait(api, token, server_id, until=("SHELVED_OFFLOADED",))["status"] == "SHELVED_OFFLOADED"
    spare = create_volume(api, project)["id"]
    r = call(api, "POST", path, token, version="2.70", json={"volumeAttachment": {"volumeId": spare, "tag": "t"}})
    assert r.status_code == 400, r.text
    assert r.json()["badRequest"]["message"] == (
        "Tagged volume attachment is not supported for shelved-offloaded instances.")
    r = call(api, "POST", path, token, version="2.70", json={"volumeAttachment": {"volumeId": spare}})
    assert r.status_code == 200 and r.json()["volumeAttachment"]["tag"] is None, r.text
    assert call(api, "DELETE", f"/servers/{server_id}", token).status_code == 204


def test_server_groups_in_show_update_and_rebuild_from_2_71(api, user, image, flavor):  # noqa: F811
    token = user["token"]
    r = call(api, "POST", "/os-server-groups", token, json={"server_group": {"name": unique("g"),
                                                                            "policy": "soft-affinity"}})
    assert r.status_code == 200, r.text
    group_id = r.json()["server_group"]["id"]
    grouped = boot(api, token, image, flavor["id"], hints={"group": group_id})["server"]["id"]
    alone = boot(api, token, image, flavor["id"])["server"]["id"]
    for server_id in (grouped, alone):
        wait(api, token, server_id)
    assert "server_groups" not in call(api, "GET", f"/servers/{grouped}", token, version="2.70").json()["server"]
    assert call(api, "GET", f"/servers/{grouped}", token, version="2.71").json()["server"]["server_groups"] == [
        group_id]
    assert call(api, "GET", f"/servers/{alone}", token, version="2.71").json()["server"]["server_groups"] == []
    listed = call(api, "GET", "/servers/detail", token, version="2.71").json()["servers"]
    assert listed and all("server_groups" not in s for s in listed)  # not in lists
    update = {"server": {"name": unique("renamed")}}
    assert "server_groups" not in call(api, "PUT", f"/servers/{grouped}", token, version="2.70",
                                       json=update).json()["server"]
    assert call(api, "PUT", f"/servers/{grouped}", token, version="2.71",
                json=update).json()["server"]["server_groups"] == [group_id]
    r = call(api, "POST", f"/servers/{grouped}/action", token, version="2.70", json={"rebuild": {"imageRef": image}})
    assert r.status_code == 202 and "server_groups" not in r.json()["server"], r.text
    wait(api, token, grouped)
    r = call(api, "POST", f"/servers/{grouped}/action", token, version="2.71", json={"rebuild": {"imageRef": image}})
    assert r.status_code == 202 and r.json()["server"]["server_groups"] == [group_id], r.text
    wait(api, token, grouped)
    for server_id in (grouped, alone):
        assert call(api, "DELETE", f"/servers/{server_id}", token).status_code == 204


def lock(api, token, server_id: str, body, version: str, expect: int = 202):
    r = call(api, "POST", f"/servers/{server_id}/action", token, version=version, json={"lock": body})
    assert r.status_code == expect, r.text
    return r


def listed_ids(api, token, query: str, version: str) -> list[str]:
    r = call(api, "GET", f"/servers/detail?{query}", token, version=version)
    assert r.status_code == 200, r.text
    return [s["id"] for s in r.json()["servers"]]


def test_locked_reason_filter_and_sort_from_2_73(api, admin_token, image, flavor):  # noqa: F811
    token = new_member(api, admin_token)["token"]  # a project of its own: lists hold only these servers
    with_reason, without, unlocked = (boot(api, token, image, flavor["id"])["server"]["id"] for _ in range(3))
    for server_id in (with_reason, without, unlocked):
        wait(api, token, server_id)
    for bad in ({"locked_reason": ""}, {"locked_reason": "x" * 256}, {"locked_reason": 5}, {"reason": "x"}, "x"):
        r = lock(api, token, with_reason, bad, "2.73", expect=400)
        assert r.json()["badRequest"]["code"] == 400
    lock(api, token, with_reason, {"locked_reason": "ignored before 2.73"}, "2.72")
    show = call(api, "GET", f"/servers/{with_reason}", token, version="2.73").json()["server"]
    assert show["locked"] is True and show["locked_reason"] is None
    assert "locked_reason" not in call(api, "GET", f"/servers/{with_reason}", token, version="2.72").json()["server"]
    lock(api, token, with_reason, {"locked_reason": "under investigation"}, "2.73")
    lock(api, token, without, None, "2.73")
    shown = {s["id"]: s for s in call(api, "GET", "/servers/detail", token, version="2.73").json()["servers"]}
    assert {i: (s["locked"], s["locked_reason"]) for i, s in shown.items()} == {
        with_reason: (True, "under investigation"), without: (True, None), unlocked: (False, None)}
    update = call(api, "PUT", f"/servers/{with_reason}", token, version="2.73", json={"server": {"name": "n"}})
    assert update.json()["server"]["locked_reason"] == "under investigation"
    # The filter: from 2.73 (a member's before is ignored), strict booleans.
    assert sorted(listed_ids(api, token, "locked=true", "2.73")) == sorted([with_reason, without])
    assert listed_ids(api, token, "locked=0", "2.73") == [unlocked]
    assert len(listed_ids(api, token, "locked=true", "2.72")) == 3
    r = call(api, "GET", "/servers?locked=maybe", token, version="2.73")
    assert r.status_code == 400 and r.json()["badRequest"]["code"] == 400, r.text
    # The sort key: from 2.73 (an unknown key before).
    assert call(api, "GET", "/servers?sort_key=locked", token, version="2.72").status_code == 400
    ordered = listed_ids(api, token, "sort_key=locked&sort_dir=asc", "2.73")
    assert ordered[0] == unlocked and set(ordered[1:]) == {with_reason, without}
    # Unlocking forgets the reason; the rebuild response shows it while locked (an admin rebuilds).
    rebuilt = call(api, "POST", f"/servers/{with_reason}/action", admin_token, version="2.73",
                   json={"rebuild": {"imageRef": image}})
    assert rebuilt.status_code == 202 and rebuilt.json()["server"]["locked_reason"] == "under investigation"
    wait(api, token, with_reason)
    assert call(api, "POST", f"/servers/{with_reason}/action", token, json={"unlock": None}).status_code == 202
    show = call(api, "GET", f"/servers/{with_reason}", token, version="2.73").json()["server"]
    assert show["locked"] is False and show["locked_reason"] is None
    assert call(api, "POST", f"/servers/{without}/action", token, json={"unlock": None}).status_code == 202
    for server_id in (with_reason, without, unlocked):
        assert call(api, "DELETE", f"/servers/{server_id}", token).status_code == 204


def test_requested_host_on_create_from_2_74(api, admin_token, user, image, flavor):  # noqa: F811
    def create(token, version, expect, **server):
        r = call(api, "POST", "/servers", token, version=version, json={"server": {
            "name": unique("dest"), "imageRef": image, "flavorRef": flavor["id"], "networks": "none", **server}})
        assert r.status_code == expect, r.text
        return r.json()

    refused = create(admin_token, "2.73", 400, host="compute-2")  # an unknown property before 2.74
    assert refused["badRequest"]["code"] == 400
    assert create(user["token"], "2.74", 403, host="compute-2")["forbidden"]["code"] == 403  # admins only
    for spec, named in (({"host": "nowhere"}, "nowhere"), ({"hypervisor_hostname": "nowhere"}, "nowhere"),
                        ({"host": "compute-1", "hypervisor_hostname": "compute-2"}, "compute-1")):
        assert create(admin_token, "2.74", 400, **spec)["badRequest"]["message"] == (
            f"Compute host {named} could not be found.")
    for bad in ("a b", "", "x" * 256):
        assert create(admin_token, "2.74", 400, host=bad)["badRequest"]["code"] == 400
    placed = {}
    for spec in ({"host": "compute-2"}, {"hypervisor_hostname": "compute-1"},
                 {"host": "compute-2", "hypervisor_hostname": "compute-2"}, {"host": "compute-1"}):
        server_id = create(admin_token, "2.74", 202, **spec)["server"]["id"]
        placed[server_id] = wait(api, admin_token, server_id)["OS-EXT-SRV-ATTR:host"]
        assert placed[server_id] == (spec.get("host") or spec["hypervisor_hostname"])
    # The requested host still goes through the filters: a disabled one is no valid host.
    services = call(api, "GET", "/os-services?binary=nova-compute", admin_token).json()["services"]
    service_id = next(s["id"] for s in services if s["host"] == "compute-2")
    assert call(api, "PUT", f"/os-services/{service_id}", admin_token, json={"status": "disabled"}).status_code == 200
    try:
        server_id = create(admin_token, "2.74", 202, host="compute-2")["server"]["id"]
        failed = wait(api, admin_token, server_id)
        assert failed["status"] == "ERROR" and "valid host" in failed["fault"]["message"]
        placed[server_id] = None
    finally:
        call(api, "PUT", f"/os-services/{service_id}", admin_token, json={"status": "enabled"})
    for server_id in placed:
        assert call(api, "DELETE", f"/servers/{server_id}", admin_token).status_code == 204

