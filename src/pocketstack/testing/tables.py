"""Every table's rows out of a database and back in, portable across backends.

A cloud's state is the content of its tables (plus data files, :mod:`.files`).  Rows are
read through reflected tables and held as plain JSON values — datetimes, bytes and
decimals tagged — so a dump taken on SQLite restores into PostgreSQL or MariaDB: on the
way in each value is coerced to what the target column expects.  Restoring replaces
every table's content in one transaction: other connections see the old state or the
new one, never a mix.
"""

from __future__ import annotations

import base64
import datetime as dt
import decimal
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

# Alembic's bookkeeping: describes the schema, which a restore never changes.
SKIPPED = frozenset({"alembic_version"})
Row = list[Any]


@dataclass
class TableRows:
    """One table's content: its column names and rows (JSON-ready values, in order)."""

    columns: list[str]
    rows: list[Row] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {"columns": self.columns, "rows": self.rows}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> TableRows:
        return cls(list(data["columns"]), [list(row) for row in data["rows"]])


def _encode(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return {"$datetime": value.isoformat()}
    if isinstance(value, dt.date):
        return {"$date": value.isoformat()}
    if isinstance(value, dt.time):
        return {"$time": value.isoformat()}
    if isinstance(value, (bytes, bytearray, memoryview)):
        return {"$bytes": base64.b64encode(bytes(value)).decode()}
    if isinstance(value, decimal.Decimal):
        return {"$decimal": str(value)}
    return value


def _decode(value: Any, column: sa.Column[Any]) -> Any:
    if isinstance(value, dict):
        (tag, text), = value.items()
        if tag == "$datetime":
            return dt.datetime.fromisoformat(text)
        if tag == "$date":
            return dt.date.fromisoformat(text)
        if tag == "$time":
            return dt.time.fromisoformat(text)
        if tag == "$bytes":
            return base64.b64decode(text)
        if tag == "$decimal":
            return decimal.Decimal(text)
        raise ValueError(f"unknown value tag {tag!r} in column {column.name}")
    if isinstance(value, int) and not isinstance(value, bool) and _is_boolean(column):
        return bool(value)  # MariaDB's BOOLEAN is TINYINT(1): a dump from it holds 0/1
    return value


def _is_boolean(column: sa.Column[Any]) -> bool:
    try:
        return column.type.python_type is bool
    except NotImplementedError:
        return False


class TableSet:
    """The tables of one database (or those named ``only``), reflected once, in
    foreign-key order."""

    def __init__(self, engine: Engine, only: list[str] | None = None):
        self.engine = engine
        if only is None:
            metadata = _reflect_for_rows(engine)
        else:  # (also reflects the tables they refer to)
            metadata = sa.MetaData()
            metadata.reflect(engine, only=only)
        self.tables = [t for t in metadata.sorted_tables if t.name not in SKIPPED]
        self.by_name = {t.name: t for t in self.tables}

    def dump(self, names: Iterable[str] | None = None) -> dict[str, TableRows]:
        """Every table's rows (or those of the tables ``names``; empty tables included),
        read in one transaction."""
        tables = self.tables if names is None else [self.by_name[n] for n in names if n in self.by_name]
        with self.engine.connect() as conn:
            conn.execution_options(pocketstack_write=False)
            with conn.begin():
                return {table.name: TableRows([c.name for c in table.columns],
                                              [[_encode(v) for v in row] for row in conn.execute(sa.select(table))])
                        for table in tables}

    def restore(self, content: dict[str, TableRows]) -> None:
        """Replace every table's rows with ``content`` (a table missing from it is emptied);
        a column ``content`` does not know takes its default.  Refuses a dump naming a
        table or column this database does not have (it comes from another schema)."""
        unknown = sorted(set(content) - set(self.by_name) - SKIPPED)
        if unknown:
            raise ValueError(f"the state names tables this database does not have: {', '.join(unknown)}")
        for name, stored in content.items():
            table = self.by_name.get(name)
            missing = [c for c in stored.columns if table is not None and c not in table.c]
            if missing:
                raise ValueError(f"table {name} has no column(s) {', '.join(missing)}")
        with self.engine.begin() as conn:
            self._relax_foreign_keys(conn, True)
            try:
                for table in reversed(self.tables):
                    conn.execute(table.delete())
                for table in self.tables:
                    rows = content.get(table.name)
                    if rows is not None and rows.rows:
                        conn.execute(table.insert(), self._ordered(table, self._values(table, rows)))
            finally:
                self._relax_foreign_keys(conn, False)
            self._resume_sequences(conn)

    @staticmethod
    def _values(table: sa.Table, rows: TableRows) -> list[dict[str, Any]]:
        columns = [table.c[name] for name in rows.columns]
        return [{c.name: _decode(v, c) for c, v in zip(columns, row)} for row in rows.rows]

    @staticmethod
    def _ordered(table: sa.Table, values: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Rows of a table that refers to itself (a project's parent), parents first:
        MariaDB checks each row's reference as it is inserted."""
        links = [(fk.parent.name, fk.column.name) for fk in table.foreign_keys if fk.column.table.name == table.name]
        if not links:
            return values
        ordered: list[dict[str, Any]] = []
        present: dict[str, set[Any]] = {target: set() for _, target in links}
        pending = values
        while pending:
            ready = [v for v in pending
                     if all(v.get(col) is None or v[col] in present[target] or v.get(target) == v[col]
                            for col, target in links)]
            if not ready:  # a cycle among the rows: insert the rest as they are
                ready = pending
            for v in ready:
                ordered.append(v)
                for _, target in links:
                    present[target].add(v.get(target))
            done = {id(v) for v in ready}
            pending = [v for v in pending if id(v) not in done]
        return ordered

    @staticmethod
    def _relax_foreign_keys(conn: Connection, relaxed: bool) -> None:
        """Let references be checked when the transaction commits (SQLite), or not while
        the tables are refilled (MariaDB, whose checks are per row); PostgreSQL checks per
        statement, which the foreign-key order of tables satisfies."""
        dialect = conn.dialect.name
        if dialect == "sqlite" and relaxed:
            conn.exec_driver_sql("PRAGMA defer_foreign_keys = ON")
        elif dialect in ("mysql", "mariadb"):
            conn.exec_driver_sql(f"SET FOREIGN_KEY_CHECKS = {0 if relaxed else 1}")

    def _resume_sequences(self, conn: Connection) -> None:
        """PostgreSQL: move each serial column's sequence past the restored ids (the other
        backends continue after the largest id by themselves)."""
        if conn.dialect.name != "postgresql":
            return
        for table in self.tables:
            for column in _serial_columns(table):
                conn.execute(sa.text(
                    f"SELECT setval(pg_get_serial_sequence(:table, :column), "
                    f"COALESCE(MAX({conn.dialect.identifier_preparer.quote(column.name)}), 1), "
                    f"MAX({conn.dialect.identifier_preparer.quote(column.name)}) IS NOT NULL) "
                    f"FROM {conn.dialect.identifier_preparer.format_table(table)}"),
                    {"table": table.name, "column": column.name})


def _reflect_for_rows(engine: Engine) -> sa.MetaData:
    """Every table with what reading and writing its rows needs: columns (types,
    nullability, autoincrement), primary key and foreign keys (the order of tables and
    of a table's rows that refer to each other).  ``MetaData.reflect`` also reads indexes,
    unique and check constraints: on SQLite more than half its time, and most of what
    recording the first start's baseline costs."""
    metadata = sa.MetaData()
    with engine.connect() as conn:
        inspector = sa.inspect(conn)
        columns = inspector.get_multi_columns()
        primary_keys = inspector.get_multi_pk_constraint()
        foreign_keys = inspector.get_multi_foreign_keys()
    for key, reflected in columns.items():
        pk = set(primary_keys[key]["constrained_columns"])
        table = sa.Table(key[1], metadata, *[
            sa.Column(c["name"], c["type"], nullable=c["nullable"], primary_key=c["name"] in pk,
                      autoincrement=c.get("autoincrement", "auto")) for c in reflected])
        for fk in foreign_keys[key]:
            table.append_constraint(sa.ForeignKeyConstraint(
                fk["constrained_columns"], [f"{fk['referred_table']}.{c}" for c in fk["referred_columns"]],
                name=fk["name"]))
    return metadata


def _serial_columns(table: sa.Table) -> Iterable[sa.Column[Any]]:
    keys = list(table.primary_key.columns)
    if len(keys) == 1 and isinstance(keys[0].type, sa.Integer) and keys[0].autoincrement in (True, "auto"):
        yield keys[0]
