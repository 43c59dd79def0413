"""Failover segments and reserved hosts (issue 15, Masakari's ``/segments`` and
``/segments/{id}/hosts``): the API with Masakari's rules and refusals, a reserved host
kept from ordinary boots, and recovery by each method on fake hosts -- the failed host's
servers go only to the right hosts of its segment; hosts on maintenance are neither
targets nor watched; a host in no segment is recovered as before; a segment with no
usable host leaves the servers in ERROR and the notification failed, saying why.

Each site is a zone of fresh fake hosts (so that nothing else of the shared cloud is a
candidate); its first host fails (:meth:`test_ha.Site.crash`) and a private
:class:`~pocketstack.ha.manager.InstanceHA` recovers it round by round.
"""

from __future__ import annotations

import time

import pytest
from test_ha import HA, MICRO, SRV_HOST, Site, host_notifications, instance_ha, settle, task_states, vmoves

from pocketstack.ha.manager import RESERVED_REASON

from compute_fixtures import flavor, image  # noqa: F401 - fixtures
from conftest import unique
from test_compute_helpers import boot, call, new_member, retire, wait

OLD = {"OpenStack-API-Version": "instance-ha 1.1"}


def ha_call(api, token, method: str, path: str, expect: int | None = None, headers=MICRO, **kw):
    r = api.request(method, HA + path, token, headers=headers, **kw)
    if expect is not None:
        assert r.status_code == expect, (method, path, r.status_code, r.text)
    return r


def make_segment(api, token, method: str = "auto", **extra) -> dict:
    body = {"segment": {"name": unique("seg"), "recovery_method": method, "service_type": "COMPUTE", **extra}}
    return ha_call(api, token, "POST", "/segments", 201, json=body).json()["segment"]


def add_host(api, token, segment: dict, name: str, **extra) -> dict:
    body = {"host": {"name": name, "type": "COMPUTE", "control_attributes": "SSH", **extra}}
    return ha_call(api, token, "POST", f"/segments/{segment['uuid']}/hosts", 201, json=body).json()["host"]


@pytest.fixture()
def cleanup(api, admin_token):
    """Segments a test made, deleted after it (their reserved hosts released)."""
    made: list[str] = []
    yield made
    for segment_uuid in made:
        ha_call(api, admin_token, "DELETE", f"/segments/{segment_uuid}")


def make_site(api, memories: list[int]) -> Site:
    """Fresh fake hosts, their names in the order of ``memories`` (reserved hosts are
    taken in name order)."""
    hosts = api.cloud.service("compute").compute.hosts
    zone = unique("segzone")
    names = sorted(unique("host") for _ in memories)
    nodes = [hosts.add_fake_host(name, 8, m, 10_000, availability_zone=zone) for name, m in zip(names, memories)]
    return Site(api, zone, nodes)


@pytest.fixture()
def sites(api):
    """Sites of fresh fake hosts (``memories``: each host's RAM), retired after the test."""
    made: list[Site] = []

    def new(memories: list[int]) -> Site:
        made.append(make_site(api, memories))
        return made[-1]
    yield new
    for site in made:
        for node in site.nodes:
            site.start_service(node.host)
            site.driver(node.host).power_on_host()
        retire(api, site.nodes)


def boot_on(site: Site, admin_token, image, flavor, count: int) -> list[str]:  # noqa: F811 - fixtures
    """``count`` ACTIVE servers of a fresh member on the site's first host."""
    api, hosts = site.api, site.compute.hosts
    member = new_member(api, admin_token)
    others = [n for n in site.nodes[1:] if not hosts.by_host(n.host).disabled]
    for node in others:
        hosts.update_service(node.service_id, disabled=True)
    try:
        ids = [boot(api, member["token"], image, flavor["id"], availability_zone=site.zone)["server"]["id"]
               for _ in range(count)]
        for server_id in ids:
            assert wait(api, admin_token, server_id)[SRV_HOST] == site.failing
    finally:
        for node in others:
            hosts.update_service(node.service_id, disabled=False)
    return ids


def recover(site: Site, admin_token, **settings) -> dict:
    """The site's first host fails; the notification of its recovery, once over."""
    ha = instance_ha(site.api, **settings)
    site.crash(site.failing)
    return settle(ha, site.api, admin_token, site.nodes[0])


def host_of(api, admin_token, server_id: str) -> str:
    deadline = time.monotonic() + 20
    while True:
        server = call(api, "GET", f"/servers/{server_id}", admin_token).json()["server"]
        if server["status"] in ("ACTIVE", "ERROR") and not server.get("OS-EXT-STS:task_state"):
            return server[SRV_HOST]
        assert time.monotonic() < deadline, server
        time.sleep(0.05)


