"""Volume transfers at ``/os-volume-transfer`` and ``/volume-transfers`` (one
implementation): create with a one-time auth key, list, show, delete, and accept by
another project, with quota usage moving between the two; the snapshots move with the
volume unless the transfer leaves them (3.55); each route's view per microversion
(3.55, 3.57); Cinder's refusals; a transfer is accepted at most once even when many
recipients race."""

from __future__ import annotations

import threading
import uuid

import pytest

from test_volume_api import call, create_volume, new_member, wait

T = "/os-volume-transfer"
V3 = "/volume-transfers"


def project_of(api, token) -> str:
    return api.cloud.identity.validate_token(token).project_id


@pytest.fixture(scope="module")
def donor(api, admin_token):
    return new_member(api, admin_token)


@pytest.fixture(scope="module")
def recipient(api, admin_token):
    return new_member(api, admin_token)


def usage(api, admin_token, token) -> dict:
    quota = call(api, admin_token, "GET", f"/os-quota-sets/{project_of(api, token)}?usage=true").json()["quota_set"]
    return {k: quota[k]["in_use"] for k in ("volumes", "gigabytes", "snapshots")}


@pytest.mark.parametrize("path", [T, V3])
def test_create_show_list_accept_moves_volume_and_quota(api, admin_token, donor, recipient, path):
    volume = create_volume(api, donor, size=2)
    snapshot = call(api, donor, "POST", "/snapshots", json={"snapshot": {"volume_id": volume["id"]}}).json()
    wait(api, donor, f"/snapshots/{snapshot['snapshot']['id']}", "snapshot", ("available",))
    before_donor, before_recipient = usage(api, admin_token, donor), usage(api, admin_token, recipient)

    created = call(api, donor, "POST", path, json={"transfer": {"volume_id": volume["id"], "name": "gift"}})
    assert created.status_code == 202, created.text
    transfer = created.json()["transfer"]
    assert set(transfer) == {"id", "name", "volume_id", "created_at", "auth_key", "links"}
    assert transfer["name"] == "gift" and len(transfer["auth_key"]) == 16
    assert call(api, donor, "GET", f"/volumes/{volume['id']}").json()["volume"]["status"] == "awaiting-transfer"

    shown = call(api, donor, "GET", f"{path}/{transfer['id']}").json()["transfer"]
    assert "auth_key" not in shown and shown["volume_id"] == volume["id"]
    assert set(shown) == {"id", "name", "volume_id", "created_at", "links"}
    listed = call(api, donor, "GET", path).json()["transfers"]
    assert [t["id"] for t in listed] == [transfer["id"]] and set(listed[0]) == {"id", "name", "volume_id", "links"}
    assert call(api, donor, "GET", f"{path}/detail").json()["transfers"][0]["created_at"]
    # Another project neither sees it nor lists it; a volume in transfer is not deletable.
    assert call(api, recipient, "GET", f"{path}/{transfer['id']}").status_code == 404
    assert call(api, recipient, "GET", path).json()["transfers"] == []
    assert call(api, donor, "DELETE", f"/volumes/{volume['id']}").status_code == 400
    again = call(api, donor, "POST", path, json={"transfer": {"volume_id": volume["id"]}})
    assert again.status_code == 400 and "awaiting-transfer" in again.json()["badRequest"]["message"]

    wrong = call(api, recipient, "POST", f"{path}/{transfer['id']}/accept", json={"accept": {"auth_key": "nope"}})
    assert wrong.status_code == 400 and "Invalid auth key" in wrong.json()["badRequest"]["message"]
    accepted = call(api, recipient, "POST", f"{path}/{transfer['id']}/accept",
                    json={"accept": {"auth_key": transfer["auth_key"]}})
    assert accepted.status_code == 202, accepted.text
    assert accepted.json()["transfer"]["volume_id"] == volume["id"]

    moved = call(api, recipient, "GET", f"/volumes/{volume['id']}").json()["volume"]
    assert moved["status"] == "available"
    assert moved["os-vol-tenant-attr:tenant_id"] == project_of(api, recipient)
    assert moved["user_id"] == api.cloud.identity.validate_token(recipient).user_id
    assert call(api, donor, "GET", f"/volumes/{volume['id']}").status_code == 404
    assert call(api, recipient, "GET", f"/snapshots/{snapshot['snapshot']['id']}").status_code == 200
    assert call(api, donor, "GET", f"{path}/{transfer['id']}").status_code == 404
    moved_usage = {"volumes": 1, "gigabytes": 4, "snapshots": 1}  # the volume's 2 GB and its snapshot's 2 GB
    after_donor, after_recipient = usage(api, admin_token, donor), usage(api, admin_token, recipient)
    assert {k: before_donor[k] - after_donor[k] for k in moved_usage} == moved_usage
    assert {k: after_recipient[k] - before_recipient[k] for k in moved_usage} == moved_usage
    # Accepted once: the key is spent.
    assert call(api, recipient, "POST", f"{path}/{transfer['id']}/accept",
                json={"accept": {"auth_key": transfer["auth_key"]}}).status_code == 404


