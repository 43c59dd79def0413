"""What one project learns of another's volumes, snapshots and private volume types:
through a create that names one (from a snapshot, a clone, of a type, a snapshot, backup
or transfer of a volume) and through the volume type listing.

Cinder looks a create's references up as the caller before it checks the create policy
(cinder/api/v3/volumes.py, snapshots.py, cinder/backup/api.py, cinder/transfer/api.py):
what another project cannot see is a 404 to all of it, readers included, and only then
is a reader of the owning project refused (403).  The request body is validated before
either.  The type listing without ``is_public`` shows the public types and those shared
with the caller's project, to the admin too (cinder/api/v3/types.py, cinder/db/api.py).
"""

from __future__ import annotations

import uuid

import pytest

from conftest import unique
from test_volume_api import call, create_volume, new_member, new_project, wait


@pytest.fixture(scope="module")
def project_a(api, admin_token) -> dict:
    """Project A: a member (without volume quotas), a reader, an available volume, an
    available snapshot of it and a private type shared with A."""
    project = new_project(api, admin_token)
    member = new_member(api, admin_token, project=project)
    assert call(api, admin_token, "PUT", f"/os-quota-sets/{project['id']}", json={"quota_set": {
        "volumes": -1, "gigabytes": -1, "snapshots": -1, "backups": -1, "backup_gigabytes": -1}}).status_code == 200
    volume = create_volume(api, member)
    snapshot = call(api, member, "POST", "/snapshots", json={"snapshot": {"volume_id": volume["id"]}})
    assert snapshot.status_code == 202, snapshot.text
    snapshot = wait(api, member, f"/snapshots/{snapshot.json()['snapshot']['id']}", "snapshot", ("available",))
    vtype = private_type(api, admin_token, project["id"])
    return {"id": project["id"], "member": member, "reader": new_member(api, admin_token, "reader", project),
            "volume": volume["id"], "snapshot": snapshot["id"], "type_id": vtype["id"], "type_name": vtype["name"]}


@pytest.fixture(scope="module")
def b_reader(api, admin_token) -> str:
    return new_member(api, admin_token, "reader")


def private_type(api, admin_token, project_id: str) -> dict:
    vtype = call(api, admin_token, "POST", "/types", json={"volume_type": {
        "name": unique("private"), "os-volume-type-access:is_public": False}}).json()["volume_type"]
    assert call(api, admin_token, "POST", f"/types/{vtype['id']}/action",
                json={"addProjectAccess": {"project": project_id}}).status_code == 202
    return vtype


def creates_naming(volume: str, snapshot: str, type_id: str, type_name: str) -> list[tuple[str, dict, str]]:
    """Every create that names one of these, with Cinder's 404 for a caller who cannot see it."""
    return [
        ("/volumes", {"volume": {"size": 1, "snapshot_id": snapshot}}, f"Snapshot {snapshot} could not be found."),
        ("/volumes", {"volume": {"size": 1, "source_volid": volume}}, f"Volume {volume} could not be found."),
        ("/volumes", {"volume": {"size": 1, "volume_type": type_id}}, f"Volume type {type_id} could not be found."),
        ("/volumes", {"volume": {"size": 1, "volume_type": type_name}},
         f"Volume type with name {type_name} could not be found."),
        ("/snapshots", {"snapshot": {"volume_id": volume}}, f"Volume {volume} could not be found."),
        ("/backups", {"backup": {"volume_id": volume}}, f"Volume {volume} could not be found."),
        ("/os-volume-transfer", {"transfer": {"volume_id": volume}}, f"Volume {volume} could not be found."),
        ("/volume-transfers", {"transfer": {"volume_id": volume}}, f"Volume {volume} could not be found."),
    ]


def a_things(project_a) -> list[tuple[str, dict, str]]:
    return creates_naming(project_a["volume"], project_a["snapshot"], project_a["type_id"], project_a["type_name"])


def test_another_projects_reader_is_not_told_they_exist(api, project_a, b_reader):
    for path, body, message in a_things(project_a):
        response = call(api, b_reader, "POST", path, json=body)
        assert response.status_code == 404, (path, body, response.text)
        assert response.json() == {"itemNotFound": {"code": 404, "message": message}}


def test_the_owning_projects_reader_is_refused_by_the_policy(api, project_a):
    for path, body, _ in a_things(project_a):
        response = call(api, project_a["reader"], "POST", path, json=body)
        assert response.status_code == 403, (path, body, response.text)
        assert "forbidden" in response.json()


def test_a_reader_naming_nothing_gets_the_lookups_404(api, project_a):
    """The lookup comes before the policy, for the caller's own project too."""
    missing = str(uuid.uuid4())
    for path, body, message in creates_naming(missing, missing, missing, unique("no-such-type")):
        response = call(api, project_a["reader"], "POST", path, json=body)
        assert response.status_code == 404, (path, body, response.text)
        assert response.json()["itemNotFound"]["message"] == message


@pytest.mark.parametrize("path", ["/volumes", "/snapshots", "/backups", "/os-volume-transfer", "/volume-transfers"])
def test_a_readers_malformed_create_is_a_bad_request(api, project_a, path):
    """Cinder validates the body before anything else."""
    response = call(api, project_a["reader"], "POST", path, json={"nothing": {}})
    assert response.status_code == 400 and "badRequest" in response.json(), response.text


def listed(api, token, query: str = "") -> set[str]:
    response = call(api, token, "GET", "/types" + query)
    assert response.status_code == 200, response.text
    return {t["id"] for t in response.json()["volume_types"]}


def test_type_listing_filters_on_is_public(api, admin_token, project_a):
    admin_project = api.cloud.identity.validate_token(admin_token).project_id
    public = call(api, admin_token, "POST", "/types", json={"volume_type": {"name": unique("public")}})
    public = public.json()["volume_type"]["id"]
    admins = private_type(api, admin_token, admin_project)["id"]
    a_private = project_a["type_id"]

    # The admin: public and shared with its project by default, every private one with
    # is_public=false, everything with is_public=None.
    for query in ("", "?is_public=true", "?is_public=True", "?is_public=1"):
        types = listed(api, admin_token, query)
        assert {public, admins} <= types and a_private not in types, query
    for query in ("?is_public=false", "?is_public=0"):
        types = listed(api, admin_token, query)
        assert {admins, a_private} <= types and public not in types, query
    for query in ("?is_public=None", "?is_public=none"):
        assert {public, admins, a_private} <= listed(api, admin_token, query), query
    refused = call(api, admin_token, "GET", "/types?is_public=all")
    assert refused.json() == {"badRequest": {"code": 400, "message": "Invalid is_public filter [all]"}}

    # Anyone else: public and shared with its project, whatever is_public says.
    for query in ("", "?is_public=false", "?is_public=None", "?is_public=all"):
        types = listed(api, project_a["member"], query)
        assert {public, a_private} <= types and admins not in types, query
