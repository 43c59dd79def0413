"""Compute microversions from 2.75 on, each at its boundary: below it the old behaviour,
at it the new one, and Nova's 400s for bad new input.

2.75: unknown query parameters are a 400 on the listings Nova's query schemas close, the
update and rebuild responses show the whole server, flavors' ``swap`` is 0 rather than
"", and ``with_servers`` lists always carry ``servers``."""

from __future__ import annotations

import time

import pytest
from test_volume_servers import create_volume, wait_volume

from compute_fixtures import flavor, image, user  # noqa: F401 - fixtures
from conftest import unique
from test_compute_helpers import add_hosts, boot, call, make_flavor, new_member, retire, wait, wait_gone


@pytest.fixture(scope="module")
def server(api, user, image, flavor):  # noqa: F811
    token = user["token"]
    server_id = boot(api, token, image, flavor["id"])["server"]["id"]
    assert wait(api, token, server_id)["status"] == "ACTIVE"
    yield server_id
    call(api, "DELETE", f"/servers/{server_id}", token)


@pytest.mark.parametrize("path", ["/servers?bogus=1", "/servers/detail?bogus=1", "/flavors?bogus=1",
                                  "/flavors/detail?bogus=1", "/os-keypairs?bogus=1", "/limits?bogus=1",
                                  "/os-server-groups?bogus=1", "/os-simple-tenant-usage/{project}?bogus=1",
                                  "/os-quota-sets/{project}?bogus=1", "/os-quota-sets/{project}/detail?bogus=1",
                                  "/servers/{server}/os-volume_attachments?bogus=1"])
def test_unknown_query_parameter_is_400_from_2_75(api, user, server, path):
    token = user["token"]
    path = path.format(project=user["project"]["id"], server=server)
    assert call(api, "GET", path, token, version="2.74").status_code == 200
    r = call(api, "GET", path, token, version="2.75")
    assert r.status_code == 400, r.text
    assert r.json()["badRequest"]["message"] == "Additional properties are not allowed ('bogus' was unexpected)"
    known = path.replace("bogus=1", "limit=5")
    if "quota" not in path and "limits" not in path and "usage" not in path:
        assert call(api, "GET", known, token, version="2.75").status_code == 200, known


def test_unknown_query_parameters_for_admins_from_2_75(api, admin_token, user):
    r = call(api, "GET", "/os-services?bogus=1&also=2", admin_token, version="2.75")
    assert r.status_code == 400
    assert r.json()["badRequest"]["message"] == (
        "Additional properties are not allowed ('bogus', 'also' were unexpected)")
    assert call(api, "GET", "/os-services?bogus=1", admin_token, version="2.74").status_code == 200
    assert call(api, "GET", "/os-services?binary=nova-compute", admin_token, version="2.75").status_code == 200
    r = call(api, "GET", "/os-simple-tenant-usage?detailed=1&bogus=1", admin_token, version="2.75")
    assert r.status_code == 400
    r = call(api, "GET", "/servers?all_tenants=1&host=compute-1&sort_key=display_name", admin_token, version="2.75")
    assert r.status_code == 200, r.text
    r = call(api, "DELETE", f"/os-quota-sets/{user['project']['id']}?bogus=1", admin_token, version="2.75")
    assert r.status_code == 400


