"""``GET /os-migrations`` (admin): the resizes of every server, newest first.

2.23 adds ``migration_type``, 2.59 the migration ``uuid`` and ``limit``/``marker``
paging.  Flavors have no integer database ids here, so ``old_instance_type_id`` and
``new_instance_type_id`` are null (the field allows it); node names are host names, as
every fake host has one node.
"""

from __future__ import annotations

from pocketstack.common.api.request import ApiRequest
from pocketstack.common.api.routes import route
from pocketstack.compute import errors
from pocketstack.compute.api.common import int_query
from pocketstack.compute.migration_records import MigrationRecords


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

    @route.get("/v2.1/os-migrations", policy="os_compute_api:os-migrations:index")
    def index(self, req: ApiRequest) -> dict:
        req.authorize()
        q = req.query
        found = self.records.list(instance_uuid=q.get("instance_uuid"), status=q.get("status"),
                                  host=q.get("host"), migration_type=q.get("migration_type"))
        if req.at_least(2, 59):
            marker = q.get("marker")
            if marker:
                found = page(found, marker, None)
            found = page(found, None, int_query(req, "limit"))
        return {"migrations": [render(req, m) for m in found]}
