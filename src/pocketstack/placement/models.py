"""Placement tables.

Every change to a provider's inventory or to the allocations against it bumps the
provider's ``generation`` in the same transaction.  That single counter is what the
compare-and-swap claim algorithm (see :mod:`.allocations`) relies on: a writer that read
generation *g* and still finds *g* at update time knows no capacity changed under it.
Consumers carry their own generation for the same reason (API 1.28+).
"""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from pocketstack.common.db.base import Base, utcnow

UUID = sa.String(36)
NAME = sa.String(255)
RP_FK = "placement_resource_provider.uuid"


class ResourceProvider(Base):
    __tablename__ = "placement_resource_provider"

    uuid: Mapped[str] = mapped_column(UUID, primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(200), unique=True)
    generation: Mapped[int] = mapped_column(sa.Integer, default=0)
    parent_uuid: Mapped[str | None] = mapped_column(UUID, index=True, nullable=True)
    root_uuid: Mapped[str] = mapped_column(UUID, index=True)
    created_at: Mapped[dt.datetime] = mapped_column(sa.DateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(sa.DateTime, default=utcnow)


class Inventory(Base):
    __tablename__ = "placement_inventory"

    provider_uuid: Mapped[str] = mapped_column(UUID, sa.ForeignKey(RP_FK), primary_key=True)
    resource_class: Mapped[str] = mapped_column(NAME, primary_key=True)
    total: Mapped[int] = mapped_column(sa.Integer)
    reserved: Mapped[int] = mapped_column(sa.Integer, default=0)
    min_unit: Mapped[int] = mapped_column(sa.Integer, default=1)
    max_unit: Mapped[int] = mapped_column(sa.Integer)
    step_size: Mapped[int] = mapped_column(sa.Integer, default=1)
    allocation_ratio: Mapped[float] = mapped_column(sa.Double, default=1.0)


class Allocation(Base):
    __tablename__ = "placement_allocation"
    __table_args__ = (sa.UniqueConstraint("consumer_uuid", "provider_uuid", "resource_class"),
                      sa.Index("ix_placement_allocation_provider_rc", "provider_uuid", "resource_class"))

    id: Mapped[int] = mapped_column(sa.Integer, primary_key=True, autoincrement=True)
    consumer_uuid: Mapped[str] = mapped_column(UUID, index=True)
    provider_uuid: Mapped[str] = mapped_column(UUID, sa.ForeignKey(RP_FK))
    resource_class: Mapped[str] = mapped_column(NAME)
    used: Mapped[int] = mapped_column(sa.Integer)


class Consumer(Base):
    __tablename__ = "placement_consumer"

    uuid: Mapped[str] = mapped_column(UUID, primary_key=True)
    project_id: Mapped[str] = mapped_column(sa.String(255), index=True)
    user_id: Mapped[str] = mapped_column(sa.String(255))
    consumer_type: Mapped[str | None] = mapped_column(NAME, nullable=True)
    generation: Mapped[int] = mapped_column(sa.Integer, default=0)
    created_at: Mapped[dt.datetime] = mapped_column(sa.DateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(sa.DateTime, default=utcnow)


class CustomResourceClass(Base):
    """CUSTOM_* classes; the standard ones live in code (:mod:`.catalog`)."""

    __tablename__ = "placement_resource_class"

    name: Mapped[str] = mapped_column(NAME, primary_key=True)
    created_at: Mapped[dt.datetime] = mapped_column(sa.DateTime, default=utcnow)


class CustomTrait(Base):
    """CUSTOM_* traits; the standard ones live in code (:mod:`.catalog`)."""

    __tablename__ = "placement_trait"

    name: Mapped[str] = mapped_column(NAME, primary_key=True)
    created_at: Mapped[dt.datetime] = mapped_column(sa.DateTime, default=utcnow)


class ProviderTrait(Base):
    __tablename__ = "placement_provider_trait"

    provider_uuid: Mapped[str] = mapped_column(UUID, sa.ForeignKey(RP_FK), primary_key=True)
    trait: Mapped[str] = mapped_column(NAME, primary_key=True, index=True)


class ProviderAggregate(Base):
    __tablename__ = "placement_provider_aggregate"

    provider_uuid: Mapped[str] = mapped_column(UUID, sa.ForeignKey(RP_FK), primary_key=True)
    aggregate_uuid: Mapped[str] = mapped_column(UUID, primary_key=True, index=True)
