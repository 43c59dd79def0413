"""Instance HA on fake hosts (issue 15, seed 003): a failed host is told apart from a
compute service that merely stopped, fenced before anything else, its servers evacuated
(all, or those tagged ``automatic-recovery``), every step recorded and shown by the
Masakari-shaped API; a failed fence stops everything; a leader that dies mid-recovery is
taken over without evacuating anything twice; a fenced host that comes back runs none
of its old guests.

The failures are simulated on the fake hosts of the shared cloud: a host's compute
service stops checking in (its heartbeat no longer announces it) and its machine hangs
(the fake driver's machine stops answering).  Each test drives its own
:class:`~pocketstack.ha.manager.InstanceHA` round by round (``tick``), with settings of
its own, instead of the timed loop of the "ha" role.
"""

from __future__ import annotations

import dataclasses
import threading
import time

import pytest

from pocketstack.common.coordination import Coordinator
from pocketstack.compute.states import RUNNING, SHUTDOWN
from pocketstack.compute.worker import ComputeEndpoint
from pocketstack.ha.leader import Leadership
from pocketstack.ha.manager import InstanceHA

from compute_fixtures import flavor, image  # noqa: F401 - fixtures
from conftest import unique
from test_compute_helpers import add_hosts, boot, call, new_member, retire, wait

HA = "/instance-ha/v1"
MICRO = {"OpenStack-API-Version": "instance-ha 1.3"}
SRV_HOST = "OS-EXT-SRV-ATTR:host"
TAG = "automatic-recovery"


@dataclasses.dataclass
class Site:
    """Two fresh fake hosts in a zone of their own; servers boot on the first."""

    api: object
    zone: str
    nodes: list

    @property
    def failing(self) -> str:
        return self.nodes[0].host

    @property
    def spare(self) -> str:
        return self.nodes[1].host

    @property
    def compute(self):
        return self.api.cloud.service("compute").compute

    @property
    def heartbeat(self):
        return next(w.heartbeat for w in self.api.cloud.service("compute").workers if hasattr(w, "heartbeat"))

    def driver(self, host: str):
        return self.compute.hosts.driver(host)

    def stop_service(self, host: str) -> None:
        """The host's compute service stops checking in; the machine runs on."""
        self.heartbeat.remove_host(host)
        self.compute.hosts.liveness.forget()

    def start_service(self, host: str) -> None:
        self.heartbeat.add_host(host)
        self.compute.hosts.liveness.forget()

    def crash(self, host: str) -> None:
        """The whole host fails: its service is silent and its machine answers nothing."""
        self.stop_service(host)
        self.driver(host).responsive = False


@pytest.fixture()
def site(api):
    nodes = add_hosts(api, unique("hazone"), [8, 8])
    site = Site(api, nodes[0].availability_zone, nodes)
    yield site
    for node in nodes:
        site.start_service(node.host)
        site.driver(node.host).power_on_host()
    retire(api, nodes)


def boot_on_first(site: Site, admin_token, image, flavor, count: int, tags=(), metadata=()) -> tuple[dict, list[str]]:
    """``count`` ACTIVE servers of a fresh member, all on the site's first host; the i-th
    with ``tags[i]`` and ``metadata[i]`` when given."""
    api, hosts = site.api, site.compute.hosts
    member = new_member(api, admin_token)
    hosts.update_service(site.nodes[1].service_id, disabled=True)
    try:
        ids = [boot(api, member["token"], image, flavor["id"], availability_zone=site.zone,
                    **({"tags": list(tags[i])} if tags else {}),
                    **({"metadata": metadata[i]} if metadata else {}))["server"]["id"] for i in range(count)]
        for server_id in ids:
            assert wait(api, admin_token, server_id)[SRV_HOST] == site.failing
    finally:
        hosts.update_service(site.nodes[1].service_id, disabled=False)
    return member, ids


def instance_ha(api, **settings) -> InstanceHA:
    """An HA process of the test's own: confirmation after one look, one fence attempt."""
    base = dict(ha_confirm_count=1, ha_fence_attempts=1)
    return InstanceHA(api.cloud, dataclasses.replace(api.cloud.settings, **(base | settings)))


def host_notifications(api, admin_token, node, **query) -> list[dict]:
    r = api.request("GET", f"{HA}/notifications", admin_token, headers=MICRO,
                    params={"source_host_uuid": node.id, **query})
    assert r.status_code == 200, r.text
    return r.json()["notifications"]


