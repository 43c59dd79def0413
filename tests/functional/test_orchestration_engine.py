"""The engine: dependency order and parallelism, failures and rollback, timeouts, delete
during create, and takeover of a killed engine's stack with nothing created twice."""

from __future__ import annotations

import time

import pytest
from orchestration_helpers import assert_gone, create_stack, events, resources, stack_url, wait_stack

from conftest import unique
from test_compute_helpers import new_member

NET = "/network/v2.0"


@pytest.fixture(scope="module")
def member(api, admin_token):
    member = new_member(api, admin_token)
    return member["token"], member["project"]["id"]


def _run(api, token, project, template, expect="CREATE_COMPLETE", **body):
    name = unique("st")
    made = create_stack(api, token, project, name, template, **body)
    url = stack_url(project, name, made["stack"]["id"])
    stack = wait_stack(api, token, url)
    assert stack["stack_status"] == expect, stack["stack_status_reason"]
    return url, stack


PARALLEL = """
heat_template_version: 2015-04-30
resources:
  a: {type: OS::Heat::TestResource, properties: {value: A, wait_secs: 0.6}}
  b: {type: OS::Heat::TestResource, properties: {value: B, wait_secs: 0.6}}
  c:
    type: OS::Heat::TestResource
    properties: {value: {list_join: ['+', [{get_attr: [a, output]}, {get_attr: [b, output]}]]}}
outputs:
  c: {value: {get_attr: [c, output]}}
"""


def test_independent_resources_in_parallel_dependents_after(api, member):
    token, project = member
    started = time.monotonic()
    url, stack = _run(api, token, project, PARALLEL)
    assert time.monotonic() - started < 1.1 + 1.0  # a and b overlap (0.6 s each, not 1.2 in a row)
    assert stack["outputs"][0]["output_value"] == "A+B"
    order = [(e["resource_name"], e["resource_status"]) for e in events(api, token, url)
             if e["resource_name"] in "abc"]
    first_done = min(order.index(("a", "CREATE_COMPLETE")), order.index(("b", "CREATE_COMPLETE")))
    assert order.index(("a", "CREATE_IN_PROGRESS")) < first_done
    assert order.index(("b", "CREATE_IN_PROGRESS")) < first_done
    assert order.index(("c", "CREATE_IN_PROGRESS")) > max(order.index(("a", "CREATE_COMPLETE")),
                                                           order.index(("b", "CREATE_COMPLETE")))
    assert resources(api, token, url)["a"]["required_by"] == ["c"]


FAILING = """
heat_template_version: 2016-10-14
resources:
  net: {type: OS::Neutron::Net}
  ok: {type: OS::Heat::RandomString}
  bad: {type: OS::Heat::TestResource, depends_on: net, properties: {fail: true}}
"""


def test_failure_without_rollback_keeps_what_was_made(api, member):
    token, project = member
    url, stack = _run(api, token, project, FAILING, expect="CREATE_FAILED")
    assert stack["stack_status_reason"] == "Resource CREATE failed: ResourceInError: resources.bad: " \
                                           "Test Resource failed bad"
    rows = resources(api, token, url)
    assert rows["bad"]["resource_status"] == "CREATE_FAILED"
    assert rows["net"]["resource_status"] == "CREATE_COMPLETE"
    assert api.request("DELETE", url, token).status_code == 204
    assert_gone(api, token, url)
    assert api.request("GET", f"{NET}/networks/{rows['net']['physical_resource_id']}", token).status_code == 404


def test_rollback_deletes_what_was_made(api, member):
    token, project = member
    url, stack = _run(api, token, project, FAILING, expect="ROLLBACK_COMPLETE", disable_rollback=False)
    assert resources(api, token, url) == {}
    net = next(e["physical_resource_id"] for e in events(api, token, url)
               if e["resource_name"] == "net" and e["resource_status"] == "CREATE_COMPLETE")
    assert api.request("GET", f"{NET}/networks/{net}", token).status_code == 404
    statuses = [e["resource_status"] for e in events(api, token, url) if e["resource_name"] == url.split("/")[-2]]
    assert statuses == ["CREATE_IN_PROGRESS", "ROLLBACK_IN_PROGRESS", "ROLLBACK_COMPLETE"]


