"""Fault injection through the admin API (``/_pocketstack/faults``), in process: every
action, each service's own error body, live changes, seeded probability, count limits,
the rules' access control and validation, and rules shared through the database."""

from __future__ import annotations

import random
import time

import pytest

from pocketstack.faults.registry import Faults

from conftest import DEMO_PASSWORD, unique
from test_compute_helpers import boot, call, make_flavor, make_image, wait
from test_volume_api import call as volume_call
from test_volume_api import create_volume
from test_volume_api import wait as volume_wait

FAULTS = "/_pocketstack/faults"


@pytest.fixture(autouse=True)
def no_rules_left(api, admin_token):
    """The cloud is shared by the session: every test leaves no rule behind."""
    yield
    assert api.request("DELETE", FAULTS, admin_token).status_code == 204


def add(api, token, **rule) -> dict:
    response = api.request("POST", FAULTS, token, json={"fault": rule})
    assert response.status_code == 201, response.text
    return response.json()["fault"]


def project_id(api, token) -> str:
    return api.cloud.identity.validate_token(token).project_id


# What each service answers an injected error with: its own error body.
def nova_body(status, name):
    return lambda body, message: body == {name: {"message": message, "code": status}}


ERROR_BODIES = [
    ("identity", "/identity/v3/projects", 503,
     lambda body, message: body == {"error": {"code": 503, "title": "Service Unavailable", "message": message}}),
    ("compute", "/compute/v2.1/servers", 404, nova_body(404, "itemNotFound")),
    ("compute", "/compute/v2.1/flavors", 400, nova_body(400, "badRequest")),
    ("compute", "/compute/v2.1/servers/detail", 500, nova_body(500, "computeFault")),
    ("compute", "/compute/v2.1/os-keypairs", 503, nova_body(503, "serviceUnavailable")),
    ("volume", "/volume/v3/{project}/volumes", 409, nova_body(409, "conflictingRequest")),
    ("volume", "/volume/v3/{project}/types", 429, nova_body(429, "overLimit")),
    ("network", "/network/v2.0/networks", 503,
     lambda body, message: body == {"NeutronError": {"type": "InjectedFault", "message": message, "detail": ""}}),
    ("placement", "/placement/resource_providers", 503,
     lambda body, message: body["errors"][0]["status"] == 503 and body["errors"][0]["detail"] == message),
    ("image", "/image/v2/images", 503,
     lambda body, message: body == {"message": message + "<br /><br />\n\n\n", "code": "503 Service Unavailable",
                                    "title": "Service Unavailable"}),
]


@pytest.mark.parametrize("service,path,status,check", ERROR_BODIES,
                         ids=[f"{s}-{p.rsplit('/', 1)[-1]}-{c}" for s, p, c, _ in ERROR_BODIES])
def test_error_in_the_services_own_format(api, admin_token, service, path, status, check):
    path = path.format(project=project_id(api, admin_token))
    below = path.split("/", 2)[2]  # the path after the service's mount point
    message = f"injected {unique()}"
    add(api, admin_token, service=service, method="GET", path="/" + below, action="error", status=status,
        message=message, retry_after=3)
    response = api.request("GET", path, admin_token, headers={"Accept": "application/json"})
    assert response.status_code == status
    assert check(response.json(), message), response.text
    assert response.headers["Retry-After"] == "3"
    assert response.headers["x-openstack-request-id"].startswith("req-")


def test_swift_error_is_plain_text(api, admin_token):
    add(api, admin_token, service="object", path="/v1/AUTH_*", action="error", status=503, message="try later")
    response = api.request("GET", f"/object-store/v1/AUTH_{project_id(api, admin_token)}", admin_token)
    assert (response.status_code, response.text) == (503, "try later")
    assert response.headers["content-type"].startswith("text/plain")
    assert "Retry-After" not in response.headers


def test_nova_error_keeps_the_microversion_headers(api, admin_token):
    add(api, admin_token, service="compute", path="/v2.1/flavors", action="error", status=500)
    response = api.request("GET", "/compute/v2.1/flavors", admin_token,
                           headers={"OpenStack-API-Version": "compute 2.60"})
    assert response.status_code == 500
    assert response.headers["OpenStack-API-Version"] == "compute 2.60"
    assert "computeFault" in response.json()


