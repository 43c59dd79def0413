"""Helpers the compute test modules share: projects with a given role, images to boot,
flavors, and waiting for servers to settle.  (No tests here.)"""

from __future__ import annotations

import time

from conftest import unique

COMPUTE = "/compute/v2.1"
LATEST = {"OpenStack-API-Version": "compute 2.64"}


def new_member(api, admin_token, role: str = "member", project: dict | None = None) -> dict:
    """A fresh user with ``role`` on ``project`` (a fresh project by default)."""
    if project is None:
        project = api.request("POST", "/identity/v3/projects", admin_token,
                              json={"project": {"name": unique("cproj")}}).json()["project"]
    name = unique("cuser")
    user = api.request("POST", "/identity/v3/users", admin_token,
                       json={"user": {"name": name, "password": "pw-compute-1"}}).json()["user"]
    role_id = api.request("GET", f"/identity/v3/roles?name={role}", admin_token).json()["roles"][0]["id"]
    assert api.request("PUT", f"/identity/v3/projects/{project['id']}/users/{user['id']}/roles/{role_id}",
                       admin_token).status_code == 204
    return {"token": api.token(name, "pw-compute-1", project=project["name"]), "project": project,
            "user": user}


def call(api, method: str, path: str, token: str, version: str = "2.64", **kwargs):
    headers = dict(kwargs.pop("headers", {}) or {})
    headers.setdefault("OpenStack-API-Version", f"compute {version}")
    return api.request(method, COMPUTE + path, token, headers=headers, **kwargs)


def make_image(api, admin_token, **props) -> str:
    body = {"name": unique("cimg"), "disk_format": "qcow2", "container_format": "bare", "visibility": "public"}
    body.update(props)
    image = api.request("POST", "/image/v2/images", admin_token, json=body).json()
    r = api.request("PUT", f"/image/v2/images/{image['id']}/file", admin_token, content=b"fake image bytes",
                    headers={"Content-Type": "application/octet-stream"})
    assert r.status_code == 204, r.text
    return image["id"]


def make_flavor(api, admin_token, vcpus: int = 1, ram: int = 128, disk: int = 1, **extra) -> dict:
    body = {"name": unique("cflv"), "vcpus": vcpus, "ram": ram, "disk": disk, **extra}
    r = call(api, "POST", "/flavors", admin_token, json={"flavor": body})
    assert r.status_code == 200, r.text
    return r.json()["flavor"]


def boot(api, token, image_id: str, flavor_id: str, expect: int = 202, **server) -> dict:
    body = {"server": {"name": unique("vm"), "imageRef": image_id, "flavorRef": flavor_id, "networks": "none",
                       **server}}
    hints = body["server"].pop("hints", None)
    if hints:
        body["os:scheduler_hints"] = hints
    r = call(api, "POST", "/servers", token, json=body)
    assert r.status_code == expect, r.text
    return r.json()


def wait(api, token, server_id: str, until=("ACTIVE", "ERROR", "SHUTOFF", "VERIFY_RESIZE", "PAUSED",
                                              "SUSPENDED", "RESCUE"), timeout: float = 60.0) -> dict:
    """Poll until the server reaches one of ``until`` with no task in progress."""
    deadline = time.monotonic() + timeout
    while True:
        r = call(api, "GET", f"/servers/{server_id}", token)
        assert r.status_code == 200, r.text
        server = r.json()["server"]
        if server["status"] in until and server["OS-EXT-STS:task_state"] is None:
            return server
        assert time.monotonic() < deadline, f"server stuck in {server['status']}/{server['OS-EXT-STS:task_state']}"
        time.sleep(0.05)


def wait_gone(api, token, server_id: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while call(api, "GET", f"/servers/{server_id}", token).status_code != 404:
        assert time.monotonic() < deadline, "server was not deleted"
        time.sleep(0.05)


def add_hosts(api, zone: str, vcpus: list[int], memory_mb: int = 1_000_000) -> list:
    """Fresh fake hosts in their own availability zone (a test's private capacity)."""
    hosts = api.cloud.service("compute").compute.hosts
    return [hosts.add_fake_host(unique("host"), v, memory_mb, 10_000, availability_zone=zone) for v in vcpus]


def retire(api, nodes) -> None:
    """Disable a test's hosts so that later boots without a zone do not land there."""
    hosts = api.cloud.service("compute").compute.hosts
    for node in nodes:
        hosts.update_service(node.service_id, disabled=True, disabled_reason="test finished")
