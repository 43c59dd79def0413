"""Alembic migrations, one version branch per service.

Each service keeps its revisions in ``pocketstack/<service>/migrations/versions/`` with its own
branch label, so services evolve their schemas independently and ``upgrade`` simply
brings every branch to its head.  ``pocketstack db upgrade`` and every server start call
:func:`upgrade`.
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy.engine import Engine

PACKAGE_ROOT = Path(__file__).resolve().parents[2]
SCRIPT_LOCATION = Path(__file__).resolve().parent / "migrations"


def version_locations() -> list[str]:
    return sorted(str(p) for p in PACKAGE_ROOT.glob("*/migrations/versions") if p.is_dir())


def alembic_config(engine: Engine | None = None, url: str | None = None) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(SCRIPT_LOCATION))
    cfg.set_main_option("version_locations", " ".join(version_locations()))
    cfg.set_main_option("path_separator", "space")
    if url:
        cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    cfg.attributes["engine"] = engine
    return cfg


def upgrade(engine: Engine, revision: str = "heads") -> None:
    """Apply every pending migration of every service."""
    command.upgrade(alembic_config(engine), revision)


def current_heads(engine: Engine) -> set[str]:
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as conn:
        return set(MigrationContext.configure(conn).get_current_heads())


def new_revision(service: str, message: str) -> None:
    """Autogenerate a migration for ``service`` from the difference between its models and
    a scratch SQLite database upgraded to the current heads (a developer tool)."""
    import tempfile

    from pocketstack.common.db.engine import create_engine

    version_dir = PACKAGE_ROOT / service / "migrations" / "versions"
    version_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        engine = create_engine(f"sqlite:///{tmp}/scratch.db")
        upgrade(engine)
        cfg = alembic_config(engine)
        cfg.attributes["service"] = service
        cfg.set_main_option("version_locations", " ".join(sorted(set(version_locations()) | {str(version_dir)})))
        has_branch = any(version_dir.glob("*.py"))
        command.revision(cfg, message=message, autogenerate=True,
                         head=f"{service}@head" if has_branch else "base",
                         branch_label=None if has_branch else service,
                         version_path=str(version_dir))
        engine.dispose()