def test_update_and_rebuild_show_the_whole_server_from_2_75(api, user, image, server):  # noqa: F811
    token = user["token"]
    shown = call(api, "GET", f"/servers/{server}", token, version="2.75").json()["server"]
    for key in ("OS-EXT-AZ:availability_zone", "OS-EXT-STS:vm_state", "config_drive", "key_name",
                "os-extended-volumes:volumes_attached", "OS-SRV-USG:launched_at"):
        assert key in shown
    old = call(api, "PUT", f"/servers/{server}", token, version="2.74",
               json={"server": {"name": "renamed-274"}}).json()["server"]
    assert "OS-EXT-STS:vm_state" not in old and "key_name" not in old and "config_drive" not in old
    new = call(api, "PUT", f"/servers/{server}", token, version="2.75",
               json={"server": {"name": "renamed-275"}}).json()["server"]
    assert new["name"] == "renamed-275"
    assert set(new) == set(shown) | {"server_groups"}
    assert new["OS-EXT-STS:vm_state"] == "active" and new["config_drive"] == shown["config_drive"]
    rebuilt = call(api, "POST", f"/servers/{server}/action", token, version="2.74",
                   json={"rebuild": {"imageRef": image}})
    assert rebuilt.status_code == 202
    assert "OS-EXT-AZ:availability_zone" not in rebuilt.json()["server"]
    wait(api, token, server)
    r = call(api, "POST", f"/servers/{server}/action", token, version="2.75", json={"rebuild": {"imageRef": image}})
    assert r.status_code == 202, r.text
    rebuilt = r.json()["server"]
    assert rebuilt["OS-EXT-STS:task_state"] == "rebuilding" and "OS-EXT-AZ:availability_zone" in rebuilt
    assert "adminPass" in rebuilt and "user_data" in rebuilt
    assert set(rebuilt) == set(shown) | {"server_groups", "adminPass", "user_data"}
    wait(api, token, server)


def test_swap_is_zero_from_2_75(api, admin_token):
    created = make_flavor(api, admin_token)
    assert created["swap"] == ""
    for version, swap in (("2.74", ""), ("2.75", 0)):
        assert call(api, "GET", f"/flavors/{created['id']}", admin_token,
                    version=version).json()["flavor"]["swap"] == swap
        listed = call(api, "GET", "/flavors/detail?is_public=None", admin_token, version=version).json()["flavors"]
        assert next(f for f in listed if f["id"] == created["id"])["swap"] == swap
    with_swap = make_flavor(api, admin_token, swap=512)
    assert call(api, "GET", f"/flavors/{with_swap['id']}", admin_token, version="2.74").json()["flavor"]["swap"] == 512
    for f in (created, with_swap):
        assert call(api, "DELETE", f"/flavors/{f['id']}", admin_token).status_code == 202


def test_hypervisor_servers_always_with_servers_from_2_75(api, admin_token, user, server):
    def hypervisors(version: str, query: str = "with_servers=true", path: str = "/os-hypervisors"):
        r = call(api, "GET", f"{path}?{query}", admin_token, version=version)
        assert r.status_code == 200, r.text
        return r.json()["hypervisors"]

    host = call(api, "GET", f"/servers/{server}", admin_token, version="2.75").json()["server"]["OS-EXT-SRV-ATTR:host"]
    for version in ("2.53", "2.74", "2.75"):
        listed = {h["hypervisor_hostname"]: h for h in hypervisors(version)}
        assert server in [s["uuid"] for s in listed[host]["servers"]]
        empty = [h for name, h in listed.items() if name != host and not h.get("servers")]
        for h in empty:
            assert ("servers" in h) == (version == "2.75"), h
            if version == "2.75":
                assert h["servers"] == []
    assert all("servers" not in h for h in hypervisors("2.75", query="with_servers=false"))
    assert all("servers" not in h for h in hypervisors("2.75", query=""))
    detail = hypervisors("2.75", path="/os-hypervisors/detail")
    assert all("servers" in h for h in detail)
    one = call(api, "GET", f"/os-hypervisors/{detail[0]['id']}?with_servers=1", admin_token, version="2.75")
    assert one.status_code == 200 and "servers" in one.json()["hypervisor"]
    # Nova's 2.53 query schema: a bad boolean, an unknown name, a pattern matching nothing.
    assert call(api, "GET", "/os-hypervisors?with_servers=maybe", admin_token, version="2.53").status_code == 400
    assert call(api, "GET", "/os-hypervisors?bogus=1", admin_token, version="2.53").status_code == 400
    assert call(api, "GET", "/os-hypervisors?bogus=1", admin_token, version="2.52").status_code == 200
    r = call(api, "GET", f"/os-hypervisors?hypervisor_hostname_pattern={unique('none')}", admin_token, version="2.53")
    assert r.status_code == 404


