"""Identity tables.

Domains are stored as projects with ``is_domain`` set, as Keystone does, so a domain and
a top-level project share one namespace and hierarchy code.  Domains point at the
sentinel :data:`ROOT_DOMAIN_ID`; global roles at :data:`NULL_DOMAIN_ID`, which keeps the
unique constraints effective on every backend (NULLs never collide).
"""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from pocketstack.common.db.base import Base, JSONText, new_id, utcnow

ROOT_DOMAIN_ID = "<<keystone.domain.root>>"
NULL_DOMAIN_ID = "<<null>>"
ID = sa.String(64)


class Project(Base):
    __tablename__ = "identity_project"
    __table_args__ = (sa.UniqueConstraint("domain_id", "name"),)

    id: Mapped[str] = mapped_column(ID, primary_key=True, default=new_id)
    name: Mapped[str] = mapped_column(sa.String(64))
    domain_id: Mapped[str] = mapped_column(ID, index=True)
    parent_id: Mapped[str | None] = mapped_column(ID, index=True, nullable=True)
    is_domain: Mapped[bool] = mapped_column(sa.Boolean, default=False)
    enabled: Mapped[bool] = mapped_column(sa.Boolean, default=True)
    description: Mapped[str] = mapped_column(sa.Text, default="")
    extra: Mapped[dict] = mapped_column(JSONText, default=dict)
    created_at: Mapped[dt.datetime] = mapped_column(sa.DateTime, default=utcnow)


class ProjectTag(Base):
    __tablename__ = "identity_project_tag"

    project_id: Mapped[str] = mapped_column(ID, sa.ForeignKey("identity_project.id", ondelete="CASCADE"),
                                            primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(255), primary_key=True)


