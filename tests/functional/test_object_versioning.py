"""Legacy object versioning (Swift's versioned_writes): X-Versions-Location (stack mode)
and X-History-Location (history mode), through the in-process cloud."""

from __future__ import annotations

import pytest

from conftest import unique

DELETE_MARKER = "application/x-deleted;swift_versions_deleted=1"


def project_id(api, token):
    response = api.request("GET", "/identity/v3/auth/tokens", token, headers={"X-Subject-Token": token})
    return response.json()["token"]["project"]["id"]


@pytest.fixture
def acct(api, admin_token):
    return f"/object-store/v1/AUTH_{project_id(api, admin_token)}"


@pytest.fixture
def pair(api, admin_token, acct):
    """``(current, archive)`` container names, the archive created first."""
    current, archive = unique("cur"), unique("arc")
    assert api.request("PUT", f"{acct}/{archive}", admin_token).status_code == 201
    return current, archive


def put(api, token, path, data=b"", **headers):
    response = api.request("PUT", path, token, content=data, headers=headers)
    assert response.status_code == 201, response.text
    return response


def listing(api, token, path, **params):
    return api.request("GET", path, token, params={"format": "json", **params}).json()


def test_stack_mode_keeps_and_pops_versions(api, admin_token, acct, pair):
    current, archive = pair
    put(api, admin_token, f"{acct}/{current}", **{"X-Versions-Location": archive})
    assert api.request("HEAD", f"{acct}/{current}", admin_token).headers["X-Versions-Location"] == archive
    obj = f"{acct}/{current}/doc"
    put(api, admin_token, obj, b"one", **{"Content-Type": "text/one", "X-Object-Meta-Rev": "1"})
    put(api, admin_token, obj, b"two!", **{"Content-Type": "text/two"})
    put(api, admin_token, obj, b"three")
    versions = listing(api, admin_token, f"{acct}/{archive}")
    assert [v["name"].split("/")[0] for v in versions] == ["003doc", "003doc"]
    assert [v["bytes"] for v in versions] == [3, 4] and versions[0]["content_type"] == "text/one"
    assert api.request("GET", obj, admin_token).content == b"three"

    assert api.request("DELETE", obj, admin_token).status_code == 204
    got = api.request("GET", obj, admin_token)
    assert got.content == b"two!" and got.headers["Content-Type"] == "text/two"
    assert len(listing(api, admin_token, f"{acct}/{archive}")) == 1
    assert api.request("DELETE", obj, admin_token).status_code == 204
    got = api.request("GET", obj, admin_token)
    assert got.content == b"one" and got.headers["X-Object-Meta-Rev"] == "1"
    head = api.request("HEAD", f"{acct}/{current}", admin_token).headers
    assert head["X-Container-Object-Count"] == "1" and head["X-Container-Bytes-Used"] == "3"
    assert api.request("DELETE", obj, admin_token).status_code == 204
    assert api.request("GET", obj, admin_token).status_code == 404
    assert api.request("DELETE", obj, admin_token).status_code == 404
    assert listing(api, admin_token, f"{acct}/{archive}") == []


def test_copy_onto_a_versioned_object_archives_it(api, admin_token, acct, pair):
    current, archive = pair
    put(api, admin_token, f"{acct}/{current}", **{"X-Versions-Location": archive})
    put(api, admin_token, f"{acct}/{current}/src", b"source")
    put(api, admin_token, f"{acct}/{current}/dst", b"original")
    copy = api.request("COPY", f"{acct}/{current}/src", admin_token, headers={"Destination": f"{current}/dst"})
    assert copy.status_code == 201
    assert api.request("GET", f"{acct}/{current}/dst", admin_token).content == b"source"
    [version] = listing(api, admin_token, f"{acct}/{archive}", prefix="003dst/")
    assert api.request("GET", f"{acct}/{archive}/{version['name']}", admin_token).content == b"original"


def test_history_mode_archives_and_writes_delete_markers(api, admin_token, acct, pair):
    current, archive = pair
    put(api, admin_token, f"{acct}/{current}", **{"X-History-Location": archive})
    head = api.request("HEAD", f"{acct}/{current}", admin_token).headers
    assert head["X-History-Location"] == archive and "X-Versions-Location" not in head
    obj = f"{acct}/{current}/a/b"
    put(api, admin_token, obj, b"v1")
    put(api, admin_token, obj, b"v2")
    assert api.request("DELETE", obj, admin_token).status_code == 204
    assert api.request("GET", obj, admin_token).status_code == 404
    versions = listing(api, admin_token, f"{acct}/{archive}", prefix="003a/b/")
    assert [v["content_type"] for v in versions][-1] == DELETE_MARKER
    assert [v["bytes"] for v in versions] == [2, 2, 0]
    bodies = [api.request("GET", f"{acct}/{archive}/{v['name']}", admin_token).content for v in versions[:2]]
    assert bodies == [b"v1", b"v2"]
    # Deleting what is already gone still records a marker, and answers 404.
    assert api.request("DELETE", obj, admin_token).status_code == 404
    assert len(listing(api, admin_token, f"{acct}/{archive}", prefix="003a/b/")) == 4


