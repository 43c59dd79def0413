"""Swift's formpost and crossdomain middlewares, and what /info says of the middlewares."""

from __future__ import annotations

import hashlib
import hmac
import time

import pytest
from test_object_access import project_id

from conftest import unique

BOUNDARY = "--pocketstack-form--"


def form(path, key, *, files=(("file1", "hello.txt", b"hello world"),), redirect="", max_file_size=1024,
         max_file_count=10, expires=None, digest=hashlib.sha256, extra=()):
    expires = int(time.time()) + 600 if expires is None else expires
    signed = f"{path}\n{redirect}\n{max_file_size}\n{max_file_count}\n{expires}".encode()
    signature = hmac.new(key.encode(), signed, digest).hexdigest()
    fields = [("redirect", redirect), ("max_file_size", str(max_file_size)),
              ("max_file_count", str(max_file_count)), ("expires", str(expires)), ("signature", signature),
              *extra]
    parts = [f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode()
             for name, value in fields]
    for name, filename, data in files:
        parts.append(f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{name}"; filename="{filename}"\r\n'
                     f'Content-Type: text/plain\r\n\r\n'.encode() + data + b"\r\n")
    body = b"".join(parts) + f"--{BOUNDARY}--\r\n".encode()
    return body, {"Content-Type": f"multipart/form-data; boundary={BOUNDARY}"}


@pytest.fixture
def keyed_container(api, demo_token):
    account = f"/object-store/v1/AUTH_{project_id(api, demo_token)}"
    container = f"{account}/{unique('form')}"
    assert api.request("PUT", container, demo_token).status_code == 201
    key = unique("key")
    api.request("POST", container, demo_token, headers={"X-Container-Meta-Temp-URL-Key": key})
    return container, key


def test_form_uploads_without_a_token(api, demo_token, keyed_container):
    container, key = keyed_container
    # Signed with the mount prefix (as Tempest signs) into the container itself...
    body, headers = form(container, key, files=(("f1", "a.txt", b"one"), ("f2", "b.txt", b"two")))
    answer = api.request("POST", container, content=body, headers=headers)
    assert (answer.status_code, answer.text) == (201, "201 Created")
    assert api.request("GET", f"{container}/a.txt", demo_token).content == b"one"
    got = api.request("GET", f"{container}/b.txt", demo_token)
    assert got.content == b"two" and got.headers["Content-Type"] == "text/plain"
    # ...or, signed without it, below an object prefix, with expiry and a redirect.
    path = container.removeprefix("/object-store") + "/up/"
    body, headers = form(path, key, redirect="https://example.com/done?x=1", digest=hashlib.sha1,
                         extra=(("x_delete_after", "600"),))
    answer = api.request("POST", f"{container}/up/", content=body, headers=headers, follow_redirects=False)
    assert answer.status_code == 303
    assert answer.headers["Location"] == "https://example.com/done?x=1&status=201&message="
    assert "X-Delete-At" in api.request("HEAD", f"{container}/up/hello.txt", demo_token).headers


def test_form_refusals(api, demo_token, keyed_container):
    container, key = keyed_container
    body, headers = form(container, "wrong")
    answer = api.request("POST", container, content=body, headers=headers)
    assert (answer.status_code, answer.text) == (401, "FormPost: Invalid Signature")
    body, headers = form(container, key, expires=int(time.time()) - 10)
    answer = api.request("POST", container, content=body, headers=headers)
    assert (answer.status_code, answer.text) == (401, "FormPost: Form Expired")
    body, headers = form(container, key, max_file_size=3)
    answer = api.request("POST", container, content=body, headers=headers)
    assert (answer.status_code, answer.text) == (400, "FormPost: max_file_size exceeded")
    body, headers = form(container, key, max_file_count=1, files=(("f1", "a", b"1"), ("f2", "b", b"2")))
    answer = api.request("POST", container, content=body, headers=headers)
    assert (answer.status_code, answer.text) == (400, "400 Bad Request\r\nFormPost: Max File Count Exceeded")
    body, headers = form(container, key, files=())
    answer = api.request("POST", container, content=body, headers=headers)
    assert (answer.status_code, answer.text) == (400, "400 Bad Request\r\nFormPost: No Files To Process")
    body, headers = form(container, key, extra=(("x_delete_at", "soon"),))
    answer = api.request("POST", container, content=body, headers=headers)
    assert (answer.status_code, answer.text) == (
        400, "FormPost: x_delete_at not an integer: Unix timestamp required.")
    # A form is held to the container's quota.
    api.request("POST", container, demo_token, headers={"X-Container-Meta-Quota-Count": "0"})
    body, headers = form(container, key)
    answer = api.request("POST", container, content=body, headers=headers)
    assert (answer.status_code, answer.text) == (413, "Upload exceeds quota.")
    # Only the first file of the form that had one file too many was stored.
    assert api.request("GET", container, demo_token).text == "a\n"


def test_a_key_signs_only_its_own_container(api, demo_token, admin_token, keyed_container):
    """Another project's container stays closed to a form signed with this one's key."""
    container, key = keyed_container
    other = f"/object-store/v1/AUTH_{project_id(api, admin_token)}/{unique('other')}"
    assert api.request("PUT", other, admin_token).status_code == 201
    body, headers = form(other, key)
    answer = api.request("POST", other, content=body, headers=headers)
    assert answer.status_code == 401
    assert api.request("GET", other, admin_token).status_code == 204


def test_crossdomain_and_info(api):
    answer = api.request("GET", "/object-store/crossdomain.xml")
    assert answer.status_code == 200
    assert answer.headers["Content-Type"] == "application/xml"
    assert answer.text == ('<?xml version="1.0"?>\n<!DOCTYPE cross-domain-policy SYSTEM '
                           '"http://www.adobe.com/xml/dtds/cross-domain-policy.dtd" >\n<cross-domain-policy>\n'
                           '<allow-access-from domain="*" secure="false" />\n</cross-domain-policy>')
    info = api.request("GET", "/object-store/info").json()
    assert info["container_quotas"] == {} and info["account_quotas"] == {} and info["crossdomain"] == {}
    assert info["formpost"] == {"allowed_digests": ["sha1", "sha256", "sha512"], "deprecated_digests": ["sha1"]}