def segment_host(api, admin_token, segment: dict, name: str) -> dict:
    hosts = ha_call(api, admin_token, "GET", f"/segments/{segment['uuid']}/hosts", 200).json()["hosts"]
    return next(h for h in hosts if h["name"] == name)


# -- the API -------------------------------------------------------------------------------
def test_segments_and_hosts_with_masakaris_rules(api, admin_token, sites, cleanup):
    site = sites([1_000_000, 1_000_000])
    a, b = site.failing, site.spare
    segment = make_segment(api, admin_token, "auto", description="rack 1")
    cleanup.append(segment["uuid"])
    assert {k: segment[k] for k in ("recovery_method", "service_type", "enabled", "description", "deleted")} == {
        "recovery_method": "auto", "service_type": "COMPUTE", "enabled": True, "description": "rack 1",
        "deleted": False}
    shown = ha_call(api, admin_token, "GET", f"/segments/{segment['uuid']}", 200).json()["segment"]
    assert shown == segment
    listed = ha_call(api, admin_token, "GET", "/segments", 200, params={"recovery_method": "auto"}).json()
    assert segment["uuid"] in [s["uuid"] for s in listed["segments"]]
    # Masakari's refusals.
    bad = {"segment": {"name": unique("seg"), "recovery_method": "magic", "service_type": "COMPUTE"}}
    assert ha_call(api, admin_token, "POST", "/segments", json=bad).status_code == 400
    dup = {"segment": {"name": segment["name"], "recovery_method": "auto", "service_type": "COMPUTE"}}
    r = ha_call(api, admin_token, "POST", "/segments", json=dup)
    assert r.status_code == 409 and "already exists" in r.json()["conflictingRequest"]["message"]
    enabled = {"segment": {"name": unique("seg"), "recovery_method": "auto", "service_type": "C", "enabled": False}}
    assert ha_call(api, admin_token, "POST", "/segments", headers=OLD, json=enabled).status_code == 400  # 1.2+
    assert ha_call(api, admin_token, "PUT", f"/segments/{segment['uuid']}", json={"segment": {}}).status_code == 400
    assert ha_call(api, admin_token, "GET", "/segments/nope").status_code == 404
    assert ha_call(api, admin_token, "GET", "/segments", params={"enabled": "maybe"}).status_code == 400
    # Hosts: compute hosts only, one segment each, booleans as Masakari's strings.
    host = add_host(api, admin_token, segment, a, on_maintenance="No")
    assert (host["failover_segment_id"], host["failover_segment"]["uuid"], host["reserved"],
            host["on_maintenance"]) == (segment["uuid"], segment["uuid"], False, False)
    other = make_segment(api, admin_token)
    cleanup.append(other["uuid"])
    body = {"host": {"name": a, "type": "COMPUTE", "control_attributes": "SSH"}}
    r = ha_call(api, admin_token, "POST", f"/segments/{other['uuid']}/hosts", json=body)
    assert r.status_code == 409, r.text
    body["host"]["name"] = unique("nosuchhost")
    r = ha_call(api, admin_token, "POST", f"/segments/{segment['uuid']}/hosts", json=body)
    assert r.status_code == 400 and "Compute service with name" in r.json()["badRequest"]["message"]
    assert ha_call(api, admin_token, "POST", f"/segments/{unique('x')}/hosts", json=body).status_code == 404
    body["host"] |= {"name": b, "reserved": "maybe"}
    assert ha_call(api, admin_token, "POST", f"/segments/{segment['uuid']}/hosts", json=body).status_code == 400
    path = f"/segments/{segment['uuid']}/hosts/{host['uuid']}"
    updated = ha_call(api, admin_token, "PUT", path, 200, json={"host": {"on_maintenance": "true"}}).json()["host"]
    assert updated["on_maintenance"] is True
    assert ha_call(api, admin_token, "GET", f"/segments/{segment['uuid']}/hosts", 200,
                   params={"on_maintenance": "false"}).json()["hosts"] == []
    assert ha_call(api, admin_token, "GET", f"/segments/{other['uuid']}/hosts/{host['uuid']}").status_code == 404
    # A host on maintenance: an external monitor's report of it is refused (409).
    report = {"notification": {"type": "COMPUTE_HOST", "hostname": a, "generated_time": "2026-12-07T10:00:00Z",
                               "payload": {"event": "STOPPED", "host_status": "NORMAL"}}}
    assert ha_call(api, admin_token, "POST", "/notifications", json=report).status_code == 409
    ha_call(api, admin_token, "DELETE", path, 204)
    assert ha_call(api, admin_token, "GET", path).status_code == 404


