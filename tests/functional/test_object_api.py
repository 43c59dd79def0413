"""Swift v1 API semantics through the in-process cloud: containers, objects, listings,
ranges, conditional requests, copies, expiry, and bad input answered with 4xx."""

from __future__ import annotations

import hashlib
import io
import json
import re
import tarfile
import time

import pytest

from conftest import unique


def project_id(api, token):
    response = api.request("GET", "/identity/v3/auth/tokens", token, headers={"X-Subject-Token": token})
    return response.json()["token"]["project"]["id"]


@pytest.fixture
def acct(api, admin_token):
    return f"/object-store/v1/AUTH_{project_id(api, admin_token)}"


@pytest.fixture
def container(api, admin_token, acct):
    name = unique("c")
    assert api.request("PUT", f"{acct}/{name}", admin_token).status_code == 201
    return f"{acct}/{name}"


def put(api, token, path, data=b"", **headers):
    return api.request("PUT", path, token, content=data, headers=headers)


def test_info_is_public(api):
    response = api.request("GET", "/object-store/info")
    assert response.status_code == 200
    body = response.json()
    assert body["swift"]["container_listing_limit"] == 10000
    assert {"tempurl", "slo", "dlo", "bulk_delete", "bulk_upload", "versioned_writes", "object_expirer"} <= set(body)
    assert body["versioned_writes"]["allowed_flags"] == ["x-versions-location", "x-history-location"]
    assert body["object_expirer"]["expiring_objects_account"] == ".expiring_objects"


def test_catalog_url_is_substituted_per_project(api, admin_token):
    response = api.request("GET", "/identity/v3/auth/catalog", admin_token)
    swift = next(s for s in response.json()["catalog"] if s["type"] == "object-store")
    assert swift["endpoints"][0]["url"].endswith(f"/object-store/v1/AUTH_{project_id(api, admin_token)}")


def test_container_lifecycle_and_headers(api, admin_token, acct):
    name = unique("c")
    path = f"{acct}/{name}"
    assert api.request("HEAD", path, admin_token).status_code == 404
    created = api.request("PUT", path, admin_token, headers={"X-Container-Meta-Color": "red"})
    assert created.status_code == 201
    # Swift's transaction id shape (Tempest checks it), made from the request id.
    assert re.fullmatch(r"tx[0-9a-f]{21}-[0-9a-f]{10}", created.headers["X-Trans-Id"])
    assert created.headers["X-Openstack-Request-Id"].replace("-", "")[3:24] == created.headers["X-Trans-Id"][2:23]
    assert created.headers["Content-Type"] == "text/html; charset=UTF-8"
    assert api.request("PUT", path, admin_token).status_code == 202
    head = api.request("HEAD", path, admin_token)
    assert head.status_code == 204
    assert head.headers["X-Container-Object-Count"] == "0"
    assert head.headers["X-Container-Bytes-Used"] == "0"
    assert head.headers["X-Container-Meta-Color"] == "red"
    assert "X-Timestamp" in head.headers and "Last-Modified" in head.headers
    assert api.request("POST", path, admin_token, headers={"X-Remove-Container-Meta-Color": "x",
                                                           "X-Container-Meta-Size": "L"}).status_code == 204
    head = api.request("HEAD", path, admin_token)
    assert "X-Container-Meta-Color" not in head.headers and head.headers["X-Container-Meta-Size"] == "L"
    put(api, admin_token, f"{path}/o", b"x")
    assert api.request("DELETE", path, admin_token).status_code == 409
    api.request("DELETE", f"{path}/o", admin_token)
    assert api.request("DELETE", path, admin_token).status_code == 204
    assert api.request("GET", path, admin_token).status_code == 404
    assert api.request("POST", path, admin_token).status_code == 404


