"""The leading HA monitor killed mid-recovery, across processes (issue 15).

A scaled-out cloud on the fake hypervisor over PostgreSQL, RabbitMQ and Redis (tooz
locks: the HA leader's, expiring ``lock_timeout`` seconds after its holder's last
heartbeat): ``pocketstack api``, ``scheduler``, two ``compute --host`` and two
``pocketstack ha``, every process sharing one data directory (so the HA processes read
the fake hosts' machines: ``compute/drivers/fake_machine.py``).  Host B is slow (every
operation of its fake driver takes ``SLOW`` seconds), so evacuations to it stay in
flight a while.

Three servers tagged ``automatic-recovery`` and one untagged boot on host A
(``ha_recovery_mode = "tagged"``); host A's compute process is killed (``kill -9``: the
fake host's machine dies with it); once the leading HA process has fenced it and its
evacuations run, the leading HA process is killed (``kill -9``) too.  The other one must
take the lead and finish the recovery: every tagged server ACTIVE on host B, evacuated
exactly once (one migration record, one ``evacuate`` action, one vmove each); the
untagged one in ERROR with the policy's fault; the notification ``finished`` with the
takeover in its record; nothing left ``new``/``running``/``pending``/``ongoing``.
About 50 s, mostly waiting: run it with /work/notes/heavy.
"""

from __future__ import annotations

import contextlib
import signal
import socket
import uuid

import httpx
import pytest

from backends import scratch_database
from cloudproc import REDIS_URL, ProcessGroup, admin_token, cluster_settings, eventually, forget_cluster, free_port
from support import require_service

SERVICE_DOWN_TIME = 5
LOCK_TIMEOUT = 5
SLOW = 12.0  # seconds each fake operation of host B takes (an evacuation's spawn among them)
HOSTS = ("host-a", "host-b")
COMPUTE = {"OpenStack-API-Version": "compute 2.64"}
HA = {"OpenStack-API-Version": "instance-ha 1.3"}
pytestmark = pytest.mark.timeout(400)


class Cloud(ProcessGroup):
    url: str = ""
    token: str = ""

    def api(self, method: str, path: str, headers: dict | None = None, **kw) -> httpx.Response:
        response = httpx.request(method, self.url + path, headers={"X-Auth-Token": self.token, **COMPUTE,
                                                                   **(headers or {})}, timeout=30, **kw)
        assert response.status_code < 500, response.text
        return response

    def server(self, server_id: str) -> dict:
        return self.api("GET", f"/compute/v2.1/servers/{server_id}").json()["server"]

    def notifications(self) -> list[dict]:
        return self.api("GET", "/instance-ha/v1/notifications", HA).json()["notifications"]

    def notification(self, notification_uuid: str) -> dict:
        return self.api("GET", f"/instance-ha/v1/notifications/{notification_uuid}", HA).json()["notification"]

    def vmoves(self, notification_uuid: str) -> dict[str, dict]:
        found = self.api("GET", f"/instance-ha/v1/notifications/{notification_uuid}/vmoves", HA).json()["vmoves"]
        return {m["instance_uuid"]: m for m in found}

    def services(self) -> dict[str, dict]:
        return {s["host"]: s for s in
                self.api("GET", "/compute/v2.1/os-services?binary=nova-compute").json()["services"]}

    def member(self, name: str) -> str:
        """The coordination member id of process ``name`` (how the HA record names it)."""
        return f"{socket.gethostname()}-{self.processes[name].pid}"

    def leads(self, name: str) -> bool:
        return f"this process leads ({self.member(name)})" in self.log(name)


