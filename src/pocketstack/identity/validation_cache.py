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

What a hit costs is kept small, as validation runs twice for most requests (the caller's
token, then a subject token): the generation is read with one statement on a pooled
driver connection, outside any ORM session, and at most once per API request (a request
is served as of the generation it first read, unless it bumps the generation itself;
common/request_memo.py);
the JSON of a validated token and of each catalog is kept beside the result, under the
same generation, so a validation answered from the cache is neither re-rendered nor
re-encoded.
"""

from __future__ import annotations

import json
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.orm import Session

from pocketstack.common import request_memo
from pocketstack.common.db import Database
from pocketstack.identity.models import IdentityState

_READ_GENERATION = sa.select(IdentityState.generation).where(IdentityState.id == 1)
_BUMP_GENERATION = (sa.update(IdentityState).where(IdentityState.id == 1)
                    .values(generation=IdentityState.generation + 1))
# The same read as a driver statement (no parameters, so every paramstyle takes it).
_READ_GENERATION_SQL = f"SELECT generation FROM {IdentityState.__tablename__} WHERE id = 1"
_DIRTY = "identity_dirty"
# Key of the request memo (common/request_memo.py): (cache, the generation it first read).
_GENERATION_MEMO = "identity_generation"


def _is_identity_table(table) -> bool:
    return getattr(table, "name", "").startswith("identity_") and table.name != IdentityState.__tablename__


class ValidationCache:
    def __init__(self, db: Database, max_entries: int = 50_000, max_rendered: int = 10_000):
        self.max_entries = max_entries
        self.max_rendered = max_rendered
        self._engine = db.engine
        self._entries: OrderedDict[str, tuple[int, object]] = OrderedDict()
        # A validated token's JSON without its catalog (pieces around it, see auth.py).
        self._rendered: OrderedDict[tuple[str, bool], tuple[int, tuple[bytes, ...]]] = OrderedDict()
        self._catalogs: dict[tuple[int, str | None], tuple[list[dict], bytes]] = {}
        # Facts read from identity tables (``as_of``: a token's roles, its scope by name,
        # the service providers ...), all of one generation.
        self._facts: dict[Hashable, object] = {}
        self._facts_generation = -1
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
            # This request changed identity data: what it validates next sees the change.
            memo = request_memo.current()
            if memo is not None:
                memo.forget(_GENERATION_MEMO)

    # -- the cache ---------------------------------------------------------------------
    @staticmethod
    def generation(session: Session) -> int:
        return session.execute(_READ_GENERATION).scalar_one()

    def current(self) -> int:
        """The generation now: one statement on a pooled driver connection (autocommit
        on SQLite, a fresh transaction on the servers: the last committed value), read
        once per API request (its memo) and reused by the request's later validations."""
        memo = request_memo.current()
        seen = memo.get(_GENERATION_MEMO) if memo is not None else None
        if seen is not None and seen[0] is self:
            return seen[1]
        connection = self._engine.raw_connection()
        try:
            cursor = connection.cursor()
            try:
                cursor.execute(_READ_GENERATION_SQL)
                row = cursor.fetchone()
                assert row is not None  # the row is created with the table
                generation = int(row[0])
            finally:
                cursor.close()
        finally:
            connection.close()
        if memo is not None:
            memo.set(_GENERATION_MEMO, (self, generation))
        return generation

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
        return self._catalog(generation, project_id, build)[0]

    def catalog_json(self, generation: int, project_id: str | None, build) -> bytes:
        """The same catalog, as JSON."""
        return self._catalog(generation, project_id, build)[1]

    def _catalog(self, generation: int, project_id: str | None, build) -> tuple[list[dict], bytes]:
        key = (generation, project_id)
        with self._lock:
            cached = self._catalogs.get(key)
        if cached is None:
            catalog = build()
            cached = (catalog, json.dumps(catalog).encode())
            with self._lock:
                if any(g != generation for g, _ in self._catalogs):
                    self._catalogs.clear()
                self._catalogs[key] = cached
        return cached

    def as_of(self, generation: int, key: Hashable, build: Callable[[], object]) -> object:
        """A fact that only identity tables decide (``key`` names it), as of ``generation``;
        ``build()`` reads it on a miss (an exception is not kept).  A new token of a known
        user and scope -- every token issue -- then skips the queries that find its roles
        and its scope.  The value is shared: callers only read it."""
        with self._lock:
            if self._facts_generation == generation and key in self._facts:
                return self._facts[key]
        value = build()
        with self._lock:
            if self._facts_generation != generation or len(self._facts) >= self.max_rendered:
                self._facts, self._facts_generation = {}, generation
            self._facts[key] = value
        return value

    def rendered(self, token: str, catalog: bool, generation: int,
                 render: Callable[[], tuple[bytes, ...]]) -> tuple[bytes, ...]:
        """The JSON of ``token``'s validation as of ``generation`` (``render()`` on a miss)."""
        key = (token, catalog)
        with self._lock:
            entry = self._rendered.get(key)
            if entry is not None and entry[0] == generation:
                self._rendered.move_to_end(key)
                return entry[1]
        pieces = render()
        with self._lock:
            self._rendered[key] = (generation, pieces)
            self._rendered.move_to_end(key)
            while len(self._rendered) > self.max_rendered:
                self._rendered.popitem(last=False)
        return pieces

    def put(self, token: str, generation: int, value) -> None:
        with self._lock:
            self._entries[token] = (generation, value)
            self._entries.move_to_end(token)
            while len(self._entries) > self.max_entries:
                self._entries.popitem(last=False)
