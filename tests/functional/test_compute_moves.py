"""Moving servers between fake hosts (issue 15): cold migration (``migrate``), live
migration (``os-migrateLive``) and evacuate, all admin -- Nova's bodies and answers by
microversion, placement and ``os-migrations`` following each move, a move with nowhere
to go leaving the server where it is, and ``host_status``; evacuated guests removed when
their failed host comes back, so a server never runs twice."""

from __future__ import annotations

import pytest

from compute_fixtures import flavor, image  # noqa: F401 - fixtures
from conftest import unique
from test_compute_helpers import add_hosts, boot, call, new_member, retire, wait

SRV_HOST = "OS-EXT-SRV-ATTR:host"
LIVE = {"block_migration": "auto", "host": None}


@pytest.fixture(scope="module")
def zone(api):
    """Three fresh hosts in a private zone."""
    name = unique("movezone")
    nodes = add_hosts(api, name, [4, 4, 4])
    yield name, [n.host for n in nodes]
    retire(api, nodes)


@pytest.fixture()
def evac_zone(api):
    """Two fresh hosts of a test's own (evacuation forces them down)."""
    name = unique("evaczone")
    nodes = add_hosts(api, name, [4, 4])
    yield name, nodes
    retire(api, nodes)


@pytest.fixture()
def pair(api):
    """Two fresh hosts of a test's own: a live migration always has somewhere to go."""
    name = unique("livezone")
    nodes = add_hosts(api, name, [4, 4])
    yield name, [n.host for n in nodes]
    retire(api, nodes)


def boot_in(api, admin_token, zone_name: str, image, flavor) -> tuple[dict, str]:
    """An ACTIVE server of a fresh member in ``zone_name``."""
    member = new_member(api, admin_token)
    server_id = boot(api, member["token"], image, flavor["id"], availability_zone=zone_name)["server"]["id"]
    assert wait(api, member["token"], server_id)["status"] == "ACTIVE"
    return member, server_id


@pytest.fixture()
def server(api, admin_token, zone, image, flavor):
    return boot_in(api, admin_token, zone[0], image, flavor)[1]


def act(api, token, server_id, body, version="2.64"):
    return call(api, "POST", f"/servers/{server_id}/action", token, version=version, json=body)


def host_of(api, admin_token, server_id) -> str:
    return call(api, "GET", f"/servers/{server_id}", admin_token).json()["server"][SRV_HOST]


def force_down(api, admin_token, node, down: bool = True) -> None:
    r = call(api, "PUT", f"/os-services/{node.service_id}", admin_token, json={"forced_down": down})
    assert r.status_code == 200, r.text


# -- cold migration ------------------------------------------------------------------------
def test_migrate_confirm_moves_the_server_and_its_allocation(api, admin_token, zone, server):
    placement = api.cloud.service("placement").manager
    source = host_of(api, admin_token, server)
    assert act(api, admin_token, server, {"migrate": None}).status_code == 202
    shown = wait(api, admin_token, server)
    assert shown["status"] == "VERIFY_RESIZE" and shown[SRV_HOST] in set(zone[1]) - {source}
    # Both hosts hold resources until the migration is confirmed, as in Nova.
    assert len(placement.get_allocations(server)) == 1
    migration = call(api, "GET", f"/os-migrations?instance_uuid={server}", admin_token,
                     version="2.23").json()["migrations"][0]
    assert (migration["migration_type"], migration["status"], migration["source_compute"]) == (
        "migration", "finished", source)
    assert migration["dest_compute"] == shown[SRV_HOST] and migration["old_instance_type_id"] == \
        migration["new_instance_type_id"]
    assert act(api, admin_token, server, {"confirmResize": None}).status_code == 204
    shown = wait(api, admin_token, server)
    assert shown["status"] == "ACTIVE" and shown[SRV_HOST] != source
    allocations = placement.get_allocations(server)
    assert len(allocations) == 1
    actions = [a["action"] for a in call(api, "GET", f"/servers/{server}/os-instance-actions",
                                         admin_token).json()["instanceActions"]]
    assert "migrate" in actions and "confirmResize" in actions