def test_account_counts_follow_writes(api, admin_token, acct, container):
    before = api.request("HEAD", acct, admin_token).headers
    put(api, admin_token, f"{container}/a", b"12345")
    after = api.request("HEAD", acct, admin_token)
    assert after.status_code == 204
    assert int(after.headers["X-Account-Object-Count"]) == int(before["X-Account-Object-Count"]) + 1
    assert int(after.headers["X-Account-Bytes-Used"]) == int(before["X-Account-Bytes-Used"]) + 5
    listing = api.request("GET", acct, admin_token, params={"format": "json",
                                                            "prefix": container.rsplit("/", 1)[1]}).json()
    assert listing[0]["count"] == 1 and listing[0]["bytes"] == 5 and "last_modified" in listing[0]
    assert api.request("POST", acct, admin_token, headers={"X-Account-Meta-Team": "blue"}).status_code == 204
    assert api.request("HEAD", acct, admin_token).headers["X-Account-Meta-Team"] == "blue"


def test_object_roundtrip_metadata_and_post(api, admin_token, container):
    data = b"hello world"
    created = put(api, admin_token, f"{container}/dir/hello.txt", data, **{"X-Object-Meta-Owner": "me"})
    assert created.status_code == 201
    assert created.headers["Etag"] == hashlib.md5(data).hexdigest()
    got = api.request("GET", f"{container}/dir/hello.txt", admin_token)
    assert got.status_code == 200 and got.content == data
    assert got.headers["Content-Type"].startswith("text/plain")
    assert got.headers["Content-Length"] == str(len(data))
    assert got.headers["X-Object-Meta-Owner"] == "me"
    assert "Last-Modified" in got.headers and "X-Timestamp" in got.headers
    head = api.request("HEAD", f"{container}/dir/hello.txt", admin_token)
    assert head.status_code == 200 and head.headers["Content-Length"] == str(len(data)) and not head.content
    posted = api.request("POST", f"{container}/dir/hello.txt", admin_token,
                         headers={"X-Object-Meta-Color": "green", "Content-Type": "application/x-test"})
    assert posted.status_code == 202
    head = api.request("HEAD", f"{container}/dir/hello.txt", admin_token).headers
    assert head["X-Object-Meta-Color"] == "green" and "X-Object-Meta-Owner" not in head
    assert head["Content-Type"] == "application/x-test"
    listed = api.request("GET", container, admin_token, params={"format": "json", "prefix": "dir/"}).json()
    assert listed[0]["content_type"] == "application/x-test" and listed[0]["bytes"] == len(data)
    assert api.request("GET", f"{container}/dir/hello.txt", admin_token).content == data
    assert api.request("DELETE", f"{container}/dir/hello.txt", admin_token).status_code == 204
    assert api.request("GET", f"{container}/dir/hello.txt", admin_token).status_code == 404
    assert api.request("DELETE", f"{container}/dir/hello.txt", admin_token).status_code == 404


def test_put_checks(api, admin_token, acct, container):
    assert put(api, admin_token, f"{container}/x", b"abc", Etag="0" * 32).status_code == 422
    assert api.request("GET", f"{container}/x", admin_token).status_code == 404
    assert put(api, admin_token, f"{acct}/{unique('missing')}/x", b"abc").status_code == 404
    assert put(api, admin_token, f"{container}/x", b"abc", **{"If-None-Match": "*"}).status_code == 201
    assert put(api, admin_token, f"{container}/x", b"abc", **{"If-None-Match": "*"}).status_code == 412
    assert put(api, admin_token, f"{container}/x", b"abc", **{"If-None-Match": "abc"}).status_code == 400
    assert put(api, admin_token, f"{container}/" + "n" * 1025, b"a").status_code == 400
    assert put(api, admin_token, f"{acct}/" + "c" * 257).status_code == 400
    assert put(api, admin_token, f"{container}/x", b"a", **{"X-Delete-At": "soon"}).status_code == 400
    assert put(api, admin_token, f"{container}/x", b"a", **{"X-Delete-After": "-5"}).status_code == 400
    assert put(api, admin_token, f"{container}/x", b"a", **{"X-Object-Meta-" + "k" * 129: "v"}).status_code == 400
    response = put(api, admin_token, f"{container}/x", b"a", **{"X-Object-Meta-K": "v" * 257})
    assert response.status_code == 400 and response.headers["Content-Type"].startswith("text/plain")
    assert api.request("PUT", acct, admin_token).status_code == 405
    assert api.request("GET", container, admin_token, params={"limit": "abc"}).status_code == 400
    assert api.request("GET", container, admin_token, params={"limit": "10001"}).status_code == 412
    assert api.request("GET", container, admin_token, headers={"Accept": "image/png"}).status_code == 406


