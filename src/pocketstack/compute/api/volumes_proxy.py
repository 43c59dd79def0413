"""``/os-volumes`` and ``/os-snapshots``: Nova's proxy of Block Storage volumes and
snapshots (deprecated, gone from microversion 2.36).

Nova calls Cinder with the caller's own token, so everything here goes through the
volume service's contract as the caller: the same quotas, states and project scoping as
the Block Storage API, in Nova's older names (``displayName``, ``availabilityZone``…).
Cinder's refusals become Nova's answers: an invalid request 400 ("Invalid input
received: …"), over quota 403, an unknown volume or snapshot 404.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from starlette.responses import Response

from pocketstack.common.api.request import ApiRequest, json_response
from pocketstack.common.api.routes import route
from pocketstack.common.errors import ApiError
from pocketstack.common.pagination import Paging
from pocketstack.compute import errors
from pocketstack.compute.api.common import body, limited, to_bool, url, volume_service
from pocketstack.compute.api.schemas import volumes_proxy as schemas

if TYPE_CHECKING:
    from pocketstack.compute.manager import Compute
    from pocketstack.volume.contract import Attachment, Snapshot, Volume, VolumeContract

UNTIL = "2.35"
VOLUME_RULE = "os_compute_api:os-volumes:{}"
SNAPSHOT_RULE = "os_compute_api:os-volumes:snapshots:{}"
# Cinder's largest size (its ``DB_MAX_INT``); a bigger one is its 400.
_MAX_SIZE = 0x7FFFFFFF


def volume_view(v: Volume, type_names: dict[str, str], metadata: dict[str, str],
                attachments: list[Attachment]) -> dict:
    """Nova's ``_translate_volume_summary_view`` (the detail view is the same): the first
    attachment of an attached volume, else ``[{}]``."""
    attached = [a for a in attachments if a.attach_status == "attached"]
    if attached:
        first = attached[0]
        shown = {"id": v.id, "volumeId": v.id, "serverId": first.instance_uuid}
        if first.mountpoint:
            shown["device"] = first.mountpoint
        rendered_attachments = [shown]
    else:
        rendered_attachments = [{}]
    return {"id": v.id, "status": v.status, "size": v.size, "availabilityZone": v.availability_zone,
            "createdAt": v.created_at, "attachments": rendered_attachments, "displayName": v.name,
            "displayDescription": v.description,
            "volumeType": type_names.get(v.volume_type_id, v.volume_type_id) if v.volume_type_id else None,
            "snapshotId": v.snapshot_id, "metadata": metadata}


def snapshot_view(s: Snapshot) -> dict:
    """Nova's ``_translate_snapshot_summary_view``: the size is the volume's."""
    return {"id": s.id, "volumeId": s.volume_id, "status": s.status, "size": s.size, "createdAt": s.created_at,
            "displayName": s.name, "displayDescription": s.description}


def _as_nova(error: ApiError) -> ApiError:
    """Cinder's answer as Nova relays it: 413 over quota is a 403; 400s are "invalid
    input"; 404s pass."""
    if error.status == 413:
        return errors.VolumeQuotaExceeded(reason=error.message)
    if error.status == 400:
        return errors.VolumeRequestInvalid(reason=error.message.removeprefix("Invalid input received: "))
    return error


