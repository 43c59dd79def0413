"""Races on a three-node Galera cluster: three API processes, each on its own node.

Every node accepts writes, so two requests racing for one row on two nodes are not
serialized by any lock: the loser's COMMIT fails with error 1213 (certification failure).
These tests race real requests across the three APIs and require what the design
promises -- 0 duplicates, 0 overruns, 0 5xx:

- identity writes (each bumps the one identity generation row) from all nodes at once;
- the first requests of fresh projects (quota usage rows created by two nodes at once);
- 64 port creates on one /26 (IPAM by INSERT under unique constraints);
- 100 boots for 50 slots (placement claims by compare-and-swap);
- 30 volume creates against a quota of 10.

A scheduler, two compute hosts and a volume worker run beside the APIs over RabbitMQ
and Redis.  ``make test-galera`` runs this module alone.
"""

from __future__ import annotations

import collections
import ipaddress
import itertools
import socket
import uuid
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from cloudproc import ADMIN_PASSWORD, ProcessGroup, cluster_settings, eventually, forget_cluster, free_port
from galera import galera_cluster
from support import require_service

HOSTS = {"galera-a": 25, "galera-b": 25}  # host -> VCPUs: 50 one-VCPU slots in all
WORKERS = 24


class Apis:
    """The three API endpoints, and requests spread over them round-robin."""

    def __init__(self, ports: list[int]):
        self.clients = [httpx.Client(base_url=f"http://127.0.0.1:{p}", timeout=120) for p in ports]
        self._turn = itertools.count()
        self.admin = ""  # an admin token, once the cloud is up
        self.group: ProcessGroup | None = None  # the cloud's processes, for their logs on failure

    def request(self, method: str, path: str, token: str | None = None, node: int | None = None, **kwargs):
        headers = dict(kwargs.pop("headers", {}) or {})
        if token:
            headers["X-Auth-Token"] = token
        client = self.clients[next(self._turn) % 3 if node is None else node]
        return client.request(method, path, headers=headers, **kwargs)

    def token(self, user: str, password: str, project: str) -> str:
        r = self.request("POST", "/identity/v3/auth/tokens", json={"auth": {
            "identity": {"methods": ["password"], "password": {
                "user": {"name": user, "domain": {"id": "default"}, "password": password}}},
            "scope": {"project": {"name": project, "domain": {"id": "default"}}}}})
        assert r.status_code == 201, r.text
        return r.headers["X-Subject-Token"]

    def race(self, calls) -> list[httpx.Response]:
        """Run ``calls`` (thunks) at once; every response, in order."""
        with ThreadPoolExecutor(WORKERS) as pool:
            return list(pool.map(lambda call: call(), calls))

    def close(self) -> None:
        for client in self.clients:
            client.close()


def no_server_errors(responses: list[httpx.Response]) -> collections.Counter:
    statuses = collections.Counter(r.status_code for r in responses)
    failures = [f"{r.request.method} {r.request.url.path} -> {r.status_code} {r.text[:300]}"
                for r in responses if r.status_code >= 500]
    assert not failures, "\n".join(failures[:5])
    return statuses


@pytest.fixture(scope="module")
def apis(tmp_path_factory):
    for service in ("rabbitmq", "redis"):
        require_service(service)
    root = tmp_path_factory.mktemp("galera-cloud")
    cluster_name = f"psgalera{uuid.uuid4().hex[:8]}"
    config = root / "pocketstack.toml"
    config.write_text(cluster_settings(cluster_name))
    with galera_cluster() as urls:
        group = ProcessGroup(root, config)
        apis = None
        try:
            ports = [free_port() for _ in urls]
            group.start_api("api-1", ports[0], urls[0])  # migrates and bootstraps on node 1
            for index in (1, 2):
                group.start_api(f"api-{index + 1}", ports[index], urls[index])
            group.start("scheduler", "scheduler", database_url=urls[1])
            for index, (host, vcpus) in enumerate(HOSTS.items()):
                group.start(host, "compute", "--host", host, "--vcpus", str(vcpus), "--memory-mb", "1000000",
                            database_url=urls[(index + 2) % 3])
            group.start("volume", "volume", "--host", "galera-volume", database_url=urls[0])
            apis = Apis(ports)
            admin = apis.token("admin", ADMIN_PASSWORD, "admin")

            def hosts_up():
                r = apis.request("GET", "/compute/v2.1/os-services?binary=nova-compute", admin)
                return r.status_code == 200 and {s["host"] for s in r.json()["services"] if s["state"] == "up"} \
                    >= set(HOSTS)
            eventually(hosts_up, timeout=60)
            apis.admin = admin
            apis.group = group
            yield apis
        finally:
            if apis is not None:
                apis.close()
            group.stop_all()
            forget_cluster(cluster_name, {"scheduler": [socket.gethostname()], "compute": HOSTS,
                                          "volume": ["galera-volume"], "network-agent": []})