def test_unshelve_to_an_availability_zone_from_2_77(api, admin_token, user, image, flavor):  # noqa: F811
    token = user["token"]
    zone = unique("az77")
    node, = add_hosts(api, zone, [4])
    try:
        server_id = boot(api, token, image, flavor["id"], availability_zone="nova")["server"]["id"]
        first = wait(api, admin_token, server_id)
        assert first["OS-EXT-AZ:availability_zone"] == "nova"

        def unshelve(value, version, expect):
            r = call(api, "POST", f"/servers/{server_id}/action", token, version=version, json={"unshelve": value})
            assert r.status_code == expect, r.text
            return r

        # Not shelved: the state's 409 comes first, as Nova's check_instance_state.
        assert "vm_state active" in unshelve({"availability_zone": zone}, "2.77", 409).json()["conflictingRequest"][
            "message"]
        assert call(api, "POST", f"/servers/{server_id}/action", token, json={"shelve": None}).status_code == 202
        assert wait(api, token, server_id, until=("SHELVED_OFFLOADED",))["status"] == "SHELVED_OFFLOADED"
        for bad in ({}, {"availability_zone": ""}, {"availability_zone": " x"}, {"availability_zone": zone, "x": 1},
                    "zone"):
            assert unshelve(bad, "2.77", 400).json()["badRequest"]["code"] == 400
        message = unshelve({"availability_zone": unique("nozone")}, "2.77", 400).json()["badRequest"]["message"]
        assert message == "The requested availability zone is not available"
        unshelve({"availability_zone": zone}, "2.77", 202)
        shown = wait(api, admin_token, server_id)
        assert shown["status"] == "ACTIVE", shown
        assert shown["OS-EXT-AZ:availability_zone"] == zone and shown["OS-EXT-SRV-ATTR:host"] == node.host
        # A SHELVED (not offloaded) server keeps its host: no zone (409, Nova's wording).
        settings = api.cloud.service("compute").compute.manager.hosts.settings
        saved, settings.shelved_offload_time = settings.shelved_offload_time, -1
        try:
            assert call(api, "POST", f"/servers/{server_id}/action", token, json={"shelve": None}).status_code == 202
            assert wait(api, token, server_id, until=("SHELVED",))["status"] == "SHELVED"
            message = unshelve({"availability_zone": zone}, "2.77", 409).json()["conflictingRequest"]["message"]
            assert message == (f'Specifying an availability zone or a host when unshelving server "{server_id}" '
                               'with status "shelved" is not supported. The server status must be SHELVED_OFFLOADED.')
            unshelve(None, "2.77", 202)
            assert wait(api, token, server_id)["status"] == "ACTIVE"
        finally:
            settings.shelved_offload_time = saved
        assert call(api, "DELETE", f"/servers/{server_id}", token).status_code == 204
    finally:
        retire(api, [node])


def test_unshelve_body_ignored_before_2_77(api, user, image, flavor):  # noqa: F811
    token = user["token"]
    server_id = boot(api, token, image, flavor["id"])["server"]["id"]
    wait(api, token, server_id)
    assert call(api, "POST", f"/servers/{server_id}/action", token, json={"shelve": None}).status_code == 202
    assert wait(api, token, server_id, until=("SHELVED_OFFLOADED",))["status"] == "SHELVED_OFFLOADED"
    r = call(api, "POST", f"/servers/{server_id}/action", token, version="2.76",
             json={"unshelve": {"availability_zone": unique("nozone")}})
    assert r.status_code == 202, r.text
    assert wait(api, token, server_id)["status"] == "ACTIVE"
    assert call(api, "DELETE", f"/servers/{server_id}", token).status_code == 204


