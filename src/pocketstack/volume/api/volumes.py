"""``/v3/{project_id}/volumes``: create, list (summary and detail), show, update, delete
and the summary (3.12+); the volume's metadata is :mod:`.metadata`'s."""

from __future__ import annotations

import ast
import datetime as dt
from collections.abc import Mapping
from typing import Any, NoReturn

from starlette.responses import Response

from pocketstack.common.api.bodies import check_storable, parse_json
from pocketstack.common.api.request import ApiRequest
from pocketstack.common.api.routes import route
from pocketstack.common.errors import BadRequest
from pocketstack.volume import errors
from pocketstack.volume import models as m
from pocketstack.volume.api import render, schemas
from pocketstack.volume.api.common import (
    PREFIX,
    accepted,
    all_projects,
    consumes_quota,
    flag,
    is_detail,
    own_project,
    page_links,
    paging,
    to_bool,
    with_count,
)
from pocketstack.volume.backups import Backups
from pocketstack.volume.types import Types
from pocketstack.volume.volumes import Volumes

SORT_KEYS = ("created_at", "updated_at", "id", "name", "size", "status", "availability_zone", "bootable")


def v1_names(spec: dict) -> dict:
    """Cinder still takes the v1 names ``display_name``/``display_description``."""
    for old, new in (("display_name", "name"), ("display_description", "description")):
        if old in spec:
            spec.setdefault(new, spec.pop(old))
    return spec


def create_spec(spec: dict) -> dict:
    """A create body (valid against :data:`~.schemas.VOLUME_CREATE`) as the volumes take it:
    v1 names, ``size`` a number, ``image_id`` an alias of ``imageRef``, ``multiattach`` a
    boolean."""
    spec = v1_names(spec)
    if spec.get("size") is not None:
        spec["size"] = int(spec["size"])
    spec["imageRef"] = spec.get("imageRef") or spec.pop("image_id", None)
    if spec.get("multiattach") is not None:
        spec["multiattach"] = to_bool(spec["multiattach"], "multiattach")
    return spec


def literal_filter(text: str, name: str = "metadata") -> dict:
    """A dict filter (a volume list's ``metadata``, a type list's ``extra_specs``): JSON,
    or the Python literal clients send (Tempest urlencodes
    a dict, Cinder reads it with ``ast.literal_eval``).  Either way held to what a body
    may hold (common/api/bodies.py): a lone surrogate cannot be compared with a stored
    string and deep nesting exhausts the recursive parsers -- both were 500s."""
    try:
        value = parse_json(text.encode("utf-8", "surrogatepass"))
        if isinstance(value, dict):
            return value
    except BadRequest:
        pass
    try:
        value = ast.literal_eval(text)
        check_storable(value)
    except (ValueError, TypeError, SyntaxError, RecursionError, MemoryError, BadRequest):
        value = None
    if not isinstance(value, dict):
        raise errors.InvalidInput(reason=f"{name} filter must be a JSON object.")
    return value


TIME_OPERATORS = ("gt", "gte", "eq", "neq", "lt", "lte")


def time_filter(value: str) -> dict[str, dt.datetime]:
    """3.60's ``created_at``/``updated_at`` filter: ``op:ISO-time`` comparisons joined by
    commas (``gte:2024-01-01T00:00:00,lt:2024-02-01T00:00:00``), as naive UTC times."""
    comparisons = {}
    for unit in value.split(","):
        operator, _, when = unit.partition(":")
        if operator not in TIME_OPERATORS:
            raise errors.InvalidTimeOperator(operator=operator)
        try:
            parsed = dt.datetime.fromisoformat(when.replace("Z", "+00:00"))
        except ValueError:
            raise errors.InvalidTimeValue(value=when) from None
        if parsed.tzinfo is not None:
            parsed = parsed.astimezone(dt.timezone.utc).replace(tzinfo=None)
        comparisons[operator] = parsed
    return comparisons


def list_filters(query: Mapping[str, str], times: bool = False) -> dict[str, Any]:
    """The volume listing's filters from its query: names, statuses, booleans, metadata,
    and with ``times`` (3.60) comparisons of the creation and update times."""
    filters: dict[str, Any] = {k: query[k] for k in ("name", "status", "availability_zone", "volume_type",
                                                     "project_id", "group_id") if k in query}
    for key in ("bootable", "multiattach"):
        if key in query:
            filters[key] = to_bool(query[key], key)
    if "metadata" in query:
        filters["metadata"] = literal_filter(query["metadata"])
    for key in ("created_at", "updated_at"):
        if times and key in query:
            filters[key] = time_filter(query[key])
    return filters


