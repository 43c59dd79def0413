"""``/os-services``, ``/os-hypervisors`` and ``/os-availability-zone``:
the compute hosts as operators see them (2.53: services and hypervisors are identified
by UUID)."""

from __future__ import annotations

import datetime as dt
import json
import uuid

from pocketstack.common.api.request import ApiRequest
from pocketstack.common.api.routes import route
from pocketstack.common.db import utcnow
from pocketstack.common.validation import validate
from pocketstack.compute import errors
from pocketstack.compute.api.common import query_bool
from pocketstack.compute.api.schemas import hosts as schemas
from pocketstack.compute.api.schemas import queries
from pocketstack.compute.hosts import Hosts
from pocketstack.compute.instances import Instances, ServerFilters
from pocketstack.compute.resources import Placement

# The control-plane services of the all-in-one process, as Nova lists them.
_INTERNAL = ("nova-scheduler", "nova-conductor")
_INTERNAL_OFFSETS = {"nova-scheduler": 1, "nova-conductor": 2}


def legacy_id(uuid_text: str) -> int:
    """Before 2.53 services and hypervisors had integer ids: a stable one from the UUID."""
    return (uuid.UUID(uuid_text).int % 1_000_000) * 4


def service_id(req: ApiRequest, node, binary: str = "nova-compute") -> str | int:
    """A service's id: its UUID from 2.53 (the internal ones' derived from the first
    host's), an integer before."""
    if req.at_least(2, 53):
        return node.service_id if binary == "nova-compute" else f"{binary}-{node.service_id}"
    return legacy_id(node.service_id) + _INTERNAL_OFFSETS.get(binary, 0)


def service_changes(data: dict) -> dict:
    """A service update body (2.53) as the columns to change."""
    values: dict = {}
    if "status" in data:
        values["disabled"] = data["status"] == "disabled"
        values["disabled_reason"] = data.get("disabled_reason") if values["disabled"] else None
    elif "disabled_reason" in data:
        raise errors.DisabledReasonWithoutStatus()
    if "forced_down" in data:
        values["forced_down"] = data["forced_down"]
    return values


def uptime_text(now: dt.datetime, seconds: int) -> str:
    """``uptime``'s line: the wall clock, then the days and hours:minutes up."""
    days, rest = divmod(seconds, 86400)
    return f" {now:%H:%M:%S} up {days} days, {rest // 3600:2d}:{rest % 3600 // 60:02d}"


class ServicesApi:
    def __init__(self, hosts: Hosts):
        self.hosts = hosts

    def render(self, req: ApiRequest, node) -> dict:
        down = not self.hosts.is_up(node)
        out = {"id": service_id(req, node), "binary": "nova-compute", "host": node.host,
               "zone": node.availability_zone, "status": "disabled" if node.disabled else "enabled",
               "state": "down" if down else "up", "updated_at": node.updated_at,
               "disabled_reason": node.disabled_reason}
        if req.at_least(2, 11):
            out["forced_down"] = node.forced_down
        return out

    @route.get("/v2.1/os-services", policy="os_compute_api:os-services:list",
               query=queries.from_2_75(queries.SERVICES))
    def index(self, req: ApiRequest) -> dict:
        req.authorize()
        nodes = self.hosts.list()
        services = [self.render(req, n) for n in nodes]
        if nodes:
            for binary in _INTERNAL:
                services.append({"id": service_id(req, nodes[0], binary), "binary": binary, "host": "controller",
                                 "zone": "internal", "status": "enabled", "state": "up",
                                 "updated_at": nodes[0].updated_at, "disabled_reason": None,
                                 **({"forced_down": False} if req.at_least(2, 11) else {})})
        for key in ("host", "binary"):
            if req.query.get(key):
                services = [s for s in services if s[key] == req.query[key]]
        return {"services": services}

    # Authorized, then the microversion checked, then the body (no ``body=``), as today.
    @route.put("/v2.1/os-services/{service_id}", policy="os_compute_api:os-services:update")
    def update(self, req: ApiRequest) -> dict:
        req.authorize()
        if not req.at_least(2, 53):
            raise errors.ServiceUpdateNeedsMicroversion()
        values = service_changes(validate(req.json(), schemas.SERVICE_UPDATE))
        node = self.hosts.update_service(req.path_params["service_id"], **values)
        return {"service": self.render(req, node)}