def test_a_segment_in_use_by_a_recovery_cannot_change(api, admin_token, sites, cleanup):
    site = sites([1_000_000, 1_000_000])
    segment = make_segment(api, admin_token)
    cleanup.append(segment["uuid"])
    host = add_host(api, admin_token, segment, site.failing)
    report = {"notification": {"type": "COMPUTE_HOST", "hostname": site.failing,
                               "generated_time": "2026-12-07T10:00:00Z", "payload": {"event": "STOPPED"}}}
    ha_call(api, admin_token, "POST", "/notifications", 202, json=report)
    one = f"/segments/{segment['uuid']}"
    for method, path, body in (("PUT", one, {"segment": {"recovery_method": "rh_priority"}}), ("DELETE", one, None),
                               ("PUT", f"{one}/hosts/{host['uuid']}", {"host": {"reserved": True}}),
                               ("DELETE", f"{one}/hosts/{host['uuid']}", None)):
        r = ha_call(api, admin_token, method, path, json=body)
        assert r.status_code == 409 and "in-use to process notifications" in r.text, (method, path, r.text)
    settle(instance_ha(api), api, admin_token, site.nodes[0])  # the recovery ends: the segment is free again
    ha_call(api, admin_token, "PUT", one, 200, json={"segment": {"recovery_method": "rh_priority"}})


def test_a_reserved_host_takes_no_ordinary_boot(api, admin_token, sites, cleanup, image, flavor):  # noqa: F811
    site = sites([1_000_000, 4_000_000])
    reserved = site.spare  # the roomier host: the scheduler's first choice were it not reserved
    segment = make_segment(api, admin_token, "reserved_host")
    cleanup.append(segment["uuid"])
    host = add_host(api, admin_token, segment, reserved, reserved=True)
    assert site.compute.hosts.by_host(reserved).disabled_reason == RESERVED_REASON
    member = new_member(api, admin_token)
    server = boot(api, member["token"], image, flavor["id"], availability_zone=site.zone)["server"]["id"]
    assert wait(api, admin_token, server)[SRV_HOST] == site.failing
    # No longer reserved: a target again.
    ha_call(api, admin_token, "PUT", f"/segments/{segment['uuid']}/hosts/{host['uuid']}", 200,
            json={"host": {"reserved": False}})
    assert not site.compute.hosts.by_host(reserved).disabled
    server = boot(api, member["token"], image, flavor["id"], availability_zone=site.zone)["server"]["id"]
    assert wait(api, admin_token, server)[SRV_HOST] == reserved


# -- recovery by method ----------------------------------------------------------------------
def test_auto_keeps_the_servers_in_the_segment(api, admin_token, sites, cleanup, image, flavor):  # noqa: F811
    # The host outside the segment has the most room: without the segment it would win.
    site = sites([1_000_000, 1_000_000, 4_000_000])
    failing, peer, outsider = (n.host for n in site.nodes)
    servers = boot_on(site, admin_token, image, flavor, 2)
    segment = make_segment(api, admin_token, "auto")
    cleanup.append(segment["uuid"])
    for name in (failing, peer):
        add_host(api, admin_token, segment, name)
    notification = recover(site, admin_token)
    assert notification["status"] == "finished", notification
    assert {host_of(api, admin_token, s) for s in servers} == {peer}
    assert outsider not in {m["dest_host"] for m in vmoves(api, admin_token, notification).values()}
    # The failed host is on maintenance now (Masakari's host-failure handling).
    assert segment_host(api, admin_token, segment, failing)["on_maintenance"] is True


def test_reserved_host_takes_a_reserved_host(api, admin_token, sites, cleanup, image, flavor):  # noqa: F811
    site = sites([1_000_000, 4_000_000, 1_000_000])
    failing, peer, spare = (n.host for n in site.nodes)
    servers = boot_on(site, admin_token, image, flavor, 2)
    segment = make_segment(api, admin_token, "reserved_host")
    cleanup.append(segment["uuid"])
    add_host(api, admin_token, segment, failing)
    add_host(api, admin_token, segment, peer)
    add_host(api, admin_token, segment, spare, reserved=True)
    # Disabled by its operator, as Masakari's guide has it: still taken and enabled.
    site.compute.hosts.update_service(site.nodes[2].service_id, disabled_reason="spare for rack 1")
    notification = recover(site, admin_token)
    assert notification["status"] == "finished", notification
    assert {host_of(api, admin_token, s) for s in servers} == {spare}
    # Taken: its compute service enabled, no longer reserved.
    assert not site.compute.hosts.by_host(spare).disabled
    assert segment_host(api, admin_token, segment, spare)["reserved"] is False
    assert task_states(notification)["CheckFailoverSegmentTask"] == "SUCCESS"


