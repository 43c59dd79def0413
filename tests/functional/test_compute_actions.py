"""Server actions and their state machine, instance actions, diagnostics, server groups
and the recovery of operations interrupted by a restart."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from pocketstack.common.errors import NotFound

from compute_fixtures import image, user  # noqa: F401 - fixtures
from conftest import unique
from test_compute_helpers import add_hosts, boot, call, make_flavor, make_image, new_member, retire, wait, wait_gone


@pytest.fixture(scope="module")
def flavor(api, admin_token):
    return make_flavor(api, admin_token, vcpus=2, ram=128, disk=1)


@pytest.fixture
def server(api, user, image, flavor):
    server_id = boot(api, user["token"], image, flavor["id"])["server"]["id"]
    wait(api, user["token"], server_id)
    yield server_id
    call(api, "DELETE", f"/servers/{server_id}", user["token"])
    wait_gone(api, user["token"], server_id)


def act(api, token, server_id, body, expect=202):
    r = call(api, "POST", f"/servers/{server_id}/action", token, json=body)
    assert r.status_code == expect, r.text
    return r


def console(api, token, server_id) -> str:
    return act(api, token, server_id, {"os-getConsoleOutput": {}}, expect=200).json()["output"]


def test_rescue_boots_the_image_asked_for_attached_as_it_says(api, admin_token, user, server):
    """The rescue image reaches the host, and its hw_rescue_device/hw_rescue_bus make the
    rescue a stable device rescue (the server's disks stay, the device is added)."""
    token = user["token"]
    act(api, token, server, {"rescue": None}, expect=200)
    assert wait(api, token, server)["status"] == "RESCUE"
    assert console(api, token, server).splitlines()[-1].endswith(
        "booted rescue image of its own in place of its root disk")
    act(api, token, server, {"unrescue": None})
    assert wait(api, token, server)["status"] == "ACTIVE"
    cd = make_image(api, admin_token, hw_rescue_device="cdrom", hw_rescue_bus="ide")
    act(api, token, server, {"rescue": {"rescue_image_ref": cd}}, expect=200)
    assert wait(api, token, server)["status"] == "RESCUE"
    assert console(api, token, server).splitlines()[-1].endswith(
        f"booted rescue image {cd} a cdrom on ide beside its own disks")
    act(api, token, server, {"unrescue": None})
    assert wait(api, token, server)["status"] == "ACTIVE"
    assert console(api, token, server).splitlines()[-1].endswith("booted from own disk")


def test_power_cycle_and_invalid_states(api, user, admin_token, server):
    token = user["token"]
    act(api, token, server, {"os-stop": None})
    assert wait(api, token, server)["status"] == "SHUTOFF"
    shown = call(api, "GET", f"/servers/{server}", token).json()["server"]
    assert shown["OS-EXT-STS:power_state"] == 4
    r = act(api, token, server, {"os-stop": None}, expect=409)
    assert r.json()["conflictingRequest"]["message"] == (
        f"Cannot 'stop' instance {server} while it is in vm_state stopped")
    act(api, token, server, {"reboot": {"type": "SOFT"}}, expect=409)
    act(api, token, server, {"os-start": None})
    assert wait(api, token, server)["status"] == "ACTIVE"
    act(api, token, server, {"reboot": {"type": "HARD"}})
    assert wait(api, token, server)["status"] == "ACTIVE"
    act(api, token, server, {"reboot": {"type": "SIDEWAYS"}}, expect=400)
    for verb, state in (("pause", "PAUSED"), ("unpause", "ACTIVE"), ("suspend", "SUSPENDED"),
                        ("resume", "ACTIVE"), ("rescue", "RESCUE"), ("unrescue", "ACTIVE")):
        r = act(api, token, server, {verb: None}, expect=200 if verb == "rescue" else 202)
        if verb == "rescue":
            assert r.json()["adminPass"]
        assert wait(api, token, server)["status"] == state, verb
    act(api, token, server, {"unpause": None}, expect=409)
    act(api, token, server, {"fly": None}, expect=400)
    output = act(api, token, server, {"os-getConsoleOutput": {"length": 2}}, expect=200).json()["output"]
    assert len(output.split("\n")) == 2, "Nova's tail: the last pieces between newlines"
    full = act(api, token, server, {"os-getConsoleOutput": {}}, expect=200).json()["output"]
    assert "login:" in full and "cpu topology" in full
    actions = call(api, "GET", f"/servers/{server}/os-instance-actions", token).json()["instanceActions"]
    assert [a["action"] for a in actions][-1] == "create"
    assert {"stop", "start", "reboot", "pause", "rescue"} <= {a["action"] for a in actions}
    stop = next(a for a in actions if a["action"] == "stop")
    detail = call(api, "GET", f"/servers/{server}/os-instance-actions/{stop['request_id']}", token).json()
    events = detail["instanceAction"]["events"]
    assert events[0]["event"] == "compute_stop_instance" and events[0]["result"] == "Success"
    assert "traceback" not in events[0] and "host" not in events[0] and events[0]["hostId"]
    # The admin (Nova's os-instance-actions:events) sees tracebacks and, from 2.62, hosts;
    # before 2.51 nobody else sees the events at all.
    path = f"/servers/{server}/os-instance-actions/{stop['request_id']}"
    [seen] = call(api, "GET", path, admin_token).json()["instanceAction"]["events"][:1]
    assert "traceback" in seen and seen["host"]
    assert "host" not in call(api, "GET", path, admin_token, version="2.61").json()["instanceAction"]["events"][0]
    assert "events" not in call(api, "GET", path, token, version="2.50").json()["instanceAction"]


def test_build_events_end_with_the_build(api, user, admin_token, image, flavor):
    """The scheduling and build events end in the transactions that place the server and
    make it ACTIVE: both are finished, with Success, once the server is ACTIVE; each server
    of a multi-create has its own create action."""
    token = user["token"]
    name = unique("events")
    boot(api, token, image, flavor["id"], name=name, min_count=2, max_count=2)
    servers = call(api, "GET", "/servers", token, params={"name": f"^{name}-"}).json()["servers"]
    assert len(servers) == 2
    for listed in servers:
        assert wait(api, token, listed["id"])["status"] == "ACTIVE"
        actions = call(api, "GET", f"/servers/{listed['id']}/os-instance-actions", token).json()["instanceActions"]
        assert [a["action"] for a in actions] == ["create"]
        detail = call(api, "GET", f"/servers/{listed['id']}/os-instance-actions/{actions[0]['request_id']}",
                      admin_token, version="2.51").json()["instanceAction"]
        events = {e["event"]: e for e in detail["events"]}
        assert set(events) == {"compute__schedule_and_build_instances", "compute__do_build_and_run_instance"}
        for event in events.values():
            assert event["result"] == "Success" and event["finish_time"], event
        call(api, "DELETE", f"/servers/{listed['id']}", token)
    for listed in servers:
        wait_gone(api, token, listed["id"])


def test_lock(api, user, admin_token, server):
    token = user["token"]
    act(api, token, server, {"lock": None})
    assert call(api, "GET", f"/servers/{server}", token).json()["server"]["locked"] is True
    r = act(api, token, server, {"os-stop": None}, expect=409)
    assert r.json()["conflictingRequest"]["message"] == f"Instance {server} is locked"
    assert call(api, "DELETE", f"/servers/{server}", token).status_code == 409
    act(api, admin_token, server, {"os-stop": None})  # admins may act on locked servers
    wait(api, token, server)
    act(api, token, server, {"unlock": None})
    act(api, admin_token, server, {"lock": None})
    act(api, token, server, {"unlock": None}, expect=403)  # locked by an admin
    act(api, admin_token, server, {"unlock": None})
    act(api, token, server, {"os-start": None})
    assert wait(api, token, server)["status"] == "ACTIVE"


def test_resize_confirm_and_revert(api, admin_token, user, server, flavor):
    token = user["token"]
    bigger = make_flavor(api, admin_token, vcpus=4, ram=256, disk=1)
    act(api, token, server, {"resize": {"flavorRef": flavor["id"]}}, expect=400)  # same flavor
    act(api, token, server, {"resize": {"flavorRef": "nope"}}, expect=400)
    act(api, token, server, {"resize": {"flavorRef": bigger["id"]}})
    shown = wait(api, token, server)
    assert shown["status"] == "VERIFY_RESIZE" and shown["flavor"]["vcpus"] == 4
    used = call(api, "GET", "/limits", token).json()["limits"]["absolute"]
    assert used["totalCoresUsed"] == 4
    placement = api.cloud.service("placement").manager
    assert len(placement.get_allocations(server)) == 1
    act(api, token, server, {"revertResize": None})
    shown = wait(api, token, server)
    assert shown["status"] == "ACTIVE" and shown["flavor"]["vcpus"] == 2
    assert call(api, "GET", "/limits", token).json()["limits"]["absolute"]["totalCoresUsed"] == 2
    assert list(placement.get_allocations(server).values())[0]["VCPU"] == 2
    act(api, token, server, {"confirmResize": None}, expect=409)
    act(api, token, server, {"resize": {"flavorRef": bigger["id"]}})
    assert wait(api, token, server)["status"] == "VERIFY_RESIZE"
    act(api, token, server, {"confirmResize": None}, expect=204)
    shown = wait(api, token, server)
    assert shown["status"] == "ACTIVE" and shown["flavor"]["original_name"] == bigger["name"]
    allocations = placement.get_allocations(server)
    assert list(allocations.values())[0]["VCPU"] == 4 and len(allocations) == 1
    actions = {a["action"] for a in call(api, "GET", f"/servers/{server}/os-instance-actions",
                                         token).json()["instanceActions"]}
    assert {"resize", "confirmResize", "revertResize"} <= actions


def test_create_image_and_rebuild(api, admin_token, user, server, image):
    token = user["token"]
    r = act(api, token, server, {"createImage": {"name": unique("snap"), "metadata": {"purpose": "test"}}})
    image_id = r.json()["image_id"]
    wait(api, token, server)
    snap = api.request("GET", f"/image/v2/images/{image_id}", token).json()
    assert snap["status"] == "active" and snap["instance_uuid"] == server and snap["purpose"] == "test"
    old = call(api, "POST", f"/servers/{server}/action", token, version="2.44",
               json={"createImage": {"name": unique("snap")}})
    assert old.status_code == 202 and "/images/" in old.headers["Location"] and not old.content
    wait(api, token, server)
    r = act(api, token, server, {"rebuild": {"imageRef": image_id, "name": "rebuilt"}})
    assert r.json()["server"]["status"] == "REBUILD" and r.json()["server"]["adminPass"]
    shown = wait(api, token, server)
    assert shown["status"] == "ACTIVE" and shown["image"]["id"] == image_id and shown["name"] == "rebuilt"


def test_diagnostics_show_topology_to_admins(api, admin_token, user, image):
    flavor = make_flavor(api, admin_token, vcpus=4, ram=128)
    call(api, "POST", f"/flavors/{flavor['id']}/os-extra_specs", admin_token,
         json={"extra_specs": {"hw:cpu_sockets": "2"}})
    server_id = boot(api, user["token"], image, flavor["id"])["server"]["id"]
    wait(api, user["token"], server_id)
    assert call(api, "GET", f"/servers/{server_id}/diagnostics", user["token"]).status_code == 403
    standard = call(api, "GET", f"/servers/{server_id}/diagnostics", admin_token).json()
    assert standard["num_cpus"] == 4 and set(standard) == {
        "state", "driver", "hypervisor", "hypervisor_os", "uptime", "config_drive", "num_cpus", "num_disks",
        "num_nics", "memory_details", "cpu_details", "disk_details", "nic_details"}
    # Measured by the server's host (a call to it): the fake hypervisor's guest.
    assert standard["hypervisor"] == "fake" and [c["id"] for c in standard["cpu_details"]] == [0, 1, 2, 3]
    diag = call(api, "GET", f"/servers/{server_id}/diagnostics", admin_token, version="2.47").json()
    assert diag["cpu_topology"]["sockets"] == 2
    assert diag["cpu_topology"]["sockets"] * diag["cpu_topology"]["cores"] * diag["cpu_topology"]["threads"] == 4
    assert {"cpu0_time", "cpu3_time", "memory"} <= set(diag)
    call(api, "DELETE", f"/servers/{server_id}", user["token"])
    wait_gone(api, user["token"], server_id)


def test_bad_topology_is_400(api, admin_token, user, image):
    flavor = make_flavor(api, admin_token, vcpus=3, ram=128)
    call(api, "POST", f"/flavors/{flavor['id']}/os-extra_specs", admin_token,
         json={"extra_specs": {"hw:cpu_max_sockets": "1", "hw:cpu_max_cores": "1", "hw:cpu_max_threads": "1"}})
    body = boot(api, user["token"], image, flavor["id"], expect=400)
    assert "topology" in body["badRequest"]["message"]


def test_server_groups(api, admin_token, image, flavor):
    member = new_member(api, admin_token)
    token = member["token"]
    r = call(api, "POST", "/os-server-groups", token, json={"server_group": {"name": "g", "policy": "anti-affinity"}})
    assert r.status_code == 200, r.text
    group = r.json()["server_group"]
    assert group["policy"] == "anti-affinity" and group["rules"] == {} and group["members"] == []
    old = call(api, "GET", f"/os-server-groups/{group['id']}", token, version="2.1").json()["server_group"]
    assert old["policies"] == ["anti-affinity"] and "policy" not in old
    assert call(api, "POST", "/os-server-groups", token,
                json={"server_group": {"name": "g", "policy": "sideways"}}).status_code == 400
    ids = [boot(api, token, image, flavor["id"], hints={"group": group["id"]})["server"]["id"] for _ in range(2)]
    hosts = {wait(api, admin_token, i)["OS-EXT-SRV-ATTR:host"] for i in ids}
    assert len(hosts) == 2  # anti-affinity: one per host
    shown = call(api, "GET", f"/os-server-groups/{group['id']}", token).json()["server_group"]
    assert sorted(shown["members"]) == sorted(ids)
    stranger = new_member(api, admin_token)["token"]
    assert call(api, "GET", f"/os-server-groups/{group['id']}", stranger).status_code == 404
    listed = call(api, "GET", "/os-server-groups", token).json()["server_groups"]
    assert [g["id"] for g in listed] == [group["id"]]
    assert group["id"] in {g["id"] for g in call(api, "GET", "/os-server-groups?all_projects=1",
                                                 admin_token).json()["server_groups"]}
    # Group member quota.
    call(api, "PUT", f"/os-quota-sets/{member['project']['id']}", admin_token,
         json={"quota_set": {"server_group_members": 2}})
    body = boot(api, token, image, flavor["id"], hints={"group": group["id"]}, expect=403)
    assert "server_group_members" in body["forbidden"]["message"]
    affinity = call(api, "POST", "/os-server-groups", token,
                    json={"server_group": {"name": "a", "policy": "affinity"}}).json()["server_group"]
    together = [boot(api, token, image, flavor["id"], hints={"group": affinity["id"]})["server"]["id"]
                for _ in range(2)]
    assert len({wait(api, admin_token, i)["OS-EXT-SRV-ATTR:host"] for i in together}) == 1
    for server_id in ids + together:
        call(api, "DELETE", f"/servers/{server_id}", token)
    for server_id in ids + together:
        wait_gone(api, token, server_id)
    assert call(api, "DELETE", f"/os-server-groups/{group['id']}", token).status_code == 204
    assert call(api, "GET", f"/os-server-groups/{group['id']}", token).status_code == 404


def test_interrupted_operations_are_recovered(api, user, image, flavor):
    """A process that died mid-operation leaves task states behind; recovery resumes or
    fails each one from its persisted state."""
    from pocketstack.compute import states as st
    from pocketstack.compute.transitions import transition

    compute = api.cloud.service("compute").compute
    token = user["token"]
    stopping, resizing = [boot(api, token, image, flavor["id"])["server"]["id"] for _ in range(2)]
    for server_id in (stopping, resizing):
        wait(api, token, server_id)
    # Simulate a crash right after the API persisted the transitions.
    assert transition(compute.db, stopping, {"task_state": None}, {"task_state": st.POWERING_OFF})
    assert transition(compute.db, resizing, {"task_state": None}, {"task_state": st.RESIZE_MIGRATING})
    compute.rpc.recover()
    assert wait(api, token, stopping)["status"] == "SHUTOFF"
    failed = wait(api, token, resizing)
    assert failed["status"] == "ERROR" and "interrupted" in failed["fault"]["message"]
    for server_id in (stopping, resizing):
        call(api, "DELETE", f"/servers/{server_id}", token)
        wait_gone(api, token, server_id)


def test_interrupted_snapshot_leaves_no_queued_image(api, user, server, image):
    """A snapshot cut off by a restart: recovery clears the task and deletes the image
    that never got its data, leaving the instance's finished snapshots alone."""
    from pocketstack.common.context import RequestContext
    from pocketstack.compute import states as st
    from pocketstack.compute.transitions import transition

    compute = api.cloud.service("compute").compute
    token = user["token"]
    done = act(api, token, server, {"createImage": {"name": unique("snap")}}).json()["image_id"]
    assert wait(api, token, server)["OS-EXT-STS:task_state"] is None
    # The API's half of a second snapshot: the queued image and the task state, then a crash.
    base = compute.images.bootable(RequestContext.admin(), image)
    orphan = compute.images.create_snapshot(RequestContext.admin(), unique("snap"), server, base, {})
    assert transition(compute.db, server, {"task_state": None}, {"task_state": st.IMAGE_SNAPSHOT})
    compute.rpc.recover()
    assert wait(api, token, server)["OS-EXT-STS:task_state"] is None
    images = api.cloud.service("image").manager
    assert images.unfinished_snapshots(server) == []
    with pytest.raises(NotFound):
        images.get_image(RequestContext.admin(), orphan)
    assert images.get_image(RequestContext.admin(), done).status == "active"


def test_anti_affinity_max_server_per_host_under_concurrency(api, admin_token, image, flavor):
    """Twelve members booted at once onto three hosts allowing two each: exactly six fit,
    never three on one host (the group generation CAS makes racing members re-decide)."""
    member = new_member(api, admin_token)
    token = member["token"]
    call(api, "PUT", f"/os-quota-sets/{member['project']['id']}", admin_token,
         json={"quota_set": {"instances": -1, "cores": -1, "ram": -1, "server_group_members": -1}})
    zone = unique("zone")
    nodes = add_hosts(api, zone, [64, 64, 64], memory_mb=65536)
    group = call(api, "POST", "/os-server-groups", token, json={"server_group": {
        "name": "two-per-host", "policy": "anti-affinity", "rules": {"max_server_per_host": 2}}}).json()
    group_id = group["server_group"]["id"]
    assert group["server_group"]["rules"] == {"max_server_per_host": 2}
    with ThreadPoolExecutor(max_workers=12) as pool:
        ids = list(pool.map(lambda _: boot(api, token, image, flavor["id"], availability_zone=zone,
                                           hints={"group": group_id})["server"]["id"], range(12)))
    servers = [wait(api, admin_token, i) for i in ids]
    placed = [s["OS-EXT-SRV-ATTR:host"] for s in servers if s["status"] == "ACTIVE"]
    assert len(placed) == 6 and sorted(placed.count(h) for h in set(placed)) == [2, 2, 2]
    assert [s["status"] for s in servers].count("ERROR") == 6
    assert call(api, "POST", "/os-server-groups", token, json={"server_group": {
        "name": "x", "policy": "affinity", "rules": {"max_server_per_host": 2}}}).status_code == 400
    for server_id in ids:
        call(api, "DELETE", f"/servers/{server_id}", token)
    for server_id in ids:
        wait_gone(api, token, server_id)
    retire(api, nodes)


def test_rebuild_keeps_a_stopped_server_stopped(api, user, server, image):
    token = user["token"]
    act(api, token, server, {"os-stop": None})
    wait(api, token, server)
    act(api, token, server, {"rebuild": {"imageRef": image}})
    shown = wait(api, token, server)
    assert shown["status"] == "SHUTOFF" and shown["OS-EXT-STS:power_state"] == 4


@pytest.mark.parametrize("vcpus", [4, 1])
def test_delete_during_verify_resize_releases_the_larger_flavor(api, admin_token, image, flavor, vcpus):
    member = new_member(api, admin_token)
    token = member["token"]
    server_id = boot(api, token, image, flavor["id"])["server"]["id"]
    wait(api, token, server_id)
    target = make_flavor(api, admin_token, vcpus=vcpus, ram=128, disk=1)
    act(api, token, server_id, {"resize": {"flavorRef": target["id"]}})
    assert wait(api, token, server_id)["status"] == "VERIFY_RESIZE"
    used = call(api, "GET", "/limits", token).json()["limits"]["absolute"]["totalCoresUsed"]
    assert used == max(vcpus, flavor["vcpus"])
    call(api, "DELETE", f"/servers/{server_id}", token)
    wait_gone(api, token, server_id)
    assert call(api, "GET", "/limits", token).json()["limits"]["absolute"]["totalCoresUsed"] == 0


def test_reset_state_is_admin_only_and_overrides_the_state(api, admin_token, user, server):
    act(api, user["token"], server, {"os-resetState": {"state": "error"}}, expect=403)
    act(api, admin_token, server, {"os-resetState": {"state": "sideways"}}, expect=400)
    act(api, admin_token, server, {"os-resetState": {"state": "error"}})
    assert call(api, "GET", f"/servers/{server}", user["token"]).json()["server"]["status"] == "ERROR"
    act(api, admin_token, server, {"os-resetState": {"state": "active"}})
    assert call(api, "GET", f"/servers/{server}", user["token"]).json()["server"]["status"] == "ACTIVE"
    act(api, admin_token, "00000000-0000-0000-0000-000000000000", {"os-resetState": {"state": "error"}}, expect=404)
    act(api, admin_token, server, {"injectNetworkInfo": None})
    act(api, user["token"], server, {"restore": None}, expect=409)
    act(api, admin_token, "00000000-0000-0000-0000-000000000000", {"migrate": None}, expect=404)
    act(api, user["token"], server, {"migrate": None}, expect=403)  # more in test_compute_moves.py
    act(api, user["token"], server, {"os-migrateLive": {"host": None, "block_migration": "auto"}}, expect=403)
    r = act(api, admin_token, server, {"evacuate": {}}, expect=400)  # more in test_compute_moves.py
    assert "is still in use" in r.json()["badRequest"]["message"]


def test_snapshot_metadata_wins_and_rebuild_answers_nova_shape(api, user, server, image):
    token = user["token"]
    r = act(api, token, server, {"createImage": {"name": unique("snap"), "metadata": {"image_type": "test"}}})
    snap = api.request("GET", f"/image/v2/images/{r.json()['image_id']}", token).json()
    assert snap["image_type"] == "test" and snap["instance_uuid"] == server
    wait(api, token, server)
    r = call(api, "POST", f"/servers/{server}/action", token, version="2.53", json={"rebuild": {"imageRef": image}})
    out = r.json()["server"]
    assert "OS-EXT-STS:vm_state" not in out and "security_groups" not in out and "key_name" not in out
    assert out["adminPass"] and out["id"] == server
    wait(api, token, server)
    assert "key_name" in act(api, token, server, {"rebuild": {"imageRef": image}}).json()["server"], "2.54"
    wait(api, token, server)
    out = call(api, "PUT", f"/servers/{server}", token, json={"server": {"name": "renamed"}}).json()["server"]
    assert out["name"] == "renamed" and "OS-EXT-AZ:availability_zone" not in out


def test_create_backup_rotates_the_oldest_away(api, user, server):
    token = user["token"]
    ids = []
    for n in range(3):
        # Image timestamps are whole seconds on MariaDB (the image tables' DATETIME), and
        # rotation goes by age: give each backup its own second so the oldest is defined.
        time.sleep(1.05 - time.time() % 1)
        r = act(api, token, server, {"createBackup": {"name": f"backup-{n}", "backup_type": "daily",
                                                      "rotation": 2}})
        ids.append(r.json()["image_id"])
        wait(api, token, server)
    listed = api.request("GET", f"/image/v2/images?instance_uuid={server}&image_type=backup&backup_type=daily"
                                "&sort_key=created_at&sort_dir=asc", token).json()["images"]
    assert [i["id"] for i in listed] == ids[1:] and [i["name"] for i in listed] == ["backup-1", "backup-2"]
    act(api, token, server, {"createBackup": {"name": "x", "backup_type": "daily"}}, expect=400)


def test_os_migrations_follow_resizes(api, admin_token, user, server, flavor):
    token = user["token"]
    bigger = make_flavor(api, admin_token, vcpus=3, ram=256, disk=1)

    def migrations(version="2.59"):
        r = call(api, "GET", f"/os-migrations?instance_uuid={server}", admin_token, version=version)
        assert r.status_code == 200, r.text
        return r.json()["migrations"]

    act(api, token, server, {"resize": {"flavorRef": bigger["id"]}})
    wait(api, token, server)
    first, = migrations()
    assert first["status"] == "finished" and first["migration_type"] == "resize" and first["uuid"]
    assert first["source_compute"] and first["dest_compute"] and first["instance_uuid"] == server
    act(api, token, server, {"revertResize": None})
    wait(api, token, server)
    assert migrations()[0]["status"] == "reverted"
    act(api, token, server, {"resize": {"flavorRef": bigger["id"]}})
    wait(api, token, server)
    act(api, token, server, {"confirmResize": None}, expect=204)
    wait(api, token, server)
    newest, older = migrations()
    assert (newest["status"], older["status"]) == ("confirmed", "reverted") and older["id"] == first["id"]
    assert [m["id"] for m in call(api, "GET", f"/os-migrations?instance_uuid={server}&limit=1", admin_token,
                                  version="2.59").json()["migrations"]] == [newest["id"]]
    legacy = migrations("2.1")[0]
    assert "migration_type" not in legacy and "uuid" not in legacy and legacy["old_instance_type_id"] is None
    assert call(api, "GET", "/os-migrations", token).status_code == 403
    assert [m["status"] for m in call(api, "GET", "/os-migrations?status=reverted", admin_token).json()[
        "migrations"] if m["instance_uuid"] == server] == ["reverted"]


def test_fake_remote_console(api, user, demo_token, server):
    token = user["token"]
    r = call(api, "POST", f"/servers/{server}/remote-consoles", token,
             json={"remote_console": {"protocol": "vnc", "type": "novnc"}})
    assert r.status_code == 200, r.text
    console = r.json()["remote_console"]
    assert console["protocol"] == "vnc" and console["type"] == "novnc" and "token%3D" in console["url"]
    r = call(api, "POST", f"/servers/{server}/remote-consoles", token,
             json={"remote_console": {"protocol": "spice", "type": "spice-html5"}})
    assert r.status_code == 400 and "badRequest" in r.json()
    r = call(api, "POST", f"/servers/{server}/remote-consoles", token, version="2.5",
             json={"remote_console": {"protocol": "vnc", "type": "novnc"}})
    assert r.status_code == 400
    legacy = act(api, token, server, {"os-getVNCConsole": {"type": "novnc"}}, expect=200).json()["console"]
    assert legacy["type"] == "novnc" and legacy["url"].startswith("http")
    act(api, token, server, {"os-getSerialConsole": {"type": "serial"}}, expect=400)
    r = call(api, "POST", f"/servers/{server}/remote-consoles", demo_token,
             json={"remote_console": {"protocol": "vnc", "type": "novnc"}})
    assert r.status_code == 404, "another project's server does not exist for the caller"


def test_snapshot_of_an_image_deleted_meanwhile_ends_quietly(api, user, server, image, caplog):
    """The image a snapshot uploads into is deleted while the guest's disk is copied
    (Tempest's test_delete_saving_image does it): the snapshot ends with a warning, the
    task state is cleared, and no error is logged (Nova: "Image not found during snapshot")."""
    from pocketstack.common.context import RequestContext
    from pocketstack.compute import states as st
    from pocketstack.compute.transitions import transition

    compute = api.cloud.service("compute").compute
    base = compute.images.bootable(RequestContext.admin(), image)
    target = compute.images.create_snapshot(RequestContext.admin(), unique("snap"), server, base, {})
    assert transition(compute.db, server, {"task_state": None}, {"task_state": st.IMAGE_SNAPSHOT})
    compute.images.delete(target)
    with caplog.at_level("WARNING", logger="pocketstack.compute.lifecycle"):
        compute.manager.snapshot_instance(server, target)
    assert wait(api, user["token"], server)["OS-EXT-STS:task_state"] is None
    assert [r.levelname for r in caplog.records if "deleted during the snapshot" in r.getMessage()] == ["WARNING"]


def test_the_scheduler_keeps_to_the_hosts_a_request_allows(api):
    """``Request.hosts`` (a real guest's resize stays on its host, whose disks are not moved
    between hosts): only those hosts are chosen, and none of them fitting is NoValidHost."""
    from pocketstack.compute.scheduler import NoValidHost, Request

    zone = unique("az")
    nodes = add_hosts(api, zone, [4], memory_mb=100_000) + add_hosts(api, zone, [4], memory_mb=900_000)
    compute = api.cloud.service("compute").compute
    flavor = {"vcpus": 2, "ram": 64, "disk": 1, "extra_specs": {}}
    try:
        def request(instance_id, hosts):
            return Request(instance_id, "p", "u", flavor, {}, zone, hosts=hosts)
        # Unrestricted, the larger host wins on free RAM; restricted, the smaller one is taken.
        free = compute.scheduler.select_and_claim(request(unique("i"), None)).node
        kept = compute.scheduler.select_and_claim(request(unique("i"), frozenset({nodes[0].host}))).node
        assert free.host == nodes[1].host and kept.host == nodes[0].host
        with pytest.raises(NoValidHost):
            compute.scheduler.select_and_claim(request(unique("i"), frozenset({"no-such-host"})))
    finally:
        retire(api, nodes)