def test_server_topology_from_2_78(api, admin_token, user, server):
    token = user["token"]
    assert call(api, "GET", f"/servers/{server}/topology", token, version="2.77").status_code == 404
    for caller in (token, admin_token):
        r = call(api, "GET", f"/servers/{server}/topology", caller, version="2.78")
        assert r.status_code == 200, r.text
        # No guest here has a NUMA topology (neither driver applies hw:numa_*): Nova's answer then.
        assert r.json() == {"nodes": [], "pagesize_kb": None}
    missing = "00000000-0000-4000-8000-000000000000"
    assert call(api, "GET", f"/servers/{missing}/topology", token, version="2.78").status_code == 404


@pytest.fixture()
def project(api, admin_token):
    member = new_member(api, admin_token)
    return {"token": member["token"], "id": member["project"]["id"]}


def test_delete_on_termination_on_attach_from_2_79(api, project, image, flavor):  # noqa: F811
    token = project["token"]
    server_id = boot(api, token, image, flavor["id"])["server"]["id"]
    assert wait(api, token, server_id)["status"] == "ACTIVE"
    path = f"/servers/{server_id}/os-volume_attachments"
    kept, dropped = create_volume(api, project)["id"], create_volume(api, project)["id"]
    r = call(api, "POST", path, token, version="2.78",
             json={"volumeAttachment": {"volumeId": kept, "delete_on_termination": True}})
    assert r.status_code == 400, r.text  # an unknown property before 2.79
    for bad in ("maybe", 2, None):
        r = call(api, "POST", path, token, version="2.79",
                 json={"volumeAttachment": {"volumeId": kept, "delete_on_termination": bad}})
        assert r.status_code == 400, r.text
    r = call(api, "POST", path, token, version="2.78", json={"volumeAttachment": {"volumeId": kept}})
    assert r.status_code == 200 and "delete_on_termination" not in r.json()["volumeAttachment"], r.text
    wait_volume(api, project, kept, ("in-use",))
    r = call(api, "POST", path, token, version="2.79",
             json={"volumeAttachment": {"volumeId": dropped, "delete_on_termination": "true"}})
    assert r.status_code == 200, r.text
    assert r.json()["volumeAttachment"] == {"id": dropped, "serverId": server_id, "volumeId": dropped,
                                            "device": "/dev/vdc", "tag": None, "delete_on_termination": True}
    wait_volume(api, project, dropped, ("in-use",))
    listed = call(api, "GET", path, token, version="2.79").json()["volumeAttachments"]
    assert {a["volumeId"]: a["delete_on_termination"] for a in listed} == {kept: False, dropped: True}
    assert all("delete_on_termination" not in a for a in call(api, "GET", path, token, version="2.78").json()[
        "volumeAttachments"])
    assert call(api, "GET", f"{path}/{dropped}", token, version="2.79").json()["volumeAttachment"][
        "delete_on_termination"] is True
    server = call(api, "GET", f"/servers/{server_id}", token, version="2.79").json()["server"]
    assert {v["id"]: v["delete_on_termination"] for v in server["os-extended-volumes:volumes_attached"]} == {
        kept: False, dropped: True}
    # The flag is honoured: the server's delete deletes that volume and detaches the other.
    assert call(api, "DELETE", f"/servers/{server_id}", token).status_code == 204
    wait_gone(api, token, server_id)
    wait_volume(api, project, kept, ("available",))
    assert wait_volume(api, project, dropped, ("deleted",)) is None


