"""Glance's error bodies, negotiated on ``Accept`` exactly as webob does it.

Glance raises webob exceptions, which render as HTML, JSON or plain text depending on
which of ``text/html`` and ``application/json`` the client accepts best (HTML when it
states no preference).  The message carries webob's ``<br /><br />`` separator in
HTML and JSON; authentication failures come from keystonemiddleware in Keystone's
JSON format instead.  The ``Accept`` header reaches the formatter through a context
variable that :class:`RememberAccept` sets before routing (each request runs in its own
context), so the router's own 404s and 405s are negotiated like the handlers' errors.
"""

from __future__ import annotations

import contextvars
import json

from starlette.datastructures import Headers
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from pocketstack.common.api.errors import keystone_format
from pocketstack.common.errors import ApiError

_accept: contextvars.ContextVar[str | None] = contextvars.ContextVar("image_accept", default=None)
OFFERS = ("text/html", "application/json")


class RememberAccept:
    """ASGI middleware of the Image app: remembers the request's ``Accept`` header for
    :func:`glance_format` before the router runs."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            _accept.set(Headers(scope=scope).get("accept"))
        await self.app(scope, receive, send)


def negotiate(accept: str | None) -> str | None:
    """The offer webob would pick for ``accept``; None means plain text."""
    if accept is None:
        return OFFERS[0]
    best, best_q = None, 0.0
    for offer in OFFERS:
        quality = 0.0
        for item in accept.split(","):
            media, *params = [p.strip() for p in item.split(";")]
            if not media:
                continue
            q = 1.0
            for param in params:
                name, _, value = param.partition("=")
                if name.strip() == "q":
                    try:
                        q = float(value)
                    except ValueError:
                        q = 0.0
            kind, _, sub = media.partition("/")
            offer_kind, _, offer_sub = offer.partition("/")
            if media == "*/*" or media == offer or (kind == offer_kind and sub == "*"):
                quality = max(quality, q)
        if quality > best_q:
            best, best_q = offer, quality
    return best


def glance_format(error: ApiError) -> Response:
    if error.status == 401:
        return keystone_format(error)
    status = f"{error.status} {error.title}"
    headers = dict(error.headers)
    kind = negotiate(_accept.get())
    if kind == "application/json":
        body = json.dumps({"message": f"{error.message}<br /><br />\n\n\n", "code": status, "title": error.title})
        return Response(body, status_code=error.status, headers=headers, media_type="application/json")
    if kind == "text/html":
        html = (f"<html>\n <head>\n  <title>{status}</title>\n </head>\n <body>\n  <h1>{status}</h1>\n"
                f"  {_escape(error.message)}<br /><br />\n\n\n\n </body>\n</html>")
        return Response(html, status_code=error.status, headers=headers, media_type="text/html")
    return Response(f"{status}\n\n{error.message}\n\n   ", status_code=error.status, headers=headers,
                    media_type="text/plain")


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
