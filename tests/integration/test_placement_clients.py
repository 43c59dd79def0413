"""The real ``openstack`` CLI with the osc-placement plugin against a real ``pocketstack up``."""

from __future__ import annotations

import uuid

import pytest

from cloudproc import running_cloud


@pytest.fixture(scope="module")
def cloud_proc(tmp_path_factory):
    with running_cloud(tmp_path_factory.mktemp("placement-cli")) as proc:
        yield proc


def test_osc_placement_workflow(cloud_proc):
    os_ = cloud_proc.openstack
    rp = os_("resource", "provider", "create", "cli-node", "-f", "json")
    assert rp["name"] == "cli-node" and rp["generation"] == 0 and rp["root_provider_uuid"] == rp["uuid"]
    listed = os_("resource", "provider", "list", "-f", "json")
    assert [p["uuid"] for p in listed if p["name"] == "cli-node"] == [rp["uuid"]]

    os_("resource", "provider", "inventory", "set", rp["uuid"], "--resource", "VCPU=8",
        "--resource", "MEMORY_MB=4096", "--resource", "VCPU:allocation_ratio=2.0", parse=False)
    inventories = {i["resource_class"]: i for i in os_("resource", "provider", "inventory", "list", rp["uuid"],
                                                       "-f", "json")}
    assert inventories["VCPU"]["total"] == 8 and inventories["VCPU"]["allocation_ratio"] == 2.0
    assert inventories["MEMORY_MB"]["max_unit"] == 4096

    # The cloud's own compute nodes are providers too: a custom trait singles ours out.
    os_("trait", "create", "CUSTOM_CLI_TEST", parse=False)
    os_("resource", "provider", "trait", "set", "--trait", "CUSTOM_CLI_TEST", rp["uuid"], parse=False)
    candidates = os_("allocation", "candidate", "list", "--resource", "VCPU=1", "--required", "CUSTOM_CLI_TEST",
                     "-f", "json")
    assert [c["resource provider"] for c in candidates] == [rp["uuid"]]

    consumer = str(uuid.uuid4())
    os_("resource", "provider", "allocation", "set", consumer, "--allocation",
        f"rp={rp['uuid']},VCPU=2,MEMORY_MB=512", "--project-id", "p1", "--user-id", "u1", parse=False)
    usage = {u["resource_class"]: u["usage"] for u in os_("resource", "provider", "usage", "show", rp["uuid"],
                                                          "-f", "json")}
    assert usage == {"VCPU": 2, "MEMORY_MB": 512}
    too_big = os_("allocation", "candidate", "list", "--resource", "VCPU=15", "--required", "CUSTOM_CLI_TEST",
                  "-f", "json")
    assert too_big == []  # (8 - 0) * 2.0 = 16 VCPUs, 2 used

    refused = os_("resource", "provider", "delete", rp["uuid"], check=False)
    assert refused.returncode != 0 and "409" in refused.stderr
    os_("resource", "provider", "allocation", "delete", consumer, parse=False)
    os_("resource", "provider", "delete", rp["uuid"], parse=False)
    denied = os_("resource", "provider", "list", cloud="pocketstack-demo", check=False)
    assert denied.returncode != 0 and "403" in denied.stderr
