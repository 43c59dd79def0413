"""Hostile and oversized input to the object API: Swift's header limits (8192 bytes a
value, its metadata limits) answered as Swift does, everything within them stored and
served -- never a 5xx."""

from __future__ import annotations

import pytest

from pocketstack.object import diskfile
from pocketstack.object.auditor import Auditor
from pocketstack.object.replicator import Replicator

from conftest import unique

MAX_HEADER = 8192


def project_id(api, token):
    response = api.request("GET", "/identity/v3/auth/tokens", token, headers={"X-Subject-Token": token})
    return response.json()["token"]["project"]["id"]


@pytest.fixture
def account(api, admin_token):
    return f"/object-store/v1/AUTH_{project_id(api, admin_token)}"


@pytest.fixture
def container(api, admin_token, account):
    path = f"{account}/{unique('limits')}"
    assert api.request("PUT", path, admin_token).status_code == 201
    return path


def listed(api, token, container, name):
    rows = api.request("GET", container, token, params={"format": "json", "prefix": name}).json()
    return next(row for row in rows if row["name"] == name)


@pytest.mark.parametrize("length", [4096, 6000, MAX_HEADER])
def test_a_long_content_type_is_stored_and_listed(api, admin_token, container, length):
    content_type = "text/plain;x=" + "a" * (length - 13)
    obj = f"{container}/typed-{length}"
    put = api.request("PUT", obj, admin_token, content=b"body", headers={"Content-Type": content_type})
    assert put.status_code == 201
    got = api.request("GET", obj, admin_token)
    assert got.content == b"body" and got.headers["Content-Type"] == content_type
    assert listed(api, admin_token, container, f"typed-{length}")["content_type"] == content_type
    posted = "image/png;x=" + "b" * (length - 12)
    assert api.request("POST", obj, admin_token, headers={"Content-Type": posted}).status_code == 202
    assert api.request("HEAD", obj, admin_token).headers["Content-Type"] == posted
    assert listed(api, admin_token, container, f"typed-{length}")["content_type"] == posted


def test_header_values_over_8192_bytes_are_refused(api, admin_token, account, container):
    too_long = "a/" + "b" * (MAX_HEADER - 1)
    for method, path, header in (("PUT", f"{container}/o", "Content-Type"),
                                 ("PUT", f"{container}/o", "X-Object-Meta-A"),
                                 ("PUT", f"{container}/o", "Content-Disposition"),
                                 ("POST", container, "X-Container-Meta-A"), ("POST", account, "X-Account-Meta-A")):
        response = api.request(method, path, admin_token, content=b"x", headers={header: too_long})
        assert response.status_code == 400, (method, path, header)
        assert response.text == f"Header value too long: {header}"
    assert api.request("HEAD", f"{container}/o", admin_token).status_code == 404


def test_metadata_at_swift_limits_is_stored_and_replicated(api, admin_token, container):
    """The most metadata Swift takes (90 items, 4096 bytes of names and values, long
    Content-Disposition and Content-Encoding) is kept whole through writes, copies,
    audits and replication."""
    items = {f"X-Object-Meta-{i:02d}": "v" * 43 for i in range(90)}  # 90 * (2 + 43) = 4050 bytes
    wide = {f"X-Object-Meta-W{i:x}": "w" * 255 for i in range(16)}  # 16 * (2 + 255) = 4112 > 4096
    big = {**items, "Content-Disposition": "attachment; filename=" + "d" * 8000,
           "Content-Encoding": "e" * 8000, "Content-Type": "x/" + "t" * 8000}
    obj = f"{container}/meta"
    assert api.request("PUT", obj, admin_token, content=b"payload", headers=big).status_code == 201
    assert api.request("PUT", f"{container}/wide", admin_token, content=b"x", headers=wide).text == \
        "Total metadata too large; max 4096"
    assert api.request("PUT", f"{container}/wide", admin_token, content=b"x",
                       headers=dict(list(wide.items())[:15])).status_code == 201
    name = container.rsplit("/", 1)[1]
    assert api.request("PUT", f"{container}/copied", admin_token,
                       headers={"X-Copy-From": f"{name}/meta"}).status_code == 201
    cluster = api.cloud.object_store.cluster
    assert Auditor(cluster).run_once().quarantined == 0
    lost = cluster.primaries("object", f"AUTH_{project_id(api, admin_token)}", name, "meta")[0]
    for path in lost.directory.iterdir():
        path.unlink()  # one replica lost entirely: replication must restore it whole
    Replicator(cluster).run_once()
    restored = diskfile.read_state(lost)
    assert b"".join(restored.read(0, 7)) == b"payload" and diskfile.body_size(restored.data_path) == 7
    assert {k: restored.metadata[k] for k in big} == big
    for path in ("meta", "copied"):
        got = api.request("GET", f"{container}/{path}", admin_token)
        assert got.content == b"payload"
        assert {k: got.headers[k] for k in big} == big
    assert api.request("GET", f"{container}/meta", admin_token, headers={"Range": "bytes=1-3"}).content == b"ayl"


