"""``/v3/policies``: Keystone's policy blob store (create, list with ``type``, show,
update, delete), its validation and its admin-only rules."""

from __future__ import annotations

from test_identity_trusts import assert_error

from conftest import DEMO_PASSWORD

POLICIES = "/identity/v3/policies"


def test_policy_crud_and_type_filter(api, admin_token):
    blob = '{"identity:list_users": "role:admin"}'
    r = api.request("POST", POLICIES, admin_token, json={"policy": {
        "type": "application/json", "blob": blob, "id": "ignored", "owner": "ops"}})
    assert r.status_code == 201, r.text
    policy = r.json()["policy"]
    assert policy["id"] != "ignored" and policy["blob"] == blob and policy["type"] == "application/json"
    assert policy["owner"] == "ops"  # extra attributes are kept, as Keystone does
    assert policy["links"]["self"].endswith(f"/identity/v3/policies/{policy['id']}")
    other = api.request("POST", POLICIES, admin_token, json={"policy": {"type": "text/yaml", "blob": "a: b"}})
    other_id = other.json()["policy"]["id"]

    listed = api.request("GET", f"{POLICIES}?type=application/json", admin_token).json()
    assert policy["id"] in {p["id"] for p in listed["policies"]}
    assert other_id not in {p["id"] for p in listed["policies"]}
    assert listed["links"]["self"].endswith("/identity/v3/policies")
    assert {p["id"] for p in api.request("GET", POLICIES, admin_token).json()["policies"]} >= {policy["id"], other_id}

    updated = api.request("PATCH", f"{POLICIES}/{policy['id']}", admin_token, json={"policy": {"blob": "{}"}})
    assert updated.status_code == 200 and updated.json()["policy"]["blob"] == "{}"
    shown = api.request("GET", f"{POLICIES}/{policy['id']}", admin_token).json()["policy"]
    assert shown["blob"] == "{}" and shown["type"] == "application/json" and shown["owner"] == "ops"

    for pid in (policy["id"], other_id):
        assert api.request("DELETE", f"{POLICIES}/{pid}", admin_token).status_code == 204
    assert_error(api.request("GET", f"{POLICIES}/{policy['id']}", admin_token), 404,
                 f"Could not find policy: {policy['id']}.")
    assert api.request("PATCH", f"{POLICIES}/{other_id}", admin_token,
                       json={"policy": {"blob": "{}"}}).status_code == 404
    assert api.request("DELETE", f"{POLICIES}/{other_id}", admin_token).status_code == 404


def test_policy_validation(api, admin_token):
    for body in ({"policy": {"type": "application/json"}}, {"policy": {"blob": "{}"}},
                 {"policy": {"type": "x" * 256, "blob": "{}"}}, {"policy": {"type": "t", "blob": {"a": 1}}},
                 {"policy": "x"}, {}):
        assert api.request("POST", POLICIES, admin_token, json=body).status_code == 400, body
    created = api.request("POST", POLICIES, admin_token, json={"policy": {"type": "t", "blob": "b"}}).json()["policy"]
    for body in ({"policy": {}}, {"policy": {"blob": 1}}):
        r = api.request("PATCH", f"{POLICIES}/{created['id']}", admin_token, json=body)
        assert r.status_code == 400, body
    api.request("DELETE", f"{POLICIES}/{created['id']}", admin_token)


def test_policies_are_the_admins(api, admin_token):
    demo = api.token("demo", DEMO_PASSWORD, project="demo")
    created = api.request("POST", POLICIES, admin_token, json={"policy": {"type": "t", "blob": "b"}}).json()["policy"]
    for method, path, body in (("GET", POLICIES, None), ("GET", f"{POLICIES}/{created['id']}", None),
                               ("POST", POLICIES, {"policy": {"type": "t", "blob": "b"}}),
                               ("PATCH", f"{POLICIES}/{created['id']}", {"policy": {"blob": "c"}}),
                               ("DELETE", f"{POLICIES}/{created['id']}", None)):
        assert_error(api.request(method, path, demo, json=body), 403)
    assert api.request("GET", POLICIES).status_code == 401
    api.request("DELETE", f"{POLICIES}/{created['id']}", admin_token)
