"""Stacks act through a Keystone trust (Heat's ``deferred_auth_method = trusts``): the
trust in Identity, an operation outliving the user's token, update and delete by another
member, a taken-over engine, a trustor who lost the role, the trust gone with the stack."""

from __future__ import annotations

import time

import pytest
from orchestration_helpers import assert_gone, create_stack, heat_error, resources, stack_url, wait_stack

from conftest import unique
from test_compute_helpers import new_member

TRUSTS = "/identity/v3/OS-TRUST/trusts"
NET = "/network/v2.0"

SLOW = """
heat_template_version: 2018-08-31
parameters:
  label: {type: string, default: one}
resources:
  slow: {type: OS::Heat::TestResource, properties: {value: {get_param: label}, wait_secs: 0.8}}
  net: {type: OS::Neutron::Net, depends_on: slow, properties: {name: {get_param: label}}}
"""


@pytest.fixture(scope="module")
def owner(api, admin_token):
    """A member of a fresh project, and a second member of the same project."""
    first = new_member(api, admin_token)
    second = new_member(api, admin_token, project=first["project"])
    return first, second


def _revoke(api, admin_token, token):
    r = api.request("DELETE", "/identity/v3/auth/tokens", admin_token, headers={"X-Subject-Token": token})
    assert r.status_code == 204, r.text
    assert api.request("GET", f"{NET}/networks", token).status_code == 401


def _stack_trust(api, stack_id):
    from pocketstack.orchestration import models as m
    with api.cloud.db.session(readonly=True) as s:
        return s.get(m.Stack, stack_id).trust_id


def _role(api, admin_token, name):
    return api.request("GET", f"/identity/v3/roles?name={name}", admin_token).json()["roles"][0]["id"]


def _heat_user(api, admin_token):
    return api.request("GET", "/identity/v3/users?name=heat", admin_token).json()["users"][0]["id"]


def test_the_stack_holds_a_trust_outlives_the_token_and_deletes_the_trust(api, admin_token, owner):
    first, second = owner
    project = first["project"]["id"]
    name = unique("trusted")
    token = api.token(first["user"]["name"], "pw-compute-1", project=first["project"]["name"])
    stack_id = create_stack(api, token, project, name, SLOW)["stack"]["id"]
    _revoke(api, admin_token, token)  # the request's token dies while the engine works
    url = stack_url(project, name, stack_id)
    stack = wait_stack(api, first["token"], url)
    assert stack["stack_status"] == "CREATE_COMPLETE", stack["stack_status_reason"]
    assert resources(api, first["token"], url)["net"]["physical_resource_id"]

    trust_id = _stack_trust(api, stack_id)
    trust = api.request("GET", f"{TRUSTS}/{trust_id}", admin_token).json()["trust"]
    assert (trust["trustor_user_id"], trust["trustee_user_id"], trust["project_id"], trust["impersonation"]) == (
        first["user"]["id"], _heat_user(api, admin_token), project, True)
    held = api.request("GET", "/identity/v3/auth/tokens", admin_token,
                       headers={"X-Subject-Token": first["token"]}).json()["token"]["roles"]
    assert sorted(r["name"] for r in trust["roles"]) == sorted(r["name"] for r in held) == ["member", "reader"]
    assert trust["expires_at"] is None and trust["remaining_uses"] is None

    # Another member updates and deletes it: the stack keeps its owner's trust (Heat).
    r = api.request("PATCH", url, second["token"], json={"parameters": {"label": "two"}})
    assert r.status_code == 202, r.text
    assert wait_stack(api, second["token"], url)["stack_status"] == "UPDATE_COMPLETE"
    assert _stack_trust(api, stack_id) == trust_id
    net = resources(api, first["token"], url)["net"]["physical_resource_id"]
    assert api.request("GET", f"{NET}/networks/{net}", first["token"]).json()["network"]["name"] == "two"
    listed = api.request("GET", f"{TRUSTS}?trustor_user_id={first['user']['id']}", admin_token).json()["trusts"]
    assert [t["id"] for t in listed] == [trust_id]

    assert api.request("DELETE", url, second["token"]).status_code == 204
    assert_gone(api, first["token"], url)
    assert api.request("GET", f"{NET}/networks/{net}", first["token"]).status_code == 404
    assert api.request("GET", f"{TRUSTS}/{trust_id}", admin_token).status_code == 404


