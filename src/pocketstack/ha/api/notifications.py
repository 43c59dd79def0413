"""``/v1/notifications`` and their ``vmoves``: the view of host failures and of what
instance HA did about them, as Masakari serves it (admin only).

A notification is one failure: ``COMPUTE_HOST`` (a failed host: fenced, then its servers
evacuated), ``PROCESS`` (a compute service that stopped while its host lives: reported,
nothing evacuated) or one an external monitor posted.  Shown alone from 1.1 it carries its
``recovery_workflow_details``; from 1.3 its ``vmoves`` list each server's recovery.
"""

from __future__ import annotations

import datetime as dt
import uuid

from starlette.responses import Response

from pocketstack.common.api.request import ApiRequest, json_response
from pocketstack.common.api.routes import route
from pocketstack.common.pagination import Paging, parse_paging
from pocketstack.ha import errors
from pocketstack.ha.api import render, schemas
from pocketstack.ha.api.common import VERSIONS
from pocketstack.ha.manager import InstanceHA
from pocketstack.ha.notifications import NotificationFilters, Notifications

INDEX, DETAIL, CREATE = ("os_masakari_api:notifications:index", "os_masakari_api:notifications:detail",
                         "os_masakari_api:notifications:create")
VMOVES, VMOVE = "os_masakari_api:vmoves:index", "os_masakari_api:vmoves:detail"
SORT_KEYS = ("created_at", "updated_at", "generated_time", "type", "status", "source_host_uuid", "id")
VMOVE_SORT_KEYS = ("created_at", "updated_at", "start_time", "end_time", "status", "instance_uuid", "id")


def parse_time(name: str, value: str) -> dt.datetime:
    """An ISO 8601 time as naive UTC; 400 otherwise."""
    try:
        parsed = dt.datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        if name == "generated_time":
            raise errors.InvalidGeneratedTime(value=value) from None
        raise errors.InvalidFilter(name=name, value=value) from None
    if parsed.tzinfo is not None:
        parsed = parsed.astimezone(dt.timezone.utc).replace(tzinfo=None)
    return parsed


def check_uuid(name: str, value: str) -> str:
    try:
        uuid.UUID(value)
    except ValueError:
        raise errors.InvalidFilter(name=name, value=value) from None
    return value


def one_of(name: str, value: str | None, allowed: tuple[str, ...]) -> str | None:
    if value is not None and value not in allowed:
        raise errors.InvalidFilter(name=name, value=value)
    return value


def paging(req: ApiRequest, sort_keys: tuple[str, ...]) -> Paging:
    page = parse_paging(req.query, allowed_sort_keys=sort_keys)
    if page.marker is not None:
        check_uuid("marker", page.marker)
    return page


class RootApi:
    @route.get("/", public=True)
    def versions(self, req: ApiRequest) -> dict:
        """Masakari's version document: v1 with its microversion range."""
        return {"versions": [{"id": "v1.0", "status": "CURRENT", "version": str(VERSIONS.maximum),
                              "min_version": str(VERSIONS.minimum), "updated": "2016-07-01T11:33:21Z",
                              "links": [{"rel": "self", "href": f"{req.service_url}/v1/"}]}]}


class NotificationsApi:
    def __init__(self, manager: InstanceHA):
        self.manager = manager
        self.notifications = manager.notifications

    @route.get("/v1/notifications", policy=INDEX)
    def index(self, req: ApiRequest) -> dict:
        req.authorize()
        query = req.query
        since = query.get("generated-since")
        host = query.get("source_host_uuid")
        filters = NotificationFilters(
            source_host_uuid=check_uuid("source_host_uuid", host) if host is not None else None,
            type=one_of("type", query.get("type"), schemas.TYPES),
            status=one_of("status", query.get("status"), schemas.STATUSES),
            generated_since=parse_time("generated-since", since) if since is not None else None)
        page = paging(req, SORT_KEYS)
        try:
            rows = self.notifications.list(filters, page)
        except errors.NotificationNotFound:
            raise errors.InvalidFilter(name="marker", value=page.marker) from None
        return {"notifications": [render.notification(r) for r in rows]}

    @route.get("/v1/notifications/{notification_id}", policy=DETAIL)
    def show(self, req: ApiRequest) -> dict:
        req.authorize()
        row = self.notifications.get(req.path_params["notification_id"])
        return {"notification": render.notification(row, workflow=req.at_least(1, 1))}

    @route.post("/v1/notifications", policy=CREATE, body=schemas.CREATE, authorize_first=True)
    def create(self, req: ApiRequest) -> Response:
        """An external monitor's report (Masakari's hostmonitor, Pacemaker, Nagios): 202."""
        req.authorize()
        body = req.data["notification"]
        row = self.manager.report(body["type"], body["hostname"], body["payload"],
                                  parse_time("generated_time", body["generated_time"]))
        return json_response({"notification": render.notification(row)}, status=202)


class VMovesApi:
    def __init__(self, notifications: Notifications):
        self.notifications = notifications

    @route.get("/v1/notifications/{notification_id}/vmoves", policy=VMOVES, since="1.3")
    def index(self, req: ApiRequest) -> dict:
        req.authorize()
        notification = self.notifications.get(req.path_params["notification_id"])
        page = paging(req, VMOVE_SORT_KEYS)
        try:
            rows = self.notifications.vmoves(notification.notification_uuid, page)
        except errors.VMoveNotFound:
            raise errors.InvalidFilter(name="marker", value=page.marker) from None
        return {"vmoves": [render.vmove(r) for r in rows]}

    @route.get("/v1/notifications/{notification_id}/vmoves/{vmove_id}", policy=VMOVE, since="1.3")
    def show(self, req: ApiRequest) -> dict:
        req.authorize()
        notification = self.notifications.get(req.path_params["notification_id"])
        return {"vmove": render.vmove(self.notifications.vmove(notification.notification_uuid,
                                                               req.path_params["vmove_id"]))}
