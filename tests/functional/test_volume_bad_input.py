"""Bad input to the Block Storage API is a 400 in Cinder's words, never a 500.

Found by fuzzing every volume resource's create, update and action with wrong types,
out-of-range numbers (Cinder's MAX_INT is 2^31 - 1, the size of its integer columns) and
over-long strings: Cinder checks bodies against its JSON schemas first and reports the
first error as ``Invalid input for field/attribute <name>. Value: <value>. <reason>``.
A JSON integer beyond 64 bits never reaches the service: every pocketstack API refuses
it while parsing the body (common/api/bodies.py), in its own words but the same 400.
"""

from __future__ import annotations

import uuid

import pytest

from conftest import unique
from test_volume_api import call, create_volume, new_member, wait

MAX_INT = 2147483647
OBJECT_ACTIONS = ("os-extend", "os-reset_status", "os-set_bootable", "os-update_readonly_flag",
                  "os-volume_upload_image", "os-retype", "os-set_image_metadata", "os-unset_image_metadata",
                  "os-attach", "os-force_detach")


@pytest.fixture(scope="module")
def member(api, admin_token):
    token = new_member(api, admin_token)
    project = api.cloud.identity.validate_token(token).project_id
    assert call(api, admin_token, "PUT", f"/os-quota-sets/{project}", json={"quota_set": {
        "volumes": -1, "gigabytes": -1, "snapshots": -1, "backups": -1}}).status_code == 200
    return token


@pytest.fixture(scope="module")
def volume(api, member):
    return create_volume(api, member)


def beyond_max_int(name: str, value) -> str | None:
    """Cinder's message for ``value`` > MAX_INT; None (any 400) past 64 bits, which the
    body parser refuses first."""
    if isinstance(value, int) and value >= 2 ** 63:
        return None
    return (f"Invalid input for field/attribute {name}. Value: {value}. "
            f"{int(value)} is greater than the maximum of {MAX_INT}")


def refused(response, message: str | None = None) -> None:
    assert response.status_code == 400, response.text
    if message is not None:
        assert response.json() == {"badRequest": {"code": 400, "message": message}}


@pytest.mark.parametrize("action", OBJECT_ACTIONS)
@pytest.mark.parametrize("args", [5, None, [], "x", True], ids=["int", "null", "list", "str", "bool"])
def test_volume_action_arguments_must_be_an_object(api, admin_token, volume, action, args):
    response = call(api, admin_token, "POST", f"/volumes/{volume['id']}/action", json={action: args})
    refused(response, f"Invalid input for field/attribute {action}. Value: {args}. {args!r} is not of type 'object'")


@pytest.mark.parametrize("new_size", [MAX_INT + 1, 2 ** 63, "99999999999999999999"])
def test_extend_beyond_max_int_is_refused_and_reserves_nothing(api, member, volume, new_size):
    before = quota_in_use(api, member)
    response = call(api, member, "POST", f"/volumes/{volume['id']}/action", json={"os-extend": {"new_size": new_size}})
    refused(response, beyond_max_int("new_size", new_size))
    assert call(api, member, "GET", f"/volumes/{volume['id']}").json()["volume"]["status"] == "available"
    assert quota_in_use(api, member) == before


def test_extend_to_the_current_size_is_refused(api, member, volume):
    refused(call(api, member, "POST", f"/volumes/{volume['id']}/action", json={"os-extend": {"new_size": 1}}),
            "Invalid input received: New size for extend must be greater than current size. "
            "(current: 1, extended: 1).")
    refused(call(api, member, "POST", f"/volumes/{volume['id']}/action", json={"os-extend": {"new_size": "x"}}),
            "Invalid input for field/attribute new_size. Value: x. 'x' does not match '^[0-9]+$'")


def test_reset_status_needs_a_known_status(api, admin_token, volume):
    path = f"/volumes/{volume['id']}/action"
    refused(call(api, admin_token, "POST", path, json={"os-reset_status": {}}),
            "Must specify 'status', 'attach_status' or 'migration_status' for update.")
    bogus = call(api, admin_token, "POST", path, json={"os-reset_status": {"status": "bogus"}})
    refused(bogus)
    assert bogus.json()["badRequest"]["message"].startswith("Volume status: bogus is invalid, valid statuses are: (")
    refused(call(api, admin_token, "POST", path, json={"os-reset_status": {"status": 5}}),
            "Invalid input for field/attribute status. Value: 5. 5 is not of type 'string', 'null'")


@pytest.mark.parametrize("size", [MAX_INT + 1, "99999999999999999999", 2 ** 63])
def test_volume_size_beyond_max_int_is_refused(api, member, size):
    refused(call(api, member, "POST", "/volumes", json={"volume": {"size": size}}), beyond_max_int("size", size))


@pytest.mark.parametrize("value, message", [
    (2 ** 63, None), (MAX_INT + 1, f"volumes must be <= {MAX_INT}"),
    ("99999999999999999999", f"volumes must be <= {MAX_INT}"), ("abc", "volumes must be an integer"),
    (1.5, "volumes must be an integer"), (True, "volumes must be an integer"), (-2, "volumes must be >= -1")])
def test_quota_values_must_fit(api, admin_token, member, value, message):
    project = api.cloud.identity.validate_token(member).project_id
    refused(call(api, admin_token, "PUT", f"/os-quota-sets/{project}", json={"quota_set": {"volumes": value}}),
            message)
    assert call(api, admin_token, "GET", f"/os-quota-sets/{project}").json()["quota_set"]["volumes"] == -1