def test_chunked_upload_is_streamed(api, admin_token, container):
    parts = [b"a" * 70000, b"b" * 70000, b"c"]

    def body():
        yield from parts

    response = api.request("PUT", f"{container}/chunked", admin_token, content=body())
    assert response.status_code == 201
    assert api.request("GET", f"{container}/chunked", admin_token).content == b"".join(parts)


def test_listings_formats_and_paging(api, admin_token, container):
    names = ["a", "b/1", "b/2", "c", "d/x/1"]
    for name in names:
        put(api, admin_token, f"{container}/{name}", name.encode(), **{"Content-Type": "text/x"})
    text = api.request("GET", container, admin_token)
    assert text.status_code == 200 and text.text == "".join(n + "\n" for n in names)
    assert text.headers["Content-Type"] == "text/plain; charset=utf-8"
    as_json = api.request("GET", container, admin_token, params={"format": "json"}).json()
    assert [o["name"] for o in as_json] == names
    first = as_json[0]
    assert first["bytes"] == 1 and first["hash"] == hashlib.md5(b"a").hexdigest()
    assert first["content_type"] == "text/x" and len(first["last_modified"]) == 26
    accept_json = api.request("GET", container, admin_token, headers={"Accept": "application/json"})
    assert accept_json.headers["Content-Type"] == "application/json; charset=utf-8"
    xml = api.request("GET", container, admin_token, params={"format": "xml"})
    assert xml.text.startswith('<?xml version="1.0" encoding="UTF-8"?>') and "<name>b/1</name>" in xml.text

    def listing(**params):
        return api.request("GET", container, admin_token, params=params).text.splitlines()

    assert listing(delimiter="/") == ["a", "b/", "c", "d/"]
    assert listing(delimiter="/", prefix="d/") == ["d/x/"]
    assert listing(delimiter="/", reverse="true") == ["d/", "c", "b/", "a"]
    assert listing(limit="2") == ["a", "b/1"]
    assert listing(marker="b/1", limit="2") == ["b/2", "c"]
    assert listing(end_marker="b/2") == ["a", "b/1"]
    assert listing(reverse="on", marker="c") == ["b/2", "b/1", "a"]
    assert listing(prefix="b/") == ["b/1", "b/2"]
    subdirs = api.request("GET", container, admin_token, params={"delimiter": "/", "format": "json"}).json()
    assert {"subdir": "b/"} in subdirs
    empty = api.request("GET", container, admin_token, params={"prefix": "zzz"})
    assert empty.status_code == 204
    assert api.request("GET", container, admin_token, params={"prefix": "zzz", "format": "json"}).json() == []


def test_ranges(api, admin_token, container):
    data = bytes(range(256)) * 4
    put(api, admin_token, f"{container}/r", data)

    def get(value):
        return api.request("GET", f"{container}/r", admin_token, headers={"Range": value})

    one = get("bytes=10-19")
    assert one.status_code == 206 and one.content == data[10:20]
    assert one.headers["Content-Range"] == f"bytes 10-19/{len(data)}"
    assert get("bytes=-5").content == data[-5:]
    assert get("bytes=1000-").content == data[1000:]
    assert get("bytes=5000-6000").status_code == 416
    assert get("bytes=oops").status_code == 200
    multi = get("bytes=0-1,10-11")
    assert multi.status_code == 206 and multi.headers["Content-Type"].startswith("multipart/byteranges")
    assert b"Content-Range: bytes 0-1/1024" in multi.content and data[10:12] in multi.content
    assert int(multi.headers["Content-Length"]) == len(multi.content)


def test_conditional_requests(api, admin_token, container):
    created = put(api, admin_token, f"{container}/cond", b"data")
    etag = created.headers["Etag"]

    def get(**headers):
        return api.request("GET", f"{container}/cond", admin_token, headers=headers).status_code

    assert get(**{"If-Match": etag}) == 200
    assert get(**{"If-Match": "nope"}) == 412
    assert get(**{"If-None-Match": etag}) == 304
    assert get(**{"If-None-Match": "nope"}) == 200
    future = "Fri, 01 Jan 2100 00:00:00 GMT"
    past = "Thu, 01 Jan 1970 00:00:00 GMT"
    assert get(**{"If-Modified-Since": future}) == 304
    assert get(**{"If-Modified-Since": past}) == 200
    assert get(**{"If-Unmodified-Since": past}) == 412
    assert get(**{"If-Unmodified-Since": future}) == 200


