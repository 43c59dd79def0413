"""Fuzz the Swift middlewares the route fuzzer (test_fuzz_bodies.py) cannot reach, as
they are driven by headers and multipart bodies rather than JSON: quota headers on
accounts and containers, form POSTs (fields, files, boundaries, signatures right and
wrong) and static web paths.  No input may make the cloud answer 5xx or log a crash,
and every error is Swift's plain text (or HTML).  Bounded like the other fuzzers
(derandomized, ``POCKETSTACK_FUZZ_EXAMPLES``, SQLite only by default)."""

from __future__ import annotations

import hashlib
import hmac
import logging
import os
import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_object_access import project_id

from conftest import unique
from fuzzing.formats import swift
from fuzzing.strategies import EDGE_STRINGS, RAW_ESCAPES

EXAMPLES = int(os.environ.get("POCKETSTACK_FUZZ_EXAMPLES", "12")) * 5
FUZZ_BACKENDS = os.environ.get("POCKETSTACK_FUZZ_BACKENDS", "sqlite").split(",")
KEY = "fuzz-form-key"
FIELDS = ("redirect", "max_file_size", "max_file_count", "expires", "signature", "x_delete_at", "x_delete_after",
          "content-type", "content-encoding", "")
QUOTA_HEADERS = ("X-Container-Meta-Quota-Bytes", "X-Container-Meta-Quota-Count", "X-Account-Meta-Quota-Bytes",
                 "X-Account-Quota-Bytes", "X-Account-Quota-Count", "X-Remove-Account-Quota-Count",
                 "X-Account-Quota-Bytes-Policy-Policy-0", "X-Remove-Account-Meta-Quota-Bytes")
WEB_HEADERS = ("X-Container-Meta-Web-Index", "X-Container-Meta-Web-Error", "X-Container-Meta-Web-Listings",
               "X-Container-Meta-Web-Listings-CSS", "X-Container-Meta-Web-Listings-Label",
               "X-Container-Meta-Web-Directory-Type")

text = st.one_of(st.sampled_from(EDGE_STRINGS[:20]), st.sampled_from(["1", "0", "10", "-5", "1e3", "x" * 300,
                                                                       "http://x/?a=b", "index.html", "true"]),
                 st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=40))

# What an HTTP client can send in a header at all.
header_text = text.filter(lambda value: value.isascii() and value == value.strip())


@pytest.fixture(autouse=True)
def fuzz_backend(backend):
    if backend not in FUZZ_BACKENDS:
        pytest.skip(f"the fuzzer runs on {','.join(FUZZ_BACKENDS)} (POCKETSTACK_FUZZ_BACKENDS)")


@pytest.fixture
def site(api, demo_token):
    account = f"/object-store/v1/AUTH_{project_id(api, demo_token)}"
    container = f"{account}/{unique('fuzzmw')}"
    api.request("PUT", container, demo_token, headers={"X-Container-Read": ".r:*,.rlistings",
                                                       "X-Container-Meta-Temp-URL-Key": KEY})
    api.request("PUT", f"{container}/dir/index.html", demo_token, content=b"page")
    return account, container


def check(response, where: str, caplog) -> None:
    assert response.status_code < 500, f"{response.status_code} for {where}: {response.text[:300]}"
    crashed = [r for r in caplog.records if r.exc_info]
    assert not crashed, f"{where} logged {crashed[0].getMessage()}"
    if response.status_code >= 400:
        swift(response)


@st.composite
def forms(draw, path: str):
    """A multipart body: fields (some right, some garbage, some signed right), files, a boundary."""
    boundary = draw(st.sampled_from(["b", "--b--", "x" * 70, "'", " "]))
    values = {"max_file_size": draw(st.sampled_from(["100", "0", "x", ""])),
              "max_file_count": draw(st.sampled_from(["2", "0", "-1", "many"])),
              "expires": draw(st.sampled_from([str(int(time.time()) + 600), "1", "soon", ""])),
              "redirect": draw(st.sampled_from(["", "http://example.com/?a=1", "%%"]))}
    signed = "\n".join([path, values["redirect"], values["max_file_size"] or "0", values["max_file_count"] or "0",
                        values["expires"] or "0"])
    values["signature"] = draw(st.one_of(st.just(hmac.new(KEY.encode(), signed.encode(), hashlib.sha256).hexdigest()),
                                         text))
    parts = [(name, draw(st.one_of(st.just(value), text)), None)
             for name, value in values.items() if draw(st.booleans()) or name == "signature"]
    parts += [(draw(st.sampled_from(FIELDS)), draw(text), None) for _ in range(draw(st.integers(0, 2)))]
    parts += [("file", draw(st.binary(max_size=200)), draw(st.sampled_from(["a.txt", "", "../x", "dir/", "ä" * 3])))
              for _ in range(draw(st.integers(0, 3)))]
    body = b""
    for name, value, filename in parts:
        disposition = f'form-data; name="{name}"' + (f'; filename="{filename}"' if filename is not None else "")
        data = value if isinstance(value, bytes) else value.encode("utf-8", "surrogatepass")
        body += f"--{boundary}\r\nContent-Disposition: {disposition}\r\n\r\n".encode("utf-8", "surrogatepass") \
            + data + b"\r\n"
    if draw(st.booleans()):
        body += f"--{boundary}--\r\n".encode()
    return body, {"Content-Type": f"multipart/form-data; boundary={boundary}"}