def test_migrations_user_and_project_from_2_80(api, admin_token, project, image, flavor):  # noqa: F811
    token = project["token"]
    user_id = api.request("GET", "/identity/v3/auth/tokens", token,
                          headers={"X-Subject-Token": token}).json()["token"]["user"]["id"]
    bigger = make_flavor(api, admin_token, ram=flavor["ram"] * 2)
    server_id = boot(api, token, image, flavor["id"])["server"]["id"]
    wait(api, token, server_id)
    r = call(api, "POST", f"/servers/{server_id}/action", token, json={"resize": {"flavorRef": bigger["id"]}})
    assert r.status_code == 202, r.text
    assert wait(api, token, server_id)["status"] == "VERIFY_RESIZE"

    def listed(version: str, query: str = "", expect: int = 200) -> list[dict]:
        r = call(api, "GET", f"/os-migrations?instance_uuid={server_id}{query}", admin_token, version=version)
        assert r.status_code == expect, r.text
        return r.json().get("migrations", [])

    old, = listed("2.79")
    assert "user_id" not in old and "project_id" not in old
    new, = listed("2.80")
    assert (new["user_id"], new["project_id"]) == (user_id, project["id"])
    assert listed("2.80", f"&user_id={user_id}&project_id={project['id']}") == [new]
    assert listed("2.80", f"&project_id={unique('p')}") == [] and listed("2.80", f"&user_id={unique('u')}") == []
    # 2.59-2.79 know no such filter (400); before 2.59 Nova's unchecked query filters anyway.
    assert "'user_id' was unexpected" in call(api, "GET", f"/os-migrations?user_id={user_id}", admin_token,
                                               version="2.79").json()["badRequest"]["message"]
    listed("2.59", "&bogus=1", expect=400)
    assert listed("2.58", f"&project_id={unique('p')}") == [] and len(listed("2.58", "&bogus=1")) == 1
    assert call(api, "POST", f"/servers/{server_id}/action", token, json={"confirmResize": None}).status_code == 204
    wait(api, token, server_id)
    assert call(api, "DELETE", f"/servers/{server_id}", token).status_code == 204


def test_aggregate_image_cache_from_2_81(api, admin_token, user, image):  # noqa: F811
    node, = add_hosts(api, "nova", [1])
    down, = add_hosts(api, "nova", [1])
    hosts = api.cloud.service("compute").compute.hosts
    r = call(api, "POST", "/os-aggregates", admin_token, json={"aggregate": {"name": unique("cache")}})
    aggregate = r.json()["aggregate"]
    path = f"/os-aggregates/{aggregate['id']}/images"
    try:
        for host in (node.host, down.host):
            r = call(api, "POST", f"/os-aggregates/{aggregate['id']}/action", admin_token,
                     json={"add_host": {"host": host}})
            assert r.status_code == 200, r.text
        hosts.update_service(down.service_id, forced_down=True)
        body = {"cache": [{"id": image}]}
        assert call(api, "POST", path, admin_token, version="2.80", json=body).status_code == 404
        assert call(api, "POST", path, user["token"], version="2.81", json=body).status_code == 403
        for bad in ({"cache": []}, {"cache": [{"id": "not-a-uuid"}]}, {"cache": [{"id": image, "x": 1}]}, {}):
            assert call(api, "POST", path, admin_token, version="2.81", json=bad).status_code == 400, bad
        r = call(api, "POST", path, admin_token, version="2.81", json={"cache": [{"id": image}, {"id": image}]})
        assert r.status_code == 400 and r.json()["badRequest"]["message"] == "Duplicate images in request"
        r = call(api, "POST", "/os-aggregates/x/images", admin_token, version="2.81", json=body)
        assert r.status_code == 400 and r.json()["badRequest"]["message"] == (
            "Invalid input received: id must be an integer")
        assert call(api, "POST", "/os-aggregates/99999/images", admin_token, version="2.81",
                    json=body).status_code == 404
        r = call(api, "POST", path, admin_token, version="2.81", json=body)
        assert r.status_code == 202 and r.content == b"", r.text
        deadline = time.monotonic() + 30
        while image not in hosts.driver(node.host).cached_images:
            assert time.monotonic() < deadline, "the aggregate's host did not cache the image"
            time.sleep(0.05)
        assert image not in hosts.driver(down.host).cached_images  # a down host is skipped, as Nova
    finally:
        hosts.update_service(down.service_id, forced_down=False)
        for host in (node.host, down.host):
            call(api, "POST", f"/os-aggregates/{aggregate['id']}/action", admin_token,
                 json={"remove_host": {"host": host}})
        call(api, "DELETE", f"/os-aggregates/{aggregate['id']}", admin_token)
        retire(api, [node, down])


