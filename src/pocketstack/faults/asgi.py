"""The cloud's root ASGI app, which can close a connection without answering: what a
``drop`` fault rule does (the rule raises
:class:`~pocketstack.common.faults.ConnectionDropped` from the request wrapper)."""

from __future__ import annotations

import asyncio

from starlette.applications import Starlette
from starlette.types import Receive, Scope, Send

from pocketstack.common.faults import ConnectionDropped


class DroppingApp(Starlette):
    """The cloud's root app: a request a ``drop`` rule fired for gets no response.

    Served by uvicorn, the connection's transport (the owner of the server's ``send``) is
    aborted, so the client sees the connection closed (requests and keystoneauth raise a
    ConnectionError).  ASGI has no message for this, and a server answers 500 to an app
    that fails without responding, hence the reach for the transport.  In process (no
    socket: httpx's ASGI transport, Starlette's test client) the caller gets
    ``ConnectionResetError`` instead."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await super().__call__(scope, receive, send)
        except ConnectionDropped as dropped:
            transport = getattr(getattr(send, "__self__", None), "transport", None)
            if transport is None:
                raise ConnectionResetError(f"connection dropped by fault rule {dropped}") from None
            transport.abort()
            # Let the server see the connection lost before this returns, or it would
            # try to answer 500 on it.
            await asyncio.sleep(0)
            await asyncio.sleep(0)
