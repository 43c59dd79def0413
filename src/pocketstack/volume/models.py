"""Volume tables.

A volume's ``status`` is its state machine (see ``states.py``); every change of it is a
compare-and-swap on ``(id, status)`` so two workers or two API calls can never both
move a volume out of the same state.  ``task_started_at`` records when the current
``*-ing`` state was entered: recovery uses it to find work a dead worker left behind,
``task_owner`` names the worker running it (so a restarted worker finds its own at once),
and ``task_args`` keeps what that work needs to be resumed (e.g. the new size of an
extend).
"""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from pocketstack.common.db.base import Base, JSONText, utcnow

ID = sa.String(36)


class Volume(Base):
    __tablename__ = "volume_volume"

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    project_id: Mapped[str] = mapped_column(sa.String(64), index=True)
    user_id: Mapped[str | None] = mapped_column(sa.String(64), nullable=True)
    name: Mapped[str | None] = mapped_column(sa.String(255), nullable=True, index=True)
    description: Mapped[str | None] = mapped_column(sa.String(255), nullable=True)
    size: Mapped[int] = mapped_column(sa.Integer)
    status: Mapped[str] = mapped_column(sa.String(30), index=True)
    attach_status: Mapped[str] = mapped_column(sa.String(30), default="detached")
    # Number of live attachments: the CAS guard that keeps a non-multiattach volume
    # from being attached twice.
    attach_count: Mapped[int] = mapped_column(sa.Integer, default=0)
    multiattach: Mapped[bool] = mapped_column(sa.Boolean, default=False)
    bootable: Mapped[bool] = mapped_column(sa.Boolean, default=False)
    # Cinder's ``readonly`` admin metadata: None until ``os-update_readonly_flag`` sets it.
    readonly: Mapped[bool | None] = mapped_column(sa.Boolean, nullable=True, default=None)
    availability_zone: Mapped[str] = mapped_column(sa.String(255), default="nova")
    volume_type_id: Mapped[str | None] = mapped_column(ID, nullable=True)
    snapshot_id: Mapped[str | None] = mapped_column(ID, nullable=True)
    source_volid: Mapped[str | None] = mapped_column(ID, nullable=True)
    image_id: Mapped[str | None] = mapped_column(ID, nullable=True)
    host: Mapped[str | None] = mapped_column(sa.String(255), nullable=True)
    # Cinder's migration_status: "migrating" while the worker moves the volume's data to
    # another backend, then "success" or "error" (None: never migrated).
    migration_status: Mapped[str | None] = mapped_column(sa.String(255), nullable=True)
    # The generic volume group the volume belongs to (3.13+), if any.
    group_id: Mapped[str | None] = mapped_column(ID, nullable=True, index=True)
    # Why the volume is in ``error``/``error_deleting`` (shown to admins).
    status_reason: Mapped[str | None] = mapped_column(sa.Text, nullable=True)
    task_started_at: Mapped[dt.datetime | None] = mapped_column(sa.DateTime, nullable=True, index=True)
    task_args: Mapped[dict | None] = mapped_column(JSONText, nullable=True)
    # The volume worker (its host name) running the current ``*-ing`` operation, recorded
    # when it starts; cleared by every status change.
    task_owner: Mapped[str | None] = mapped_column(sa.String(255), nullable=True, index=True)
    created_at: Mapped[dt.datetime] = mapped_column(sa.DateTime, default=utcnow, index=True)
    updated_at: Mapped[dt.datetime] = mapped_column(sa.DateTime, default=utcnow)


class VolumeMetadata(Base):
    __tablename__ = "volume_metadata"

    volume_id: Mapped[str] = mapped_column(ID, sa.ForeignKey("volume_volume.id", ondelete="CASCADE"),
                                           primary_key=True)
    key: Mapped[str] = mapped_column(sa.String(255), primary_key=True)
    value: Mapped[str] = mapped_column(sa.String(255))


