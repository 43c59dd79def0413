"""Evacuate (admin) a server of a failed fake host: Nova's checks (the source's compute
service must be down, the named host must exist and differ), the server rebuilt on
another host with its ports, os-migrations ``evacuation`` done, and the old guest and
allocation removed when the source host comes back -- never two copies."""

from __future__ import annotations

import pytest

from conftest import unique
from test_compute_helpers import add_hosts, boot, call, make_flavor, make_image, new_member, retire, wait

SRV_HOST = "OS-EXT-SRV-ATTR:host"


@pytest.fixture()
def zone(api):
    name = unique("evaczone")
    nodes = add_hosts(api, name, [4, 4])
    yield name, nodes
    retire(api, nodes)


@pytest.fixture(scope="module")
def image(api, admin_token):
    return make_image(api, admin_token)


@pytest.fixture(scope="module")
def flavor(api, admin_token):
    return make_flavor(api, admin_token, vcpus=1, ram=64, disk=1)


def act(api, token, server_id, body, version="2.64"):
    return call(api, "POST", f"/servers/{server_id}/action", token, version=version, json=body)


def force_down(api, admin_token, node, down: bool = True) -> None:
    r = call(api, "PUT", f"/os-services/{node.service_id}", admin_token, json={"forced_down": down})
    assert r.status_code == 200, r.text


def boot_in(api, admin_token, zone, image, flavor) -> tuple[dict, str]:
    member = new_member(api, admin_token)
    server_id = boot(api, member["token"], image, flavor["id"], availability_zone=zone[0])["server"]["id"]
    assert wait(api, member["token"], server_id)["status"] == "ACTIVE"
    return member, server_id


def test_evacuate_rebuilds_elsewhere_and_the_returning_host_lets_go(api, admin_token, zone, image, flavor):
    compute = api.cloud.service("compute").compute
    placement = api.cloud.service("placement").manager
    member, server_id = boot_in(api, admin_token, zone, image, flavor)
    source = wait(api, admin_token, server_id)[SRV_HOST]
    node = next(n for n in zone[1] if n.host == source)
    # A host whose compute service is up cannot be evacuated.
    r = act(api, admin_token, server_id, {"evacuate": {}})
    assert r.status_code == 400 and r.json()["badRequest"]["message"] == f"Compute service of {source} is still in use."
    force_down(api, admin_token, node)
    r = act(api, admin_token, server_id, {"evacuate": {}})
    assert r.status_code == 200 and not r.content, r.text
    shown = wait(api, admin_token, server_id)
    target = shown[SRV_HOST]
    assert shown["status"] == "ACTIVE" and target != source and target in {n.host for n in zone[1]}
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


def test_stopped_and_error_servers(api, admin_token, zone, image, flavor):
    member, stopped = boot_in(api, admin_token, zone, image, flavor)
    _, broken = boot_in(api, admin_token, zone, image, flavor)
    assert act(api, member["token"], stopped, {"os-stop": None}).status_code == 202
    wait(api, admin_token, stopped)
    assert act(api, admin_token, broken, {"os-resetState": {"state": "error"}}).status_code == 202
    for node in zone[1]:
        force_down(api, admin_token, node)
    try:
        # Both hosts down: nowhere to go, ERROR with a fault (Nova's NoValidHost).
        assert act(api, admin_token, stopped, {"evacuate": {}}).status_code == 200
        shown = wait(api, admin_token, stopped)
        assert shown["status"] == "ERROR" and "No valid host" in shown["fault"]["message"]
    finally:
        for node in zone[1]:
            force_down(api, admin_token, node, down=False)
    hosts = {server: wait(api, admin_token, server)[SRV_HOST] for server in (stopped, broken)}
    for server in (stopped, broken):
        node = next(n for n in zone[1] if n.host == hosts[server])
        force_down(api, admin_token, node)
        assert act(api, admin_token, server, {"evacuate": {}}).status_code == 200
        shown = wait(api, admin_token, server)
        force_down(api, admin_token, node, down=False)
        assert shown[SRV_HOST] != hosts[server] and shown["status"] == "ACTIVE"  # ERROR comes back ACTIVE


def test_refusals(api, admin_token, zone, image, flavor):
    member, server_id = boot_in(api, admin_token, zone, image, flavor)
    source = wait(api, admin_token, server_id)[SRV_HOST]
    node = next(n for n in zone[1] if n.host == source)
    assert act(api, member["token"], server_id, {"evacuate": {}}).status_code == 403
    force_down(api, admin_token, node)
    try:
        r = act(api, admin_token, server_id, {"evacuate": {"host": "no-such-host"}})
        assert r.status_code == 404 and r.json()["itemNotFound"]["message"] == "Compute host no-such-host not found."
        r = act(api, admin_token, server_id, {"evacuate": {"host": source}})
        assert r.status_code == 400 and "can't be the same" in r.json()["badRequest"]["message"]
        assert act(api, admin_token, server_id, {"evacuate": {"force": True}}, version="2.29").status_code == 400
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


def test_host_status_follows_the_servers_compute_service(api, admin_token, zone, image, flavor):
    """2.16's ``host_status`` (admin): UP, DOWN when forced down, MAINTENANCE when
    disabled, as Nova computes it; not shown to the server's owner."""
    member, server_id = boot_in(api, admin_token, zone, image, flavor)
    host = wait(api, admin_token, server_id)[SRV_HOST]
    node = next(n for n in zone[1] if n.host == host)

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
