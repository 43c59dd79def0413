"""AWS request signatures as /v3/ec2tokens checks them, against keystoneclient's
``Ec2Signer`` (the signer Keystone checks with, an independent implementation)."""

from __future__ import annotations

import copy
import hashlib

import pytest
from keystoneclient.contrib.ec2.utils import Ec2Signer

from pocketstack.identity.ec2_signature import SignatureError, matches, signature

SECRET = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
SCOPE = "AKID/20261206/RegionOne/ec2/aws4_request"
EMPTY = hashlib.sha256(b"").hexdigest()


def request(version=None, **more):
    params = {"Action": "DescribeInstances", "InstanceId.1": "i-1 2/ü", "Timestamp": "2026-12-06T18:00:00Z"}
    if version is not None:
        params["SignatureVersion"] = version
    return {"access": "AKID", "host": "ec2.example.org:8773", "verb": "GET", "path": "/services/Cloud",
            "params": params, "headers": {}, "body_hash": EMPTY, **more}


V4_HEADER = request(headers={"Host": "ec2.example.org", "X-Amz-Date": "20261206T180000Z",
                             "Authorization": f"AWS4-HMAC-SHA256 Credential={SCOPE}, "
                                              "SignedHeaders=host;x-amz-date, Signature=x"})
V4_QUERY = request()
V4_QUERY["params"].update({"X-Amz-Algorithm": "AWS4-HMAC-SHA256", "X-Amz-Credential": SCOPE,
                           "X-Amz-Date": "20261206T180000Z", "X-Amz-SignedHeaders": "host"})
V4_QUERY["headers"] = {"Host": "ec2.example.org"}


@pytest.mark.parametrize("req", [request("0"), request("1"), request("2"), V4_HEADER, V4_QUERY,
                                 {**V4_HEADER, "verb": "POST"}], ids=["v0", "v1", "v2", "v4-header", "v4-query",
                                                                       "v4-post"])
def test_same_signature_as_keystoneclient(req):
    expected = Ec2Signer(SECRET).generate(copy.deepcopy(req))
    assert signature(SECRET, req) == expected
    assert matches(SECRET, req, expected)
    assert not matches("other-secret", req, expected)


def test_host_signed_without_its_port_is_accepted():
    signed = Ec2Signer(SECRET).generate({**request("2"), "host": "ec2.example.org"})
    assert matches(SECRET, request("2"), signed)


@pytest.mark.parametrize("req", [request(), request("3"),
                                 {**V4_HEADER, "headers": {**V4_HEADER["headers"], "X-Amz-Date": "20200101T000000Z"}},
                                 {**V4_HEADER, "headers": {**V4_HEADER["headers"],
                                                           "Authorization": "AWS4-HMAC-SHA256 Credential=bad"}}],
                         ids=["no-version", "unknown-version", "date-mismatch", "bad-scope"])
def test_unsignable_requests(req):
    with pytest.raises(SignatureError):
        signature(SECRET, req)
