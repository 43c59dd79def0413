"""Glance's import filtering of web-download URIs (no lookups of names: addresses only)."""

from __future__ import annotations

import pytest

from pocketstack.common import config
from pocketstack.image.import_filter import GLANCE_DEFAULTS, ImportFilter


@pytest.mark.parametrize("uri, allowed", [
    ("http://192.0.2.1/x.qcow2", True),
    ("https://192.0.2.1:443/x", True),
    ("http://192.0.2.1:8080/x", False),       # ports 80 and 443 only, when named
    ("ftp://192.0.2.1/x", False),
    ("file:///etc/passwd", False),            # no host
    ("http://[2001:db8::1]/x", True),
    ("http://127.1/x", False),                # shorthand and numeric spellings of addresses
    ("http://2130706433/x", False),
    ("http://[::1/x", False),                 # unparsable
    ("http://192.0.2.1:99999/x", False),      # port out of range
    ("", False), (None, False), (42, False),
])
def test_glance_defaults(uri, allowed):
    assert GLANCE_DEFAULTS.allows(uri) is allowed


def test_an_allowed_list_wins_over_its_disallowed_list():
    both = ImportFilter(allowed_hosts=frozenset({"192.0.2.1"}), disallowed_hosts=frozenset({"192.0.2.1"}))
    assert both.allows("http://192.0.2.1/x") and not both.allows("http://192.0.2.2/x")
    blocked = ImportFilter(disallowed_hosts=frozenset({"2001:db8::1"}), allowed_ports=frozenset(),
                           disallowed_ports=frozenset({22}))
    assert not blocked.allows("http://[2001:0db8:0::1]/x")  # compared in normal form
    assert not blocked.allows("http://192.0.2.1:22/x") and blocked.allows("http://192.0.2.1:8080/x")


def test_from_settings():
    settings = config.load(overrides={"image_import_allowed_ports": "80, 8080",
                                      "image_import_allowed_schemes": "https"}, environ={})
    allowed = ImportFilter.from_settings(settings)
    assert allowed.allowed_ports == {80, 8080} and allowed.allowed_schemes == {"https"}
    assert not allowed.allows("http://192.0.2.1/x") and allowed.allows("https://192.0.2.1:8080/x")