def settle(ha: InstanceHA, api, admin_token, node, timeout: float = 30.0) -> dict:
    """Rounds of ``ha`` until the host's COMPUTE_HOST notification is over; it, in full."""
    deadline = time.monotonic() + timeout
    while True:
        ha.tick()
        found = host_notifications(api, admin_token, node, type="COMPUTE_HOST")
        if found and found[0]["status"] not in ("new", "running"):
            r = api.request("GET", f"{HA}/notifications/{found[0]['notification_uuid']}", admin_token, headers=MICRO)
            return r.json()["notification"]
        assert time.monotonic() < deadline, found
        time.sleep(0.05)


def vmoves(api, admin_token, notification: dict) -> dict[str, dict]:
    r = api.request("GET", f"{HA}/notifications/{notification['notification_uuid']}/vmoves", admin_token,
                    headers=MICRO)
    assert r.status_code == 200, r.text
    return {m["instance_uuid"]: m for m in r.json()["vmoves"]}


def evacuations(api, admin_token, server_id: str) -> list[dict]:
    return [m for m in call(api, "GET", f"/os-migrations?instance_uuid={server_id}", admin_token,
                            version="2.59").json()["migrations"] if m["migration_type"] == "evacuation"]


def task_states(notification: dict) -> dict[str, str]:
    return {t["name"]: t["state"] for t in notification["recovery_workflow_details"]}


# -- a failed host -------------------------------------------------------------------------
def test_a_failed_host_is_fenced_then_evacuated_and_shown(api, admin_token, site, image, flavor):
    member, servers = boot_on_first(site, admin_token, image, flavor, 2)
    ha = instance_ha(api)
    site.crash(site.failing)
    notification = settle(ha, api, admin_token, site.nodes[0])
    assert (notification["type"], notification["status"]) == ("COMPUTE_HOST", "finished"), notification
    assert notification["payload"]["event"] == "STOPPED"
    assert task_states(notification) == {"CheckHostAliveTask": "SUCCESS", "FenceHostTask": "SUCCESS",
                                         "DisableComputeServiceTask": "SUCCESS",
                                         "PrepareHAEnabledInstancesTask": "SUCCESS",
                                         "EvacuateInstancesTask": "SUCCESS"}
    # Fenced first: the machine is off, its guests stopped, the service disabled with the reason.
    assert site.driver(site.failing).powered is False
    node = site.compute.hosts.by_host(site.failing)
    assert node.forced_down and node.disabled and notification["notification_uuid"] in node.disabled_reason
    moves = vmoves(api, admin_token, notification)
    for server_id in servers:
        shown = wait(api, member["token"], server_id)
        assert shown["status"] == "ACTIVE"
        assert call(api, "GET", f"/servers/{server_id}", admin_token).json()["server"][SRV_HOST] == site.spare
        assert (moves[server_id]["status"], moves[server_id]["dest_host"]) == ("succeeded", site.spare)
        assert len(evacuations(api, admin_token, server_id)) == 1
    # Another round finds nothing new: the host is fenced (disabled), its failure closed.
    ha.tick()
    assert len(host_notifications(api, admin_token, site.nodes[0])) == 1


def test_a_stopped_service_on_a_live_host_is_reported_not_evacuated(api, admin_token, site, image, flavor):
    member, servers = boot_on_first(site, admin_token, image, flavor, 1)
    ha = instance_ha(api, ha_confirm_count=2)
    site.stop_service(site.failing)
    ha.tick()
    assert host_notifications(api, admin_token, site.nodes[0]) == []  # not confirmed yet
    ha.tick()
    ha.tick()
    found = host_notifications(api, admin_token, site.nodes[0])
    assert [(n["type"], n["status"]) for n in found] == [("PROCESS", "ignored")], found
    shown = api.request("GET", f"{HA}/notifications/{found[0]['notification_uuid']}", admin_token,
                        headers=MICRO).json()["notification"]
    assert "the host is alive" in shown["recovery_workflow_details"][0]["progress_details"][0]["message"]
    # Nothing fenced, nothing moved: the guest runs on where it was.
    assert site.driver(site.failing).powered is True
    assert call(api, "GET", f"/servers/{servers[0]}", admin_token).json()["server"][SRV_HOST] == site.failing
    assert evacuations(api, admin_token, servers[0]) == []
    assert not site.compute.hosts.by_host(site.failing).disabled
    # The service checks in again: the episode is over; a new stop is a new report.
    site.start_service(site.failing)
    ha.tick()
    site.stop_service(site.failing)
    for _ in range(2):
        ha.tick()
    assert len(host_notifications(api, admin_token, site.nodes[0], type="PROCESS")) == 2