def test_delete_returns_volume_and_bad_requests(api, donor):
    volume = create_volume(api, donor)
    transfer = call(api, donor, "POST", T, json={"transfer": {"volume_id": volume["id"]}}).json()["transfer"]
    assert transfer["name"] is None
    assert call(api, donor, "DELETE", f"{T}/{transfer['id']}").status_code == 202
    assert call(api, donor, "GET", f"/volumes/{volume['id']}").json()["volume"]["status"] == "available"
    assert call(api, donor, "DELETE", f"{T}/{transfer['id']}").status_code == 404
    assert call(api, donor, "POST", T, json={"transfer": {}}).status_code == 400
    assert call(api, donor, "POST", T, json={"transfer": {"volume_id": "missing"}}).status_code == 400  # not a uuid
    assert call(api, donor, "POST", T, json={"transfer": {"volume_id": str(uuid.uuid4())}}).status_code == 404
    assert call(api, donor, "POST", f"{T}/missing/accept", json={"accept": {"auth_key": "x"}}).status_code == 404
    assert call(api, donor, "POST", f"{T}/{transfer['id']}/accept", json={"accept": {}}).status_code == 400
    assert call(api, donor, "DELETE", f"/volumes/{volume['id']}").status_code == 202


def test_over_quota_recipient_is_refused_and_transfer_stays(api, admin_token, donor):
    poor = new_member(api, admin_token)
    assert call(api, admin_token, "PUT", f"/os-quota-sets/{project_of(api, poor)}",
                json={"quota_set": {"volumes": 0}}).status_code == 200
    volume = create_volume(api, donor)
    transfer = call(api, donor, "POST", T, json={"transfer": {"volume_id": volume["id"]}}).json()["transfer"]
    refused = call(api, poor, "POST", f"{T}/{transfer['id']}/accept",
                   json={"accept": {"auth_key": transfer["auth_key"]}})
    assert refused.status_code == 413, refused.text
    assert call(api, donor, "GET", f"{T}/{transfer['id']}").status_code == 200
    assert call(api, donor, "GET", f"/volumes/{volume['id']}").json()["volume"]["status"] == "awaiting-transfer"
    assert call(api, donor, "DELETE", f"{T}/{transfer['id']}").status_code == 202


def test_racing_accepts_move_the_volume_once(api, admin_token, donor):
    volume = create_volume(api, donor)
    transfer = call(api, donor, "POST", T, json={"transfer": {"volume_id": volume["id"]}}).json()["transfer"]
    takers = [new_member(api, admin_token) for _ in range(4)]
    before = {t: usage(api, admin_token, t)["volumes"] for t in takers}
    results: list[int] = []

    def take(token):
        results.append(call(api, token, "POST", f"{T}/{transfer['id']}/accept",
                            json={"accept": {"auth_key": transfer["auth_key"]}}).status_code)
    threads = [threading.Thread(target=take, args=(t,)) for t in takers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results) == [202, 404, 404, 404]
    gained = [t for t in takers if usage(api, admin_token, t)["volumes"] == before[t] + 1]
    assert len(gained) == 1
    owner = call(api, admin_token, "GET", f"/volumes/{volume['id']}").json()["volume"]
    assert owner["os-vol-tenant-attr:tenant_id"] == project_of(api, gained[0])


def at(version: str) -> dict:
    return {"OpenStack-API-Version": f"volume {version}"}


def snapshot_of(api, token, volume_id) -> dict:
    made = call(api, token, "POST", "/snapshots", json={"snapshot": {"volume_id": volume_id}}).json()["snapshot"]
    return wait(api, token, f"/snapshots/{made['id']}", "snapshot", ("available",))


SUMMARY = {"id", "name", "volume_id", "links"}
DETAIL = SUMMARY | {"created_at"}
HISTORY = {"source_project_id", "destination_project_id", "accepted"}


@pytest.mark.parametrize(("version", "extra"), [
    ("3.54", set()), ("3.55", {"no_snapshots"}), ("3.56", {"no_snapshots"}), ("3.57", {"no_snapshots"} | HISTORY)])
