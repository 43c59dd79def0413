"""What the backend can do: ``/scheduler-stats/get_pools`` and ``/capabilities/{host}``.

Standard capabilities are top-level keys with Cinder's agreed meanings; the driver's own
are published under its namespace (``pocketstack:*``) so no one mistakes them for those.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

from pocketstack.common.api.request import ApiRequest
from pocketstack.common.api.routes import route
from pocketstack.volume import errors
from pocketstack.volume.api.common import PREFIX, flag
from pocketstack.volume.drivers.base import Capabilities

HOST = "pocketstack@file"


def stats(caps: Capabilities) -> dict:
    """The pool's capabilities as ``get_pools?detail=true`` shows them: standard and vendor
    keys side by side."""
    values = dataclasses.asdict(caps)
    vendor = values.pop("vendor")
    return {**values, **vendor}


def capabilities_view(caps: Capabilities) -> dict:
    """``/capabilities/{host}``: the standard capabilities and the driver's own, each
    described as a property."""
    values = dataclasses.asdict(caps)
    vendor = values.pop("vendor")
    standard = {"thin_provisioning": values["thin_provisioning_support"], "QoS_support": values["QoS_support"],
                "multiattach": values["multiattach"], "replication_enabled": values["replication_enabled"],
                "online_extend_support": values["online_extend_support"]}
    return {"namespace": "OS::Storage::Capabilities::" + HOST, "vendor_name": values["vendor_name"],
            "volume_backend_name": values["volume_backend_name"], "pool_name": "file",
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
    def __init__(self, capabilities: Callable[[], Capabilities]):
        self.capabilities = capabilities

    @route.get(PREFIX + "/scheduler-stats/get_pools", policy="scheduler_extension:scheduler_stats:get_pools")
    def pools(self, req: ApiRequest) -> dict:
        req.authorize()
        pool: dict = {"name": f"{HOST}#file"}
        if flag(req, "detail"):
            pool["capabilities"] = {**stats(self.capabilities()), "pool_name": "file", "timestamp": None}
        return {"pools": [pool]}

    @route.get(PREFIX + "/capabilities/{host}", policy="volume_extension:capabilities")
    def show(self, req: ApiRequest) -> dict:
        req.authorize()
        host = req.path_params["host"]
        if host not in (HOST, HOST + "#file", "pocketstack"):
            raise errors.HostNotFound(host=host)
        return capabilities_view(self.capabilities())