@pytest.fixture
def cloud(tmp_path):
    for service in ("postgresql", "rabbitmq", "redis"):
        require_service(service)
    cluster_name = f"pstest{uuid.uuid4().hex[:10]}"
    with scratch_database("postgresql", tmp_path) as database_url:
        settings = cluster_settings(cluster_name, database_url, f"{REDIS_URL}?lock_timeout={LOCK_TIMEOUT}",
                                    SERVICE_DOWN_TIME) + '''ha_monitor_interval = 1.0
ha_confirm_count = 2
ha_recovery_mode = "tagged"
ha_fence_attempts = 1
ha_evacuation_resend_after = 5
'''
        (tmp_path / "cloud.toml").write_text(settings)
        (tmp_path / "slow.toml").write_text(settings + f"fake_op_delay = {SLOW}\n")
        cloud = Cloud(tmp_path, tmp_path / "cloud.toml")
        port = free_port()
        cloud.url = f"http://127.0.0.1:{port}"
        try:
            cloud.start_api("api", port)  # it migrates the database: the others start after it
            cloud.token, _ = admin_token(cloud.url)
            cloud.start("scheduler", "scheduler", data_dir="api")
            for host in HOSTS:
                cloud.start(host, "compute", "--host", host, "--vcpus", "16", "--memory-mb", "16384", data_dir="api",
                            config=tmp_path / ("slow.toml" if host == "host-b" else "cloud.toml"))

            def up():
                for name, process in cloud.processes.items():
                    assert process.poll() is None, f"{name} exited:\n{cloud.log(name)}"
                return {h for h, s in cloud.services().items() if s["state"] == "up"} == set(HOSTS)
            eventually(up, timeout=90, interval=1)
            cloud.start("ha-1", "ha", data_dir="api")
            eventually(lambda: cloud.leads("ha-1"), timeout=60, interval=0.5)
            cloud.start("ha-2", "ha", data_dir="api")  # a follower: the lead is taken
            yield cloud
        finally:
            cloud.stop_all()
            with contextlib.suppress(Exception):
                forget_cluster(cluster_name, {"scheduler": [socket.gethostname()], "compute": HOSTS})


def boot_on_host_a(cloud: Cloud) -> tuple[list[str], str]:
    """Three tagged servers and one untagged, ACTIVE on host A (host B disabled meanwhile)."""
    image = cloud.root / "image.raw"
    image.write_bytes(b"\0" * 1024)
    headers = {"X-Auth-Token": cloud.token}
    image_id = httpx.post(f"{cloud.url}/image/v2/images", headers=headers, json={
        "name": "img", "disk_format": "raw", "container_format": "bare", "visibility": "public"}).json()["id"]
    assert httpx.put(f"{cloud.url}/image/v2/images/{image_id}/file", headers={
        **headers, "Content-Type": "application/octet-stream"}, content=image.read_bytes()).status_code == 204
    flavor = cloud.api("POST", "/compute/v2.1/flavors", json={"flavor": {
        "name": "tiny", "ram": 64, "vcpus": 1, "disk": 1}}).json()["flavor"]["id"]
    host_b = cloud.services()["host-b"]["id"]
    assert cloud.api("PUT", f"/compute/v2.1/os-services/{host_b}", json={"status": "disabled"}).status_code == 200
    ids = []
    for index, tags in enumerate([["automatic-recovery"]] * 3 + [[]]):
        body = {"name": f"vm{index}", "imageRef": image_id, "flavorRef": flavor, "networks": "none",
                **({"tags": tags} if tags else {})}
        response = cloud.api("POST", "/compute/v2.1/servers", json={"server": body})
        assert response.status_code == 202, response.text
        ids.append(response.json()["server"]["id"])
    for server_id in ids:
        eventually(lambda server_id=server_id: cloud.server(server_id)["status"] == "ACTIVE", timeout=60)
        assert cloud.server(server_id)["OS-EXT-SRV-ATTR:host"] == "host-a"
    assert cloud.api("PUT", f"/compute/v2.1/os-services/{host_b}", json={"status": "enabled"}).status_code == 200
    return ids[:3], ids[3]


