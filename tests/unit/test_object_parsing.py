"""Pure parsing rules of the object API: Range headers, ACL elements, TempURL
signatures, listing negotiation, and the timestamps every replica compares."""

from __future__ import annotations

import hashlib
import hmac
import time

import pytest
from starlette.datastructures import Headers, QueryParams

from pocketstack.common.context import RequestContext
from pocketstack.common.errors import BadRequest, NotAcceptable, Unauthorized
from pocketstack.object import timestamps
from pocketstack.object.api import acl, listing, ranges, tempurl
from pocketstack.object.api.body import Piece, cut
from pocketstack.object.errors import PreconditionFailed


@pytest.mark.parametrize("header,expected", [
    ("bytes=0-9", [(0, 10)]),
    ("bytes=-3", [(97, 100)]),
    ("bytes=95-", [(95, 100)]),
    ("bytes=90-200", [(90, 100)]),
    ("bytes=0-0,5-6", [(0, 1), (5, 7)]),
    ("bytes=100-", []),
    ("bytes=9-3", None),
    ("bytes=a-b", None),
    ("items=0-1", None),
    (None, None),
    # Digits int() cannot read -- superscripts, thousands of them -- make a header invalid (ignored).
    ("bytes=\u00b2-3", None),
    ("bytes=1-\u00b3", None),
    ("bytes=-\u00b9", None),
    pytest.param("bytes=" + "9" * 5000 + "-", None, id="bytes=<5000 digits>-"),
])
def test_ranges(header, expected):
    assert ranges.parse(header, 100) == expected


def test_cut_spans_pieces():
    pieces = [Piece("a", 0, 10), Piece("b", 5, 10)]
    assert cut(pieces, 8, 12) == [Piece("a", 8, 2), Piece("b", 5, 2)]


def test_acl_grants_and_public():
    ctx = RequestContext(user_id="u1", user_name="alice", project_id="p1", project_name="proj")
    assert acl.grants(acl.parse("p1:u1"), ctx)
    assert acl.grants(acl.parse("proj:alice"), ctx)
    assert acl.grants(acl.parse("*:*"), ctx)
    assert acl.grants(acl.parse("p1:*"), ctx)
    assert not acl.grants(acl.parse("p2:*"), ctx)
    assert not acl.grants(acl.parse("p1:u1"), None)
    items = acl.parse(".r:*,.rlistings")
    assert acl.allows_public_read(items) and acl.allows_public_listing(items)
    assert not acl.allows_public_listing(acl.parse(".r:*"))
    for bad in (".weird", "nocolon"):
        with pytest.raises(BadRequest):
            acl.parse(bad)


def test_tempurl_signatures():
    expires = int(time.time()) + 60
    path = "/v1/AUTH_a/c/o"
    sig = hmac.new(b"key", f"GET\n{expires}\n{path}".encode(), hashlib.sha1).hexdigest()
    keys = [("other", False), ("key", True)]
    assert tempurl.verify("GET", {"temp_url_sig": sig, "temp_url_expires": str(expires)}, ["/v1/AUTH_a/c/"], "o",
                          keys) == (True, expires)
    with pytest.raises(Unauthorized):
        tempurl.verify("PUT", {"temp_url_sig": sig, "temp_url_expires": str(expires)}, ["/v1/AUTH_a/c/"], "o", keys)
    iso = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(expires))
    assert tempurl.verify("GET", {"temp_url_sig": sig, "temp_url_expires": iso}, ["/v1/AUTH_a/c/"], "o",
                          [("key", False)]) == (False, expires)
    with pytest.raises(Unauthorized):
        tempurl.verify("GET", {"temp_url_sig": sig, "temp_url_expires": str(expires)}, ["/v1/AUTH_a/c/"], "o", [])


def test_listing_negotiation_and_params():
    assert listing.negotiate(QueryParams("format=json"), Headers({})) == "json"
    assert listing.negotiate(QueryParams(""), Headers({"accept": "text/xml"})) == "xml"
    assert listing.negotiate(QueryParams(""), Headers({"accept": "*/*"})) == "plain"
    assert listing.negotiate(QueryParams(""), Headers({"accept": "application/json;q=0.9, text/plain;q=0.1"})) \
        == "json"
    with pytest.raises(NotAcceptable):
        listing.negotiate(QueryParams(""), Headers({"accept": "image/png"}))
    assert listing.params(QueryParams("limit=5&reverse=true"))["reverse"] is True
    with pytest.raises(PreconditionFailed):
        listing.params(QueryParams("delimiter=ab"))
    with pytest.raises(BadRequest):
        listing.params(QueryParams("limit=%C2%B2"))  # a superscript two: a digit to str.isdigit, not to int()


def test_timestamps_sort_as_text():
    assert timestamps.normalize(1.5) == "0000000001.50000"
    assert timestamps.normalize("1700000000.123456") == "1700000000.12346"
    assert timestamps.normalize(9) < timestamps.normalize(10)
    with pytest.raises(ValueError):
        timestamps.normalize(-1)