class HypervisorsApi:
    def __init__(self, hosts: Hosts, placement: Placement, instances: Instances):
        self.hosts = hosts
        self.placement = placement
        self.instances = instances

    def servers_on(self, node) -> list:
        return self.instances.list(ServerFilters(project_id=None, host=node.host), [("created_at", "desc")],
                                   None, None)

    def with_servers(self, req: ApiRequest, out: dict, node) -> dict:
        """2.53's ``with_servers=true``: the node's servers, under ``servers`` when it has
        any (before 2.75) or always, maybe empty (from 2.75)."""
        raw = req.query.get("with_servers")
        if not req.at_least(2, 53) or raw is None or not query_bool(raw, "with_servers"):
            return out
        found = [{"name": "instance-" + i.id[:8], "uuid": i.id} for i in self.servers_on(node)]
        if found or req.at_least(2, 75):
            out["servers"] = found
        return out

    def render(self, req: ApiRequest, node, detail: bool) -> dict:
        out = {"id": node.id if req.at_least(2, 53) else legacy_id(node.id),
               "hypervisor_hostname": node.host, "state": "up" if self.hosts.is_up(node) else "down",
               "status": "disabled" if node.disabled else "enabled"}
        if not detail:
            return out
        out.update({"hypervisor_type": node.hypervisor_type, "hypervisor_version": 1000, "host_ip": node.host_ip,
                    "service": {"host": node.host, "id": service_id(req, node),
                                "disabled_reason": node.disabled_reason}})
        if req.at_least(2, 88):  # the usage figures went (Placement has them), uptime came
            out["uptime"] = self.uptime_of(node) if self.hosts.is_up(node) else None
        else:
            out.update(self.usage_fields(req, node))
        return out

    def usage_fields(self, req: ApiRequest, node) -> dict:
        """What a detailed hypervisor showed of its capacity and use before 2.88."""
        used = self.placement.usages(node.id)
        cpu_info = self.hosts.driver(node.host).resources().cpu_info
        return {"vcpus": node.vcpus, "memory_mb": node.memory_mb, "local_gb": node.local_gb,
                "vcpus_used": used.get("VCPU", 0), "memory_mb_used": used.get("MEMORY_MB", 0),
                "local_gb_used": used.get("DISK_GB", 0),
                "free_ram_mb": node.memory_mb - used.get("MEMORY_MB", 0),
                "free_disk_gb": node.local_gb - used.get("DISK_GB", 0), "current_workload": 0,
                "running_vms": len(self.servers_on(node)),
                "disk_available_least": node.local_gb - used.get("DISK_GB", 0),
                "cpu_info": cpu_info if req.at_least(2, 28) else json.dumps(cpu_info)}

    @staticmethod
    def uptime_of(node) -> str:
        """The host's ``uptime`` line (Nova runs the command on the host; a host here has
        been up since it registered)."""
        return uptime_text(dt.datetime.now(), int((utcnow() - node.created_at).total_seconds()))

    def find(self, req: ApiRequest):
        wanted = req.path_params["hypervisor_id"]
        for node in self.hosts.list():
            if wanted in (node.id, str(self.render(req, node, False)["id"])):
                return node
        raise errors.HypervisorNotFound(hypervisor_id=wanted)

    def listing(self, req: ApiRequest, detail: bool) -> dict:
        nodes = self.hosts.list()
        pattern = req.query.get("hypervisor_hostname_pattern")
        if pattern:
            nodes = [n for n in nodes if pattern in n.host]
            if not nodes and req.at_least(2, 53):
                raise errors.HypervisorPatternNotFound(pattern=pattern)
        return {"hypervisors": [self.with_servers(req, self.render(req, n, detail), n) for n in nodes]}

    @route.get("/v2.1/os-hypervisors", policy="os_compute_api:os-hypervisors:list",
               query={"2.53": queries.HYPERVISORS})
    def index(self, req: ApiRequest) -> dict:
        req.authorize()
        return self.listing(req, False)

    @route.get("/v2.1/os-hypervisors/detail", policy="os_compute_api:os-hypervisors:list-detail",
               query={"2.53": queries.HYPERVISORS})
    def detail(self, req: ApiRequest) -> dict:
        req.authorize()
        return self.listing(req, True)

    # Gone from 2.88 (404), as the per-host figures it adds up.
    @route.get("/v2.1/os-hypervisors/statistics", policy="os_compute_api:os-hypervisors:statistics",
               until="2.87")
    def statistics(self, req: ApiRequest) -> dict:
        req.authorize()
        stats = {"count": 0, "vcpus": 0, "memory_mb": 0, "local_gb": 0, "vcpus_used": 0, "memory_mb_used": 0,
                 "local_gb_used": 0, "free_ram_mb": 0, "free_disk_gb": 0, "current_workload": 0,
                 "running_vms": 0, "disk_available_least": 0}
        for node in self.hosts.list():
            one = self.usage_fields(req, node)
            stats["count"] += 1
            for key in stats:
                if key != "count":
                    stats[key] += one[key]
        return {"hypervisor_statistics": stats}

    @route.get("/v2.1/os-hypervisors/{hypervisor_id}", policy="os_compute_api:os-hypervisors:show",
               query={"2.53": queries.HYPERVISOR})
    def show(self, req: ApiRequest) -> dict:
        req.authorize()
        node = self.find(req)
        return {"hypervisor": self.with_servers(req, self.render(req, node, True), node)}

    # Gone from 2.88 (404): the detailed view carries ``uptime``.
    @route.get("/v2.1/os-hypervisors/{hypervisor_id}/uptime", policy="os_compute_api:os-hypervisors:uptime",
               until="2.87")
    def uptime(self, req: ApiRequest) -> dict:
        req.authorize()
        node = self.find(req)
        out = self.render(req, node, False)
        out["uptime"] = self.uptime_of(node)
        return {"hypervisor": out}

    def matching(self, req: ApiRequest) -> list:
        """Before 2.53 ``/os-hypervisors/{pattern}/search|servers``: hosts whose name contains
        the pattern; 404 when none does (and from 2.53 on, where the routes are gone --
        after the policy check, as today)."""
        req.authorize()
        pattern = req.path_params["pattern"]
        nodes = [n for n in self.hosts.list() if pattern in n.host]
        if req.at_least(2, 53) or not nodes:
            raise errors.HypervisorPatternNotFound(pattern=pattern)
        return nodes

    @route.get("/v2.1/os-hypervisors/{pattern}/search", policy="os_compute_api:os-hypervisors:search")
    def search(self, req: ApiRequest) -> dict:
        return {"hypervisors": [self.render(req, n, False) for n in self.matching(req)]}

    @route.get("/v2.1/os-hypervisors/{pattern}/servers", policy="os_compute_api:os-hypervisors:servers")
    def servers(self, req: ApiRequest) -> dict:
        out = []
        for node in self.matching(req):
            one = self.render(req, node, False)
            found = self.servers_on(node)
            if found:
                one["servers"] = [{"name": "instance-" + i.id[:8], "uuid": i.id} for i in found]
            out.append(one)
        return {"hypervisors": out}


