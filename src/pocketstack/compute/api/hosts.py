"""``/os-services``, ``/os-hypervisors`` and ``/os-availability-zone``:
the compute hosts as operators see them (2.53: services and hypervisors are identified
by UUID)."""

from __future__ import annotations

import datetime as dt
import json
import uuid

from pocketstack.common.api.request import ApiRequest
from pocketstack.common.api.routes import Router
from pocketstack.common.db import utcnow
from pocketstack.common.errors import BadRequest, NotFound
from pocketstack.compute.api.common import at_least, body
from pocketstack.compute.instances import ServerFilters

# The control-plane services of the all-in-one process, as Nova lists them.
_INTERNAL = ("nova-scheduler", "nova-conductor")
_INTERNAL_OFFSETS = {"nova-scheduler": 1, "nova-conductor": 2}
UPDATE = {"type": "object", "minProperties": 1, "additionalProperties": False, "properties": {
    "status": {"type": "string", "enum": ["enabled", "disabled"]},
    "disabled_reason": {"type": ["string", "null"], "maxLength": 255},
    "forced_down": {"type": "boolean"}}}


def legacy_id(uuid_text: str) -> int:
    """Before 2.53 services and hypervisors had integer ids: a stable one from the UUID."""
    return (uuid.UUID(uuid_text).int % 1_000_000) * 4


