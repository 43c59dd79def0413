"""Shelve, shelveOffload and unshelve on the fake hypervisor: Nova's states and
statuses, the ``<name>-shelved`` image made and deleted, the host's claim given back on
offload and taken again on unshelve (by a scheduler), volume-backed servers offloaded at
once, a delete of an offloaded server taking its image, and the 409s."""

from __future__ import annotations

import contextlib

import pytest
from test_volume_servers import create_volume, raw_image, wait_volume  # noqa: F401 - fixture

from pocketstack.compute import states as st
from pocketstack.compute.transitions import load, transition

from compute_fixtures import flavor, image  # noqa: F401 - fixtures
from test_compute_helpers import boot, call, new_member, wait, wait_gone

SRV_HOST = "OS-EXT-SRV-ATTR:host"
DONE = ("ACTIVE", "ERROR", "SHUTOFF", "SHELVED", "SHELVED_OFFLOADED", "PAUSED", "SUSPENDED")


@pytest.fixture()
def member(api, admin_token):
    return new_member(api, admin_token)


@contextlib.contextmanager
def never_offloaded(api):
    """``shelved_offload_time = -1`` for the block: shelved servers stay SHELVED."""
    settings = api.cloud.service("compute").compute.manager.hosts.settings
    saved, settings.shelved_offload_time = settings.shelved_offload_time, -1
    try:
        yield
    finally:
        settings.shelved_offload_time = saved


def act(api, token, server_id, body, expect=202):
    r = call(api, "POST", f"/servers/{server_id}/action", token, json=body)
    assert r.status_code == expect, r.text
    return r


def shelved_images(api, token, server_id: str) -> list[dict]:
    images = api.request("GET", "/image/v2/images", token).json()["images"]
    return [i for i in images if i.get("instance_uuid") == server_id]


def test_shelve_offload_and_unshelve(api, admin_token, member, image, flavor):
    token = member["token"]
    placement = api.cloud.service("placement").manager
    server = boot(api, token, image, flavor["id"])["server"]
    server["name"] = wait(api, token, server["id"])["name"]
    act(api, token, server["id"], {"shelve": None})
    shown = wait(api, admin_token, server["id"], until=DONE)
    # shelved_offload_time = 0 (Nova's default): straight on to SHELVED_OFFLOADED.
    assert shown["status"] == "SHELVED_OFFLOADED" and shown["OS-EXT-STS:vm_state"] == "shelved_offloaded"
    assert shown[SRV_HOST] is None and shown["OS-EXT-STS:power_state"] == 0
    assert placement.get_allocations(server["id"]) == {}
    snap, = shelved_images(api, token, server["id"])
    assert snap["name"] == f"{server['name']}-shelved" and snap["status"] == "active"
    # Nothing but unshelve (and delete) is possible now.
    for body in ({"os-start": None}, {"reboot": {"type": "HARD"}}, {"shelve": None}, {"pause": None}):
        act(api, token, server["id"], body, expect=409)
    act(api, token, server["id"], {"unshelve": None})
    shown = wait(api, token, server["id"], until=DONE)
    assert shown["status"] == "ACTIVE" and shown["OS-EXT-STS:power_state"] == 1
    assert call(api, "GET", f"/servers/{server['id']}", admin_token).json()["server"][SRV_HOST]
    assert len(placement.get_allocations(server["id"])) == 1
    assert shelved_images(api, token, server["id"]) == []  # deleted once unshelved, as Nova
    actions = [a["action"] for a in call(api, "GET", f"/servers/{server['id']}/os-instance-actions",
                                         token).json()["instanceActions"]]
    assert actions[:2] == ["unshelve", "shelve"]


def test_shelved_without_offload_then_offload_and_delete(api, admin_token, member, image, flavor):
    token = member["token"]
    server_id = boot(api, token, image, flavor["id"])["server"]["id"]
    wait(api, token, server_id)
    with never_offloaded(api):
        act(api, token, server_id, {"shelve": None})
        shown = wait(api, admin_token, server_id, until=DONE)
    assert shown["status"] == "SHELVED" and shown[SRV_HOST] and shown["OS-EXT-STS:power_state"] == 4
    # Offloading is the admin's (Nova's default policy).
    act(api, token, server_id, {"shelveOffload": None}, expect=403)
    act(api, admin_token, server_id, {"shelveOffload": None})
    assert wait(api, admin_token, server_id, until=DONE)["status"] == "SHELVED_OFFLOADED"
    assert len(shelved_images(api, token, server_id)) == 1
    assert call(api, "DELETE", f"/servers/{server_id}", token).status_code == 204
    wait_gone(api, token, server_id)
    assert shelved_images(api, token, server_id) == []


def test_unshelve_of_a_shelved_server_powers_it_on_where_it_is(api, admin_token, member, image, flavor):
    token = member["token"]
    server_id = boot(api, token, image, flavor["id"])["server"]["id"]
    host = wait(api, admin_token, server_id)[SRV_HOST]
    with never_offloaded(api):
        act(api, token, server_id, {"shelve": None})
        assert wait(api, admin_token, server_id, until=DONE)["status"] == "SHELVED"
    act(api, token, server_id, {"unshelve": None})
    shown = wait(api, admin_token, server_id, until=DONE)
    assert shown["status"] == "ACTIVE" and shown[SRV_HOST] == host
    assert shelved_images(api, token, server_id) == []