def test_update_failure_rolls_back_to_the_previous_template(api, member):
    token, project = member
    template = "heat_template_version: 2016-10-14\nresources:\n  t: {type: OS::Heat::TestResource, " \
               "properties: {value: one}}\n"
    url, _ = _run(api, token, project, template, disable_rollback=False)
    r = api.request("PUT", url, token, json={"template": template.replace("value: one", "value: two, fail: true")})
    assert r.status_code == 202, r.text
    stack = wait_stack(api, token, url)
    assert stack["stack_status"] == "ROLLBACK_COMPLETE", stack["stack_status_reason"]
    shown = api.request("GET", url + "/resources/t", token).json()["resource"]
    assert shown["attributes"]["output"] == "one"


def test_delete_during_create(api, member):
    token, project = member
    name = unique("del")
    template = "heat_template_version: 2016-10-14\nresources:\n  net: {type: OS::Neutron::Net}\n" \
               "  t: {type: OS::Heat::TestResource, depends_on: net, properties: {wait_secs: 30}}\n"
    made = create_stack(api, token, project, name, template)
    url = stack_url(project, name, made["stack"]["id"])
    deadline = time.monotonic() + 10
    while resources(api, token, url)["t"]["resource_status"] != "CREATE_IN_PROGRESS":
        assert time.monotonic() < deadline
        time.sleep(0.05)
    net = resources(api, token, url)["net"]["physical_resource_id"]
    assert api.request("DELETE", url, token).status_code == 204
    gone = wait_stack(api, token, url, timeout=10)
    assert gone is None, (gone["stack_status"], gone["stack_status_reason"])
    assert api.request("GET", f"{NET}/networks/{net}", token).status_code == 404


# -- an engine killed mid-operation --------------------------------------------------------
@pytest.fixture
def service(api):
    """The cloud's orchestration service with its engine stopped for the test (restarted
    after): the test runs engines of its own."""
    svc = api.cloud.service("orchestration")
    api.client.portal.call(svc.stop)
    yield svc
    api.client.portal.call(svc.start)


def _rows(api, stack_id):
    from pocketstack.orchestration import models as m
    with api.cloud.db.session(readonly=True) as s:
        return {r.name: (r.action, r.status, r.physical_resource_id)
                for r in s.query(m.Resource).filter_by(stack_id=stack_id)}


def _until(predicate, timeout=10.0):
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


def _networks(api, token, prefix):
    return [n for n in api.request("GET", f"{NET}/networks", token).json()["networks"]
            if n["name"].startswith(prefix)]


TAKEOVER = """
heat_template_version: 2018-08-31
resources:
  net1: {type: OS::Neutron::Net}
  net2: {type: OS::Neutron::Net}
  slow: {type: OS::Heat::TestResource, depends_on: net1, properties: {wait_secs: 1.0}}
  net3: {type: OS::Neutron::Net, depends_on: slow}
"""


def test_a_killed_engines_stack_is_taken_over_and_nothing_is_made_twice(api, member, service):
    from pocketstack.orchestration import models as m
    token, project = member
    name = unique("take")
    stack_id = create_stack(api, token, project, name, TAKEOVER)["stack"]["id"]
    url = stack_url(project, name, stack_id)
    first = service.engine(identity=unique("engine-a"), lease=0.5)
    api.client.portal.call(first.drive, stack_id)
    _until(lambda: _rows(api, stack_id)["slow"][:2] == ("CREATE", "IN_PROGRESS"))
    api.client.portal.call(first.stop)  # killed: its lease is left to lapse
    assert _rows(api, stack_id)["net3"][0] == "INIT"
    time.sleep(0.6)

    second = service.engine(identity=unique("engine-b"), lease=5.0)
    api.client.portal.call(second.sweep)
    stack = wait_stack(api, token, url)
    assert stack["stack_status"] == "CREATE_COMPLETE", stack["stack_status_reason"]
    assert len(_networks(api, token, name)) == 3
    created = [e["resource_name"] for e in events(api, token, url) if e["resource_status"] == "CREATE_COMPLETE"]
    assert sorted(created) == sorted(["net1", "net2", "slow", "net3", name])

    # An engine killed after the API made net3 but before its id was recorded: the row
    # says only "create in progress".  The next engine finds the network, not a new one.
    net3 = _rows(api, stack_id)["net3"][2]
    with api.cloud.db.session() as s:
        row = s.query(m.Resource).filter_by(stack_id=stack_id, name="net3").one()
        row.action, row.status, row.physical_resource_id, row.traversal = "CREATE", "IN_PROGRESS", None, None
        stack_row = s.get(m.Stack, stack_id)
        stack_row.status, stack_row.traversal, stack_row.engine_id = "IN_PROGRESS", "t-after-crash", None
    api.client.portal.call(second.sweep)
    assert wait_stack(api, token, url)["stack_status"] == "CREATE_COMPLETE"
    assert _rows(api, stack_id)["net3"] == ("CREATE", "COMPLETE", net3)
    assert len(_networks(api, token, name)) == 3
    api.client.portal.call(second.stop)


