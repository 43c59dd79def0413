"""Fault rules in the database, so that every process of a scaled-out cloud (the API
servers and the workers that run asynchronous operations) sees the same rules, and a
rule's ``count`` is shared by all of them.

``faults_generation`` is one row whose counter every change to the rules bumps: a
process compares it with the generation its in-memory copy was read at, which is the
whole per-check cost of staying current.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from pocketstack.common.db.base import Base, JSONText, utcnow


class FaultRule(Base):
    __tablename__ = "faults_rule"

    id: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    # The rule's JSON form (rules.Rule.as_dict()): new fields need no migration.
    spec: Mapped[dict[str, Any]] = mapped_column(JSONText)
    # Injections left (None: no limit); taken one at a time by an atomic decrement.
    remaining: Mapped[int | None] = mapped_column(sa.Integer, nullable=True)
    fired: Mapped[int] = mapped_column(sa.Integer, default=0)
    # The generation its addition made: orders the rules, and tells a rule removed and
    # added again (same id, same fields) from the one before it.
    revision: Mapped[int] = mapped_column(sa.Integer)
    created_at: Mapped[dt.datetime] = mapped_column(sa.DateTime, default=utcnow)


class FaultGeneration(Base):
    __tablename__ = "faults_generation"
    # The row a database created from the models starts with, as migration 3f6a1c9d2b70
    # inserts it (common/db/migrate.py).
    __table_args__ = {"info": {"initial_rows": lambda: [{"id": 1, "generation": 0}]}}

    id: Mapped[int] = mapped_column(sa.Integer, primary_key=True, autoincrement=False)
    generation: Mapped[int] = mapped_column(sa.Integer, default=0)