def test_quota_limits_below_usage_or_unknown_are_refused(api, admin_token):
    token = new_member(api, admin_token)
    project = api.cloud.identity.validate_token(token).project_id
    create_volume(api, token)
    refused(call(api, admin_token, "PUT", f"/os-quota-sets/{project}", json={"quota_set": {"volumes": 0}}),
            "Quota volumes limit must be equal or greater than existing resources. Current usage is 1 and the "
            "requested limit is 0.")
    refused(call(api, admin_token, "PUT", f"/os-quota-sets/{project}", json={"quota_set": {"bogus": 1}}),
            "Invalid input received: Bad key(s) in quota set: bogus")


LONG = "x" * 300


def bad_requests(volume_id: str, snapshot_id: str, backup_id: str, type_id: str, attachment_id: str):
    """(method, path, body) that each crashed the API with a 500 before."""
    return [
        ("POST", "/volumes", {"volume": {"size": 1, "availability_zone": LONG}}),
        ("POST", "/volumes", {"volume": {"size": 1, "metadata": {"k": LONG}}}),
        ("POST", "/volumes", {"volume": {"size": 1, "metadata": {LONG: "v"}}}),
        ("PUT", f"/volumes/{volume_id}", {"volume": {"metadata": {"k": LONG}}}),
        ("POST", f"/volumes/{volume_id}/metadata", {"metadata": {"k": {"a": 1}}}),
        ("PUT", f"/volumes/{volume_id}/metadata", {"metadata": {LONG: "v"}}),
        ("PUT", f"/volumes/{volume_id}/metadata/k", {"meta": {"k": LONG}}),
        ("POST", f"/volumes/{volume_id}/action", {"os-set_image_metadata": {"metadata": {LONG: "v"}}}),
        ("POST", "/snapshots", {"snapshot": {"volume_id": volume_id, "force": True, "metadata": {LONG: "v"}}}),
        ("PUT", f"/snapshots/{snapshot_id}", {"snapshot": {"a": 1}}),
        ("PUT", f"/snapshots/{snapshot_id}", {"snapshot": {"name": LONG}}),
        ("POST", f"/snapshots/{snapshot_id}/metadata", {"metadata": {"k": LONG}}),
        ("PUT", f"/snapshots/{snapshot_id}/metadata/k", {"meta": {"k": LONG}}),
        ("POST", f"/snapshots/{snapshot_id}/action", 5),
        ("POST", f"/snapshots/{snapshot_id}/action", {"os-reset_status": 5}),
        ("POST", f"/snapshots/{snapshot_id}/action", {"os-reset_status": "x"}),
        ("GET", "/snapshots?offset=9223372036854775808", None),
        ("POST", f"/backups/{backup_id}/restore", {"restore": {"name": LONG}}),
        ("POST", f"/types/{type_id}/action", {"removeProjectAccess": {"project": 5}}),
        ("POST", f"/types/{type_id}/action", {"addProjectAccess": {"project": {"a": 1}}}),
        ("POST", "/attachments", {"attachment": {"volume_uuid": volume_id, "instance_uuid": LONG}}),
        ("POST", f"/attachments/{attachment_id}/action", 5),
    ]


def test_fuzzed_requests_are_400s(api, admin_token, member):
    source = create_volume(api, member)
    snapshot = call(api, member, "POST", "/snapshots", json={"snapshot": {"volume_id": source["id"]}}).json()
    snapshot_id = snapshot["snapshot"]["id"]
    wait(api, member, f"/snapshots/{snapshot_id}", "snapshot", ("available",))
    backup = call(api, member, "POST", "/backups", json={"backup": {"volume_id": source["id"]}})
    backup_id = backup.json()["backup"]["id"]
    wait(api, member, f"/backups/{backup_id}", "backup", ("available",))
    vtype = call(api, admin_token, "POST", "/types", json={"volume_type": {"name": unique("t")}}).json()["volume_type"]
    attached = create_volume(api, member)
    attachment = call(api, member, "POST", "/attachments", json={"attachment": {
        "volume_uuid": attached["id"], "instance_uuid": str(uuid.uuid4())}}).json()["attachment"]
    for method, path, body in bad_requests(source["id"], snapshot_id, backup_id, vtype["id"], attachment["id"]):
        token = admin_token if "/types/" in path or "/snapshots/" in path and "action" in path else member
        response = call(api, token, method, path, json=body)
        assert response.status_code == 400, (method, path, body, response.text)
        assert response.json()["badRequest"]["code"] == 400


def quota_in_use(api, token) -> dict:
    project = api.cloud.identity.validate_token(token).project_id
    quota_set = call(api, token, "GET", f"/os-quota-sets/{project}?usage=true").json()["quota_set"]
    return {key: value["in_use"] for key, value in quota_set.items() if isinstance(value, dict)}


@pytest.mark.parametrize("metadata", [
    '{"k": "\\ud800"}', "{'k': '\\ud800'}", '{"\\udfff": "v"}', "[" * 5000 + "]" * 5000,
    '{"k": ' * 150 + "1" + "}" * 150, "[" * 150 + "]" * 150, "not a literal", "{[1]: 2}", '["k", "v"]',
], ids=["json-surrogate", "python-surrogate", "surrogate-key", "deep", "deep-object", "deep-python", "bad",
        "unhashable", "list"])
def test_unusable_metadata_filters_are_400(api, member, metadata):
    """The ``metadata`` filter is JSON or a Python literal read from the query string:
    whatever cannot be a filter of stored strings (a lone surrogate, nesting deep enough
    to exhaust a recursive parser) is Cinder's 400, as any other malformed filter."""
    for path in ("/volumes", "/volumes/detail"):
        refused(call(api, member, "GET", path, params={"metadata": metadata}),
                "Invalid input received: metadata filter must be a JSON object.")
