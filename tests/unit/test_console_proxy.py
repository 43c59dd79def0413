"""The pieces of remote consoles that are pure logic: the console URL format (Nova's
``ConsoleAuthToken.access_url``), the proxy's Origin check (Nova's websocketproxy), the
default base URL, and QEMU's ``-vnc`` argument."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest

from pocketstack.common.config import Settings
from pocketstack.compute.console_proxy import origin_allowed
from pocketstack.compute.console_tokens import access_url, new_token, token_hash
from pocketstack.compute.drivers.qemu_guest import vnc_address, vnc_display


def test_novnc_url_carries_the_token_inside_path_as_nova_does() -> None:
    base = "http://127.0.0.1:6080/vnc_lite.html"
    assert access_url(base, "novnc", "abc") == "http://127.0.0.1:6080/vnc_lite.html?path=%3Ftoken%3Dabc"
    url = access_url("https://cloud/novnc/vnc_lite.html?path=novnc%2Fwebsockify&title=x", "novnc", "t")
    assert parse_qs(urlsplit(url).query) == {"path": ["novnc/websockify?token=t"], "title": ["x"]}
    assert access_url("http://h/spice_auto.html", "spice-html5", "t") == "http://h/spice_auto.html?token=t"


def test_default_base_url_follows_public_url_and_its_path() -> None:
    assert Settings(port=8780).effective_novncproxy_base_url == \
        "http://127.0.0.1:8780/novnc/vnc_lite.html?path=novnc%2Fwebsockify"
    assert Settings(public_url="https://lb.example/cloud/").effective_novncproxy_base_url == \
        "https://lb.example/cloud/novnc/vnc_lite.html?path=cloud%2Fnovnc%2Fwebsockify"
    assert Settings(novncproxy_base_url="http://x/vnc.html").effective_novncproxy_base_url == "http://x/vnc.html"


def test_tokens_are_random_and_only_their_hash_is_kept() -> None:
    one, two = new_token(), new_token()
    assert one != two and len(one) == 36
    assert token_hash(one) == token_hash(one) != token_hash(two) and len(token_hash(one)) == 64


@pytest.mark.parametrize(("headers", "allowed", "ok"), [
    ({"host": "cloud:8780"}, [], True),  # no Origin: not a browser
    ({"host": "cloud:8780", "origin": "http://cloud:8780"}, [], True),
    ({"host": "cloud:8780", "origin": "http://cloud"}, [], True),  # the port is not compared (Nova)
    ({"host": "cloud:8780", "origin": "http://evil.example"}, [], False),
    ({"host": "cloud:8780", "origin": "http://dash.example"}, ["dash.example"], True),
    ({"host": "cloud:8780", "origin": "https://cloud:8780"}, [], False),  # the URL is http
    ({"host": "cloud:8780", "origin": "http://cloud", "x-forwarded-proto": "https"}, [], False),
    ({"host": "cloud:8780", "origin": "null"}, [], False),
    ({"host": "[::1]:8780", "origin": "http://[::1]:8780"}, [], True),
])
def test_origin_check(headers: dict, allowed: list[str], ok: bool) -> None:
    assert origin_allowed(headers, allowed, "http") is ok


def test_origin_behind_tls_terminating_proxy() -> None:
    headers = {"host": "cloud", "origin": "https://cloud", "x-forwarded-proto": "https"}
    assert origin_allowed(headers, [], "https")
    assert not origin_allowed(headers, [], "http")


def test_qemu_vnc_listens_on_the_configured_address_and_reports_its_port() -> None:
    assert vnc_display("127.0.0.1") == "127.0.0.1:0,to=99"
    assert vnc_display("::1") == "[::1]:0,to=99"
    assert vnc_address({"enabled": True, "host": "127.0.0.1", "service": "5903", "family": "ipv4"}) == \
        ("127.0.0.1", 5903)
    assert vnc_address({"enabled": False}) is None
    assert vnc_address({"enabled": True, "host": "vnc.sock", "service": "vnc.sock", "family": "unix"}) is None
