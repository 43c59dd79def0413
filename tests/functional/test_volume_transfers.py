"""Volume transfers (``os-volume-transfer``): create with a one-time auth key, list,
show, delete, and accept by another project, with quota usage moving between the two;
a transfer is accepted at most once even when many recipients race."""

from __future__ import annotations

import threading
import uuid

import pytest

from test_volume_api import call, create_volume, new_member, wait

T = "/os-volume-transfer"


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


def test_create_show_list_accept_moves_volume_and_quota(api, admin_token, donor, recipient):
    volume = create_volume(api, donor, size=2)
    snapshot = call(api, donor, "POST", "/snapshots", json={"snapshot": {"volume_id": volume["id"]}}).json()
    wait(api, donor, f"/snapshots/{snapshot['snapshot']['id']}", "snapshot", ("available",))
    before_donor, before_recipient = usage(api, admin_token, donor), usage(api, admin_token, recipient)

    created = call(api, donor, "POST", T, json={"transfer": {"volume_id": volume["id"], "name": "gift"}})
    assert created.status_code == 202, created.text
    transfer = created.json()["transfer"]
    assert set(transfer) == {"id", "name", "volume_id", "created_at", "auth_key", "links"}
    assert transfer["name"] == "gift" and len(transfer["auth_key"]) == 16
    assert call(api, donor, "GET", f"/volumes/{volume['id']}").json()["volume"]["status"] == "awaiting-transfer"

    shown = call(api, donor, "GET", f"{T}/{transfer['id']}").json()["transfer"]
    assert "auth_key" not in shown and shown["volume_id"] == volume["id"]
    assert set(shown) == {"id", "name", "volume_id", "created_at", "links"}
    listed = call(api, donor, "GET", T).json()["transfers"]
    assert [t["id"] for t in listed] == [transfer["id"]] and set(listed[0]) == {"id", "name", "volume_id", "links"}
    assert call(api, donor, "GET", f"{T}/detail").json()["transfers"][0]["created_at"]
    # Another project neither sees it nor lists it; a volume in transfer is not deletable.
    assert call(api, recipient, "GET", f"{T}/{transfer['id']}").status_code == 404
    assert call(api, recipient, "GET", T).json()["transfers"] == []
    assert call(api, donor, "DELETE", f"/volumes/{volume['id']}").status_code == 400
    again = call(api, donor, "POST", T, json={"transfer": {"volume_id": volume["id"]}})
    assert again.status_code == 400 and "awaiting-transfer" in again.json()["badRequest"]["message"]

    wrong = call(api, recipient, "POST", f"{T}/{transfer['id']}/accept", json={"accept": {"auth_key": "nope"}})
    assert wrong.status_code == 400 and "Invalid auth key" in wrong.json()["badRequest"]["message"]
    accepted = call(api, recipient, "POST", f"{T}/{transfer['id']}/accept",
                    json={"accept": {"auth_key": transfer["auth_key"]}})
    assert accepted.status_code == 202, accepted.text
    assert accepted.json()["transfer"]["volume_id"] == volume["id"]

    moved = call(api, recipient, "GET", f"/volumes/{volume['id']}").json()["volume"]
    assert moved["status"] == "available"
    assert moved["os-vol-tenant-attr:tenant_id"] == project_of(api, recipient)
    assert moved["user_id"] == api.cloud.identity.validate_token(recipient).user_id
    assert call(api, donor, "GET", f"/volumes/{volume['id']}").status_code == 404
    assert call(api, recipient, "GET", f"/snapshots/{snapshot['snapshot']['id']}").status_code == 200
    assert call(api, donor, "GET", f"{T}/{transfer['id']}").status_code == 404
    moved_usage = {"volumes": 1, "gigabytes": 4, "snapshots": 1}  # the volume's 2 GB and its snapshot's 2 GB
    after_donor, after_recipient = usage(api, admin_token, donor), usage(api, admin_token, recipient)
    assert {k: before_donor[k] - after_donor[k] for k in moved_usage} == moved_usage
    assert {k: after_recipient[k] - before_recipient[k] for k in moved_usage} == moved_usage
    # Accepted once: the key is spent.
    assert call(api, recipient, "POST", f"{T}/{transfer['id']}/accept",
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