def test_tagged_mode_evacuates_only_tagged_servers(api, admin_token, site, image, flavor):
    """The ``automatic-recovery`` tag, or Masakari's ``HA_Enabled=True`` metadata."""
    member, (tagged, untagged, enabled) = boot_on_first(site, admin_token, image, flavor, 3,
                                                        tags=[[TAG], ["other"], []],
                                                        metadata=[{}, {"HA_Enabled": "False"}, {"HA_Enabled": "True"}])
    ha = instance_ha(api, ha_recovery_mode="tagged")
    site.crash(site.failing)
    notification = settle(ha, api, admin_token, site.nodes[0])
    assert notification["status"] == "finished"
    moves = vmoves(api, admin_token, notification)
    assert [moves[s]["status"] for s in (tagged, untagged, enabled)] == ["succeeded", "ignored", "succeeded"]
    for server_id in (tagged, enabled):
        assert call(api, "GET", f"/servers/{server_id}", admin_token).json()["server"][SRV_HOST] == site.spare
    left = wait(api, member["token"], untagged)
    assert left["status"] == "ERROR" and "HA_Enabled=False" in left["fault"]["message"]
    assert evacuations(api, admin_token, untagged) == []


def test_a_failed_fence_evacuates_nothing(api, admin_token, site, image, flavor, tmp_path):
    member, servers = boot_on_first(site, admin_token, image, flavor, 1)
    tried = tmp_path / "fence.log"
    ha = instance_ha(api, ha_fence_driver="command", ha_fence_attempts=2,
                     ha_fence_command=f"echo {{host}} >> {tried}; echo 'BMC unreachable' >&2; exit 1")
    site.crash(site.failing)
    notification = settle(ha, api, admin_token, site.nodes[0])
    assert notification["status"] == "failed"
    fence = next(t for t in notification["recovery_workflow_details"] if t["name"] == "FenceHostTask")
    assert fence["state"] == "FAILURE" and "BMC unreachable" in fence["progress_details"][-1]["message"]
    assert tried.read_text().split() == [site.failing] * 2  # retried, then given up
    assert vmoves(api, admin_token, notification) == {}
    assert call(api, "GET", f"/servers/{servers[0]}", admin_token).json()["server"][SRV_HOST] == site.failing
    assert not site.compute.hosts.by_host(site.failing).disabled  # left alone
    ha.tick()  # no new attempt while the failure stays open
    assert len(host_notifications(api, admin_token, site.nodes[0])) == 1


# -- the leader ----------------------------------------------------------------------------
class DiesAfter:
    """The compute contract of an HA process that dies after its ``n``-th evacuation."""

    def __init__(self, compute, n: int):
        self._compute, self._left = compute, n

    def __getattr__(self, name):
        return getattr(self._compute, name)

    def evacuate_server(self, *args):
        outcome = self._compute.evacuate_server(*args)
        self._left -= 1
        if self._left == 0:
            raise SystemExit("the HA process died")
        return outcome


