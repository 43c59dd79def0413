"""Seeding a cloud in-process: every kind of entry is created as the file says (read back
through the APIs), a second run changes nothing, a changed value is updated where the
API allows and reported where it does not, and a refusal names the entry's path."""

from __future__ import annotations

import hashlib
import textwrap

import pytest

from pocketstack.seed import SeedApplyError, SeedFileError, parse
from pocketstack.seed.runner import seed_cloud

from conftest import unique

SEED = """
domains:
  - {{name: dom-{u}, description: a domain}}
projects:
  - {{name: proj-{u}, description: seeded, tags: [zeta, ci]}}
  - {{name: other-{u}, domain: dom-{u}}}
roles:
  - {{name: role-{u}}}
users:
  - name: alice-{u}
    password: alice-secret
    email: alice@example.com
    default_project: proj-{u}
    application_credentials:
      - {{name: ci-{u}, secret: cred-secret, roles: [member]}}
  - {{name: bob-{u}, domain: dom-{u}, password: bob-secret}}
  - {{name: carol-{u}, password: carol-secret, enabled: false}}
groups:
  - {{name: grp-{u}, users: [alice-{u}]}}
role_assignments:
  - {{role: member, user: alice-{u}, project: proj-{u}}}
  - {{role: role-{u}, group: grp-{u}, project: proj-{u}}}
  - {{role: reader, user: bob-{u}, domain: dom-{u}}}
flavors:
  - {{name: flv-{u}, id: {fid}, vcpus: 2, ram: 512, disk: 1, description: small,
     extra_specs: {{"hw:cpu_policy": shared}}}}
images:
  - name: img-{u}
    file: disk.img
    visibility: public
    min_ram: 64
    tags: [seeded]
    properties: {{os_distro: cirros}}
networks:
  - name: ext-{u}
    external: true
    subnets:
      - {{name: ext-sub-{u}, cidr: 172.24.{n}.0/24, enable_dhcp: false}}
  - name: net-{u}
    project: proj-{u}
    subnets:
      - name: sub-{u}
        cidr: 10.{n}.0.0/24
        gateway_ip: 10.{n}.0.1
        dns_nameservers: [10.{n}.0.2]
        allocation_pools: [{{start: 10.{n}.0.10, end: 10.{n}.0.100}}]
routers:
  - {{name: rtr-{u}, project: proj-{u}, external_gateway: ext-{u}, interfaces: [sub-{u}]}}
security_groups:
  - name: sg-{u}
    project: proj-{u}
    description: web
    rules:
      - {{protocol: tcp, port_range_min: 22, remote_ip_prefix: 10.0.0.0/8}}
      - {{protocol: icmp, remote_group: sg-{u}}}
keypairs:
  - {{name: kp-{u}, user: alice-{u}, public_key_file: id.pub}}
  - {{name: gen-{u}, private_key_file: keys/gen}}
volume_types:
  - {{name: vt-{u}, extra_specs: {{volume_backend_name: file}}}}
volumes:
  - {{name: vol-{u}, size: 1, type: vt-{u}, metadata: {{purpose: ci}}, project: proj-{u}, user: alice-{u}}}
  - {{name: boot-{u}, size: 1, image: img-{u}, project: proj-{u}, user: alice-{u}}}
containers:
  - name: ctr-{u}
    project: proj-{u}
    read_acl: ".r:*"
    metadata: {{color: blue}}
    objects:
      - {{name: hello.txt, content: "hello\\n", content_type: text/plain, metadata: {{lang: en}}}}
      - {{name: data/disk.img, file: disk.img}}
quotas:
  - project: proj-{u}
    compute: {{instances: 7}}
    network: {{network: 11}}
    volume: {{volumes: 13}}
"""

PUBLIC_KEY = ("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIDm4xNnqjCXTJ5pH86fD6SmkR7mLMr2PQ9t7UhvaVkmD seed@test")
IMAGE = b"\x00pocketstack seed image\x00" * 64


def _files(tmp_path):
    (tmp_path / "disk.img").write_bytes(IMAGE)
    (tmp_path / "id.pub").write_text(PUBLIC_KEY + "\n")


def _seed(api, text, base):
    return api.client.portal.call(seed_cloud, api.cloud, parse(textwrap.dedent(text), base, "cloud.yaml"))


@pytest.fixture
def seeded(api, tmp_path):
    _files(tmp_path)
    u = unique("s")
    # An integer flavor id (YAML reads it as one), unique in the shared cloud.
    text = SEED.format(u=u, n=int(u[-2:], 16), fid=int(u[-8:], 16))
    return u, text, tmp_path, _seed(api, text, tmp_path)


