"""Generic volume groups (3.13+) and group snapshots (3.14+).

A group holds volumes of its volume types; its snapshot is a snapshot of each of them
taken together.  Requests follow the volumes' pattern: validate, change the rows by CAS
in one transaction (the group's status, its volumes' or snapshots' statuses, quota
``groups`` and the snapshots' quota), then cast.  The member volumes and snapshots are
created and deleted by the worker's ordinary operations; when each finishes it casts the
*settle* of its group or group snapshot (``group_create``, ``group_delete``,
``group_snapshot_create``, ``group_snapshot_delete``, handled here), which moves the
group out of ``creating``/``deleting`` once none of its members is still working:
``available`` when all succeeded, ``error`` (``error_deleting``) otherwise.  A settle is
idempotent, so the request casts one too (a group with no volumes has nobody else to
settle it) and the recovery sweep re-casts it for a group left too long.
"""

from __future__ import annotations

import builtins
import uuid
from collections.abc import Callable, Iterable

import sqlalchemy as sa
from sqlalchemy.orm import Session

from pocketstack.common.context import RequestContext
from pocketstack.common.db.base import utcnow
from pocketstack.common.db.cas import run_in_transaction
from pocketstack.common.pagination import Paging
from pocketstack.volume import errors, listing
from pocketstack.volume import models as m
from pocketstack.volume.states import DELETABLE, existing, move, move_group, move_snapshot, rowcount

# Cinder's group API: the statuses a volume may be added to or removed from a group in.
VALID_ADD = ("available", "in-use")
VALID_REMOVE = ("available", "in-use", "error", "error_deleting")
# A group (or group snapshot) may be deleted from these.
GROUP_DELETABLE = ("available", "error", "error_deleting")
GROUP_SNAPSHOT_DELETABLE = ("available", "error")


def _split(ids: str | None) -> list[str]:
    """Cinder's ``add_volumes``/``remove_volumes``: comma-separated ids."""
    return [i for i in (ids or "").strip(",").split(",") if i]