def test_migrate_to_a_named_host_and_revert(api, admin_token, zone, server):
    source = host_of(api, admin_token, server)
    target = next(h for h in zone[1] if h != source)
    r = act(api, admin_token, server, {"migrate": {"host": target}}, version="2.56")
    assert r.status_code == 202, r.text
    assert wait(api, admin_token, server)[SRV_HOST] == target
    assert act(api, admin_token, server, {"revertResize": None}).status_code == 202
    shown = wait(api, admin_token, server)
    assert shown["status"] == "ACTIVE" and shown[SRV_HOST] == source


def test_migrate_of_a_stopped_server_stays_stopped(api, admin_token, server):
    assert act(api, admin_token, server, {"os-stop": None}).status_code == 202
    assert wait(api, admin_token, server)["status"] == "SHUTOFF"
    assert act(api, admin_token, server, {"migrate": None}).status_code == 202
    assert wait(api, admin_token, server)["status"] == "VERIFY_RESIZE"
    assert act(api, admin_token, server, {"confirmResize": None}).status_code == 204
    assert wait(api, admin_token, server)["status"] == "SHUTOFF"


def test_migrate_refusals(api, admin_token, zone, server):
    source = host_of(api, admin_token, server)
    for body, version in (({"migrate": {"host": source}}, "2.56"), ({"migrate": {"host": "no-such-host"}}, "2.56"),
                          ({"migrate": {"hots": "x"}}, "2.56"), ({"migrate": {"host": ""}}, "2.56")):
        r = act(api, admin_token, server, body, version=version)
        assert r.status_code == 400 and "badRequest" in r.json(), (body, r.text)
    assert act(api, admin_token, server, {"migrate": {"host": source}}, version="2.55").status_code == 202
    shown = wait(api, admin_token, server)  # before 2.56 the host is not looked at: scheduled elsewhere
    assert shown[SRV_HOST] != source
    r = act(api, admin_token, server, {"migrate": None})
    assert r.status_code == 409, r.text  # VERIFY_RESIZE
    assert act(api, admin_token, server, {"confirmResize": None}).status_code == 204


def test_a_member_may_not_migrate(api, admin_token, image, flavor, zone):
    member, server_id = boot_in(api, admin_token, zone[0], image, flavor)
    assert act(api, member["token"], server_id, {"migrate": None}).status_code == 403


def test_migrate_with_nowhere_to_go(api, admin_token, image, flavor):
    name = unique("lonezone")
    nodes = add_hosts(api, name, [2])
    try:
        _, server_id = boot_in(api, admin_token, name, image, flavor)
        assert act(api, admin_token, server_id, {"migrate": None}).status_code == 202
        shown = wait(api, admin_token, server_id)
        assert shown["status"] == "ACTIVE" and shown[SRV_HOST] == nodes[0].host
        assert "fault" not in shown  # recorded, but Nova shows a fault only in ERROR
        migration = call(api, "GET", f"/os-migrations?instance_uuid={server_id}", admin_token,
                         version="2.23").json()["migrations"][0]
        assert migration["status"] == "error"
        placement = api.cloud.service("placement").manager
        assert len(placement.get_allocations(server_id)) == 1
        assert act(api, admin_token, server_id, {"confirmResize": None}).status_code == 409
    finally:
        retire(api, nodes)


# -- live migration ------------------------------------------------------------------------
def test_live_migration_moves_a_running_guest(api, admin_token, zone, server):
    placement = api.cloud.service("placement").manager
    source = wait(api, admin_token, server)[SRV_HOST]
    r = act(api, admin_token, server, {"os-migrateLive": LIVE})
    assert r.status_code == 202, r.text
    shown = wait(api, admin_token, server)
    assert shown["status"] == "ACTIVE" and shown[SRV_HOST] != source and shown[SRV_HOST] in zone[1]
    assert shown["OS-EXT-STS:power_state"] == 1
    allocations = placement.get_allocations(server)
    assert len(allocations) == 1
    migration, = call(api, "GET", f"/os-migrations?instance_uuid={server}", admin_token,
                      version="2.23").json()["migrations"]
    assert (migration["migration_type"], migration["status"], migration["source_compute"],
            migration["dest_compute"]) == ("live-migration", "completed", source, shown[SRV_HOST])
    assert "live-migration" in [a["action"] for a in call(api, "GET", f"/servers/{server}/os-instance-actions",
                                                          admin_token).json()["instanceActions"]]
    # and back, to a named host
    r = act(api, admin_token, server, {"os-migrateLive": {"block_migration": False, "host": source}})
    assert r.status_code == 202, r.text
    assert wait(api, admin_token, server)[SRV_HOST] == source


