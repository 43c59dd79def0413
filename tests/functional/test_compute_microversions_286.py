"""Compute microversions from 2.86 on, each at its boundary: below it the old behaviour,
at it the new one, and Nova's 400s for bad new input.

2.86: flavor extra specs Nova knows are validated on create and update.  2.87: volume-backed
servers are rescued (with a rescue image saying how to attach the rescue disk, on a host
reporting COMPUTE_RESCUE_BFV).  2.88: hypervisors lose their usage figures and gain
``uptime``; statistics and uptime routes are gone.  2.89: volume attachments show
``attachment_id`` and ``bdm_uuid``, not ``id``."""

from __future__ import annotations

import pytest
from test_volume_servers import create_volume, raw_image, wait_volume  # noqa: F401 - raw_image: fixture

from compute_fixtures import flavor, image, user  # noqa: F401 - fixtures
from conftest import unique
from test_compute_helpers import boot, call, make_flavor, make_image, wait

MAXIMUM = "2.104"
ABOVE = "2.105"


def test_maximum(api, user):  # noqa: F811
    r = api.request("GET", "/compute/", None)
    assert r.status_code == 200
    assert [v["version"] for v in r.json()["versions"] if v["id"] == "v2.1"] == [MAXIMUM]
    r = call(api, "GET", "/flavors", user["token"], version="latest")
    assert r.headers["OpenStack-API-Version"] == f"compute {MAXIMUM}"
    assert call(api, "GET", "/flavors", user["token"], version=ABOVE).status_code == 406


@pytest.mark.parametrize(("key", "value", "message"), [
    ("hw:cpu_policy", "sometimes", "Validation failed; 'sometimes' is not one of: dedicated, shared, mixed."),
    ("hw:numa_nodes", "0", "Validation failed; '0' is less than the min value of '1'."),
    ("hw:numa_nodes", "two", "Validation failed; 'two' is not a valid integer value."),
    ("hw:redirected_usb_ports", "16", "Validation failed; '16' is greater than the max value of '15'."),
    ("hw:cpu_realtime", "maybe", "Validation failed; 'maybe' is not a valid boolean-like value."),
    ("hw:numa_cpus.0", "0-3,x",
     r"Validation failed; '0-3,x' is not of the format '\^?\d+((-\d+)?(,\^?\d+(-\d+)?)?)*'."),
    ("hw:no_such_thing", "1", "Validation failed; extra spec 'hw:no_such_thing' does not appear to be a valid "
                              "extra spec."),
    ("trait:CUSTOM_GOLD", "preferred", "Validation failed; 'preferred' is not one of: required, forbidden."),
    ("trait1:HW_NO_SUCH_TRAIT", "required", "Validation failed; extra spec 'trait1:HW_NO_SUCH_TRAIT' does not "
                                            "appear to be a valid extra spec."),
    ("resources_GPU:VGPU", "one", "Validation failed; 'one' is not a valid integer value."),
    ("quota:disk_read_bytes_sec", "-1", "Validation failed; '-1' is less than the min value of '0'."),
    ("pci_passthrough:alias", "a1", r"Validation failed; 'a1' is not of the format '[^:]+:\d+(?:\s*,\s*[^:]+:\d+)*'."),
    ("os:secure_boot", "optional", "Validation failed; 'optional' is not one of: disabled, required."),
    ("hide_hypervisor_id", "sure", "Validation failed; 'sure' is not a valid boolean-like value."),
])
def test_known_extra_specs_are_validated_from_2_86(api, admin_token, key, value, message):
    flavor_id = make_flavor(api, admin_token)["id"]
    path = f"/flavors/{flavor_id}/os-extra_specs"
    for method, url, body in (("POST", path, {"extra_specs": {key: value}}), ("PUT", f"{path}/{key}", {key: value})):
        r = call(api, method, url, admin_token, version="2.86", json=body)
        assert r.status_code == 400, r.text
        assert r.json()["badRequest"]["message"] == message
        assert call(api, method, url, admin_token, version="2.85", json=body).status_code == 200
    assert call(api, "GET", path, admin_token, version="2.86").json()["extra_specs"] == {key: value}


