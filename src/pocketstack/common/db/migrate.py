"""Alembic migrations, one version branch per service.

Each service keeps its revisions in ``pocketstack/<service>/migrations/versions/`` with its own
branch label, so services evolve their schemas independently and ``upgrade`` simply
brings every branch to its head.  ``pocketstack db upgrade`` and every server start call
:func:`upgrade`.

Start-up is on the path of every ``pocketstack up``, so :func:`upgrade` avoids Alembic
(a quarter of a second to import, more to load the 50 revision scripts, most of a
second to run them all) where it can:

* a database already at the heads is recognised by reading its ``alembic_version`` rows
  and the scripts' ``revision``/``down_revision`` lines (:func:`script_heads`);
* an empty SQLite database is made from the models (``create_all``, the rows the
  migrations insert, declared as ``initial_rows`` in the tables' ``info``) and stamped
  at the heads, as Alembic's documentation recommends for new databases.  The schema is
  the one the migrations make (tests/unit/test_schema_from_models.py compares them);
  other backends always run the migrations.
"""

from __future__ import annotations

import functools
import re
from pathlib import Path
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.engine import Engine

if TYPE_CHECKING:
    from alembic.config import Config

PACKAGE_ROOT = Path(__file__).resolve().parents[2]
SCRIPT_LOCATION = Path(__file__).resolve().parent / "migrations"
# Alembic's bookkeeping table, as its MigrationContext defines it.
VERSION_TABLE = sa.Table("alembic_version", sa.MetaData(),
                         sa.Column("version_num", sa.String(32), nullable=False),
                         sa.PrimaryKeyConstraint("version_num", name="alembic_version_pkc"))
_REVISION_LINE = re.compile(r"^(revision|down_revision)\b[^=]*=(.*)$", re.MULTILINE)
_QUOTED = re.compile(r"[\"']([^\"']+)[\"']")


def version_locations() -> list[str]:
    return sorted(str(p) for p in PACKAGE_ROOT.glob("*/migrations/versions") if p.is_dir())


def alembic_config(engine: Engine | None = None, url: str | None = None) -> Config:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(SCRIPT_LOCATION))
    cfg.set_main_option("version_locations", " ".join(version_locations()))
    cfg.set_main_option("path_separator", "space")
    if url:
        cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    cfg.attributes["engine"] = engine
    return cfg


def upgrade(engine: Engine, revision: str = "heads") -> None:
    """Apply every pending migration of every service (or up to ``revision``)."""
    if revision == "heads":
        heads = script_heads()
        current = current_heads(engine)
        if current == heads:
            return
        if not current and engine.dialect.name == "sqlite" and create_from_models(engine, heads):
            return
    from alembic import command

    command.upgrade(alembic_config(engine), revision)


@functools.cache
def script_heads() -> frozenset[str]:
    """The revisions no other revision revises, read from the scripts' ``revision`` and
    ``down_revision`` lines (the generated form; a test checks that Alembic agrees)."""
    revisions: set[str] = set()
    revised: set[str] = set()
    for location in version_locations():
        for script in Path(location).glob("*.py"):
            for name, value in _REVISION_LINE.findall(script.read_text()):
                (revisions if name == "revision" else revised).update(_QUOTED.findall(value))
    return frozenset(revisions - revised)


def current_heads(engine: Engine) -> set[str]:
    """The revisions the database is at (none for a database Alembic never touched)."""
    with engine.connect() as conn:
        conn = conn.execution_options(pocketstack_write=False)
        if not sa.inspect(conn).has_table(VERSION_TABLE.name):
            return set()
        return set(conn.scalars(sa.select(VERSION_TABLE.c.version_num)))


def create_from_models(engine: Engine, heads: frozenset[str]) -> bool:
    """Make the schema of an empty database from the models, with the rows the migrations
    would insert, and stamp it at ``heads``, in one transaction; False (nothing done)
    if the database has tables (another process got there first)."""
    import pocketstack.models  # noqa: F401  (registers every service's tables)
    from pocketstack.common.db.base import Base

    with engine.begin() as conn:
        if sa.inspect(conn).get_table_names():
            return False
        Base.metadata.create_all(conn)
        for table in Base.metadata.sorted_tables:
            initial_rows = table.info.get("initial_rows")
            if initial_rows is not None:
                conn.execute(table.insert(), initial_rows())
        VERSION_TABLE.create(conn)
        conn.execute(VERSION_TABLE.insert(), [{"version_num": head} for head in sorted(heads)])
    return True


def new_revision(service: str, message: str) -> None:
    """Autogenerate a migration for ``service`` from the difference between its models and
    a scratch SQLite database upgraded to the current heads by the migrations themselves
    (a developer tool)."""
    import tempfile

    from alembic import command

    from pocketstack.common.db.engine import create_engine

    version_dir = PACKAGE_ROOT / service / "migrations" / "versions"
    version_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        engine = create_engine(f"sqlite:///{tmp}/scratch.db")
        cfg = alembic_config(engine)
        command.upgrade(cfg, "heads")
        cfg.attributes["service"] = service
        cfg.set_main_option("version_locations", " ".join(sorted(set(version_locations()) | {str(version_dir)})))
        has_branch = any(version_dir.glob("*.py"))
        command.revision(cfg, message=message, autogenerate=True,
                         head=f"{service}@head" if has_branch else "base",
                         branch_label=None if has_branch else service,
                         version_path=str(version_dir))
        engine.dispose()
