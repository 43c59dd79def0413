"""Servers as the API sees them: creating (validation, quota, the initial state), finding,
listing with Nova's filters, renaming, metadata, tags and starting deletion.

The work on hosts happens in :mod:`.lifecycle`; this module only moves instances into the
state that asks for it and casts through :class:`~.rpcapi.ComputeAPI`.
"""

from __future__ import annotations

import base64
import binascii
import builtins
import datetime as dt
import re
import secrets
import uuid
from dataclasses import dataclass, field

import sqlalchemy as sa
from sqlalchemy import exc as sa_exc

from pocketstack.common.context import RequestContext
from pocketstack.common.db import Database, utcnow
from pocketstack.common.db.cas import ConcurrentUpdate, changed_rows, run_in_transaction
from pocketstack.common.pagination import Paging, apply_paging
from pocketstack.compute import errors
from pocketstack.compute import states as st
from pocketstack.compute.archive import get_deleted
from pocketstack.compute.models import (
    BlockDeviceMapping,
    DeletedInstance,
    Instance,
    InstanceMetadata,
    InstanceTag,
    ServerGroupMember,
)
from pocketstack.compute.quotas import Quotas, group_scope
from pocketstack.compute.transitions import load, transition

MAX_TAGS = 50
# The instance columns a server's rendering reads: lists leave out what only the hosts use.
_UNLISTED = {"image_properties", "scheduler_hints", "requested_networks", "requested_roles", "guest", "old_flavor",
             "new_flavor", "migration", "key_data", "requested_host"}
_LISTED = {model: tuple(getattr(model, c.key) for c in model.__table__.columns if c.key not in _UNLISTED)
           for model in (Instance, DeletedInstance)}
_TAG = re.compile(r"^[^,/]{1,60}$")
SORT_KEYS = {"display_name": "name", "uuid": "id", "display_description": "description", "created_at": "created_at",
             "updated_at": "updated_at", "launched_at": "launched_at", "host": "host", "node": "node",
             "hostname": "hostname", "image_ref": "image_ref", "instance_type_id": "flavor_id",
             "key_name": "key_name", "launch_index": "launch_index", "power_state": "power_state",
             "project_id": "project_id", "task_state": "task_state", "user_id": "user_id",
             "vm_state": "vm_state", "availability_zone": "availability_zone", "locked_by": "locked_by",
             "access_ip_v4": "access_ipv4", "access_ip_v6": "access_ipv6", "config_drive": "config_drive",
             "locked": "locked"}  # locked from 2.73 (api/servers.py: parse_sort)


def embed_flavor(flavor, extra_specs: dict[str, str]) -> dict:
    return {"id": flavor.id, "name": flavor.name, "vcpus": flavor.vcpus, "ram": flavor.memory_mb,
            "disk": flavor.root_gb, "ephemeral": flavor.ephemeral_gb, "swap": flavor.swap,
            "extra_specs": dict(extra_specs)}


def check_user_data(user_data: str | None) -> None:
    if user_data is None:
        return
    try:
        base64.b64decode(user_data, validate=True)
    except (binascii.Error, ValueError):
        raise errors.InvalidUserData() from None


def check_personality(files: list[dict], limits: dict[str, int]) -> list[dict]:
    """Nova's file injection (``personality``, before 2.57): each file's ``contents`` is
    base64 (400 otherwise), and the count, path and content sizes are within the project's
    ``injected_files*`` limits (403, Nova's words).  The files as stored: path and base64."""
    def over(resource: str, value: int) -> bool:
        limit = limits.get(resource, -1)
        return limit != -1 and value > limit
    if over("injected_files", len(files)):
        raise errors.PersonalityLimitExceeded()
    for item in files:
        try:
            content = base64.b64decode(item["contents"], validate=True)
        except (binascii.Error, ValueError):
            raise errors.InvalidPersonalityContents(value=item["contents"]) from None
        if over("injected_file_path_bytes", len(item["path"].encode())):
            raise errors.PersonalityPathLimitExceeded(allowed=limits["injected_file_path_bytes"])
        if over("injected_file_content_bytes", len(content)):
            raise errors.PersonalityContentLimitExceeded(allowed=limits["injected_file_content_bytes"])
    return [{"path": item["path"], "contents": item["contents"]} for item in files]