def test_live_migration_of_a_paused_server(api, admin_token, server):
    assert act(api, admin_token, server, {"pause": None}).status_code == 202
    assert wait(api, admin_token, server)["status"] == "PAUSED"
    assert act(api, admin_token, server, {"os-migrateLive": LIVE}).status_code == 202
    shown = wait(api, admin_token, server)
    assert shown["status"] == "PAUSED" and shown["OS-EXT-STS:power_state"] == 3


def test_live_migration_refusals_by_microversion(api, admin_token, server):
    source = wait(api, admin_token, server)[SRV_HOST]
    cases = [
        ("2.1", {"block_migration": False, "host": None}, 400),  # disk_over_commit required before 2.25
        ("2.1", {"block_migration": "auto", "disk_over_commit": False, "host": None}, 400),
        ("2.25", {"block_migration": "maybe", "host": None}, 400),
        ("2.25", {"block_migration": "auto"}, 400),  # host is required (null allowed)
        ("2.30", {"block_migration": "auto", "host": None, "force": True}, 400),  # force needs a host
        ("2.68", {"block_migration": "auto", "host": None, "force": False}, 400),  # force gone
        ("2.25", {"block_migration": "auto", "host": "no-such-host"}, 400),
        ("2.33", {"block_migration": "auto", "host": source}, 400),  # to itself, checked at once
    ]
    for version, body, code in cases:
        r = act(api, admin_token, server, {"os-migrateLive": body}, version=version)
        assert r.status_code == code and "badRequest" in r.json(), (version, body, r.text)
    # From 2.34 the check is asynchronous: accepted, then the migration is in error.
    assert act(api, admin_token, server, {"os-migrateLive": {"block_migration": "auto", "host": source}},
               version="2.34").status_code == 202
    shown = wait(api, admin_token, server)
    assert shown["status"] == "ACTIVE" and shown[SRV_HOST] == source
    statuses = [m["status"] for m in call(api, "GET", f"/os-migrations?instance_uuid={server}", admin_token,
                                          version="2.23").json()["migrations"]]
    assert statuses == ["error"]
    assert act(api, admin_token, server, {"os-stop": None}).status_code == 202
    wait(api, admin_token, server)
    r = act(api, admin_token, server, {"os-migrateLive": LIVE})
    assert r.status_code == 409, r.text  # SHUTOFF: Nova live-migrates ACTIVE and PAUSED servers only


def test_only_the_admin_live_migrates(api, admin_token, zone, image, flavor):
    member, server_id = boot_in(api, admin_token, zone[0], image, flavor)
    assert act(api, member["token"], server_id, {"os-migrateLive": LIVE}).status_code == 403


def test_live_migration_with_nowhere_to_go(api, admin_token, image, flavor):
    name = unique("lonelive")
    nodes = add_hosts(api, name, [2])
    try:
        _, server_id = boot_in(api, admin_token, name, image, flavor)
        assert act(api, admin_token, server_id, {"os-migrateLive": LIVE}).status_code == 202
        shown = wait(api, admin_token, server_id)
        assert shown["status"] == "ACTIVE" and shown[SRV_HOST] == nodes[0].host
        placement = api.cloud.service("placement").manager
        assert len(placement.get_allocations(server_id)) == 1
    finally:
        retire(api, nodes)


