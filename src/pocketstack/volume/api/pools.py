"""What the backends can do: ``/scheduler-stats/get_pools`` and ``/capabilities/{host}``.

Standard capabilities are top-level keys with Cinder's agreed meanings; the driver's own
are published under its namespace (``pocketstack:*``) so no one mistakes them for those.
"""

from __future__ import annotations

import dataclasses

from pocketstack.common.api.request import ApiRequest
from pocketstack.common.api.routes import route
from pocketstack.volume import errors
from pocketstack.volume.api.common import PREFIX, flag
from pocketstack.volume.backends import HOST, Backends
from pocketstack.volume.drivers.base import Capabilities


def stats(caps: Capabilities) -> dict:
    """The pool's capabilities as ``get_pools?detail=true`` shows them: standard and vendor
    keys side by side."""
    values = dataclasses.asdict(caps)
    vendor = values.pop("vendor")
    return {**values, **vendor}


def capabilities_view(caps: Capabilities, service_host: str) -> dict:
    """``/capabilities/{host}``: the standard capabilities and the driver's own, each
    described as a property."""
    values = dataclasses.asdict(caps)
    vendor = values.pop("vendor")
    standard = {"thin_provisioning": values["thin_provisioning_support"], "QoS_support": values["QoS_support"],
                "multiattach": values["multiattach"], "replication_enabled": values["replication_enabled"],
                "online_extend_support": values["online_extend_support"]}
    return {"namespace": "OS::Storage::Capabilities::" + service_host,
            "vendor_name": values["vendor_name"], "volume_backend_name": values["volume_backend_name"],
            "pool_name": values["volume_backend_name"],
            "driver_version": values["driver_version"], "storage_protocol": values["storage_protocol"],
            "display_name": "pocketstack file backend", "description": "Sparse raw files on local disk",
            "visibility": "public", "replication_targets": [],
            "properties": {
                **{k: {"title": k, "description": f"standard capability {k}", "type": "boolean",
                       "default": v} for k, v in standard.items()},
                # the driver's own, each key in its "pocketstack:" namespace
                **{k: {"title": k, "description": f"file backend capability {k}", "type": type(v).__name__,
                       "default": v} for k, v in vendor.items()}}}


class PoolsApi:
    def __init__(self, backends: Backends):
        self.backends = backends

    @route.get(PREFIX + "/scheduler-stats/get_pools", policy="scheduler_extension:scheduler_stats:get_pools")
    def pools(self, req: ApiRequest) -> dict:
        """One pool per backend."""
        req.authorize()
        pools = []
        for backend in self.backends.all:
            pool: dict = {"name": backend.host}
            if flag(req, "detail"):
                pool["capabilities"] = {**stats(self.backends.capabilities(backend)), "pool_name": backend.name,
                                        "timestamp": None}
            pools.append(pool)
        return {"pools": pools}

    @route.get(PREFIX + "/capabilities/{host}", policy="volume_extension:capabilities")
    def show(self, req: ApiRequest) -> dict:
        """A backend's capabilities, by ``host@backend`` or its pool (a bare host: the first)."""
        req.authorize()
        host = req.path_params["host"]
        backend = self.backends.all[0] if host == HOST else self.backends.by_host(host)
        if backend is None:
            raise errors.HostNotFound(host=host)
        return capabilities_view(self.backends.capabilities(backend), backend.service_host)