def test_accelerator_request_bound_event_from_2_82(api, admin_token, server):
    event = {"name": "accelerator-request-bound", "server_uuid": server, "tag": "arq-1", "status": "completed"}
    r = call(api, "POST", "/os-server-external-events", admin_token, version="2.81", json={"events": [event]})
    assert r.status_code == 400, r.text
    r = call(api, "POST", "/os-server-external-events", admin_token, version="2.82", json={"events": [event]})
    assert r.status_code == 200 and r.json()["events"] == [{**event, "code": 200}], r.text
    untagged = {k: v for k, v in event.items() if k != "tag"}  # Nova's TAG_REQUIRED
    r = call(api, "POST", "/os-server-external-events", admin_token, version="2.82", json={"events": [untagged]})
    assert r.status_code == 207 and r.json()["events"] == [{**untagged, "status": "failed", "code": 400}]
    shown = call(api, "GET", f"/servers/{server}", admin_token, version="2.82").json()["server"]
    assert shown["status"] == "ACTIVE" and shown["OS-EXT-STS:task_state"] is None  # nobody waited: dropped


def test_more_server_filters_for_everyone_from_2_83(api, admin_token, project, image, flavor):  # noqa: F811
    token = project["token"]
    key = call(api, "POST", "/os-keypairs", token, json={"keypair": {"name": unique("k83")}}).json()["keypair"]
    keyed = boot(api, token, image, flavor["id"], key_name=key["name"])["server"]["id"]
    plain = boot(api, token, image, flavor["id"])["server"]["id"]
    for server_id in (keyed, plain):
        wait(api, token, server_id)
    assert call(api, "POST", f"/servers/{plain}/action", token, json={"os-stop": None}).status_code == 202
    wait(api, token, plain, until=("SHUTOFF",))
    both = {keyed, plain}

    def ids(query: str, version: str, caller: str = token) -> set[str]:
        r = call(api, "GET", f"/servers/detail?{query}", caller, version=version)
        assert r.status_code == 200, r.text
        return {s["id"] for s in r.json()["servers"]} & both

    user_id = call(api, "GET", f"/servers/{keyed}", token).json()["server"]["user_id"]
    year = call(api, "GET", f"/servers/{keyed}", token).json()["server"]["created"][:4]
    for query, wanted in ((f"key_name={key['name']}", {keyed}), ("vm_state=stopped", {plain}),
                          ("vm_state=active", {keyed}), ("power_state=4", {plain}), ("power_state=1", {keyed}),
                          ("task_state=deleting", set()), (f"user_id={user_id}", both),
                          (f"user_id={unique('u')}", set()), (f"created_at=^{year}-", both),
                          ("launched_at=^1999", set()), ("terminated_at=.", set()), ("progress=0", {keyed}),
                          ("availability_zone=^nov", both), ("availability_zone=nowhere", set()),
                          ("config_drive=True", set())):
        assert ids(query, "2.82") == both, query  # a non-admin's filter Nova strips before 2.83
        assert ids(query, "2.83") == wanted, query
        assert ids(query + "&all_tenants=1", "2.82", admin_token) == wanted, query  # admins: any version
    # ``status`` wins over ``vm_state``, as in Nova.
    assert ids("status=ACTIVE&vm_state=stopped", "2.83") == {keyed}
    for server_id in both:
        assert call(api, "DELETE", f"/servers/{server_id}", token).status_code == 204


