"""Log in (password, application credential or single sign-on), switch project, log out."""

from __future__ import annotations

import asyncio
import secrets

from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from pocketstack.dashboard import auth
from pocketstack.dashboard.sessions import Login
from pocketstack.dashboard.web import COOKIE, LOGIN_CSRF_COOKIE, Ctx, FormError, page
from pocketstack.dashboard.websso import IDENTITY_PATH


@page(login=False)
async def home(ctx: Ctx) -> Response:
    return RedirectResponse(ctx.url("/overview" if ctx.session else "/login"), status_code=303)


async def _login_page(ctx: Ctx, status: int = 200, **values: object) -> Response:
    """The login form with a fresh double-submit CSRF secret (cookie and field)."""
    token = secrets.token_urlsafe(32)
    sso = ctx.dashboard.sso
    response = ctx.fragment("login.html", status, title="Log in", csrf=token, credentials=sso.credentials,
                            choices=sso.choices, **values)
    response.set_cookie(LOGIN_CSRF_COOKIE, token, path=ctx.dashboard.prefix, httponly=True, samesite="strict",
                        secure=ctx.dashboard.secure_cookies, max_age=3600)
    return response


@page(login=False)
async def login_form(ctx: Ctx) -> Response:
    if ctx.session is not None:
        return RedirectResponse(ctx.url("/overview"), status_code=303)
    expired = "expired" in ctx.request.query_params
    return await _login_page(ctx, notice="Your session has ended; please log in again." if expired else "")


@page(login=False)
async def login(ctx: Ctx) -> Response:
    method = ctx.field("method")
    try:
        if method == "application_credential":
            done = await auth.app_credential_login(ctx.api, ctx.required("credential_id", "The credential id"),
                                                   ctx.required("secret", "The secret"))
        else:
            done = await auth.password_login(ctx.api, ctx.required("domain", "The domain"),
                                             ctx.required("user", "The user name"),
                                             ctx.required("password", "The password"))
    except (auth.LoginFailed, FormError) as error:
        return await _login_page(ctx, 401 if isinstance(error, auth.LoginFailed) else 400, error=str(error),
                                 domain=ctx.field("domain"), user=ctx.field("user"))
    return await _logged_in(ctx, done)


async def _logged_in(ctx: Ctx, done: Login) -> Response:
    session = await asyncio.to_thread(ctx.dashboard.sessions.create, done)
    response = RedirectResponse(ctx.url("/overview"), status_code=303)
    ctx.dashboard.set_session_cookie(response, ctx.request, session.sid)
    response.delete_cookie(LOGIN_CSRF_COOKIE, path=ctx.dashboard.prefix)
    return response


@page(login=False)
async def websso_start(ctx: Ctx) -> Response:
    """An "Authenticate using" choice: to Keystone's WebSSO URL for it."""
    choice = ctx.dashboard.sso.choice(ctx.request.query_params.get("auth_type", ""))
    if choice is None:
        return await _login_page(ctx, 400, error="There is no such way to authenticate.")
    identity_url = ctx.dashboard.cloud.settings.effective_public_url + IDENTITY_PATH
    return RedirectResponse(choice.keystone_url(identity_url, ctx.dashboard.websso_origin), status_code=303)


@page(login=False, csrf=False)
async def websso(ctx: Ctx) -> Response:
    """Where Keystone's WebSSO page posts the token (CSRF-exempt as Horizon's: it comes
    from Keystone's page; the token itself is what Keystone must accept)."""
    try:
        done = await auth.websso_login(ctx.api, ctx.field("token"))
    except auth.LoginFailed as error:
        return await _login_page(ctx, 401, error=str(error))
    return await _logged_in(ctx, done)


@page()
async def logout(ctx: Ctx) -> Response:
    assert ctx.session is not None
    await auth.revoke(ctx.api, ctx.session.login.token)
    await asyncio.to_thread(ctx.dashboard.sessions.delete, ctx.session.sid)
    response = RedirectResponse(ctx.url("/login"), status_code=303)
    response.delete_cookie(COOKIE, path=ctx.dashboard.prefix)
    return response


@page()
async def switch_project(ctx: Ctx) -> Response:
    session = ctx.session
    assert session is not None
    if not session.login.rescopable:
        raise FormError("An application credential works in its own project only.")
    done = await auth.rescope(ctx.api, session.login.token, ctx.required("project_id", "The project"))
    await asyncio.to_thread(ctx.dashboard.sessions.replace_login, session.sid, done)
    return await ctx.redirect("/overview", f"Now working in project {done.project_name}.")


ROUTES = [
    Route("/", home), Route("/login", login_form), Route("/login", login, methods=["POST"]),
    Route("/logout", logout, methods=["POST"]), Route("/switch", switch_project, methods=["POST"]),
    Route("/auth/websso/start", websso_start), Route("/auth/websso/", websso, methods=["POST"]),
]
