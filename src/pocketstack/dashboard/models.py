"""The dashboard's one table: server-side login sessions.

The browser holds only a random session id (the cookie).  The row is keyed by the id's
SHA-256 and the user's Keystone token is stored sealed with a key derived from the id,
so the table alone (a backup, a stolen dump) yields neither a usable cookie nor a token.
"""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.dialects import mysql
from sqlalchemy.orm import Mapped, mapped_column

from pocketstack.common.db.base import Base, utcnow

TIMESTAMP = sa.DateTime().with_variant(mysql.DATETIME(fsp=6), "mysql", "mariadb")


class DashboardSession(Base):
    """One logged-in browser: who, which project, the sealed token, its CSRF secret, the
    one-shot message to show on the next page, and until when it is valid."""

    __tablename__ = "dashboard_session"

    id_hash: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    user_id: Mapped[str] = mapped_column(sa.String(64))
    user_name: Mapped[str] = mapped_column(sa.String(255))
    domain_name: Mapped[str] = mapped_column(sa.String(255))
    project_id: Mapped[str] = mapped_column(sa.String(64))
    project_name: Mapped[str] = mapped_column(sa.String(255))
    is_admin: Mapped[bool] = mapped_column(sa.Boolean, default=False)
    # Application-credential tokens cannot be rescoped to another project.
    rescopable: Mapped[bool] = mapped_column(sa.Boolean, default=True)
    sealed_token: Mapped[str] = mapped_column(sa.Text)
    csrf: Mapped[str] = mapped_column(sa.String(64))
    flash: Mapped[str | None] = mapped_column(sa.Text, nullable=True)
    expires_at: Mapped[dt.datetime] = mapped_column(TIMESTAMP, index=True)
    last_seen: Mapped[dt.datetime] = mapped_column(TIMESTAMP, default=utcnow)
    created_at: Mapped[dt.datetime] = mapped_column(TIMESTAMP, default=utcnow)