def new_project(apis: Apis, role: str = "member") -> dict:
    """A fresh project and a user with ``role`` on it, and the user's token."""
    admin = apis.admin
    name = f"gp-{uuid.uuid4().hex[:8]}"
    project = apis.request("POST", "/identity/v3/projects", admin, json={"project": {"name": name}}).json()["project"]
    user = apis.request("POST", "/identity/v3/users", admin,
                        json={"user": {"name": name, "password": "pw-galera"}}).json()["user"]
    role_id = apis.request("GET", f"/identity/v3/roles?name={role}", admin).json()["roles"][0]["id"]
    r = apis.request("PUT", f"/identity/v3/projects/{project['id']}/users/{user['id']}/roles/{role_id}", admin)
    assert r.status_code == 204, r.text
    return {"project": project, "user": user, "token": apis.token(name, "pw-galera", name)}


def test_identity_writes_from_every_node_at_once(apis):
    admin = apis.admin
    names = [f"gi-{uuid.uuid4().hex[:8]}" for _ in range(45)]
    created = apis.race([lambda n=n: apis.request("POST", "/identity/v3/projects", admin,
                                                  json={"project": {"name": n}}) for n in names])
    assert no_server_errors(created) == {201: len(names)}
    users = apis.race([lambda n=n: apis.request("POST", "/identity/v3/users", admin,
                                                json={"user": {"name": n, "password": "pw"}}) for n in names])
    assert no_server_errors(users) == {201: len(names)}
    member = apis.request("GET", "/identity/v3/roles?name=member", admin).json()["roles"][0]["id"]
    pairs = zip((r.json()["project"]["id"] for r in created), (r.json()["user"]["id"] for r in users))
    grants = apis.race([lambda p=p, u=u: apis.request("PUT", f"/identity/v3/projects/{p}/users/{u}/roles/{member}",
                                                      admin) for p, u in pairs])
    assert no_server_errors(grants) == {204: len(names)}
    # The same name from three nodes at once: one project, two clean 409s.
    same = f"gi-same-{uuid.uuid4().hex[:8]}"
    racing = apis.race([lambda node=node: apis.request("POST", "/identity/v3/projects", admin, node=node,
                                                       json={"project": {"name": same}}) for node in range(3)])
    assert no_server_errors(racing) == {201: 1, 409: 2}


def test_first_use_of_fresh_projects_from_every_node(apis):
    projects = [new_project(apis) for _ in range(4)]
    calls = []
    for p in projects:
        token = p["token"]
        for node in range(3):
            calls += [
                lambda t=token, node=node: apis.request(
                    "POST", "/compute/v2.1/os-keypairs", t, node=node,
                    json={"keypair": {"name": f"k-{uuid.uuid4().hex[:8]}"}}),
                lambda t=token, node=node: apis.request(
                    "POST", "/compute/v2.1/os-server-groups", t, node=node,
                    json={"server_group": {"name": "g", "policies": ["anti-affinity"]}}),
                lambda t=token, p=p, node=node: apis.request(
                    "POST", f"/volume/v3/{p['project']['id']}/volumes", t, node=node,
                    json={"volume": {"size": 1, "name": "first"}}),
                lambda t=token, node=node: apis.request(
                    "POST", "/network/v2.0/networks", t, node=node, json={"network": {"name": "first"}}),
                lambda t=token, node=node: apis.request(
                    "POST", "/network/v2.0/security-groups", t, node=node,
                    json={"security_group": {"name": f"sg-{uuid.uuid4().hex[:6]}"}}),
            ]
    responses = apis.race(calls)
    statuses = no_server_errors(responses)
    assert set(statuses) <= {200, 201, 202}, statuses
    for p in projects:
        token, project_id = p["token"], p["project"]["id"]
        keypairs = apis.request("GET", "/compute/v2.1/os-keypairs", token).json()["keypairs"]
        limits = apis.request("GET", "/compute/v2.1/limits", token).json()["limits"]["absolute"]
        assert len(keypairs) == 3
        assert limits["totalServerGroupsUsed"] == 3
        quota = apis.request("GET", f"/volume/v3/{project_id}/os-quota-sets/{project_id}?usage=True",
                             token).json()["quota_set"]
        assert quota["volumes"]["in_use"] + quota["volumes"].get("reserved", 0) == 3, quota["volumes"]