def test_copy_and_fresh_metadata(api, admin_token, acct, container):
    put(api, admin_token, f"{container}/src", b"copy me", **{"X-Object-Meta-A": "1", "Content-Type": "text/y"})
    target = f"{acct}/{unique('dst')}"
    api.request("PUT", target, admin_token)
    name = container.rsplit("/", 1)[1]
    copied = put(api, admin_token, f"{target}/one", b"", **{"X-Copy-From": f"/{name}/src", "X-Object-Meta-B": "2"})
    assert copied.status_code == 201 and copied.headers["X-Copied-From"] == f"{name}/src"
    # The answer carries the new object's metadata, inherited and given.
    assert copied.headers["X-Object-Meta-A"] == "1" and copied.headers["X-Object-Meta-B"] == "2"
    got = api.request("GET", f"{target}/one", admin_token)
    assert got.content == b"copy me" and got.headers["X-Object-Meta-A"] == "1" and got.headers["X-Object-Meta-B"] == "2"
    assert got.headers["Content-Type"] == "text/y"
    copy = api.request("COPY", f"{container}/src", admin_token,
                       headers={"Destination": f"{target.rsplit('/', 1)[1]}/two", "X-Fresh-Metadata": "true"})
    assert copy.status_code == 201
    assert "X-Object-Meta-A" not in api.request("HEAD", f"{target}/two", admin_token).headers
    copy = api.request("COPY", f"{container}/src", admin_token, headers={"Destination": "nocontainer"})
    assert copy.status_code == 412
    assert api.request("COPY", f"{container}/missing", admin_token,
                       headers={"Destination": f"{target.rsplit('/', 1)[1]}/x"}).status_code == 404


def test_expiry(api, admin_token, container):
    # X-Delete-At is whole seconds, so "after 3 s" may be as little as 2 s away: enough
    # for the HEAD below even on a loaded machine.
    put(api, admin_token, f"{container}/soon", b"bye", **{"X-Delete-After": "3"})
    head = api.request("HEAD", f"{container}/soon", admin_token)
    assert head.status_code == 200 and int(head.headers["X-Delete-At"]) <= time.time() + 4
    time.sleep(4.1)
    assert api.request("GET", f"{container}/soon", admin_token).status_code == 404
    later = int(time.time()) + 3600
    put(api, admin_token, f"{container}/later", b"x", **{"X-Delete-At": str(later)})
    assert api.request("HEAD", f"{container}/later", admin_token).headers["X-Delete-At"] == str(later)


def test_bulk_delete(api, admin_token, acct, container):
    name = container.rsplit("/", 1)[1]
    for obj in ("a", "b c"):
        put(api, admin_token, f"{container}/{obj}", b"x")
    body = f"/{name}/a\n/{name}/b%20c\n/{name}/missing\n/{name}\n"
    response = api.request("POST", acct, admin_token, params={"bulk-delete": ""}, content=body,
                           headers={"Accept": "application/json", "Content-Type": "text/plain"})
    result = response.json()
    assert result["Number Deleted"] == 3 and result["Number Not Found"] == 1
    assert api.request("HEAD", container, admin_token).status_code == 404


