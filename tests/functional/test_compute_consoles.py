"""Remote consoles in-process: the console URL (Nova's noVNC format), the admin's
``os-console-auth-tokens`` and what the noVNC proxy refuses.

The fake hypervisor has no screen, so its console URL has no stored token behind it; the
tokens of the token API's tests are authorized directly, as a QEMU host's would be
(tests/integration/test_qemu_console.py connects through a real one).
"""

from __future__ import annotations

import dataclasses
from urllib.parse import parse_qs, urlsplit

import pytest
from starlette.applications import Starlette
from starlette.testclient import TestClient
from starlette.websockets import WebSocketDisconnect

from pocketstack.compute.console_proxy import ConsoleProxy
from pocketstack.compute.console_tokens import ConnectInfo, ConsoleTokens

from compute_fixtures import user  # noqa: F401 - fixtures
from test_compute_helpers import boot, call, make_flavor, make_image, wait, wait_gone

NOVNC_URL = "http://127.0.0.1:8780/novnc/vnc_lite.html?path=novnc%2Fwebsockify%3Ftoken%3D"


@pytest.fixture
def server(api, admin_token, user):
    image, flavor = make_image(api, admin_token), make_flavor(api, admin_token, vcpus=1, ram=64, disk=1)
    server_id = boot(api, user["token"], image, flavor["id"])["server"]["id"]
    wait(api, user["token"], server_id)
    yield server_id
    call(api, "DELETE", f"/servers/{server_id}", user["token"])
    wait_gone(api, user["token"], server_id)


def compute(api):
    return api.cloud.service("compute").compute


def authorize(api, server_id: str, ttl: int = 600) -> str:
    """A token for the server's console, as its host would have it made (port 5901)."""
    host = compute(api).instances.get(server_id).host
    info = ConnectInfo(instance_uuid=server_id, console_type="novnc", host="127.0.0.1", port=5901,
                       internal_access_path=None, compute_host=host, access_url_base=NOVNC_URL, expires=0)
    return ConsoleTokens(compute(api).db, ttl).authorize(info)


def show(api, token: str, console_token: str, version: str = "2.31"):
    return call(api, "GET", f"/os-console-auth-tokens/{console_token}", token, version=version)


def token_of(url: str) -> str:
    return parse_qs(urlsplit(parse_qs(urlsplit(url).query)["path"][0]).query)["token"][0]


def test_console_url_of_a_fake_server_has_no_token_behind_it(api, admin_token, user, server):
    r = call(api, "POST", f"/servers/{server}/remote-consoles", user["token"],
             json={"remote_console": {"protocol": "vnc", "type": "novnc"}})
    assert r.status_code == 200, r.text
    url = r.json()["remote_console"]["url"]
    assert url.startswith(NOVNC_URL)
    assert show(api, admin_token, token_of(url)).status_code == 404
    legacy = call(api, "POST", f"/servers/{server}/action", user["token"], version="2.1",
                  json={"os-getVNCConsole": {"type": "novnc"}})
    assert legacy.status_code == 200 and legacy.json()["console"]["url"].startswith(NOVNC_URL)


def test_admin_shows_a_token_others_are_refused(api, admin_token, user, server):
    token = authorize(api, server)
    r = show(api, admin_token, token)
    assert r.status_code == 200, r.text
    assert r.json() == {"console": {"instance_uuid": server, "host": "127.0.0.1", "port": 5901,
                                    "internal_access_path": None}}
    assert show(api, user["token"], token).status_code == 403
    r = show(api, admin_token, token, version="2.30")
    assert r.status_code == 400 and "badRequest" in r.json()


def test_unknown_expired_and_deleted_servers_tokens_are_404(api, admin_token, user, server):
    r = show(api, admin_token, "00000000-0000-0000-0000-000000000000")
    assert r.status_code == 404 and r.json()["itemNotFound"]["message"] == "Token not found"
    assert show(api, admin_token, authorize(api, server, ttl=0)).status_code == 404
    token = authorize(api, server)
    assert show(api, admin_token, token).status_code == 200
    call(api, "DELETE", f"/servers/{server}", user["token"])
    wait_gone(api, user["token"], server)
    assert show(api, admin_token, token).status_code == 404


def test_proxy_refuses_unknown_and_fake_servers_tokens(api, admin_token, server):
    for token in ("nope", authorize(api, server)):  # a fake host confirms no VNC server
        with pytest.raises(WebSocketDisconnect) as refused, \
                api.client.websocket_connect(f"/novnc/websockify?token={token}"):
            pass
        assert refused.value.code == 1008


def test_novnc_pages_without_the_package_are_404_with_a_reason(api):
    settings = dataclasses.replace(api.cloud.settings, novnc_web_dir="/nonexistent/novnc")
    app = Starlette(routes=ConsoleProxy(compute(api).consoles, settings).routes())
    with TestClient(app) as client:
        r = client.get("/novnc/vnc_lite.html")
    assert r.status_code == 404 and "Debian package novnc" in r.text
