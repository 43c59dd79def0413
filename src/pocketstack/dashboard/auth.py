"""Logging in through Keystone's own API: password, application credential or the
token of Keystone's WebSSO, then a project-scoped token; switching project by rescoping; logging out by revoking.

The dashboard never sees a password again after the login request, and holds only the
scoped token (sealed in its session row, :mod:`.sessions`)."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from pocketstack.dashboard.client import Api, ApiError
from pocketstack.dashboard.sessions import Login

# What a Keystone token id looks like (Fernet, JWS): URL-safe base64 pieces, bounded.
TOKEN_SHAPE = re.compile(r"[A-Za-z0-9_.=-]{1,4096}")


class LoginFailed(Exception):
    """Why a login did not succeed, in words the login page shows."""


def _login(body: dict[str, Any], token: str, rescopable: bool) -> Login:
    t = body["token"]
    project = t.get("project") or {}
    expires = dt.datetime.fromisoformat(t["expires_at"].replace("Z", "+00:00")).astimezone(dt.timezone.utc)
    return Login(token=token, user_id=t["user"]["id"], user_name=t["user"]["name"],
                 domain_name=t["user"]["domain"]["name"], project_id=project.get("id", ""),
                 project_name=project.get("name", ""), is_admin=any(r["name"] == "admin" for r in t.get("roles", [])),
                 rescopable=rescopable, expires_at=expires.replace(tzinfo=None))


async def _issue(api: Api, auth: dict[str, Any]) -> tuple[dict[str, Any], str]:
    response = await api.call("POST", "identity", "/auth/tokens", json={"auth": auth})
    return response.json(), response.headers["X-Subject-Token"]


async def password_login(api: Api, domain: str, user: str, password: str) -> Login:
    """Authenticate, then scope to the first project the user may work in."""
    identity = {"methods": ["password"], "password": {"user": {
        "name": user, "password": password, "domain": {"name": domain}}}}
    try:
        _body, unscoped = await _issue(api, {"identity": identity})
    except ApiError as error:
        if error.status == 401:
            raise LoginFailed("The domain, user name or password is not right.") from None
        raise LoginFailed(error.message) from None
    return await _first_project(api, unscoped)


async def _first_project(api: Api, unscoped: str) -> Login:
    """A token of the first project (by name) that ``unscoped``'s user may work in."""
    api.http.headers["X-Auth-Token"] = unscoped
    projects = sorted((await api.get("identity", "/auth/projects"))["projects"], key=lambda p: p["name"])
    if not projects:
        raise LoginFailed("You have no role on any project, so there is nothing to show.")
    try:
        return await rescope(api, unscoped, projects[0]["id"])
    except ApiError as error:
        raise LoginFailed(error.message) from None


async def websso_login(api: Api, token: str) -> Login:
    """The unscoped token Keystone's WebSSO page posted, as a password login's: it is
    anyone's to post, so it counts only once Keystone accepts it (listing its projects)."""
    if not TOKEN_SHAPE.fullmatch(token):
        raise LoginFailed("The single sign-on did not hand over a token.")
    try:
        return await _first_project(api, token)
    except ApiError as error:
        if error.status == 401:
            raise LoginFailed("The single sign-on token is not valid (or has expired); sign in again.") from None
        raise LoginFailed(error.message) from None


async def app_credential_login(api: Api, credential_id: str, secret: str) -> Login:
    """An application credential's token is scoped to its project and stays there."""
    identity = {"methods": ["application_credential"],
                "application_credential": {"id": credential_id, "secret": secret}}
    try:
        body, token = await _issue(api, {"identity": identity})
    except ApiError as error:
        if error.status == 401:
            raise LoginFailed("The application credential id or secret is not right.") from None
        raise LoginFailed(error.message) from None
    return _login(body, token, rescopable=False)


async def rescope(api: Api, token: str, project_id: str) -> Login:
    """A token for ``project_id`` from the token in hand (Keystone's "token" method)."""
    body, scoped = await _issue(api, {"identity": {"methods": ["token"], "token": {"id": token}},
                                      "scope": {"project": {"id": project_id}}})
    return _login(body, scoped, rescopable=True)


async def revoke(api: Api, token: str) -> None:
    """Logging out ends the token too, not just the session."""
    try:
        await api.call("DELETE", "identity", "/auth/tokens", headers={"X-Subject-Token": token})
    except ApiError:
        pass  # already expired or revoked: the session ends either way