def test_static_large_object(api, admin_token, container):
    name = container.rsplit("/", 1)[1]
    segs = [b"a" * 1000, b"b" * 500]
    etags = [put(api, admin_token, f"{container}/seg/{i}", s).headers["Etag"] for i, s in enumerate(segs)]
    manifest = [{"path": f"/{name}/seg/{i}", "etag": etags[i], "size_bytes": len(s)} for i, s in enumerate(segs)]
    bad = [dict(manifest[0], etag="0" * 32)]
    assert api.request("PUT", f"{container}/big", admin_token, params={"multipart-manifest": "put"},
                       content=json.dumps(bad)).status_code == 400
    assert api.request("PUT", f"{container}/big", admin_token, params={"multipart-manifest": "put"},
                       content="not json").status_code == 400
    created = api.request("PUT", f"{container}/big", admin_token, params={"multipart-manifest": "put"},
                          content=json.dumps(manifest))
    assert created.status_code == 201
    expected_etag = hashlib.md5("".join(etags).encode()).hexdigest()
    got = api.request("GET", f"{container}/big", admin_token)
    assert got.content == b"".join(segs) and got.headers["Etag"] == f'"{expected_etag}"'
    assert got.headers["X-Static-Large-Object"] == "True"
    part = api.request("GET", f"{container}/big", admin_token, headers={"Range": "bytes=995-1004"})
    assert part.content == b"a" * 5 + b"b" * 5
    raw = api.request("GET", f"{container}/big", admin_token, params={"multipart-manifest": "get"}).json()
    assert [s["name"] for s in raw] == [f"/{name}/seg/0", f"/{name}/seg/1"]
    listed = api.request("GET", container, admin_token, params={"format": "json", "prefix": "big"}).json()
    assert listed[0]["bytes"] == 1500
    deleted = api.request("DELETE", f"{container}/big", admin_token, params={"multipart-manifest": "delete"},
                          headers={"Accept": "application/json"})
    assert deleted.json()["Number Deleted"] == 3
    assert api.request("GET", container, admin_token).status_code == 204


@pytest.mark.parametrize("body", [
    pytest.param(b"[" * 100_000 + b"]" * 100_000, id="nested too deeply to decode"),
    pytest.param(b'[{"path": "/c/\\ud800"}]', id="a lone surrogate in a segment path"),
])
def test_a_manifest_no_store_can_hold_is_refused_as_not_json(api, admin_token, container, body):
    """A manifest ``json.loads`` cannot decode, or whose strings no file, database or
    header can carry, is "not valid JSON" to Swift's SLO middleware -- never a 500."""
    refused = api.request("PUT", f"{container}/big", admin_token, params={"multipart-manifest": "put"},
                          content=body)
    assert (refused.status_code, refused.text) == (400, "Manifest must be valid JSON.\n")


def test_dynamic_large_object(api, admin_token, container):
    name = container.rsplit("/", 1)[1]
    for i, part in enumerate((b"one-", b"two-", b"three")):
        put(api, admin_token, f"{container}/parts/{i:03d}", part)
    assert put(api, admin_token, f"{container}/dlo", b"", **{"X-Object-Manifest": f"{name}/parts/"}).status_code == 201
    got = api.request("GET", f"{container}/dlo", admin_token)
    assert got.content == b"one-two-three" and got.headers["X-Object-Manifest"] == f"{name}/parts/"
    assert api.request("GET", f"{container}/dlo", admin_token, headers={"Range": "bytes=4-6"}).content == b"two"
    assert put(api, admin_token, f"{container}/dlo2", b"", **{"X-Object-Manifest": "nocontainer"}).status_code == 400


def test_empty_object_metadata_is_kept_and_removal_drops_it(api, admin_token, container):
    put(api, admin_token, f"{container}/m", b"x", **{"X-Object-Meta-Blank": "", "X-Object-Meta-Gone": "1",
                                                      "X-Remove-Object-Meta-Gone": "x"})
    head = api.request("HEAD", f"{container}/m", admin_token)
    assert head.headers["X-Object-Meta-Blank"] == "" and "X-Object-Meta-Gone" not in head.headers
    api.request("POST", f"{container}/m", admin_token, headers={"X-Object-Meta-Other": ""})
    head = api.request("HEAD", f"{container}/m", admin_token)
    assert head.headers["X-Object-Meta-Other"] == "" and "X-Object-Meta-Blank" not in head.headers


def test_every_response_has_a_content_type(api, admin_token, container):
    assert put(api, admin_token, f"{container}/d", b"x").headers["Content-Type"] == "text/html; charset=UTF-8"
    deleted = api.request("DELETE", f"{container}/d", admin_token)
    assert deleted.status_code == 204 and deleted.headers["Content-Type"] == "text/html; charset=UTF-8"