class Snapshot(Base):
    __tablename__ = "volume_snapshot"

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    project_id: Mapped[str] = mapped_column(sa.String(64), index=True)
    user_id: Mapped[str | None] = mapped_column(sa.String(64), nullable=True)
    volume_id: Mapped[str] = mapped_column(ID, index=True)
    name: Mapped[str | None] = mapped_column(sa.String(255), nullable=True, index=True)
    description: Mapped[str | None] = mapped_column(sa.String(255), nullable=True)
    size: Mapped[int] = mapped_column(sa.Integer)
    status: Mapped[str] = mapped_column(sa.String(30), index=True)
    status_reason: Mapped[str | None] = mapped_column(sa.Text, nullable=True)
    # As reported by os-update_snapshot_status; None: derived from the status.
    progress: Mapped[str | None] = mapped_column(sa.String(255), nullable=True)
    # The group snapshot this snapshot was taken as part of (3.14+), if any.
    group_snapshot_id: Mapped[str | None] = mapped_column(ID, nullable=True, index=True)
    task_started_at: Mapped[dt.datetime | None] = mapped_column(sa.DateTime, nullable=True, index=True)
    task_owner: Mapped[str | None] = mapped_column(sa.String(255), nullable=True, index=True)
    created_at: Mapped[dt.datetime] = mapped_column(sa.DateTime, default=utcnow, index=True)
    updated_at: Mapped[dt.datetime] = mapped_column(sa.DateTime, default=utcnow)


class SnapshotMetadata(Base):
    __tablename__ = "volume_snapshot_metadata"

    snapshot_id: Mapped[str] = mapped_column(ID, sa.ForeignKey("volume_snapshot.id", ondelete="CASCADE"),
                                             primary_key=True)
    key: Mapped[str] = mapped_column(sa.String(255), primary_key=True)
    value: Mapped[str] = mapped_column(sa.String(255))


class VolumeType(Base):
    __tablename__ = "volume_type"

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(255), unique=True)
    description: Mapped[str | None] = mapped_column(sa.String(255), nullable=True)
    is_public: Mapped[bool] = mapped_column(sa.Boolean, default=True)
    extra_specs: Mapped[dict] = mapped_column(JSONText, default=dict)
    generation: Mapped[int] = mapped_column(sa.Integer, default=0)
    created_at: Mapped[dt.datetime] = mapped_column(sa.DateTime, default=utcnow)


class VolumeTypeAccess(Base):
    __tablename__ = "volume_type_access"

    volume_type_id: Mapped[str] = mapped_column(ID, sa.ForeignKey("volume_type.id", ondelete="CASCADE"),
                                                primary_key=True)
    project_id: Mapped[str] = mapped_column(sa.String(64), primary_key=True)


