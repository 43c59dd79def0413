"""``/os-hosts`` (admin, removed from microversion 2.43): the hosts and their services,
a host's resources, enabling/disabling its compute service.

Maintenance mode and host power actions are driver operations the fake hypervisor does
not have, so they answer 501 as Nova does for drivers without them (libvirt included).
"""

from __future__ import annotations

from pocketstack.common.api.request import ApiRequest
from pocketstack.common.api.routes import Router
from pocketstack.common.errors import BadRequest, NotFound, NotImplementedYet
from pocketstack.compute.api.common import at_least, body
from pocketstack.compute.instances import ServerFilters

_TOGGLE = {"type": "string", "enum": ["enable", "disable"]}
UPDATE = {"type": "object", "additionalProperties": False, "minProperties": 1,
          "properties": {"status": _TOGGLE, "maintenance_mode": _TOGGLE}}
_RULE = {"startup": "start"}  # the policy rule of an action, where its name differs
# The control-plane services of the all-in-one process, on the "controller" host.
_CONTROLLER = ({"host_name": "controller", "service": "scheduler", "zone": "internal"},
               {"host_name": "controller", "service": "conductor", "zone": "internal"})


def register(router: Router, compute) -> None:
    hosts = compute.hosts

    def removed(req: ApiRequest) -> None:
        if at_least(req, 2, 43):
            raise NotFound("The resource could not be found.")

    def node(name: str):
        try:
            return hosts.by_host(name)
        except NotFound:
            raise NotFound(f"Compute host {name} could not be found.") from None

    @router.get("/v2.1/os-hosts")
    def list_hosts(req: ApiRequest):
        removed(req)
        req.authorize("os_compute_api:os-hosts:list")
        found = [{"host_name": n.host, "service": "compute", "zone": n.availability_zone} for n in hosts.list()]
        found += list(_CONTROLLER)
        zone = req.query.get("zone")
        if zone:
            found = [h for h in found if h["zone"] == zone]
        return {"hosts": found}

    @router.get("/v2.1/os-hosts/{host_name}")
    def show_host(req: ApiRequest):
        """Nova's resource table: the host's totals, what is used now, and per project."""
        removed(req)
        req.authorize("os_compute_api:os-hosts:show")
        n = node(req.path_params["host_name"])
        used = compute.placement.usages(n.id)
        rows = [("(total)", n.vcpus, n.memory_mb, n.local_gb),
                ("(used_now)", used.get("VCPU", 0), used.get("MEMORY_MB", 0), used.get("DISK_GB", 0)),
                ("(used_max)", used.get("VCPU", 0), used.get("MEMORY_MB", 0), used.get("DISK_GB", 0))]
        projects: dict[str, list[int]] = {}
        for inst in compute.instances.list(ServerFilters(project_id=None, host=n.host), [("created_at", "desc")],
                                           None, None):
            totals = projects.setdefault(inst.project_id, [0, 0, 0])
            flavor = inst.flavor
            totals[0] += flavor["vcpus"]
            totals[1] += flavor["ram"]
            totals[2] += flavor["disk"] + flavor.get("ephemeral", 0)
        rows += [(project, *totals) for project, totals in sorted(projects.items())]
        return {"host": [{"resource": {"host": n.host, "project": project, "cpu": cpu, "memory_mb": ram,
                                       "disk_gb": disk}} for project, cpu, ram, disk in rows]}

    @router.put("/v2.1/os-hosts/{host_name}")
    def update_host(req: ApiRequest):
        removed(req)
        req.authorize("os_compute_api:os-hosts:update")
        data = body(req, UPDATE)
        n = node(req.path_params["host_name"])
        if "maintenance_mode" in data:
            raise NotImplementedYet("Virt driver does not implement host maintenance mode.")
        if "status" not in data:
            raise BadRequest("'status' or 'maintenance_mode' needed for host update")
        disabled = data["status"] == "disable"
        hosts.update_service(n.service_id, disabled=disabled, disabled_reason=None)
        return {"host": n.host, "status": "disabled" if disabled else "enabled"}

    def power_action(action: str):
        def handle(req: ApiRequest):
            removed(req)
            req.authorize(f"os_compute_api:os-hosts:{_RULE.get(action, action)}")
            node(req.path_params["host_name"])
            raise NotImplementedYet("Virt driver does not implement host power management.")
        return handle

    for action in ("startup", "shutdown", "reboot"):
        router.get(f"/v2.1/os-hosts/{{host_name}}/{action}")(power_action(action))