def register(router: Router, compute) -> None:
    hosts = compute.hosts

    def service_id(req: ApiRequest, node, binary: str = "nova-compute"):
        if at_least(req, 2, 53):
            return node.service_id if binary == "nova-compute" else f"{binary}-{node.service_id}"
        return legacy_id(node.service_id) + _INTERNAL_OFFSETS.get(binary, 0)

    def render_service(req: ApiRequest, node) -> dict:
        down = not hosts.is_up(node)
        out = {"id": service_id(req, node), "binary": "nova-compute", "host": node.host,
               "zone": node.availability_zone, "status": "disabled" if node.disabled else "enabled",
               "state": "down" if down else "up", "updated_at": node.updated_at,
               "disabled_reason": node.disabled_reason}
        if at_least(req, 2, 11):
            out["forced_down"] = node.forced_down
        return out

    @router.get("/v2.1/os-services")
    def list_services(req: ApiRequest):
        req.authorize("os_compute_api:os-services:list")
        nodes = hosts.list()
        services = [render_service(req, n) for n in nodes]
        if nodes:
            for binary in _INTERNAL:
                services.append({"id": service_id(req, nodes[0], binary), "binary": binary, "host": "controller",
                                 "zone": "internal", "status": "enabled", "state": "up",
                                 "updated_at": nodes[0].updated_at, "disabled_reason": None,
                                 **({"forced_down": False} if at_least(req, 2, 11) else {})})
        for key in ("host", "binary"):
            if req.query.get(key):
                services = [s for s in services if s[key] == req.query[key]]
        return {"services": services}

    @router.put("/v2.1/os-services/{service_id}")
    def update_service(req: ApiRequest):
        req.authorize("os_compute_api:os-services:update")
        if not at_least(req, 2, 53):
            raise NotFound("Updating services by id requires microversion 2.53.")
        data = body(req, UPDATE)
        values = {}
        if "status" in data:
            values["disabled"] = data["status"] == "disabled"
            values["disabled_reason"] = data.get("disabled_reason") if values["disabled"] else None
        elif "disabled_reason" in data:
            raise BadRequest("Specifying 'disabled_reason' with status 'enabled' is invalid.")
        if "forced_down" in data:
            values["forced_down"] = data["forced_down"]
        node = hosts.update_service(req.path_params["service_id"], **values)
        return {"service": render_service(req, node)}

    # -- hypervisors -----------------------------------------------------------------
    def usage(node) -> dict[str, int]:
        return compute.placement.usages(node.id)

    def running_vms(node) -> int:
        return len(compute.instances.list(ServerFilters(project_id=None, host=node.host), [("created_at", "desc")],
                                          None, None))

    def render_hypervisor(req: ApiRequest, node, detail: bool) -> dict:
        out = {"id": node.id if at_least(req, 2, 53) else legacy_id(node.id),
               "hypervisor_hostname": node.host, "state": "up" if hosts.is_up(node) else "down",
               "status": "disabled" if node.disabled else "enabled"}
        if not detail:
            return out
        used = usage(node)
        cpu_info = compute.hosts.driver(node.host).resources().cpu_info
        out.update({"hypervisor_type": node.hypervisor_type, "hypervisor_version": 1000, "host_ip": node.host_ip,
                    "service": {"host": node.host, "id": service_id(req, node),
                                "disabled_reason": node.disabled_reason},
                    "vcpus": node.vcpus, "memory_mb": node.memory_mb, "local_gb": node.local_gb,
                    "vcpus_used": used.get("VCPU", 0), "memory_mb_used": used.get("MEMORY_MB", 0),
                    "local_gb_used": used.get("DISK_GB", 0),
                    "free_ram_mb": node.memory_mb - used.get("MEMORY_MB", 0),
                    "free_disk_gb": node.local_gb - used.get("DISK_GB", 0), "current_workload": 0,
                    "running_vms": running_vms(node), "disk_available_least": node.local_gb - used.get("DISK_GB", 0),
                    "cpu_info": cpu_info if at_least(req, 2, 28) else json.dumps(cpu_info)})
        return out

    def find(req: ApiRequest):
        wanted = req.path_params["hypervisor_id"]
        for node in hosts.list():
            if wanted in (node.id, str(render_hypervisor(req, node, False)["id"])):
                return node
        raise NotFound(f"Hypervisor with ID {wanted} could not be found.")

    def listing(req: ApiRequest, detail: bool):
        nodes = hosts.list()
        pattern = req.query.get("hypervisor_hostname_pattern")
        if pattern:
            nodes = [n for n in nodes if pattern in n.host]
        return {"hypervisors": [render_hypervisor(req, n, detail) for n in nodes]}

    @router.get("/v2.1/os-hypervisors")
    def list_hypervisors(req: ApiRequest):
        req.authorize("os_compute_api:os-hypervisors:list")
        return listing(req, False)

    @router.get("/v2.1/os-hypervisors/detail")
    def list_hypervisors_detail(req: ApiRequest):
        req.authorize("os_compute_api:os-hypervisors:list-detail")
        return listing(req, True)

    @router.get("/v2.1/os-hypervisors/statistics")
    def statistics(req: ApiRequest):
        req.authorize("os_compute_api:os-hypervisors:statistics")
        stats = {"count": 0, "vcpus": 0, "memory_mb": 0, "local_gb": 0, "vcpus_used": 0, "memory_mb_used": 0,
                 "local_gb_used": 0, "free_ram_mb": 0, "free_disk_gb": 0, "current_workload": 0,
                 "running_vms": 0, "disk_available_least": 0}
        for node in hosts.list():
            one = render_hypervisor(req, node, True)
            stats["count"] += 1
            for key in stats:
                if key != "count":
                    stats[key] += one[key]
        return {"hypervisor_statistics": stats}

    @router.get("/v2.1/os-hypervisors/{hypervisor_id}")
    def show_hypervisor(req: ApiRequest):
        req.authorize("os_compute_api:os-hypervisors:show")
        return {"hypervisor": render_hypervisor(req, find(req), True)}

    @router.get("/v2.1/os-hypervisors/{hypervisor_id}/uptime")
    def hypervisor_uptime(req: ApiRequest):
        req.authorize("os_compute_api:os-hypervisors:uptime")
        node = find(req)
        out = render_hypervisor(req, node, False)
        days, rest = divmod(int((utcnow() - node.created_at).total_seconds()), 86400)
        out["uptime"] = f" {dt.datetime.now():%H:%M:%S} up {days} days, {rest // 3600:2d}:{rest % 3600 // 60:02d}"
        return {"hypervisor": out}

    def matching(req: ApiRequest, rule: str) -> list:
        """Before 2.53 ``/os-hypervisors/{pattern}/search|servers``: hosts whose name contains
        the pattern; 404 when none does (and from 2.53 on, where the routes are gone)."""
        req.authorize(rule)
        pattern = req.path_params["pattern"]
        nodes = [n for n in hosts.list() if pattern in n.host]
        if at_least(req, 2, 53) or not nodes:
            raise NotFound(f"No hypervisor matching '{pattern}' could be found.")
        return nodes

    @router.get("/v2.1/os-hypervisors/{pattern}/search")
    def search_hypervisors(req: ApiRequest):
        nodes = matching(req, "os_compute_api:os-hypervisors:search")
        return {"hypervisors": [render_hypervisor(req, n, False) for n in nodes]}

    @router.get("/v2.1/os-hypervisors/{pattern}/servers")
    def hypervisor_servers(req: ApiRequest):
        out = []
        for node in matching(req, "os_compute_api:os-hypervisors:servers"):
            one = render_hypervisor(req, node, False)
            found = compute.instances.list(ServerFilters(project_id=None, host=node.host), [("created_at", "desc")],
                                           None, None)
            if found:
                one["servers"] = [{"name": "instance-" + i.id[:8], "uuid": i.id} for i in found]
            out.append(one)
        return {"hypervisors": out}

    # -- availability zones ----------------------------------------------------------
    @router.get("/v2.1/os-availability-zone")
    def list_zones(req: ApiRequest):
        req.authorize("os_compute_api:os-availability-zone:list")
        zones = sorted({n.availability_zone for n in hosts.list() if not n.disabled})
        return {"availabilityZoneInfo": [{"zoneName": z, "zoneState": {"available": True}, "hosts": None}
                                         for z in zones]}

    @router.get("/v2.1/os-availability-zone/detail")
    def detail_zones(req: ApiRequest):
        req.authorize("os_compute_api:os-availability-zone:detail")
        zones: dict[str, dict] = {}
        nodes = hosts.list()
        for node in nodes:
            zones.setdefault(node.availability_zone, {})[node.host] = {"nova-compute": {
                "available": not node.disabled, "active": not node.forced_down, "updated_at": node.updated_at}}
        info = [{"zoneName": z, "zoneState": {"available": True}, "hosts": h} for z, h in sorted(zones.items())]
        if nodes:
            info.append({"zoneName": "internal", "zoneState": {"available": True}, "hosts": {"controller": {
                b: {"available": True, "active": True, "updated_at": nodes[0].updated_at} for b in _INTERNAL}}})
        return {"availabilityZoneInfo": info}
