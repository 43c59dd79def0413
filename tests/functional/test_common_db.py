"""Compare-and-swap, the row-lock guard and keyset paging on every backend."""

from __future__ import annotations

import threading
import uuid

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from pocketstack.common.db import Database
from pocketstack.common.db.cas import ConcurrentUpdate, cas_update, run_in_transaction
from pocketstack.common.db.guard import RowLockForbidden
from pocketstack.common.db.inserts import insert_if_free
from pocketstack.common.errors import BadRequest
from pocketstack.common.pagination import apply_paging, parse_paging


class ScratchTables(DeclarativeBase):
    """Metadata of this module's own: a table on the cloud's ``Base`` would be in every
    schema the same process made from the models afterwards."""


class Counter(ScratchTables):
    """A table that exists only in this test's scratch schema."""

    __tablename__ = "test_counter"
    id: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    value: Mapped[int] = mapped_column(sa.Integer)
    generation: Mapped[int] = mapped_column(sa.Integer)


@pytest.fixture(scope="module")
def db(database_url):
    database = Database(database_url)
    Counter.__table__.create(database.engine, checkfirst=True)
    yield database
    Counter.__table__.drop(database.engine)
    database.dispose()


def test_cas_update_detects_a_lost_race(db):
    cid = uuid.uuid4().hex
    with db.session() as s:
        s.add(Counter(id=cid, value=0, generation=0))
    with db.session() as s:
        cas_update(s, Counter, {"id": cid, "generation": 0}, {"value": 1, "generation": 1})
    with pytest.raises(ConcurrentUpdate):
        with db.session() as s:
            cas_update(s, Counter, {"id": cid, "generation": 0}, {"value": 2, "generation": 1})
    with db.session(readonly=True) as s:
        assert s.get(Counter, cid).value == 1


def test_insert_if_free_takes_a_free_key_once_and_compiles_once(db):
    """A taken key is an answer (False, the row as it was), and the ON CONFLICT statement
    is compiled once, not at every insert (SQLAlchemy's dialect inserts are uncacheable
    as they come)."""
    hits = []

    def record(conn, cursor, statement, parameters, context, executemany):
        if statement.startswith("INSERT INTO test_counter"):
            hits.append(context.cache_hit)

    cid = uuid.uuid4().hex
    sa.event.listen(db.engine, "before_cursor_execute", record)
    try:
        with db.session() as s:
            assert insert_if_free(s, Counter.__table__, {"id": cid, "value": 1, "generation": 0})
            assert not insert_if_free(s, Counter.__table__, {"id": cid, "value": 2, "generation": 0})
            assert insert_if_free(s, Counter.__table__, {"id": cid + "b", "value": 3, "generation": 0})
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", record)
    with db.session(readonly=True) as s:
        assert (s.get(Counter, cid).value, s.get(Counter, cid + "b").value) == (1, 3)
    if db.engine.dialect.name in ("sqlite", "postgresql"):  # MySQL inserts in a savepoint instead
        assert len(hits) == 3 and all(hit.name == "CACHE_HIT" for hit in hits[1:]), hits


def test_concurrent_increments_are_never_lost(db):
    cid = uuid.uuid4().hex
    with db.session() as s:
        s.add(Counter(id=cid, value=0, generation=0))

    def increment(session):
        row = session.execute(sa.select(Counter.value, Counter.generation).where(Counter.id == cid)).one()
        cas_update(session, Counter, {"id": cid, "generation": row.generation},
                   {"value": row.value + 1, "generation": row.generation + 1})

    errors = []

    def worker():
        try:
            for _ in range(10):
                run_in_transaction(db, increment, attempts=200)
        except Exception as exc:  # surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    with db.session(readonly=True) as s:
        row = s.get(Counter, cid)
        assert (row.value, row.generation) == (80, 80)


def test_row_locking_selects_are_refused(db):
    with pytest.raises(RowLockForbidden):
        with db.session() as s:
            s.execute(sa.select(Counter).with_for_update())
    with pytest.raises(RowLockForbidden):
        with db.session() as s:
            s.execute(sa.text("SELECT id FROM test_counter FOR SHARE" if db.dialect == "postgresql"
                              else "SELECT id FROM test_counter LOCK IN SHARE MODE" if db.dialect == "mysql"
                              else "SELECT id FROM test_counter FOR UPDATE"))


def test_keyset_paging_walks_every_row_once(db):
    prefix = uuid.uuid4().hex[:8]
    with db.session() as s:
        for i in range(25):
            s.add(Counter(id=f"{prefix}-{i:02d}", value=i % 4, generation=0))
    paging = parse_paging({"limit": "7", "sort_key": "value", "sort_dir": "desc"}, allowed_sort_keys=("value", "id"),
                          default_sort=(("id", "asc"),))
    seen, marker = [], None
    while True:
        with db.session(readonly=True) as s:
            marker_row = s.get(Counter, marker) if marker else None
            stmt = apply_paging(sa.select(Counter).where(Counter.id.like(f"{prefix}-%")), Counter, paging, marker_row)
            page = list(s.scalars(stmt))
        if not page:
            break
        seen.extend(page)
        marker = page[-1].id
    assert len(seen) == 25 and len({r.id for r in seen}) == 25
    assert [r.value for r in seen] == sorted((r.value for r in seen), reverse=True)


def test_paging_input_validation():
    with pytest.raises(BadRequest):
        parse_paging({"limit": "ten"})
    with pytest.raises(BadRequest):
        parse_paging({"limit": "-1"})
    with pytest.raises(BadRequest):
        parse_paging({"sort_key": "secret"}, allowed_sort_keys=("name",))
    with pytest.raises(BadRequest):
        parse_paging({"sort_key": "name", "sort_dir": "sideways"}, allowed_sort_keys=("name",))
    assert parse_paging({"limit": "5000"}).limit == 1000


def test_only_committed_writes_count_as_effects_of_a_replayable_request(db):
    """Request replay (common/db/replay.py) may re-run a handler only while nothing it
    did is visible: reading -- even in a writable session -- is not an effect; a
    committed ORM or Core write is."""
    from pocketstack.common.db import replay

    cid = uuid.uuid4().hex
    seen = []

    def observe(write):
        effects = replay.Effects()
        token = replay._current.set(effects)
        try:
            write()
        finally:
            replay._current.reset(token)
        seen.append(effects.happened)

    def read_only():
        with db.session(readonly=True) as s:
            s.get(Counter, cid)
        with db.session() as s:
            s.scalar(sa.select(sa.func.count()).select_from(Counter))

    def orm_write():
        with db.session() as s:
            s.add(Counter(id=cid, value=0, generation=0))

    def core_write():
        with db.session() as s:
            s.execute(sa.update(Counter).where(Counter.id == cid).values(value=5))

    def rolled_back():
        with pytest.raises(ValueError), db.session() as s:
            s.execute(sa.update(Counter).where(Counter.id == cid).values(value=6))
            raise ValueError("abandoned")

    for step in (read_only, orm_write, core_write, rolled_back):
        observe(step)
    assert seen == [False, True, True, False]
