"""The guest hostname derived from a server's name, as Nova derives it (``sanitize_hostname``
and ``_populate_instance_names``): Tempest's FQDN test and tools predicting a guest's
hostname from its name depend on the exact rules."""

from __future__ import annotations

import pytest

from pocketstack.compute.instances import _hostname, sanitize_hostname


@pytest.mark.parametrize(("name", "expected"), [
    ("guest-instance-1.domain.com", "guest-instance-1-domain-com"),  # Tempest's FQDN name
    ("Web Server_2", "web-server-2"),
    ("....test.example.com...", "test-example-com"),
    ("a/b:c!d", "abcd"),  # other characters go (they are not dashed)
    ("\u7684.test.example.com", "test-example-com"),  # outside Latin-1: dropped first
    ("Caf\u00e9", "caf\u00e9"),  # Latin-1 word characters stay
    ("<}\x1fh\x10e\x08l\x02l\x05o\x12!{>", "hello"),
    ("a" * 70, "a" * 63),
    ("x" * 62 + ".y", "x" * 62),  # cut to 63 first, then the trailing dash stripped
    ("...", ""),
])
def test_sanitize_hostname_is_novas(name, expected):
    assert sanitize_hostname(name) == expected


def test_several_at_once_are_numbered_and_nothing_left_is_server_uuid():
    assert _hostname("Web.1", "u", 1, 0) == "web-1"
    assert [_hostname("Web.1", "u", 3, i) for i in range(3)] == ["web-1-1", "web-1-2", "web-1-3"]
    assert _hostname("!!!", "2f1c", 1, 0) == "Server-2f1c"
    assert _hostname("\u7684", "2f1c", 2, 1) == "Server-2f1c"  # unnumbered, as Nova