def test_action_event_details_from_2_84(api, admin_token, project, image, flavor):  # noqa: F811
    token = project["token"]
    r = api.request("POST", "/_pocketstack/faults", admin_token, json={"fault": {
        "service": "compute", "operation": "build", "action": "async_failure", "count": 1,
        "message": "the hypervisor caught fire"}})
    assert r.status_code == 201, r.text
    try:
        created = call(api, "POST", "/servers", token, json={"server": {
            "name": unique("d84"), "imageRef": image, "flavorRef": flavor["id"], "networks": "none"}})
        assert created.status_code == 202, created.text
        server_id, request_id = created.json()["server"]["id"], created.headers["x-compute-request-id"]
        assert wait(api, token, server_id)["status"] == "ERROR"
    finally:
        api.request("DELETE", "/_pocketstack/faults", admin_token)
    path = f"/servers/{server_id}/os-instance-actions/{request_id}"

    def events(caller: str, version: str) -> list[dict]:
        r = call(api, "GET", path, caller, version=version)
        assert r.status_code == 200, r.text
        return r.json()["instanceAction"]["events"]

    failed = [e for e in events(admin_token, "2.84") if e["result"] == "Error"]
    assert failed and failed[0]["details"] == "the hypervisor caught fire", failed
    assert all("details" in e for e in events(admin_token, "2.84"))
    assert all("details" not in e for e in events(admin_token, "2.83"))
    assert all("details" not in e for e in events(token, "2.84"))  # events:details is the admin's
    assert call(api, "DELETE", f"/servers/{server_id}", token).status_code == 204


def test_update_delete_on_termination_from_2_85(api, admin_token, project, image, flavor):  # noqa: F811
    token = project["token"]
    server_id = boot(api, token, image, flavor["id"])["server"]["id"]
    assert wait(api, token, server_id)["status"] == "ACTIVE"
    path = f"/servers/{server_id}/os-volume_attachments"
    volume_id = create_volume(api, project)["id"]
    r = call(api, "POST", path, token, version="2.79", json={"volumeAttachment": {"volumeId": volume_id}})
    assert r.status_code == 200, r.text
    wait_volume(api, project, volume_id, ("in-use",))

    def put(version: str, expect: int, caller: str = token, **fields):
        r = call(api, "PUT", f"{path}/{volume_id}", caller, version=version,
                 json={"volumeAttachment": {"volumeId": volume_id, **fields}})
        assert r.status_code == expect, r.text
        return r

    def flag() -> bool:
        return call(api, "GET", f"{path}/{volume_id}", token, version="2.85").json()["volumeAttachment"][
            "delete_on_termination"]

    # Before 2.85 a PUT is the swap: the service's (403 for the member), unknown fields 400.
    put("2.84", 403, delete_on_termination=True)
    put("2.84", 400, admin_token, delete_on_termination=True)
    assert put("2.84", 409, admin_token).json()["conflictingRequest"]["code"] == 409  # not migrating
    r = put("2.85", 202, delete_on_termination=True)
    assert r.content == b"" and flag() is True
    put("2.85", 202, delete_on_termination="false", serverId=server_id, id=volume_id, device="/dev/vdb")
    put("2.85", 400, tag=None)  # Nova's tag is a string: the null GET shows cannot be sent back
    assert flag() is False
    for field, value in (("serverId", "00000000-0000-4000-8000-000000000000"), ("device", "/dev/vdz"),
                         ("tag", "t"), ("id", "00000000-0000-4000-8000-000000000001")):
        message = put("2.85", 400, **{field: value}).json()["badRequest"]["message"]
        assert message == f"The {field} property is not mutable"
    put("2.85", 400, delete_on_termination="maybe")
    put("2.85", 400, bogus=1)
    other = create_volume(api, project)["id"]
    r = call(api, "PUT", f"{path}/{other}", token, version="2.85", json={"volumeAttachment": {"volumeId": other}})
    assert r.status_code == 404 and r.json()["itemNotFound"]["message"] == (
        f"No volume Block Device Mapping with id {other}.")
    # A different volume is still the swap (the service's rule).
    r = call(api, "PUT", f"{path}/{volume_id}", token, version="2.85", json={"volumeAttachment": {"volumeId": other}})
    assert r.status_code == 403, r.text
    assert call(api, "DELETE", f"/servers/{server_id}", token).status_code == 204


