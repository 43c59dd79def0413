"""A real guest's VNC console through the noVNC proxy pocketstack serves.

``pocketstack up --hypervisor qemu`` (TCG: nested KVM may crash guests) boots a guest from
a one-sector disk (test_qemu_driver's boot sector: SeaBIOS's text on the VGA screen, then
a halt).  The console URL comes from ``openstack console url show --novnc``; the test is
the browser: it opens the websocket the URL names with the ``websockets`` library and
speaks RFB 3.8 through it to QEMU's VNC server: the version, security type None, a
ServerInit whose framebuffer is the VGA text mode's 720x400, and a full
FramebufferUpdate of raw pixels with SeaBIOS's text in them.  Refused: an unknown token,
an expired one, a wrong Origin, a token of a deleted server.  ``openstack console
connection show`` (the admin's os-console-auth-tokens) reports the token's VNC address;
``/novnc/vnc_lite.html`` is noVNC's page.
"""

from __future__ import annotations

import hashlib
import sqlite3
import struct
import time
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from test_qemu_driver import TOOLS, boot_sector
from websockets.exceptions import InvalidStatus
from websockets.sync.client import ClientConnection, connect

from cloudproc import eventually, running_cloud
from support import IN_CI, require_tools

pytestmark = pytest.mark.timeout(600)
NOVNC_PAGE = Path("/usr/share/novnc/vnc_lite.html")
VGA_TEXT_MODE = (720, 400)  # 80x25 characters of 9x16 pixels


