"""The noVNC proxy, served by every API process under ``/novnc/`` (Nova's nova-novncproxy).

``/novnc/websockify?token=<token>`` is the websocket noVNC opens (the console URL's
``path`` names it).  Before the websocket is accepted the token is checked
(:meth:`~pocketstack.compute.consoles.Consoles.connect_info`: one lookup of its hash, the
expiry, the instance still on its host, the host confirming the VNC port) and so is the
browser's ``Origin``, as Nova's proxy does: its host name must be the one the request was
sent to (``Host``) or one of ``console_allowed_origins``, and its scheme that of the
console URL.  A refused websocket is closed before it opens, which the server answers with
HTTP 403.  Then bytes are piped both ways, unchanged, between binary websocket messages
(subprotocol ``binary`` when the client asks for it) and the guest's VNC server: the RFB
protocol is the client's and QEMU's business.  The token may also come in a ``token``
cookie, noVNC's older convention.

Everything else under ``/novnc/`` is noVNC's own page and scripts (``vnc_lite.html``,
``vnc.html``) from ``novnc_web_dir`` (the Debian package ``novnc``); without them the
websocket works for any other client and the pages answer 404 saying what is missing.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from http.cookies import CookieError, SimpleCookie
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import BaseRoute, Mount, Route, WebSocketRoute
from starlette.staticfiles import StaticFiles
from starlette.websockets import WebSocket, WebSocketDisconnect

if TYPE_CHECKING:
    from pocketstack.common.config import Settings
    from pocketstack.compute.console_tokens import ConnectInfo
    from pocketstack.compute.consoles import Consoles

LOG = logging.getLogger(__name__)
PATH = "/novnc"
POLICY_VIOLATION = 1008  # websocket close code of a refused token or origin
CHUNK = 64 * 1024


def request_token(ws: WebSocket) -> str:
    """The token of the websocket request: ``?token=``, else a ``token`` cookie."""
    token = ws.query_params.get("token", "")
    if token or "cookie" not in ws.headers:
        return token
    cookie = SimpleCookie()
    for part in ws.headers["cookie"].split(";"):
        with contextlib.suppress(CookieError):  # a malformed cookie is skipped, never logged
            cookie.load(part.strip())
    return cookie["token"].value if "token" in cookie else ""


def origin_allowed(headers, allowed: list[str], url_scheme: str) -> bool:
    """Nova's origin check: no ``Origin`` is a non-browser client (allowed); otherwise its
    host name must be the requested host or an allowed one, and its scheme (or the
    ``X-Forwarded-Proto`` a TLS-terminating proxy sets) the console URL's."""
    origin = headers.get("origin")
    if origin is None:
        return True
    parts = urlsplit(origin)
    scheme = headers.get("x-forwarded-proto") or parts.scheme
    if not parts.hostname or not scheme:
        return False
    requested = urlsplit(f"//{headers.get('host', '')}").hostname
    if parts.hostname not in [*allowed, requested]:
        return False
    expected = {url_scheme, {"ws": "http", "wss": "https"}.get(url_scheme, url_scheme)}
    return scheme in expected


async def pipe_websocket_to(ws: WebSocket, writer: asyncio.StreamWriter) -> None:
    while True:
        message = await ws.receive()
        if message["type"] == "websocket.disconnect":
            return
        data = message.get("bytes")
        if data is None:  # a text frame: not noVNC's binary protocol
            await ws.close(code=1003)
            return
        writer.write(data)
        await writer.drain()


async def pipe_to_websocket(reader: asyncio.StreamReader, ws: WebSocket) -> None:
    while data := await reader.read(CHUNK):
        await ws.send_bytes(data)


class ConsoleProxy:
    def __init__(self, consoles: Consoles, settings: Settings):
        self.consoles = consoles
        self.allowed_origins = [o.strip() for o in settings.console_allowed_origins.split(",") if o.strip()]
        self.url_scheme = urlsplit(settings.effective_novncproxy_base_url).scheme
        self.web_dir = Path(settings.novnc_web_dir)

    def routes(self) -> list[BaseRoute]:
        if self.web_dir.is_dir():
            pages: Route | Mount = Mount("/", app=StaticFiles(directory=self.web_dir, follow_symlink=True))
        else:
            pages = Route("/{path:path}", self.no_novnc)
        return [Mount(PATH, routes=[WebSocketRoute("/websockify", self.websocket), pages])]

    async def no_novnc(self, request: Request) -> Response:
        return PlainTextResponse(f"noVNC is not installed here: {self.web_dir} does not exist (Debian package "
                                 "novnc). The console websocket at /novnc/websockify works without it.\n",
                                 status_code=404)

    async def websocket(self, ws: WebSocket) -> None:
        info = await asyncio.to_thread(self.consoles.connect_info, request_token(ws))
        if info is None:
            LOG.info("console websocket refused: invalid token")
            await ws.close(code=POLICY_VIOLATION)
            return
        if not origin_allowed(ws.headers, self.allowed_origins, self.url_scheme):
            LOG.info("console websocket of %s refused: origin %r", info.instance_uuid, ws.headers.get("origin"))
            await ws.close(code=POLICY_VIOLATION)
            return
        await self._proxy(ws, info)

    async def _proxy(self, ws: WebSocket, info: ConnectInfo) -> None:
        try:
            reader, writer = await asyncio.open_connection(info.host, info.port)
        except OSError as exc:
            LOG.warning("console of %s: cannot reach %s:%s: %s", info.instance_uuid, info.host, info.port, exc)
            await ws.close(code=1011)
            return
        subprotocol = "binary" if "binary" in ws.scope.get("subprotocols", []) else None
        await ws.accept(subprotocol=subprotocol)
        LOG.info("console of %s: proxying to %s:%s", info.instance_uuid, info.host, info.port)
        pipes = [asyncio.create_task(pipe_websocket_to(ws, writer)), asyncio.create_task(pipe_to_websocket(reader, ws))]
        try:
            await asyncio.wait(pipes, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in pipes:
                task.cancel()
            await asyncio.gather(*pipes, return_exceptions=True)
            writer.close()
            with contextlib.suppress(OSError):
                await writer.wait_closed()
            with contextlib.suppress(RuntimeError, WebSocketDisconnect):
                await ws.close()
