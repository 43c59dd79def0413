"""Key pairs (per user, imported or generated, quota-counted), quota sets, limits,
availability zones, services and hypervisors."""

from __future__ import annotations

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ed25519

from compute_fixtures import member  # noqa: F401 - fixtures
from conftest import ADMIN_PASSWORD, unique
from test_compute_helpers import call, new_member


def public_key() -> str:
    key = ed25519.Ed25519PrivateKey.generate().public_key()
    return key.public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH).decode()


def test_keypair_import_generate_and_isolation(api, member, demo_token):
    token = member["token"]
    name = unique("kp")
    r = call(api, "POST", "/os-keypairs", token, json={"keypair": {"name": name, "public_key": public_key()}})
    assert r.status_code == 201, r.text
    imported = r.json()["keypair"]
    assert imported["type"] == "ssh" and len(imported["fingerprint"].split(":")) == 16
    assert "private_key" not in imported
    generated = call(api, "POST", "/os-keypairs", token, json={"keypair": {"name": name + "-g"}}).json()["keypair"]
    assert generated["private_key"].startswith("-----BEGIN OPENSSH PRIVATE KEY-----")
    assert call(api, "POST", "/os-keypairs", token, json={"keypair": {"name": name}}).status_code == 409
    listed = {k["keypair"]["name"] for k in call(api, "GET", "/os-keypairs", token).json()["keypairs"]}
    assert {name, name + "-g"} <= listed
    shown = call(api, "GET", f"/os-keypairs/{name}", token).json()["keypair"]
    assert shown["user_id"] == member["user"]["id"] and shown["public_key"] == imported["public_key"]
    # Another user does not see them.
    assert call(api, "GET", f"/os-keypairs/{name}", demo_token).status_code == 404
    assert name not in {k["keypair"]["name"] for k in call(api, "GET", "/os-keypairs", demo_token).json()["keypairs"]}
    assert call(api, "DELETE", f"/os-keypairs/{name}", token).status_code == 204
    assert call(api, "DELETE", f"/os-keypairs/{name}", token).status_code == 404
    assert call(api, "DELETE", f"/os-keypairs/{name}-g", token, version="2.1").status_code == 202


def test_generated_x509_keypair(api, member):
    token = member["token"]
    name = unique("kpx")
    r = call(api, "POST", "/os-keypairs", token, json={"keypair": {"name": name, "type": "x509"}})
    assert r.status_code == 201, r.text
    created = r.json()["keypair"]
    assert created["type"] == "x509" and created["private_key"].startswith("-----BEGIN RSA PRIVATE KEY-----")
    cert = x509.load_pem_x509_certificate(created["public_key"].encode())
    assert created["fingerprint"] == ":".join(f"{b:02x}" for b in cert.fingerprint(hashes.SHA1()))
    shown = call(api, "GET", f"/os-keypairs/{name}", token).json()["keypair"]
    assert shown["type"] == "x509" and shown["public_key"] == created["public_key"]
    call(api, "DELETE", f"/os-keypairs/{name}", token)


@pytest.mark.parametrize("body", [{"name": "bad/name"}, {"name": "x", "public_key": "not a key"},
                                  {"name": "x", "type": "rsa"}, {}])
def test_bad_keypair_is_400(api, member, body):
    r = call(api, "POST", "/os-keypairs", member["token"], json={"keypair": body})
    assert r.status_code == 400 and "badRequest" in r.json()


def test_keypair_quota(api, admin_token):
    user = new_member(api, admin_token)
    project_id = user["project"]["id"]
    assert call(api, "PUT", f"/os-quota-sets/{project_id}", admin_token,
                json={"quota_set": {"key_pairs": 2}}).status_code == 200
    for i in range(2):
        assert call(api, "POST", "/os-keypairs", user["token"], json={"keypair": {"name": f"k{i}"}}).status_code == 201
    r = call(api, "POST", "/os-keypairs", user["token"], json={"keypair": {"name": "k3"}})
    assert r.status_code == 403
    assert r.json()["forbidden"]["message"] == (
        "Quota exceeded for key_pairs: Requested 1, but already used 2 of 2 key_pairs")
    call(api, "DELETE", "/os-keypairs/k0", user["token"])
    assert call(api, "POST", "/os-keypairs", user["token"], json={"keypair": {"name": "k3"}}).status_code == 201


