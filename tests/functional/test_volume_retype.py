"""``os-retype`` on the file backend: in place to any type it can serve, with the
per-type quota usage of the volume and its snapshots moved from the old type to the new."""

from __future__ import annotations

from conftest import unique
from test_volume_api import call, create_volume, member, wait  # noqa: F401 - member is a fixture


def make_type(api, admin_token, **extra_specs) -> str:
    name = unique("vtype")
    response = call(api, admin_token, "POST", "/types",
                    json={"volume_type": {"name": name, "extra_specs": extra_specs}})
    assert response.status_code == 200, response.text
    return name


def per_type(api, token, name) -> dict:
    project = api.cloud.identity.validate_token(token).project_id
    usage = api.cloud.service("volume").manager.quotas.usage(project)
    return {r: usage.get(f"{r}_{name}", 0) for r in ("volumes", "gigabytes", "snapshots")}


def retype(api, token, vid, **args):
    return call(api, token, "POST", f"/volumes/{vid}/action", json={"os-retype": args})


def test_retype_in_place_moves_per_type_usage(api, admin_token, member):  # noqa: F811
    old, new = make_type(api, admin_token), make_type(api, admin_token, volume_backend_name="file")
    volume = create_volume(api, member, size=2, volume_type=old)
    snapshot = call(api, member, "POST", "/snapshots", json={"snapshot": {"volume_id": volume["id"]}}).json()
    wait(api, member, f"/snapshots/{snapshot['snapshot']['id']}", "snapshot", ("available",))
    assert per_type(api, member, old) == {"volumes": 1, "gigabytes": 4, "snapshots": 1}
    before = call(api, admin_token, "GET", f"/volumes/{volume['id']}").json()["volume"]

    response = retype(api, member, volume["id"], new_type=new, migration_policy="never")
    assert response.status_code == 202, response.text
    after = call(api, admin_token, "GET", f"/volumes/{volume['id']}").json()["volume"]
    assert after["volume_type"] == new and after["status"] == "available"
    assert after["os-vol-host-attr:host"] == before["os-vol-host-attr:host"]
    assert after["migration_status"] is None and after["os-vol-mig-status-attr:migstat"] is None
    assert per_type(api, member, old) == {"volumes": 0, "gigabytes": 0, "snapshots": 0}
    assert per_type(api, member, new) == {"volumes": 1, "gigabytes": 4, "snapshots": 1}

    # Back again by id, with on-demand: still in place (one backend serves both types).
    old_id = call(api, admin_token, "GET", "/types").json()["volume_types"]
    old_id = next(t["id"] for t in old_id if t["name"] == old)
    assert retype(api, member, volume["id"], new_type=old_id, migration_policy="on-demand").status_code == 202
    assert call(api, member, "GET", f"/volumes/{volume['id']}").json()["volume"]["volume_type"] == old
    assert per_type(api, member, new) == {"volumes": 0, "gigabytes": 0, "snapshots": 0}


def test_retype_refusals(api, admin_token, member):  # noqa: F811
    current = make_type(api, admin_token)
    elsewhere = make_type(api, admin_token, volume_backend_name="lvm")
    other_vendor = make_type(api, admin_token, vendor_name="acme")
    vid = create_volume(api, member, volume_type=current)["id"]

    def refused(status, **args):
        response = retype(api, member, vid, **args)
        assert response.status_code == status, response.text
        return response.json()

    assert "same as original" in refused(400, new_type=current)["badRequest"]["message"]
    assert "No valid backend" in refused(400, new_type=elsewhere)["badRequest"]["message"]
    refused(400, new_type=other_vendor, migration_policy="on-demand")
    refused(400, new_type=make_type(api, admin_token), migration_policy="sometimes")
    refused(400)
    refused(404, new_type="no-such-type")
    call(api, admin_token, "POST", f"/volumes/{vid}/action", json={"os-reset_status": {"status": "error"}})
    assert "must be available or in-use" in refused(400, new_type=make_type(api, admin_token))["badRequest"]["message"]
    assert call(api, member, "GET", f"/volumes/{vid}").json()["volume"]["volume_type"] == current
    assert per_type(api, member, current)["volumes"] == 1
