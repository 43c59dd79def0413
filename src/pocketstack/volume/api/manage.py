"""``os-volume-manage`` / ``manageable_volumes`` and ``os-snapshot-manage`` /
``manageable_snapshots`` (3.8+): adopt a backend's file, and list the files a backend
could adopt (:mod:`pocketstack.volume.manage`).

Listings take Cinder's ``host`` (from 3.17 ``host`` or ``cluster``, one of them), sort by
``reference`` or ``size`` (``sort_key``/``sort_dir`` or ``sort``), and page with
``offset``, ``limit`` and ``marker`` (a reference's file name)."""

from __future__ import annotations

from typing import Any

from starlette.responses import Response

from pocketstack.common.api.request import ApiRequest
from pocketstack.common.api.routes import route
from pocketstack.volume import errors
from pocketstack.volume.api import schemas
from pocketstack.volume.api.common import PREFIX, accepted, is_detail, offset, to_bool
from pocketstack.volume.api.snapshots import SnapshotsApi
from pocketstack.volume.api.validation import validate_integer
from pocketstack.volume.api.volumes import VolumesApi
from pocketstack.volume.manage import Manage
from pocketstack.volume.quotas import MAX_INT

SUMMARY = ("reference", "size", "safe_to_manage")
SNAPSHOT_SUMMARY = (*SUMMARY, "source_reference")


def host_or_cluster(req: ApiRequest, params: dict, cluster_since: tuple[int, int]) -> tuple[Any, Any]:
    """Cinder's ``get_cluster_host``: one and only one of them (``host`` before the version)."""
    cluster = params.get("cluster") if req.at_least(*cluster_since) else None
    host = params.get("host")
    if bool(cluster) == bool(host):
        raise errors.InvalidInput(reason="One and only one of cluster and host must be set."
                                  if req.at_least(*cluster_since) else "Host field is missing.")
    return host, cluster


def sort_order(req: ApiRequest) -> list[tuple[str, str]]:
    """``sort`` (``key[:dir],...``) or ``sort_key``/``sort_dir``; reference ascending by default."""
    query = req.query
    if "sort" in query:
        pairs = [(part.partition(":")[0].strip(), part.partition(":")[2].strip() or "asc")
                 for part in query["sort"].split(",") if part.strip()]
    else:
        pairs = [(query.get("sort_key", "reference"), query.get("sort_dir", "asc"))]
    bad_keys = [k for k, _ in pairs if k not in ("reference", "size")]
    if bad_keys:
        raise errors.InvalidInput(reason=f"Invalid sort keys passed: {', '.join(bad_keys)}")
    bad_dirs = [d for _, d in pairs if d not in ("asc", "desc")]
    if bad_dirs:
        raise errors.InvalidInput(reason=f"Invalid sort dirs passed: {', '.join(bad_dirs)}")
    return pairs


def page(req: ApiRequest, entries: list[dict]) -> list[dict]:
    """Sorted (a stable sort per key, last key first), then ``marker``, ``offset``, ``limit``."""
    for key, direction in reversed(sort_order(req)):
        entries.sort(key=lambda e: e["reference"]["source-name"] if key == "reference" else e["size"],
                     reverse=direction == "desc")
    if (marker := req.query.get("marker")) is not None:
        names = [e["reference"]["source-name"] for e in entries]
        if marker not in names:
            raise errors.InvalidInput(reason=f"marker {marker} not found")
        entries = entries[names.index(marker) + 1:]
    entries = entries[offset(req):]
    if "limit" in req.query:
        entries = entries[:validate_integer(req.query["limit"], "limit", 0, MAX_INT)]
    return entries


class ManageApi:
    def __init__(self, manage: Manage, volumes_api: VolumesApi, snapshots_api: SnapshotsApi):
        self.manage = manage
        self.volumes_api = volumes_api
        self.snapshots_api = snapshots_api

    @route.post(PREFIX + "/os-volume-manage", policy="volume_extension:volume_manage", body=schemas.MANAGE_VOLUME)
    @route.post(PREFIX + "/manageable_volumes", policy="volume_extension:volume_manage", body=schemas.MANAGE_VOLUME,
                since="3.8")
    def manage_volume(self, req: ApiRequest) -> Response:
        req.authorize()
        spec = dict(req.data["volume"])
        spec["host"], spec["cluster"] = host_or_cluster(req, spec, (3, 16))
        spec["bootable"] = to_bool(spec.get("bootable", False), "bootable")
        volume = self.manage.manage_volume(req.caller, spec)
        return accepted({"volume": self.volumes_api.show_one(req, volume.id)})

    @route.post(PREFIX + "/os-snapshot-manage", policy="snapshot_extension:snapshot_manage",
                body=schemas.MANAGE_SNAPSHOT)
    @route.post(PREFIX + "/manageable_snapshots", policy="snapshot_extension:snapshot_manage",
                body=schemas.MANAGE_SNAPSHOT, since="3.8")
    def manage_snapshot(self, req: ApiRequest) -> Response:
        spec = req.data["snapshot"]
        volume = self.volumes_api.volumes.get(req.caller, spec["volume_id"])
        req.authorize(target={"project_id": volume.project_id})
        snapshot = self.manage.manage_snapshot(req.caller, volume, spec)
        return accepted({"snapshot": self.snapshots_api.render_many(req, [snapshot])[0]})

    def _listing(self, req: ApiRequest, snapshots: bool) -> dict:
        req.authorize()
        host, cluster = host_or_cluster(req, dict(req.query), (3, 17))
        entries = page(req, self.manage.manageable(host, cluster, snapshots))
        if not is_detail(req):
            keys = SNAPSHOT_SUMMARY if snapshots else SUMMARY
            entries = [{k: e[k] for k in keys} for e in entries]
        return {"manageable-snapshots" if snapshots else "manageable-volumes": entries}

    @route.get(PREFIX + "/os-volume-manage", policy="volume_extension:list_manageable")
    @route.get(PREFIX + "/os-volume-manage/detail", policy="volume_extension:list_manageable")
    @route.get(PREFIX + "/manageable_volumes", policy="volume_extension:list_manageable", since="3.8")
    @route.get(PREFIX + "/manageable_volumes/detail", policy="volume_extension:list_manageable", since="3.8")
    def manageable_volumes(self, req: ApiRequest) -> dict:
        return self._listing(req, snapshots=False)

    @route.get(PREFIX + "/os-snapshot-manage", policy="snapshot_extension:list_manageable")
    @route.get(PREFIX + "/os-snapshot-manage/detail", policy="snapshot_extension:list_manageable")
    @route.get(PREFIX + "/manageable_snapshots", policy="snapshot_extension:list_manageable", since="3.8")
    @route.get(PREFIX + "/manageable_snapshots/detail", policy="snapshot_extension:list_manageable", since="3.8")
    def manageable_snapshots(self, req: ApiRequest) -> dict:
        return self._listing(req, snapshots=True)