def test_the_leading_ha_process_killed_mid_recovery_is_taken_over(cloud):
    assert not cloud.leads("ha-2")
    tagged, untagged = boot_on_host_a(cloud)

    host_a = cloud.processes["host-a"]
    host_a.send_signal(signal.SIGKILL)
    host_a.wait()

    def evacuating():
        found = [n for n in cloud.notifications() if n["type"] == "COMPUTE_HOST"]
        if not found:
            return None
        moves = cloud.vmoves(found[0]["notification_uuid"])
        return found[0] if any(m["status"] == "ongoing" for m in moves.values()) else None
    notification = eventually(evacuating, timeout=SERVICE_DOWN_TIME * 8, interval=0.3)
    leader = cloud.processes["ha-1"]
    leader.send_signal(signal.SIGKILL)  # mid-recovery: its evacuations take SLOW seconds
    leader.wait()
    uuid_ = notification["notification_uuid"]
    at_kill = cloud.notification(uuid_), cloud.vmoves(uuid_), {i: cloud.server(i)["OS-EXT-STS:task_state"]
                                                                for i in tagged}
    assert at_kill[0]["status"] == "running" and "rebuilding" in at_kill[2].values(), at_kill
    assert "host host-a fenced" in cloud.log("ha-1")

    eventually(lambda: cloud.leads("ha-2"), timeout=LOCK_TIMEOUT * 6, interval=0.5)

    def finished():
        shown = cloud.notification(uuid_)
        return shown if shown["status"] not in ("new", "running") else None
    try:
        done = eventually(finished, timeout=SLOW * 8 + 60, interval=1)
    except AssertionError:
        raise AssertionError({"vmoves": cloud.vmoves(uuid_), "servers": [cloud.server(i) for i in tagged],
                              "notification": cloud.notification(uuid_)}) from None
    assert done["status"] == "finished", (done, cloud.log("ha-2"))
    tasks = {t["name"]: t for t in done["recovery_workflow_details"]}
    assert {name: t["state"] for name, t in tasks.items()} == {
        "CheckHostAliveTask": "SUCCESS", "FenceHostTask": "SUCCESS", "DisableComputeServiceTask": "SUCCESS",
        "PrepareHAEnabledInstancesTask": "SUCCESS", "EvacuateInstancesTask": "SUCCESS"}, done
    evacuate_lines = [d["message"] for d in tasks["EvacuateInstancesTask"]["progress_details"]]
    assert (f"HA process {cloud.member('ha-2')} took over the recovery at stage evacuating from "
            f"{cloud.member('ha-1')}, which no longer leads") in evacuate_lines, evacuate_lines
    assert evacuate_lines[-1] == "3 succeeded, 0 failed, 1 ignored", evacuate_lines
    assert "simulated host host-a powered off" in tasks["FenceHostTask"]["progress_details"][0]["message"] + \
        " ".join(d["message"] for d in tasks["FenceHostTask"]["progress_details"])

    # One failure, closed; one move per server, none left in flight.
    assert [(n["type"], n["status"]) for n in cloud.notifications()] == [("COMPUTE_HOST", "finished")]
    moves = cloud.vmoves(uuid_)
    assert {i: (m["status"], m["dest_host"]) for i, m in moves.items()} == {
        **{i: ("succeeded", "host-b") for i in tagged}, untagged: ("ignored", None)}

    for server_id in tagged:  # ACTIVE on host B, evacuated exactly once
        server = cloud.server(server_id)
        assert (server["status"], server["OS-EXT-SRV-ATTR:host"], server["OS-EXT-STS:task_state"]) == (
            "ACTIVE", "host-b", None), server
        migrations = cloud.api("GET", f"/compute/v2.1/os-migrations?instance_uuid={server_id}",
                               {"OpenStack-API-Version": "compute 2.59"}).json()["migrations"]
        assert [(m["migration_type"], m["source_compute"], m["dest_compute"], m["status"]) for m in migrations] == [
            ("evacuation", "host-a", "host-b", "done")], migrations
        actions = cloud.api("GET", f"/compute/v2.1/servers/{server_id}/os-instance-actions").json()
        assert [a["action"] for a in actions["instanceActions"]] == ["evacuate", "create"], actions

    server = cloud.server(untagged)
    assert (server["status"], server["OS-EXT-SRV-ATTR:host"]) == ("ERROR", "host-a")
    assert server["fault"]["message"] == ("Host host-a failed and was fenced; the server was not evacuated "
                                          "(ha_recovery_mode='tagged')."), server["fault"]
    assert not cloud.api("GET", f"/compute/v2.1/os-migrations?instance_uuid={untagged}").json()["migrations"]

    service = cloud.services()["host-a"]
    assert (service["state"], service["status"], service["forced_down"]) == ("down", "disabled", True)
    assert service["disabled_reason"] == f"instance HA: host failure {uuid_}"
    assert cloud.processes["ha-2"].poll() is None