def test_v3_views_at_each_microversion(api, donor, recipient, version, extra):
    """Create, show and the detailed list show ``no_snapshots`` from 3.55 and the history
    fields from 3.57 (Cinder's view builder); the summary list and the accept's answer
    never do."""
    volume = create_volume(api, donor)
    made = call(api, donor, "POST", V3, headers=at(version), json={"transfer": {"volume_id": volume["id"]}})
    assert made.status_code == 202, made.text
    created = made.json()["transfer"]
    assert set(created) == DETAIL | extra | {"auth_key"}
    assert created["links"][0]["href"].endswith(f"/os-volume-transfer/{created['id']}")  # as Cinder links them
    shown = call(api, donor, "GET", f"{V3}/{created['id']}", headers=at(version)).json()["transfer"]
    assert set(shown) == DETAIL | extra
    if "accepted" in extra:
        assert (shown["accepted"], shown["destination_project_id"], shown["no_snapshots"]) == (False, None, False)
        assert shown["source_project_id"] == project_of(api, donor)
    detail = call(api, donor, "GET", f"{V3}/detail?volume_id={volume['id']}", headers=at(version)).json()
    assert [set(t) for t in detail["transfers"]] == [DETAIL | extra]
    summary = call(api, donor, "GET", f"{V3}?volume_id={volume['id']}", headers=at(version)).json()
    assert [set(t) for t in summary["transfers"]] == [SUMMARY]
    accepted = call(api, recipient, "POST", f"{V3}/{created['id']}/accept", headers=at(version),
                    json={"accept": {"auth_key": created["auth_key"]}})
    assert accepted.status_code == 202, accepted.text
    answer = accepted.json()["transfer"]
    assert set(answer) == SUMMARY and {k: answer[k] for k in ("id", "name", "volume_id")} == {
        k: created[k] for k in ("id", "name", "volume_id")}


@pytest.mark.parametrize("no_snapshots", [False, True])
def test_v3_accept_moves_the_snapshots_unless_left(api, admin_token, donor, recipient, no_snapshots):
    """A 3.55 transfer takes the volume's snapshots (their project and user change, their
    quota moves) unless ``no_snapshots``: then they and their usage stay with the donor."""
    volume = create_volume(api, donor, size=2)
    snapshot = snapshot_of(api, donor, volume["id"])
    before_donor, before_recipient = usage(api, admin_token, donor), usage(api, admin_token, recipient)
    transfer = call(api, donor, "POST", V3, headers=at("3.55"), json={"transfer": {
        "volume_id": volume["id"], "no_snapshots": no_snapshots}}).json()["transfer"]
    assert transfer["no_snapshots"] is no_snapshots

    def snapshot_status(status):
        assert call(api, admin_token, "POST", f"/snapshots/{snapshot['id']}/action",
                    json={"os-reset_status": {"status": status}}).status_code == 202

    def accept():
        return call(api, recipient, "POST", f"{V3}/{transfer['id']}/accept", headers=at("3.55"),
                    json={"accept": {"auth_key": transfer["auth_key"]}})
    snapshot_status("error")  # a snapshot that is to move must be available when accepted
    if no_snapshots:
        assert accept().status_code == 202
    else:
        refused = accept()
        assert refused.status_code == 400 and refused.json()["badRequest"]["message"] == (
            f"Invalid snapshot: Transfer {transfer['id']}: Snapshot {snapshot['id']} is not in the expected "
            f"available state.")
        snapshot_status("available")
        assert accept().status_code == 202
    snapshot_status("available")

    moved = {"volumes": 1, "gigabytes": 2, "snapshots": 0} if no_snapshots else {
        "volumes": 1, "gigabytes": 4, "snapshots": 1}
    after_donor, after_recipient = usage(api, admin_token, donor), usage(api, admin_token, recipient)
    assert {k: before_donor[k] - after_donor[k] for k in moved} == moved
    assert {k: after_recipient[k] - before_recipient[k] for k in moved} == moved
    owner, other = (donor, recipient) if no_snapshots else (recipient, donor)
    assert call(api, other, "GET", f"/snapshots/{snapshot['id']}").status_code == 404
    seen = call(api, owner, "GET", f"/snapshots/{snapshot['id']}", headers=at("3.41")).json()["snapshot"]
    assert seen["user_id"] == api.cloud.identity.validate_token(owner).user_id
    assert seen["os-extended-snapshot-attributes:project_id"] == project_of(api, owner)


