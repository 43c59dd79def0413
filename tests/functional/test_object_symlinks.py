"""Symlinks (Swift's symlink middleware) through the in-process cloud: soft and static
links, ``?symlink=get``, listings, copies, POSTs, the loop limit, Swift's errors, and
cross-account links held to the target's ACLs."""

from __future__ import annotations

import hashlib

import pytest
from test_object_access import project_id

from conftest import unique

EMPTY = "d41d8cd98f00b204e9800998ecf8427e"


@pytest.fixture
def acct(api, admin_token):
    return f"AUTH_{project_id(api, admin_token)}"


@pytest.fixture
def box(api, admin_token, acct):
    """A container of the admin's with an object ``file`` (b"target body")."""
    name = unique("sym")
    assert api.request("PUT", f"/object-store/v1/{acct}/{name}", admin_token).status_code == 201
    put(api, admin_token, f"/object-store/v1/{acct}/{name}/file", b"target body", **{"Content-Type": "text/x-t"})
    return f"/object-store/v1/{acct}/{name}", name


def put(api, token, path, data=b"", **headers):
    response = api.request("PUT", path, token, content=data, headers=headers)
    assert response.status_code == 201, response.text
    return response


def test_soft_link_is_followed_and_listed(api, admin_token, acct, box):
    base, name = box
    put(api, admin_token, f"{base}/link", **{"X-Symlink-Target": f"{name}/file"})
    got = api.request("GET", f"{base}/link", admin_token)
    assert got.status_code == 200 and got.content == b"target body"
    assert got.headers["Content-Location"] == f"/v1/{acct}/{name}/file"
    assert got.headers["Content-Type"] == "text/x-t"
    head = api.request("HEAD", f"{base}/link", admin_token)
    assert head.status_code == 200 and head.headers["Content-Length"] == "11"

    itself = api.request("GET", f"{base}/link?symlink=get", admin_token)
    assert itself.status_code == 200 and itself.content == b""
    assert itself.headers["X-Symlink-Target"] == f"{name}/file"
    assert itself.headers["Content-Type"] == "application/symlink" and itself.headers["Etag"] == EMPTY

    rows = {r["name"]: r for r in api.request("GET", base, admin_token, params={"format": "json"}).json()}
    assert rows["link"]["symlink_path"] == f"/v1/{acct}/{name}/file"
    assert rows["link"]["hash"] == EMPTY and rows["link"]["bytes"] == 0
    assert rows["link"]["content_type"] == "application/symlink"
    assert "symlink_path" not in rows["file"]
    xml = api.request("GET", base, admin_token, params={"format": "xml"}).text
    assert f"<symlink_path>/v1/{acct}/{name}/file</symlink_path>" in xml


def test_broken_link_and_deleted_target_are_404(api, admin_token, box):
    base, name = box
    put(api, admin_token, f"{base}/dangling", **{"X-Symlink-Target": f"{name}/missing"})
    missing = api.request("GET", f"{base}/dangling", admin_token)
    assert missing.status_code == 404 and missing.headers["Content-Location"].endswith(f"{name}/missing")
    put(api, admin_token, f"{base}/link", **{"X-Symlink-Target": f"{name}/file"})
    assert api.request("DELETE", f"{base}/file", admin_token).status_code == 204
    assert api.request("GET", f"{base}/link", admin_token).status_code == 404
    assert api.request("DELETE", f"{base}/link", admin_token).status_code == 204


def test_static_link_checks_the_etag(api, admin_token, box):
    base, name = box
    etag = hashlib.md5(b"target body").hexdigest()
    made = api.request("PUT", f"{base}/static", admin_token, content=b"",
                       headers={"X-Symlink-Target": f"{name}/file", "X-Symlink-Target-Etag": etag})
    assert made.status_code == 201, made.text
    head = api.request("HEAD", f"{base}/static?symlink=get", admin_token).headers
    assert head["X-Symlink-Target-Etag"] == etag and head["X-Symlink-Target-Bytes"] == "11"
    assert head["Content-Type"] == "text/x-t"  # the target's, as none was given
    [row] = [r for r in api.request("GET", base, admin_token, params={"format": "json"}).json()
             if r["name"] == "static"]
    assert row["symlink_etag"] == etag and row["symlink_bytes"] == 11

    wrong = api.request("PUT", f"{base}/wrong", admin_token, content=b"",
                        headers={"X-Symlink-Target": f"{name}/file", "X-Symlink-Target-Etag": "0" * 32})
    assert wrong.status_code == 409 and "does not match X-Symlink-Target-Etag" in wrong.text
    absent = api.request("PUT", f"{base}/absent", admin_token, content=b"",
                         headers={"X-Symlink-Target": f"{name}/none", "X-Symlink-Target-Etag": etag})
    assert absent.status_code == 409 and absent.text == "X-Symlink-Target does not exist"

    put(api, admin_token, f"{base}/file", b"changed")
    changed = api.request("GET", f"{base}/static", admin_token)
    assert changed.status_code == 409 and "does not match" in changed.text