# -- evacuate and host_status ---------------------------------------------------------------
def test_evacuate_rebuilds_elsewhere_and_the_returning_host_lets_go(api, admin_token, evac_zone, image, flavor):
    compute = api.cloud.service("compute").compute
    placement = api.cloud.service("placement").manager
    member, server_id = boot_in(api, admin_token, evac_zone[0], image, flavor)
    source = wait(api, admin_token, server_id)[SRV_HOST]
    node = next(n for n in evac_zone[1] if n.host == source)
    # A host whose compute service is up cannot be evacuated.
    r = act(api, admin_token, server_id, {"evacuate": {}})
    assert r.status_code == 400 and r.json()["badRequest"]["message"] == f"Compute service of {source} is still in use."
    force_down(api, admin_token, node)
    r = act(api, admin_token, server_id, {"evacuate": {}})
    assert r.status_code == 200 and not r.content, r.text
    shown = wait(api, admin_token, server_id)
    target = shown[SRV_HOST]
    assert shown["status"] == "ACTIVE" and target != source and target in {n.host for n in evac_zone[1]}
    migration, = call(api, "GET", f"/os-migrations?instance_uuid={server_id}", admin_token,
                      version="2.59").json()["migrations"]
    assert (migration["migration_type"], migration["status"], migration["source_compute"],
            migration["dest_compute"]) == ("evacuation", "done", source, target)
    # Until the source comes back it still holds the old allocation (and the guest).
    assert server_id in compute.hosts.driver(source)._guests
    assert len(placement.get_allocations(migration["uuid"])) == 1
    force_down(api, admin_token, node, down=False)
    compute.manager.destroy_evacuated_instances(source)  # what the host does when it starts again
    assert server_id not in compute.hosts.driver(source)._guests
    assert server_id in compute.hosts.driver(target)._guests
    assert placement.get_allocations(migration["uuid"]) == {}
    assert len(placement.get_allocations(server_id)) == 1
    assert call(api, "GET", f"/os-migrations?instance_uuid={server_id}", admin_token,
                version="2.59").json()["migrations"][0]["status"] == "completed"


def test_a_starting_host_removes_guests_of_servers_the_database_does_not_hold(api, admin_token, zone, server):
    """What a live reset relies on: the restored state holds no row for a guest still on
    its host, and the host, started again, ends it.  Guests of servers it holds stay,
    whichever host the row names."""
    from pocketstack.compute.drivers.base import GuestSpec

    compute = api.cloud.service("compute").compute
    host = host_of(api, admin_token, server)
    driver = compute.hosts.driver(host)
    stray = "00000000-0000-4000-8000-00000000dead"
    driver.spawn(GuestSpec(instance_id=stray, name="stray", vcpus=1, memory_mb=64, disk_gb=0, image_ref="",
                           topology={"sockets": 1, "cores": 1, "threads": 1}))
    assert {server, stray} <= set(driver.guests())
    compute.manager.destroy_unknown_guests(host)  # what the host does when it starts
    assert stray not in driver.guests() and server in driver.guests()


def test_evacuate_stopped_and_error_servers(api, admin_token, evac_zone, image, flavor):
    member, stopped = boot_in(api, admin_token, evac_zone[0], image, flavor)
    _, broken = boot_in(api, admin_token, evac_zone[0], image, flavor)
    assert act(api, member["token"], stopped, {"os-stop": None}).status_code == 202
    wait(api, admin_token, stopped)
    assert act(api, admin_token, broken, {"os-resetState": {"state": "error"}}).status_code == 202
    for node in evac_zone[1]:
        force_down(api, admin_token, node)
    try:
        # Both hosts down: nowhere to go, ERROR with a fault (Nova's NoValidHost).
        assert act(api, admin_token, stopped, {"evacuate": {}}).status_code == 200
        shown = wait(api, admin_token, stopped)
        assert shown["status"] == "ERROR" and "No valid host" in shown["fault"]["message"]
    finally:
        for node in evac_zone[1]:
            force_down(api, admin_token, node, down=False)
    hosts = {server: wait(api, admin_token, server)[SRV_HOST] for server in (stopped, broken)}
    for server in (stopped, broken):
        node = next(n for n in evac_zone[1] if n.host == hosts[server])
        force_down(api, admin_token, node)
        assert act(api, admin_token, server, {"evacuate": {}}).status_code == 200
        shown = wait(api, admin_token, server)
        force_down(api, admin_token, node, down=False)
        assert shown[SRV_HOST] != hosts[server] and shown["status"] == "ACTIVE"  # ERROR comes back ACTIVE


