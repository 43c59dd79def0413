"""Container sync: a cloud whose realms file names itself (as Tempest's set-up does),
containers syncing to each other across two accounts -- through a realm and through
a full URL -- with the real syncer pass sending its requests to the cloud's API; and
the checks of X-Container-Sync-To and of the sync requests' credentials."""

from __future__ import annotations

import dataclasses
import hashlib

import pytest
from starlette.testclient import TestClient

from pocketstack.cloud import Cloud
from pocketstack.object.syncer import ContainerSyncer
from pocketstack.object.syncrealms import signature

from conftest import ADMIN_PASSWORD, DEMO_PASSWORD, Api, unique

BASE = "http://127.0.0.1:8780"
REALMS = f"""
[realm1]
key = realm-secret
key2 = next-secret
cluster_name1 = {BASE}/object-store/v1/

[keyless]
cluster_x = {BASE}/object-store/v1/
"""


@pytest.fixture(scope="module")
def sync_cloud(cloud, settings, tmp_path_factory):
    """Beside ``cloud``, on its database: identity and object storage with realm1."""
    data_dir = tmp_path_factory.mktemp("container-sync-data")
    realms = data_dir / "container-sync-realms.conf"
    realms.write_text(REALMS)
    chosen = dataclasses.replace(settings, data_dir=data_dir, object_container_sync_realms_file=str(realms),
                                 object_container_sync_current="//realm1/name1", object_container_sync_interval=0)
    cloud = Cloud(chosen, services=["identity", "object"], migrate=False)
    cloud.identity.credential_keys.ensure()
    cloud.identity.keys.ensure()
    try:
        yield cloud
    finally:
        cloud.close()


@pytest.fixture(scope="module")
def sapi(sync_cloud):
    with TestClient(sync_cloud.asgi_app(), base_url=BASE) as client:
        yield Api(client, sync_cloud)


@pytest.fixture(scope="module")
def people(sapi):
    """``{"admin": (token, account), "demo": (token, account)}``."""
    out = {}
    for user, password in (("admin", ADMIN_PASSWORD), ("demo", DEMO_PASSWORD)):
        token = sapi.token(user, password, project=user)
        out[user] = (token, f"AUTH_{sapi.cloud.identity.validate_token(token).project_id}")
    return out


def syncer(sapi) -> ContainerSyncer:
    manager = sapi.cloud.service("object").manager
    return ContainerSyncer(manager.cluster, manager.store, manager.sync, client=sapi.client)


def path(account: str, container: str, obj: str = "") -> str:
    return f"/object-store/v1/{account}/{container}" + (f"/{obj}" if obj else "")


def names(sapi, token, account, container) -> dict:
    rows = sapi.request("GET", path(account, container), token, params={"format": "json"}).json()
    return {r["name"]: r["hash"] for r in rows}


def test_info_lists_the_realms(sapi):
    info = sapi.request("GET", "/object-store/info").json()
    assert info["container_sync"] == {"realms": {"REALM1": {"clusters": {"NAME1": {"current": True}}}}}


def test_two_accounts_sync_both_ways_through_a_realm(sapi, people):
    (admin, a_acct), (demo, d_acct) = people["admin"], people["demo"]
    first, second = unique("sync-a"), unique("sync-b")
    assert sapi.request("PUT", path(a_acct, first), admin).status_code == 201
    assert sapi.request("PUT", path(d_acct, second), demo).status_code == 201
    for token, acct, here, there, there_acct in ((admin, a_acct, first, second, d_acct),
                                                 (demo, d_acct, second, first, a_acct)):
        set_to = sapi.request("POST", path(acct, here), token, headers={
            "X-Container-Sync-Key": "sync_key", "X-Container-Sync-To": f"//realm1/name1/{there_acct}/{there}"})
        assert set_to.status_code == 204, set_to.text
        put = sapi.request("PUT", path(acct, here, f"from-{here}"), token, content=here.encode(),
                           headers={"X-Object-Meta-Origin": here})
        assert put.status_code == 201
    sapi.request("PUT", path(a_acct, first, "link"), admin, content=b"",
                 headers={"X-Symlink-Target": f"{first}/from-{first}"})

    stats = syncer(sapi).run_once()
    assert stats.failures == 0 and stats.puts >= 3
    listed = names(sapi, admin, a_acct, first)
    assert listed == names(sapi, demo, d_acct, second) and set(listed) == {f"from-{first}", f"from-{second}", "link"}
    got = sapi.request("GET", path(d_acct, second, f"from-{first}"), demo)
    assert got.content == first.encode() and got.headers["X-Object-Meta-Origin"] == first
    stamp = sapi.request("HEAD", path(a_acct, first, f"from-{first}"), admin).headers["X-Timestamp"]
    assert got.headers["X-Timestamp"] == stamp  # written at the original change's time
    link = sapi.request("HEAD", path(d_acct, second, "link?symlink=get"), demo)
    assert link.headers["X-Symlink-Target"] == f"{first}/from-{first}"
    head = sapi.request("HEAD", path(a_acct, first), admin).headers
    assert not any(h.lower().startswith("x-container-sysmeta") for h in head)

    # A row the other side wrote may go back once (answered 409: the same version is
    # there); then nothing is new past the sync points.
    syncer(sapi).run_once()
    assert syncer(sapi).run_once().puts == 0
    assert sapi.request("DELETE", path(a_acct, first, f"from-{first}"), admin).status_code == 204
    syncer(sapi).run_once()
    assert f"from-{first}" not in names(sapi, demo, d_acct, second)