def test_quota_sets(api, admin_token, member):
    project_id = member["project"]["id"]
    quota = call(api, "GET", f"/os-quota-sets/{project_id}", member["token"]).json()["quota_set"]
    assert quota["id"] == project_id and quota["instances"] == 10 and quota["cores"] == 20
    assert "injected_files" not in quota and "fixed_ips" not in quota
    assert "injected_files" in call(api, "GET", f"/os-quota-sets/{project_id}", admin_token,
                                    version="2.56").json()["quota_set"]
    assert "fixed_ips" in call(api, "GET", f"/os-quota-sets/{project_id}", admin_token,
                               version="2.1").json()["quota_set"]
    assert call(api, "PUT", f"/os-quota-sets/{project_id}", member["token"],
                json={"quota_set": {"instances": 50}}).status_code == 403
    r = call(api, "PUT", f"/os-quota-sets/{project_id}", admin_token, json={"quota_set": {"instances": 3,
                                                                                          "cores": -1}})
    assert r.status_code == 200 and r.json()["quota_set"]["instances"] == 3 and "id" not in r.json()["quota_set"]
    detail = call(api, "GET", f"/os-quota-sets/{project_id}/detail", member["token"]).json()["quota_set"]
    assert detail["instances"] == {"limit": 3, "in_use": 0, "reserved": 0}
    assert detail["cores"]["limit"] == -1
    defaults = call(api, "GET", f"/os-quota-sets/{project_id}/defaults", member["token"]).json()["quota_set"]
    assert defaults["instances"] == 10
    assert call(api, "PUT", f"/os-quota-sets/{project_id}", admin_token,
                json={"quota_set": {"instances": "many"}}).status_code == 400
    assert call(api, "PUT", f"/os-quota-sets/{project_id}", admin_token,
                json={"quota_set": {"nonsense": 1}}).status_code == 400
    for huge in (2 ** 31, str(2 ** 31), 2 ** 62, str(2 ** 70)):  # Nova's MAX_INT is 2**31 - 1
        for path, key in ((f"/os-quota-sets/{project_id}", "quota_set"), ("/os-quota-class-sets/default",
                                                                          "quota_class_set")):
            r = call(api, "PUT", path, admin_token, json={key: {"instances": huge}})
            assert r.status_code == 400 and "maximum of 2147483647" in r.json()["badRequest"]["message"], r.text
    assert call(api, "DELETE", f"/os-quota-sets/{project_id}", admin_token).status_code == 202
    assert call(api, "GET", f"/os-quota-sets/{project_id}", admin_token).json()["quota_set"]["instances"] == 10
    # Another project's member cannot read this project's quota.
    assert call(api, "GET", f"/os-quota-sets/{project_id}", new_member(api, admin_token)["token"]).status_code == 403


def test_limits(api, member):
    absolute = call(api, "GET", "/limits", member["token"]).json()["limits"]["absolute"]
    assert absolute["maxTotalInstances"] == 10 and absolute["totalInstancesUsed"] == 0
    assert "maxPersonality" not in absolute
    assert "maxPersonality" in call(api, "GET", "/limits", member["token"],
                                    version="2.56").json()["limits"]["absolute"]


def test_availability_zones_services_hypervisors(api, admin_token, demo_token):
    zones = call(api, "GET", "/os-availability-zone", demo_token).json()["availabilityZoneInfo"]
    assert {"zoneName": "nova", "zoneState": {"available": True}, "hosts": None} in zones
    assert call(api, "GET", "/os-availability-zone/detail", demo_token).status_code == 403
    detail = call(api, "GET", "/os-availability-zone/detail", admin_token).json()["availabilityZoneInfo"]
    nova = next(z for z in detail if z["zoneName"] == "nova")
    assert {"compute-1", "compute-2"} <= set(nova["hosts"])
    services = call(api, "GET", "/os-services?binary=nova-compute", admin_token).json()["services"]
    by_host = {s["host"]: s for s in services}
    assert by_host["compute-1"]["state"] == "up" and by_host["compute-1"]["status"] == "enabled"
    assert len(by_host["compute-1"]["id"]) == 36
    assert call(api, "GET", "/os-services", demo_token).status_code == 403
    hypervisors = call(api, "GET", "/os-hypervisors/detail", admin_token).json()["hypervisors"]
    one = next(h for h in hypervisors if h["hypervisor_hostname"] == "compute-1")
    assert one["vcpus"] == 16 and one["memory_mb"] == 32768 and one["hypervisor_type"] == "fake"
    assert call(api, "GET", f"/os-hypervisors/{one['id']}", admin_token).json()["hypervisor"]["id"] == one["id"]
    # Other tests' aggregates may exist; none holds these hosts outside zone "nova".
    aggregates = call(api, "GET", "/os-aggregates", admin_token).json()["aggregates"]
    assert all(a["availability_zone"] in (None, "nova") or not {"compute-1", "compute-2"} & set(a["hosts"])
               for a in aggregates)
    uptime = call(api, "GET", f"/os-hypervisors/{one['id']}/uptime", admin_token).json()["hypervisor"]
    assert " up " in uptime["uptime"] and uptime["hypervisor_hostname"] == "compute-1"
    stats = call(api, "GET", "/os-hypervisors/statistics", admin_token).json()["hypervisor_statistics"]
    assert stats["count"] >= 2 and stats["vcpus"] >= 32
    # Disabling a service takes its host out of scheduling and shows in the list.
    sid = by_host["compute-2"]["id"]
    r = call(api, "PUT", f"/os-services/{sid}", admin_token, json={"status": "disabled", "disabled_reason": "test"})
    assert r.status_code == 200 and r.json()["service"]["status"] == "disabled"
    r = call(api, "PUT", f"/os-services/{sid}", admin_token, json={"status": "enabled"})
    assert r.json()["service"]["status"] == "enabled" and r.json()["service"]["disabled_reason"] is None
    assert call(api, "PUT", f"/os-services/{sid}", admin_token, json={"status": "off"}).status_code == 400