class AvailabilityZonesApi:
    def __init__(self, hosts: Hosts):
        self.hosts = hosts

    @route.get("/v2.1/os-availability-zone", policy="os_compute_api:os-availability-zone:list")
    def index(self, req: ApiRequest) -> dict:
        req.authorize()
        zones = sorted({n.availability_zone for n in self.hosts.list() if not n.disabled})
        return {"availabilityZoneInfo": [{"zoneName": z, "zoneState": {"available": True}, "hosts": None}
                                         for z in zones]}

    @route.get("/v2.1/os-availability-zone/detail", policy="os_compute_api:os-availability-zone:detail")
    def detail(self, req: ApiRequest) -> dict:
        req.authorize()
        zones: dict[str, dict] = {}
        nodes = self.hosts.list()
        for node in nodes:
            zones.setdefault(node.availability_zone, {})[node.host] = {"nova-compute": {
                "available": not node.disabled, "active": not node.forced_down, "updated_at": node.updated_at}}
        info = [{"zoneName": z, "zoneState": {"available": True}, "hosts": h} for z, h in sorted(zones.items())]
        if nodes:
            info.append({"zoneName": "internal", "zoneState": {"available": True}, "hosts": {"controller": {
                b: {"available": True, "active": True, "updated_at": nodes[0].updated_at} for b in _INTERNAL}}})
        return {"availabilityZoneInfo": info}