def test_swifts_errors(api, admin_token, acct, box):
    base, name = box
    cases = [
        ({"X-Symlink-Target": "nocontainer"}, b"", 412, "must be of the form"),
        ({"X-Symlink-Target": f"/{name}/file"}, b"", 412, "must be of the form"),
        ({"X-Symlink-Target": f"{name}/self"}, b"", 400, "Symlink cannot target itself"),
        ({"X-Symlink-Target": f"{name}/file"}, b"body", 400, "Symlink requests require a zero byte body"),
        ({"X-Symlink-Target": f"{name}/file", "X-Symlink-Target-Etag": 'a"b'}, b"", 400, "Bad X-Symlink-Target-Etag"),
        ({"X-Symlink-Target": f"{name}/file", "X-Symlink-Target-Account": "a/b"}, b"", 412, "cannot contain slashes"),
    ]
    for headers, data, status, text in cases:
        response = api.request("PUT", f"{base}/self", admin_token, content=data, headers=headers)
        assert response.status_code == status and text in response.text, (headers, response.text)
    posted = api.request("POST", f"{base}/file", admin_token, headers={"X-Symlink-Target": f"{name}/x"})
    assert posted.status_code == 400 and "A PUT request is required" in posted.text


def test_loop_limit_and_chains(api, admin_token, box):
    base, name = box
    put(api, admin_token, f"{base}/one", **{"X-Symlink-Target": f"{name}/file"})
    put(api, admin_token, f"{base}/two", **{"X-Symlink-Target": f"{name}/one"})
    assert api.request("GET", f"{base}/two", admin_token).content == b"target body"
    put(api, admin_token, f"{base}/three", **{"X-Symlink-Target": f"{name}/two"})
    deep = api.request("GET", f"{base}/three", admin_token)
    assert deep.status_code == 409 and deep.text == "Too many levels of symbolic links, maximum allowed is 2"
    put(api, admin_token, f"{base}/a", **{"X-Symlink-Target": f"{name}/b"})
    put(api, admin_token, f"{base}/b", **{"X-Symlink-Target": f"{name}/a"})
    assert api.request("GET", f"{base}/a", admin_token).status_code == 409
    info = api.request("GET", "/object-store/info").json()
    assert info["symlink"] == {"symloop_max": 2, "static_links": True}


def test_copy_and_post(api, admin_token, box):
    base, name = box
    put(api, admin_token, f"{base}/link", **{"X-Symlink-Target": f"{name}/file"})
    put(api, admin_token, f"{base}/copied", **{"X-Copy-From": f"{name}/link"})
    copied = api.request("GET", f"{base}/copied?symlink=get", admin_token)
    assert copied.content == b"target body" and "X-Symlink-Target" not in copied.headers
    relinked = api.request("COPY", f"{base}/link?symlink=get", admin_token, headers={"Destination": f"{name}/again"})
    assert relinked.status_code == 201, relinked.text
    again = api.request("HEAD", f"{base}/again?symlink=get", admin_token)
    assert again.headers["X-Symlink-Target"] == f"{name}/file"
    assert api.request("GET", f"{base}/again", admin_token).content == b"target body"

    posted = api.request("POST", f"{base}/link", admin_token, headers={"X-Object-Meta-Color": "red"},
                         follow_redirects=False)
    assert posted.status_code == 307 and posted.headers["Location"].endswith(f"/{name}/file")
    assert api.request("HEAD", f"{base}/link?symlink=get", admin_token).headers["X-Object-Meta-Color"] == "red"
    assert "X-Object-Meta-Color" not in api.request("HEAD", f"{base}/file", admin_token).headers


def test_cross_account_link_needs_the_targets_acl(api, admin_token, demo_token, acct, box):
    """A link in demo's account to the admin's object: reading it is reading the target,
    as demo; refused until the admin's container grants demo's project read access."""
    base, name = box
    demo = f"/object-store/v1/AUTH_{project_id(api, demo_token)}"
    mine = unique("mine")
    assert api.request("PUT", f"{demo}/{mine}", demo_token).status_code == 201
    put(api, demo_token, f"{demo}/{mine}/peek",
        **{"X-Symlink-Target": f"{name}/file", "X-Symlink-Target-Account": acct})
    assert api.request("GET", f"{demo}/{mine}/peek", demo_token).status_code == 403
    assert api.request("HEAD", f"{demo}/{mine}/peek", demo_token).status_code == 403
    static = api.request("PUT", f"{demo}/{mine}/static", demo_token, content=b"", headers={
        "X-Symlink-Target": f"{name}/file", "X-Symlink-Target-Account": acct,
        "X-Symlink-Target-Etag": hashlib.md5(b"target body").hexdigest()})
    assert static.status_code == 403
    copied = api.request("PUT", f"{demo}/{mine}/copy", demo_token, content=b"",
                         headers={"X-Copy-From": f"{mine}/peek"})
    assert copied.status_code == 403
    assert api.request("GET", f"{demo}/{mine}/peek?symlink=get", demo_token).status_code == 200

    project = project_id(api, demo_token)
    assert api.request("POST", base, admin_token, headers={"X-Container-Read": f"{project}:*"}).status_code == 204
    got = api.request("GET", f"{demo}/{mine}/peek", demo_token)
    assert got.status_code == 200 and got.content == b"target body"
    assert got.headers["Content-Location"] == f"/v1/{acct}/{name}/file"
