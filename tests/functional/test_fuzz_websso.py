"""Fuzz WebSSO, Keystone's and the dashboard's: hostile origins, states, codes, provider
errors, pending-login cookies (real, forged, missing), form bodies and raw bytes never
make ``/v3/auth/OS-FEDERATION/…/websso`` answer 5xx or log an exception, and every error
is Keystone's JSON; ``POST /dashboard/auth/websso/`` never makes a session from a token
Keystone did not issue.

The route fuzzer of test_fuzz_bodies.py reaches these routes too, but without an
identity provider that signs browsers in; here one does (the real test provider of
tests/oidc_provider.py), so the requests get past the origin check into the round trip.
Bounded as the other fuzzers (derandomized, ``POCKETSTACK_FUZZ_EXAMPLES``, SQLite only
by default).
"""

from __future__ import annotations

import logging
import os
from urllib.parse import quote, urlsplit

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_dashboard import Browser
from test_identity_websso import AUTH, ORIGIN, begin, provider, sso  # noqa: F401 - fixtures

from pocketstack.identity.websso_flow import PENDING_COOKIE

from fuzzing.formats import check_error_format
from fuzzing.strategies import EDGE_STRINGS, RAW_ESCAPES, garbage_ids

EXAMPLES = int(os.environ.get("POCKETSTACK_FUZZ_EXAMPLES", "12")) * 5
FUZZ_BACKENDS = os.environ.get("POCKETSTACK_FUZZ_BACKENDS", "sqlite").split(",")
PARAMS = ("origin", "state", "code", "error", "error_description", "token", "SAMLResponse", "RelayState")


@pytest.fixture(autouse=True)
def fuzz_backend(backend):
    if backend not in FUZZ_BACKENDS:
        pytest.skip(f"the fuzzer runs on {','.join(FUZZ_BACKENDS)} (POCKETSTACK_FUZZ_BACKENDS)")


text = st.one_of(st.sampled_from(EDGE_STRINGS), garbage_ids, st.sampled_from(["x" * 5000, ORIGIN, ORIGIN.upper()]),
                 st.text(max_size=40))


def encode(value: str) -> str:
    return value if value in RAW_ESCAPES else quote(value.encode("utf-8", "surrogatepass"), safe="")


@st.composite
def websso_requests(draw, idp_id: str, state: str, sealed: str):
    """A method, a websso URL (real or made-up provider and protocol), a query and maybe
    a body of websso's parameters (the real pending state among the values), a cookie."""
    idp = draw(st.sampled_from([idp_id, idp_id, "no-such-idp", "%FF"]))
    protocol = draw(st.sampled_from(["openid", "openid", "mapped", "saml2", "x" * 300, "%00"]))
    path = draw(st.sampled_from([f"{AUTH}/websso/{protocol}",
                                 f"{AUTH}/identity_providers/{idp}/protocols/{protocol}/websso"]))
    value = st.one_of(text, st.just(state), st.sampled_from(RAW_ESCAPES))
    pairs = draw(st.lists(st.tuples(st.sampled_from(PARAMS), value), max_size=5))
    query = "&".join(f"{k}={encode(v)}" for k, v in pairs)
    method = draw(st.sampled_from(["GET", "POST"]))
    body, content_type = b"", None
    if method == "POST":
        form = draw(st.lists(st.tuples(st.sampled_from(PARAMS), value), max_size=4))
        body = draw(st.one_of(st.just("&".join(f"{k}={encode(v)}" for k, v in form).encode()), st.binary(max_size=64)))
        content_type = draw(st.sampled_from(["application/x-www-form-urlencoded", "application/json", None]))
    cookie = draw(st.sampled_from([sealed, sealed[:-3] + "xyz", "", "garbage", None]))
    return method, f"{path}?{query}" if query else path, body, content_type, cookie


def test_fuzz_websso(api, sso, caplog):  # noqa: F811
    r, sealed = begin(api, f"{AUTH}/websso/openid")
    state = dict(p.split("=", 1) for p in urlsplit(r.headers["location"]).query.split("&"))["state"]

    @settings(max_examples=EXAMPLES, derandomize=True, deadline=None, database=None,
              suppress_health_check=list(HealthCheck))
    @given(websso_requests(sso["id"], state, sealed))
    def run(case):
        method, url, body, content_type, cookie = case
        headers = {"Content-Type": content_type} if content_type else {}
        if cookie is not None:
            headers["Cookie"] = f"{PENDING_COOKIE}={cookie}"
        caplog.clear()
        response = api.client.request(method, url, content=body, headers=headers, follow_redirects=False)
        api.client.cookies.delete(PENDING_COOKIE)
        where = f"{method} {url} {body[:80]!r} {headers}"
        assert response.status_code < 500, f"{response.status_code} for {where}: {response.text[:300]}"
        crashed = [rec for rec in caplog.records if rec.exc_info]
        assert not crashed, f"{where} logged {crashed[0].getMessage()}"
        if response.status_code >= 400:
            check_error_format("identity", response)
        else:  # only a trusted origin is ever sent anywhere
            assert response.status_code == 302, where

    with caplog.at_level(logging.ERROR, logger="pocketstack"):
        run()


def test_fuzz_dashboard_websso(api, caplog):
    browser = Browser(api)

    @settings(max_examples=EXAMPLES, derandomize=True, deadline=None, database=None,
              suppress_health_check=list(HealthCheck))
    @given(st.one_of(text, st.binary(max_size=300).map(lambda b: b.decode("latin-1"))),
           st.sampled_from(["form", "raw", "none"]))
    def run(token, shape):
        caplog.clear()
        if shape == "form":
            response = browser.client.post("/dashboard/auth/websso/", data={"token": token})
        elif shape == "raw":
            response = browser.client.post("/dashboard/auth/websso/", content=token.encode("utf-8", "surrogatepass"),
                                           headers={"Content-Type": "application/x-www-form-urlencoded"})
        else:
            response = browser.client.post("/dashboard/auth/websso/")
        assert response.status_code in (400, 401, 403), f"{response.status_code} for {token!r}: {response.text[:300]}"
        assert not any(c.startswith("pocketstack_session=") for c in response.headers.get_list("set-cookie"))
        crashed = [rec for rec in caplog.records if rec.exc_info]
        assert not crashed, f"{token!r} logged {crashed[0].getMessage()}"

    with caplog.at_level(logging.ERROR, logger="pocketstack"):
        run()