def test_default_quota_class_is_every_projects_default(api, admin_token, demo_token):
    before = call(api, "GET", "/os-quota-class-sets/default", admin_token, version="2.1").json()["quota_class_set"]
    assert before["id"] == "default" and "floating_ips" in before and "server_groups" not in before
    assert call(api, "GET", "/os-quota-class-sets/default", demo_token).status_code == 403
    fresh = new_member(api, admin_token)["project"]["id"]
    try:
        r = call(api, "PUT", "/os-quota-class-sets/default", admin_token, version="2.1",
                 json={"quota_class_set": {"metadata_items": 77, "floating_ips": 110}})
        assert r.status_code == 200, r.text
        assert r.json()["quota_class_set"]["metadata_items"] == 77
        assert r.json()["quota_class_set"]["floating_ips"] == 110 and "id" not in r.json()["quota_class_set"]
        latest = call(api, "GET", "/os-quota-class-sets/default", admin_token).json()["quota_class_set"]
        assert latest["metadata_items"] == 77 and "server_groups" in latest and "floating_ips" not in latest
        assert call(api, "GET", f"/os-quota-sets/{fresh}", admin_token).json()["quota_set"]["metadata_items"] == 77
        defaults = call(api, "GET", f"/os-quota-sets/{fresh}/defaults", admin_token).json()["quota_set"]
        assert defaults["metadata_items"] == 77
        r = call(api, "PUT", "/os-quota-class-sets/default", admin_token,
                 json={"quota_class_set": {"metadata_items": -2}})
        assert r.status_code == 400
    finally:
        call(api, "PUT", "/os-quota-class-sets/default", admin_token, version="2.1",
             json={"quota_class_set": {"metadata_items": before["metadata_items"],
                                       "floating_ips": before["floating_ips"]}})


def test_tokens_scoped_to_no_project(api):
    """A system-scoped token reads as before (default limits, nothing used), its user's x509
    key pair names no project in its subject, and what would belong to a project (a server
    group) is refused (403)."""
    token = api.token("admin", ADMIN_PASSWORD, system=True)
    r = call(api, "GET", "/limits", token)
    assert r.status_code == 200, r.text
    absolute = r.json()["limits"]["absolute"]
    assert absolute["totalInstancesUsed"] == 0 and absolute["maxTotalInstances"] >= 0
    name = unique("kpsys")
    r = call(api, "POST", "/os-keypairs", token, json={"keypair": {"name": name, "type": "x509"}})
    assert r.status_code == 201, r.text
    cert = x509.load_pem_x509_certificate(r.json()["keypair"]["public_key"].encode())
    common_name = cert.subject.get_attributes_for_oid(x509.oid.NameOID.COMMON_NAME)[0].value
    assert str(common_name).startswith("-")  # "<project>-<user>-<time>" with no project
    assert call(api, "DELETE", f"/os-keypairs/{name}", token).status_code == 204
    r = call(api, "POST", "/os-server-groups", token,
             json={"server_group": {"name": unique("sg"), "policy": "affinity"}})
    assert r.status_code == 403, r.text
