"""``/v3/{project_id}/os-services``: the block-storage services this process runs, and
``os-hosts`` (Cinder's deprecated Hosts extension: the same services by host, and a
cinder-volume host's volume and snapshot usage per project).

All-in-one, one process plays cinder-scheduler, cinder-volume (one service per file
backend, ``pocketstack@<backend>``) and cinder-backup; each is ``up`` while its worker
loop runs.

The ``host`` filter matches as Cinder's ``_filter_host``: a bare host name also matches
its backends and pools (``pocketstack`` matches ``pocketstack@file``), a backend its pools.
The ``PUT`` actions ``disable-log-reason``, ``freeze`` and ``thaw`` check their body, the
host and the service as Cinder does (400 / 404 in its words).  No service state (disabled,
frozen) is kept yet, so nothing is ever frozen: ``thaw`` of a real host is Cinder's 400,
and a request that would disable or freeze a service is a 501.
"""

from __future__ import annotations

from collections.abc import Mapping

from pocketstack.common.api.microversions import Version
from pocketstack.common.api.request import ApiRequest
from pocketstack.common.api.routes import route
from pocketstack.common.db.base import utcnow
from pocketstack.volume import errors
from pocketstack.volume.api import schemas
from pocketstack.volume.api.common import PREFIX
from pocketstack.volume.backends import HOST, Backends
from pocketstack.volume.volumes import Volumes
from pocketstack.volume.worker import VolumeWorker

VOLUME_BINARY = "cinder-volume"
REPLICATION_CLUSTER = Version(3, 26)  # from here freeze/thaw name a host or a cluster
CLUSTER_SUPPORT = Version(3, 7)
BACKEND_STATE = Version(3, 49)


def host_matches(host: str, value: str) -> bool:
    """Cinder's ``_filter_host``: a value with ``#`` (a pool) matches exactly, one with
    ``@`` (a backend) also its pools, and a bare host also its backends and pools."""
    if host == value:
        return True
    if "#" in value:
        return False
    return host.startswith(value + "#") or ("@" not in value and host.startswith(value + "@"))


def service_rows(backends: Backends, up: bool, query: Mapping[str, str],
                 version: Version | None = None) -> list[dict]:
    """The services, filtered by the ``binary`` and ``host`` query parameters; ``version``
    adds what Cinder shows from it: ``cluster`` (3.7, none here) and the cinder-volume
    backend's ``backend_state`` (3.49: ``up`` while its pool reports, which it does while
    the worker runs)."""
    state = "up" if up else "down"
    services = [{"binary": binary, "host": host, "zone": "nova", "status": "enabled", "state": state,
                 "updated_at": utcnow(), "disabled_reason": None} for binary, host in (("cinder-scheduler", HOST),
                                                  *(("cinder-volume", b.service_host) for b in backends.all),
                                                  ("cinder-backup", HOST))]
    for service in services:
        if version is not None and version >= BACKEND_STATE and service["binary"] == VOLUME_BINARY:
            service["backend_state"] = "up" if up else None
        if version is not None and version >= CLUSTER_SUPPORT:
            service["cluster"] = None
    return [s for s in services
            if ("binary" not in query or s["binary"] == query["binary"])
            and ("host" not in query or host_matches(str(s["host"]), query["host"]))]


class ServicesApi:
    def __init__(self, worker: VolumeWorker):
        self.worker = worker
        self.backends = worker.backends

    @route.get(PREFIX + "/os-services", policy="volume_extension:services:index")
    def index(self, req: ApiRequest) -> dict:
        req.authorize()
        return {"services": service_rows(self.backends, self.worker.loop is not None, req.query, req.version)}

    @route.put(PREFIX + "/os-services/disable-log-reason", policy="volume_extension:services:update",
               body=schemas.SERVICE_DISABLE_LOG_REASON)
    def disable_log_reason(self, req: ApiRequest) -> dict:
        req.authorize()
        spec = req.data
        host = spec.get("host")
        if not host:
            raise errors.ServiceHostMissing()
        binary = spec.get("binary") or spec.get("service")
        if not service_rows(self.backends, True, {"host": host, "binary": binary}):
            raise errors.ServiceNotFound(binary=binary, host=host)
        raise errors.ServiceStateNotKept(action="disabling")

    def _volume_services(self, req: ApiRequest) -> list[dict]:
        """Cinder's ``get_cluster_host`` and its lookup of the volume services to change;
        each refusal a 400 (Cinder turns its ServiceNotFound into InvalidInput here)."""
        spec = req.data
        host = spec.get("host")
        if req.version is not None and req.version >= REPLICATION_CLUSTER:
            cluster = spec.get("cluster")
            if bool(cluster) == bool(host):
                raise errors.InvalidInput(reason="One and only one of cluster and host must be set.")
            if cluster:  # no service here belongs to a cluster
                raise errors.InvalidInput(reason=f"No service found with cluster={cluster}")
        elif not host:
            raise errors.ServiceHostMissing()
        rows = service_rows(self.backends, True, {"host": host, "binary": VOLUME_BINARY})
        if not rows:
            raise errors.InvalidInput(reason=f"No service found with host={host}")
        return rows

    @route.put(PREFIX + "/os-services/freeze", policy="volume_extension:services:update",
               body=schemas.SERVICE_FREEZE_THAW)
    def freeze(self, req: ApiRequest) -> dict:
        req.authorize()
        req.authorize("volume:freeze_host")
        self._volume_services(req)
        raise errors.ServiceStateNotKept(action="freezing")

    @route.put(PREFIX + "/os-services/thaw", policy="volume_extension:services:update",
               body=schemas.SERVICE_FREEZE_THAW)
    def thaw(self, req: ApiRequest) -> dict:
        req.authorize()
        req.authorize("volume:thaw_host")
        rows = self._volume_services(req)
        hosts = [row["host"] for row in rows]
        raise errors.InvalidInput(reason=f"No service could be changed: frozen in {hosts} must be True to failover.")


class HostsApi:
    def __init__(self, worker: VolumeWorker, volumes: Volumes):
        self.worker = worker
        self.backends = worker.backends
        self.volumes = volumes

    @route.get(PREFIX + "/os-hosts", policy="volume_extension:hosts")
    def index(self, req: ApiRequest) -> dict:
        """Every enabled service as Cinder's ``_list_hosts`` shows it (``zone`` filters)."""
        req.authorize()
        up = "available" if self.worker.loop is not None else "unavailable"
        zone = req.query.get("zone")
        return {"hosts": [{"host_name": row["host"], "service": row["binary"], "zone": row["zone"],
                           "service-status": up, "service-state": row["status"], "last-update": row["updated_at"]}
                          for row in service_rows(self.backends, True, {}) if not zone or row["zone"] == zone]}

    @route.get(PREFIX + "/os-hosts/{host}", policy="volume_extension:hosts")
    def show(self, req: ApiRequest) -> dict:
        """A cinder-volume host's usage: the total, then each project's (numbers as strings)."""
        req.authorize()
        host = req.path_params["host"]
        backend = self.backends.by_host(host)
        if backend is None or host != backend.service_host:
            raise errors.ServiceNotFound(binary=None, host=host)
        usage = self.volumes.usage_on_host(host)
        totals = [sum(u[i] for u in usage.values()) for i in range(4)]
        return {"host": [{"resource": {
            "host": host, "project": project, "volume_count": str(count), "total_volume_gb": str(size),
            "snapshot_count": str(snap_count), "total_snapshot_gb": str(snap_size)}}
            for project, (count, size, snap_count, snap_size) in [("(total)", totals), *usage.items()]]}
