"""``GET /os-migrations`` (admin): the resizes and moves of every server, newest first;
and a server's live migrations in progress (``/servers/{id}/migrations``, 2.22+).

2.23 adds ``migration_type``, 2.59 the migration ``uuid``, ``limit``/``marker`` paging and
``changes-since`` (and unknown query parameters are a 400), 2.66 ``changes-before``, 2.80
``user_id``/``project_id`` (who asked for the move) and filters by them.  Flavors have no
integer database ids here, so ``old_instance_type_id`` and ``new_instance_type_id`` are
null (the field allows it); node names are host names, as every fake host has one node.
"""

from __future__ import annotations

from pocketstack.common.api.request import ApiRequest
from pocketstack.common.api.routes import route
from pocketstack.common.validation import validate
from pocketstack.compute import errors
from pocketstack.compute import states as st
from pocketstack.compute.api.common import (
    accepted,
    changes_window,
    check_unlocked,
    get_instance,
    in_window,
    int_query,
    record_action,
    version,
)
from pocketstack.compute.api.schemas import queries
from pocketstack.compute.migration_records import MigrationRecords

# The statuses of a live migration that has not ended (Nova's in-progress set).
IN_PROGRESS = ("queued", "preparing", "running", "post-migrating")
FORCE_COMPLETE = {"type": "object", "required": ["force_complete"], "additionalProperties": False,
                  "properties": {"force_complete": {"type": "null"}}}


def render(req: ApiRequest, m) -> dict:
    out = {"id": m.id, "status": m.status, "instance_uuid": m.instance_uuid,
           "source_compute": m.source_compute, "source_node": m.source_compute,
           "dest_compute": m.dest_compute, "dest_node": m.dest_compute, "dest_host": m.dest_compute,
           "old_instance_type_id": None, "new_instance_type_id": None,
           "created_at": m.created_at, "updated_at": m.updated_at}
    if req.at_least(2, 23):
        out["migration_type"] = m.migration_type
    if req.at_least(2, 59):
        out["uuid"] = m.uuid
    if req.at_least(2, 80):
        out.update(user_id=m.user_id, project_id=m.project_id)
    return out


def page(found: list, marker: str | None, limit: int | None) -> list:
    """2.59's paging: the migrations after ``marker`` (a uuid), at most ``limit``."""
    if marker:
        ids = [m.uuid for m in found]
        if marker not in ids:
            raise errors.MarkerNotFound(marker=marker)
        found = found[ids.index(marker) + 1:]
    return found[:limit] if limit is not None else found


class MigrationsApi:
    def __init__(self, records: MigrationRecords):
        self.records = records

    @route.get("/v2.1/os-migrations", policy="os_compute_api:os-migrations:index",
               query={"2.59": queries.MIGRATIONS_V259, "2.66": queries.MIGRATIONS_V266,
                      "2.80": queries.MIGRATIONS_V280})
    def index(self, req: ApiRequest) -> dict:
        req.authorize()
        q = req.query
        # user_id/project_id: 2.80's filters (before 2.59 Nova's unchecked query reaches its
        # database filter too; 2.59-2.79 refuse them as unknown).
        owner = {key: q.get(key) for key in ("user_id", "project_id")}
        found = self.records.list(instance_uuid=q.get("instance_uuid"), status=q.get("status"),
                                  host=q.get("host"), migration_type=q.get("migration_type"),
                                  source_compute=q.get("source_compute"), **owner)
        since, before = changes_window(q, version(req), since_from=(2, 59))
        found = [m for m in found if in_window(m.updated_at or m.created_at, since, before)]
        if req.at_least(2, 59):
            marker = q.get("marker")
            if marker:
                found = page(found, marker, None)
            found = page(found, None, int_query(req, "limit"))
        return {"migrations": [render(req, m) for m in found]}


def server_migration(req: ApiRequest, m) -> dict:
    """Nova's server-migration view; the fake hypervisor moves memory and disk at once, so
    the byte counts are 0."""
    out = {"id": m.id, "server_uuid": m.instance_uuid, "status": m.status, "source_compute": m.source_compute,
           "source_node": m.source_compute, "dest_compute": m.dest_compute, "dest_node": m.dest_compute,
           "dest_host": m.dest_compute, "created_at": m.created_at, "updated_at": m.updated_at,
           **{f"{kind}_{what}_bytes": 0 for kind in ("memory", "disk") for what in ("total", "processed", "remaining")}}
    if req.at_least(2, 59):
        out["uuid"] = m.uuid
    if req.at_least(2, 80):
        out.update(user_id=m.user_id, project_id=m.project_id)
    return out