@pytest.mark.parametrize(("method", "expected"), [("auto_priority", "peer"), ("rh_priority", "spare")])
def test_priority_methods_try_their_first_choice(api, admin_token, sites, cleanup, image, flavor,  # noqa: F811
                                                 method, expected):
    site = sites([1_000_000, 1_000_000, 1_000_000])
    failing, peer, spare = (n.host for n in site.nodes)
    servers = boot_on(site, admin_token, image, flavor, 1)
    segment = make_segment(api, admin_token, method)
    cleanup.append(segment["uuid"])
    add_host(api, admin_token, segment, failing)
    add_host(api, admin_token, segment, peer)
    add_host(api, admin_token, segment, spare, reserved=True)
    notification = recover(site, admin_token)
    assert notification["status"] == "finished", notification
    assert host_of(api, admin_token, servers[0]) == {"peer": peer, "spare": spare}[expected]
    assert segment_host(api, admin_token, segment, spare)["reserved"] is (expected != "spare")


@pytest.mark.parametrize("method", ["auto_priority", "rh_priority"])
def test_priority_methods_fall_back_to_the_other(api, admin_token, sites, cleanup, image, flavor, method):  # noqa: F811
    """auto_priority with no usable ordinary host (the only one is on maintenance) takes
    the reserved one; rh_priority with no usable reserved host goes to an ordinary one."""
    site = sites([1_000_000, 1_000_000, 1_000_000])
    failing, peer, spare = (n.host for n in site.nodes)
    servers = boot_on(site, admin_token, image, flavor, 1)
    segment = make_segment(api, admin_token, method)
    cleanup.append(segment["uuid"])
    add_host(api, admin_token, segment, failing)
    add_host(api, admin_token, segment, peer, on_maintenance=method == "auto_priority")
    add_host(api, admin_token, segment, spare, reserved=True, on_maintenance=method == "rh_priority")
    notification = recover(site, admin_token)
    assert notification["status"] == "finished", notification
    assert host_of(api, admin_token, servers[0]) == (spare if method == "auto_priority" else peer)


def test_maintenance_hosts_are_neither_targets_nor_watched(api, admin_token, sites, cleanup, image,  # noqa: F811
                                                           flavor):
    site = sites([1_000_000, 4_000_000, 1_000_000])
    failing, resting, peer = (n.host for n in site.nodes)
    servers = boot_on(site, admin_token, image, flavor, 2)
    segment = make_segment(api, admin_token, "auto")
    cleanup.append(segment["uuid"])
    add_host(api, admin_token, segment, failing)
    add_host(api, admin_token, segment, resting, on_maintenance=True)
    add_host(api, admin_token, segment, peer)
    notification = recover(site, admin_token)
    assert notification["status"] == "finished", notification
    assert {host_of(api, admin_token, s) for s in servers} == {peer}
    # The host on maintenance fails too: nobody notices.
    site.crash(resting)
    ha = instance_ha(api)
    ha.tick()
    ha.tick()
    assert host_notifications(api, admin_token, site.nodes[1]) == []


def test_a_host_in_no_segment_is_recovered_as_before(api, admin_token, sites, cleanup, image, flavor):  # noqa: F811
    site = sites([1_000_000, 1_000_000, 1_000_000])
    failing, peer, member_of_segment = (n.host for n in site.nodes)
    servers = boot_on(site, admin_token, image, flavor, 1)
    segment = make_segment(api, admin_token, "auto")  # other hosts may be in segments
    cleanup.append(segment["uuid"])
    add_host(api, admin_token, segment, member_of_segment)
    site.compute.hosts.update_service(site.nodes[2].service_id, disabled=True)  # only peer is open
    notification = recover(site, admin_token)
    assert notification["status"] == "finished", notification
    assert "CheckFailoverSegmentTask" not in task_states(notification)
    assert host_of(api, admin_token, servers[0]) == peer


