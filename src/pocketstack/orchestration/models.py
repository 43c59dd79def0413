"""Orchestration tables: stacks, their resources and their events.

A stack's operation is driven by the engine holding its lease (``engine_id`` until
``lease_expires``) for its current ``traversal``; every write of a stack row is a
compare-and-swap on those.  Each resource row carries a ``generation``, bumped by every
write (a compare-and-swap, :mod:`pocketstack.common.db.cas`): of two engines that both
think they drive a resource, only one can record anything.  A resource records the intent to create
(``CREATE_IN_PROGRESS``) before the API call and its ``physical_resource_id`` as soon as
the call answers: an engine taking over never creates it twice.
"""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from pocketstack.common.db.base import Base, JSONText, utcnow

ID = sa.String(36)


class Stack(Base):
    __tablename__ = "orchestration_stack"

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(255), index=True)
    project_id: Mapped[str] = mapped_column(sa.String(64), index=True)
    user_id: Mapped[str] = mapped_column(sa.String(64))
    username: Mapped[str | None] = mapped_column(sa.String(255), nullable=True)
    template: Mapped[dict] = mapped_column(JSONText)
    files: Mapped[dict] = mapped_column(JSONText, default=dict)
    environment: Mapped[dict] = mapped_column(JSONText, default=dict)
    # The parameter values in force (given ones, coerced), and the template and values
    # before the update in progress (what a failed update rolls back to).
    params: Mapped[dict] = mapped_column(JSONText, default=dict)
    previous: Mapped[dict | None] = mapped_column(JSONText, nullable=True)
    action: Mapped[str] = mapped_column(sa.String(32))
    status: Mapped[str] = mapped_column(sa.String(32))
    status_reason: Mapped[str] = mapped_column(sa.Text, default="")
    timeout_mins: Mapped[int | None] = mapped_column(sa.Integer, nullable=True)
    disable_rollback: Mapped[bool] = mapped_column(sa.Boolean, default=True)
    tags: Mapped[list] = mapped_column(JSONText, default=list)
    # The Keystone trust the engine acts with, from the stack's owner to the orchestration
    # service's user (:mod:`pocketstack.orchestration.trusts`); nested stacks share their
    # parent's.
    trust_id: Mapped[str | None] = mapped_column(sa.String(64), nullable=True, index=True)
    # A template resource's nested stack: its parent stack (Heat's ``owner_id``, shown as
    # ``parent``), the parent's resource it implements, and how deep it is (0: top level).
    owner_id: Mapped[str | None] = mapped_column(ID, nullable=True, index=True)
    owner_resource: Mapped[str | None] = mapped_column(sa.String(255), nullable=True)
    nested_depth: Mapped[int] = mapped_column(sa.Integer, default=0, server_default="0")
    # Which engine drives the stack's current operation, until when; which traversal
    # (one per create/update/delete) that operation is.
    engine_id: Mapped[str | None] = mapped_column(sa.String(255), nullable=True)
    lease_expires: Mapped[dt.datetime | None] = mapped_column(sa.DateTime, nullable=True, index=True)
    traversal: Mapped[str] = mapped_column(ID)
    deadline: Mapped[dt.datetime | None] = mapped_column(sa.DateTime, nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(sa.DateTime, default=utcnow)
    updated_at: Mapped[dt.datetime | None] = mapped_column(sa.DateTime, nullable=True)
    deleted_at: Mapped[dt.datetime | None] = mapped_column(sa.DateTime, nullable=True, index=True)


class Resource(Base):
    __tablename__ = "orchestration_resource"
    __table_args__ = (sa.UniqueConstraint("stack_id", "name"),)

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    stack_id: Mapped[str] = mapped_column(ID, sa.ForeignKey("orchestration_stack.id"), index=True)
    name: Mapped[str] = mapped_column(sa.String(255))
    type: Mapped[str] = mapped_column(sa.String(255))
    physical_resource_id: Mapped[str | None] = mapped_column(sa.String(255), nullable=True)
    physical_name: Mapped[str] = mapped_column(sa.String(255))
    action: Mapped[str] = mapped_column(sa.String(32), default="INIT")
    status: Mapped[str] = mapped_column(sa.String(32), default="COMPLETE")
    status_reason: Mapped[str] = mapped_column(sa.Text, default="")
    # The properties it was last created or updated with, its attributes then, and its
    # private data (ids it made, a generated secret).
    properties: Mapped[dict] = mapped_column(JSONText, default=dict)
    attributes: Mapped[dict] = mapped_column(JSONText, default=dict)
    data: Mapped[dict] = mapped_column(JSONText, default=dict)
    requires: Mapped[list] = mapped_column(JSONText, default=list)
    # A physical resource this one replaced, deleted once the replacement is complete.
    replaced_id: Mapped[str | None] = mapped_column(sa.String(255), nullable=True)
    # The stack traversal that last brought this resource to where the template wants it.
    traversal: Mapped[str | None] = mapped_column(ID, nullable=True)
    generation: Mapped[int] = mapped_column(sa.Integer, default=0)
    created_at: Mapped[dt.datetime] = mapped_column(sa.DateTime, default=utcnow)
    updated_at: Mapped[dt.datetime | None] = mapped_column(sa.DateTime, nullable=True)


class Event(Base):
    __tablename__ = "orchestration_event"

    seq: Mapped[int] = mapped_column(sa.Integer, primary_key=True, autoincrement=True)
    id: Mapped[str] = mapped_column(ID, unique=True)
    stack_id: Mapped[str] = mapped_column(ID, sa.ForeignKey("orchestration_stack.id"), index=True)
    resource_name: Mapped[str] = mapped_column(sa.String(255))
    physical_resource_id: Mapped[str | None] = mapped_column(sa.String(255), nullable=True)
    resource_type: Mapped[str] = mapped_column(sa.String(255))
    action: Mapped[str] = mapped_column(sa.String(32))
    status: Mapped[str] = mapped_column(sa.String(32))
    reason: Mapped[str] = mapped_column(sa.Text, default="")
    created_at: Mapped[dt.datetime] = mapped_column(sa.DateTime, default=utcnow)


class SoftwareConfig(Base):
    """A software config (immutable once made, as in Heat)."""

    __tablename__ = "orchestration_software_config"

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    project_id: Mapped[str] = mapped_column(sa.String(64), index=True)
    name: Mapped[str | None] = mapped_column(sa.String(255), nullable=True)
    group: Mapped[str] = mapped_column(sa.String(255))
    config: Mapped[dict] = mapped_column(JSONText, default=dict)  # config, inputs, outputs, options
    created_at: Mapped[dt.datetime] = mapped_column(sa.DateTime, default=utcnow)


class SoftwareDeployment(Base):
    __tablename__ = "orchestration_software_deployment"

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    project_id: Mapped[str] = mapped_column(sa.String(64), index=True)
    config_id: Mapped[str] = mapped_column(ID, sa.ForeignKey("orchestration_software_config.id"))
    server_id: Mapped[str] = mapped_column(sa.String(255), index=True)
    action: Mapped[str] = mapped_column(sa.String(255), default="INIT")
    status: Mapped[str] = mapped_column(sa.String(255), default="COMPLETE")
    status_reason: Mapped[str] = mapped_column(sa.Text, default="")
    input_values: Mapped[dict] = mapped_column(JSONText, default=dict)
    output_values: Mapped[dict] = mapped_column(JSONText, default=dict)
    created_at: Mapped[dt.datetime] = mapped_column(sa.DateTime, default=utcnow)
    updated_at: Mapped[dt.datetime | None] = mapped_column(sa.DateTime, nullable=True)
