"""What the backend can do: ``/scheduler-stats/get_pools`` and ``/capabilities/{host}``.

Standard capabilities are top-level keys with Cinder's agreed meanings; the driver's own
are published under its namespace (``pocketstack:*``) so no one mistakes them for those.
"""

from __future__ import annotations

import dataclasses

from pocketstack.common.api.request import ApiRequest
from pocketstack.common.errors import NotFound
from pocketstack.volume.api.common import PREFIX, flag

HOST = "pocketstack@file"


def register(router, service) -> None:
    def stats() -> dict:
        caps = dataclasses.asdict(service.capabilities())
        vendor = caps.pop("vendor")
        return {**caps, **vendor}

    @router.get(PREFIX + "/scheduler-stats/get_pools")
    def get_pools(req: ApiRequest):
        req.authorize("scheduler_extension:scheduler_stats:get_pools")
        pool = {"name": f"{HOST}#file"}
        if flag(req, "detail"):
            pool["capabilities"] = {**stats(), "pool_name": "file", "timestamp": None}
        return {"pools": [pool]}

    @router.get(PREFIX + "/capabilities/{host}")
    def capabilities(req: ApiRequest):
        req.authorize("volume_extension:capabilities")
        if req.path_params["host"] not in (HOST, HOST + "#file", "pocketstack"):
            raise NotFound(f"Host {req.path_params['host']} could not be found.")
        caps = dataclasses.asdict(service.capabilities())
        vendor = caps.pop("vendor")
        standard = {"thin_provisioning": caps["thin_provisioning_support"], "QoS_support": caps["QoS_support"],
                    "multiattach": caps["multiattach"], "replication_enabled": caps["replication_enabled"],
                    "online_extend_support": caps["online_extend_support"]}
        return {"namespace": "OS::Storage::Capabilities::" + HOST, "vendor_name": caps["vendor_name"],
                "volume_backend_name": caps["volume_backend_name"], "pool_name": "file",
                "driver_version": caps["driver_version"], "storage_protocol": caps["storage_protocol"],
                "display_name": "pocketstack file backend", "description": "Sparse raw files on local disk",
                "visibility": "public", "replication_targets": [],
                "properties": {
                    **{k: {"title": k, "description": f"standard capability {k}", "type": "boolean",
                           "default": v} for k, v in standard.items()},
                    # the driver's own, each key in its "pocketstack:" namespace
                    **{k: {"title": k, "description": f"file backend capability {k}", "type": type(v).__name__,
                           "default": v} for k, v in vendor.items()}}}
