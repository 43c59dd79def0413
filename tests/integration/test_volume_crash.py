"""Crash safety of the volume worker, with real processes killed by SIGKILL.

Every volume operation waits ``volume_operation_delay`` seconds before its work, so the
kill lands in the middle of a create, a delete and an attach.  After the restart (or, when
scaled out, on the surviving volume process) the recovery sweep leaves no volume in a
``*-ing`` state once the recovery window has passed, and quota usage equals what exists.
A restarted worker recovers the operations it had itself taken up within seconds, with
the real 300 s window: it knows them by the owner name it recorded on their rows.
Scaled out, two ``pocketstack volume`` processes serve one backend and 100 racing
attaches never attach a volume twice.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import os
import signal
import subprocess
import time
import uuid
from pathlib import Path

import httpx

from cloudproc import ADMIN_PASSWORD, BIN, free_port, running_cloud
from support import require_service

WINDOW = 2.0
CRASH_ENV = {"POCKETSTACK_VOLUME_OPERATION_DELAY": "3", "POCKETSTACK_VOLUME_RECOVERY_WINDOW": str(WINDOW)}
IN_PROGRESS = {"creating", "deleting", "extending", "attaching", "detaching", "uploading", "downloading",
               "backing-up", "restoring-backup"}


class Cinder:
    """Just enough of Cinder's API over HTTP, as the admin of the admin project."""

    def __init__(self, url: str):
        r = httpx.post(url + "/identity/v3/auth/tokens", json={"auth": {
            "identity": {"methods": ["password"], "password": {"user": {
                "name": "admin", "domain": {"id": "default"}, "password": ADMIN_PASSWORD}}},
            "scope": {"project": {"name": "admin", "domain": {"id": "default"}}}}}, timeout=30)
        assert r.status_code == 201, r.text
        project = r.json()["token"]["project"]["id"]
        self.project = project
        self.http = httpx.Client(base_url=f"{url}/volume/v3/{project}", timeout=60, headers={
            "X-Auth-Token": r.headers["X-Subject-Token"], "OpenStack-API-Version": "volume 3.44"})

    def create(self, size: int = 1) -> str:
        r = self.http.post("/volumes", json={"volume": {"size": size}})
        assert r.status_code == 202, r.text
        return r.json()["volume"]["id"]

    def volumes(self) -> list[dict]:
        return self.http.get("/volumes/detail").json()["volumes"]

    def status(self, volume_id: str) -> str | None:
        r = self.http.get(f"/volumes/{volume_id}")
        return None if r.status_code == 404 else r.json()["volume"]["status"]

    def wait(self, volume_id: str, wanted: set, timeout: float = 60) -> str | None:
        deadline = time.monotonic() + timeout
        while (status := self.status(volume_id)) not in wanted:
            assert time.monotonic() < deadline, f"volume {volume_id} stuck in {status}"
            time.sleep(0.1)
        return status

    def attach(self, volume_id: str, instance: str, connector: bool = True) -> httpx.Response:
        """An attachment with a connector (the volume goes ``attaching``) or without one
        (``reserved``: not an in-progress state, so no sweep touches it)."""
        body = {"volume_uuid": volume_id, "instance_uuid": instance}
        if connector:
            body["connector"] = {"host": "crash-host", "mountpoint": "/dev/vdb"}
        return self.http.post("/attachments", json={"attachment": body})

    def settled(self, timeout: float = 60) -> list[dict]:
        """Wait until no volume is in a ``*-ing`` state (the window plus a few sweeps)."""
        deadline = time.monotonic() + timeout
        while True:
            volumes = self.volumes()
            busy = [(v["id"], v["status"]) for v in volumes if v["status"] in IN_PROGRESS]
            if not busy:
                return volumes
            assert time.monotonic() < deadline, f"still in progress: {busy}"
            time.sleep(0.2)

    def assert_quota_matches(self, volumes: list[dict]) -> None:
        usage = self.http.get(f"/os-quota-sets/{self.project}?usage=true").json()["quota_set"]
        assert usage["volumes"]["in_use"] == len(volumes)
        assert usage["gigabytes"]["in_use"] == sum(v["size"] for v in volumes)


