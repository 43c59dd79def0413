"""Server-side login sessions, kept in the database so every API process of a
scaled-out cloud serves the same browser.

The cookie carries a random id and nothing else.  A row is found by the id's SHA-256,
and the Keystone token in it is sealed (Fernet) with a key derived from the id: reading
the table gives no way to act as its users.  A session ends at logout, when its token
expires, or after ``idle_timeout`` seconds without a request.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
import secrets
from dataclasses import dataclass

import sqlalchemy as sa
from cryptography.fernet import Fernet, InvalidToken

from pocketstack.common.db import Database
from pocketstack.common.db.base import utcnow
from pocketstack.dashboard.models import DashboardSession

# How stale ``last_seen`` may get before a request writes it again (one write a minute
# per active browser, not one per request).
TOUCH_AFTER = dt.timedelta(seconds=60)


@dataclass
class Login:
    """What a successful authentication gives the dashboard (see :mod:`.auth`)."""

    token: str
    user_id: str
    user_name: str
    domain_name: str
    project_id: str
    project_name: str
    is_admin: bool
    rescopable: bool
    expires_at: dt.datetime


@dataclass
class Session:
    """A live session as a request sees it: the cookie value, the login, the CSRF secret."""

    sid: str
    login: Login
    csrf: str
    flash: tuple[str, str] | None = None  # (level, text) left by the previous request


def _id_hash(sid: str) -> str:
    return hashlib.sha256(sid.encode()).hexdigest()


def _sealer(sid: str) -> Fernet:
    key = hashlib.sha256(b"pocketstack-dashboard-token:" + sid.encode()).digest()
    return Fernet(base64.urlsafe_b64encode(key))


def _login(row: DashboardSession, token: str) -> Login:
    return Login(token=token, user_id=row.user_id, user_name=row.user_name, domain_name=row.domain_name,
                 project_id=row.project_id, project_name=row.project_name, is_admin=row.is_admin,
                 rescopable=row.rescopable, expires_at=row.expires_at)


def _store_login(row: DashboardSession, sid: str, login: Login) -> None:
    row.user_id, row.user_name, row.domain_name = login.user_id, login.user_name, login.domain_name
    row.project_id, row.project_name = login.project_id, login.project_name
    row.is_admin, row.rescopable, row.expires_at = login.is_admin, login.rescopable, login.expires_at
    row.sealed_token = _sealer(sid).encrypt(login.token.encode()).decode()


class SessionStore:
    """Create, find, update and end sessions (blocking: call from a thread)."""

    def __init__(self, db: Database, idle_timeout: float):
        self.db = db
        self.idle = dt.timedelta(seconds=idle_timeout)

    def create(self, login: Login) -> Session:
        """A new session for ``login``; expired sessions of anyone are swept on the way."""
        sid, csrf, now = secrets.token_urlsafe(32), secrets.token_urlsafe(32), utcnow()
        with self.db.session() as s:
            s.execute(sa.delete(DashboardSession).where(
                sa.or_(DashboardSession.expires_at < now, DashboardSession.last_seen < now - self.idle)))
            row = DashboardSession(id_hash=_id_hash(sid), csrf=csrf, last_seen=now, created_at=now)
            _store_login(row, sid, login)
            s.add(row)
        return Session(sid, login, csrf)

    def load(self, sid: str) -> Session | None:
        """The live session of cookie value ``sid``, or None (unknown, expired, idle too long)."""
        now = utcnow()
        with self.db.session() as s:
            row = s.get(DashboardSession, _id_hash(sid))
            if row is None:
                return None
            if row.expires_at <= now or row.last_seen + self.idle <= now:
                s.delete(row)
                return None
            try:
                token = _sealer(sid).decrypt(row.sealed_token.encode()).decode()
            except InvalidToken:
                return None
            if now - row.last_seen > TOUCH_AFTER:
                row.last_seen = now
            flash = None
            if row.flash:
                level, text = json.loads(row.flash)
                flash = (str(level), str(text))
            return Session(sid, _login(row, token), row.csrf, flash)

    def replace_login(self, sid: str, login: Login) -> None:
        """After a project switch: the new token and scope, same session."""
        with self.db.session() as s:
            row = s.get(DashboardSession, _id_hash(sid))
            if row is not None:
                _store_login(row, sid, login)

    def flash(self, sid: str, level: str, text: str) -> None:
        """Remember a message for the next page this browser shows."""
        with self.db.session() as s:
            row = s.get(DashboardSession, _id_hash(sid))
            if row is not None:
                row.flash = json.dumps([level, text])

    def clear_flash(self, sid: str) -> None:
        """The message has been shown."""
        with self.db.session() as s:
            s.execute(sa.update(DashboardSession).where(DashboardSession.id_hash == _id_hash(sid))
                      .values(flash=None))

    def delete(self, sid: str) -> None:
        with self.db.session() as s:
            s.execute(sa.delete(DashboardSession).where(DashboardSession.id_hash == _id_hash(sid)))
