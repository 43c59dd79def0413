"""Image tables.

An image row carries Glance's base attributes; free-form properties, tags and members
live in their own tables so that list filters (``?os_distro=x``, ``?tag=a&tag=b``,
``member_status``) are SQL conditions and keyset paging stays exact.  ``generation``
is bumped by every change of the row: it is the compare-and-swap guard that keeps
concurrent PATCHes, tag edits and state transitions from overwriting each other.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from pocketstack.common.db.base import Base, JSONText, utcnow

ID = sa.String(36)


class Image(Base):
    __tablename__ = "image_image"

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    name: Mapped[str | None] = mapped_column(sa.String(255), nullable=True, index=True)
    status: Mapped[str] = mapped_column(sa.String(30), index=True)
    visibility: Mapped[str] = mapped_column(sa.String(20), index=True)
    owner: Mapped[str | None] = mapped_column(sa.String(255), nullable=True, index=True)
    protected: Mapped[bool] = mapped_column(sa.Boolean, default=False)
    os_hidden: Mapped[bool] = mapped_column(sa.Boolean, default=False)
    disk_format: Mapped[str | None] = mapped_column(sa.String(20), nullable=True)
    container_format: Mapped[str | None] = mapped_column(sa.String(20), nullable=True)
    min_disk: Mapped[int] = mapped_column(sa.Integer, default=0)
    min_ram: Mapped[int] = mapped_column(sa.Integer, default=0)
    size: Mapped[int | None] = mapped_column(sa.BigInteger, nullable=True)
    virtual_size: Mapped[int | None] = mapped_column(sa.BigInteger, nullable=True)
    checksum: Mapped[str | None] = mapped_column(sa.String(32), nullable=True)
    os_hash_algo: Mapped[str | None] = mapped_column(sa.String(64), nullable=True)
    os_hash_value: Mapped[str | None] = mapped_column(sa.String(128), nullable=True)
    # Where the store keeps the data (a store URI); never shown to clients.
    location: Mapped[str | None] = mapped_column(sa.String(1024), nullable=True)
    # With named stores (image/stores/catalog.py): the comma-separated ids of the stores
    # holding a copy of the data; ``location`` is then the copy reads go to.
    stores: Mapped[str | None] = mapped_column(sa.String(1024), nullable=True)
    # Set while ``saving``: which upload holds the image and on which store node, so a
    # restarted node recovers only its own interrupted uploads.
    upload_id: Mapped[str | None] = mapped_column(sa.String(36), nullable=True)
    upload_node: Mapped[str | None] = mapped_column(sa.String(255), nullable=True)
    generation: Mapped[int] = mapped_column(sa.Integer, default=0)
    created_at: Mapped[dt.datetime] = mapped_column(sa.DateTime, default=utcnow, index=True)
    updated_at: Mapped[dt.datetime] = mapped_column(sa.DateTime, default=utcnow, index=True)


class ImageProperty(Base):
    __tablename__ = "image_property"

    image_id: Mapped[str] = mapped_column(ID, sa.ForeignKey("image_image.id", ondelete="CASCADE"),
                                          primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(255), primary_key=True)
    value: Mapped[str] = mapped_column(sa.Text)


class ImageTag(Base):
    __tablename__ = "image_tag"

    image_id: Mapped[str] = mapped_column(ID, sa.ForeignKey("image_image.id", ondelete="CASCADE"),
                                          primary_key=True)
    value: Mapped[str] = mapped_column(sa.String(255), primary_key=True)


class ImageMember(Base):
    __tablename__ = "image_member"

    image_id: Mapped[str] = mapped_column(ID, sa.ForeignKey("image_image.id", ondelete="CASCADE"),
                                          primary_key=True)
    member: Mapped[str] = mapped_column(sa.String(255), primary_key=True, index=True)
    status: Mapped[str] = mapped_column(sa.String(20), default="pending")
    created_at: Mapped[dt.datetime] = mapped_column(sa.DateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(sa.DateTime, default=utcnow)



class ImageTask(Base):
    """An asynchronous image task (Glance's ``/v2/tasks``; only ``import`` from a URL)."""

    __tablename__ = "image_task"

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    type: Mapped[str] = mapped_column(sa.String(30))
    status: Mapped[str] = mapped_column(sa.String(30), index=True)
    owner: Mapped[str | None] = mapped_column(sa.String(255), nullable=True, index=True)
    input: Mapped[Any] = mapped_column(JSONText)
    result: Mapped[Any] = mapped_column(JSONText, nullable=True)
    message: Mapped[str] = mapped_column(sa.Text, default="")
    # The process that runs it: a restarted node resumes (pending) or fails (processing)
    # only its own tasks.
    node: Mapped[str] = mapped_column(sa.String(255))
    generation: Mapped[int] = mapped_column(sa.Integer, default=0)
    created_at: Mapped[dt.datetime] = mapped_column(sa.DateTime, default=utcnow, index=True)
    updated_at: Mapped[dt.datetime] = mapped_column(sa.DateTime, default=utcnow)
    expires_at: Mapped[dt.datetime | None] = mapped_column(sa.DateTime, nullable=True)
    # The image an ``api_image_import`` task imports into (``/v2/images/{id}/tasks``),
    # and who asked for it (Glance's task record; null for ``/v2/tasks`` imports).
    image_id: Mapped[str | None] = mapped_column(ID, nullable=True, index=True)
    request_id: Mapped[str | None] = mapped_column(sa.String(64), nullable=True)
    user_id: Mapped[str | None] = mapped_column(sa.String(64), nullable=True)

# The metadefs catalog keeps its tables in its own module; import them so migrations see them.
from pocketstack.image.metadefs import models as metadef_models  # noqa: E402,F401