def test_full_url_old_style(sapi, people):
    admin, acct = people["admin"]
    source, target = unique("src"), unique("dst")
    assert sapi.request("PUT", path(acct, target), admin, headers={"X-Container-Sync-Key": "k2"}).status_code == 201
    assert sapi.request("PUT", path(acct, source), admin, headers={
        "X-Container-Sync-Key": "k2", "X-Container-Sync-To": f"{BASE}{path(acct, target)}"}).status_code == 201
    sapi.request("PUT", path(acct, source, "obj"), admin, content=b"old style")
    syncer(sapi).run_once()
    assert sapi.request("GET", path(acct, target, "obj"), admin).content == b"old style"


@pytest.mark.parametrize(("value", "message"), [
    ("//realm1/name1/AUTH_x", "Invalid X-Container-Sync-To format '//realm1/name1/AUTH_x'"),
    ("//nope/name1/AUTH_x/c", "No realm key for 'nope'"),
    ("//keyless/x/AUTH_x/c", "No realm key for 'keyless'"),
    ("//realm1/other/AUTH_x/c", "No cluster endpoint for 'realm1' 'other'"),
    ("ftp://127.0.0.1/v1/AUTH_x/c", "Invalid scheme 'ftp' in X-Container-Sync-To"),
    ("http://127.0.0.1", "Path required in X-Container-Sync-To"),
    ("http://127.0.0.1/v1/a/c?x=1", "Params, queries, and fragments not allowed in X-Container-Sync-To"),
    ("http://example.com/v1/AUTH_x/c", "Invalid host 'example.com' in X-Container-Sync-To"),
])
def test_invalid_sync_to_is_400(sapi, people, value, message):
    admin, acct = people["admin"]
    response = sapi.request("PUT", path(acct, unique("bad")), admin, headers={"X-Container-Sync-To": value})
    assert response.status_code == 400 and message in response.text


def test_sync_requests_must_prove_the_key(sapi, people):
    admin, acct = people["admin"]
    name = unique("guarded")
    sapi.request("PUT", path(acct, name), admin, headers={"X-Container-Sync-Key": "secret"})
    target = path(acct, name, "planted")
    swift_path = target[len("/object-store"):]

    def auth(realm_key: str, user_key: str, stamp: str = "1700000000.00000") -> dict:
        return {"X-Timestamp": stamp, "X-Container-Sync-Auth":
                f"realm1 n0nce {signature('PUT', swift_path, stamp, 'n0nce', realm_key, user_key)}"}

    for headers in (auth("realm-secret", "wrong"), auth("wrong", "secret"), {"X-Container-Sync-Auth": "two parts"}):
        refused = sapi.request("PUT", target, content=b"x", headers=headers)
        assert refused.status_code == 401 and "X-Container-Sync-Auth header not valid" in refused.text
    wrong_key = sapi.request("PUT", target, content=b"x", headers={"X-Container-Sync-Key": "nope",
                                                                  "X-Timestamp": "1700000000.00000"})
    assert wrong_key.status_code == 401
    assert sapi.request("PUT", target, content=b"x", headers=auth("next-secret", "secret")).status_code == 201
    older = sapi.request("PUT", target, content=b"y", headers=auth("realm-secret", "secret", "1600000000.00000"))
    assert older.status_code == 409
    got = sapi.request("GET", target, admin)
    assert got.content == b"x" and got.headers["X-Timestamp"] == "1700000000.00000"
    assert got.headers["Etag"] == hashlib.md5(b"x").hexdigest()
    bad_stamp = sapi.request("PUT", target, content=b"z", headers={"X-Container-Sync-Key": "secret",
                                                                  "X-Timestamp": "soon"})
    assert bad_stamp.status_code == 400
