"""What every dashboard response carries and every form submission must prove.

- Headers: a strict Content-Security-Policy (scripts and styles only from the
  dashboard's own static files: no inline script, no eval; frames only from this site,
  and on the console page the console's origin), no framing, no MIME
  sniffing, no referrer leaving the site, and no caching of pages.
- CSRF: a form is accepted only with the session's secret in its ``csrf_token`` field
  *and* an ``Origin`` (or, without one, ``Referer``) naming this site.  The login form,
  before any session exists, uses the same secret in a short-lived cookie (double submit).
"""

from __future__ import annotations

import hmac
from urllib.parse import urlsplit

from starlette.datastructures import MutableHeaders
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
       "form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'")


def csp_framing(origin: str) -> str:
    """:data:`CSP` letting one page frame ``origin`` too (the instance console: noVNC,
    which the compute API may serve from another origin than the dashboard)."""
    return f"{CSP}; frame-src 'self' {origin}"


HEADERS = {"Content-Security-Policy": CSP, "X-Frame-Options": "DENY", "X-Content-Type-Options": "nosniff",
           "Referrer-Policy": "same-origin", "Cross-Origin-Opener-Policy": "same-origin"}


class SecurityHeaders:
    """ASGI middleware adding :data:`HEADERS` to every response of the dashboard, and
    ``Cache-Control: no-store`` to everything but its static files."""

    def __init__(self, app: ASGIApp, static_prefix: str):
        self.app = app
        self.static_prefix = static_prefix

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        static = scope["path"].startswith(self.static_prefix)

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in HEADERS.items():
                    headers.setdefault(name, value)
                if not static:
                    headers.setdefault("Cache-Control", "no-store")
            await send(message)

        await self.app(scope, receive, send_with_headers)


def same_origin(request: Request) -> bool:
    """The submission names this site as its origin (browsers send ``Origin`` on POST;
    ``Referer`` is the fallback).  A request naming neither is refused too."""
    source = request.headers.get("origin") or request.headers.get("referer")
    if not source or source == "null":
        return False
    parts = urlsplit(source)
    return (parts.scheme, parts.netloc) == (request.url.scheme, request.url.netloc)


def token_matches(expected: str | None, given: object) -> bool:
    return bool(expected) and isinstance(given, str) and hmac.compare_digest(expected or "", given)