def sanitize_hostname(name: str) -> str:
    """The guest hostname Nova derives from a server name (``nova.utils.sanitize_hostname``):
    Latin-1 only, cut to dnsmasq's 63 characters, then spaces, underscores and dots become
    dashes, every other character but word characters and dashes goes, lower case, no
    leading or trailing dot or dash.  Exactly Nova's, for Tempest's FQDN test and for any
    tool that predicts a guest's hostname from its name.  May be empty."""
    host = name.encode("latin-1", "ignore").decode("latin-1")[:63]
    host = re.sub(r"[ _.]", "-", host)
    host = re.sub(r"[^\w.-]+", "", host)
    return host.lower().strip(".-")


def _hostname(name: str, instance_id: str, count: int, index: int) -> str:
    """Nova's ``_populate_instance_names``: the sanitized name, ``-<n>`` appended when
    several are booted at once, or ``Server-<uuid>`` when nothing of the name is left."""
    host = sanitize_hostname(name)
    if not host:
        return f"Server-{instance_id}"
    return f"{host}-{index + 1}" if count > 1 else host


@dataclass
class BootRequest:
    """A validated POST /servers, ready to be counted and stored."""

    name: str
    flavor: dict
    image_ref: str
    image_properties: dict
    min_count: int = 1
    max_count: int = 1
    description: str | None = None
    key_name: str | None = None
    key_data: str | None = None
    user_data: str | None = None
    injected_files: list[dict] = field(default_factory=list)
    metadata: dict[str, str] = field(default_factory=dict)
    tags: list[str] = field(default_factory=list)
    availability_zone: str | None = None
    requested_host: str | None = None  # 2.74
    group_id: str | None = None
    config_drive: str = ""
    access_ipv4: str = ""
    access_ipv6: str = ""
    security_groups: list[str] = field(default_factory=lambda: ["default"])
    scheduler_hints: dict = field(default_factory=dict)
    requested_networks: str | list | None = None
    boot_from_volume: bool = False
    # compute_block_device_mapping rows (column values) stored with each instance
    block_devices: list[dict] = field(default_factory=list)
    hostname: str | None = None  # 2.90: the guest's, else one made of the name
    auto_disk_config: bool = False  # OS-DCF:diskConfig AUTO


@dataclass
class ServerFilters:
    project_id: str | None
    name: str | None = None
    vm_states: list[str] | None = None
    flavor_id: str | None = None
    image_ref: str | None = None
    host: str | None = None
    changes_since: dt.datetime | None = None
    changes_before: dt.datetime | None = None
    reservation_id: str | None = None
    availability_zone: str | None = None
    key_name: str | None = None
    user_id: str | None = None
    locked: bool | None = None  # 2.73
    task_state: str | None = None
    # Nova's regular-expression filters (matched as Nova's REGEXP, from the start of the
    # value or anywhere: ``re.search``) on these attributes: availability_zone, key_name,
    # config_drive, created_at, launched_at, terminated_at, power_state, progress.
    patterns: dict[str, str] = field(default_factory=dict)
    deleted: bool = False  # list the deleted servers (the archive) instead of the live ones
    tags: list[str] = field(default_factory=list)
    tags_any: list[str] = field(default_factory=list)
    not_tags: list[str] = field(default_factory=list)
    not_tags_any: list[str] = field(default_factory=list)
    # Nova's ``ip``/``ip6`` filters, resolved through the network service to server ids.
    ids: list[str] | None = None