def test_stack_delete_after_history_delete_restores_the_version_below_the_marker(api, admin_token, acct, pair):
    current, archive = pair
    put(api, admin_token, f"{acct}/{current}", **{"X-History-Location": archive})
    obj = f"{acct}/{current}/o"
    put(api, admin_token, obj, b"kept")
    assert api.request("DELETE", obj, admin_token).status_code == 204
    api.request("POST", f"{acct}/{current}", admin_token, headers={"X-Versions-Location": archive})
    head = api.request("HEAD", f"{acct}/{current}", admin_token).headers
    assert head["X-Versions-Location"] == archive and "X-History-Location" not in head
    assert api.request("DELETE", obj, admin_token).status_code == 204
    assert api.request("GET", obj, admin_token).content == b"kept"
    assert listing(api, admin_token, f"{acct}/{archive}", prefix="001o/") == []


def test_versioning_headers_are_checked_and_removable(api, admin_token, acct, pair):
    current, archive = pair
    both = api.request("PUT", f"{acct}/{current}", admin_token,
                       headers={"X-Versions-Location": archive, "X-History-Location": archive})
    assert both.status_code == 400 and "Only one of" in both.text
    slashed = api.request("PUT", f"{acct}/{current}", admin_token, headers={"X-Versions-Location": "a/b"})
    assert slashed.status_code == 412
    put(api, admin_token, f"{acct}/{current}", **{"X-Versions-Location": archive})
    assert api.request("POST", f"{acct}/{current}", admin_token,
                       headers={"X-Remove-Versions-Location": "x"}).status_code == 204
    head = api.request("HEAD", f"{acct}/{current}", admin_token).headers
    assert "X-Versions-Location" not in head and "X-History-Location" not in head
    put(api, admin_token, f"{acct}/{current}/o", b"1")
    put(api, admin_token, f"{acct}/{current}/o", b"2")
    assert listing(api, admin_token, f"{acct}/{archive}") == []


def test_missing_archive_container_is_a_412(api, admin_token, acct):
    current = unique("cur")
    put(api, admin_token, f"{acct}/{current}", **{"X-Versions-Location": unique("nowhere")})
    put(api, admin_token, f"{acct}/{current}/o", b"first")  # nothing to archive yet
    response = api.request("PUT", f"{acct}/{current}/o", admin_token, content=b"second")
    assert response.status_code == 412
    assert api.request("GET", f"{acct}/{current}/o", admin_token).content == b"first"


def test_archive_needs_write_access(api, admin_token, demo_token, acct, pair):
    """A user allowed to write the current container but not the archive is refused."""
    current, archive = pair
    demo_project = project_id(api, demo_token)
    put(api, admin_token, f"{acct}/{current}", **{"X-Versions-Location": archive,
                                                  "X-Container-Write": f"{demo_project}:*"})
    obj = f"{acct}/{current}/o"
    # Checked before anything else, as in Swift: even a first upload is refused.
    assert api.request("PUT", obj, demo_token, content=b"new").status_code == 403
    api.request("POST", f"{acct}/{archive}", admin_token, headers={"X-Container-Write": f"{demo_project}:*"})
    assert api.request("PUT", obj, demo_token, content=b"new").status_code == 201
    assert api.request("PUT", obj, demo_token, content=b"newer").status_code == 201
    assert len(listing(api, admin_token, f"{acct}/{archive}")) == 1


def test_static_large_object_manifest_is_versioned_as_a_manifest(api, admin_token, acct, pair):
    current, archive = pair
    put(api, admin_token, f"{acct}/{current}", **{"X-Versions-Location": archive})
    put(api, admin_token, f"{acct}/{current}/seg1", b"a" * 10)
    manifest = f'[{{"path": "/{current}/seg1"}}]'
    response = api.request("PUT", f"{acct}/{current}/big", admin_token, params={"multipart-manifest": "put"},
                           content=manifest.encode())
    assert response.status_code == 201
    put(api, admin_token, f"{acct}/{current}/big", b"plain now")
    [version] = listing(api, admin_token, f"{acct}/{archive}")
    assert version["bytes"] == 10
    archived = api.request("GET", f"{acct}/{archive}/{version['name']}", admin_token)
    assert archived.content == b"a" * 10 and archived.headers["X-Static-Large-Object"] == "True"
    assert api.request("DELETE", f"{acct}/{current}/big", admin_token).status_code == 204
    assert api.request("GET", f"{acct}/{current}/big", admin_token).content == b"a" * 10