class VolumeTypeEncryption(Base):
    """A volume type's encryption (Cinder's ``encryption`` table): at most one per type."""

    __tablename__ = "volume_type_encryption"

    volume_type_id: Mapped[str] = mapped_column(ID, sa.ForeignKey("volume_type.id", ondelete="CASCADE"),
                                                primary_key=True)
    encryption_id: Mapped[str] = mapped_column(ID, unique=True)
    provider: Mapped[str] = mapped_column(sa.String(255))
    control_location: Mapped[str] = mapped_column(sa.String(255))
    cipher: Mapped[str | None] = mapped_column(sa.String(255), nullable=True)
    key_size: Mapped[int | None] = mapped_column(sa.Integer, nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(sa.DateTime, default=utcnow)
    updated_at: Mapped[dt.datetime | None] = mapped_column(sa.DateTime, nullable=True)


class Attachment(Base):
    __tablename__ = "volume_attachment"

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    volume_id: Mapped[str] = mapped_column(ID, index=True)
    project_id: Mapped[str] = mapped_column(sa.String(64), index=True)
    instance_uuid: Mapped[str | None] = mapped_column(ID, nullable=True, index=True)
    attach_status: Mapped[str] = mapped_column(sa.String(30))
    attach_mode: Mapped[str] = mapped_column(sa.String(10), default="rw")
    mountpoint: Mapped[str | None] = mapped_column(sa.String(255), nullable=True)
    connector: Mapped[dict | None] = mapped_column(JSONText, nullable=True)
    attached_at: Mapped[dt.datetime | None] = mapped_column(sa.DateTime, nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(sa.DateTime, default=utcnow)


class QuotaLimit(Base):
    """A project's limit for one resource (absent: the default)."""

    __tablename__ = "volume_quota_limit"

    project_id: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    resource: Mapped[str] = mapped_column(sa.String(255), primary_key=True)
    hard_limit: Mapped[int] = mapped_column(sa.Integer)


class QuotaClass(Base):
    """A quota class's limit for one resource; the ``default`` class's limits are every
    project's defaults (Cinder's ``os-quota-class-sets``)."""

    __tablename__ = "volume_quota_class"

    class_name: Mapped[str] = mapped_column(sa.String(255), primary_key=True)
    resource: Mapped[str] = mapped_column(sa.String(255), primary_key=True)
    hard_limit: Mapped[int] = mapped_column(sa.Integer)


class QuotaUsage(Base):
    """What a project uses of one resource, changed only by CAS on ``in_use``."""

    __tablename__ = "volume_quota_usage"

    project_id: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    resource: Mapped[str] = mapped_column(sa.String(255), primary_key=True)
    in_use: Mapped[int] = mapped_column(sa.Integer, default=0)


class Backup(Base):
    """A backup of a volume's data; chunks and manifest are objects in ``container`` of the
    owner's account (or files under ``<data_dir>/backups/<id>/``: docs/volume.md)."""

    __tablename__ = "volume_backup"

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    project_id: Mapped[str] = mapped_column(sa.String(64), index=True)
    user_id: Mapped[str | None] = mapped_column(sa.String(64), nullable=True)
    volume_id: Mapped[str] = mapped_column(ID, index=True)
    parent_id: Mapped[str | None] = mapped_column(ID, nullable=True, index=True)
    # A backup of a snapshot (of ``volume_id``) reads the snapshot's data, dated by it.
    snapshot_id: Mapped[str | None] = mapped_column(ID, nullable=True, index=True)
    data_timestamp: Mapped[dt.datetime | None] = mapped_column(sa.DateTime, nullable=True)
    name: Mapped[str | None] = mapped_column(sa.String(255), nullable=True)
    description: Mapped[str | None] = mapped_column(sa.String(255), nullable=True)
    size: Mapped[int] = mapped_column(sa.Integer)
    status: Mapped[str] = mapped_column(sa.String(30), index=True)
    fail_reason: Mapped[str | None] = mapped_column(sa.Text, nullable=True)
    object_count: Mapped[int] = mapped_column(sa.Integer, default=0)
    container: Mapped[str] = mapped_column(sa.String(255), default="volumebackups", server_default="volumebackups")
    # The zone asked for (3.51), else the backup service's; None on rows from before.
    availability_zone: Mapped[str | None] = mapped_column(sa.String(255), nullable=True)
    # An imported backup's data is another record's blobs (Cinder's service_metadata): that
    # backup's id and project; None for a backup's own.
    data_id: Mapped[str | None] = mapped_column(ID, nullable=True)
    data_project_id: Mapped[str | None] = mapped_column(sa.String(64), nullable=True)
    # Where a restore writes to, while ``restoring``.
    restore_volume_id: Mapped[str | None] = mapped_column(ID, nullable=True)
    task_started_at: Mapped[dt.datetime | None] = mapped_column(sa.DateTime, nullable=True, index=True)
    task_owner: Mapped[str | None] = mapped_column(sa.String(255), nullable=True, index=True)
    created_at: Mapped[dt.datetime] = mapped_column(sa.DateTime, default=utcnow, index=True)
    updated_at: Mapped[dt.datetime] = mapped_column(sa.DateTime, default=utcnow)


class QosSpecs(Base):
    """Named QoS settings (e.g. ``total_iops_sec``) for a consumer: front-end, back-end or both."""

    __tablename__ = "volume_qos_specs"

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(255), unique=True)
    consumer: Mapped[str] = mapped_column(sa.String(20), default="back-end")
    specs: Mapped[dict] = mapped_column(JSONText, default=dict)
    created_at: Mapped[dt.datetime] = mapped_column(sa.DateTime, default=utcnow)


class QosAssociation(Base):
    """A volume type uses at most one QoS specs (the primary key says so)."""

    __tablename__ = "volume_qos_association"

    volume_type_id: Mapped[str] = mapped_column(ID, sa.ForeignKey("volume_type.id", ondelete="CASCADE"),
                                                primary_key=True)
    qos_specs_id: Mapped[str] = mapped_column(ID, sa.ForeignKey("volume_qos_specs.id"), index=True)


class DefaultType(Base):
    """A project's own default volume type (3.62), which overrides ``__DEFAULT__`` for the
    volumes it creates without one.  A type that is some project's default cannot be
    deleted (the foreign key backs the check)."""

    __tablename__ = "volume_default_type"

    project_id: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    volume_type_id: Mapped[str] = mapped_column(ID, sa.ForeignKey("volume_type.id"), index=True)
    created_at: Mapped[dt.datetime] = mapped_column(sa.DateTime, default=utcnow)


class Transfer(Base):
    """A pending hand-over of a volume to another project.  ``volume_id`` is unique: a
    second transfer of the same volume loses at the INSERT.  Only a salted hash of the
    auth key is kept; the key itself is shown once, in the create response."""

    __tablename__ = "volume_transfer"

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    volume_id: Mapped[str] = mapped_column(ID, sa.ForeignKey("volume_volume.id", ondelete="CASCADE"), unique=True)
    project_id: Mapped[str] = mapped_column(sa.String(64), index=True)
    name: Mapped[str | None] = mapped_column(sa.String(255), nullable=True)
    salt: Mapped[str] = mapped_column(sa.String(32))
    key_hash: Mapped[str] = mapped_column(sa.String(64))
    # 3.55: the volume goes alone, its snapshots stay with the donor.
    no_snapshots: Mapped[bool] = mapped_column(sa.Boolean, default=False, server_default=sa.false())
    created_at: Mapped[dt.datetime] = mapped_column(sa.DateTime, default=utcnow, index=True)


class VolumeImageMetadata(Base):
    """Cinder's ``volume_image_metadata``: what the image a volume came from said about
    itself (id, name, formats, sizes), copied at create and inherited by clones; Nova
    reads it when it boots from the volume."""

    __tablename__ = "volume_image_metadata"

    volume_id: Mapped[str] = mapped_column(ID, sa.ForeignKey("volume_volume.id", ondelete="CASCADE"),
                                           primary_key=True)
    key: Mapped[str] = mapped_column(sa.String(255), primary_key=True)
    value: Mapped[str] = mapped_column(sa.Text)



class Message(Base):
    """Cinder's user message: what went wrong in an operation the API had already accepted
    (the scheduler found no backend, the driver failed), for the project to read.  The
    text is derived from ``action_id`` and ``detail_id`` (never an exception's words);
    ``expires_at`` is when the periodic sweep may delete it (``guaranteed_until``)."""

    __tablename__ = "volume_message"

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    project_id: Mapped[str] = mapped_column(sa.String(64), index=True)
    request_id: Mapped[str] = mapped_column(sa.String(255))
    resource_type: Mapped[str | None] = mapped_column(sa.String(36), nullable=True)
    resource_uuid: Mapped[str | None] = mapped_column(sa.String(255), nullable=True, index=True)
    event_id: Mapped[str] = mapped_column(sa.String(255))
    action_id: Mapped[str | None] = mapped_column(sa.String(10), nullable=True)
    detail_id: Mapped[str | None] = mapped_column(sa.String(10), nullable=True)
    message_level: Mapped[str] = mapped_column(sa.String(255))
    created_at: Mapped[dt.datetime] = mapped_column(sa.DateTime, default=utcnow, index=True)
    expires_at: Mapped[dt.datetime] = mapped_column(sa.DateTime, index=True)


class GroupType(Base):
    """A generic volume group's type (3.11+): a name and group specs, as volume types have
    extra specs.  Private ones are the admin's (there is no group-type access API)."""

    __tablename__ = "volume_group_type"

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(255), unique=True)
    description: Mapped[str | None] = mapped_column(sa.String(255), nullable=True)
    is_public: Mapped[bool] = mapped_column(sa.Boolean, default=True)
    group_specs: Mapped[dict] = mapped_column(JSONText, default=dict)
    generation: Mapped[int] = mapped_column(sa.Integer, default=0)
    created_at: Mapped[dt.datetime] = mapped_column(sa.DateTime, default=utcnow)


