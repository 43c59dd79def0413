"""Compute tables.

Flavors are copied into the instance row when it is created (Nova's embedded flavor),
so a flavor can be deleted or its extra specs changed without rewriting history.
Every contended counter (quota usage, server group membership) and every instance state
lives in a column that is changed only by compare-and-swap (see ``common/db/cas.py``).
"""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.dialects import mysql
from sqlalchemy.orm import Mapped, mapped_column

from pocketstack.common.db.base import Base, JSONText, new_id, utcnow

ID = sa.String(64)
# Microsecond timestamps on MySQL/MariaDB too (their DATETIME defaults to whole seconds),
# so "newest first" orderings are the same on every backend.
TIMESTAMP = sa.DateTime().with_variant(mysql.DATETIME(fsp=6), "mysql", "mariadb")


class Flavor(Base):
    __tablename__ = "compute_flavor"

    id: Mapped[str] = mapped_column(sa.String(255), primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(255), unique=True)
    vcpus: Mapped[int] = mapped_column(sa.Integer)
    memory_mb: Mapped[int] = mapped_column(sa.Integer)
    root_gb: Mapped[int] = mapped_column(sa.Integer, default=0)
    ephemeral_gb: Mapped[int] = mapped_column(sa.Integer, default=0)
    swap: Mapped[int] = mapped_column(sa.Integer, default=0)
    rxtx_factor: Mapped[float] = mapped_column(sa.Float, default=1.0)
    is_public: Mapped[bool] = mapped_column(sa.Boolean, default=True)
    disabled: Mapped[bool] = mapped_column(sa.Boolean, default=False)
    description: Mapped[str | None] = mapped_column(sa.Text, nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(TIMESTAMP, default=utcnow)


class FlavorExtraSpec(Base):
    __tablename__ = "compute_flavor_extra_spec"

    flavor_id: Mapped[str] = mapped_column(sa.String(255), sa.ForeignKey("compute_flavor.id", ondelete="CASCADE"),
                                           primary_key=True)
    key: Mapped[str] = mapped_column(sa.String(255), primary_key=True)
    value: Mapped[str] = mapped_column(sa.String(255))


class FlavorAccess(Base):
    __tablename__ = "compute_flavor_access"

    flavor_id: Mapped[str] = mapped_column(sa.String(255), sa.ForeignKey("compute_flavor.id", ondelete="CASCADE"),
                                           primary_key=True)
    project_id: Mapped[str] = mapped_column(ID, primary_key=True, index=True)


class KeyPair(Base):
    __tablename__ = "compute_keypair"
    __table_args__ = (sa.UniqueConstraint("user_id", "name"),)

    id: Mapped[int] = mapped_column(sa.Integer, primary_key=True, autoincrement=True)
    user_id: Mapped[str] = mapped_column(ID)
    name: Mapped[str] = mapped_column(sa.String(255))
    type: Mapped[str] = mapped_column(sa.String(16), default="ssh")
    public_key: Mapped[str] = mapped_column(sa.Text)
    fingerprint: Mapped[str] = mapped_column(sa.String(255))
    created_at: Mapped[dt.datetime] = mapped_column(TIMESTAMP, default=utcnow)


class QuotaLimit(Base):
    """A project's limit for one resource; absent rows mean the default."""

    __tablename__ = "compute_quota_limit"

    project_id: Mapped[str] = mapped_column(ID, primary_key=True)
    resource: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    hard_limit: Mapped[int] = mapped_column(sa.Integer)


class QuotaUsage(Base):
    """What a scope (a project, or ``user:<id>`` for key pairs) uses of one resource.

    Reservations change ``in_use`` by compare-and-swap on its old value, so two racing
    requests can never both take the last unit.
    """

    __tablename__ = "compute_quota_usage"

    scope: Mapped[str] = mapped_column(sa.String(80), primary_key=True)
    resource: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    in_use: Mapped[int] = mapped_column(sa.Integer, default=0)


class ComputeNode(Base):
    """A hypervisor host: its nova-compute service and its hypervisor in one row."""

    __tablename__ = "compute_node"

    id: Mapped[str] = mapped_column(ID, primary_key=True)  # hypervisor UUID = placement provider
    service_id: Mapped[str] = mapped_column(ID, unique=True)
    host: Mapped[str] = mapped_column(sa.String(255), unique=True)
    hypervisor_type: Mapped[str] = mapped_column(sa.String(32), default="fake")
    availability_zone: Mapped[str] = mapped_column(sa.String(255), default="nova")
    vcpus: Mapped[int] = mapped_column(sa.Integer)
    memory_mb: Mapped[int] = mapped_column(sa.Integer)
    local_gb: Mapped[int] = mapped_column(sa.Integer)
    host_ip: Mapped[str] = mapped_column(sa.String(64), default="127.0.0.1")
    disabled: Mapped[bool] = mapped_column(sa.Boolean, default=False)
    disabled_reason: Mapped[str | None] = mapped_column(sa.String(255), nullable=True)
    forced_down: Mapped[bool] = mapped_column(sa.Boolean, default=False)
    created_at: Mapped[dt.datetime] = mapped_column(TIMESTAMP, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(TIMESTAMP, default=utcnow)


class InstanceColumns:
    """The columns of a server, shared by the live table and the archive of deleted ones."""

    id: Mapped[str] = mapped_column(sa.String(36), primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(255), index=True)
    description: Mapped[str | None] = mapped_column(sa.Text, nullable=True)
    project_id: Mapped[str] = mapped_column(ID, index=True)
    user_id: Mapped[str] = mapped_column(ID)
    reservation_id: Mapped[str] = mapped_column(sa.String(32), index=True)
    launch_index: Mapped[int] = mapped_column(sa.Integer, default=0)
    flavor_id: Mapped[str] = mapped_column(sa.String(255), index=True)
    flavor: Mapped[dict] = mapped_column(JSONText)  # the flavor as it was at boot / last resize
    old_flavor: Mapped[dict | None] = mapped_column(JSONText, nullable=True)  # during a resize
    new_flavor: Mapped[dict | None] = mapped_column(JSONText, nullable=True)
    # An ongoing resize: {"id": migration consumer uuid, "source_host", "dest_host"}.
    migration: Mapped[dict | None] = mapped_column(JSONText, nullable=True)
    # A shelved server: {"image_id": its snapshot (None when volume-backed), "at": ISO time
    # it was shelved}; cleared when it is unshelved.
    shelved: Mapped[dict | None] = mapped_column(JSONText, nullable=True)
    image_ref: Mapped[str] = mapped_column(sa.String(64), default="", index=True)
    image_properties: Mapped[dict] = mapped_column(JSONText, default=dict)
    boot_from_volume: Mapped[bool] = mapped_column(sa.Boolean, default=False)
    key_name: Mapped[str | None] = mapped_column(sa.String(255), nullable=True)
    key_data: Mapped[str | None] = mapped_column(sa.Text, nullable=True)
    user_data: Mapped[str | None] = mapped_column(sa.Text, nullable=True)
    # Files injected with the server (``personality``, before 2.57): [{"path", "contents"
    # (base64)}], given to the guest by its config drive and the metadata service.
    # Nullable in the database as migration 9a4d2c7e1b30 added it (rows before it hold
    # NULL); written as [] when a server has none.
    injected_files: Mapped[list] = mapped_column(JSONText, default=list, nullable=True)
    # The password the guest posted to the metadata service (Nova's encrypted admin
    # password, opaque here), read by ``os-server-password``; "" when none.
    password: Mapped[str | None] = mapped_column(sa.Text, nullable=True)
    config_drive: Mapped[str] = mapped_column(sa.String(8), default="")
    availability_zone: Mapped[str | None] = mapped_column(sa.String(255), nullable=True)
    requested_az: Mapped[str | None] = mapped_column(sa.String(255), nullable=True)
    # 2.74: the host an admin asked the build to go to (through the filters, unlike a forced one).
    requested_host: Mapped[str | None] = mapped_column(sa.String(255), nullable=True)
    scheduler_hints: Mapped[dict] = mapped_column(JSONText, default=dict)
    # What the network service is asked for at the networking build step: "none", "auto" or
    # a list of {"network_id", "fixed_ip"} / {"port_id"}; NULL means nothing was asked.
    requested_networks: Mapped[str | list | None] = mapped_column(JSONText, nullable=True)
    # The roles of the user who created the server: the build makes its ports with that
    # authority (Nova's build runs with the request's context), so an admin's server may
    # use a network only the admin sees.  NULL (servers from before): member.
    requested_roles: Mapped[list | None] = mapped_column(JSONText, nullable=True)
    host: Mapped[str | None] = mapped_column(sa.String(255), nullable=True, index=True)
    node: Mapped[str | None] = mapped_column(sa.String(255), nullable=True)
    vm_state: Mapped[str] = mapped_column(sa.String(32), index=True)
    task_state: Mapped[str | None] = mapped_column(sa.String(32), nullable=True, index=True)
    power_state: Mapped[int] = mapped_column(sa.Integer, default=0)
    # What the guest looks like to the hypervisor (CPU topology, rescue state...).
    guest: Mapped[dict] = mapped_column(JSONText, default=dict)
    locked: Mapped[bool] = mapped_column(sa.Boolean, default=False)
    locked_by: Mapped[str | None] = mapped_column(sa.String(16), nullable=True)
    locked_reason: Mapped[str | None] = mapped_column(sa.String(255), nullable=True)  # 2.73
    fault: Mapped[dict | None] = mapped_column(JSONText, nullable=True)
    access_ipv4: Mapped[str] = mapped_column(sa.String(64), default="")
    access_ipv6: Mapped[str] = mapped_column(sa.String(64), default="")
    security_groups: Mapped[list] = mapped_column(JSONText, default=list)
    hostname: Mapped[str] = mapped_column(sa.String(255), default="")
    # ``OS-DCF:diskConfig`` AUTO (Nova's ``auto_disk_config``): the root disk is grown to
    # the flavor's size either way; AUTO tells the guest to grow its partition to fill it.
    auto_disk_config: Mapped[bool] = mapped_column(sa.Boolean, default=False, server_default=sa.false())
    launched_at: Mapped[dt.datetime | None] = mapped_column(TIMESTAMP, nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(TIMESTAMP, default=utcnow, index=True)
    updated_at: Mapped[dt.datetime] = mapped_column(TIMESTAMP, default=utcnow, index=True)


class Instance(InstanceColumns, Base):
    __tablename__ = "compute_instance"
    # A project's servers newest first (the default list order) straight from the index:
    # a page is an index range scan, not a sort of every server of the project.
    __table_args__ = (sa.Index("ix_compute_instance_project_created", "project_id", "created_at", "id"),)


class DeletedInstance(InstanceColumns, Base):
    """A deleted server, as it was when its delete finished (``vm_state`` ``deleted``).

    Nova soft-deletes instance rows; here the live table only ever holds live servers (so
    no query about them has to leave deleted ones out) and the delete moves the row here,
    in the transaction that removes it.  What still reads a deleted server: its instance
    actions (2.21+) and an admin's ``servers/detail?deleted=True`` (and its markers)."""

    __tablename__ = "compute_deleted_instance"
    __table_args__ = (sa.Index("ix_compute_deleted_instance_project_created", "project_id", "created_at", "id"),)

    deleted_at: Mapped[dt.datetime] = mapped_column(TIMESTAMP, default=utcnow)


class InstanceMetadata(Base):
    __tablename__ = "compute_instance_metadata"

    instance_id: Mapped[str] = mapped_column(sa.String(36), sa.ForeignKey("compute_instance.id", ondelete="CASCADE"),
                                             primary_key=True)
    key: Mapped[str] = mapped_column(sa.String(255), primary_key=True)
    value: Mapped[str] = mapped_column(sa.String(255))


class InstanceTag(Base):
    __tablename__ = "compute_instance_tag"

    instance_id: Mapped[str] = mapped_column(sa.String(36), sa.ForeignKey("compute_instance.id", ondelete="CASCADE"),
                                             primary_key=True)
    tag: Mapped[str] = mapped_column(sa.String(60), primary_key=True, index=True)


class PortTag(Base):
    """The device tag a port was given (``networks[].tag`` on create from 2.32, an
    ``os-interface`` attach from 2.49): Nova keeps it in its virtual interface record, the
    port itself (Neutron's) has no such field.  Only tagged ports have a row."""

    __tablename__ = "compute_port_tag"

    instance_id: Mapped[str] = mapped_column(sa.String(36), sa.ForeignKey("compute_instance.id", ondelete="CASCADE"),
                                             primary_key=True)
    port_id: Mapped[str] = mapped_column(sa.String(36), primary_key=True)
    tag: Mapped[str] = mapped_column(sa.String(60))


class InstanceAction(Base):
    __tablename__ = "compute_instance_action"

    id: Mapped[str] = mapped_column(ID, primary_key=True, default=new_id)
    # No foreign key: the actions of a server outlive it (Nova shows them from 2.21).
    instance_id: Mapped[str] = mapped_column(sa.String(36), index=True)
    action: Mapped[str] = mapped_column(sa.String(64))
    request_id: Mapped[str] = mapped_column(sa.String(64))
    project_id: Mapped[str] = mapped_column(ID)
    user_id: Mapped[str] = mapped_column(ID)
    message: Mapped[str | None] = mapped_column(sa.String(255), nullable=True)
    start_time: Mapped[dt.datetime] = mapped_column(TIMESTAMP, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(TIMESTAMP, default=utcnow)


class InstanceActionEvent(Base):
    __tablename__ = "compute_instance_action_event"

    id: Mapped[str] = mapped_column(ID, primary_key=True, default=new_id)
    action_id: Mapped[str] = mapped_column(ID, sa.ForeignKey("compute_instance_action.id", ondelete="CASCADE"),
                                           index=True)
    event: Mapped[str] = mapped_column(sa.String(64))
    host: Mapped[str | None] = mapped_column(sa.String(255), nullable=True)
    result: Mapped[str | None] = mapped_column(sa.String(32), nullable=True)
    traceback: Mapped[str | None] = mapped_column(sa.Text, nullable=True)
    # A failed event's message, as Nova's (2.84 shows it): the error's own message for
    # pocketstack's errors, the exception's class name for anything else.
    details: Mapped[str | None] = mapped_column(sa.Text, nullable=True)
    start_time: Mapped[dt.datetime] = mapped_column(TIMESTAMP, default=utcnow)
    finish_time: Mapped[dt.datetime | None] = mapped_column(TIMESTAMP, nullable=True)


class ServerGroup(Base):
    __tablename__ = "compute_server_group"

    id: Mapped[str] = mapped_column(sa.String(36), primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(255))
    project_id: Mapped[str] = mapped_column(ID, index=True)
    user_id: Mapped[str] = mapped_column(ID)
    policy: Mapped[str] = mapped_column(sa.String(32))
    rules: Mapped[dict] = mapped_column(JSONText, default=dict)
    # Bumped by compare-and-swap whenever a member of a hard-policy group is placed, so two
    # members scheduled at once cannot both decide on a stale view of the group.
    generation: Mapped[int] = mapped_column(sa.Integer, default=0)
    created_at: Mapped[dt.datetime] = mapped_column(TIMESTAMP, default=utcnow)


class ServerGroupMember(Base):
    """Membership; the unique instance id makes a server join at most one group."""

    __tablename__ = "compute_server_group_member"

    group_id: Mapped[str] = mapped_column(sa.String(36), sa.ForeignKey("compute_server_group.id", ondelete="CASCADE"),
                                          primary_key=True)
    instance_id: Mapped[str] = mapped_column(sa.String(36), primary_key=True, unique=True)


class BlockDeviceMapping(Base):
    """Nova's record of a volume a server boots from or has attached: what the build is
    asked to create (``source_type`` image → ``destination_type`` volume, ``volume_size``),
    the volume and the Block Storage attachment once they exist, and whether deleting the
    server deletes the volume.  Written before the build is cast, so a build resumed after
    a restart knows what it was doing."""

    __tablename__ = "compute_block_device_mapping"

    id: Mapped[str] = mapped_column(ID, primary_key=True, default=new_id)
    instance_id: Mapped[str] = mapped_column(sa.String(36), sa.ForeignKey("compute_instance.id", ondelete="CASCADE"),
                                             index=True)
    source_type: Mapped[str] = mapped_column(sa.String(16))
    destination_type: Mapped[str] = mapped_column(sa.String(16))
    image_id: Mapped[str | None] = mapped_column(sa.String(64), nullable=True)
    snapshot_id: Mapped[str | None] = mapped_column(sa.String(64), nullable=True)
    volume_id: Mapped[str | None] = mapped_column(sa.String(64), nullable=True, index=True)
    volume_size: Mapped[int | None] = mapped_column(sa.Integer, nullable=True)
    volume_type: Mapped[str | None] = mapped_column(sa.String(36), nullable=True)  # 2.67: the new volume's type id
    boot_index: Mapped[int | None] = mapped_column(sa.Integer, nullable=True)
    delete_on_termination: Mapped[bool] = mapped_column(sa.Boolean, default=False)
    device_name: Mapped[str | None] = mapped_column(sa.String(255), nullable=True)
    attachment_id: Mapped[str | None] = mapped_column(sa.String(64), nullable=True)
    tag: Mapped[str | None] = mapped_column(sa.String(60), nullable=True)  # device tag (2.42, 2.49; shown 2.70)
    created_at: Mapped[dt.datetime] = mapped_column(TIMESTAMP, default=utcnow)


class Aggregate(Base):
    """A host aggregate (``os-aggregates``).  Its ``availability_zone`` metadata is the zone of
    its hosts: ``compute_node.availability_zone`` is rewritten whenever that can change."""

    __tablename__ = "compute_aggregate"

    id: Mapped[int] = mapped_column(sa.Integer, primary_key=True, autoincrement=True)
    uuid: Mapped[str] = mapped_column(sa.String(36), unique=True)
    name: Mapped[str] = mapped_column(sa.String(255), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(TIMESTAMP, default=utcnow)
    updated_at: Mapped[dt.datetime | None] = mapped_column(TIMESTAMP, nullable=True)


class AggregateHost(Base):
    """Membership; the primary key makes adding a host twice an integrity error (409)."""

    __tablename__ = "compute_aggregate_host"

    aggregate_id: Mapped[int] = mapped_column(sa.Integer, sa.ForeignKey("compute_aggregate.id", ondelete="CASCADE"),
                                              primary_key=True)
    host: Mapped[str] = mapped_column(sa.String(255), primary_key=True, index=True)


class AggregateMetadata(Base):
    __tablename__ = "compute_aggregate_metadata"

    aggregate_id: Mapped[int] = mapped_column(sa.Integer, sa.ForeignKey("compute_aggregate.id", ondelete="CASCADE"),
                                              primary_key=True)
    key: Mapped[str] = mapped_column(sa.String(255), primary_key=True)
    value: Mapped[str] = mapped_column(sa.String(255))


class Migration(Base):
    """The record ``os-migrations`` lists: one per resize, written by the API when the
    resize is accepted.  While the instance's ``migration`` names it, its status is read
    from the instance's states; ``status`` holds what the API last decided (``confirming``,
    ``reverting``), which becomes ``confirmed``/``reverted`` once the instance lets go."""

    __tablename__ = "compute_migration"

    id: Mapped[int] = mapped_column(sa.Integer, primary_key=True, autoincrement=True)
    uuid: Mapped[str] = mapped_column(sa.String(36), unique=True)
    instance_uuid: Mapped[str] = mapped_column(sa.String(36), index=True)
    project_id: Mapped[str] = mapped_column(ID, index=True)
    user_id: Mapped[str] = mapped_column(ID)
    migration_type: Mapped[str] = mapped_column(sa.String(16), default="resize")
    source_compute: Mapped[str | None] = mapped_column(sa.String(255), nullable=True)
    dest_compute: Mapped[str | None] = mapped_column(sa.String(255), nullable=True)
    old_flavor_id: Mapped[str] = mapped_column(sa.String(255))
    new_flavor_id: Mapped[str] = mapped_column(sa.String(255))
    status: Mapped[str] = mapped_column(sa.String(32))
    created_at: Mapped[dt.datetime] = mapped_column(TIMESTAMP, default=utcnow, index=True)
    updated_at: Mapped[dt.datetime | None] = mapped_column(TIMESTAMP, nullable=True)


class ConsoleAuthToken(Base):
    """A console URL's authorization (Nova's ``console_auth_tokens``): the SHA-256 of the
    random token handed out (the token itself is never stored), where the guest's console
    listens (``host``/``port`` as the proxy connects to them) and the compute host that
    runs it; valid until ``expires`` (epoch seconds) and while the instance stays there."""

    __tablename__ = "compute_console_auth_token"

    id: Mapped[int] = mapped_column(sa.Integer, primary_key=True, autoincrement=True)
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    console_type: Mapped[str] = mapped_column(sa.String(32))
    host: Mapped[str] = mapped_column(sa.String(255))
    port: Mapped[int] = mapped_column(sa.Integer)
    internal_access_path: Mapped[str | None] = mapped_column(sa.String(255), nullable=True)
    access_url_base: Mapped[str] = mapped_column(sa.String(2048))
    instance_uuid: Mapped[str] = mapped_column(sa.String(36), index=True)
    compute_host: Mapped[str] = mapped_column(sa.String(255))
    expires: Mapped[int] = mapped_column(sa.Integer, index=True)
    created_at: Mapped[dt.datetime] = mapped_column(TIMESTAMP, default=utcnow)