def test_evacuate_refusals(api, admin_token, evac_zone, image, flavor):
    member, server_id = boot_in(api, admin_token, evac_zone[0], image, flavor)
    source = wait(api, admin_token, server_id)[SRV_HOST]
    node = next(n for n in evac_zone[1] if n.host == source)
    assert act(api, member["token"], server_id, {"evacuate": {}}).status_code == 403
    force_down(api, admin_token, node)
    try:
        r = act(api, admin_token, server_id, {"evacuate": {"host": "no-such-host"}})
        assert r.status_code == 404 and r.json()["itemNotFound"]["message"] == "Compute host no-such-host not found."
        r = act(api, admin_token, server_id, {"evacuate": {"host": source}})
        assert r.status_code == 400 and "can't be the same" in r.json()["badRequest"]["message"]
        assert act(api, admin_token, server_id, {"evacuate": {"force": True}}, version="2.29").status_code == 400
        assert act(api, admin_token, server_id, {"evacuate": {"force": False}}, version="2.68").status_code == 400
        assert act(api, admin_token, server_id, {"evacuate": {}}, version="2.13").status_code == 400
        r = act(api, admin_token, server_id, {"evacuate": {"onSharedStorage": True, "adminPass": "x"}},
                version="2.13")
        assert r.status_code == 400
        # Before 2.14 the answer carries the admin password.
        r = act(api, admin_token, server_id, {"evacuate": {"onSharedStorage": False, "adminPass": "s3cret"}},
                version="2.13")
        assert r.status_code == 200 and r.json() == {"adminPass": "s3cret"}
        assert wait(api, admin_token, server_id)[SRV_HOST] != source
    finally:
        force_down(api, admin_token, node, down=False)


def test_host_status_follows_the_servers_compute_service(api, admin_token, evac_zone, image, flavor):
    """2.16's ``host_status`` (admin): UP, DOWN when forced down, MAINTENANCE when
    disabled, as Nova computes it; not shown to the server's owner."""
    member, server_id = boot_in(api, admin_token, evac_zone[0], image, flavor)
    host = wait(api, admin_token, server_id)[SRV_HOST]
    node = next(n for n in evac_zone[1] if n.host == host)

    def status(token=admin_token):
        return call(api, "GET", f"/servers/{server_id}", token, version="2.16").json()["server"].get("host_status")
    assert status() == "UP"
    force_down(api, admin_token, node)
    assert status() == "DOWN"
    detail = call(api, "GET", "/servers/detail", admin_token, version="2.16",
                  params={"all_tenants": "1"}).json()["servers"]
    assert next(s for s in detail if s["id"] == server_id)["host_status"] == "DOWN"
    force_down(api, admin_token, node, down=False)
    r = call(api, "PUT", f"/os-services/{node.service_id}", admin_token, json={"status": "disabled"})
    assert r.status_code == 200, r.text
    assert status() == "MAINTENANCE"
    r = call(api, "PUT", f"/os-services/{node.service_id}", admin_token, json={"status": "enabled"})
    assert status() == "UP" and status(member["token"]) is None


def slow_moves(api, zone, seconds: float) -> None:
    """Make a live migration from the zone's fake hosts take ``seconds`` unless forced."""
    compute = api.cloud.service("compute").compute
    for host in zone[1]:
        compute.hosts.driver(host).move_time = seconds


def running_migration(api, admin_token, server_id) -> dict:
    for _ in range(100):
        running = call(api, "GET", f"/servers/{server_id}/migrations", admin_token, version="2.59").json()["migrations"]
        if running:
            return running[0]
    raise AssertionError("no live migration seen running")