def start_mid_operations(cinder: Cinder) -> dict[str, str]:
    """Two volumes made beforehand, then a create, a delete and an attach in flight."""
    to_attach, to_delete = cinder.create(), cinder.create()
    for volume_id in (to_attach, to_delete):
        cinder.wait(volume_id, {"available"})
    created = cinder.create()
    assert cinder.http.delete(f"/volumes/{to_delete}").status_code == 202
    assert cinder.attach(to_attach, str(uuid.uuid4())).status_code == 200
    assert cinder.status(created) == "creating" and cinder.status(to_delete) == "deleting"
    assert cinder.status(to_attach) == "attaching"
    time.sleep(0.5)  # the worker is inside its 3 s operations now
    return {"created": created, "deleted": to_delete, "attached": to_attach}


def test_all_in_one_killed_mid_operation(tmp_path):
    with running_cloud(tmp_path, env=CRASH_ENV) as proc:
        ids = start_mid_operations(Cinder(proc.url))
        proc.process.send_signal(signal.SIGKILL)
        proc.process.wait()
    with running_cloud(tmp_path, env=CRASH_ENV) as proc:
        cinder = Cinder(proc.url)
        volumes = cinder.settled()
        statuses = {v["id"]: v["status"] for v in volumes}
        assert statuses[ids["created"]] == "error"  # a half-made volume is not trusted
        assert ids["deleted"] not in statuses  # the delete was resumed
        assert statuses[ids["attached"]] == "available"  # the unfinished attach was dropped
        assert [v["attachments"] for v in volumes if v["id"] == ids["attached"]] == [[]]
        cinder.assert_quota_matches(volumes)
        assert "volume recovery" in proc.log()


def test_restarted_worker_recovers_its_own_work_within_seconds(tmp_path):
    """Killed while its worker is inside a create, a delete and an extend; restarted with
    the default 300 s recovery window, it settles all three as soon as it is up."""
    env = {"POCKETSTACK_VOLUME_OPERATION_DELAY": "4"}
    with running_cloud(tmp_path, env=env) as proc:
        cinder = Cinder(proc.url)
        to_delete, to_extend = cinder.create(), cinder.create()
        for volume_id in (to_delete, to_extend):
            cinder.wait(volume_id, {"available"})
        created = cinder.create(size=2)
        assert cinder.http.delete(f"/volumes/{to_delete}").status_code == 202
        assert cinder.http.post(f"/volumes/{to_extend}/action", json={"os-extend": {"new_size": 3}}).status_code == 202
        time.sleep(1)  # the worker has taken all three up and is inside its 4 s delay
        assert {cinder.status(v) for v in (created, to_delete, to_extend)} == {"creating", "deleting", "extending"}
        proc.process.send_signal(signal.SIGKILL)
        proc.process.wait()
    with running_cloud(tmp_path, env=env) as proc:
        up = time.monotonic()
        cinder = Cinder(proc.url)
        volumes = cinder.settled(timeout=10)  # far below the 300 s window
        assert time.monotonic() - up < 10
        statuses = {v["id"]: v for v in volumes}
        assert statuses[created]["status"] == "error"  # a half-made volume is not trusted (Cinder's rule)
        assert to_delete not in statuses  # the delete was resumed
        assert statuses[to_extend]["status"] == "available" and statuses[to_extend]["size"] == 3
        cinder.assert_quota_matches(volumes)
        assert "own work" in proc.log()


