"""Alembic environment: runs migrations on the engine pocketstack hands in."""

from alembic import context
from sqlalchemy import create_engine

import pocketstack.models  # noqa: F401  (registers every service's tables)
from pocketstack.common.db.base import Base

config = context.config
engine = config.attributes.get("engine") or create_engine(config.get_main_option("sqlalchemy.url"))

with engine.begin() as connection:
    context.configure(connection=connection, target_metadata=Base.metadata,
                      render_as_batch=connection.dialect.name == "sqlite", compare_type=True)
    context.run_migrations()