class Group(Base):
    """A generic volume group (3.13+): volumes of the group's volume types that are
    snapshotted, cloned and deleted together.  ``status`` changes by CAS like a volume's;
    ``task_started_at`` dates a ``creating``/``deleting`` the recovery sweep settles."""

    __tablename__ = "volume_group"

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    project_id: Mapped[str] = mapped_column(sa.String(64), index=True)
    user_id: Mapped[str | None] = mapped_column(sa.String(64), nullable=True)
    name: Mapped[str | None] = mapped_column(sa.String(255), nullable=True)
    description: Mapped[str | None] = mapped_column(sa.String(255), nullable=True)
    status: Mapped[str] = mapped_column(sa.String(30), index=True)
    availability_zone: Mapped[str] = mapped_column(sa.String(255), default="nova")
    group_type_id: Mapped[str] = mapped_column(ID, index=True)
    group_snapshot_id: Mapped[str | None] = mapped_column(ID, nullable=True)
    source_group_id: Mapped[str | None] = mapped_column(ID, nullable=True)
    # Bumped by every change of the group (status, members, a snapshot or a volume added):
    # a request that decided on what it read CASes on it, so two that each checked the
    # other's absence (a delete and a snapshot create) cannot both win.
    generation: Mapped[int] = mapped_column(sa.Integer, default=0, server_default="0")
    task_started_at: Mapped[dt.datetime | None] = mapped_column(sa.DateTime, nullable=True, index=True)
    created_at: Mapped[dt.datetime] = mapped_column(sa.DateTime, default=utcnow, index=True)
    updated_at: Mapped[dt.datetime] = mapped_column(sa.DateTime, default=utcnow)