def test_server_migrations_in_progress_and_force_complete(api, admin_token, pair, image, flavor):
    """``/servers/{id}/migrations`` lists a live migration while it runs (a fake move
    made to take a minute unless forced); force_complete is Nova's: admin only, 2.22+,
    the migration of an ACTIVE server (409 otherwise), unknown 400 -- and it ends the
    move at once; once done the list is empty and the rest 404/409."""
    member, server = boot_in(api, admin_token, pair[0], image, flavor)
    source = host_of(api, admin_token, server)
    slow_moves(api, pair, 60)
    try:
        assert act(api, admin_token, server, {"os-migrateLive": LIVE}).status_code == 202
        base = f"/servers/{server}/migrations"
        running = running_migration(api, admin_token, server)
        assert running["status"] == "running" and running["server_uuid"] == server
        mid = running["id"]
        shown = call(api, "GET", f"{base}/{mid}", admin_token, version="2.59").json()["migration"]
        assert shown["uuid"] == running["uuid"] and shown["memory_total_bytes"] == 0
        force = {"force_complete": None}
        assert call(api, "POST", f"{base}/{mid}/action", admin_token, version="2.21", json=force).status_code == 404
        assert call(api, "POST", f"{base}/{mid}/action", member["token"], version="2.22",
                    json=force).status_code == 403
        assert call(api, "POST", f"{base}/{mid}/action", admin_token, version="2.22",
                    json={"force_complete": 1}).status_code == 400
        r = call(api, "POST", f"{base}/0/action", admin_token, version="2.22", json=force)
        assert r.status_code == 400 and "Migration 0 not found for instance" in r.json()["badRequest"]["message"]
        r = call(api, "POST", f"{base}/{mid}/action", admin_token, version="2.22", json=force)
        assert r.status_code == 202, r.text
        # The force is cast: wait for the move while it is still slow, so that only the
        # force can end it in time (a move made instant first would end on its own).
        moved = wait(api, admin_token, server, timeout=30)[SRV_HOST]
    finally:
        slow_moves(api, pair, 0.0)
    assert moved in set(pair[1]) - {source}
    actions = call(api, "GET", f"/servers/{server}/os-instance-actions", admin_token).json()["instanceActions"]
    assert [a["action"] for a in actions][:2] == ["live_migration_force_complete", "live-migration"]
    assert call(api, "GET", base, admin_token, version="2.23").json() == {"migrations": []}
    r = call(api, "GET", f"{base}/{mid}", admin_token, version="2.23")
    assert r.status_code == 404 and "is not found for server" in r.json()["itemNotFound"]["message"]
    assert call(api, "POST", f"{base}/{mid}/action", admin_token, version="2.22", json=force).status_code == 409
    assert call(api, "DELETE", f"{base}/{mid}", admin_token, version="2.24").status_code == 409
    assert call(api, "GET", base, admin_token, version="2.22").status_code == 404  # listing from 2.23

    # A paused server's migration cannot be forced (Nova wants it ACTIVE).
    assert act(api, admin_token, server, {"pause": None}).status_code == 202
    assert wait(api, admin_token, server)["status"] == "PAUSED"
    slow_moves(api, pair, 60)
    try:
        assert act(api, admin_token, server, {"os-migrateLive": LIVE}).status_code == 202
        paused = running_migration(api, admin_token, server)
        r = call(api, "POST", f"{base}/{paused['id']}/action", admin_token, version="2.22", json=force)
        assert r.status_code == 409 and "vm_state paused" in r.json()["conflictingRequest"]["message"]
        # The finished migration of this server, another than the running one: 400.
        r = call(api, "DELETE", f"{base}/{mid}", admin_token, version="2.24")
        assert r.status_code == 400 and "is completed" in r.json()["badRequest"]["message"]
        assert call(api, "DELETE", f"{base}/{paused['id']}", admin_token, version="2.24").status_code == 202
        # The abort is cast: wait for its rollback while the move is still slow (a move
        # made instant first could finish before the abort reaches the source).
        shown = wait(api, admin_token, server, timeout=30)
    finally:
        slow_moves(api, pair, 0.0)
    assert (shown["status"], shown[SRV_HOST]) == ("PAUSED", moved)