def test_no_usable_host_leaves_the_servers_in_error(api, admin_token, sites, cleanup, image, flavor):  # noqa: F811
    site = sites([1_000_000, 1_000_000])
    servers = boot_on(site, admin_token, image, flavor, 2)
    segment = make_segment(api, admin_token, "reserved_host")  # and it has no reserved host
    cleanup.append(segment["uuid"])
    add_host(api, admin_token, segment, site.failing)
    add_host(api, admin_token, segment, site.spare)
    notification = recover(site, admin_token)
    assert notification["status"] == "failed", notification
    assert task_states(notification)["CheckFailoverSegmentTask"] == "FAILURE"
    moves = vmoves(api, admin_token, notification)
    for server_id in servers:
        assert host_of(api, admin_token, server_id) == site.failing
        server = call(api, "GET", f"/servers/{server_id}", admin_token).json()["server"]
        assert server["status"] == "ERROR"
        assert f"no usable host left in failover segment {segment['name']}" in server["fault"]["message"]
        assert moves[server_id]["status"] == "failed"


def test_a_full_reserved_host_hands_over_to_the_next(api, admin_token, sites, cleanup, image, flavor):  # noqa: F811
    """Masakari's reserved-host list: what the first reserved host cannot take goes to the next."""
    site = sites([1_000_000, 80, 1_000_000])
    failing, small, big = (n.host for n in site.nodes)
    servers = boot_on(site, admin_token, image, flavor, 2)
    segment = make_segment(api, admin_token, "reserved_host")
    cleanup.append(segment["uuid"])
    add_host(api, admin_token, segment, failing)
    for name in (big, small):
        add_host(api, admin_token, segment, name, reserved=True)
    notification = recover(site, admin_token)
    assert notification["status"] == "finished", notification
    # The small one (first by name) took one server; the other went on to the big one.
    assert sorted(host_of(api, admin_token, s) for s in servers) == [small, big]
    for name in (small, big):
        assert segment_host(api, admin_token, segment, name)["reserved"] is False
    retried = [m for m in vmoves(api, admin_token, notification).values() if m["dest_host"] == big]
    assert "tried again" in retried[0]["message"], retried


def test_a_disabled_segment_recovers_nothing(api, admin_token, sites, cleanup, image, flavor):  # noqa: F811
    site = sites([1_000_000, 1_000_000])
    servers = boot_on(site, admin_token, image, flavor, 1)
    segment = make_segment(api, admin_token, "auto", enabled=False)
    cleanup.append(segment["uuid"])
    add_host(api, admin_token, segment, site.failing)
    add_host(api, admin_token, segment, site.spare)
    ha = instance_ha(api)
    site.crash(site.failing)
    deadline = time.monotonic() + 20
    while not (found := host_notifications(api, admin_token, site.nodes[0], type="COMPUTE_HOST")) or \
            found[0]["status"] in ("new", "running"):
        ha.tick()
        assert time.monotonic() < deadline
    assert found[0]["status"] == "ignored"
    assert host_of(api, admin_token, servers[0]) == site.failing
    assert not site.compute.hosts.by_host(site.failing).forced_down  # not even fenced


class DiesListingServers:
    """The compute contract of an HA process that dies in the ``fenced`` stage, once its
    plan took a reserved host and before the stage was recorded."""

    def __init__(self, compute):
        self._compute = compute

    def __getattr__(self, name):
        return getattr(self._compute, name)

    def host_servers(self, host: str):
        raise SystemExit("the HA process died")


def test_a_resumed_recovery_takes_the_reserved_host_it_took(api, admin_token, sites, cleanup, image,  # noqa: F811
                                                            flavor):
    site = sites([1_000_000, 1_000_000, 1_000_000])
    failing, first, second = (n.host for n in site.nodes)
    servers = boot_on(site, admin_token, image, flavor, 1)
    segment = make_segment(api, admin_token, "reserved_host")
    cleanup.append(segment["uuid"])
    add_host(api, admin_token, segment, failing)
    for name in (first, second):
        add_host(api, admin_token, segment, name, reserved=True)
    dying = instance_ha(api)
    dying.recovery.compute = DiesListingServers(dying.compute)
    site.crash(failing)
    with pytest.raises(SystemExit):
        for _ in range(20):
            dying.tick()
    assert segment_host(api, admin_token, segment, first)["reserved"] is False  # taken, not recorded
    notification = settle(instance_ha(api), api, admin_token, site.nodes[0])
    assert notification["status"] == "finished", notification
    assert host_of(api, admin_token, servers[0]) == first
    assert segment_host(api, admin_token, segment, second)["reserved"] is True  # never taken
