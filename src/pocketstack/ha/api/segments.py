"""``/v1/segments`` and ``/v1/segments/{id}/hosts``: failover segments and their hosts,
as Masakari serves them (admin only).  ``enabled`` is accepted from microversion 1.2,
as Masakari's; shown always.  What they change in a recovery: :mod:`pocketstack.ha.failover`.
"""

from __future__ import annotations

from typing import Any

from starlette.responses import Response

from pocketstack.common.api.request import ApiRequest, json_response
from pocketstack.common.api.routes import route
from pocketstack.ha import errors
from pocketstack.ha.api import render, schemas
from pocketstack.ha.api.notifications import paging
from pocketstack.ha.manager import InstanceHA

SEGMENTS, HOSTS = "os_masakari_api:segments:{}", "os_masakari_api:os-hosts:{}"
SEGMENT_SORT_KEYS = ("created_at", "updated_at", "name", "recovery_method", "service_type", "enabled", "id")
HOST_SORT_KEYS = ("created_at", "updated_at", "name", "type", "reserved", "on_maintenance", "id")
ONE = "/v1/segments/{segment_id}"
HOST = ONE + "/hosts/{host_id}"


def booleans(req: ApiRequest, names: tuple[str, ...]) -> dict[str, bool]:
    """Boolean query filters, read strictly as Masakari does (400 otherwise)."""
    found = {}
    for name in names:
        value = req.query.get(name)
        if value is None:
            continue
        if value not in schemas.TRUE_VALUES + schemas.FALSE_VALUES:
            raise errors.InvalidFilter(name=name, value=value)
        found[name] = schemas.boolean(value)
    return found


def strings(req: ApiRequest, names: tuple[str, ...]) -> dict[str, str]:
    return {name: req.query[name] for name in names if name in req.query}


def normalized(body: dict[str, Any]) -> dict[str, Any]:
    """A request's booleans as bools (the schema lets Masakari's strings through)."""
    return {k: schemas.boolean(v) if k in ("enabled", "reserved", "on_maintenance") else v for k, v in body.items()}


class SegmentsApi:
    def __init__(self, manager: InstanceHA):
        self.manager = manager
        self.segments = manager.segments

    @route.get("/v1/segments", policy=SEGMENTS.format("index"))
    def index(self, req: ApiRequest) -> dict:
        req.authorize()
        filters: dict[str, Any] = strings(req, ("recovery_method", "service_type")) | booleans(req, ("enabled",))
        page = paging(req, SEGMENT_SORT_KEYS)
        try:
            rows = self.segments.segments(filters, page)
        except errors.SegmentNotFound:
            raise errors.InvalidFilter(name="marker", value=page.marker) from None
        return {"segments": [render.segment(r) for r in rows]}

    @route.get(ONE, policy=SEGMENTS.format("detail"))
    def show(self, req: ApiRequest) -> dict:
        req.authorize()
        return {"segment": render.segment(self.segments.segment(req.path_params["segment_id"]))}

    @route.post("/v1/segments", policy=SEGMENTS.format("create"), body=schemas.SEGMENT_CREATE, authorize_first=True)
    def create(self, req: ApiRequest) -> Response:
        req.authorize()
        row = self.segments.create_segment(normalized(req.data["segment"]))
        return json_response({"segment": render.segment(row)}, status=201)

    @route.put(ONE, policy=SEGMENTS.format("update"), body=schemas.SEGMENT_UPDATE, authorize_first=True)
    def update(self, req: ApiRequest) -> dict:
        req.authorize()
        row = self.segments.update_segment(req.path_params["segment_id"], normalized(req.data["segment"]))
        return {"segment": render.segment(row)}

    @route.delete(ONE, policy=SEGMENTS.format("delete"))
    def delete(self, req: ApiRequest) -> Response:
        req.authorize()
        self.manager.delete_segment(req.path_params["segment_id"])
        return Response(status_code=204)


class HostsApi:
    def __init__(self, manager: InstanceHA):
        self.manager = manager
        self.segments = manager.segments

    def _view(self, row) -> dict:
        return render.host(row, self.segments.segment(row.failover_segment_id))

    @route.get(ONE + "/hosts", policy=HOSTS.format("index"))
    def index(self, req: ApiRequest) -> dict:
        req.authorize()
        segment = self.segments.segment(req.path_params["segment_id"])
        filters: dict[str, Any] = (strings(req, ("type", "control_attributes"))
                                   | booleans(req, ("on_maintenance", "reserved")))
        page = paging(req, HOST_SORT_KEYS)
        try:
            rows = self.segments.hosts(segment.uuid, filters, page)
        except errors.HostNotFound:
            raise errors.InvalidFilter(name="marker", value=page.marker) from None
        return {"hosts": [render.host(r, segment) for r in rows]}

    @route.get(HOST, policy=HOSTS.format("detail"))
    def show(self, req: ApiRequest) -> dict:
        req.authorize()
        return {"host": self._view(self.segments.host(req.path_params["segment_id"], req.path_params["host_id"]))}

    @route.post(ONE + "/hosts", policy=HOSTS.format("create"), body=schemas.HOST_CREATE, authorize_first=True)
    def create(self, req: ApiRequest) -> Response:
        req.authorize()
        row = self.manager.create_host(req.path_params["segment_id"], normalized(req.data["host"]))
        return json_response({"host": self._view(row)}, status=201)

    @route.put(HOST, policy=HOSTS.format("update"), body=schemas.HOST_UPDATE, authorize_first=True)
    def update(self, req: ApiRequest) -> dict:
        req.authorize()
        row = self.manager.update_host(req.path_params["segment_id"], req.path_params["host_id"],
                                       normalized(req.data["host"]))
        return {"host": self._view(row)}

    @route.delete(HOST, policy=HOSTS.format("delete"))
    def delete(self, req: ApiRequest) -> Response:
        req.authorize()
        self.manager.delete_host(req.path_params["segment_id"], req.path_params["host_id"])
        return Response(status_code=204)