def test_healthcheck(api):
    response = api.request("GET", "/object-store/healthcheck")
    assert response.status_code == 200 and response.text == "OK"
    assert re.fullmatch(r"tx[0-9a-f]{21}-[0-9a-f]{10}", response.headers["X-Trans-Id"])


def test_deleting_an_expired_object_removes_it_and_answers_404(api, admin_token, container):
    put(api, admin_token, f"{container}/old", b"12345", **{"X-Delete-After": "1"})
    wait_until = time.time() + 10
    while api.request("HEAD", f"{container}/old", admin_token).status_code != 404:
        assert time.time() < wait_until
        time.sleep(0.2)
    assert api.request("HEAD", container, admin_token).headers["X-Container-Object-Count"] == "1"
    assert api.request("DELETE", f"{container}/old", admin_token).status_code == 404
    head = api.request("HEAD", container, admin_token)
    assert head.headers["X-Container-Object-Count"] == "0" and head.headers["X-Container-Bytes-Used"] == "0"
    assert api.request("DELETE", container, admin_token).status_code == 204


def _tar(files: dict[str, bytes], mode: str = "w") -> bytes:
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode=mode) as tar:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return out.getvalue()


@pytest.mark.parametrize("fmt,mode", [("tar", "w"), ("tar.gz", "w:gz"), ("tar.bz2", "w:bz2")])
def test_extract_archive(api, admin_token, acct, fmt, mode):
    first, second = unique("x1"), unique("x2")
    body = _tar({f"{first}/a.txt": b"alpha", f"{first}/dir/b.json": b"{}", f"{second}/c": b"",
                 "toplevel": b"no container"}, mode)
    response = api.request("PUT", f"{acct}/", admin_token, params={"extract-archive": fmt}, content=body,
                           headers={"Accept": "application/json"})
    assert response.status_code == 200
    result = response.json()
    assert result["Number Files Created"] == 3 and result["Response Status"] == "400 Bad Request"
    assert [path for path, _error in result["Errors"]] == ["toplevel"]
    assert api.request("GET", f"{acct}/{first}/a.txt", admin_token).content == b"alpha"
    assert api.request("HEAD", f"{acct}/{first}/dir/b.json", admin_token).headers["Content-Type"] == \
        "application/json"
    assert api.request("GET", f"{acct}/{second}", admin_token).text.split() == ["c"]
    text = api.request("PUT", acct, admin_token, params={"extract-archive": "tar"},
                       content=_tar({f"{first}/z": b"z"}))
    assert "Number Files Created: 1" in text.text and "Response Status: 201 Created" in text.text


def test_extract_archive_bad_input(api, admin_token, acct, demo_token):
    assert api.request("PUT", acct, admin_token, params={"extract-archive": "zip"}, content=b"x").status_code == 400
    assert api.request("PUT", acct, admin_token, params={"extract-archive": "tar.gz"},
                       content=b"not a tarball").status_code == 400
    assert api.request("PUT", acct, demo_token, params={"extract-archive": "tar"},
                       content=_tar({"c/o": b"x"})).status_code == 403
    assert api.request("PUT", acct, admin_token).status_code == 405
    assert api.request("DELETE", f"{acct}/", admin_token).status_code == 405


def test_extract_archive_into_a_container_and_below_a_prefix(api, admin_token, acct):
    name = unique("xc")
    response = api.request("PUT", f"{acct}/{name}", admin_token, params={"extract-archive": "tar"},
                           content=_tar({"a": b"1", "d/b": b"22"}), headers={"Accept": "application/json"})
    assert response.status_code == 200 and response.json()["Number Files Created"] == 2
    response = api.request("PUT", f"{acct}/{name}/pre/fix", admin_token, params={"extract-archive": "tar"},
                           content=_tar({"c": b"333"}), headers={"Accept": "application/json"})
    assert response.json()["Number Files Created"] == 1
    assert api.request("GET", f"{acct}/{name}", admin_token).text.split() == ["a", "d/b", "pre/fix/c"]
    assert api.request("GET", f"{acct}/{name}/pre/fix/c", admin_token).content == b"333"
    assert api.request("PUT", f"{acct}/{name}", admin_token).status_code == 202