@pytest.mark.parametrize(("key", "value"), [
    ("hw:cpu_policy", "dedicated"), ("hw:numa_nodes", 2), ("hw:mem_page_size", "2MB"), ("hw:cpu_realtime", "yes"),
    ("hw:numa_cpus.1", "0-3,^2"), ("hw:numa_mem.1", "512"), ("hw_rng:allowed", True),
    ("resources:VCPU", "2"), ("resources1:CUSTOM_FPGA_X", "1"), ("trait:HW_CPU_X86_AVX", "required"),
    ("trait_gpu:CUSTOM_GOLD", "forbidden"), ("capabilities:cpu_info:arch", "x86_64"),
    ("aggregate_instance_extra_specs:ssd", "<in> true"), ("pci_passthrough:alias", "a1:2, b2:1"),
    ("quota:cpu_quota", "-1"), ("group_policy", "isolate"), ("accel:device_profile", "fpga"),
    # keys Nova does not own pass whatever they say
    ("my_filter:anything", "goes"), ("powervm:proc_units", "x"), ("plain_key", "v"),
])
def test_valid_and_foreign_extra_specs_pass_at_2_86(api, admin_token, key, value):
    flavor_id = make_flavor(api, admin_token)["id"]
    path = f"/flavors/{flavor_id}/os-extra_specs"
    r = call(api, "POST", path, admin_token, version="2.86", json={"extra_specs": {key: value}})
    assert r.status_code == 200, r.text
    assert r.json() == {"extra_specs": {key: str(value)}}
    r = call(api, "PUT", f"{path}/{key}", admin_token, version="2.86", json={key: value})
    assert r.status_code == 200, r.text


def test_extra_spec_validation_comes_before_the_flavor_lookup(api, admin_token, user):  # noqa: F811
    r = call(api, "POST", "/flavors/no-such-flavor/os-extra_specs", admin_token, version="2.86",
             json={"extra_specs": {"hw:cpu_policy": "bogus"}})
    assert r.status_code == 400
    r = call(api, "POST", "/flavors/no-such-flavor/os-extra_specs", admin_token, version="2.86",
             json={"extra_specs": {"hw:cpu_policy": "shared"}})
    assert r.status_code == 404
    r = call(api, "POST", "/flavors/no-such-flavor/os-extra_specs", user["token"], version="2.86",
             json={"extra_specs": {"hw:cpu_policy": "bogus"}})
    assert r.status_code == 403


def volume_backed_server(api, user, raw_image, flavor) -> str:  # noqa: F811
    token = user["token"]
    created = call(api, "POST", "/servers", token, version="2.86", json={"server": {
        "name": unique("bfv"), "flavorRef": flavor["id"], "networks": "none", "imageRef": "",
        "block_device_mapping_v2": [{"source_type": "image", "destination_type": "volume", "uuid": raw_image,
                                     "boot_index": 0, "volume_size": 1, "delete_on_termination": True}]}})
    assert created.status_code == 202, created.text
    server_id = created.json()["server"]["id"]
    assert wait(api, token, server_id)["status"] == "ACTIVE"
    return server_id


