"""``/os-hosts`` (admin, removed from microversion 2.43): the hosts and their services,
a host's resources, enabling/disabling its compute service.

Maintenance mode and host power actions are driver operations the fake hypervisor does
not have, so they answer 501 as Nova does for drivers without them (libvirt included).
"""

from __future__ import annotations

from pocketstack.common.api.request import ApiRequest
from pocketstack.common.api.routes import route
from pocketstack.compute import errors
from pocketstack.compute.api.schemas import hosts as schemas
from pocketstack.compute.hosts import Hosts
from pocketstack.compute.instances import Instances, ServerFilters
from pocketstack.compute.resources import Placement

# The control-plane services of the all-in-one process, on the "controller" host.
_CONTROLLER = ({"host_name": "controller", "service": "scheduler", "zone": "internal"},
               {"host_name": "controller", "service": "conductor", "zone": "internal"})
UNTIL = "2.42"


def resource_rows(node, used: dict[str, int], servers: list) -> list[tuple]:
    """Nova's resource table of a host: its totals, what is used now, and per project."""
    rows: list[tuple] = [
        ("(total)", node.vcpus, node.memory_mb, node.local_gb),
        ("(used_now)", used.get("VCPU", 0), used.get("MEMORY_MB", 0), used.get("DISK_GB", 0)),
        ("(used_max)", used.get("VCPU", 0), used.get("MEMORY_MB", 0), used.get("DISK_GB", 0))]
    projects: dict[str, list[int]] = {}
    for inst in servers:
        totals = projects.setdefault(inst.project_id, [0, 0, 0])
        flavor = inst.flavor
        totals[0] += flavor["vcpus"]
        totals[1] += flavor["ram"]
        totals[2] += flavor["disk"] + flavor.get("ephemeral", 0)
    return rows + [(project, *totals) for project, totals in sorted(projects.items())]


class HostsApi:
    """The routes exist up to 2.42 (``until``): 404 from 2.43 on, before the policy check."""

    def __init__(self, hosts: Hosts, placement: Placement, instances: Instances):
        self.hosts = hosts
        self.placement = placement
        self.instances = instances

    @route.get("/v2.1/os-hosts", policy="os_compute_api:os-hosts:list", until=UNTIL)
    def index(self, req: ApiRequest) -> dict:
        req.authorize()
        found = [{"host_name": n.host, "service": "compute", "zone": n.availability_zone} for n in self.hosts.list()]
        found += list(_CONTROLLER)
        zone = req.query.get("zone")
        if zone:
            found = [h for h in found if h["zone"] == zone]
        return {"hosts": found}

    @route.get("/v2.1/os-hosts/{host_name}", policy="os_compute_api:os-hosts:show", until=UNTIL)
    def show(self, req: ApiRequest) -> dict:
        req.authorize()
        n = self.hosts.by_host(req.path_params["host_name"])
        servers = self.instances.list(ServerFilters(project_id=None, host=n.host), [("created_at", "desc")],
                                      None, None)
        rows = resource_rows(n, self.placement.usages(n.id), servers)
        return {"host": [{"resource": {"host": n.host, "project": project, "cpu": cpu, "memory_mb": ram,
                                       "disk_gb": disk}} for project, cpu, ram, disk in rows]}

    @route.put("/v2.1/os-hosts/{host_name}", policy="os_compute_api:os-hosts:update", until=UNTIL,
               body=schemas.HOST_UPDATE, authorize_first=True)
    def update(self, req: ApiRequest) -> dict:
        req.authorize()
        data = req.data
        n = self.hosts.by_host(req.path_params["host_name"])
        if "maintenance_mode" in data:
            raise errors.HostMaintenanceNotImplemented()
        if "status" not in data:
            raise errors.HostUpdateNeedsStatus()
        disabled = data["status"] == "disable"
        self.hosts.update_service(n.service_id, disabled=disabled, disabled_reason=None)
        return {"host": n.host, "status": "disabled" if disabled else "enabled"}

    def power_action(self, req: ApiRequest):
        req.authorize()
        self.hosts.by_host(req.path_params["host_name"])
        raise errors.HostPowerNotImplemented()

    @route.get("/v2.1/os-hosts/{host_name}/startup", policy="os_compute_api:os-hosts:start", until=UNTIL)
    def startup(self, req: ApiRequest):
        return self.power_action(req)

    @route.get("/v2.1/os-hosts/{host_name}/shutdown", policy="os_compute_api:os-hosts:shutdown", until=UNTIL)
    def shutdown(self, req: ApiRequest):
        return self.power_action(req)

    @route.get("/v2.1/os-hosts/{host_name}/reboot", policy="os_compute_api:os-hosts:reboot", until=UNTIL)
    def reboot(self, req: ApiRequest):
        return self.power_action(req)