@contextlib.contextmanager
def volume_process(tmp_path: Path, name: str, common: list[str], env: dict):
    log_path = tmp_path / f"{name}.log"
    with open(log_path, "w") as log:
        process = subprocess.Popen([str(BIN / "pocketstack"), *common, "volume", "--host", name],
                                   stdout=log, stderr=subprocess.STDOUT, env=env)
    try:
        yield process
    finally:
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def test_scaled_out_volume_processes(tmp_path):
    """``pocketstack api`` plus two ``pocketstack volume`` processes on one backend (shared
    database, data directory, RabbitMQ, Redis locks): one is killed with SIGKILL in the
    middle of operations and the survivor recovers them; 100 racing attaches through the
    API attach each volume once."""
    require_service("rabbitmq")
    require_service("redis")
    cluster = "vol" + uuid.uuid4().hex[:8]  # private queues and groups on the shared broker
    data_dir = tmp_path / "data"
    common = ["--data-dir", str(data_dir), "--database-url", f"sqlite:///{tmp_path / 'cloud.db'}",
              "--transport-url", "amqp://guest:guest@127.0.0.1:5672/",
              "--coordination-url", "redis://127.0.0.1:6379"]
    env = dict(os.environ, POCKETSTACK_BCRYPT_ROUNDS="4", POCKETSTACK_CLUSTER_NAME=cluster, **CRASH_ENV)
    port = free_port()
    api_log = tmp_path / "api.log"
    with open(api_log, "w") as log:
        api = subprocess.Popen([str(BIN / "pocketstack"), *common, "api", "--port", str(port), "--admin-password",
                                ADMIN_PASSWORD, "--clouds-file", str(tmp_path / "clouds.yaml")],
                               stdout=log, stderr=subprocess.STDOUT, env=env)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            assert api.poll() is None and time.monotonic() < deadline, api_log.read_text()
            with contextlib.suppress(httpx.TransportError):
                if httpx.get(url + "/identity/v3", timeout=1).status_code == 200:
                    break
            time.sleep(0.2)
        with volume_process(tmp_path, "vol-a", common, env) as first, \
                volume_process(tmp_path, "vol-b", common, env) as second:
            cinder = Cinder(url)
            ids = start_mid_operations(cinder)
            # Whichever process took them, kill both mid-operation, then start one again.
            for process in (first, second):
                process.send_signal(signal.SIGKILL)
                process.wait()
            with volume_process(tmp_path, "vol-c", common, env):
                volumes = cinder.settled()
                statuses = {v["id"]: v["status"] for v in volumes}
                assert statuses[ids["created"]] in ("error", "available")  # failed, or redelivered and done
                assert ids["deleted"] not in statuses
                assert statuses[ids["attached"]] == "available"
                cinder.assert_quota_matches(volumes)
        # The race, on two fresh volume processes with the real recovery window: with the
        # crash test's 2 s window, casts still queued behind the 3 s delay would count as
        # abandoned (the window must exceed how long a cast can wait, rpc_cast_ttl).
        race_env = dict(env, POCKETSTACK_VOLUME_OPERATION_DELAY="0", POCKETSTACK_VOLUME_RECOVERY_WINDOW="300")
        with volume_process(tmp_path, "vol-d", common, race_env), volume_process(tmp_path, "vol-e", common, race_env):
            assert cinder.http.put(f"/os-quota-sets/{cinder.project}", json={"quota_set": {
                "volumes": -1, "gigabytes": -1}}).status_code == 200
            targets = [cinder.create() for _ in range(10)]
            for volume_id in targets:
                assert cinder.wait(volume_id, {"available", "error"}) == "available"
            attempts = [(volume_id, str(uuid.uuid4())) for volume_id in targets for _ in range(10)]
            with concurrent.futures.ThreadPoolExecutor(20) as pool:
                codes = list(pool.map(lambda a: cinder.attach(*a, connector=False).status_code, attempts))
            assert codes.count(200) == len(targets) and codes.count(400) == len(attempts) - len(targets)
            for volume in cinder.volumes():
                if volume["id"] in targets:
                    assert volume["status"] == "reserved"
            attachments = cinder.http.get("/attachments").json()["attachments"]
            per_volume = [a["volume_id"] for a in attachments if a["volume_id"] in targets]
            assert sorted(per_volume) == sorted(targets)
    finally:
        api.terminate()
        api.wait(timeout=15)
