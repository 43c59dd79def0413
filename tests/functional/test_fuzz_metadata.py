"""Fuzz the metadata API guests read: hostile paths, methods and proxy headers (missing,
repeated, garbage, or rightly signed for a real or a made-up instance) never make it
answer 5xx or raise, and every error is Nova's plain-text one.

It is not one of the cloud's services (no Keystone tokens, its own listener), so the
route fuzzer of test_fuzz_bodies.py does not see it; this is its own, bounded the same
way (derandomized, ``POCKETSTACK_FUZZ_EXAMPLES``, SQLite only by default).
"""

from __future__ import annotations

import logging
import os
from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from starlette.testclient import TestClient

from pocketstack.metadata import ec2, openstack, signing
from pocketstack.metadata.app import build_app

from fuzzing.strategies import EDGE_STRINGS, RAW_ESCAPES, garbage_ids
from test_compute_helpers import boot, make_flavor, make_image, new_member, wait

EXAMPLES = int(os.environ.get("POCKETSTACK_FUZZ_EXAMPLES", "12")) * 10
FUZZ_BACKENDS = os.environ.get("POCKETSTACK_FUZZ_BACKENDS", "sqlite").split(",")
SECRET = "fuzz-metadata-secret"
NAMES = ("openstack", "ec2", "latest", "meta-data", "user-data", "public-keys", "0", "openssh-key", "_name",
         "block-device-mapping", "placement", "security-groups", "content", "..", ".", "", *openstack.VERSIONS,
         openstack.META_DATA, openstack.USER_DATA, openstack.PASSWORD, openstack.NETWORK_DATA,
         openstack.VENDOR_DATA, openstack.VENDOR_DATA2, *ec2.VERSIONS)


@pytest.fixture(autouse=True)
def fuzz_backend(backend):
    if backend not in FUZZ_BACKENDS:
        pytest.skip(f"the fuzzer runs on {','.join(FUZZ_BACKENDS)} (POCKETSTACK_FUZZ_BACKENDS)")


@pytest.fixture(scope="module")
def target(api, admin_token, cloud):
    """A real server (its id and project) and a client of the metadata API."""
    owner = new_member(api, admin_token)
    server = boot(api, owner["token"], make_image(api, admin_token), make_flavor(api, admin_token)["id"],
                  user_data="aGVsbG8=", metadata={"k": "v"})["server"]["id"]
    wait(api, owner["token"], server)
    app = build_app(cloud.compute, cloud.network, SECRET, "novalocal")
    with TestClient(app, raise_server_exceptions=True) as client:
        yield client, server, owner["project"]["id"]


segment = st.one_of(st.sampled_from(NAMES), garbage_ids, st.sampled_from(EDGE_STRINGS).map(
    lambda s: quote(s.encode("utf-8", "surrogatepass"), safe="")), st.sampled_from(RAW_ESCAPES))
paths = st.lists(segment, max_size=6).map(lambda parts: "/" + "/".join(parts))
header_text = st.one_of(st.sampled_from(["", " ", "x" * 5000, "0" * 64, "None", "../..", "\t"]),
                        st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=80))
HEADERS = (signing.INSTANCE_ID, signing.TENANT_ID, signing.SIGNATURE, signing.FORWARDED_FOR)


@st.composite
def requests(draw, server: str, project: str):
    """A method, a path and headers: the proxy's right ones for the real server, for a
    made-up instance (signed right), or garbage; some left out, some repeated."""
    instance = draw(st.one_of(st.just(server), header_text))
    good = {**signing.headers(SECRET, instance, draw(st.sampled_from([project, project, "other", ""]))),
            signing.FORWARDED_FOR: draw(st.sampled_from(["10.0.0.5", "", "not an address", "1.2.3.4, 5.6.7.8"]))}
    headers: list[tuple[str, str]] = []
    for name in HEADERS:
        choice = draw(st.sampled_from(["good"] * 6 + ["garbage", "missing", "twice"]))
        if choice in ("good", "twice"):
            headers.append((name, good[name]))
        if choice in ("garbage", "twice"):
            headers.append((name, draw(header_text)))
    method = draw(st.sampled_from(["GET", "GET", "GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS"]))
    return method, draw(paths), headers


def test_fuzz_metadata_api(target, caplog):
    client, server, project = target

    @settings(max_examples=EXAMPLES, derandomize=True, deadline=None, database=None,
              suppress_health_check=list(HealthCheck))
    @given(requests(server, project))
    def run(case):
        method, path, headers = case
        caplog.clear()
        response = client.request(method, path, headers=headers)
        where = f"{method} {path} {headers!r}"
        assert response.status_code < 500, f"{response.status_code} for {where}: {response.text[:300]}"
        crashed = [r for r in caplog.records if r.exc_info]
        assert not crashed, f"{where} logged {crashed[0].getMessage()}"
        if response.status_code >= 400 and response.status_code != 405 and method != "HEAD":
            assert response.text.startswith(f"{response.status_code} "), where
            assert response.headers["content-type"].startswith("text/plain"), where

    with caplog.at_level(logging.ERROR, logger="pocketstack"):
        run()