class VolumesProxyApi:
    """Every rule is checked against the caller's own project (Nova's target), then the
    volume service acts as the caller."""

    def __init__(self, compute: Compute):
        self.compute = compute

    def volumes(self) -> VolumeContract:
        return volume_service(self.compute)

    @staticmethod
    def authorize(req: ApiRequest) -> None:
        req.authorize(target={"project_id": req.caller.project_id})

    def render(self, vols: list[Volume]) -> list[dict]:
        manager = self.volumes()
        ids = [v.id for v in vols]
        names = manager.types.names({v.volume_type_id for v in vols if v.volume_type_id})
        metadata, attachments = manager.volumes.metadata(ids), manager.volumes.attachments(ids)
        return [volume_view(v, names, metadata.get(v.id, {}), attachments.get(v.id, [])) for v in vols]

    def volume_list(self, req: ApiRequest) -> dict:
        self.authorize(req)
        vols = limited(req, self.volumes().volumes.list(req.caller, {}, Paging()))
        return {"volumes": self.render(vols)}

    @route.get("/v2.1/os-volumes", policy=VOLUME_RULE.format("list"), until=UNTIL)
    def index(self, req: ApiRequest) -> dict:
        return self.volume_list(req)

    @route.get("/v2.1/os-volumes/detail", policy=VOLUME_RULE.format("detail"), until=UNTIL)
    def detail(self, req: ApiRequest) -> dict:
        return self.volume_list(req)

    @route.get("/v2.1/os-volumes/{volume_id}", policy=VOLUME_RULE.format("show"), until=UNTIL)
    def show(self, req: ApiRequest) -> dict:
        self.authorize(req)
        return {"volume": self.render([self.volumes().volumes.get(req.caller, req.path_params["volume_id"])])[0]}

    # Authorized before the body is validated (Nova: a 403 before a 400): no ``body=``.
    @route.post("/v2.1/os-volumes", policy=VOLUME_RULE.format("create"), until=UNTIL)
    def create(self, req: ApiRequest) -> Response:
        self.authorize(req)
        spec = body(req, schemas.CREATE_VOLUME, "volume")
        size = int(spec["size"])
        if not 1 <= size <= _MAX_SIZE:
            raise errors.VolumeRequestInvalid(reason=f"Volume size '{size}' must be an integer and greater than 0.")
        request = {"size": size, "name": spec.get("display_name"), "description": spec.get("display_description"),
                   "volume_type": spec.get("volume_type"), "metadata": spec.get("metadata") or {},
                   "availability_zone": spec.get("availability_zone"), "snapshot_id": spec.get("snapshot_id")}
        try:
            volume = self.volumes().volumes.create(req.caller, request)
        except ApiError as error:
            raise _as_nova(error) from None
        return json_response({"volume": self.render([volume])[0]},
                             headers={"Location": url(req, "os-volumes", volume.id)})

    @route.delete("/v2.1/os-volumes/{volume_id}", policy=VOLUME_RULE.format("delete"), until=UNTIL)
    def delete(self, req: ApiRequest) -> Response:
        self.authorize(req)
        try:
            self.volumes().volumes.delete(req.caller, req.path_params["volume_id"])
        except ApiError as error:
            raise _as_nova(error) from None
        return Response(status_code=202)

    def snapshot_list(self, req: ApiRequest) -> dict:
        self.authorize(req)
        snaps = limited(req, self.volumes().snapshots.list(req.caller, {}, Paging(), all_projects=False))
        return {"snapshots": [snapshot_view(s) for s in snaps]}

    @route.get("/v2.1/os-snapshots", policy=SNAPSHOT_RULE.format("list"), until=UNTIL)
    def snapshot_index(self, req: ApiRequest) -> dict:
        return self.snapshot_list(req)

    @route.get("/v2.1/os-snapshots/detail", policy=SNAPSHOT_RULE.format("detail"), until=UNTIL)
    def snapshot_detail(self, req: ApiRequest) -> dict:
        return self.snapshot_list(req)

    @route.get("/v2.1/os-snapshots/{snapshot_id}", policy=SNAPSHOT_RULE.format("show"), until=UNTIL)
    def snapshot_show(self, req: ApiRequest) -> dict:
        self.authorize(req)
        return {"snapshot": snapshot_view(self.volumes().snapshots.get(req.caller, req.path_params["snapshot_id"]))}

    @route.post("/v2.1/os-snapshots", policy=SNAPSHOT_RULE.format("create"), until=UNTIL)
    def snapshot_create(self, req: ApiRequest) -> dict:
        self.authorize(req)
        spec = body(req, schemas.CREATE_SNAPSHOT, "snapshot")
        try:
            snapshot = self.volumes().snapshots.create(
                req.caller, spec["volume_id"], spec.get("display_name"), spec.get("display_description"),
                force=to_bool(spec.get("force", False)), metadata={})
        except ApiError as error:
            raise _as_nova(error) from None
        return {"snapshot": snapshot_view(snapshot)}

    @route.delete("/v2.1/os-snapshots/{snapshot_id}", policy=SNAPSHOT_RULE.format("delete"), until=UNTIL)
    def snapshot_delete(self, req: ApiRequest) -> Response:
        self.authorize(req)
        try:
            self.volumes().snapshots.delete(req.caller, req.path_params["snapshot_id"])
        except ApiError as error:
            raise _as_nova(error) from None
        return Response(status_code=202)