def test_port_creates_on_one_small_subnet(apis):
    user = new_project(apis)
    token = user["token"]
    network = apis.request("POST", "/network/v2.0/networks", token, json={"network": {"name": "race"}}).json()
    subnet = apis.request("POST", "/network/v2.0/subnets", token, json={"subnet": {
        "network_id": network["network"]["id"], "ip_version": 4, "cidr": "10.77.0.0/26"}}).json()["subnet"]
    pool = subnet["allocation_pools"][0]
    room = int(ipaddress.ip_address(pool["end"])) - int(ipaddress.ip_address(pool["start"])) + 1
    responses = apis.race([lambda: apis.request("POST", "/network/v2.0/ports", token, json={
        "port": {"network_id": network["network"]["id"]}}) for _ in range(64)])
    statuses = no_server_errors(responses)
    created = [r.json()["port"] for r in responses if r.status_code == 201]
    addresses = [ip["ip_address"] for port in created for ip in port["fixed_ips"]]
    assert len(addresses) == len(set(addresses)) == room == statuses[201], statuses
    refused = [r.json()["NeutronError"]["type"] for r in responses if r.status_code != 201]
    assert set(refused) == {"IpAddressGenerationFailure"} and len(refused) == 64 - room
    listed = apis.request("GET", f"/network/v2.0/ports?network_id={network['network']['id']}", token).json()
    assert len(listed["ports"]) == room


def test_hundred_boots_for_fifty_slots(apis):
    admin = apis.admin
    image = apis.request("POST", "/image/v2/images", admin, json={
        "name": "galera-img", "disk_format": "raw", "container_format": "bare", "visibility": "public"}).json()
    r = apis.request("PUT", f"/image/v2/images/{image['id']}/file", admin, content=b"\0" * 512,
                     headers={"Content-Type": "application/octet-stream"})
    assert r.status_code == 204, r.text
    flavor = apis.request("POST", "/compute/v2.1/flavors", admin, json={"flavor": {
        "name": f"one-{uuid.uuid4().hex[:6]}", "vcpus": 1, "ram": 64, "disk": 1}}).json()["flavor"]
    user = new_project(apis)
    project_id = user["project"]["id"]
    r = apis.request("PUT", f"/compute/v2.1/os-quota-sets/{project_id}", admin,
                     json={"quota_set": {"instances": -1, "cores": -1, "ram": -1}})
    assert r.status_code == 200, r.text
    token = user["token"]
    responses = apis.race([lambda i=i: apis.request("POST", "/compute/v2.1/servers", token, json={"server": {
        "name": f"race-{i}", "imageRef": image["id"], "flavorRef": flavor["id"], "networks": "none"}})
        for i in range(100)])
    assert no_server_errors(responses) == {202: 100}

    seen: dict = {}

    def settled():
        servers = apis.request("GET", "/compute/v2.1/servers/detail", token).json()["servers"]
        seen["states"] = collections.Counter((s["status"], s["OS-EXT-STS:task_state"]) for s in servers)
        return servers if len(servers) == 100 and {s["status"] for s in servers} <= {"ACTIVE", "ERROR"} else None
    try:
        servers = eventually(settled, timeout=200, interval=1)
    except AssertionError:
        logs = "\n".join(f"--- {name}.log (end)\n" + apis.group.log(name)[-3000:]
                         for name in ("scheduler", *HOSTS)) if apis.group else ""
        raise AssertionError(f"boots did not settle: {seen.get('states')}\n{logs}") from None
    active = [s for s in servers if s["status"] == "ACTIVE"]
    assert len(active) == 50, collections.Counter(s["status"] for s in servers)
    per_host = collections.Counter(s["OS-EXT-SRV-ATTR:host"] for s in
                                   apis.request("GET", "/compute/v2.1/servers/detail?all_tenants=1",
                                                admin).json()["servers"] if s["status"] == "ACTIVE")
    assert all(per_host[h] <= vcpus for h, vcpus in HOSTS.items()), per_host
    errors = {s["fault"]["message"] for s in servers if s["status"] == "ERROR"}
    assert all("No valid host" in message for message in errors), errors


def test_volume_creates_against_a_quota_of_ten(apis):
    admin = apis.admin
    user = new_project(apis)
    project_id, token = user["project"]["id"], user["token"]
    r = apis.request("PUT", f"/volume/v3/{project_id}/os-quota-sets/{project_id}", admin,
                     json={"quota_set": {"volumes": 10}})
    assert r.status_code == 200, r.text
    responses = apis.race([lambda i=i: apis.request("POST", f"/volume/v3/{project_id}/volumes", token, json={
        "volume": {"size": 1, "name": f"q-{i}"}}) for i in range(30)])
    statuses = no_server_errors(responses)
    assert statuses == {202: 10, 413: 20}, statuses
    quota = apis.request("GET", f"/volume/v3/{project_id}/os-quota-sets/{project_id}?usage=True",
                         token).json()["quota_set"]["volumes"]
    assert quota["in_use"] + quota.get("reserved", 0) == 10, quota