def test_the_next_leader_resumes_a_recovery_without_doing_it_twice(api, admin_token, site, image, flavor):
    member, servers = boot_on_first(site, admin_token, image, flavor, 3)
    url = api.cloud.settings.effective_coordination_url
    members = [Coordinator(url, unique("ha")) for _ in range(2)]
    for coordinator in members:
        coordinator.start()
    try:
        name = unique("ha-leader")
        first, second = (Leadership(lambda c=c: c, name) for c in members)
        assert first.lead() and not second.lead()  # exactly one leads
        dying = instance_ha(api)
        dying.recovery.compute = DiesAfter(dying.compute, 2)
        dying.recovery.actor = members[0].member_id  # each HA process is named in the record
        site.crash(site.failing)
        with pytest.raises(SystemExit):
            dying.tick()
        first.resign()  # its process is gone: so is its lock
        assert second.lead()
        following = instance_ha(api)
        following.recovery.actor = members[1].member_id
        notification = settle(following, api, admin_token, site.nodes[0])
    finally:
        for coordinator in members:
            coordinator.stop()
    assert notification["status"] == "finished"
    said = [d["message"] for t in notification["recovery_workflow_details"] for d in t["progress_details"]
            if "took over" in d["message"]]
    assert said == [f"HA process {members[1].member_id} took over the recovery at stage evacuating from "
                    f"{members[0].member_id}, which no longer leads"], notification
    for server_id in servers:
        assert len(evacuations(api, admin_token, server_id)) == 1
        assert vmoves(api, admin_token, notification)[server_id]["status"] == "succeeded"
        running = [h for h in (site.failing, site.spare)
                   if site.driver(h)._guests.get(server_id) and site.driver(h).power_state(server_id) == RUNNING]
        assert running == [site.spare]


def test_an_evacuation_whose_starter_died_before_its_cast_is_sent_again(api, admin_token, site, image, flavor,
                                                                        monkeypatch):
    """The leader dies between a server entering ``rebuilding`` and the cast to the
    schedulers: nothing would ever place it.  The next leader sends it again once it has
    waited ``ha_evacuation_resend_after``; it is evacuated once, under one action."""
    member, [server] = boot_on_first(site, admin_token, image, flavor, 1)
    rpc = site.compute.rpc

    def dies(*args, **kwargs):
        raise SystemExit("the HA process died before the cast left")
    monkeypatch.setattr(rpc, "evacuate_instance", dies)
    site.crash(site.failing)
    with pytest.raises(SystemExit):
        instance_ha(api).tick()
    monkeypatch.undo()
    shown = call(api, "GET", f"/servers/{server}", admin_token, version="2.59").json()["server"]
    assert (shown["OS-EXT-STS:task_state"], shown[SRV_HOST]) == ("rebuilding", site.failing)
    notification = settle(instance_ha(api, ha_evacuation_resend_after=0), api, admin_token, site.nodes[0])
    assert notification["status"] == "finished", notification
    move = vmoves(api, admin_token, notification)[server]
    assert (move["status"], move["dest_host"]) == ("succeeded", site.spare), move
    assert move["message"].startswith("not placed on a host after "), move
    assert len(evacuations(api, admin_token, server)) == 1
    actions = call(api, "GET", f"/servers/{server}/os-instance-actions", admin_token).json()["instanceActions"]
    assert [a["action"] for a in actions] == ["evacuate", "create"], actions


def test_a_duplicate_of_an_evacuation_runs_once_on_its_destination(admin_token, site, image, flavor, monkeypatch):
    """What makes sending an evacuation again safe: the destination drops a copy of the
    rebuild that arrives while one runs, and one arriving after it has nothing to do."""
    member, [server] = boot_on_first(site, admin_token, image, flavor, 1)
    compute = site.compute
    monkeypatch.setattr(compute.rpc, "evacuate_instance", lambda *args: None)  # the cast is ours to deliver
    site.crash(site.failing)
    assert compute.evacuate_server(server, site.failing, "req-dup") == "started"
    assert compute.manager.schedule_evacuation(server) == site.spare
    driver = site.driver(site.spare)
    spawned = []
    spawn = driver.spawn
    monkeypatch.setattr(driver, "spawn", lambda spec: spawned.append(spec.instance_id) or spawn(spec))
    monkeypatch.setattr(driver, "delay", 0.3)  # each driver step of the rebuild takes a while
    endpoint = ComputeEndpoint(compute)
    copies = [threading.Thread(target=endpoint.evacuate_instance, args=(server,)) for _ in range(2)]
    for copy in copies:
        copy.start()
        time.sleep(0.1)
    for copy in copies:
        copy.join()
    endpoint.evacuate_instance(server)  # late: the server is rebuilt already
    assert spawned == [server]
    shown = call(site.api, "GET", f"/servers/{server}", admin_token).json()["server"]
    assert (shown["status"], shown[SRV_HOST]) == ("ACTIVE", site.spare)
    assert compute.resume_evacuation(server) is False  # nothing left to send