def test_v3_refusals_in_cinders_format(api, admin_token, donor, recipient):
    volume = create_volume(api, donor)
    missing = str(uuid.uuid4())
    for method, path in (("GET", f"{V3}/{missing}"), ("DELETE", f"{V3}/{missing}")):
        refused = call(api, donor, method, path, headers=at("3.57"))
        assert refused.status_code == 404
        assert refused.json() == {"itemNotFound": {"code": 404, "message": f"Transfer {missing} could not be found."}}
    for spec in ({"volume_id": volume["id"], "no_snapshots": "maybe"}, {"volume_id": volume["id"], "size": 1},
                 {"volume_id": volume["id"], "name": 5}, {"volume_id": volume["id"], "name": ""},
                 {"volume_id": volume["id"], "name": "n" * 256}):
        refused = call(api, donor, "POST", V3, headers=at("3.57"), json={"transfer": spec})
        assert refused.status_code == 400 and refused.json()["badRequest"]["code"] == 400, spec
    # Cinder's name_skip_leading_trailing_spaces, inside a oneOf: the oneOf's message.
    blank = call(api, donor, "POST", T, json={"transfer": {"volume_id": volume["id"], "name": "   "}})
    assert blank.json()["badRequest"]["message"] == (
        "Invalid input for field/attribute name. Value:    . '   ' is not valid under any of the given schemas")

    # A snapshot that is not available stops a transfer that takes the snapshots only.
    snapshot = snapshot_of(api, donor, volume["id"])
    assert call(api, admin_token, "POST", f"/snapshots/{snapshot['id']}/action",
                json={"os-reset_status": {"status": "error"}}).status_code == 202
    refused = call(api, donor, "POST", V3, headers=at("3.55"), json={"transfer": {"volume_id": volume["id"]}})
    assert refused.status_code == 400
    assert refused.json()["badRequest"]["message"] == (
        f"Invalid snapshot: snapshot: {snapshot['id']} status must be available")
    made = call(api, donor, "POST", V3, headers=at("3.55"), json={"transfer": {
        "volume_id": volume["id"], "no_snapshots": "true", "name": f" {'n' * 255} "}})  # Cinder's boolean words
    assert made.status_code == 202 and made.json()["transfer"]["no_snapshots"] is True
    assert made.json()["transfer"]["name"] == "n" * 255  # 255 characters once stripped
    transfer = made.json()["transfer"]

    wrong = call(api, recipient, "POST", f"{V3}/{transfer['id']}/accept", json={"accept": {"auth_key": 1234}})
    assert wrong.status_code == 400
    assert wrong.json()["badRequest"]["message"] == (
        f"Invalid auth key: Attempt to transfer {transfer['id']} with invalid auth key.")
    assert call(api, recipient, "POST", f"{V3}/{transfer['id']}/accept",
                json={"accept": {"auth_key": transfer["auth_key"], "x": 1}}).status_code == 400
    # The recipient's per_volume_gigabytes applies to what it accepts (413, the transfer stays).
    assert call(api, admin_token, "PUT", f"/os-quota-sets/{project_of(api, recipient)}",
                json={"quota_set": {"per_volume_gigabytes": 0}}).status_code == 200
    try:
        too_big = call(api, recipient, "POST", f"{V3}/{transfer['id']}/accept",
                       json={"accept": {"auth_key": transfer["auth_key"]}})
    finally:
        call(api, admin_token, "PUT", f"/os-quota-sets/{project_of(api, recipient)}",
             json={"quota_set": {"per_volume_gigabytes": -1}})
    assert too_big.status_code == 413
    assert "larger than maximum allowed limit 0G" in too_big.json()["overLimit"]["message"]
    assert call(api, donor, "GET", f"{V3}/{transfer['id']}").status_code == 200
    assert call(api, donor, "DELETE", f"{V3}/{transfer['id']}").status_code == 202


def test_accepting_ones_own_transfer(api, admin_token, donor):
    """Cinder does not refuse it: the volume stays in the project, now owned by the user
    who accepted, and the project's usage is unchanged."""
    project = api.request("GET", f"/identity/v3/projects/{project_of(api, donor)}", admin_token).json()["project"]
    colleague = new_member(api, admin_token, project=project)
    volume = create_volume(api, donor)
    before = usage(api, admin_token, donor)
    transfer = call(api, donor, "POST", V3, json={"transfer": {"volume_id": volume["id"]}}).json()["transfer"]
    accepted = call(api, colleague, "POST", f"{V3}/{transfer['id']}/accept",
                    json={"accept": {"auth_key": transfer["auth_key"]}})
    assert accepted.status_code == 202, accepted.text
    mine = call(api, donor, "GET", f"/volumes/{volume['id']}").json()["volume"]
    assert mine["status"] == "available" and mine["os-vol-tenant-attr:tenant_id"] == project_of(api, donor)
    assert mine["user_id"] == api.cloud.identity.validate_token(colleague).user_id
    assert usage(api, admin_token, donor) == before
    assert call(api, donor, "GET", f"{V3}/{transfer['id']}").status_code == 404
