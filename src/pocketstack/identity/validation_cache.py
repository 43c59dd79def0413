"""Reuse token validations while nothing in Identity has changed, anywhere.

Validating a token re-reads user, scope, roles and revocations: a dozen queries.  Yet
between two changes to identity data every validation of the same token gives the same
answer.  So every committed transaction that writes an ``identity_*`` table also bumps
``identity_state.generation`` (in the same transaction), and a validation reads that
one row: if it equals the generation a cached result was computed at, the result is
still exact.  Any process sharing the database bumps the same row, so a revocation in
one API process invalidates every other process's cache at once — unlike a TTL cache,
which would keep accepting a revoked token until it expired.

Time-based facts (token and application-credential expiry) are re-checked on every hit.
"""

from __future__ import annotations

import threading
from collections import OrderedDict

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.orm import Session

from pocketstack.common.db import Database
from pocketstack.identity.models import IdentityState

_READ_GENERATION = sa.select(IdentityState.generation).where(IdentityState.id == 1)
_BUMP_GENERATION = (sa.update(IdentityState).where(IdentityState.id == 1)
                    .values(generation=IdentityState.generation + 1))
_DIRTY = "identity_dirty"


def _is_identity_table(table) -> bool:
    return getattr(table, "name", "").startswith("identity_") and table.name != IdentityState.__tablename__


class ValidationCache:
    def __init__(self, db: Database, max_entries: int = 50_000):
        self.max_entries = max_entries
        self._entries: OrderedDict[str, tuple[int, object]] = OrderedDict()
        self._catalogs: dict[tuple[int, str | None], list[dict]] = {}
        self._lock = threading.Lock()
        factory = db.session_factory
        event.listen(factory, "after_flush", self._note_flush)
        event.listen(factory, "do_orm_execute", self._note_statement)
        event.listen(factory, "before_commit", self._bump)

    # -- change tracking ---------------------------------------------------------------
    @staticmethod
    def _touches_identity(session: Session) -> bool:
        return any(_is_identity_table(getattr(obj, "__table__", None))
                   for obj in (*session.new, *session.dirty, *session.deleted))

    @classmethod
    def _note_flush(cls, session: Session, flush_context) -> None:
        if cls._touches_identity(session):
            session.info[_DIRTY] = True

    @staticmethod
    def _note_statement(state) -> None:
        if (state.is_update or state.is_delete or state.is_insert) and _is_identity_table(
                getattr(state.statement, "table", None)):
            state.session.info[_DIRTY] = True

    @classmethod
    def _bump(cls, session: Session) -> None:
        # before_commit runs before the final flush, so pending objects count too.
        if session.info.pop(_DIRTY, False) or cls._touches_identity(session):
            session.execute(_BUMP_GENERATION)

    # -- the cache ---------------------------------------------------------------------
    @staticmethod
    def generation(session: Session) -> int:
        return session.execute(_READ_GENERATION).scalar_one()

    def get(self, token: str, generation: int):
        with self._lock:
            entry = self._entries.get(token)
            if entry is None or entry[0] != generation:
                return None
            self._entries.move_to_end(token)
            return entry[1]

    def catalog(self, generation: int, project_id: str | None, build) -> list[dict]:
        """The service catalog as of ``generation`` (catalog tables are identity tables,
        so any endpoint change bumps it); ``build()`` computes it on a miss."""
        key = (generation, project_id)
        with self._lock:
            cached = self._catalogs.get(key)
        if cached is None:
            cached = build()
            with self._lock:
                if any(g != generation for g, _ in self._catalogs):
                    self._catalogs.clear()
                self._catalogs[key] = cached
        return cached

    def put(self, token: str, generation: int, value) -> None:
        with self._lock:
            self._entries[token] = (generation, value)
            self._entries.move_to_end(token)
            while len(self._entries) > self.max_entries:
                self._entries.popitem(last=False)