def test_volume_backed_server_is_offloaded_at_once_without_an_image(api, admin_token, member, flavor,
                                                                   raw_image):  # noqa: F811
    token = member["token"]
    body = {"server": {"name": "bfv-shelve", "flavorRef": flavor["id"], "networks": "none",
                       "block_device_mapping_v2": [{"boot_index": 0, "uuid": raw_image, "source_type": "image",
                                                    "destination_type": "volume", "volume_size": 1,
                                                    "delete_on_termination": True}]}}
    r = call(api, "POST", "/servers", token, json=body)
    assert r.status_code == 202, r.text
    server_id = r.json()["server"]["id"]
    assert wait(api, token, server_id)["status"] == "ACTIVE"
    with never_offloaded(api):
        act(api, token, server_id, {"shelve": None})
        shown = wait(api, admin_token, server_id, until=DONE)
    assert shown["status"] == "SHELVED_OFFLOADED" and shelved_images(api, token, server_id) == []
    assert len(shown["os-extended-volumes:volumes_attached"]) == 1
    act(api, token, server_id, {"unshelve": None})
    assert wait(api, token, server_id, until=DONE)["status"] == "ACTIVE"


def test_paused_and_stopped_servers_shelve(api, admin_token, member, image, flavor):
    token = member["token"]
    for first, status in (({"pause": None}, "PAUSED"), ({"os-stop": None}, "SHUTOFF")):
        server_id = boot(api, token, image, flavor["id"])["server"]["id"]
        wait(api, token, server_id)
        act(api, token, server_id, first)
        assert wait(api, token, server_id, until=DONE)["status"] == status
        act(api, token, server_id, {"shelve": None})
        assert wait(api, token, server_id, until=DONE)["status"] == "SHELVED_OFFLOADED"
    act(api, token, server_id, {"unshelve": None})
    act(api, token, server_id, {"unshelve": None}, expect=409)  # already unshelving (or ACTIVE)


def test_interrupted_offload_and_unshelve_are_finished_by_recovery(api, admin_token, member, image, flavor):
    """A restarted host runs an interrupted offload again, and a scheduler the
    interrupted unshelve of an offloaded server (its claim released first)."""
    compute = api.cloud.service("compute").compute
    token = member["token"]
    server_id = boot(api, token, image, flavor["id"])["server"]["id"]
    wait(api, token, server_id)
    with never_offloaded(api):
        act(api, token, server_id, {"shelve": None})
        assert wait(api, admin_token, server_id, until=DONE)["status"] == "SHELVED"
    # As if the process died after the API moved it into shelving_offloading.
    assert transition(compute.db, server_id, {"vm_state": st.SHELVED, "task_state": None},
                      {"task_state": st.SHELVING_OFFLOADING})
    compute.manager.recover(load(compute.db, server_id))
    assert load(compute.db, server_id).vm_state == st.SHELVED_OFFLOADED
    # ...and after the API moved it into unshelving, before any scheduler took the cast.
    assert transition(compute.db, server_id, {"vm_state": st.SHELVED_OFFLOADED, "task_state": None},
                      {"task_state": st.UNSHELVING})
    # What a scheduler's sweep does with it: the recover cast, through the real RPC path.
    compute.rpc._cast(None, "recover_instance", instance_id=server_id)
    assert wait(api, token, server_id, until=DONE)["status"] == "ACTIVE"


def test_volumes_attach_and_detach_while_offloaded(api, admin_token, member, image, flavor):
    """As Nova: an offloaded server has no host, so the API completes the attachment
    itself (``in-use`` at once) and the unshelved guest gets the disk; a detach while
    offloaded frees the volume at once."""
    compute = api.cloud.service("compute").compute
    token = member["token"]
    project = {"token": token, "id": member["project"]["id"]}
    server_id = boot(api, token, image, flavor["id"])["server"]["id"]
    wait(api, token, server_id)
    act(api, token, server_id, {"shelve": None})
    assert wait(api, token, server_id, until=DONE)["status"] == "SHELVED_OFFLOADED"
    kept, dropped = create_volume(api, project), create_volume(api, project)
    for volume in (kept, dropped):
        r = call(api, "POST", f"/servers/{server_id}/os-volume_attachments", token,
                 json={"volumeAttachment": {"volumeId": volume["id"]}})
        assert r.status_code == 200, r.text
        assert wait_volume(api, project, volume["id"], ("in-use",))["attachments"][0]["server_id"] == server_id
    assert call(api, "DELETE", f"/servers/{server_id}/os-volume_attachments/{dropped['id']}",
                token).status_code == 202
    assert wait_volume(api, project, dropped["id"], ("available",))["attachments"] == []
    act(api, token, server_id, {"unshelve": None})
    shown = wait(api, admin_token, server_id, until=DONE)
    assert shown["status"] == "ACTIVE"
    guest = compute.hosts.driver(shown[SRV_HOST])._guests[server_id]
    assert list(guest.volumes) == [kept["id"]]
    attachment = call(api, "GET", f"/servers/{server_id}/os-volume_attachments/{kept['id']}",
                      token).json()["volumeAttachment"]
    assert attachment["device"] == "/dev/vdb"