def test_latency_delays_then_serves(api, admin_token):
    add(api, admin_token, service="identity", method="GET", path="/v3/regions", action="latency", latency_ms=300)
    started = time.monotonic()
    response = api.request("GET", "/identity/v3/regions", admin_token)
    assert response.status_code == 200
    assert time.monotonic() - started >= 0.3
    started = time.monotonic()
    assert api.request("GET", "/identity/v3/services", admin_token).status_code == 200
    assert time.monotonic() - started < 0.3


def test_drop_answers_nothing(api, admin_token):
    rule = add(api, admin_token, service="network", path="/v2.0/ports*", action="drop")
    with pytest.raises(ConnectionResetError, match=rule["id"]):
        api.request("GET", "/network/v2.0/ports", admin_token)
    assert api.request("GET", "/network/v2.0/networks", admin_token).status_code == 200


def test_method_glob_and_regex_narrow_the_match(api, admin_token):
    add(api, admin_token, service="compute", method="POST", path="/v2.1/os-keypairs", action="error", status=500)
    add(api, admin_token, service="network", path_regex=r"^/v2\.0/security-groups/[0-9a-f-]+$", action="error",
        status=500)
    assert api.request("GET", "/compute/v2.1/os-keypairs", admin_token).status_code == 200
    assert api.request("POST", "/compute/v2.1/os-keypairs", admin_token,
                       json={"keypair": {"name": unique("kp")}}).status_code == 500
    groups = api.request("GET", "/network/v2.0/security-groups", admin_token)
    assert groups.status_code == 200
    group_id = groups.json()["security_groups"][0]["id"]
    assert api.request("GET", f"/network/v2.0/security-groups/{group_id}", admin_token).status_code == 500


def test_rules_change_live(api, admin_token):
    rule = add(api, admin_token, service="image", path="/v2/images", action="error", status=503)
    assert api.request("GET", "/image/v2/images", admin_token).status_code == 503
    assert api.request("DELETE", f"{FAULTS}/{rule['id']}", admin_token).status_code == 204
    assert api.request("GET", "/image/v2/images", admin_token).status_code == 200
    assert api.request("DELETE", f"{FAULTS}/{rule['id']}", admin_token).status_code == 404


def test_count_limits_the_faults_and_is_reported(api, admin_token):
    rule = add(api, admin_token, id=unique("twice"), service="placement", path="/resource_providers", action="error",
               status=503, count=2)
    statuses = [api.request("GET", "/placement/resource_providers", admin_token).status_code for _ in range(3)]
    assert statuses == [503, 503, 200]
    shown = api.request("GET", f"{FAULTS}/{rule['id']}", admin_token).json()["fault"]
    assert (shown["fired"], shown["remaining"], shown["count"]) == (2, 0, 2)


def test_seeded_probability_is_repeatable(api, admin_token):
    draws = random.Random(1234)
    expected = [503 if draws.random() < 0.5 else 200 for _ in range(16)]
    assert 0 < expected.count(503) < 16
    rule_id = unique("seeded")
    for _ in range(2):  # the same rule removed and added again: the same outcomes
        rule = add(api, admin_token, id=rule_id, service="identity", path="/v3/domains", action="error",
                   status=503, probability=0.5, seed=1234)
        got = [api.request("GET", "/identity/v3/domains", admin_token).status_code for _ in range(16)]
        assert got == expected
        assert api.request("GET", f"{FAULTS}/{rule['id']}", admin_token).json()["fault"]["fired"] == \
            expected.count(503)
        api.request("DELETE", f"{FAULTS}/{rule['id']}", admin_token)


def test_probability_zero_never_fires(api, admin_token):
    add(api, admin_token, service="identity", path="/v3/domains", action="error", status=503, probability=0)
    assert {api.request("GET", "/identity/v3/domains", admin_token).status_code for _ in range(5)} == {200}


def test_server_build_fails_asynchronously(api, admin_token):
    image, flavor = make_image(api, admin_token), make_flavor(api, admin_token)
    add(api, admin_token, service="compute", operation="build", action="async_failure", count=1,
        message="the hypervisor caught fire")
    failed = boot(api, admin_token, image, flavor["id"])["server"]["id"]
    server = wait(api, admin_token, failed, timeout=20)
    assert server["status"] == "ERROR"
    assert "the hypervisor caught fire" in server["fault"]["message"]
    # count=1: the next build is not failed.
    assert wait(api, admin_token, boot(api, admin_token, image, flavor["id"])["server"]["id"])["status"] == "ACTIVE"