def test_a_restarted_engine_finishes_its_own_stack_and_keeps_the_timeout(api, member, service):
    from pocketstack.orchestration import models as m
    token, project = member
    name = unique("own")
    template = "heat_template_version: 2016-10-14\nresources:\n  t: {type: OS::Heat::TestResource, " \
               "properties: {wait_secs: 60}}\n"
    stack_id = create_stack(api, token, project, name, template, timeout_mins=5)["stack"]["id"]
    identity = unique("engine")
    engine = service.engine(identity=identity, lease=30.0)
    api.client.portal.call(engine.drive, stack_id)
    _until(lambda: _rows(api, stack_id)["t"][:2] == ("CREATE", "IN_PROGRESS"))
    api.client.portal.call(engine.stop)
    with api.cloud.db.session() as s:  # the five minutes are up while it was down
        s.get(m.Stack, stack_id).deadline = s.get(m.Stack, stack_id).created_at
    restarted = service.engine(identity=identity, lease=30.0)
    api.client.portal.call(restarted.recover_own)  # its lease is still live: only it may
    stack = wait_stack(api, token, stack_url(project, name, stack_id))
    assert (stack["stack_status"], stack["stack_status_reason"]) == ("CREATE_FAILED", "Timed out")
    api.client.portal.call(restarted.stop)


GROUP = """
heat_template_version: 2018-08-31
parameters:
  count: {type: number, default: 2}
resources:
  nets:
    type: OS::Heat::ResourceGroup
    properties:
      count: {get_param: count}
      resource_def:
        type: OS::Neutron::Net
        properties: {name: {list_join: ['-', [{get_param: 'OS::stack_name'}, 'net-%index%']]}}
outputs:
  names: {value: {get_attr: [nets, attributes, name]}}
  first: {value: {get_attr: [nets, resource.0, name]}}
  refs: {value: {get_attr: [nets, refs]}}
"""


def test_resource_group_scales_and_is_deleted(api, member):
    token, project = member
    url, stack = _run(api, token, project, GROUP)
    name = url.split("/")[-2]
    outputs = {o["output_key"]: o["output_value"] for o in stack["outputs"]}
    assert outputs["names"] == [f"{name}-net-0", f"{name}-net-1"] and outputs["first"] == f"{name}-net-0"
    assert sorted(n["id"] for n in _networks(api, token, name)) == sorted(outputs["refs"])
    r = api.request("PATCH", url, token, json={"parameters": {"count": 3}})
    assert r.status_code == 202, r.text
    stack = wait_stack(api, token, url)
    assert stack["stack_status"] == "UPDATE_COMPLETE", stack["stack_status_reason"]
    refs = next(o["output_value"] for o in stack["outputs"] if o["output_key"] == "refs")
    assert refs[:2] == outputs["refs"] and len(refs) == 3  # the first two kept
    api.request("PATCH", url, token, json={"parameters": {"count": 1}})
    assert wait_stack(api, token, url)["stack_status"] == "UPDATE_COMPLETE"
    assert [n["id"] for n in _networks(api, token, name)] == refs[:1]
    assert api.request("DELETE", url, token).status_code == 204
    assert_gone(api, token, url)
    assert _networks(api, token, name) == []
