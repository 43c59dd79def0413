"""Microversion negotiation."""

from __future__ import annotations

import pytest

from pocketstack.common.api.microversions import Version, VersionRange
from pocketstack.common.errors import NotAcceptable

RANGE = VersionRange("compute", Version(2, 1), Version(2, 90), "X-OpenStack-Nova-API-Version")


@pytest.mark.parametrize("headers,expected", [
    ({}, (2, 1)),
    ({"openstack-api-version": "compute 2.47"}, (2, 47)),
    ({"openstack-api-version": "volume 3.2, compute 2.10"}, (2, 10)),
    ({"openstack-api-version": "compute latest"}, (2, 90)),
    ({"X-OpenStack-Nova-API-Version": "2.5"}, (2, 5)),
    ({"openstack-api-version": "volume 3.2"}, (2, 1)),
])
def test_negotiate(headers, expected):
    assert RANGE.negotiate(headers) == expected


@pytest.mark.parametrize("value", ["compute 2.91", "compute 1.9", "compute 2.x", "compute 2.01"])
def test_out_of_range_or_malformed_is_406(value):
    with pytest.raises(NotAcceptable):
        RANGE.negotiate({"openstack-api-version": value})


def test_comparisons_and_headers():
    v = Version.parse("2.47")
    assert v >= (2, 47) and v < (2, 48) and v > Version(2, 9)
    headers = RANGE.response_headers(v)
    assert headers["OpenStack-API-Version"] == "compute 2.47"
    assert headers["X-OpenStack-Nova-API-Version"] == "2.47"
