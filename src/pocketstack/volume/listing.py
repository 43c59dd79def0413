"""One page of a Block Storage listing: the rows matching ``conditions`` after the
marker (a 400 ``MarkerNotFound`` when it names no row), in the paging's order, from
``offset`` -- what the snapshot, group and group-snapshot listings share -- and how many
rows match in all (3.45's ``with_count``)."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from pocketstack.common.db import Database
from pocketstack.common.pagination import Paging, apply_paging
from pocketstack.volume import errors


def page(db: Database, model: Any, conditions: list, paging: Paging, offset: int = 0) -> list:
    with db.session(readonly=True) as s:
        marker = None
        if paging.marker:
            marker = s.get(model, paging.marker)
            if marker is None:
                raise errors.MarkerNotFound(marker=paging.marker)
        stmt = apply_paging(sa.select(model).where(*conditions), model, paging, marker)
        rows = list(s.scalars(stmt.offset(offset) if offset else stmt))
        s.expunge_all()
        return rows


def count(db: Database, model: Any, conditions: list) -> int:
    """The rows matching ``conditions`` whatever the page: a listing's ``count``."""
    with db.session(readonly=True) as s:
        return int(s.scalar(sa.select(sa.func.count()).select_from(model).where(*conditions)) or 0)