def _get(api, token, path, headers=None, **params):
    response = api.request("GET", path, token, params=params, headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


def _one(api, token, path, key, **params):
    found = _get(api, token, path, **params)[key]
    assert len(found) == 1, found
    return found[0]


def test_every_kind_is_created_and_a_second_run_changes_nothing(api, admin_token, seeded):
    u, text, base, report = seeded
    assert report.count("differs") == 0, report.details()
    # A project always has quotas: the file's limits update them.
    assert {p for o, p, _ in report.lines if o == "updated"} == {f"quotas[0].{s}" for s in ("compute", "network",
                                                                                            "volume")}
    identity = "/identity/v3"
    domain = _one(api, admin_token, f"{identity}/domains", "domains", name=f"dom-{u}")
    project = _one(api, admin_token, f"{identity}/projects", "projects", name=f"proj-{u}")
    assert project["description"] == "seeded" and project["tags"] == ["ci", "zeta"]
    assert _one(api, admin_token, f"{identity}/projects", "projects", name=f"other-{u}")["domain_id"] == domain["id"]
    alice = _one(api, admin_token, f"{identity}/users", "users", name=f"alice-{u}")
    assert alice["default_project_id"] == project["id"] and alice["email"] == "alice@example.com"
    alice_token = api.token(f"alice-{u}", "alice-secret", project=f"proj-{u}")
    creds = _get(api, alice_token, f"{identity}/users/{alice['id']}/application_credentials")
    assert [c["name"] for c in creds["application_credentials"]] == [f"ci-{u}"]
    group = _one(api, admin_token, f"{identity}/groups", "groups", name=f"grp-{u}")
    assert [m["name"] for m in _get(api, admin_token, f"{identity}/groups/{group['id']}/users")["users"]] == \
        [f"alice-{u}"]
    assignments = _get(api, admin_token, f"{identity}/role_assignments", **{"scope.project.id": project["id"],
                                                                            "include_names": "true"})
    granted = {(a["role"]["name"], (a.get("user") or a.get("group"))["name"])
               for a in assignments["role_assignments"]}
    assert granted == {("member", f"alice-{u}"), (f"role-{u}", f"grp-{u}")}

    flavor = next(f for f in _get(api, admin_token, "/compute/v2.1/flavors/detail", is_public="none")["flavors"]
                  if f["name"] == f"flv-{u}")
    assert (flavor["id"], flavor["vcpus"], flavor["ram"], flavor["disk"]) == (str(int(u[-8:], 16)), 2, 512, 1)
    specs = _get(api, admin_token, f"/compute/v2.1/flavors/{flavor['id']}/os-extra_specs")["extra_specs"]
    assert specs == {"hw:cpu_policy": "shared"}

    image = _one(api, admin_token, "/image/v2/images", "images", name=f"img-{u}")
    assert (image["visibility"], image["min_ram"], image["os_distro"], image["tags"], image["status"]) == \
        ("public", 64, "cirros", ["seeded"], "active")
    assert image["checksum"] == hashlib.md5(IMAGE).hexdigest()

    network = _one(api, admin_token, "/network/v2.0/networks", "networks", name=f"net-{u}")
    assert network["project_id"] == project["id"]
    assert _one(api, admin_token, "/network/v2.0/networks", "networks", name=f"ext-{u}")["router:external"]
    subnet = _one(api, admin_token, "/network/v2.0/subnets", "subnets", name=f"sub-{u}")
    assert subnet["network_id"] == network["id"] and subnet["allocation_pools"][0]["end"].endswith(".0.100")
    router = _one(api, admin_token, "/network/v2.0/routers", "routers", name=f"rtr-{u}")
    assert router["external_gateway_info"]["network_id"] == \
        _one(api, admin_token, "/network/v2.0/networks", "networks", name=f"ext-{u}")["id"]
    ports = _get(api, admin_token, "/network/v2.0/ports", device_id=router["id"])["ports"]
    assert subnet["id"] in {ip["subnet_id"] for p in ports for ip in p["fixed_ips"]}
    group = _one(api, admin_token, "/network/v2.0/security-groups", "security_groups", name=f"sg-{u}")
    rules = {(r["protocol"], r["port_range_min"], r["remote_ip_prefix"], r["remote_group_id"])
             for r in group["security_group_rules"] if r["direction"] == "ingress"}
    assert rules == {("tcp", 22, "10.0.0.0/8", None), ("icmp", None, None, group["id"])}

    keypair = _get(api, admin_token, f"/compute/v2.1/os-keypairs/kp-{u}", user_id=alice["id"],
                   headers={"OpenStack-API-Version": "compute 2.10"})["keypair"]
    assert keypair["public_key"] == PUBLIC_KEY
    generated = _get(api, admin_token, f"/compute/v2.1/os-keypairs/gen-{u}")["keypair"]
    assert generated["public_key"].startswith("ssh-ed25519 ")
    assert (base / "keys" / "gen").read_text().startswith("-----BEGIN OPENSSH PRIVATE KEY-----")
    assert (base / "keys" / "gen").stat().st_mode & 0o777 == 0o600

    # In the project the entry names (the shared test cloud's admin project has used its volume quota).
    volume = _one(api, alice_token, f"/volume/v3/{project['id']}/volumes/detail", "volumes", name=f"vol-{u}")
    assert (volume["size"], volume["volume_type"], volume["status"], volume["metadata"]) == \
        (1, f"vt-{u}", "available", {"purpose": "ci"})
    boot = _one(api, alice_token, f"/volume/v3/{project['id']}/volumes/detail", "volumes", name=f"boot-{u}")
    assert boot["bootable"] == "true" and boot["volume_image_metadata"]["image_id"] == image["id"]

    account = f"/object-store/v1/AUTH_{project['id']}"
    head = api.request("HEAD", f"{account}/ctr-{u}", admin_token)
    assert head.headers["X-Container-Read"] == ".r:*" and head.headers["X-Container-Meta-Color"] == "blue"
    hello = api.request("GET", f"{account}/ctr-{u}/hello.txt")  # public read: no token
    assert hello.status_code == 200 and hello.text == "hello\n"
    assert hello.headers["Content-Type"].startswith("text/plain") and hello.headers["X-Object-Meta-Lang"] == "en"
    assert api.request("GET", f"{account}/ctr-{u}/data/disk.img", admin_token).content == IMAGE

    assert _get(api, admin_token, f"/compute/v2.1/os-quota-sets/{project['id']}")["quota_set"]["instances"] == 7
    assert _get(api, admin_token, f"/network/v2.0/quotas/{project['id']}")["quota"]["network"] == 11
    admin_project = _one(api, admin_token, f"{identity}/projects", "projects", name="admin")["id"]
    assert _get(api, admin_token, f"/volume/v3/{admin_project}/os-quota-sets/{project['id']}")[
        "quota_set"]["volumes"] == 13

    again = _seed(api, text, base)
    assert not again.changed and again.count("differs") == 0, again.details()
    assert again.count("unchanged") == len(report.lines)


def test_changed_values_are_updated_or_reported(api, admin_token, seeded):
    u, text, base, _ = seeded
    changed = (text.replace("description: seeded", "description: reseeded")
               .replace("vcpus: 2", "vcpus: 4")
               .replace("alice-secret", "alice-new")
               .replace('content: "hello\\n"', 'content: "bye\\n"')
               .replace("compute: {instances: 7}", "compute: {instances: 8}"))
    report = _seed(api, changed, base)
    outcomes = {(o, p) for o, p, _ in report.lines if o != "unchanged"}
    assert outcomes == {("updated", "projects[0]"), ("differs", "flavors[0]"), ("updated", "users[0].password"),
                        ("updated", "containers[0].objects[0]"), ("updated", "quotas[0].compute")}, report.details()
    assert "vcpus is 2 in the cloud, 4 in the file" in dict((p, d) for _, p, d in report.lines)["flavors[0]"]
    api.token(f"alice-{u}", "alice-new", project=f"proj-{u}")
    project = _one(api, admin_token, "/identity/v3/projects", "projects", name=f"proj-{u}")
    assert project["description"] == "reseeded"
    assert api.request("GET", f"/object-store/v1/AUTH_{project['id']}/ctr-{u}/hello.txt").text == "bye\n"


def test_a_refusal_names_the_entry(api, tmp_path):
    u = unique("s")
    seed = f"flavors:\n  - {{name: ok-{u}, vcpus: 1, ram: 64}}\n  - {{name: bad-{u}, vcpus: 1, ram: 64, id: 'a/b'}}\n"
    with pytest.raises(SeedApplyError) as error:
        _seed(api, seed, tmp_path)
    assert str(error.value.problems[0]).startswith("flavors[1] (line 3): POST /compute/v2.1/flavors -> 400")


def test_references_missing_from_file_and_cloud_stop_before_anything_is_created(api, admin_token, tmp_path):
    u = unique("s")
    seed = f"""
projects:
  - {{name: p-{u}}}
networks:
  - {{name: n-{u}, project: nowhere-{u}}}
routers:
  - {{name: r-{u}, external_gateway: missing-{u}, interfaces: [sub-{u}]}}
security_groups:
  - {{name: g-{u}, rules: [{{remote_group: other-{u}}}]}}
keypairs:
  - {{name: k-{u}, type: ssh}}
volumes:
  - {{name: v-{u}, size: 1, type: slow-{u}}}
"""
    with pytest.raises(SeedFileError) as error:
        _seed(api, seed, tmp_path)
    assert [str(p) for p in error.value.problems] == [
        f"networks[0].project (line 5): no project named 'nowhere-{u}' in this file or in the cloud",
        f"routers[0].external_gateway (line 7): no network named 'missing-{u}' in this file or in the cloud",
        f"routers[0].interfaces[0] (line 7): no subnet named 'sub-{u}' in this file or in the cloud",
        f"security_groups[0].rules[0].remote_group (line 9): no security group named 'other-{u}' in this file "
        "or in the cloud",
        f"volumes[0].type (line 13): no volume type named 'slow-{u}' in this file or in the cloud"]
    assert _get(api, admin_token, "/identity/v3/projects", name=f"p-{u}")["projects"] == []


def test_the_seeders_admin_token_is_checked_like_any_other(api):
    """``Identity.issue_token`` (what ``up --seed`` acts with) needs a role on the project."""
    from pocketstack.identity import errors

    token = api.cloud.identity.issue_token("admin", "admin")
    assert api.request("GET", "/identity/v3/projects", token).status_code == 200
    with pytest.raises(errors.NotFound):
        api.cloud.identity.issue_token("demo", "admin")