class User(Base):
    __tablename__ = "identity_user"
    __table_args__ = (sa.UniqueConstraint("domain_id", "name"),)

    id: Mapped[str] = mapped_column(ID, primary_key=True, default=new_id)
    name: Mapped[str] = mapped_column(sa.String(255))
    domain_id: Mapped[str] = mapped_column(ID, index=True)
    enabled: Mapped[bool] = mapped_column(sa.Boolean, default=True)
    default_project_id: Mapped[str | None] = mapped_column(ID, nullable=True)
    password_hash: Mapped[str | None] = mapped_column(sa.String(255), nullable=True)
    password_expires_at: Mapped[dt.datetime | None] = mapped_column(sa.DateTime, nullable=True)
    options: Mapped[dict] = mapped_column(JSONText, default=dict)
    extra: Mapped[dict] = mapped_column(JSONText, default=dict)
    description: Mapped[str | None] = mapped_column(sa.Text, nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(sa.DateTime, default=utcnow)


class Group(Base):
    __tablename__ = "identity_group"
    __table_args__ = (sa.UniqueConstraint("domain_id", "name"),)

    id: Mapped[str] = mapped_column(ID, primary_key=True, default=new_id)
    name: Mapped[str] = mapped_column(sa.String(64))
    domain_id: Mapped[str] = mapped_column(ID, index=True)
    description: Mapped[str] = mapped_column(sa.Text, default="")
    extra: Mapped[dict] = mapped_column(JSONText, default=dict)


class GroupMembership(Base):
    __tablename__ = "identity_group_membership"

    user_id: Mapped[str] = mapped_column(ID, sa.ForeignKey("identity_user.id", ondelete="CASCADE"),
                                         primary_key=True)
    group_id: Mapped[str] = mapped_column(ID, sa.ForeignKey("identity_group.id", ondelete="CASCADE"),
                                          primary_key=True, index=True)


class Role(Base):
    __tablename__ = "identity_role"
    __table_args__ = (sa.UniqueConstraint("name", "domain_id"),)

    id: Mapped[str] = mapped_column(ID, primary_key=True, default=new_id)
    name: Mapped[str] = mapped_column(sa.String(255))
    domain_id: Mapped[str] = mapped_column(ID, default=NULL_DOMAIN_ID)
    description: Mapped[str | None] = mapped_column(sa.Text, nullable=True)
    options: Mapped[dict] = mapped_column(JSONText, default=dict)
    extra: Mapped[dict] = mapped_column(JSONText, default=dict)


class ImpliedRole(Base):
    __tablename__ = "identity_implied_role"

    prior_role_id: Mapped[str] = mapped_column(ID, sa.ForeignKey("identity_role.id", ondelete="CASCADE"),
                                               primary_key=True)
    implied_role_id: Mapped[str] = mapped_column(ID, sa.ForeignKey("identity_role.id", ondelete="CASCADE"),
                                                 primary_key=True)


class Assignment(Base):
    """A role granted to an actor (user or group) on a target (project, domain, system)."""

    __tablename__ = "identity_assignment"

    type: Mapped[str] = mapped_column(sa.String(16), primary_key=True)
    actor_id: Mapped[str] = mapped_column(ID, primary_key=True, index=True)
    target_id: Mapped[str] = mapped_column(ID, primary_key=True, index=True)
    role_id: Mapped[str] = mapped_column(ID, sa.ForeignKey("identity_role.id", ondelete="CASCADE"),
                                         primary_key=True)
    inherited: Mapped[bool] = mapped_column(sa.Boolean, primary_key=True, default=False)


class Region(Base):
    __tablename__ = "identity_region"

    id: Mapped[str] = mapped_column(sa.String(255), primary_key=True)
    parent_region_id: Mapped[str | None] = mapped_column(sa.String(255), nullable=True)
    description: Mapped[str] = mapped_column(sa.Text, default="")
    extra: Mapped[dict] = mapped_column(JSONText, default=dict)


class Service(Base):
    __tablename__ = "identity_service"

    id: Mapped[str] = mapped_column(ID, primary_key=True, default=new_id)
    type: Mapped[str] = mapped_column(sa.String(255))
    name: Mapped[str] = mapped_column(sa.String(255), default="")
    enabled: Mapped[bool] = mapped_column(sa.Boolean, default=True)
    description: Mapped[str] = mapped_column(sa.Text, default="")
    extra: Mapped[dict] = mapped_column(JSONText, default=dict)


class Endpoint(Base):
    __tablename__ = "identity_endpoint"

    id: Mapped[str] = mapped_column(ID, primary_key=True, default=new_id)
    service_id: Mapped[str] = mapped_column(ID, sa.ForeignKey("identity_service.id", ondelete="CASCADE"),
                                            index=True)
    region_id: Mapped[str | None] = mapped_column(sa.String(255), nullable=True)
    interface: Mapped[str] = mapped_column(sa.String(8))
    url: Mapped[str] = mapped_column(sa.Text)
    enabled: Mapped[bool] = mapped_column(sa.Boolean, default=True)
    extra: Mapped[dict] = mapped_column(JSONText, default=dict)


class ApplicationCredential(Base):
    __tablename__ = "identity_application_credential"
    __table_args__ = (sa.UniqueConstraint("user_id", "name"),)

    id: Mapped[str] = mapped_column(ID, primary_key=True, default=new_id)
    name: Mapped[str] = mapped_column(sa.String(255))
    secret_hash: Mapped[str] = mapped_column(sa.String(255))
    description: Mapped[str | None] = mapped_column(sa.Text, nullable=True)
    user_id: Mapped[str] = mapped_column(ID, sa.ForeignKey("identity_user.id", ondelete="CASCADE"), index=True)
    project_id: Mapped[str | None] = mapped_column(ID, nullable=True)
    system: Mapped[str | None] = mapped_column(sa.String(16), nullable=True)
    expires_at: Mapped[dt.datetime | None] = mapped_column(sa.DateTime, nullable=True)
    unrestricted: Mapped[bool] = mapped_column(sa.Boolean, default=False)
    roles: Mapped[list] = mapped_column(JSONText, default=list)
    created_at: Mapped[dt.datetime] = mapped_column(sa.DateTime, default=utcnow)


class RevocationEvent(Base):
    """Tokens issued at or before ``issued_before`` that match every set field are revoked.

    Times are epoch seconds as doubles so sub-second ordering survives on every backend
    (a token issued right after a password change must stay valid).
    """

    __tablename__ = "identity_revocation_event"

    id: Mapped[int] = mapped_column(sa.Integer, primary_key=True, autoincrement=True)
    user_id: Mapped[str | None] = mapped_column(ID, nullable=True, index=True)
    project_id: Mapped[str | None] = mapped_column(ID, nullable=True, index=True)
    domain_id: Mapped[str | None] = mapped_column(ID, nullable=True)
    audit_id: Mapped[str | None] = mapped_column(sa.String(32), nullable=True, index=True)
    audit_chain_id: Mapped[str | None] = mapped_column(sa.String(32), nullable=True)
    issued_before: Mapped[float] = mapped_column(sa.Double, index=True)
    revoked_at: Mapped[float] = mapped_column(sa.Double)


class IdentityState(Base):
    """One row whose ``generation`` goes up with every committed identity change.

    Token validation results are reused while it stays the same (see
    :mod:`pocketstack.identity.validation_cache`); reading it is one primary-key lookup.
    """

    __tablename__ = "identity_state"

    id: Mapped[int] = mapped_column(sa.Integer, primary_key=True, autoincrement=False)
    generation: Mapped[int] = mapped_column(sa.BigInteger, default=0)
