"""A pocketstack cloud for a test suite: started on a free port with its own data
directory, in a background thread of the test process (fast, the default) or as a
``pocketstack up`` subprocess (the same as a user's; no shared interpreter), and handed
out with what clients need: URL, admin credentials, a clouds.yaml, openstacksdk
connections, and a reset between tests.

    with pocketstack.testing.Cloud() as cloud:
        conn = cloud.connection()
        ...
        cloud.reset()

The pytest plugin (:mod:`.plugin`) wraps one of these per session.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from pocketstack.testing.client import StateClient, running

MODES = ("thread", "subprocess")
ADMIN_PASSWORD = "pocketstack-admin"
START_TIMEOUT = 60.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass(frozen=True)
class Credentials:
    """Who to authenticate as, where: enough for openstacksdk, the CLI or any client."""

    auth_url: str
    username: str
    password: str
    project_name: str
    region_name: str = "RegionOne"
    project_id: str = ""
    user_id: str = ""

    def auth(self) -> dict[str, str]:
        return {"auth_url": self.auth_url, "username": self.username, "password": self.password,
                "project_name": self.project_name, "user_domain_name": "Default",
                "project_domain_name": "Default"}

    def connection(self, microversions: dict[str, str] | None = None) -> Any:
        """An openstacksdk ``Connection`` as this user; ``microversions`` caps a service's
        microversion (``{"compute": "2.60"}``): the SDK then never asks for a newer one."""
        import openstack

        options: dict[str, Any] = {f"{service.replace('-', '_')}_api_version": version
                                   for service, version in (microversions or {}).items()}
        options.update(auth=self.auth(), region_name=self.region_name, identity_api_version="3",
                       interface="public")
        return openstack.connect(**options)


@dataclass
class Cloud:
    """A test cloud; use as a context manager, or :meth:`start` and :meth:`stop`."""

    mode: str = "thread"
    data_dir: Path | None = None
    port: int = 0
    admin_password: str = ADMIN_PASSWORD
    hypervisor: str = "fake"
    # Further settings (``config.Settings`` field -> value), e.g. {"fake_op_delay": 0}.
    settings: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.mode not in MODES:
            raise ValueError(f"mode {self.mode!r} is not one of {', '.join(MODES)}")
        self._own_dir = self.data_dir is None
        self.data_dir = Path(self.data_dir or tempfile.mkdtemp(prefix="pocketstack-"))
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.port = self.port or free_port()
        self._server: Any = None
        self._thread: threading.Thread | None = None
        self._process: subprocess.Popen[bytes] | None = None
        self._state: StateClient | None = None
        self.demo_password = ""

    # -- where it is -------------------------------------------------------------------
    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def auth_url(self) -> str:
        return f"{self.url}/identity/v3"

    @property
    def clouds_yaml(self) -> Path:
        """A clouds.yaml with clouds ``pocketstack`` (admin) and ``pocketstack-demo``."""
        assert self.data_dir is not None
        return self.data_dir / "clouds.yaml"

    @property
    def admin(self) -> Credentials:
        return Credentials(self.auth_url, "admin", self.admin_password, "admin")

    @property
    def demo(self) -> Credentials:
        return Credentials(self.auth_url, "demo", self.demo_password, "demo")

    # -- life --------------------------------------------------------------------------
    def __enter__(self) -> Cloud:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self) -> None:
        started = time.monotonic()
        if self.mode == "thread":
            self._start_thread()
        else:
            self._start_process()
        while not running(self.url, timeout=1.0):
            if time.monotonic() - started > START_TIMEOUT or not self._alive():
                self.stop()
                raise RuntimeError(f"pocketstack did not start on {self.url}{self._output()}")
            time.sleep(0.05)
        clouds = yaml.safe_load(self.clouds_yaml.read_text())["clouds"]
        self.demo_password = clouds["pocketstack-demo"]["auth"]["password"]
        self._state = StateClient(self.url, self.admin_password)

    def _overrides(self) -> dict[str, Any]:
        return {"data_dir": self.data_dir, "port": self.port, "host": "127.0.0.1",
                "admin_password": self.admin_password, "clouds_file": str(self.clouds_yaml),
                "hypervisor": self.hypervisor, "bcrypt_rounds": 4, **self.settings}

    def _start_thread(self) -> None:
        import uvicorn

        from pocketstack.cli.first_start import ALL_IN_ONE, prepare
        from pocketstack.cloud import Cloud as PocketCloud
        from pocketstack.common import config

        settings = config.load(overrides={**self._overrides(), **ALL_IN_ONE})
        cloud = PocketCloud(settings)
        prepare(cloud)
        self._server = uvicorn.Server(uvicorn.Config(cloud.asgi_app(), host="127.0.0.1", port=self.port,
                                                     log_config=None, access_log=False, lifespan="on"))
        self._thread = threading.Thread(target=self._server.run, name="pocketstack", daemon=True)
        self._thread.start()

    def _start_process(self) -> None:
        env = dict(os.environ)
        env.update({"POCKETSTACK_" + k.upper(): str(v) for k, v in self._overrides().items()
                    if k not in ("data_dir", "port", "admin_password", "clouds_file", "hypervisor", "host")})
        assert self.data_dir is not None
        self._log = open(self.data_dir / "pocketstack.log", "wb")  # noqa: SIM115 - closed by stop()
        self._process = subprocess.Popen(
            [sys.executable, "-m", "pocketstack.cli.main", "--data-dir", str(self.data_dir), "up",
             "--port", str(self.port), "--admin-password", self.admin_password, "--clouds-file",
             str(self.clouds_yaml), "--hypervisor", self.hypervisor, "--metadata-port", str(free_port()),
             "--api-workers", "1"],  # one process starts fastest; a test's requests come one at a time
            env=env, stdout=self._log, stderr=subprocess.STDOUT, start_new_session=True)

    def _alive(self) -> bool:
        if self._process is not None:
            return self._process.poll() is None
        return self._thread is not None and self._thread.is_alive()

    def _output(self) -> str:
        log = self.data_dir / "pocketstack.log" if self.data_dir else None
        if self._process is not None and log is not None and log.exists():
            return ":\n" + log.read_text(errors="replace")[-3000:]
        return ""

    def stop(self) -> None:
        if self._state is not None:
            self._state.close()
            self._state = None
        if self._server is not None:
            self._server.should_exit = True
            if self._thread is not None:
                self._thread.join(timeout=30)
            self._server = self._thread = None
        if self._process is not None:
            self._process.terminate()
            try:
                self._process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
            self._process = None
            self._log.close()
        if self._own_dir and self.data_dir is not None:
            shutil.rmtree(self.data_dir, ignore_errors=True)

    # -- state -------------------------------------------------------------------------
    @property
    def state(self) -> StateClient:
        if self._state is None:
            raise RuntimeError("the cloud is not running")
        return self._state

    def reset(self) -> float:
        """Back to the bootstrapped state; the seconds the cloud took."""
        return float(self.state.reset()["seconds"])

    def save(self, name: str) -> None:
        self.state.save(name)

    def restore(self, name: str) -> None:
        self.state.restore(name)

    # -- clients -----------------------------------------------------------------------
    def connection(self, microversions: dict[str, str] | None = None) -> Any:
        """An openstacksdk ``Connection`` as the admin (project admin)."""
        return self.admin.connection(microversions)

    def new_project_user(self, prefix: str = "test") -> Credentials:
        """A new project and a user holding the member role in it (the user's password
        is random): isolation for one test."""
        import httpx

        suffix = uuid.uuid4().hex[:10]
        password = uuid.uuid4().hex
        headers = {"X-Auth-Token": self.state.token()}
        with httpx.Client(base_url=self.url + "/identity/v3", headers=headers, timeout=60) as http:
            project = _created(http.post("/projects", json={"project": {"name": f"{prefix}-{suffix}",
                                                                        "domain_id": "default"}}))["project"]
            user = _created(http.post("/users", json={"user": {"name": f"{prefix}-{suffix}", "password": password,
                                                               "default_project_id": project["id"],
                                                               "domain_id": "default"}}))["user"]
            roles = http.get("/roles", params={"name": "member"}).json()["roles"]
            granted = http.put(f"/projects/{project['id']}/users/{user['id']}/roles/{roles[0]['id']}")
            granted.raise_for_status()
        return Credentials(self.auth_url, user["name"], password, project["name"],
                           project_id=project["id"], user_id=user["id"])

    def delete_project_user(self, credentials: Credentials) -> None:
        import httpx

        headers = {"X-Auth-Token": self.state.token()}
        with httpx.Client(base_url=self.url + "/identity/v3", headers=headers, timeout=60) as http:
            http.delete(f"/users/{credentials.user_id}")
            http.delete(f"/projects/{credentials.project_id}")


def _created(response: Any) -> dict[str, Any]:
    if response.status_code != 201:
        raise RuntimeError(f"pocketstack answered {response.status_code}: {response.text[:300]}")
    return dict(response.json())