class Groups:
    def __init__(self, db, worker, volumes, types, group_types, quotas, serves: Callable[[dict], bool]):
        self.db = db
        self.worker = worker
        self.volumes = volumes
        self.types = types
        self.group_types = group_types
        self.quotas = quotas
        self.serves = serves  # whether some backend serves a volume type's extra specs
        worker.handlers.update(group_create=self.settle_create, group_delete=self.settle_delete,
                               group_snapshot_create=self.settle_snapshot_create,
                               group_snapshot_delete=self.settle_snapshot_delete)

    # -- reading ---------------------------------------------------------------------
    def get(self, context: RequestContext, group_id: str) -> m.Group:
        with self.db.session(readonly=True) as s:
            row = s.get(m.Group, group_id)
            if row is None or not (context.is_admin or row.project_id == context.project_id):
                raise errors.GroupNotFound(group_id=group_id)
            s.expunge(row)
            return row

    def volume_type_ids(self, group_ids: Iterable[str]) -> dict[str, list[str]]:
        return self._by_group(group_ids, m.GroupVolumeType.group_id, m.GroupVolumeType.volume_type_id)

    def volume_ids(self, group_ids: Iterable[str]) -> dict[str, list[str]]:
        return self._by_group(group_ids, m.Volume.group_id, m.Volume.id)

    def _by_group(self, group_ids: Iterable[str], group_column, value_column) -> dict[str, list[str]]:
        """``value_column`` of the rows of each group (one query for many groups)."""
        ids = list(group_ids)
        result: dict[str, list[str]] = {i: [] for i in ids}
        with self.db.session(readonly=True) as s:
            for group_id, value in s.execute(sa.select(group_column, value_column).where(group_column.in_(ids))):
                result[group_id].append(value)
        return result

    def _list(self, context: RequestContext, model, filters: dict, paging: Paging, all_projects: bool,
              offset: int) -> list:
        conditions = [] if all_projects and context.is_admin else [model.project_id == context.project_id]
        conditions += [getattr(model, key) == value for key, value in filters.items()]
        return listing.page(self.db, model, conditions, paging, offset)

    def list(self, context: RequestContext, filters: dict, paging: Paging, all_projects: bool,
             offset: int = 0) -> builtins.list[m.Group]:
        return self._list(context, m.Group, filters, paging, all_projects, offset)

    # -- creating --------------------------------------------------------------------
    def create(self, context: RequestContext, name: str | None, description: str | None, group_type: str,
               volume_types: builtins.list[str], availability_zone: str | None) -> m.Group:
        """``creating`` with quota ``groups`` reserved; the worker's settle checks that the
        backend serves every volume type (Cinder's scheduler) and makes it ``available``."""
        vtypes = [self.types.resolve(RequestContext.admin(), ref) for ref in volume_types]
        gtype = self.group_types.resolve(context, group_type)
        group = self._insert(context, name, description, gtype.id, [t.id for t in vtypes],
                             availability_zone or "nova")
        self.worker.cast("group_create", group.id)
        return group

    def _insert(self, context: RequestContext, name: str | None, description: str | None, group_type_id: str,
                type_ids: builtins.list[str], availability_zone: str, **source: str | None) -> m.Group:
        group = m.Group(id=str(uuid.uuid4()), project_id=context.project_id, user_id=context.user_id, name=name,
                        description=description, status="creating", availability_zone=availability_zone,
                        group_type_id=group_type_id, task_started_at=utcnow(), **source)

        def work(s: Session) -> None:
            self.quotas.reserve(s, context.project_id, None, groups=1)
            s.add(group)
            s.flush()
            s.add_all(m.GroupVolumeType(group_id=group.id, volume_type_id=t) for t in dict.fromkeys(type_ids))
        run_in_transaction(self.db, work)
        return self.get(context, group.id)

    def create_from_src(self, context: RequestContext, name: str | None, description: str | None,
                        group_snapshot_id: str | None, source_group_id: str | None) -> m.Group:
        """A new group with a copy of each volume of a group snapshot (volumes from its
        snapshots) or of a source group (clones).  The volumes are inserted first and cast
        only once all exist, so the group cannot settle before its last member is there."""
        if group_snapshot_id:
            group_snapshot = self.get_snapshot(context, group_snapshot_id)
            source = self.get(context, group_snapshot.group_id)
            with self.db.session(readonly=True) as s:
                members = [{"snapshot_id": snapshot_id, "size": size, "volume_type": type_id}
                           for snapshot_id, size, type_id in s.execute(
                               sa.select(m.Snapshot.id, m.Snapshot.size, m.Volume.volume_type_id)
                               .join(m.Volume, m.Volume.id == m.Snapshot.volume_id)
                               .where(m.Snapshot.group_snapshot_id == group_snapshot_id))]
            if not members:
                raise errors.InvalidGroup(reason="Group snapshot is empty. No group will be created.")
            group_type_id = group_snapshot.group_type_id
        else:
            source = self.get(context, str(source_group_id))
            with self.db.session(readonly=True) as s:
                members = [{"source_volid": v.id, "size": v.size, "volume_type": v.volume_type_id}
                           for v in s.scalars(sa.select(m.Volume).where(m.Volume.group_id == source.id))]
            if not members:
                raise errors.InvalidGroup(reason="Source Group is empty. No group will be created.")
            group_type_id = source.group_type_id
        type_ids = self.volume_type_ids([source.id])[source.id]
        group = self._insert(context, name, description, group_type_id, type_ids, source.availability_zone,
                             group_snapshot_id=group_snapshot_id, source_group_id=source_group_id)
        created: builtins.list[str] = []
        try:
            for spec in members:
                created.append(self.volumes.insert(context, {**spec, "group_id": group.id,
                                                             "availability_zone": group.availability_zone}).id)
        except errors.ApiError:
            run_in_transaction(self.db, lambda s: move_group(s, m.Group, group.id, "creating", "error"))
            raise
        finally:
            for volume_id in created:
                self.worker.cast("create", volume_id)
        self.worker.cast("group_create", group.id)
        return group

    # -- changing --------------------------------------------------------------------
    def update(self, context: RequestContext, group_id: str, name: str | None, description: str | None,
               add_volumes: str | None, remove_volumes: str | None) -> None:
        """Name, description, and members added or removed, all in one transaction: the
        group CASed on its status and generation (a group being deleted or changed
        meanwhile loses), each volume on its status and its ``group_id`` (a volume
        another group took meanwhile loses)."""
        group = self.get(context, group_id)
        add, remove = _split(add_volumes), _split(remove_volumes)
        both = [i for i in add if i in remove]
        if both:
            raise errors.InvalidVolume(reason=f"UUIDs {both} are in both add and remove volume list.")
        values = {k: v for k, v in (("name", name), ("description", description))
                  if v is not None and v != getattr(group, k)}
        type_ids = self.volume_type_ids([group_id])[group_id]

        def work(s: Session) -> None:
            members = {v.id: v for v in s.scalars(sa.select(m.Volume).where(m.Volume.group_id == group_id))}
            adding = [self._addable(s, context, group, v, type_ids) for v in add if v not in members]
            removing = [self._removable(group, members.get(v), v) for v in remove]
            if not values and not adding and not removing:
                raise errors.InvalidGroup(reason=f"Cannot update group {group_id} because no valid name, description, "
                                                 f"add_volumes, or remove_volumes were provided.")
            row = existing(s, m.Group, group_id)
            if (adding or removing) and row.status != "available":
                raise errors.InvalidGroup(reason="Group status must be available.")
            move_group(s, m.Group, group_id, row.status, row.status, extra_where={"generation": row.generation},
                       task_started_at=row.task_started_at, **values)
            for volume, target in [(v, group_id) for v in adding] + [(v, None) for v in removing]:
                move(s, volume.id, volume.status, volume.status, extra_where={"group_id": volume.group_id},
                     task_started_at=volume.task_started_at, task_args=volume.task_args, group_id=target)
        run_in_transaction(self.db, work)

    @staticmethod
    def _addable(s: Session, context: RequestContext, group: m.Group, volume_id: str,
                 type_ids: builtins.list[str]) -> m.Volume:
        volume = s.get(m.Volume, volume_id)
        prefix = f"Cannot add volume {volume_id} to group {group.id}"
        if volume is None or not (context.is_admin or volume.project_id == context.project_id):
            raise errors.InvalidVolume(reason=f"{prefix} because volume cannot be found.")
        if volume.group_id:
            raise errors.InvalidVolume(reason=f"{prefix} because it is already in group {volume.group_id}.")
        if volume.project_id != group.project_id:
            raise errors.InvalidVolume(reason=f"{prefix} as they belong to different projects.")
        if volume.volume_type_id not in type_ids:
            raise errors.InvalidVolume(reason=f"{prefix} because volume type {volume.volume_type_id} is not "
                                              f"supported by the group.")
        if volume.status not in VALID_ADD:
            raise errors.InvalidVolume(reason=f"{prefix} because volume is in an invalid state: {volume.status}. "
                                              f"Valid states are: {VALID_ADD}.")
        return volume

    @staticmethod
    def _removable(group: m.Group, volume: m.Volume | None, volume_id: str) -> m.Volume:
        prefix = f"Cannot remove volume {volume_id} from group {group.id}"
        if volume is None:
            raise errors.InvalidVolume(reason=f"{prefix} because it is not in the group.")
        if volume.status not in VALID_REMOVE:
            raise errors.InvalidVolume(reason=f"{prefix} because volume is in an invalid state: {volume.status}. "
                                              f"Valid states are: {VALID_REMOVE}.")
        return volume

    def delete(self, context: RequestContext, group_id: str, delete_volumes: bool) -> None:
        """Cinder's checks, then the group and (with ``delete-volumes``) its volumes to
        ``deleting`` in one transaction; the worker deletes the volumes and the last one
        settles the group (row removed, quota ``groups`` released)."""
        self.get(context, group_id)

        def work(s: Session) -> builtins.list[str]:
            row = existing(s, m.Group, group_id)
            if row.status not in GROUP_DELETABLE:
                raise errors.InvalidGroup(reason=f"Group status must be available or error, but current status is: "
                                                 f"{row.status}")
            if s.scalar(sa.select(sa.func.count()).select_from(m.GroupSnapshot).where(
                    m.GroupSnapshot.group_id == group_id)):
                raise errors.InvalidGroup(reason="Group has existing snapshots.")
            if s.scalar(sa.select(sa.func.count()).select_from(m.Group).where(
                    m.Group.source_group_id == group_id, m.Group.status == "creating")):
                raise errors.InvalidGroup(reason=f"Cannot delete group {group_id}. It cannot be the source for an "
                                                 f"ongoing group or group snapshot creation.")
            members = list(s.scalars(sa.select(m.Volume).where(m.Volume.group_id == group_id)))
            if members and not delete_volumes:
                raise errors.InvalidGroup(reason=f"Group {group_id} still contains volumes. The delete-volumes flag "
                                                 f"is required to delete it.")
            for volume in members:
                if volume.attach_count or volume.attach_status == "attached":
                    raise errors.InvalidGroup(reason=f"Volume in group {group_id} is attached. Need to detach first.")
                if s.scalar(sa.select(sa.func.count()).select_from(m.Snapshot).where(
                        m.Snapshot.volume_id == volume.id)):
                    raise errors.InvalidGroup(reason="Volume in group still has dependent snapshots.")
                if volume.status not in DELETABLE + ("error_deleting",):
                    raise errors.InvalidGroup(reason=f"Volume {volume.id} in group {group_id} is {volume.status}.")
                move(s, volume.id, volume.status, "deleting", extra_where={"attach_count": 0, "group_id": group_id})
            move_group(s, m.Group, group_id, row.status, "deleting", extra_where={"generation": row.generation})
            return [v.id for v in members]
        for volume_id in run_in_transaction(self.db, work):
            self.worker.cast("delete", volume_id)
        self.worker.cast("group_delete", group_id)

    def reset_status(self, context: RequestContext, group_id: str, status: str) -> None:
        """The admin's ``reset_status``: whatever the group's status, the given one."""
        self.get(context, group_id)
        run_in_transaction(self.db, lambda s: move_group(s, m.Group, group_id, existing(s, m.Group, group_id).status,
                                                         status))

    # -- settling (worker operations) -------------------------------------------------
    def settle_create(self, group_id: str) -> None:
        """``creating`` → ``available`` once no volume of the group is still being created
        and the backend serves every volume type; ``error`` otherwise."""
        served = self.serves
        specs = {t.id: t.extra_specs for t in self.types.list(RequestContext.admin(), None)}

        def work(s: Session) -> None:
            row = s.get(m.Group, group_id)
            if row is None or row.status != "creating":
                return
            statuses = set(s.scalars(sa.select(m.Volume.status).where(m.Volume.group_id == group_id)))
            if "creating" in statuses:
                return
            types_ok = all(served(specs.get(t) or {}) for t in s.scalars(
                sa.select(m.GroupVolumeType.volume_type_id).where(m.GroupVolumeType.group_id == group_id)))
            ok = types_ok and statuses <= {"available"}
            move_group(s, m.Group, group_id, "creating", "available" if ok else "error")
        run_in_transaction(self.db, work)

    def settle_delete(self, group_id: str) -> None:
        """``deleting`` → removed (quota ``groups`` released) once its volumes are gone;
        ``error_deleting`` when one could not be deleted."""
        def work(s: Session) -> None:
            row = s.get(m.Group, group_id)
            if row is None or row.status != "deleting":
                return
            statuses = set(s.scalars(sa.select(m.Volume.status).where(m.Volume.group_id == group_id)))
            if "deleting" in statuses:
                return
            if statuses:
                move_group(s, m.Group, group_id, "deleting", "error_deleting")
                return
            s.execute(sa.delete(m.GroupVolumeType).where(m.GroupVolumeType.group_id == group_id))
            if rowcount(s.execute(sa.delete(m.Group).where(m.Group.id == group_id, m.Group.status == "deleting"))):
                self.quotas.reserve(s, row.project_id, None, groups=-1)
        run_in_transaction(self.db, work)

    # -- group snapshots ---------------------------------------------------------------
    def get_snapshot(self, context: RequestContext, group_snapshot_id: str) -> m.GroupSnapshot:
        with self.db.session(readonly=True) as s:
            row = s.get(m.GroupSnapshot, group_snapshot_id)
            if row is None or not (context.is_admin or row.project_id == context.project_id):
                raise errors.GroupSnapshotNotFound(group_snapshot_id=group_snapshot_id)
            s.expunge(row)
            return row

    def list_snapshots(self, context: RequestContext, filters: dict, paging: Paging, all_projects: bool,
                       offset: int = 0) -> builtins.list[m.GroupSnapshot]:
        return self._list(context, m.GroupSnapshot, filters, paging, all_projects, offset)

    def create_snapshot(self, context: RequestContext, group_id: str, name: str | None,
                        description: str | None) -> m.GroupSnapshot:
        """The group snapshot and a ``creating`` snapshot of each member volume (quota
        ``snapshots`` and ``gigabytes`` reserved per volume) in one transaction, the group
        CASed on ``available`` and its generation so that a concurrent delete or update loses."""
        group = self.get(context, group_id)
        type_names = {t.id: t.name for t in self.types.list(RequestContext.admin(), None)}
        group_snapshot = m.GroupSnapshot(id=str(uuid.uuid4()), project_id=group.project_id, user_id=context.user_id,
                                         group_id=group_id, group_type_id=group.group_type_id, name=name,
                                         description=description, status="creating", task_started_at=utcnow())

        def work(s: Session) -> builtins.list[str]:
            row = existing(s, m.Group, group_id)
            if row.status != "available":
                raise errors.InvalidGroup(reason=f"Group {group_id} status must be available, but current status is: "
                                                 f"{row.status}.")
            move_group(s, m.Group, group_id, "available", "available", extra_where={"generation": row.generation})
            s.add(group_snapshot)
            snapshot_ids: builtins.list[str] = []
            for volume in s.scalars(sa.select(m.Volume).where(m.Volume.group_id == group_id)):
                if volume.status not in ("available", "in-use"):
                    raise errors.InvalidVolume(reason=f"Volume {volume.id} status must be available or in-use, but "
                                                      f"current status is: {volume.status}.")
                self.quotas.reserve(s, volume.project_id, type_names.get(volume.volume_type_id or ""),
                                    snapshots=1, gigabytes=volume.size)
                snapshot = m.Snapshot(id=str(uuid.uuid4()), project_id=volume.project_id, user_id=context.user_id,
                                      volume_id=volume.id, name=name, description=description, size=volume.size,
                                      status="creating", task_started_at=utcnow(),
                                      group_snapshot_id=group_snapshot.id)
                s.add(snapshot)
                snapshot_ids.append(snapshot.id)
            return snapshot_ids
        for snapshot_id in run_in_transaction(self.db, work):
            self.worker.cast("snapshot_create", snapshot_id)
        self.worker.cast("group_snapshot_create", group_snapshot.id)
        return self.get_snapshot(context, group_snapshot.id)

    def delete_snapshot(self, context: RequestContext, group_snapshot_id: str) -> None:
        self.get_snapshot(context, group_snapshot_id)

        def work(s: Session) -> builtins.list[str]:
            row = existing(s, m.GroupSnapshot, group_snapshot_id)
            in_use = s.scalar(sa.select(sa.func.count()).select_from(m.Group).where(
                m.Group.group_snapshot_id == group_snapshot_id, m.Group.status == "creating"))
            if row.status not in GROUP_SNAPSHOT_DELETABLE or in_use:
                raise errors.InvalidGroupSnapshot(reason="GroupSnapshot status must be available or error, and no "
                                                         "Group can be currently using it as source for its creation.")
            snapshots = list(s.scalars(sa.select(m.Snapshot).where(m.Snapshot.group_snapshot_id == group_snapshot_id)))
            for snapshot in snapshots:
                move_snapshot(s, snapshot.id, snapshot.status, "deleting")
            move_group(s, m.GroupSnapshot, group_snapshot_id, row.status, "deleting")
            return [x.id for x in snapshots]
        for snapshot_id in run_in_transaction(self.db, work):
            self.worker.cast("snapshot_delete", snapshot_id)
        self.worker.cast("group_snapshot_delete", group_snapshot_id)

    def reset_snapshot_status(self, context: RequestContext, group_snapshot_id: str, status: str) -> None:
        self.get_snapshot(context, group_snapshot_id)
        run_in_transaction(self.db, lambda s: move_group(
            s, m.GroupSnapshot, group_snapshot_id, existing(s, m.GroupSnapshot, group_snapshot_id).status, status))

    def settle_snapshot_create(self, group_snapshot_id: str) -> None:
        def work(s: Session) -> None:
            row = s.get(m.GroupSnapshot, group_snapshot_id)
            if row is None or row.status != "creating":
                return
            statuses = set(s.scalars(sa.select(m.Snapshot.status).where(
                m.Snapshot.group_snapshot_id == group_snapshot_id)))
            if "creating" not in statuses:
                move_group(s, m.GroupSnapshot, group_snapshot_id, "creating",
                           "available" if statuses <= {"available"} else "error")
        run_in_transaction(self.db, work)

    def settle_snapshot_delete(self, group_snapshot_id: str) -> None:
        def work(s: Session) -> None:
            row = s.get(m.GroupSnapshot, group_snapshot_id)
            if row is None or row.status != "deleting":
                return
            statuses = set(s.scalars(sa.select(m.Snapshot.status).where(
                m.Snapshot.group_snapshot_id == group_snapshot_id)))
            if "deleting" in statuses:
                return
            if statuses:
                move_group(s, m.GroupSnapshot, group_snapshot_id, "deleting", "error_deleting")
                return
            s.execute(sa.delete(m.GroupSnapshot).where(m.GroupSnapshot.id == group_snapshot_id,
                                                       m.GroupSnapshot.status == "deleting"))
        run_in_transaction(self.db, work)