class Rfb:
    """The client side of RFB over a websocket: reads exact byte counts across messages."""

    def __init__(self, ws: ClientConnection):
        self.ws = ws
        self.buffer = b""

    def read(self, n: int) -> bytes:
        while len(self.buffer) < n:
            message = self.ws.recv(timeout=30)
            assert isinstance(message, bytes), f"a text frame from the proxy: {message!r}"
            self.buffer += message
        data, self.buffer = self.buffer[:n], self.buffer[n:]
        return data

    def send(self, data: bytes) -> None:
        self.ws.send(data)

    def handshake(self) -> tuple[int, int, int, str]:
        """Version 3.8, security None, ClientInit; the ServerInit's (width, height,
        bits per pixel, desktop name)."""
        assert self.read(12) == b"RFB 003.008\n"
        self.send(b"RFB 003.008\n")
        (count,) = struct.unpack("!B", self.read(1))
        types = self.read(count)
        assert 1 in types, f"security None not offered: {list(types)}"
        self.send(b"\x01")
        assert struct.unpack("!I", self.read(4)) == (0,), "security result not OK"
        self.send(b"\x01")  # ClientInit: shared
        width, height = struct.unpack("!HH", self.read(4))
        pixel_format = self.read(16)
        (name_length,) = struct.unpack("!I", self.read(4))
        return width, height, pixel_format[0], self.read(name_length).decode()

    def framebuffer(self, width: int, height: int, bpp: int) -> bytes:
        """The whole screen: FramebufferUpdateRequest (not incremental), raw rectangles."""
        self.send(struct.pack("!BBHHHH", 3, 0, 0, 0, width, height))
        kind, _, rects = struct.unpack("!BBH", self.read(4))
        assert kind == 0, f"server message {kind}, not a FramebufferUpdate"
        pixels = b""
        for _ in range(rects):
            x, y, w, h, encoding = struct.unpack("!HHHHi", self.read(12))
            assert encoding == 0, f"encoding {encoding}: raw was the only one offered"
            pixels += self.read(w * h * bpp // 8)
        return pixels


def websocket_url(cloud_url: str, console_url: str) -> tuple[str, str]:
    """The websocket noVNC would open for ``console_url`` (its ``path`` relative to the
    server's root), and the token in it."""
    path = parse_qs(urlsplit(console_url).query)["path"][0]
    ws = "ws://" + urlsplit(cloud_url).netloc + "/" + path
    return ws, parse_qs(urlsplit(ws).query)["token"][0]


def refused(url: str, **kw) -> int:
    with pytest.raises(InvalidStatus) as caught, connect(url, open_timeout=30, **kw):
        pass
    return caught.value.response.status_code


def expire(data_dir: Path, token: str) -> None:
    """Make the token's authorization expire, as time would (the cloud's SQLite database)."""
    with sqlite3.connect(data_dir / "pocketstack.db") as db:
        changed = db.execute("UPDATE compute_console_auth_token SET expires = ? WHERE token_hash = ?",
                             (int(time.time()) - 1, hashlib.sha256(token.encode()).hexdigest())).rowcount
    assert changed == 1


def test_novnc_console_of_a_real_guest(tmp_path):
    require_tools(TOOLS, "the QEMU driver")
    image = tmp_path / "boot.raw"
    image.write_bytes(boot_sector().ljust(1 << 20, b"\0"))
    env = {"POCKETSTACK_QEMU_ACCEL": "tcg"}
    with running_cloud(tmp_path, "--hypervisor", "qemu", env=env) as cloud:
        cloud.openstack("image", "create", "boot", "--disk-format", "raw", "--container-format", "bare",
                        "--file", str(image), "--public", "-f", "json")
        cloud.openstack("flavor", "create", "mini", "--vcpus", "1", "--ram", "64", "--disk", "1", "-f", "json")
        server = cloud.openstack("server", "create", "--nic", "none", "--flavor", "mini", "--image", "boot",
                                 "--wait", "vm1", "-f", "json", timeout=180)
        assert server["status"] == "ACTIVE"
        server_id = server["id"]
        # SeaBIOS has drawn its text and handed over to the boot sector, which says so on serial.
        eventually(lambda: "pocketstack-guest-ok" in cloud.openstack(
            "console", "log", "show", server_id, parse=False).stdout, timeout=120, interval=1)

        console = cloud.openstack("console", "url", "show", "--novnc", server_id, "-f", "json")
        assert console["type"] == "novnc"
        assert console["url"].startswith(f"{cloud.url}/novnc/vnc_lite.html?path=novnc%2Fwebsockify%3Ftoken%3D")
        url, token = websocket_url(cloud.url, console["url"])

        # The admin's view of the token: QEMU's VNC server on the loopback, port 5900+.
        connection = cloud.openstack("console", "connection", "show", token, "-f", "json")
        assert connection["instance_uuid"] == server_id
        assert connection["host"] == "127.0.0.1" and 5900 <= connection["port"] < 6000
        assert cloud.openstack("console", "connection", "show", token, cloud="pocketstack-demo",
                               check=False).returncode != 0  # admin only

        # The browser's way in: Origin of the page's own host, subprotocol binary.
        with connect(url, origin=cloud.url, subprotocols=["binary"], open_timeout=30, max_size=None) as ws:
            assert ws.subprotocol == "binary"
            rfb = Rfb(ws)
            width, height, bpp, name = rfb.handshake()
            assert (width, height) == VGA_TEXT_MODE, (width, height)
            assert server_id in name, name  # QEMU names the desktop after -name guest=<id>
            pixels = rfb.framebuffer(width, height, bpp)
            assert len(pixels) == width * height * bpp // 8
            assert pixels.count(0) < len(pixels), "a black screen: SeaBIOS's text is missing"

        # A token is good for more than one connection until it expires (Nova's too).
        with connect(url, open_timeout=30, max_size=None) as ws:
            assert Rfb(ws).read(12) == b"RFB 003.008\n"

        base = url.split("?")[0]
        assert refused(base + "?token=not-a-token") == 403
        assert refused(base) == 403
        assert refused(url, origin="http://evil.example") == 403
        assert refused(url, origin="https://127.0.0.1") == 403  # the scheme of the URL is http
        expire(cloud.data_dir, token)
        assert refused(url) == 403
        gone = cloud.openstack("console", "connection", "show", token, check=False)
        assert gone.returncode != 0

        # noVNC's page, from the Debian package.
        page = httpx.get(f"{cloud.url}/novnc/vnc_lite.html", timeout=30)
        if NOVNC_PAGE.exists():
            assert page.status_code == 200 and "noVNC" in page.text
        elif IN_CI:
            pytest.fail("the Debian package novnc is missing (.ci/run installs it)")
        else:
            assert page.status_code == 404 and "novnc" in page.text

        # A deleted server's token opens nothing.
        fresh = cloud.openstack("console", "url", "show", "--novnc", server_id, "-f", "json")["url"]
        url, token = websocket_url(cloud.url, fresh)
        cloud.openstack("server", "delete", "--wait", server_id, timeout=120)
        assert refused(url) == 403