def test_fuzz_form_posts(api, site, caplog):
    _account, container = site

    @settings(max_examples=EXAMPLES, derandomize=True, deadline=None, database=None,
              suppress_health_check=list(HealthCheck))
    @given(st.sampled_from(["", "/dir/", "/p"]), st.data())
    def run(suffix, data):
        body, headers = data.draw(forms(container + suffix))
        caplog.clear()
        response = api.request("POST", container + suffix, content=body, headers=headers, follow_redirects=False)
        check(response, f"form {body[:300]!r}", caplog)

    with caplog.at_level(logging.ERROR, logger="pocketstack"):
        run()


def test_fuzz_quota_and_web_headers(api, demo_token, admin_token, site, caplog):
    account, container = site
    paths = st.sampled_from(["", "/", "/dir", "/dir/", "/nothing", "/dir/index.html", "/%FF", "/a/b/c/"]) | \
        st.sampled_from(RAW_ESCAPES).map(lambda e: "/" + e)

    @settings(max_examples=EXAMPLES, derandomize=True, deadline=None, database=None,
              suppress_health_check=list(HealthCheck))
    @given(st.lists(st.tuples(st.sampled_from(QUOTA_HEADERS + WEB_HEADERS), header_text), max_size=4),
           st.sampled_from(["account", "container"]), st.booleans(), paths, st.booleans())
    def run(headers, target, as_admin, path, web_mode):
        caplog.clear()
        token = admin_token if as_admin else demo_token
        url = account if target == "account" else container
        response = api.request("POST", url, token, headers=dict(headers))
        check(response, f"POST {target} {headers!r}", caplog)
        put = api.request("PUT", f"{container}/up", demo_token, content=b"12345")
        check(put, f"PUT after {headers!r}", caplog)
        page = api.request("GET", container + path, demo_token if web_mode else None,
                           headers={"X-Web-Mode": "true"} if web_mode else {}, follow_redirects=False)
        check(page, f"GET {path} after {headers!r}", caplog)

    try:
        with caplog.at_level(logging.ERROR, logger="pocketstack"):
            run()
    finally:
        api.request("POST", account, admin_token, headers={
            "X-Remove-Account-Meta-Quota-Bytes": "x", "X-Remove-Account-Quota-Count": "x",
            "X-Remove-Account-Quota-Bytes-Policy-Policy-0": "x"})


SYMLINK_HEADERS = ("X-Symlink-Target", "X-Symlink-Target-Account", "X-Symlink-Target-Etag", "X-Container-Sync-Auth",
                   "X-Container-Sync-Key", "X-Timestamp")
SYNC_HEADERS = ("X-Container-Sync-To", "X-Container-Sync-Key")
link_text = header_text | st.sampled_from(["c/o", "/c/o", "dir/index.html", "%2F%2F", "a/b/c", "realm1 n s",
                                           "//realm1/name1/AUTH_x/c", "http://127.0.0.1/v1/a/c", "1700000000.5"])


def test_fuzz_symlink_and_sync_headers(api, demo_token, site, caplog):
    """Symlink PUTs, reads and copies, container sync targets and sync credentials."""
    _account, container = site
    name = container.rsplit("/", 1)[1]

    @settings(max_examples=EXAMPLES, derandomize=True, deadline=None, database=None,
              suppress_health_check=list(HealthCheck))
    @given(st.lists(st.tuples(st.sampled_from(SYMLINK_HEADERS), link_text), max_size=4),
           st.lists(st.tuples(st.sampled_from(SYNC_HEADERS), link_text), max_size=2),
           st.sampled_from([b"", b"body"]), st.booleans())
    def run(link_headers, sync_headers, data, with_token):
        caplog.clear()
        token = demo_token if with_token else None
        link = api.request("PUT", f"{container}/link", token, content=data, headers=dict(link_headers))
        check(link, f"PUT link {link_headers!r}", caplog)
        for suffix in ("", "?symlink=get"):
            got = api.request("GET", f"{container}/link{suffix}", demo_token)
            check(got, f"GET link{suffix} after {link_headers!r}", caplog)
        copy = api.request("COPY", f"{container}/link", demo_token, headers={"Destination": f"{name}/copy"})
        check(copy, f"COPY after {link_headers!r}", caplog)
        posted = api.request("POST", container, demo_token, headers=dict(sync_headers))
        check(posted, f"POST container {sync_headers!r}", caplog)

    with caplog.at_level(logging.ERROR, logger="pocketstack"):
        run()