class VolumesApi:
    def __init__(self, volumes: Volumes, types: Types, backups: Backups):
        self.volumes = volumes
        self.types = types
        self.backups = backups

    def render_many(self, req: ApiRequest, rows: list[m.Volume], extended: bool = True) -> list[dict]:
        ids = [v.id for v in rows]
        metadata, attachments = self.volumes.metadata(ids), self.volumes.attachments(ids)
        names = self.types.names({v.volume_type_id for v in rows if v.volume_type_id})
        images = self.volumes.image_metadata(ids) if extended else {}
        return [render.volume(req, v, metadata[v.id], attachments[v.id], names, extended, images.get(v.id))
                for v in rows]

    def show_one(self, req: ApiRequest, volume_id: str, extended: bool = True) -> dict:
        return self.render_many(req, [self.volumes.get(req.caller, volume_id)], extended)[0]

    def load(self, req: ApiRequest) -> m.Volume:
        """The volume of the path, looked up as the caller (404), then the route's rule
        enforced on its project (403)."""
        volume = self.volumes.get(req.caller, req.path_params["volume_id"])
        req.authorize(target={"project_id": volume.project_id})
        return volume

    @route.post(PREFIX + "/volumes", policy="volume:create",
                body={"3.0": schemas.CREATE_VOLUME, "3.13": schemas.CREATE_VOLUME_313,
                      "3.47": schemas.CREATE_VOLUME_347, "3.53": schemas.CREATE_VOLUME_353})
    def create(self, req: ApiRequest) -> Response:
        spec = create_spec(req.data["volume"])
        if not req.at_least(3, 13):
            spec.pop("group_id", None)
        backup_id = spec.pop("backup_id", None) if req.at_least(3, 47) else None
        # Cinder looks up what the volume is made from before its create policy: another
        # project's snapshot, volume, backup or private type is a 404 to that project's
        # reader too.
        named = self.volumes.references(req.caller, spec, nova_images=req.at_least(3, 46))
        backup = self.backups.get(req.caller, backup_id) if backup_id else None
        req.authorize(target=own_project(req))
        if backup is not None:
            volume = self.backups.create_volume(req.caller, backup, spec, named)
        else:
            volume = self.volumes.create(req.caller, spec, named=named)
        return accepted({"volume": self.show_one(req, volume.id, extended=False)})

    @route.get(PREFIX + "/volumes", policy="volume:get_all")
    @route.get(PREFIX + "/volumes/detail", policy="volume:get_all")
    def index(self, req: ApiRequest) -> dict:
        """The summary listing, or with ``/detail`` the full views."""
        detail = is_detail(req)
        req.authorize(target=own_project(req))
        filters = list_filters(req.query, times=req.at_least(3, 60))
        if (consuming := consumes_quota(req)) is not None:
            filters["consumes_quota"] = consuming
        page = paging(req, SORT_KEYS)
        rows = self.volumes.list(req.caller, filters, page, all_projects(req))
        items = self.render_many(req, rows) if detail else [render.volume_summary(req, v) for v in rows]
        out = {"volumes": items, **page_links(req, "volumes", rows, page, "volumes/detail" if detail else "volumes")}
        if with_count(req):
            out["count"] = self.volumes.count(req.caller, filters, all_projects(req))
        return out

    @route.get(PREFIX + "/volumes/summary", until="3.11")
    def summary_before_312(self, req: ApiRequest) -> NoReturn:
        """Before 3.12 Cinder routes this to "show the volume 'summary'", which it does
        not find (its 404, not the generic one of a route missing at the version)."""
        raise errors.VolumeNotFound(volume_id="summary")

    @route.get(PREFIX + "/volumes/summary", policy="volume:get_volume_summary", since="3.12")
    def summary(self, req: ApiRequest) -> dict:
        req.authorize(target=own_project(req))
        count, size, metadata = self.volumes.summary(req.caller, all_projects(req))
        out: dict[str, Any] = {"total_count": count, "total_size": size}
        if req.at_least(3, 36):
            out["metadata"] = metadata
        return {"volume-summary": out}

    @route.get(PREFIX + "/volumes/{volume_id}", policy="volume:get")
    def show(self, req: ApiRequest) -> dict:
        volume = self.load(req)
        return {"volume": self.show_one(req, volume.id)}

    @route.put(PREFIX + "/volumes/{volume_id}", policy="volume:update",
               body={"3.0": schemas.UPDATE_VOLUME, "3.53": schemas.UPDATE_VOLUME_353}, authorize_first=True)
    def update(self, req: ApiRequest) -> dict:
        volume = self.load(req)
        self.volumes.update(req.caller, volume.id, v1_names(req.data["volume"]))
        return {"volume": self.show_one(req, volume.id, extended=False)}

    @route.delete(PREFIX + "/volumes/{volume_id}", policy="volume:delete")
    def delete(self, req: ApiRequest) -> Response:
        volume = self.load(req)
        self.volumes.delete(req.caller, volume.id, cascade=flag(req, "cascade"))
        return accepted()
