"""The request machinery every page shares: find the session, refuse forgeries, open the
user's API client, render a template, turn refusals into messages.

A page is a module-level ``async def handler(ctx: Ctx) -> Response`` wrapped by
:func:`page`; the wrapper does, in order: session lookup (or the login page), the admin
check (a 403 page for members), the CSRF check of a POST, the API client, and the
conversion of :class:`~.client.ApiError` / :class:`FormError` into a message on the page
the form came from (a POST) or an error page (a GET).
"""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import httpx
from jinja2 import Environment, PackageLoader, select_autoescape
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from pocketstack.dashboard import security
from pocketstack.dashboard.client import Api, ApiError
from pocketstack.dashboard.menu import menu
from pocketstack.dashboard.sessions import Session, SessionStore
from pocketstack.dashboard.websso import SsoSettings

if TYPE_CHECKING:
    from pocketstack.cloud import Cloud

LOG = logging.getLogger(__name__)
COOKIE = "pocketstack_session"
LOGIN_CSRF_COOKIE = "pocketstack_login_csrf"


class FormError(Exception):
    """Input the dashboard itself rejects before asking the cloud, in words."""


class NoSuchAction(FormError):
    """A form posted an ``action`` its page does not offer."""

    def __init__(self, action: str):
        super().__init__(f"There is no action {action!r}.")
        self.action = action


@dataclass
class Dashboard:
    """What every request of the dashboard shares (``app.state.dashboard``)."""

    cloud: Cloud
    prefix: str
    sessions: SessionStore
    templates: Environment = field(init=False)
    sso: SsoSettings = field(init=False)

    def __post_init__(self) -> None:
        self.sso = SsoSettings.from_settings(self.cloud.settings)
        # ``finalize``: a field the API gives as null (a snapshot, backup or image without a
        # name) shows as nothing, not as the word "None".
        self.templates = Environment(loader=PackageLoader("pocketstack.dashboard", "templates"),
                                     autoescape=select_autoescape(default=True, default_for_string=True),
                                     finalize=lambda value: "" if value is None else value)
        self.templates.globals["prefix"] = self.prefix

    @property
    def websso_origin(self) -> str:
        """Where Keystone's WebSSO posts the token (its ``origin``; Horizon's ``/auth/websso/``)."""
        return self.cloud.settings.effective_public_url + self.prefix + "/auth/websso/"

    @property
    def secure_cookies(self) -> bool:
        return self.cloud.settings.effective_public_url.startswith("https:")

    def set_session_cookie(self, response: Response, request: Request, sid: str) -> None:
        response.set_cookie(COOKIE, sid, path=self.prefix, httponly=True, samesite="lax",
                            secure=self.secure_cookies or request.url.scheme == "https")


@dataclass
class Ctx:
    """One request as a page handler sees it."""

    request: Request
    dashboard: Dashboard
    session: Session | None
    api: Api
    form: FormData | None = None

    @property
    def login(self) -> Any:
        return self.session.login if self.session else None

    def url(self, path: str) -> str:
        return self.dashboard.prefix + path

    def field(self, name: str, default: str = "") -> str:
        """A text field of the submitted form, stripped."""
        value = self.form.get(name) if self.form is not None else None
        return value.strip() if isinstance(value, str) else default

    def required(self, name: str, label: str) -> str:
        value = self.field(name)
        if not value:
            raise FormError(f"{label} is required.")
        return value

    def integer(self, name: str, label: str, minimum: int = 0, default: int | None = None) -> int:
        text = self.field(name)
        if not text and default is not None:
            return default
        try:
            value = int(text)
        except ValueError:
            raise FormError(f"{label} must be a whole number.") from None
        if value < minimum:
            raise FormError(f"{label} must be at least {minimum}.")
        return value

    async def render(self, template: str, status: int = 200, **values: Any) -> HTMLResponse:
        """A full page: the template with the menu, the project switcher and the message
        the previous request left (shown once)."""
        session = self.session
        values.setdefault("title", "")
        if session is not None:
            url = self.request.url
            values.update(login=session.login, csrf=session.csrf, menu=menu(session.login.is_admin),
                          flash=session.flash, here=url.path, back=url.path + (f"?{url.query}" if url.query else ""))
            if session.login.rescopable:
                with_projects = await self.api.get("identity", "/auth/projects")
                values["my_projects"] = sorted(with_projects["projects"], key=lambda p: p["name"])
            if session.flash is not None:
                await asyncio.to_thread(self.dashboard.sessions.clear_flash, session.sid)
        return self.fragment(template, status, **values)

    def fragment(self, template: str, status: int = 200, **values: Any) -> HTMLResponse:
        """A template alone (no session work): the pieces the page script polls."""
        values.setdefault("csrf", self.session.csrf if self.session else "")
        return HTMLResponse(self.dashboard.templates.get_template(template).render(**values), status_code=status)

    async def redirect(self, path: str, message: str | None = None, level: str = "info") -> Response:
        """303 to ``path`` (below the dashboard), with a message for the page it shows.
        The page script's uploads (XMLHttpRequest, which would follow a redirect itself
        and so show the message to nobody) get the place in ``X-Location`` instead."""
        if message and self.session is not None:
            await asyncio.to_thread(self.dashboard.sessions.flash, self.session.sid, level, message)
        if self.request.headers.get("x-requested-with") == "fetch":
            return Response(status_code=204, headers={"X-Location": self.url(path)})
        return RedirectResponse(self.url(path), status_code=303)

    def back(self) -> str:
        """Where a form came from (its ``back`` field, or the Referer), below the
        dashboard's prefix, if it is a page of the dashboard; else the overview."""
        prefix = self.dashboard.prefix
        for candidate in (self.field("back"), self.request.headers.get("referer", "")):
            parts = urlsplit(candidate)
            if parts.path.startswith(prefix + "/") and "//" not in parts.path and (
                    not parts.netloc or parts.netloc == self.request.url.netloc):
                return parts.path[len(prefix):] + (f"?{parts.query}" if parts.query else "")
        return "/overview"