class GroupVolumeType(Base):
    """The volume types a group's volumes may have (Cinder's group_volume_type_mapping);
    a volume type some group names cannot be deleted."""

    __tablename__ = "volume_group_volume_type"

    group_id: Mapped[str] = mapped_column(ID, sa.ForeignKey("volume_group.id", ondelete="CASCADE"),
                                          primary_key=True)
    volume_type_id: Mapped[str] = mapped_column(ID, primary_key=True, index=True)


class GroupSnapshot(Base):
    """A snapshot of every volume of a group at once (3.14+); its volume snapshots carry
    its id.  Status by CAS, as the group's."""

    __tablename__ = "volume_group_snapshot"

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    project_id: Mapped[str] = mapped_column(sa.String(64), index=True)
    user_id: Mapped[str | None] = mapped_column(sa.String(64), nullable=True)
    group_id: Mapped[str] = mapped_column(ID, index=True)
    group_type_id: Mapped[str] = mapped_column(ID)
    name: Mapped[str | None] = mapped_column(sa.String(255), nullable=True)
    description: Mapped[str | None] = mapped_column(sa.String(255), nullable=True)
    status: Mapped[str] = mapped_column(sa.String(30), index=True)
    task_started_at: Mapped[dt.datetime | None] = mapped_column(sa.DateTime, nullable=True, index=True)
    created_at: Mapped[dt.datetime] = mapped_column(sa.DateTime, default=utcnow, index=True)
    updated_at: Mapped[dt.datetime] = mapped_column(sa.DateTime, default=utcnow)