def test_metadata_limits_count_bytes(api, admin_token, container):
    """Swift measures names and values in bytes as sent: 128 two-byte characters are 256."""
    value = ("é" * 128).encode()
    assert api.request("PUT", f"{container}/utf8", admin_token, content=b"x",
                       headers={"X-Object-Meta-Name": value}).status_code == 201
    response = api.request("PUT", f"{container}/utf8", admin_token, content=b"x",
                           headers={"X-Object-Meta-Name": value + b"x"})
    assert response.status_code == 400 and response.text == "Metadata value longer than 256: X-Object-Meta-Name"


def test_paths_must_be_utf8_without_nul(api, admin_token, container):
    """Swift's proxy answers 412 before anything else.  (Header bytes that are not
    UTF-8 cannot go through the test client: see tests/integration/test_object_raw_bytes.py.)"""
    for path in (f"{container}/%FF%FE", f"{container}/a%00b", container + "%C3", container + "%C3/o"):
        response = api.request("PUT", path, admin_token, content=b"x")
        assert (response.status_code, response.text) == (412, "Invalid UTF8 or contains NULL"), path
    assert api.request("PUT", f"{container}/{'é' * 512}", admin_token, content=b"x").status_code == 201
    long_name = api.request("PUT", f"{container}/{'é' * 513}", admin_token, content=b"x")
    assert long_name.status_code == 400 and long_name.text == "Object name length of 1026 longer than 1024"


def test_delete_at_out_of_range_is_clamped_or_refused(api, admin_token, container):
    """Swift keeps an expiry within 10 digits (9999999999) and refuses what is no integer."""
    for header, value in (("X-Delete-At", "9" * 30), ("X-Delete-After", "9" * 400)):
        obj = f"{container}/far-{header}"
        assert api.request("PUT", obj, admin_token, content=b"x", headers={header: value}).status_code == 201
        assert api.request("HEAD", obj, admin_token).headers["X-Delete-At"] == "9999999999"
        assert api.request("POST", obj, admin_token, headers={header: value}).status_code == 202
        assert api.request("HEAD", obj, admin_token).headers["X-Delete-At"] == "9999999999"
    for header, value, message in (("X-Delete-After", "9" * 5000, "Non-integer X-Delete-After"),
                                   ("X-Delete-After", "0", "X-Delete-After in past"),
                                   ("X-Delete-At", "-1", "X-Delete-At in past"),
                                   ("X-Delete-At", "1e12", "Non-integer X-Delete-At")):
        response = api.request("PUT", f"{container}/bad-expiry", admin_token, content=b"x", headers={header: value})
        assert (response.status_code, response.text) == (400, message), (header, value)


@pytest.mark.parametrize("value", ["bytes=" + "9" * 5000 + "-", "bytes=-" + "9" * 5000, "bytes=0-" + "9" * 5000],
                         ids=["start", "suffix", "end"])
def test_ranges_with_numbers_too_long_to_read_are_ignored(api, admin_token, container, value):
    """Swift cannot read them either (its int() refuses them): the whole object, as for any invalid Range."""
    api.request("PUT", f"{container}/r", admin_token, content=b"0123456789")
    got = api.request("GET", f"{container}/r", admin_token, headers={"Range": value})
    assert got.status_code == 200 and got.content == b"0123456789"


def test_listing_limits_beyond_any_number(api, admin_token, account, container):
    for path in (container, account):
        for limit in ("9" * 5000, "0" * 20 + "10001"):
            response = api.request("GET", path, admin_token, params={"limit": limit})
            assert (response.status_code, response.text) == (412, "Maximum limit is 10000"), (path, limit)
    api.request("PUT", f"{container}/one", admin_token, content=b"x")
    assert api.request("GET", container, admin_token, params={"limit": "0" * 20 + "1"}).text == "one\n"