Handler = Callable[[Ctx], Awaitable[Response]]


def page(admin: bool = False, login: bool = True,
         csrf: bool = True) -> Callable[[Handler], Callable[[Request], Awaitable[Response]]]:
    """Make ``handler`` an endpoint (see the module docstring for what it adds).
    ``csrf=False``: a POST that another site sends by design (Keystone's WebSSO page),
    whose handler checks what it is given with the cloud instead."""
    def wrap(handler: Handler) -> Callable[[Request], Awaitable[Response]]:
        @functools.wraps(handler)
        async def endpoint(request: Request) -> Response:
            dashboard: Dashboard = request.app.state.dashboard
            sid = request.cookies.get(COOKIE)
            session = await asyncio.to_thread(dashboard.sessions.load, sid) if sid else None
            if login and session is None:
                if request.headers.get("x-requested-with") == "fetch":
                    return Response("session ended", status_code=401)
                target = dashboard.prefix + "/login"
                return RedirectResponse(target + ("?expired=1" if sid else ""), status_code=303)
            token = session.login.token if session else None
            async with dashboard.cloud.api_client(token) as http:
                ctx = Ctx(request, dashboard, session, Api(http, session.login.project_id if session else ""))
                return await _run(handler, ctx, admin, csrf)
        return endpoint
    return wrap


Action = Callable[[Ctx], Awaitable[str]]


def form_actions(back: str, actions: dict[str, Action],
                 admin: bool = False) -> Callable[[Request], Awaitable[Response]]:
    """A form's POST endpoint: its ``action`` field picks one of ``actions`` (an unknown
    one is :class:`NoSuchAction`), which does its calls and answers the message shown on
    the page it redirects to, ``back``."""
    async def dispatch(ctx: Ctx) -> Response:
        action = ctx.required("action", "An action")
        run = actions.get(action)
        if run is None:
            raise NoSuchAction(action)
        return await ctx.redirect(back, await run(ctx))
    return page(admin=admin)(dispatch)


async def _run(handler: Handler, ctx: Ctx, admin: bool, csrf: bool = True) -> Response:
    request, session = ctx.request, ctx.session
    if admin and not (session and session.login.is_admin):
        return await _error_page(ctx, 403, "This page is for administrators of the cloud.")
    if request.method == "POST":
        ctx.form = await request.form()
        expected = session.csrf if session else request.cookies.get(LOGIN_CSRF_COOKIE)
        forged = not (security.token_matches(expected, ctx.form.get("csrf_token")) and security.same_origin(request))
        if csrf and forged:
            return await _error_page(ctx, 403, "This form has expired or did not come from this site. "
                                               "Reload the page and submit it again.")
    try:
        return await handler(ctx)
    except httpx.TransportError as error:  # scaled out: the API processes cannot be reached
        LOG.warning("dashboard: the cloud's APIs did not answer: %s", error)
        return await _error_page(ctx, 502, "The cloud's APIs did not answer; try again in a moment.")
    except (ApiError, FormError) as error:
        status, message = (error.status, error.message) if isinstance(error, ApiError) else (400, str(error))
        if status == 401 and session is not None:
            await asyncio.to_thread(ctx.dashboard.sessions.delete, session.sid)
            return RedirectResponse(ctx.url("/login?expired=1"), status_code=303)
        if request.method == "POST":
            return await ctx.redirect(ctx.back(), message, "error")
        return await _error_page(ctx, status if status < 500 else 502, message)
    finally:
        if ctx.form is not None:
            await ctx.form.close()


async def _error_page(ctx: Ctx, status: int, message: str) -> HTMLResponse:
    if ctx.request.headers.get("x-requested-with") == "fetch":
        return HTMLResponse(message, status_code=status)
    try:
        return await ctx.render("error.html", status=status, message=message, title=f"Error {status}")
    except (ApiError, httpx.TransportError):  # the menu itself could not be drawn
        return ctx.fragment("error.html", status=status, message=message, title=f"Error {status}")