# -- the fenced host comes back ------------------------------------------------------------
def test_a_returning_fenced_host_runs_none_of_its_guests(api, admin_token, site, image, flavor):
    member, (tagged, untagged) = boot_on_first(site, admin_token, image, flavor, 2, tags=[[TAG], []])
    ha = instance_ha(api, ha_recovery_mode="tagged")
    site.crash(site.failing)
    assert settle(ha, api, admin_token, site.nodes[0])["status"] == "finished"
    old = site.driver(site.failing)
    old.power_on_host()  # repaired and powered on: its compute service starts again
    site.start_service(site.failing)
    site.compute.manager.destroy_evacuated_instances(site.failing)  # what a starting host does
    assert tagged not in old._guests  # the evacuated guest is gone from it
    assert old.power_state(untagged) == SHUTDOWN  # the one left there stays off (the server is in ERROR)
    node = site.compute.hosts.by_host(site.failing)
    assert node.disabled and node.forced_down  # out of scheduling until an operator says otherwise
    r = call(api, "GET", f"/servers/{tagged}", admin_token, version="2.16").json()["server"]
    assert r["status"] == "ACTIVE" and r[SRV_HOST] == site.spare


# -- the API ---------------------------------------------------------------------------------
def test_an_external_monitor_reports_a_failed_host(api, admin_token, site, image, flavor):
    """``POST /notifications`` (Masakari's hostmonitor): fenced and recovered as the own
    monitor's; a second report while it is open is a 409; other reports are recorded."""
    member, servers = boot_on_first(site, admin_token, image, flavor, 1)
    body = {"notification": {"type": "COMPUTE_HOST", "hostname": site.failing,
                             "generated_time": "2026-12-06T10:00:00Z",
                             "payload": {"event": "STOPPED", "host_status": "UNKNOWN", "cluster_status": "OFFLINE"}}}
    r = api.request("POST", f"{HA}/notifications", admin_token, headers=MICRO, json=body)
    assert r.status_code == 202, r.text
    created = r.json()["notification"]
    assert (created["status"], created["generated_time"]) == ("new", "2026-12-06T10:00:00.000000")
    again = api.request("POST", f"{HA}/notifications", admin_token, headers=MICRO, json=body)
    assert again.status_code == 409 and "conflictingRequest" in again.json()
    notification = settle(instance_ha(api), api, admin_token, site.nodes[0])
    assert notification["notification_uuid"] == created["notification_uuid"]
    assert notification["status"] == "finished" and site.driver(site.failing).powered is False
    process = dict(body["notification"], type="PROCESS", payload={"event": "STOPPED", "process_name": "x"})
    r = api.request("POST", f"{HA}/notifications", admin_token, json={"notification": process})
    assert r.status_code == 202 and r.json()["notification"]["status"] == "ignored"


def test_api_refusals_and_versions(api, admin_token, demo_token):
    r = api.request("GET", "/instance-ha/")
    assert r.status_code == 200 and r.json()["versions"][0]["version"] == "1.3"
    assert api.request("GET", f"{HA}/notifications", demo_token).status_code == 403
    missing = api.request("GET", f"{HA}/notifications/{unique('x')}", admin_token)
    assert missing.status_code == 404 and "itemNotFound" in missing.json()
    for query in ({"status": "bogus"}, {"type": "HOST"}, {"generated-since": "yesterday"},
                  {"source_host_uuid": "nope"}, {"limit": "-1"}, {"sort_key": "payload"},
                  {"marker": "00000000-0000-0000-0000-000000000000"}):
        r = api.request("GET", f"{HA}/notifications", admin_token, params=query)
        assert r.status_code == 400 and "badRequest" in r.json(), (query, r.text)
    body = {"notification": {"type": "COMPUTE_HOST", "hostname": "no-such-host", "generated_time": "2026-12-06",
                             "payload": {}}}
    assert api.request("POST", f"{HA}/notifications", admin_token, json=body).status_code == 400
    body["notification"]["generated_time"] = "not a time"
    assert api.request("POST", f"{HA}/notifications", admin_token, json=body).status_code == 400
    assert api.request("GET", f"{HA}/notifications/x/vmoves", admin_token,
                       headers={"OpenStack-API-Version": "instance-ha 1.2"}).status_code == 404
    r = api.request("GET", f"{HA}/notifications", admin_token, headers={"OpenStack-API-Version": "instance-ha 1.9"})
    assert r.status_code == 406