def test_volume_backed_rescue_from_2_87(api, admin_token, user, raw_image, flavor):  # noqa: F811
    token = user["token"]
    image = raw_image
    server_id = volume_backed_server(api, user, raw_image, flavor)
    action = f"/servers/{server_id}/action"
    r = call(api, "POST", action, token, version="2.86", json={"rescue": None})
    assert r.status_code == 400
    assert r.json()["badRequest"]["message"] == (
        f"Instance {server_id} cannot be rescued: Cannot rescue a volume-backed instance")
    # 2.87 needs an image that says how to attach the rescue disk
    r = call(api, "POST", action, token, version="2.87", json={"rescue": {"rescue_image_ref": image}})
    assert r.status_code == 400
    rescue_image = make_image(api, admin_token, hw_rescue_bus="virtio", hw_rescue_device="disk")
    r = call(api, "POST", action, token, version="2.86", json={"rescue": {"rescue_image_ref": rescue_image}})
    assert r.status_code == 400
    r = call(api, "POST", action, token, version="2.87", json={"rescue": {"rescue_image_ref": rescue_image}})
    assert r.status_code == 200, r.text
    assert wait(api, token, server_id, until=("RESCUE",))["status"] == "RESCUE"
    assert call(api, "POST", action, token, version="2.87", json={"unrescue": None}).status_code == 202
    assert wait(api, token, server_id, until=("ACTIVE",))["status"] == "ACTIVE"
    # what the fake host reports to Placement
    node = call(api, "GET", "/os-hypervisors", admin_token, version="2.87").json()["hypervisors"][0]["id"]
    traits = api.request("GET", f"/placement/resource_providers/{node}/traits", admin_token,
                         headers={"OpenStack-API-Version": "placement 1.6"}).json()["traits"]
    assert "COMPUTE_RESCUE_BFV" in traits
    call(api, "DELETE", f"/servers/{server_id}", token)


_USAGE_FIELDS = {"current_workload", "cpu_info", "vcpus", "vcpus_used", "free_disk_gb", "local_gb", "local_gb_used",
                 "disk_available_least", "free_ram_mb", "memory_mb", "memory_mb_used", "running_vms"}


def test_hypervisors_from_2_88(api, admin_token):
    old = call(api, "GET", "/os-hypervisors/detail", admin_token, version="2.87").json()["hypervisors"]
    new = call(api, "GET", "/os-hypervisors/detail", admin_token, version="2.88").json()["hypervisors"]
    assert old and _USAGE_FIELDS <= set(old[0]) and "uptime" not in old[0]
    assert not _USAGE_FIELDS & set(new[0])
    assert set(new[0]) == set(old[0]) - _USAGE_FIELDS | {"uptime"}
    node = new[0]["id"]
    shown = call(api, "GET", f"/os-hypervisors/{node}", admin_token, version="2.88").json()["hypervisor"]
    assert shown["state"] == "up" and " up " in shown["uptime"] and not _USAGE_FIELDS & set(shown)
    for path in ("/os-hypervisors/statistics", f"/os-hypervisors/{node}/uptime"):
        assert call(api, "GET", path, admin_token, version="2.87").status_code == 200
        r = call(api, "GET", path, admin_token, version="2.88")
        assert r.status_code == 404
        assert r.json()["itemNotFound"]["message"] == "The resource could not be found."


def test_volume_attachment_ids_from_2_89(api, user, image, flavor):  # noqa: F811
    token = user["token"]
    server_id = boot(api, token, image, flavor["id"])["server"]["id"]
    assert wait(api, token, server_id)["status"] == "ACTIVE"
    project = {"token": token, "id": user["project"]["id"]}
    volume_id = create_volume(api, project)["id"]
    path = f"/servers/{server_id}/os-volume_attachments"
    assert call(api, "POST", path, token, json={"volumeAttachment": {"volumeId": volume_id}}).status_code == 200
    [attachment] = wait_volume(api, project, volume_id, ("in-use",))["attachments"]
    old = call(api, "GET", f"{path}/{volume_id}", token, version="2.88").json()["volumeAttachment"]
    assert old["id"] == volume_id and "attachment_id" not in old and "bdm_uuid" not in old
    new = call(api, "GET", f"{path}/{volume_id}", token, version="2.89").json()["volumeAttachment"]
    assert "id" not in new
    assert new["attachment_id"] == attachment["attachment_id"]
    assert len(new["bdm_uuid"]) == 36 and new["volumeId"] == volume_id and new["serverId"] == server_id
    assert call(api, "GET", path, token, version="2.89").json()["volumeAttachments"] == [new]
    call(api, "DELETE", f"/servers/{server_id}", token)