def power_update(api, admin_token, server_id: str, version: str, **extra):
    return call(api, "POST", "/os-server-external-events", admin_token, version=version,
                json={"events": [{"name": "power-update", "server_uuid": server_id, **extra}]})


def finished_event(api, admin_token, server_id: str, request_id: str) -> dict:
    deadline = time.monotonic() + 30
    while True:
        action = call(api, "GET", f"/servers/{server_id}/os-instance-actions/{request_id}", admin_token,
                      version="2.76").json()["instanceAction"]
        if action["events"] and all(e["finish_time"] for e in action["events"]):
            return action
        assert time.monotonic() < deadline, action
        time.sleep(0.05)


def test_power_update_event_from_2_76(api, admin_token, user, image, flavor):  # noqa: F811
    token = user["token"]
    server_id = boot(api, token, image, flavor["id"])["server"]["id"]
    assert wait(api, token, server_id)["status"] == "ACTIVE"
    r = power_update(api, admin_token, server_id, "2.75", tag="POWER_OFF")
    assert r.status_code == 400 and "power-update" in r.json()["badRequest"]["message"]
    r = power_update(api, admin_token, server_id, "2.76")  # Nova's TAG_REQUIRED
    assert r.status_code == 207 and r.json()["events"][0] == {
        "name": "power-update", "server_uuid": server_id, "status": "failed", "code": 400}
    r = power_update(api, admin_token, server_id, "2.76", tag="POWER_OFF")
    assert r.status_code == 200 and r.json()["events"][0]["code"] == 200, r.text
    request_id = r.headers["x-compute-request-id"]
    off = wait(api, token, server_id, until=("SHUTOFF",))
    assert off["status"] == "SHUTOFF" and off["OS-EXT-STS:power_state"] == 4
    action = finished_event(api, admin_token, server_id, request_id)
    assert action["action"] == "stop"
    assert [(e["event"], e["result"]) for e in action["events"]] == [("compute_power_update", "Success")]
    # Already off: a no-op (the action and its event are still recorded, as Nova's).
    r = power_update(api, admin_token, server_id, "2.76", tag="POWER_OFF")
    assert r.status_code == 200
    finished_event(api, admin_token, server_id, r.headers["x-compute-request-id"])
    assert wait(api, token, server_id)["status"] == "SHUTOFF"
    r = power_update(api, admin_token, server_id, "2.76", tag="POWER_ON")
    assert r.status_code == 200
    on = wait(api, token, server_id, until=("ACTIVE",))
    assert on["OS-EXT-STS:power_state"] == 1
    actions = call(api, "GET", f"/servers/{server_id}/os-instance-actions", admin_token).json()["instanceActions"]
    assert [a["action"] for a in actions][:3] == ["start", "stop", "stop"]
    # An unknown tag is accepted and dropped (no action), as Nova.
    r = power_update(api, admin_token, server_id, "2.76", tag="POWER_CYCLE")
    assert r.status_code == 200
    assert len(call(api, "GET", f"/servers/{server_id}/os-instance-actions", admin_token).json()[
        "instanceActions"]) == len(actions)
    assert power_update(api, token, server_id, "2.76", tag="POWER_OFF").status_code == 403
    assert call(api, "DELETE", f"/servers/{server_id}", token).status_code == 204
