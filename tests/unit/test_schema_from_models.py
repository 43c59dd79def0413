"""A new SQLite database made from the models is the database the migrations make.

``common/db/migrate.upgrade`` creates an empty SQLite database with ``create_all`` (plus
the rows the migrations insert) and stamps it at the heads instead of running every
revision; these tests hold it to the migrations' result: same tables, columns (type,
nullability, default, primary key), indexes, unique, foreign-key and check constraints,
same rows, same ``alembic_version``.  Column *positions* may differ (a column a later
revision adds comes last in the migrated table): nothing in pocketstack selects or
inserts by position.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import command
from alembic.script import ScriptDirectory

from pocketstack.common.db.engine import create_engine
from pocketstack.common.db.migrate import alembic_config, create_from_models, current_heads, script_heads, upgrade
from pocketstack.testing.tables import TableSet

# Values made at creation time (random ids of the shipped metadef resource types, clocks).
VOLATILE = {("image_metadef_resource_type", "id"), ("*", "created_at"), ("*", "updated_at")}


def _schema(engine: sa.Engine) -> dict[str, dict[str, Any]]:
    inspector = sa.inspect(engine)

    def key(items: list[dict[str, Any]]) -> list[str]:
        return sorted(repr(sorted(item.items())) for item in items)

    return {table: {
        "columns": {c["name"]: (str(c["type"]), c["nullable"], c["default"], c["primary_key"])
                    for c in inspector.get_columns(table)},
        "primary_key": inspector.get_pk_constraint(table),
        "foreign_keys": key(inspector.get_foreign_keys(table)),
        "indexes": key(inspector.get_indexes(table)),
        "unique": key(inspector.get_unique_constraints(table)),
        "checks": key(inspector.get_check_constraints(table)),
    } for table in inspector.get_table_names()}


def _rows(engine: sa.Engine) -> dict[str, list[tuple]]:
    content = {}
    for name, table in TableSet(engine).dump().items():
        keep = [i for i, c in enumerate(table.columns) if (name, c) not in VOLATILE and ("*", c) not in VOLATILE]
        content[name] = sorted(tuple(repr(row[i]) for i in keep) for row in table.rows)
    return content


def _assert_state_tables_match_reflection(engine: sa.Engine) -> None:
    """The state keeper's light reflection (testing/tables.py) sees the tables, their order
    and their columns as SQLAlchemy's full reflection does."""
    full = sa.MetaData()
    full.reflect(engine)
    light = TableSet(engine).tables
    assert [t.name for t in light] == [t.name for t in full.sorted_tables if t.name != "alembic_version"]
    for table in light:
        assert [(c.name, str(c.type), c.nullable, c.primary_key, c.autoincrement) for c in table.columns] == \
            [(c.name, str(c.type), c.nullable, c.primary_key, c.autoincrement) for c in full.tables[table.name].columns]
        assert sorted(fk.target_fullname for fk in table.foreign_keys) == \
            sorted(fk.target_fullname for fk in full.tables[table.name].foreign_keys)


def test_the_heads_read_from_the_scripts_are_alembics() -> None:
    assert script_heads() == set(ScriptDirectory.from_config(alembic_config()).get_heads())


def test_a_database_made_from_the_models_is_the_migrated_one(tmp_path) -> None:
    migrated = create_engine(f"sqlite:///{tmp_path}/migrated.db")
    command.upgrade(alembic_config(migrated), "heads")
    created = create_engine(f"sqlite:///{tmp_path}/created.db")
    upgrade(created)
    try:
        assert current_heads(created) == current_heads(migrated) == script_heads()
        made, expected = _schema(created), _schema(migrated)
        assert sorted(made) == sorted(expected)
        for table in expected:
            assert made[table] == expected[table], table
        assert _rows(created) == _rows(migrated)
        assert _rows(created)["identity_state"] and _rows(created)["image_metadef_resource_type"]
        _assert_state_tables_match_reflection(created)
        # At the heads now: a second start changes nothing, and the models' way is not taken twice.
        upgrade(created)
        assert not create_from_models(created, script_heads())
    finally:
        migrated.dispose()
        created.dispose()