def test_an_operation_outlives_every_token_it_started_with(api, owner, monkeypatch):
    """Tokens of 2 s (``token_expiration``): the user's expires during the create, and so
    would the engine's trust token, which it takes again before."""
    first, _ = owner
    project, name = first["project"]["id"], unique("expiring")
    monkeypatch.setattr(api.cloud.identity.tokens, "expiration", 2)
    token = api.token(first["user"]["name"], "pw-compute-1", project=first["project"]["name"])
    template = SLOW.replace("wait_secs: 0.8", "wait_secs: 2.5")
    stack_id = create_stack(api, token, project, name, template)["stack"]["id"]
    url = stack_url(project, name, stack_id)
    stack = wait_stack(api, first["token"], url)
    assert stack["stack_status"] == "CREATE_COMPLETE", stack["stack_status_reason"]
    assert api.request("GET", f"{NET}/networks", token).status_code == 401
    monkeypatch.undo()
    assert api.request("DELETE", url, first["token"]).status_code == 204
    assert_gone(api, first["token"], url)


def test_a_trust_token_refused_is_taken_again(api, admin_token, owner):
    """The engine's kept trust token revoked mid-operation: the next call takes a new one."""
    first, _ = owner
    project, name = first["project"]["id"], unique("renewed")
    stack_id = create_stack(api, first["token"], project, name, SLOW)["stack"]["id"]
    url = stack_url(project, name, stack_id)
    trustee = api.cloud.service("orchestration").manager.trustee
    kept = api.client.portal.call(trustee.token, _stack_trust(api, stack_id))
    _revoke(api, admin_token, kept)
    stack = wait_stack(api, first["token"], url)
    assert stack["stack_status"] == "CREATE_COMPLETE", stack["stack_status_reason"]
    assert api.client.portal.call(trustee.token, _stack_trust(api, stack_id)) != kept
    assert api.request("DELETE", url, first["token"]).status_code == 204
    assert_gone(api, first["token"], url)


@pytest.fixture
def service(api):
    """The orchestration service with its engine stopped for the test (restarted after)."""
    svc = api.cloud.service("orchestration")
    api.client.portal.call(svc.stop)
    yield svc
    api.client.portal.call(svc.start)


def test_a_taken_over_stack_goes_on_with_its_trust(api, admin_token, owner, service):
    from pocketstack.orchestration import models as m
    first, _ = owner
    project, name = first["project"]["id"], unique("takentrust")
    token = api.token(first["user"]["name"], "pw-compute-1", project=first["project"]["name"])
    stack_id = create_stack(api, token, project, name, SLOW)["stack"]["id"]
    engine = service.engine(identity=unique("engine-a"), lease=0.5)
    api.client.portal.call(engine.drive, stack_id)
    deadline = time.monotonic() + 10
    while _row_state(api, stack_id, "slow") != ("CREATE", "IN_PROGRESS"):
        assert time.monotonic() < deadline
        time.sleep(0.02)
    api.client.portal.call(engine.stop)  # killed; then the user's token dies too
    _revoke(api, admin_token, token)
    time.sleep(0.6)
    service.manager.trustee.forget(_stack_trust(api, stack_id))  # a new engine keeps no token
    other = service.engine(identity=unique("engine-b"), lease=5.0)
    api.client.portal.call(other.sweep)
    url = stack_url(project, name, stack_id)
    stack = wait_stack(api, first["token"], url)
    assert stack["stack_status"] == "CREATE_COMPLETE", stack["stack_status_reason"]
    with api.cloud.db.session(readonly=True) as s:
        assert s.get(m.Stack, stack_id).trust_id == _stack_trust(api, stack_id)
    assert api.request("DELETE", url, first["token"]).status_code == 204
    api.client.portal.call(other.sweep)
    assert_gone(api, first["token"], url)
    api.client.portal.call(other.stop)


def _row_state(api, stack_id, name):
    from pocketstack.orchestration import models as m
    with api.cloud.db.session(readonly=True) as s:
        row = s.query(m.Resource).filter_by(stack_id=stack_id, name=name).one()
        return row.action, row.status


