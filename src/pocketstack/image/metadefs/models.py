"""Metadefs tables.

Objects, properties and tags of a namespace are one table, ``image_metadef_definition``,
told apart by ``kind``: they are all "a named JSON document inside a namespace" and are
created, renamed, listed and deleted the same way.  Uniqueness (a name per kind per
namespace, a namespace name, a resource type name) is a unique constraint, so concurrent
creators race on the INSERT and the loser gets a 409.  Children reference the namespace
by its surrogate id, so renaming a namespace touches one row.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from pocketstack.common.db.base import Base, JSONText, utcnow

ID = sa.String(36)
NAME = sa.String(80)


def namespace_fk(table: str) -> sa.ForeignKey:
    """A definition or association goes when its namespace goes.  Named by hand: the
    naming convention's name would pass MySQL's 64-character limit."""
    return sa.ForeignKey("image_metadef_namespace.id", ondelete="CASCADE", name=f"fk_{table}_namespace")


class MetadefNamespace(Base):
    __tablename__ = "image_metadef_namespace"

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    namespace: Mapped[str] = mapped_column(NAME, unique=True)
    display_name: Mapped[str | None] = mapped_column(NAME, nullable=True)
    description: Mapped[str | None] = mapped_column(sa.Text, nullable=True)
    visibility: Mapped[str] = mapped_column(sa.String(20))
    protected: Mapped[bool] = mapped_column(sa.Boolean, default=False)
    owner: Mapped[str | None] = mapped_column(sa.String(255), nullable=True, index=True)
    # Bumped by every change of the row and by bulk deletes of its definitions: the
    # compare-and-swap guard against a concurrent rename or (un)protect.
    generation: Mapped[int] = mapped_column(sa.Integer, default=0)
    created_at: Mapped[dt.datetime] = mapped_column(sa.DateTime, default=utcnow, index=True)
    updated_at: Mapped[dt.datetime] = mapped_column(sa.DateTime, default=utcnow)


def _shipped_resource_types() -> list[dict[str, Any]]:
    """The resource types a fresh Glance database knows (more are created on first use);
    migration ``2f05ce465f2a`` inserts the same rows."""
    now = utcnow()
    return [{"id": str(uuid.uuid4()), "name": name, "protected": True, "created_at": now, "updated_at": now}
            for name in ("OS::Glance::Image", "OS::Cinder::Volume", "OS::Nova::Flavor", "OS::Nova::Aggregate",
                         "OS::Nova::Server")]


class MetadefResourceType(Base):
    __tablename__ = "image_metadef_resource_type"
    # Rows a database created from the models starts with (common/db/migrate.py).
    __table_args__ = {"info": {"initial_rows": _shipped_resource_types}}

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    name: Mapped[str] = mapped_column(NAME, unique=True)
    protected: Mapped[bool] = mapped_column(sa.Boolean, default=False)
    created_at: Mapped[dt.datetime] = mapped_column(sa.DateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(sa.DateTime, default=utcnow)


class MetadefAssociation(Base):
    """A namespace applies to a resource type (with an optional property-name prefix)."""

    __tablename__ = "image_metadef_association"

    namespace_id: Mapped[str] = mapped_column(ID, namespace_fk("image_metadef_association"), primary_key=True)
    resource_type_id: Mapped[str] = mapped_column(
        ID, sa.ForeignKey("image_metadef_resource_type.id", ondelete="CASCADE",
                          name="fk_image_metadef_association_resource_type"), primary_key=True, index=True)
    prefix: Mapped[str | None] = mapped_column(NAME, nullable=True)
    properties_target: Mapped[str | None] = mapped_column(NAME, nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(sa.DateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(sa.DateTime, default=utcnow)


class MetadefDefinition(Base):
    """An object, property or tag definition (``kind``) of a namespace."""

    __tablename__ = "image_metadef_definition"
    __table_args__ = (sa.UniqueConstraint("namespace_id", "kind", "name"),)

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    namespace_id: Mapped[str] = mapped_column(ID, namespace_fk("image_metadef_definition"))
    kind: Mapped[str] = mapped_column(sa.String(10))
    name: Mapped[str] = mapped_column(sa.String(255))  # tags may be 255 long, the others 80
    # The definition itself: an object's description/required/properties, a property's
    # JSON-schema fragment; empty for a tag.
    body: Mapped[Any] = mapped_column(JSONText)
    created_at: Mapped[dt.datetime] = mapped_column(sa.DateTime, default=utcnow, index=True)
    updated_at: Mapped[dt.datetime] = mapped_column(sa.DateTime, default=utcnow)
