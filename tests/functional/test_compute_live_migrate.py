"""Live migration (``os-migrateLive``, admin) between fake hosts: the guest moves running
(or paused) without a stop, to a scheduled or named host; placement follows;
os-migrations records a completed ``live-migration``; Nova's 400s and 409s by
microversion; nowhere to go ends the migration in error with the server untouched."""

from __future__ import annotations

import pytest

from conftest import unique
from test_compute_helpers import add_hosts, boot, call, make_flavor, make_image, new_member, retire, wait

SRV_HOST = "OS-EXT-SRV-ATTR:host"
LIVE = {"block_migration": "auto", "host": None}


@pytest.fixture(scope="module")
def zone(api):
    name = unique("livezone")
    nodes = add_hosts(api, name, [4, 4])
    yield name, [n.host for n in nodes]
    retire(api, nodes)


@pytest.fixture(scope="module")
def image(api, admin_token):
    return make_image(api, admin_token)


@pytest.fixture(scope="module")
def flavor(api, admin_token):
    return make_flavor(api, admin_token, vcpus=1, ram=64, disk=1)


@pytest.fixture()
def server(api, admin_token, zone, image, flavor):
    member = new_member(api, admin_token)
    server_id = boot(api, member["token"], image, flavor["id"], availability_zone=zone[0])["server"]["id"]
    assert wait(api, member["token"], server_id)["status"] == "ACTIVE"
    return server_id


def act(api, token, server_id, body, version="2.64"):
    return call(api, "POST", f"/servers/{server_id}/action", token, version=version, json=body)


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


def test_a_paused_server_stays_paused(api, admin_token, server):
    assert act(api, admin_token, server, {"pause": None}).status_code == 202
    assert wait(api, admin_token, server)["status"] == "PAUSED"
    assert act(api, admin_token, server, {"os-migrateLive": LIVE}).status_code == 202
    shown = wait(api, admin_token, server)
    assert shown["status"] == "PAUSED" and shown["OS-EXT-STS:power_state"] == 3


def test_refusals_by_microversion(api, admin_token, server):
    source = wait(api, admin_token, server)[SRV_HOST]
    cases = [
        ("2.1", {"block_migration": False, "host": None}, 400),  # disk_over_commit required before 2.25
        ("2.1", {"block_migration": "auto", "disk_over_commit": False, "host": None}, 400),
        ("2.25", {"block_migration": "maybe", "host": None}, 400),
        ("2.25", {"block_migration": "auto"}, 400),  # host is required (null allowed)
        ("2.30", {"block_migration": "auto", "host": None, "force": True}, 400),  # force needs a host
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
    member = new_member(api, admin_token)
    server_id = boot(api, member["token"], image, flavor["id"], availability_zone=zone[0])["server"]["id"]
    wait(api, member["token"], server_id)
    assert act(api, member["token"], server_id, {"os-migrateLive": LIVE}).status_code == 403


def test_nowhere_to_go(api, admin_token, image, flavor):
    name = unique("lonelive")
    nodes = add_hosts(api, name, [2])
    try:
        member = new_member(api, admin_token)
        server_id = boot(api, member["token"], image, flavor["id"], availability_zone=name)["server"]["id"]
        wait(api, member["token"], server_id)
        assert act(api, admin_token, server_id, {"os-migrateLive": LIVE}).status_code == 202
        shown = wait(api, admin_token, server_id)
        assert shown["status"] == "ACTIVE" and shown[SRV_HOST] == nodes[0].host
        placement = api.cloud.service("placement").manager
        assert len(placement.get_allocations(server_id)) == 1
    finally:
        retire(api, nodes)