class Instances:
    def __init__(self, db: Database, quotas: Quotas):
        self.db = db
        self.quotas = quotas

    # -- create ----------------------------------------------------------------------
    def create(self, context: RequestContext, boot: BootRequest) -> list[Instance]:
        """Count the instances against the quota and store them in BUILD/scheduling, all in
        one transaction: either every instance is accepted or none."""
        per_instance = {"instances": 1, "cores": boot.flavor["vcpus"], "ram": boot.flavor["ram"]}
        project = context.project_id
        if project is None:  # a system-scoped token: nothing to count against or own
            raise errors.ProjectScopeRequired()
        count = self.quotas.fit_count(project, per_instance, boot.max_count, boot.min_count)
        self.quotas.ensure_rows(project, per_instance)
        if boot.group_id:
            self.quotas.ensure_rows(group_scope(boot.group_id), ["server_group_members"])
        reservation_id = "r-" + secrets.token_hex(4)
        now = utcnow()
        instances = []
        for index in range(count):
            name = boot.name if count == 1 else f"{boot.name}-{index + 1}"
            instance_id = str(uuid.uuid4())
            instances.append(dict(
                id=instance_id, name=name, description=boot.description, project_id=project,
                user_id=context.user_id, reservation_id=reservation_id, launch_index=index,
                flavor_id=boot.flavor["id"], flavor=boot.flavor, image_ref=boot.image_ref,
                image_properties=boot.image_properties, boot_from_volume=boot.boot_from_volume,
                key_name=boot.key_name, key_data=boot.key_data, user_data=boot.user_data,
                injected_files=boot.injected_files, config_drive=boot.config_drive, requested_az=boot.availability_zone,
                requested_host=boot.requested_host,
                availability_zone=boot.availability_zone, scheduler_hints=boot.scheduler_hints,
                requested_networks=boot.requested_networks, requested_roles=list(context.roles),
                vm_state=st.BUILDING, task_state=st.SCHEDULING, power_state=st.NOSTATE, guest={},
                access_ipv4=boot.access_ipv4, access_ipv6=boot.access_ipv6,
                security_groups=boot.security_groups,
                hostname=boot.hostname or _hostname(boot.name, instance_id, count, index),
                auto_disk_config=boot.auto_disk_config,
                created_at=now, updated_at=now))
        limits = self.quotas.limits(project)

        def work(s):
            self.quotas.reserve(s, project, {k: v * count for k, v in per_instance.items()}, limits)
            if boot.group_id:
                self.quotas.reserve(s, group_scope(boot.group_id), {"server_group_members": count}, limits)
            s.execute(sa.insert(Instance), instances)
            for values in instances:
                s.add_all(InstanceMetadata(instance_id=values["id"], key=k, value=v)
                          for k, v in boot.metadata.items())
                s.add_all(InstanceTag(instance_id=values["id"], tag=t) for t in boot.tags)
                s.add_all(BlockDeviceMapping(id=str(uuid.uuid4()), instance_id=values["id"], **bdm)
                          for bdm in boot.block_devices)
                if boot.group_id:
                    s.add(ServerGroupMember(group_id=boot.group_id, instance_id=values["id"]))
        run_in_transaction(self.db, work)
        ids = [values["id"] for values in instances]
        with self.db.session(readonly=True) as s:  # one read for the whole batch, in launch order
            stored = {row.id: row for row in s.scalars(sa.select(Instance).where(Instance.id.in_(ids)))}
        return [stored[i] for i in ids]

    # -- read ------------------------------------------------------------------------
    def get(self, instance_id: str) -> Instance:
        return load(self.db, instance_id)

    def on_host(self, host: str) -> builtins.list[Instance]:
        """The servers on ``host`` (live ones: a deleted server's row is archived)."""
        with self.db.session(readonly=True) as s:
            return builtins.list(s.scalars(sa.select(Instance).where(Instance.host == host).order_by(Instance.id)))

    def get_deleted(self, instance_id: str) -> DeletedInstance | None:
        return get_deleted(self.db, instance_id)

    def details(self, instance_ids: list[str]) -> tuple[dict[str, dict], dict[str, list[str]]]:
        """Metadata and tags of many instances in two queries (for list rendering)."""
        metadata: dict[str, dict] = {i: {} for i in instance_ids}
        tags: dict[str, list[str]] = {i: [] for i in instance_ids}
        if not instance_ids:
            return metadata, tags
        with self.db.session(readonly=True) as s:  # plain rows: no ORM objects to build per item
            for instance_id, key, value in s.execute(
                    sa.select(InstanceMetadata.instance_id, InstanceMetadata.key, InstanceMetadata.value)
                    .where(InstanceMetadata.instance_id.in_(instance_ids))):
                metadata[instance_id][key] = value
            for instance_id, tag in s.execute(sa.select(InstanceTag.instance_id, InstanceTag.tag)
                                              .where(InstanceTag.instance_id.in_(instance_ids))
                                              .order_by(InstanceTag.tag)):
                tags[instance_id].append(tag)
        return metadata, tags

    def list(self, filters: ServerFilters, sort: list[tuple[str, str]], limit: int | None,
             marker: str | None, brief: bool = False) -> list[sa.Row]:
        """One page of servers, filtered, ordered and paged by SQL.

        ``marker`` becomes a keyset condition (the rows after the marker's sort values) and
        ``limit`` a LIMIT, so a page of a 10k-server list reads only its own rows, along the
        sort index.  Two cases scan the ordered ids first and load only the page's rows:
        Nova's ``name`` filter (a regular expression, matched here so that it means the same
        on every backend) and sorting by a nullable column (where backends disagree on where
        NULLs go, so "after the marker" is found in the database's own order).

        The result is plain rows (attributes named as the instance's) of what a server's
        rendering reads — only id and name when ``brief`` (``GET /servers``): building a
        thousand ORM objects and decoding the JSON columns only the hosts use was most of
        a page's time.  ``filters.deleted`` lists the archive of deleted servers the same way."""
        model: type[Instance] | type[DeletedInstance] = DeletedInstance if filters.deleted else Instance
        listed = (model.id, model.name) if brief else _LISTED[model]
        columns = [(getattr(model, SORT_KEYS.get(k, k)), d) for k, d in sort]
        order = [c.desc() if d == "desc" else c.asc() for c, d in columns]
        stmt = self._filtered(filters, listed, model)
        if not filters.name and not filters.patterns and not any(c.nullable for c, _ in columns):
            marker_row = self._marker(marker, filters.project_id) if marker is not None else None
            paging = Paging(limit=limit, sort=[(c.key, d) for c, d in columns])
            with self.db.session(readonly=True) as s:
                return list(s.execute(apply_paging(stmt, model, paging, marker_row)).all())
        with self.db.session(readonly=True) as s:
            scanned = s.execute(stmt.with_only_columns(*_scanned(model, filters)).order_by(*order)).all()
            if filters.name:
                try:
                    pattern = re.compile(filters.name)
                except re.error:
                    raise errors.InvalidNameFilter(pattern=filters.name) from None
                scanned = [row for row in scanned if pattern.search(row.name)]
            for attribute, raw in filters.patterns.items():
                scanned = [row for row in scanned if _matches(raw, _filter_value(row, attribute))]
            ids = [row.id for row in scanned]
            if marker is not None:
                if marker not in ids:
                    raise errors.ServerMarkerNotFound(marker=marker)
                ids = ids[ids.index(marker) + 1:]
            ids = ids[:limit] if limit is not None else ids
            rows = {row.id: row for row in s.execute(sa.select(*listed).where(model.id.in_(ids)))} if ids else {}
        return [rows[i] for i in ids if i in rows]

    @staticmethod
    def _filtered(f: ServerFilters, columns, model: type[Instance] | type[DeletedInstance]) -> sa.Select:
        """``SELECT columns FROM`` the model's table with every filter but the name regex."""
        stmt = sa.select(*columns)
        for column, value in ((model.project_id, f.project_id), (model.flavor_id, f.flavor_id),
                              (model.image_ref, f.image_ref), (model.host, f.host),
                              (model.reservation_id, f.reservation_id), (model.key_name, f.key_name),
                              (model.availability_zone, f.availability_zone), (model.user_id, f.user_id),
                              (model.task_state, f.task_state)):
            if value is not None:
                stmt = stmt.where(column == value)
        if f.vm_states is not None:
            stmt = stmt.where(model.vm_state.in_(f.vm_states))
        if f.locked is not None:
            stmt = stmt.where(model.locked == f.locked)
        if f.ids is not None:
            stmt = stmt.where(model.id.in_(f.ids))
        if f.changes_since is not None:
            stmt = stmt.where(model.updated_at >= f.changes_since)
        if f.changes_before is not None:
            stmt = stmt.where(model.updated_at <= f.changes_before)
        for tag in f.tags:
            stmt = stmt.where(model.id.in_(sa.select(InstanceTag.instance_id).where(InstanceTag.tag == tag)))
        if f.tags_any:
            stmt = stmt.where(model.id.in_(sa.select(InstanceTag.instance_id)
                                           .where(InstanceTag.tag.in_(f.tags_any))))
        if f.not_tags:
            having_all = (sa.select(InstanceTag.instance_id).where(InstanceTag.tag.in_(f.not_tags))
                          .group_by(InstanceTag.instance_id)
                          .having(sa.func.count(sa.distinct(InstanceTag.tag)) == len(set(f.not_tags))))
            stmt = stmt.where(model.id.not_in(having_all))
        if f.not_tags_any:
            stmt = stmt.where(model.id.not_in(sa.select(InstanceTag.instance_id)
                                              .where(InstanceTag.tag.in_(f.not_tags_any))))
        return stmt

    def _marker(self, marker: str, project_id: str | None) -> Instance | DeletedInstance:
        """The marker's row, which must exist (in the listed project): 400 as Nova otherwise.
        A deleted server is a marker too, in any listing (Nova reads the marker with
        ``read_deleted='yes'``): the page starts after its sort values."""
        with self.db.session(readonly=True) as s:
            row: Instance | DeletedInstance | None = s.get(Instance, marker) or s.get(DeletedInstance, marker)
        if row is None or (project_id is not None and row.project_id != project_id):
            raise errors.ServerMarkerNotFound(marker=marker)
        return row

    # -- update ----------------------------------------------------------------------
    def update(self, instance_id: str, values: dict) -> Instance:
        if values:  # a rename keeps the hostname, as Nova's (2.90 lets users choose it)
            with self.db.session() as s:
                s.execute(sa.update(Instance).where(Instance.id == instance_id).values(updated_at=utcnow(),
                                                                                      **values))
        return self.get(instance_id)

    def begin_delete(self, instance_id: str) -> Instance:
        """Move the instance to task_state ``deleting`` from whatever it was doing (a CAS on
        the task state we read, so only one delete wins); 404 once it is gone."""
        for _ in range(20):
            inst = self.get(instance_id)
            if inst.task_state == st.DELETING:
                return inst
            if transition(self.db, instance_id, {"task_state": inst.task_state}, {"task_state": st.DELETING}):
                return self.get(instance_id)
        raise errors.InstanceDeleteContended(instance_id=instance_id)

    # -- metadata --------------------------------------------------------------------
    def metadata(self, instance_id: str) -> dict[str, str]:
        return self.details([instance_id])[0][instance_id]

    def set_metadata(self, instance_id: str, project_id: str, items: dict[str, str], replace: bool) -> dict:
        current = {} if replace else self.metadata(instance_id)
        merged = current | items
        self.quotas.check_limit(project_id, "metadata_items", len(merged))

        def work(s):
            if replace:
                s.execute(sa.delete(InstanceMetadata).where(InstanceMetadata.instance_id == instance_id))
            for key, value in items.items():
                row = s.get(InstanceMetadata, (instance_id, key))
                if row is None:
                    s.add(InstanceMetadata(instance_id=instance_id, key=key, value=value))
                else:
                    row.value = value
            try:
                s.flush()
            except sa_exc.IntegrityError:
                raise ConcurrentUpdate("metadata key added concurrently") from None
        run_in_transaction(self.db, work)
        return self.metadata(instance_id)

    def delete_metadata(self, instance_id: str, key: str) -> None:
        with self.db.session() as s:
            gone = changed_rows(s, sa.delete(InstanceMetadata).where(InstanceMetadata.instance_id == instance_id,
                                                                     InstanceMetadata.key == key))
        if not gone:
            raise errors.MetadataKeyNotFound(key=key)

    # -- tags ------------------------------------------------------------------------
    def tags(self, instance_id: str) -> builtins.list[str]:
        return self.details([instance_id])[1][instance_id]

    @staticmethod
    def check_tag(tag: str) -> None:
        if not isinstance(tag, str) or not _TAG.match(tag):
            raise errors.InvalidTag(tag=tag)

    def replace_tags(self, instance_id: str, tags: builtins.list[str]) -> builtins.list[str]:
        tags = sorted(set(tags))
        for tag in tags:
            self.check_tag(tag)
        if len(tags) > MAX_TAGS:
            raise errors.TooManyTags(limit=MAX_TAGS)
        with self.db.session() as s:
            s.execute(sa.delete(InstanceTag).where(InstanceTag.instance_id == instance_id))
            s.add_all(InstanceTag(instance_id=instance_id, tag=t) for t in tags)
        return tags

    def add_tag(self, instance_id: str, tag: str) -> bool:
        """Add one tag; False if it was already there."""
        self.check_tag(tag)
        current = self.tags(instance_id)
        if tag in current:
            return False
        if len(current) >= MAX_TAGS:
            raise errors.TooManyTags(limit=MAX_TAGS)
        try:
            with self.db.session() as s:
                s.add(InstanceTag(instance_id=instance_id, tag=tag))
        except sa_exc.IntegrityError:
            return False
        return True

    def delete_tag(self, instance_id: str, tag: str) -> None:
        with self.db.session() as s:
            gone = changed_rows(s, sa.delete(InstanceTag).where(InstanceTag.instance_id == instance_id,
                                                                InstanceTag.tag == tag))
        if not gone:
            raise errors.InstanceTagNotFound(tag=tag, instance_id=instance_id)

    def delete_tags(self, instance_id: str) -> None:
        with self.db.session() as s:
            s.execute(sa.delete(InstanceTag).where(InstanceTag.instance_id == instance_id))