class ServerMigrationsApi:
    """``/servers/{id}/migrations``: the live migrations of one server still in progress
    (admin).  Abort (2.24) and force_complete (2.22) apply only to a running migration
    of a server still migrating: otherwise Nova's 409 (the server) or 400/404 (the
    migration); both are cast to the source host, which moves the guest."""

    def __init__(self, compute):
        self.compute = compute

    def in_progress(self, req: ApiRequest, rule: str) -> tuple:
        inst = get_instance(self.compute, req, req.path_params["server_id"], rule)
        found = [m for m in self.compute.migration_records.list(instance_uuid=inst.id,
                                                                 migration_type="live-migration")
                 if m.status in IN_PROGRESS]
        return inst, found

    def one(self, req: ApiRequest, rule: str):
        inst, found = self.in_progress(req, rule)
        wanted = req.path_params["migration_id"]
        match = next((m for m in found if str(m.id) == wanted), None)
        if match is None:
            raise errors.LiveMigrationNotInProgress(migration_id=wanted, server_id=inst.id)
        return inst, match

    @route.get("/v2.1/servers/{server_id}/migrations", policy="os_compute_api:servers:migrations:index",
               since="2.23")
    def index(self, req: ApiRequest) -> dict:
        _, found = self.in_progress(req, "os_compute_api:servers:migrations:index")
        return {"migrations": [server_migration(req, m) for m in found]}

    @route.get("/v2.1/servers/{server_id}/migrations/{migration_id}", policy="os_compute_api:servers:migrations:show",
               since="2.23")
    def show(self, req: ApiRequest) -> dict:
        return {"migration": server_migration(req, self.one(req, "os_compute_api:servers:migrations:show")[1])}

    def migrating(self, req: ApiRequest, rule: str, action: str, vm_states: tuple = ()):
        """Nova's checks before an abort or a forced completion: the server (404) and the
        rule (403), unlocked (409 but for an admin), ``migrating`` (and in ``vm_states``
        when given; 409 otherwise), then the migration, one of the server's, by id."""
        inst = get_instance(self.compute, req, req.path_params["server_id"], rule)
        check_unlocked(req, inst)
        if inst.task_state != st.MIGRATING:
            raise errors.InstanceInvalidState(action=action, instance_id=inst.id, attribute="task_state",
                                              state=inst.task_state)
        if vm_states and inst.vm_state not in vm_states:
            raise errors.InstanceInvalidState(action=action, instance_id=inst.id, attribute="vm_state",
                                              state=inst.vm_state)
        wanted = req.path_params["migration_id"]
        migration = next((m for m in self.compute.migration_records.list(instance_uuid=inst.id)
                          if str(m.id) == wanted), None)
        return inst, wanted, migration

    # Nova's live_migrate_abort: a migration ``running`` (from 2.65 also ``queued`` or
    # ``preparing``, states a move here never shows: it runs from the moment it is accepted).
    @route.delete("/v2.1/servers/{server_id}/migrations/{migration_id}",
                  policy="os_compute_api:servers:migrations:delete", since="2.24")
    def abort(self, req: ApiRequest):
        inst, wanted, migration = self.migrating(req, "os_compute_api:servers:migrations:delete",
                                                 "abort live migration")
        if migration is None:
            raise errors.MigrationNotFoundForInstance(migration_id=wanted, instance_id=inst.id)
        abortable = ("running", "queued", "preparing") if req.at_least(2, 65) else ("running",)
        if migration.status not in abortable:
            raise errors.InvalidMigrationState(migration_id=migration.id, instance_id=inst.id, state=migration.status,
                                               method="abort live migration")
        action_id = record_action(self.compute, req, inst, "live_migration_cancel")
        self.compute.rpc.live_migration_abort(inst.host, inst.id, migration.uuid, action_id)
        return accepted()

    # Nova's live_migrate_force_complete: an ACTIVE server's ``running`` migration; an
    # unknown migration is 400 here (404 for an abort).
    @route.post("/v2.1/servers/{server_id}/migrations/{migration_id}/action",
                policy="os_compute_api:servers:migrations:force_complete", since="2.22")
    def force_complete(self, req: ApiRequest):
        validate(req.json(), FORCE_COMPLETE)
        inst, wanted, migration = self.migrating(req, "os_compute_api:servers:migrations:force_complete",
                                                 "force_complete", (st.ACTIVE,))
        if migration is None:
            raise errors.ForceCompleteMigrationNotFound(migration_id=wanted, instance_id=inst.id)
        if migration.status != "running":
            raise errors.InvalidMigrationState(migration_id=migration.id, instance_id=inst.id, state=migration.status,
                                               method="force complete")
        action_id = record_action(self.compute, req, inst, "live_migration_force_complete")
        self.compute.rpc.live_migration_force_complete(inst.host, inst.id, migration.uuid, action_id)
        return accepted()