def test_abort_a_live_migration(api, admin_token, pair, image, flavor):
    """Abort (2.24, admin) of a running live migration: 202, and the move is rolled back
    -- the server ACTIVE on its source, its allocation there only, the migration
    ``cancelled``, nothing left on the destination.  Unknown migration 404, not migrating
    409, earlier microversions 404."""
    placement = api.cloud.service("placement").manager
    compute = api.cloud.service("compute").compute
    member, server = boot_in(api, admin_token, pair[0], image, flavor)
    source = host_of(api, admin_token, server)
    base = f"/servers/{server}/migrations"
    slow_moves(api, pair, 60)
    try:
        assert act(api, admin_token, server, {"os-migrateLive": LIVE}).status_code == 202
        running = running_migration(api, admin_token, server)
        mid = running["id"]
        r = call(api, "DELETE", f"{base}/0", admin_token, version="2.24")
        assert r.status_code == 404 and "Migration 0 not found for instance" in r.json()["itemNotFound"]["message"]
        assert call(api, "DELETE", f"{base}/{mid}", admin_token, version="2.65").status_code == 202
        assert call(api, "DELETE", f"{base}/{mid}", admin_token, version="2.23").status_code == 404
        assert call(api, "DELETE", f"{base}/{mid}", member["token"], version="2.24").status_code == 403
        # The abort is cast: wait for its rollback while the move is still slow (a move made
        # instant first could finish before the abort reaches the source, on a loaded machine).
        shown = wait(api, admin_token, server, timeout=30)
    finally:
        slow_moves(api, pair, 0.0)
    assert (shown["status"], shown[SRV_HOST]) == ("ACTIVE", source)
    assert [h for h in pair[1] if server in compute.hosts.driver(h).guests()] == [source]
    assert list(placement.get_allocations(server)) == [
        next(n for n in compute.hosts.list() if n.host == source).id]
    record = call(api, "GET", f"/os-migrations?instance_uuid={server}", admin_token,
                  version="2.59").json()["migrations"][0]
    assert (record["uuid"], record["status"]) == (running["uuid"], "cancelled")
    assert call(api, "GET", "/os-migrations?status=cancelled", admin_token).json()["migrations"]
    actions = call(api, "GET", f"/servers/{server}/os-instance-actions", admin_token).json()["instanceActions"]
    assert [a["action"] for a in actions][:2] == ["live_migration_cancel", "live-migration"]
    r = call(api, "DELETE", f"{base}/{mid}", admin_token, version="2.24")
    assert r.status_code == 409 and "task_state None" in r.json()["conflictingRequest"]["message"]


def test_a_restarted_source_gives_up_a_live_migration_it_left(api, admin_token, zone, server):
    """A host process that died mid-move (Nova's ``_reset_live_migration``): its
    recovery leaves the guest on the host that runs it -- the source here, its
    half-made copy on the destination removed -- the migration ``error``."""
    from pocketstack.compute import states as st
    from pocketstack.compute.transitions import load, transition

    compute = api.cloud.service("compute").compute
    source = host_of(api, admin_token, server)
    dest = next(h for h in zone[1] if h != source)
    inst = load(compute.db, server)
    migration_id = unique("mig")
    assert transition(compute.db, server, {"task_state": None}, {
        "task_state": st.MIGRATING, "migration": {"id": migration_id, "source_host": source, "type": "live-migration",
                                                  "host": None, "dest_host": dest}})
    compute.migration_records.start(inst, migration_id, inst.flavor_id, "admin", "live-migration")
    with compute.manager._guest_spec(inst, inst.flavor, inst.guest) as spec:
        compute.hosts.driver(dest).spawn(spec)  # the half-made copy
    compute.manager.recover(load(compute.db, server))
    shown = wait(api, admin_token, server)
    assert (shown["status"], shown[SRV_HOST]) == ("ACTIVE", source)
    assert server not in compute.hosts.driver(dest).guests() and server in compute.hosts.driver(source).guests()
    record = call(api, "GET", f"/os-migrations?instance_uuid={server}", admin_token,
                  version="2.59").json()["migrations"][0]
    assert (record["uuid"], record["status"]) == (migration_id, "error")


