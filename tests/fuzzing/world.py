"""The resources the fuzzer's path parameters point at.

Everything lives in a fresh *home* project: an admin and a member user of it (the
fuzzer's identities) own a server, a volume, a network, an image, a container..., so
whatever a fuzzed request manages to change stays there.  Identity's own targets
(a domain, a project, a user, roles...) are separate sacrificial resources, never the
fuzzer's identities or the suite's shared admin and demo.  Hosts, services and agents
that other tests schedule on are never targets: the compute ids point at a private fake
host, disabled the whole time it is not being fuzzed.

:attr:`World.known` maps a path segment to the ids that may follow it
(``"servers" -> [server id]``), or a parameter name to its values.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass, field

from pocketstack.image.import_filter import GLANCE_DEFAULTS, ImportFilter

from conftest import unique

COMPUTE = {"OpenStack-API-Version": "compute latest"}
VOLUME = {"OpenStack-API-Version": "volume latest"}
PLACEMENT = {"OpenStack-API-Version": "placement latest"}
PASSWORD = "fuzz-secret-1"


@dataclass
class World:
    admin: str = ""    # token: admin role on the home project
    member: str = ""   # token: member role on the home project
    project: str = ""  # the home project's id
    known: dict[str, list[str]] = field(default_factory=dict)
    # Valid bodies, as (method, concrete path, body): what building the world sent, and
    # the actions of ACTION_SEEDS.  The fuzzer mutates them one value at a time.
    seeds: list[tuple[str, str, object]] = field(default_factory=list)
    fake_host: object = None
    aggregates_before: set[int] = field(default_factory=set)  # the cloud's, left alone
    image_size_cap: int = 0  # the cloud's, restored when the fuzzer is done
    import_filter: ImportFilter = GLANCE_DEFAULTS  # likewise

    def add(self, key: str, *values: str) -> None:
        self.known.setdefault(key, []).extend(values)


class Builder:
    """Creates the world's resources through the API, failing loudly on a surprise, and
    keeps every body it sent as a seed."""

    def __init__(self, api, token: str, world: World):
        self.api, self.token, self.world = api, token, world

    def call(self, method: str, path: str, expect: tuple[int, ...] = (200, 201, 202, 204), **kwargs):
        response = self.api.request(method, path, self.token, **kwargs)
        assert response.status_code in expect, (method, path, response.status_code, response.text)
        if kwargs.get("json") is not None:
            self.world.seeds.append((method, path, kwargs["json"]))
        return response

    def create(self, path: str, key: str | None, body: dict, headers: dict | None = None) -> dict:
        data = self.call("POST", path, json={key: body} if key else body, headers=headers or {}).json()
        return data[key] if key else data

    def wait(self, path: str, key: str, statuses: tuple[str, ...], headers: dict | None = None,
             timeout: float = 60.0) -> dict:
        deadline = time.monotonic() + timeout
        while True:
            found = self.call("GET", path, headers=headers or {}).json()[key]
            if found["status"] in statuses:
                return found
            assert time.monotonic() < deadline, found
            time.sleep(0.05)


def identity_user(b: Builder, project: dict, role: str) -> str:
    """A fresh user with ``role`` on ``project``; its token (how it authenticated, by
    name and by id, are seeds)."""
    name = unique("fuzz-user")
    user = b.create("/identity/v3/users", "user", {"name": name, "password": PASSWORD})
    role_id = b.call("GET", f"/identity/v3/roles?name={role}").json()["roles"][0]["id"]
    b.call("PUT", f"/identity/v3/projects/{project['id']}/users/{user['id']}/roles/{role_id}")
    scope = {"project": {"id": project["id"]}}
    for who in ({"name": name, "domain": {"id": "default"}}, {"id": user["id"]}):
        auth = {"identity": {"methods": ["password"], "password": {"user": {**who, "password": PASSWORD}}},
                "scope": scope}
        b.call("POST", "/identity/v3/auth/tokens", json={"auth": auth})
    return b.api.token(name, PASSWORD, project=project["name"])


def build_identity(world: World, b: Builder) -> None:
    v3 = "/identity/v3"
    domain = b.create(f"{v3}/domains", "domain", {"name": unique("fuzz-dom")})
    project = b.create(f"{v3}/projects", "project", {"name": unique("fuzz-target")})
    user = b.create(f"{v3}/users", "user", {"name": unique("fuzz-target"), "password": PASSWORD})
    group = b.create(f"{v3}/groups", "group", {"name": unique("fuzz-grp")})
    roles = [b.create(f"{v3}/roles", "role", {"name": unique("fuzz-role")})["id"] for _ in range(2)]
    region = b.create(f"{v3}/regions", "region", {"id": unique("fuzz-region")})
    service = b.create(f"{v3}/services", "service", {"type": unique("fuzz"), "name": unique("fuzz-svc")})
    endpoint = b.create(f"{v3}/endpoints", "endpoint", {"service_id": service["id"], "interface": "public",
                                                        "url": "http://fuzz.invalid/", "region_id": region["id"]})
    world.add("domains", domain["id"])
    world.add("projects", project["id"])
    world.add("users", user["id"])
    world.add("groups", group["id"])
    world.add("roles", roles[0])
    world.add("implies", roles[1])
    world.add("regions", region["id"])
    world.add("services", service["id"])
    world.add("endpoints", endpoint["id"])
    world.add("members", project["id"])  # Glance image members are projects


def build_network(world: World, b: Builder) -> None:
    v2 = "/network/v2.0"
    net = b.create(f"{v2}/networks", "network", {"name": unique("fuzz-net")})
    octet = uuid.uuid4().int % 200 + 20
    subnet = b.create(f"{v2}/subnets", "subnet", {"network_id": net["id"], "ip_version": 4,
                                                  "cidr": f"10.{octet}.0.0/24"})
    pool = b.create(f"{v2}/subnetpools", "subnetpool", {"name": unique("fuzz-pool"),
                                                        "prefixes": [f"10.{octet}.128.0/17"], "default_prefixlen": 26,
                                                        "default_quota": 4096})
    port = b.create(f"{v2}/ports", "port", {"network_id": net["id"], "extra_dhcp_opts": [
        {"opt_name": "bootfile-name", "opt_value": "fuzz.0", "ip_version": 4}]})
    router = b.create(f"{v2}/routers", "router", {"name": unique("fuzz-rtr")})
    group = b.create(f"{v2}/security-groups", "security_group", {"name": unique("fuzz-sg")})
    public = b.create(f"{v2}/networks", "network", {"name": unique("fuzz-ext"), "router:external": True})
    b.create(f"{v2}/subnets", "subnet", {"network_id": public["id"], "ip_version": 4,
                                          "cidr": f"172.{octet % 16 + 16}.{octet}.0/24"})
    fip = b.create(f"{v2}/floatingips", "floatingip", {"floating_network_id": public["id"]})
    for key, value in (("networks", net["id"]), ("subnets", subnet["id"]), ("subnetpools", pool["id"]),
                       ("ports", port["id"]), ("routers", router["id"]), ("security-groups", group["id"]),
                       ("os-security-groups", group["id"]), ("floatingips", fip["id"]),
                       ("network-ip-availabilities", net["id"]),
                       ("quotas", world.project)):
        world.add(key, value)
    world.add("collection", "networks", "subnets", "subnetpools", "ports", "routers", "security-groups",
              "floatingips")


def build_placement(world: World, b: Builder) -> None:
    p = "/placement"
    rp = b.create(f"{p}/resource_providers", None, {"name": unique("fuzz-rp")}, PLACEMENT)["uuid"]
    rc = "CUSTOM_FUZZ_" + uuid.uuid4().hex[:8].upper()
    trait = "CUSTOM_FUZZ_" + uuid.uuid4().hex[:8].upper()
    b.call("PUT", f"{p}/resource_classes/{rc}", headers=PLACEMENT)
    b.call("PUT", f"{p}/traits/{trait}", headers=PLACEMENT)
    b.call("PUT", f"{p}/resource_providers/{rp}/inventories", headers=PLACEMENT, json={
        "resource_provider_generation": 0, "inventories": {"VCPU": {"total": 8}, rc: {"total": 100}}})
    consumer = str(uuid.uuid4())
    b.call("PUT", f"{p}/allocations/{consumer}", headers=PLACEMENT, json={
        "allocations": {rp: {"resources": {"VCPU": 1}}}, "project_id": world.project,
        "user_id": uuid.uuid4().hex, "consumer_generation": None, "consumer_type": "INSTANCE"})
    world.add("resource_providers", rp)
    world.add("inventories", "VCPU", rc)
    world.add("resource_classes", rc)
    world.add("traits", trait)
    world.add("allocations", consumer)


def build_image(world: World, b: Builder) -> None:
    image = b.create("/image/v2/images", None, {"name": unique("fuzz-img"), "disk_format": "qcow2",
                                                "container_format": "bare"})
    b.call("PUT", f"/image/v2/images/{image['id']}/file", content=b"fuzz image bytes",
           headers={"Content-Type": "application/octet-stream"})
    ns = unique("fuzz-ns")
    b.create("/image/v2/metadefs/namespaces", None, {
        "namespace": ns, "objects": [{"name": "fuzz-obj", "properties": {}}],
        "properties": {"fuzz-prop": {"title": "P", "type": "string"}}, "tags": [{"name": "fuzz-tag"}]})
    for name in ("staged", "queued"):  # for the import seeds
        other = b.create("/image/v2/images", None, {"name": unique("fuzz-img"), "disk_format": "raw",
                                                    "container_format": "bare"})
        world.add(f"{name}_images", other["id"])
    b.call("PUT", f"/image/v2/images/{world.known['staged_images'][0]}/stage", content=b"fuzz staged bytes",
           headers={"Content-Type": "application/octet-stream"})
    world.add("images", image["id"])
    world.add("namespaces", ns)
    world.add("objects", "fuzz-obj")
    world.add("properties", "fuzz-prop")
    world.add("tags", "fuzz-tag")


def aggregate_ids(b: Builder) -> set[int]:
    return {a["id"] for a in b.call("GET", "/compute/v2.1/os-aggregates").json()["aggregates"]}


def build_compute(world: World, b: Builder, api) -> None:
    v2 = "/compute/v2.1"
    world.aggregates_before = aggregate_ids(b)
    flavor = b.create(f"{v2}/flavors", "flavor", {"name": unique("fuzz-flv"), "ram": 64, "vcpus": 1, "disk": 0},
                      COMPUTE)
    b.call("POST", f"{v2}/flavors/{flavor['id']}/os-extra_specs", headers=COMPUTE,
           json={"extra_specs": {"fuzz:key": "v"}})
    aggregate = b.create(f"{v2}/os-aggregates", "aggregate", {"name": unique("fuzz-agg")}, COMPUTE)
    server = b.create(f"{v2}/servers", "server", {"name": unique("fuzz-vm"), "imageRef": world.known["images"][0],
                                                  "flavorRef": flavor["id"], "networks": "none"}, COMPUTE)
    b.wait(f"{v2}/servers/{server['id']}", "server", ("ACTIVE", "ERROR"), COMPUTE)
    hosts = api.cloud.service("compute").compute.hosts
    node = hosts.add_fake_host(unique("fuzz-host"), 4, 4096, 100, availability_zone=unique("fuzz-az"))
    hosts.update_service(node.service_id, disabled=True, disabled_reason="fuzz target")
    world.fake_host = node
    for key, value in (("flavors", flavor["id"]), ("os-extra_specs", "fuzz:key"),
                       ("os-aggregates", str(aggregate["id"])),
                       ("servers", server["id"]), ("metadata", "fuzz-key"), ("os-quota-sets", world.project),
                       ("os-quota-class-sets", unique("fuzz-class")), ("os-services", node.service_id),
                       ("os-hosts", node.host), ("os-hypervisors", node.host)):
        world.add(key, value)


def build_volume(world: World, b: Builder) -> None:
    """Unlimited volume quotas first: sizes that no quota stops reach the database."""
    v3 = f"/volume/v3/{world.project}"
    b.call("PUT", f"{v3}/os-quota-sets/{world.project}", headers=VOLUME, json={"quota_set": {
        "volumes": -1, "gigabytes": -1, "snapshots": -1, "backups": -1, "backup_gigabytes": -1}})
    vtype = b.create(f"{v3}/types", "volume_type", {"name": unique("fuzz-type")}, VOLUME)
    volumes = [b.create(f"{v3}/volumes", "volume", {"size": 1, "name": unique("fuzz-vol")}, VOLUME)["id"]
               for _ in range(3)]
    for vid in volumes:
        b.wait(f"{v3}/volumes/{vid}", "volume", ("available", "error"), VOLUME)
    snapshot = b.create(f"{v3}/snapshots", "snapshot", {"volume_id": volumes[0]}, VOLUME)["id"]
    b.wait(f"{v3}/snapshots/{snapshot}", "snapshot", ("available", "error"), VOLUME)
    backup = b.create(f"{v3}/backups", "backup", {"volume_id": volumes[0]}, VOLUME)["id"]
    b.wait(f"{v3}/backups/{backup}", "backup", ("available", "error"), VOLUME)
    qos = b.create(f"{v3}/qos-specs", "qos_specs", {"name": unique("fuzz-qos")}, VOLUME)["id"]
    attachment = b.create(f"{v3}/attachments", "attachment", {
        "volume_uuid": volumes[1], "instance_uuid": world.known["servers"][0]}, VOLUME)["id"]
    transfer = b.create(f"{v3}/os-volume-transfer", "transfer", {"volume_id": volumes[2]}, VOLUME)["id"]
    for key, value in (("v3", world.project), ("types", vtype["id"]), ("extra_specs", "fuzz-spec"),
                       ("volumes", volumes[0]), ("snapshots", snapshot), ("backups", backup), ("qos-specs", qos),
                       ("attachments", attachment), ("os-volume-transfer", transfer), ("target", world.project),
                       ("os-volumes", volumes[0]), ("os-snapshots", snapshot)):
        world.add(key, value)


def build_object(world: World, b: Builder) -> None:
    account = f"AUTH_{world.project}"
    container = unique("fuzz-ct")
    b.call("PUT", f"/object-store/v1/{account}/{container}")
    b.call("PUT", f"/object-store/v1/{account}/{container}/fuzz-obj", content=b"fuzz")
    world.add("v1", account)
    world.add(account, container)
    world.add("container", container)
    world.add(container, "fuzz-obj")


def action_seeds(world: World) -> list[tuple[str, str, object]]:
    """Valid bodies of action routes (building the world performs no action), on the
    world's resources.  Nothing here deletes what the fuzzer needs, nor copies a whole
    volume (an image upload would, once per replayed seed)."""
    first = {key: values[0] for key, values in world.known.items()}
    server = f"/compute/v2.1/servers/{first['servers']}/action"
    volume = f"/volume/v3/{world.project}/volumes/{first['volumes']}/action"
    return [
        ("POST", server, {"os-stop": None}), ("POST", server, {"os-start": None}),
        ("POST", server, {"reboot": {"type": "SOFT"}}), ("POST", server, {"lock": {"locked_reason": "fuzz"}}),
        ("POST", server, {"unlock": None}), ("POST", server, {"os-resetState": {"state": "active"}}),
        ("POST", server, {"createImage": {"name": "fuzz-snap", "metadata": {"k": "v"}}}),
        ("POST", server, {"resize": {"flavorRef": first["flavors"]}}), ("POST", server, {"confirmResize": None}),
        ("POST", server, {"rebuild": {"imageRef": first["images"], "name": "fuzz"}}),
        ("POST", server, {"changePassword": {"adminPass": "fuzz-pass"}}),
        ("POST", server, {"addSecurityGroup": {"name": "default"}}),
        ("POST", server, {"os-getConsoleOutput": {"length": 10}}),
        ("POST", server, {"os-getVNCConsole": {"type": "novnc"}}),
        ("POST", f"/compute/v2.1/servers/{first['servers']}/remote-consoles",
         {"remote_console": {"protocol": "vnc", "type": "novnc"}}),
        ("POST", f"/compute/v2.1/os-aggregates/{first['os-aggregates']}/action",
         {"set_metadata": {"metadata": {"fuzz": "v"}}}),
        ("POST", f"/compute/v2.1/flavors/{first['flavors']}/action", {"addTenantAccess": {"tenant": world.project}}),
        ("POST", volume, {"os-extend": {"new_size": 2}}), ("POST", volume, {"os-set_bootable": {"bootable": True}}),
        ("POST", volume, {"os-reset_status": {"status": "available", "attach_status": "detached"}}),
        ("POST", volume, {"os-update_readonly_flag": {"readonly": False}}),
        ("POST", f"/volume/v3/{world.project}/snapshots/{first['snapshots']}/action",
         {"os-reset_status": {"status": "available"}}),
        ("POST", f"/volume/v3/{world.project}/types/{first['types']}/action",
         {"addProjectAccess": {"project": world.project}}),
        ("POST", f"/volume/v3/{world.project}/backups/{first['backups']}/restore", {"restore": {"name": "fuzz"}}),
        ("PUT", f"/network/v2.0/routers/{first['routers']}/add_router_interface", {"subnet_id": first["subnets"]}),
        ("PUT", f"/network/v2.0/routers/{first['routers']}/add_extraroutes", {"router": {"routes": []}}),
        ("PATCH", f"/image/v2/images/{first['images']}", [{"op": "replace", "path": "/name", "value": "fuzz"}]),
        ("POST", f"/image/v2/images/{first['staged_images']}/import", {"method": {"name": "glance-direct"}}),
        ("POST", f"/image/v2/images/{first['queued_images']}/import",
         {"method": {"name": "web-download", "uri": FUZZ_IMPORT_URI}, "stores": ["fuzz"], "all_stores": False}),
        ("PUT", f"/volume/v3/{world.project}/os-quota-sets/{world.project}", {"quota_set": {"volumes": 20}}),
        ("PUT", f"/compute/v2.1/os-quota-sets/{world.project}", {"quota_set": {"instances": 20}}),
        ("PUT", f"/network/v2.0/quotas/{world.project}", {"quota": {"network": 20}}),
    ]


# While fuzzing, an image holds at most this much: a volume the fuzzer manages to upload
# to an image (os-volume_upload_image on a 1 GiB volume) stops there instead of writing
# gigabytes of zeros to the image store.
FUZZ_IMAGE_SIZE_CAP = 64 << 20
# While fuzzing, a web-download import may fetch from loopback's discard port only
# (refused at once): a mutated URI never leaves the machine.
FUZZ_IMPORT_URI = "http://127.0.0.1:9/fuzz.qcow2"
FUZZ_IMPORT_FILTER = ImportFilter(allowed_hosts=frozenset({"127.0.0.1"}), allowed_ports=frozenset({9}))


def build_world(api, admin_token: str) -> World:
    """A home project with the fuzzer's two users and one of everything in it."""
    world = World()
    shared_admin = Builder(api, admin_token, world)
    project = shared_admin.create("/identity/v3/projects", "project", {"name": unique("fuzz-home")})
    world.admin = identity_user(shared_admin, project, "admin")
    world.member = identity_user(shared_admin, project, "member")
    world.project = project["id"]
    b = Builder(api, world.admin, world)
    build_identity(world, b)
    build_network(world, b)
    build_placement(world, b)
    build_image(world, b)
    build_compute(world, b, api)
    build_volume(world, b)
    build_object(world, b)
    world.seeds.extend(action_seeds(world))
    images = api.cloud.service("image").manager  # last: retire() restores them
    world.image_size_cap, images.data.size_cap = images.data.size_cap, FUZZ_IMAGE_SIZE_CAP
    world.import_filter, images.importer.allowed = images.importer.allowed, FUZZ_IMPORT_FILTER
    return world


def retire(api, world: World) -> None:
    """Leave the shared cloud as other tests expect it: the private host disabled (the
    fuzzer may have enabled it), the home project's servers gone, no aggregate
    (aggregates are global: a test may expect none) left behind, the image size cap and
    import filter back."""
    images = api.cloud.service("image").manager
    images.data.size_cap = world.image_size_cap
    images.importer.allowed = world.import_filter
    hosts = api.cloud.service("compute").compute.hosts
    hosts.update_service(world.fake_host.service_id, disabled=True, disabled_reason="fuzz finished")
    servers = api.request("GET", "/compute/v2.1/servers", world.admin, headers=COMPUTE).json().get("servers", [])
    for server in servers:
        api.request("DELETE", f"/compute/v2.1/servers/{server['id']}", world.admin, headers=COMPUTE)
    b = Builder(api, world.admin, world)
    for aggregate_id in aggregate_ids(b) - world.aggregates_before:
        path = f"/compute/v2.1/os-aggregates/{aggregate_id}"
        for host in b.call("GET", path).json()["aggregate"]["hosts"]:
            b.call("POST", f"{path}/action", json={"remove_host": {"host": host}})
        b.call("DELETE", path)