def test_failed_build_records_its_deferred_build_event(api, admin_token):
    """A build's events are written once each step ends (one transaction fewer per step):
    a build failing at its spawn still records the scheduling event's Success and the
    build event's Error, with the traceback, started before it finished."""
    image, flavor = make_image(api, admin_token), make_flavor(api, admin_token)
    add(api, admin_token, service="compute", operation="build", action="async_failure", count=1,
        message="the disk melted")
    failed = boot(api, admin_token, image, flavor["id"])["server"]["id"]
    assert wait(api, admin_token, failed, timeout=20)["status"] == "ERROR"
    [action] = call(api, "GET", f"/servers/{failed}/os-instance-actions", admin_token).json()["instanceActions"]
    detail = call(api, "GET", f"/servers/{failed}/os-instance-actions/{action['request_id']}", admin_token,
                  version="2.51").json()["instanceAction"]
    events = {e["event"]: e for e in detail["events"]}
    assert events["compute__schedule_and_build_instances"]["result"] == "Success"
    built = events["compute__do_build_and_run_instance"]
    assert built["result"] == "Error" and "the disk melted" in built["traceback"], built
    assert built["start_time"] <= built["finish_time"]


def test_volume_create_fails_asynchronously(api, admin_token):
    add(api, admin_token, service="volume", operation="create", action="async_failure", count=1)
    assert create_volume(api, admin_token)["status"] == "error"
    assert create_volume(api, admin_token)["status"] == "available"


def test_volume_backup_fails_asynchronously(api, admin_token):
    volume_id = create_volume(api, admin_token)["id"]
    add(api, admin_token, service="volume", operation="backup", action="async_failure", count=1,
        message="the tape jammed")
    response = volume_call(api, admin_token, "POST", "/backups", json={"backup": {"volume_id": volume_id}})
    assert response.status_code == 202, response.text
    backup = volume_wait(api, admin_token, f"/backups/{response.json()['backup']['id']}", "backup",
                         ("available", "error"))
    assert (backup["status"], backup["fail_reason"]) == ("error", "the tape jammed")
    assert volume_wait(api, admin_token, f"/volumes/{volume_id}", "volume", ("available",))


def test_image_import_fails_asynchronously(api, admin_token):
    image = api.request("POST", "/image/v2/images", admin_token, json={
        "name": unique("import"), "disk_format": "raw", "container_format": "bare"}).json()
    assert api.request("PUT", f"/image/v2/images/{image['id']}/stage", admin_token, content=b"data",
                       headers={"Content-Type": "application/octet-stream"}).status_code == 204
    add(api, admin_token, service="image", operation="import", action="async_failure", count=1,
        message="the store is full")
    assert api.request("POST", f"/image/v2/images/{image['id']}/import", admin_token,
                       json={"method": {"name": "glance-direct"}}).status_code == 202
    tasks = f"/image/v2/images/{image['id']}/tasks"
    [task] = wait_for(lambda: [t for t in api.request("GET", tasks, admin_token).json()["tasks"]
                               if t["status"] in ("success", "failure")])
    assert task["status"] == "failure" and "the store is full" in task["message"]
    assert api.request("GET", f"/image/v2/images/{image['id']}", admin_token).json()["status"] != "active"


def wait_for(check, timeout: float = 20):
    deadline = time.monotonic() + timeout
    while not (result := check()):
        assert time.monotonic() < deadline, "condition not met"
        time.sleep(0.05)
    return result


def test_only_the_admin_manages_rules(api, admin_token):
    member = api.token("demo", DEMO_PASSWORD, project="demo")
    rule = add(api, admin_token, service="object", path="/never", action="drop")
    for method, path, body in (("GET", FAULTS, None), ("POST", FAULTS, {"fault": {"action": "drop"}}),
                               ("POST", FAULTS, {"fault": {"action": "nonsense"}}),
                               ("GET", f"{FAULTS}/{rule['id']}", None), ("DELETE", f"{FAULTS}/{rule['id']}", None),
                               ("DELETE", FAULTS, None)):
        response = api.request(method, path, member, json=body)
        assert response.status_code == 403, (method, path, response.text)
        assert "error" in response.json()
        assert api.request(method, path, None, json=body).status_code == 401
    assert [r["id"] for r in api.request("GET", FAULTS, admin_token).json()["faults"]] == [rule["id"]]


