"""``GET /os-migrations`` (admin): the resizes of every server, newest first.

2.23 adds ``migration_type``, 2.59 the migration ``uuid`` and ``limit``/``marker``
paging.  Flavors have no integer database ids here, so ``old_instance_type_id`` and
``new_instance_type_id`` are null (the field allows it); node names are host names, as
every fake host has one node.
"""

from __future__ import annotations

from pocketstack.common.api.request import ApiRequest
from pocketstack.common.api.routes import Router
from pocketstack.common.errors import BadRequest
from pocketstack.compute.api.common import at_least, int_query


def render(req: ApiRequest, m) -> dict:
    out = {"id": m.id, "status": m.status, "instance_uuid": m.instance_uuid,
           "source_compute": m.source_compute, "source_node": m.source_compute,
           "dest_compute": m.dest_compute, "dest_node": m.dest_compute, "dest_host": m.dest_compute,
           "old_instance_type_id": None, "new_instance_type_id": None,
           "created_at": m.created_at, "updated_at": m.updated_at}
    if at_least(req, 2, 23):
        out["migration_type"] = m.migration_type
    if at_least(req, 2, 59):
        out["uuid"] = m.uuid
    return out


def register(router: Router, compute) -> None:
    @router.get("/v2.1/os-migrations")
    def list_migrations(req: ApiRequest):
        req.authorize("os_compute_api:os-migrations:index")
        q = req.query
        found = compute.migration_records.list(instance_uuid=q.get("instance_uuid"), status=q.get("status"),
                                               host=q.get("host"), migration_type=q.get("migration_type"))
        if at_least(req, 2, 59):
            marker = q.get("marker")
            if marker:
                ids = [m.uuid for m in found]
                if marker not in ids:
                    raise BadRequest(f"Marker {marker} could not be found.")
                found = found[ids.index(marker) + 1:]
            limit = int_query(req, "limit")
            if limit is not None:
                found = found[:limit]
        return {"migrations": [render(req, m) for m in found]}
