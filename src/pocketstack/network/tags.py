"""The ``standard-attr-tag`` API: tags on any resource, by resource id."""

from __future__ import annotations

import sqlalchemy as sa

from pocketstack.common.db.cas import changed_rows
from pocketstack.common.db.inserts import try_insert
from pocketstack.network import errors, store
from pocketstack.network.context import Work
from pocketstack.network.models import Tag

MAX_TAG_LENGTH = 255


def check(tags: list) -> list[str]:
    for tag in tags:
        if not isinstance(tag, str) or not tag or len(tag) > MAX_TAG_LENGTH or "," in tag or "/" in tag:
            raise errors.InvalidInput(error_message=f"'{tag}' is not a valid tag")
    return list(dict.fromkeys(tags))


def get(w: Work, model, resource_id: str) -> list[str]:
    store.fetch(w.s, model, w.ctx, resource_id)
    return list(w.s.scalars(sa.select(Tag.tag).where(Tag.resource_id == resource_id).order_by(Tag.tag)))


def add(w: Work, model, resource_id: str, tag: str) -> None:
    row = store.fetch(w.s, model, w.ctx, resource_id)
    check([tag])
    # An existing tag is fine (PUT is idempotent): the unique constraint says so.
    try_insert(w.s, lambda: w.s.execute(sa.insert(Tag).values(resource_id=row.id, tag=tag)))
    store.bump(w.s, row)


def replace(w: Work, model, resource_id: str, tags: list) -> list[str]:
    row = store.fetch(w.s, model, w.ctx, resource_id)
    tags = check(tags)
    w.s.execute(sa.delete(Tag).where(Tag.resource_id == row.id))
    for tag in tags:
        w.s.execute(sa.insert(Tag).values(resource_id=row.id, tag=tag))
    store.bump(w.s, row)
    return sorted(tags)


def remove(w: Work, model, resource_id: str, tag: str | None) -> None:
    row = store.fetch(w.s, model, w.ctx, resource_id)
    stmt = sa.delete(Tag).where(Tag.resource_id == row.id)
    if tag is not None:
        stmt = stmt.where(Tag.tag == tag)
    removed = changed_rows(w.s, stmt)
    if tag is not None and removed == 0:
        raise errors.ResourceTagNotFound(tag=tag, kind=store.KINDS[model].lower(), id=resource_id)
    store.bump(w.s, row)
