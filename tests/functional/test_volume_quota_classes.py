"""``os-quota-class-sets``: the ``default`` class is every project's defaults (Tempest's
admin test_volume_quota_classes)."""

from __future__ import annotations

from conftest import unique
from test_volume_api import call, member  # noqa: F401 - member is a fixture


def test_default_class_sets_every_projects_defaults(api, admin_token, member):  # noqa: F811
    shown = call(api, admin_token, "GET", "/os-quota-class-sets/default").json()["quota_class_set"]
    assert shown["id"] == "default" and shown["groups"] == 10 and shown["per_volume_gigabytes"] == -1
    original = {k: shown[k] for k in ("volumes", "snapshots", "backups")}
    vtype = call(api, admin_token, "POST", "/types", json={"volume_type": {"name": unique("qc")}}).json()
    name = vtype["volume_type"]["name"]
    update = {"volumes": original["volumes"] + 1, "snapshots": str(original["snapshots"] + 1),
              f"gigabytes_{name}": 7}
    try:
        r = call(api, admin_token, "PUT", "/os-quota-class-sets/default", json={"quota_class_set": update})
        assert r.status_code == 200, r.text
        body = r.json()["quota_class_set"]
        assert "id" not in body and body["volumes"] == original["volumes"] + 1 and body[f"gigabytes_{name}"] == 7
        assert body["snapshots"] == original["snapshots"] + 1
        project = api.cloud.identity.validate_token(member).project_id
        defaults = call(api, admin_token, "GET", f"/os-quota-sets/{project}/defaults").json()["quota_set"]
        assert defaults["volumes"] == original["volumes"] + 1 and defaults[f"gigabytes_{name}"] == 7
        fresh = call(api, admin_token, "GET", f"/os-quota-sets/{unique('p')}").json()["quota_set"]
        assert fresh["snapshots"] == original["snapshots"] + 1
    finally:
        call(api, admin_token, "PUT", "/os-quota-class-sets/default", json={"quota_class_set": {
            **original, f"gigabytes_{name}": -1}})
    # another class does not change the defaults
    assert call(api, admin_token, "PUT", "/os-quota-class-sets/gold", json={"quota_class_set": {
        "volumes": 50}}).json()["quota_class_set"]["volumes"] == 50
    assert call(api, admin_token, "GET", "/os-quota-class-sets/default").json()["quota_class_set"][
        "volumes"] == original["volumes"]


def test_quota_class_refusals(api, admin_token, member):  # noqa: F811
    put = lambda body, token=admin_token: call(  # noqa: E731
        api, token, "PUT", "/os-quota-class-sets/default", json=body)
    r = put({"quota_class_set": {"bogus": 1}})
    assert r.status_code == 400 and r.json()["badRequest"]["message"] == (
        "Invalid input received: Bad key(s) in quota class set: bogus")
    assert put({"quota_class_set": {"volumes": -2}}).status_code == 400
    assert put({"quota_class_set": {"volumes": "-1"}}).status_code == 400  # Cinder's pattern: digits only
    assert put({"quota_class_set": {"volumes": 2 ** 31}}).status_code == 400
    assert put({"quota_set": {"volumes": 1}}).status_code == 400
    assert put({"quota_class_set": {"volumes": 5}}, member).status_code == 403
    assert call(api, member, "GET", "/os-quota-class-sets/default").status_code == 403