def test_a_trustor_who_lost_the_role_fails_the_operation_with_the_reason(api, admin_token):
    first = new_member(api, admin_token)
    second = new_member(api, admin_token, project=first["project"])
    project, name = first["project"]["id"], unique("lost")
    stack_id = create_stack(api, first["token"], project, name, SLOW)["stack"]["id"]
    url = stack_url(project, name, stack_id)
    assert wait_stack(api, first["token"], url)["stack_status"] == "CREATE_COMPLETE"
    trust_id = _stack_trust(api, stack_id)
    role_path = f"/identity/v3/projects/{project}/users/{first['user']['id']}/roles/{_role(api, admin_token, 'member')}"
    assert api.request("DELETE", role_path, admin_token).status_code == 204

    r = api.request("PATCH", url, second["token"], json={"parameters": {"label": "two"}})
    assert r.status_code == 202, r.text
    stack = wait_stack(api, second["token"], url)
    reason = f"Could not authenticate with the stack's trust {trust_id}: Trustee has no delegated roles."
    assert stack["stack_status"] == "UPDATE_FAILED"
    assert stack["stack_status_reason"] == f"Resource UPDATE failed: AuthorizationFailure: resources.net: {reason}"
    assert resources(api, second["token"], url)["net"]["resource_status_reason"] == \
        f"AuthorizationFailure: resources.net: {reason}"

    # The role back, the stack's trust works again: deleted, the trust with it.
    assert api.request("PUT", role_path, admin_token).status_code == 204
    assert api.request("DELETE", url, second["token"]).status_code == 204
    assert_gone(api, second["token"], url)
    assert api.request("GET", f"{TRUSTS}/{trust_id}", admin_token).status_code == 404


def test_a_trust_identity_refuses_is_a_4xx_and_no_stack(api, admin_token, owner):
    """A token of an application credential may not make a trust (Keystone): 403, and
    no stack recorded."""
    first, _ = owner
    user, project = first["user"], first["project"]
    cred = api.request("POST", f"/identity/v3/users/{user['id']}/application_credentials", first["token"],
                       json={"application_credential": {"name": unique("ac")}}).json()["application_credential"]
    auth = {"identity": {"methods": ["application_credential"], "application_credential": {
        "id": cred["id"], "secret": cred["secret"]}}}
    r = api.client.post("/identity/v3/auth/tokens", json={"auth": auth})
    assert r.status_code == 201, r.text
    name = unique("refused")
    r = api.request("POST", f"/orchestration/v1/{project['id']}/stacks", r.headers["X-Subject-Token"],
                    json={"stack_name": name, "template": SLOW})
    assert r.status_code == 403, r.text
    assert r.json()["error"]["message"] == "You are not authorized to perform the requested action: Using method " \
                                           "'application_credential' is not allowed for managing trusts.."  # Keystone's
    assert api.request("GET", f"/orchestration/v1/{project['id']}/stacks?name={name}",
                       first["token"]).json()["stacks"] == []


def test_the_delegated_roles_setting(api, admin_token, owner, monkeypatch):
    """Heat's ``trusts_delegated_roles``: only those roles; one the user does not hold is
    Heat's 400 and no stack, no trust."""
    first, _ = owner
    project, name = first["project"]["id"], unique("subset")
    template = "heat_template_version: 2018-08-31\nresources: {r: {type: OS::Heat::RandomString}}\n"
    monkeypatch.setattr(api.cloud.settings, "orchestration_trusts_delegated_roles", "member")
    stack_id = create_stack(api, first["token"], project, name, template)["stack"]["id"]
    trust = api.request("GET", f"{TRUSTS}/{_stack_trust(api, stack_id)}", admin_token).json()["trust"]
    assert [r["name"] for r in trust["roles"]] == ["member"]

    monkeypatch.setattr(api.cloud.settings, "orchestration_trusts_delegated_roles", "member, admin")
    r = api.request("POST", f"/orchestration/v1/{project}/stacks", first["token"],
                    json={"stack_name": unique("nope"), "template": template})
    heat_error(r, 400, "MissingCredentialError", "Missing required credential: roles member, admin")
    listed = api.request("GET", f"{TRUSTS}?trustor_user_id={first['user']['id']}", admin_token).json()["trusts"]
    assert [t["id"] for t in listed] == [trust["id"]]
    url = stack_url(project, name, stack_id)
    assert api.request("DELETE", url, first["token"]).status_code == 204
    assert_gone(api, first["token"], url)