def test_changes_windows_2_58_to_2_66(api, admin_token, zone, server):
    """Instance actions page by request id from 2.58 and take ``changes-since``; from 2.66
    servers, actions and os-migrations take ``changes-before`` too (400 when crossed)."""
    import datetime as dt
    for _ in range(2):
        assert act(api, admin_token, server, {"os-stop": None}).status_code == 202
        wait(api, admin_token, server)
        assert act(api, admin_token, server, {"os-start": None}).status_code == 202
        wait(api, admin_token, server)
    base = f"/servers/{server}/os-instance-actions"
    every = call(api, "GET", base, admin_token, version="2.58").json()["instanceActions"]
    assert [a["action"] for a in every] == ["start", "stop", "start", "stop", "create"]
    page = call(api, "GET", f"{base}?limit=2", admin_token, version="2.58").json()
    assert [a["request_id"] for a in page["instanceActions"]] == [a["request_id"] for a in every[:2]]
    assert page["links"][0]["rel"] == "next" and f"marker={every[1]['request_id']}" in page["links"][0]["href"]
    rest = call(api, "GET", f"{base}?marker={every[1]['request_id']}", admin_token, version="2.58").json()
    assert [a["request_id"] for a in rest["instanceActions"]] == [a["request_id"] for a in every[2:]]
    assert call(api, "GET", f"{base}?marker=nope", admin_token, version="2.58").status_code == 400
    # Old versions ignore the paging (the whole list).
    assert len(call(api, "GET", f"{base}?limit=1", admin_token, version="2.57").json()["instanceActions"]) == 5
    cut = every[1]["updated_at"]
    newer = call(api, "GET", base, admin_token, version="2.58", params={"changes-since": cut}).json()
    assert [a["request_id"] for a in newer["instanceActions"]] == [a["request_id"] for a in every[:2]]
    older = call(api, "GET", base, admin_token, version="2.66", params={"changes-before": cut}).json()
    assert [a["request_id"] for a in older["instanceActions"]] == [a["request_id"] for a in every[1:]]
    crossed = {"changes-since": cut, "changes-before": every[4]["updated_at"]}
    for path in (base, "/servers/detail", "/os-migrations"):
        r = call(api, "GET", path, admin_token, version="2.66", params=crossed)
        assert r.status_code == 400, (path, r.text)
        assert r.json()["badRequest"]["message"] == (
            "The value of changes-since must be less than or equal to changes-before.")
        # 2.65: no changes-before yet; instance actions (from 2.58) and os-migrations (from
        # 2.59) refuse it as an unknown parameter, as Nova's query schemas; servers ignore it.
        expected = 200 if path == "/servers/detail" else 400
        assert call(api, "GET", path, admin_token, version="2.65", params=crossed).status_code == expected
    future = (dt.datetime.now(dt.timezone.utc) + dt.timedelta(days=1)).isoformat()
    listed = call(api, "GET", "/servers/detail", admin_token, version="2.66",
                  params={"changes-before": future, "all_tenants": "1"}).json()["servers"]
    assert server in [s["id"] for s in listed]
    assert call(api, "GET", "/servers/detail", admin_token, version="2.66",
                params={"changes-before": "2000-01-01T00:00:00Z", "all_tenants": "1"}).json()["servers"] == []
    # os-migrations: changes-since from 2.59.
    assert act(api, admin_token, server, {"os-migrateLive": LIVE}).status_code == 202
    wait(api, admin_token, server)
    mine = call(api, "GET", "/os-migrations", admin_token, version="2.59",
                params={"instance_uuid": server, "changes-since": future}).json()["migrations"]
    assert mine == []
    assert call(api, "GET", "/os-migrations", admin_token, version="2.59", params={  # 2.66 only: unknown before
        "instance_uuid": server, "changes-before": "2000-01-01T00:00:00Z"}).status_code == 400
    assert call(api, "GET", "/os-migrations", admin_token, version="2.66", params={
        "instance_uuid": server, "changes-before": "2000-01-01T00:00:00Z"}).json()["migrations"] == []
