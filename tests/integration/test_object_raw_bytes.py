"""Header bytes that are not UTF-8 (or not ASCII), sent to a real ``pocketstack up``
(the in-process test client re-encodes header values, so these need a real server):
refused where Swift refuses them, kept byte for byte where Swift keeps them."""

from __future__ import annotations

import uuid

import httpx
import pytest

from cloudproc import ADMIN_PASSWORD, running_cloud


@pytest.fixture(scope="module")
def storage(tmp_path_factory):
    """``(client with the admin token, container url)``."""
    with running_cloud(tmp_path_factory.mktemp("rawbytes")) as cloud:
        auth = httpx.post(cloud.url + "/identity/v3/auth/tokens", timeout=30, json={"auth": {
            "identity": {"methods": ["password"], "password": {"user": {
                "name": "admin", "domain": {"id": "default"}, "password": ADMIN_PASSWORD}}},
            "scope": {"project": {"name": "admin", "domain": {"id": "default"}}}}})
        assert auth.status_code == 201, auth.text
        container = f"{cloud.url}/object-store/v1/AUTH_{auth.json()['token']['project']['id']}/raw-{uuid.uuid4().hex}"
        with httpx.Client(headers={"X-Auth-Token": auth.headers["X-Subject-Token"]}, timeout=30) as client:
            assert client.put(container).status_code == 201
            yield client, container


def _raw_header(response: httpx.Response, name: bytes) -> bytes:
    return next(value for key, value in response.headers.raw if key.lower() == name.lower())


def test_a_content_type_must_be_utf8(storage):
    client, container = storage
    refused = client.put(f"{container}/latin1", content=b"x", headers={"Content-Type": b"text/plain; name=\xe9"})
    assert (refused.status_code, refused.text) == (400, "Invalid Content-Type")
    utf8 = "text/plain; name=\u00e9t\u00e9".encode()
    assert client.put(f"{container}/utf8", content=b"x", headers={"Content-Type": utf8}).status_code == 201
    assert _raw_header(client.head(f"{container}/utf8"), b"Content-Type") == utf8
    listed = client.get(container, params={"format": "json"}).json()
    assert [row["content_type"] for row in listed if row["name"] == "utf8"] == [utf8.decode()]


def test_container_metadata_must_be_utf8_object_metadata_need_not(storage):
    client, container = storage
    refused = client.post(container, headers={"X-Container-Meta-Note": b"\xff\xfe"})
    assert (refused.status_code, refused.text) == (400, "Metadata must be valid UTF-8")
    assert client.put(f"{container}/binary", content=b"x", headers={"X-Object-Meta-Note": b"\xff\xfe"}).status_code \
        == 201
    assert _raw_header(client.head(f"{container}/binary"), b"X-Object-Meta-Note") == b"\xff\xfe"


def test_digits_int_cannot_read_are_no_numbers(storage):
    client, container = storage
    assert client.put(f"{container}/digits", content=b"0123456789").status_code == 201
    whole = client.get(f"{container}/digits", headers={"Range": b"bytes=\xb2-3"})  # a superscript two
    assert (whole.status_code, whole.content) == (200, b"0123456789")
    refused = client.put(f"{container}/digits", content=b"x", headers={"X-Delete-At": b"\xb2"})
    assert (refused.status_code, refused.text) == (400, "Non-integer X-Delete-At")
    assert client.get(container, params={"limit": "\u00b2"}).status_code == 400