@pytest.mark.parametrize("rule,words", [
    ({}, "'action' is a required property"),
    ({"action": "error"}, "action 'error' needs 'status'"),
    ({"action": "error", "status": 200}, "'fault.status'"),
    ({"action": "error", "status": 499}, "499 is not an HTTP status"),
    ({"action": "latency"}, "needs 'latency_ms'"),
    ({"action": "drop", "latency_ms": 5}, "'latency_ms' does not apply to action 'drop'"),
    ({"action": "drop", "probability": 1.5}, "'fault.probability'"),
    ({"action": "drop", "count": 0}, "'fault.count'"),
    ({"action": "drop", "service": "dns"}, "'fault.service'"),
    ({"action": "drop", "method": "BREW"}, "'method' must be one of"),
    ({"action": "drop", "path_regex": "(unclosed"}, "not a regular expression"),
    ({"action": "drop", "path": "/a", "path_regex": "b"}, "not both"),
    ({"action": "drop", "id": "no spaces"}, "'fault.id'"),
    ({"action": "drop", "colour": "red"}, "'colour' was unexpected"),
    ({"action": "async_failure", "service": "compute"}, "needs 'operation'"),
    ({"action": "async_failure", "service": "compute", "operation": "fly"}, "(one of: compute/build"),
    ({"action": "async_failure", "service": "compute", "operation": "build", "path": "/x"}, "not 'path'"),
])
def test_bad_rules_are_refused(api, admin_token, rule, words):
    response = api.request("POST", FAULTS, admin_token, json={"fault": rule})
    assert response.status_code == 400, response.text
    assert words in response.json()["error"]["message"]


def test_rule_ids_are_unique(api, admin_token):
    rule = add(api, admin_token, id=unique("mine"), service="object", path="/never", action="drop")
    response = api.request("POST", FAULTS, admin_token, json={"fault": {"id": rule["id"], "action": "drop"}})
    assert response.status_code == 409
    assert api.request("GET", f"{FAULTS}/nothing-here", admin_token).status_code == 404


def test_processes_sharing_the_data_directory_see_changes_at_once(api, admin_token):
    """Another API process of this cloud (its own copy, the same change signal, no
    periodic check) knows its copy is out of date from the next request on."""
    other = Faults(api.cloud.db, api.cloud.faults.signal)
    other.refresh()
    assert not other.stale()
    rule = add(api, admin_token, service="object", path="/never-served", action="drop")
    assert other.stale()
    other.refresh()
    assert ([a.rule.id for a in other.request_rules], other.stale()) == ([rule["id"]], False)
    assert api.request("DELETE", f"{FAULTS}/{rule['id']}", admin_token).status_code == 204
    assert other.stale()
    other.refresh()
    assert other.request_rules == ()


def test_other_processes_see_changes_through_the_database(api, admin_token):
    """A worker process's copy (its fail points read the generation at every check)
    follows what this one does: rules added and removed, and a count shared between them."""
    other = Faults(api.cloud.db)
    rule = add(api, admin_token, service="volume", operation="create", action="async_failure", count=2)
    with pytest.raises(Exception, match="volume create failed"):
        other.check("volume", "create")
    assert create_volume(api, admin_token)["status"] == "error"  # the second, in this process
    other.check("volume", "create")  # used up
    add(api, admin_token, id=rule["id"] + "-again", service="volume", operation="create", action="async_failure")
    with pytest.raises(Exception, match="volume create failed"):
        other.check("volume", "create")
    api.request("DELETE", FAULTS, admin_token)
    other.check("volume", "create")


def test_a_rule_added_again_starts_its_sequence_over_everywhere(api, admin_token):
    """Another process that did not see the rule gone in between still starts over."""
    other = Faults(api.cloud.db, refresh_interval=0)
    rule = {"id": unique("again"), "service": "object", "path": "/never-served", "action": "drop",
            "probability": 0.5, "seed": 7}
    add(api, admin_token, **rule)
    other.refresh()
    first = [other.match_request("object", "GET", "/never-served") is not None for _ in range(8)]
    draws = random.Random(7)
    assert first == [draws.random() < 0.5 for _ in range(8)]
    api.request("DELETE", f"{FAULTS}/{rule['id']}", admin_token)
    add(api, admin_token, **rule)
    other.refresh()
    assert [other.match_request("object", "GET", "/never-served") is not None for _ in range(8)] == first