def _scanned(model: type[Instance] | type[DeletedInstance], f: ServerFilters) -> list:
    """The columns a scanned listing reads: ids and names, and what its patterns match."""
    columns: list = [model.id, model.name]
    for attribute in f.patterns:
        if attribute == "progress":
            columns.append(model.vm_state)
        elif attribute == "terminated_at":
            if model is DeletedInstance:
                columns.append(DeletedInstance.deleted_at.label("terminated_at"))
        else:
            columns.append(getattr(model, attribute))
    return list(dict.fromkeys(columns))


def _filter_value(row, attribute: str) -> str | None:
    """What a pattern filter matches: the column as the database would show it (times as
    ``2024-05-01 12:00:00``; a live server has no ``terminated_at``; ``progress`` is 0
    while building or active, as the server view shows it, and nothing otherwise)."""
    if attribute == "progress":
        return "0" if row.vm_state in (st.BUILDING, st.ACTIVE) else None
    value = getattr(row, attribute, None)
    return None if value is None else str(value)


def _matches(raw: str, value: str | None) -> bool:
    """Nova's regular-expression filter (a bad pattern matches literally, as its
    ``safe_regex_filter`` escapes it)."""
    if value is None:
        return False
    try:
        return re.search(raw, value) is not None
    except re.error:
        return raw in value
