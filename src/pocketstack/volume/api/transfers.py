"""Volume transfers: create (the auth key is shown once), list (summary and detail),
show, delete, and accept by another project with the key -- at ``/os-volume-transfer``
(Cinder's original extension) and ``/volume-transfers`` (its v3 controller, which takes
``no_snapshots`` from 3.55 and pages and sorts from 3.59).  Both show a transfer alike:
``no_snapshots`` from 3.55, ``source_project_id``, ``destination_project_id`` and
``accepted`` from 3.57, and links into ``os-volume-transfer`` (Cinder's view builder's)."""

from __future__ import annotations

import dataclasses
from typing import Any

from starlette.responses import Response

from pocketstack.common.api.request import ApiRequest
from pocketstack.common.api.routes import RouteSpec, route
from pocketstack.volume import models as m
from pocketstack.volume.api import schemas
from pocketstack.volume.api.common import (
    FALSE_WORDS,
    PAGING_PARAMS,
    TRUE_WORDS,
    accepted,
    all_projects,
    authorize_on_volume,
    is_detail,
    links,
    offset,
    own_project,
    page_links,
    paging,
    to_bool,
)
from pocketstack.volume.transfers import Transfers
from pocketstack.volume.volumes import Volumes

LEGACY = "os-volume-transfer"
CURRENT = "volume-transfers"
SORT_KEYS = ("created_at", "id", "name", "volume_id")


def summary(req: ApiRequest, t: m.Transfer) -> dict:
    return {"id": t.id, "name": t.name, "volume_id": t.volume_id, "links": links(req, LEGACY, t.id)}


def detail(req: ApiRequest, t: m.Transfer) -> dict:
    out: dict[str, Any] = {**summary(req, t), "created_at": t.created_at}
    if req.at_least(3, 55):
        out["no_snapshots"] = t.no_snapshots
    if req.at_least(3, 57):  # a transfer shown is pending: accepting one removes it
        out.update(source_project_id=t.project_id, destination_project_id=None, accepted=False)
    return out


def list_filters(req: ApiRequest, paged: bool) -> dict[str, Any]:
    """The query as Cinder's transfer list takes it: every parameter but ``all_tenants``
    (and, when it pages, the paging ones) is a filter on a column; ``name`` is its
    ``display_name``, and the flags are booleans."""
    skip = {"all_tenants", "all_projects"} | (PAGING_PARAMS if paged else set())
    filters: dict[str, Any] = {("display_name" if k == "name" else k): v for k, v in req.query.items()
                               if k not in skip}
    for key in ("no_snapshots", "accepted"):
        word = str(filters.get(key, "")).strip().lower()
        if word in TRUE_WORDS + FALSE_WORDS:
            filters[key] = word in TRUE_WORDS
    return filters


class TransfersApi:
    """One collection of transfers: ``collection`` is :data:`LEGACY` or :data:`CURRENT`."""

    def __init__(self, transfers: Transfers, volumes: Volumes, collection: str):
        self.transfers = transfers
        self.volumes = volumes
        self.legacy = collection == LEGACY

    def adapt_route(self, spec: RouteSpec) -> RouteSpec:
        """The extension's create never took ``no_snapshots``."""
        if self.legacy and spec.handler == self.create:
            return dataclasses.replace(spec, body=((None, schemas.CREATE_TRANSFER),))
        return spec

    def load(self, req: ApiRequest) -> m.Transfer:
        transfer = self.transfers.get(req.caller, req.path_params["transfer_id"])
        req.authorize(target={"project_id": transfer.project_id})
        return transfer

    @route.post("", policy="volume:create_transfer",
                body={"3.0": schemas.CREATE_TRANSFER, "3.55": schemas.CREATE_TRANSFER_355})
    def create(self, req: ApiRequest) -> Response:
        spec = req.data["transfer"]
        authorize_on_volume(req, self.volumes, spec["volume_id"])
        name = spec.get("name")
        transfer, auth_key = self.transfers.create(req.caller, spec["volume_id"],
                                                   name.strip() if isinstance(name, str) else name,
                                                   to_bool(spec.get("no_snapshots", False), "no_snapshots"))
        return accepted({"transfer": {**detail(req, transfer), "auth_key": auth_key}})

    @route.get("", policy="volume:get_all_transfers")
    @route.get("/detail", policy="volume:get_all_transfers")
    def index(self, req: ApiRequest) -> dict:
        view = detail if is_detail(req) else summary
        req.authorize(target=own_project(req))
        paged = not self.legacy and req.at_least(3, 59)
        page = paging(req, SORT_KEYS) if paged else None
        rows = self.transfers.list(req.caller, all_projects(req), list_filters(req, paged), page,
                                   offset(req) if paged else 0)
        out = {"transfers": [view(req, t) for t in rows]}
        if page is not None:
            out.update(page_links(req, "transfers", rows, page, LEGACY))
        return out

    @route.get("/{transfer_id}", policy="volume:get_transfer")
    def show(self, req: ApiRequest) -> dict:
        return {"transfer": detail(req, self.load(req))}

    @route.delete("/{transfer_id}", policy="volume:delete_transfer")
    def delete(self, req: ApiRequest) -> Response:
        transfer = self.load(req)
        self.transfers.delete(req.caller, transfer.id)
        return accepted()

    @route.post("/{transfer_id}/accept", policy="volume:accept_transfer", body=schemas.ACCEPT_TRANSFER,
                authorize_first=True)
    def accept(self, req: ApiRequest) -> Response:
        """Enforced on the caller's project before the body is read, as Cinder does."""
        req.authorize(target=own_project(req))
        auth_key = str(req.data["accept"]["auth_key"])
        return accepted({"transfer": summary(req, self.transfers.accept(req.caller, req.path_params["transfer_id"],
                                                                        auth_key))})
