"""What the image manager hands out: an :class:`ImageView`, a plain snapshot of an
image's row, properties and tags, detached from any database session so callers (the
API, compute, volume) can keep it across threads without lazy loads."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from pocketstack.image import errors
from pocketstack.image import models as m


@dataclass(frozen=True)
class ImageView:
    id: str
    name: str | None
    status: str
    visibility: str
    owner: str | None
    protected: bool
    os_hidden: bool
    disk_format: str | None
    container_format: str | None
    min_disk: int
    min_ram: int
    size: int | None
    virtual_size: int | None
    checksum: str | None
    os_hash_algo: str | None
    os_hash_value: str | None
    created_at: dt.datetime
    updated_at: dt.datetime
    location: str | None
    generation: int
    # Set while data is being staged or imported (the staging upload, the import task).
    upload_id: str | None = None
    # Comma-separated ids of the named stores holding the data (None with one store).
    stores: str | None = None
    properties: dict[str, str] = field(default_factory=dict)
    tags: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Change:
    """One decoded JSON-patch operation on a top-level image attribute."""

    op: str  # "add" | "replace" | "remove"
    name: str
    value: Any = None
    # The v2.0 patch dialect's ``add`` may not overwrite what exists (409).
    add_only_new: bool = False


@dataclass(frozen=True)
class MemberView:
    image_id: str
    member_id: str
    status: str
    created_at: dt.datetime
    updated_at: dt.datetime


_ROW_FIELDS = [f for f in ImageView.__dataclass_fields__ if f not in ("properties", "tags")]


def view(row: m.Image, properties: dict[str, str], tags: Iterable[str]) -> ImageView:
    return ImageView(**{f: getattr(row, f) for f in _ROW_FIELDS},
                     properties=dict(properties), tags=sorted(tags))


def member_view(row: m.ImageMember) -> MemberView:
    return MemberView(row.image_id, row.member, row.status, row.created_at, row.updated_at)


def not_found(image_id: str) -> errors.NotFound:
    return errors.ImageNotFound(image_id=image_id)


def load_row(session: Session, image_id: str) -> m.Image:
    row = session.get(m.Image, image_id)
    if row is None:
        raise not_found(image_id)
    return row


def load_views(session: Session, rows: list[m.Image]) -> list[ImageView]:
    """Views for ``rows`` with their properties and tags, in two queries."""
    ids = [r.id for r in rows]
    props: dict[str, dict[str, str]] = {i: {} for i in ids}
    tags: dict[str, list[str]] = {i: [] for i in ids}
    if ids:
        for p in session.scalars(sa.select(m.ImageProperty).where(m.ImageProperty.image_id.in_(ids))):
            props[p.image_id][p.name] = p.value
        for t in session.scalars(sa.select(m.ImageTag).where(m.ImageTag.image_id.in_(ids))):
            tags[t.image_id].append(t.value)
    return [view(r, props[r.id], tags[r.id]) for r in rows]


def load_view(session: Session, image_id: str) -> ImageView:
    return load_views(session, [load_row(session, image_id)])[0]
