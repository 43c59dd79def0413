"""Alembic environment: runs migrations on the engine pocketstack hands in."""

from typing import Any

from alembic import context
from sqlalchemy import create_engine

import pocketstack.models  # noqa: F401  (registers every service's tables)
from pocketstack.common.db.base import Base

config = context.config
# `pocketstack db revision --service X` autogenerates only X's tables (named "X_...").
service = config.attributes.get("service")


def include_object(obj: Any, name: str | None, type_: Any, reflected: bool, compare_to: Any) -> bool:
    if not service:
        return True
    table = obj if type_ == "table" else getattr(obj, "table", None)
    return str(table.name if table is not None else name).startswith(service + "_")


engine = config.attributes.get("engine") or create_engine(config.get_main_option("sqlalchemy.url") or "")

with engine.begin() as connection:
    context.configure(connection=connection, target_metadata=Base.metadata,
                      render_as_batch=connection.dialect.name == "sqlite", compare_type=True,
                      include_object=include_object)
    context.run_migrations()
