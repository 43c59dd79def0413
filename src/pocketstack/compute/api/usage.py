"""``/os-simple-tenant-usage``: servers' hours, and vCPU/RAM/disk hours, in a period;
``/os-instance_usage_audit_log``: the hosts' instance-usage audit of a month.

Servers are removed from the database when they are deleted (no soft delete), so the
usage counts the servers that exist now: a deleted server's past hours are not in it.
A server's usage runs from its launch (its creation until then) to now, clipped to
``start``/``end``.

No host runs Nova's periodic instance-usage audit (there are no usage notifications to
emit), so the audit log truthfully reports every host as not run for the period.
"""

from __future__ import annotations

import datetime as dt

from pocketstack.common.api.request import ApiRequest
from pocketstack.common.api.routes import Router
from pocketstack.common.db import utcnow
from pocketstack.common.errors import BadRequest
from pocketstack.compute.api.common import query_bool
from pocketstack.compute.instances import ServerFilters

_FORMATS = ("%Y-%m-%dT%H:%M:%S", "%Y-%m-%dT%H:%M:%S.%f", "%Y-%m-%d %H:%M:%S.%f")


def _time(value: dt.datetime) -> str:
    return value.strftime("%Y-%m-%dT%H:%M:%S.%f")


def _parse(raw: str | None, now: dt.datetime) -> dt.datetime:
    if not raw:
        return now
    for fmt in _FORMATS:
        try:
            return dt.datetime.strptime(raw, fmt)
        except ValueError:
            continue
    raise BadRequest(f"Invalid start time. {raw} is not in the format %Y-%m-%dT%H:%M:%S[.%f].")


def _audit_period(before: dt.datetime) -> tuple[dt.datetime, dt.datetime]:
    """Nova's default (monthly) audit period: the last whole month before ``before``."""
    end = before.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    start = (end - dt.timedelta(days=1)).replace(day=1)
    return start, end


def register(router: Router, compute) -> None:
    def period(req: ApiRequest) -> tuple[dt.datetime, dt.datetime]:
        now = utcnow()
        start, end = _parse(req.query.get("start"), now), _parse(req.query.get("end"), now)
        if start > end:
            raise BadRequest("Invalid start time. The start time cannot occur after the end time.")
        return start, end

    def usage(project_id: str, start: dt.datetime, end: dt.datetime, servers: list) -> dict:
        now = utcnow()
        server_usages = []
        totals = {"total_hours": 0.0, "total_vcpus_usage": 0.0, "total_memory_mb_usage": 0.0,
                  "total_local_gb_usage": 0.0}
        for inst in servers:
            started = inst.launched_at or inst.created_at
            begin, finish = max(started, start), min(now, end)
            hours = max((finish - begin).total_seconds(), 0) / 3600
            flavor = inst.flavor
            local_gb = flavor["disk"] + flavor.get("ephemeral", 0)
            totals["total_hours"] += hours
            totals["total_vcpus_usage"] += hours * flavor["vcpus"]
            totals["total_memory_mb_usage"] += hours * flavor["ram"]
            totals["total_local_gb_usage"] += hours * local_gb
            server_usages.append({"instance_id": inst.id, "name": inst.name, "tenant_id": inst.project_id,
                                  "flavor": flavor["name"], "vcpus": flavor["vcpus"], "memory_mb": flavor["ram"],
                                  "local_gb": local_gb, "hours": hours, "state": inst.vm_state,
                                  "started_at": _time(started), "ended_at": None,
                                  "uptime": int((now - started).total_seconds())})
        return {"tenant_id": project_id, "start": _time(start), "stop": _time(end), **totals,
                "server_usages": server_usages}

    def servers_of(project_id: str | None, end: dt.datetime) -> list:
        found = compute.instances.list(ServerFilters(project_id=project_id), [("created_at", "asc")], None, None)
        return [i for i in found if (i.launched_at or i.created_at) <= end]

    @router.get("/v2.1/os-simple-tenant-usage")
    def list_usage(req: ApiRequest):
        req.authorize("os_compute_api:os-simple-tenant-usage:list")
        start, end = period(req)
        detailed = query_bool(req.query.get("detailed", "0"), "detailed")
        by_project: dict[str, list] = {}
        for inst in servers_of(None, end):
            by_project.setdefault(inst.project_id, []).append(inst)
        out = []
        for project_id, servers in sorted(by_project.items()):
            one = usage(project_id, start, end, servers)
            if not detailed:
                one.pop("server_usages")
            out.append(one)
        return {"tenant_usages": out}

    @router.get("/v2.1/os-simple-tenant-usage/{project_id}")
    def show_usage(req: ApiRequest):
        project_id = req.path_params["project_id"]
        req.authorize("os_compute_api:os-simple-tenant-usage:show", {"project_id": project_id})
        start, end = period(req)
        return {"tenant_usage": usage(project_id, start, end, servers_of(project_id, end))}

    def audit_log(req: ApiRequest, before: dt.datetime) -> dict:
        req.authorize("os_compute_api:os-instance-usage-audit-log:list")
        start, end = _audit_period(before)
        hosts = [n.host for n in compute.hosts.list()]
        return {
            "period_beginning": f"{start:%Y-%m-%d %H:%M:%S}", "period_ending": f"{end:%Y-%m-%d %H:%M:%S}",
            "num_hosts": len(hosts), "num_hosts_done": 0, "num_hosts_running": 0, "num_hosts_not_run": len(hosts),
            "hosts_not_run": hosts, "log": {}, "total_errors": 0, "total_instances": 0,
            "overall_status": f"0 of {len(hosts)} hosts done. 0 errors."}

    @router.get("/v2.1/os-instance_usage_audit_log")
    def list_audit_log(req: ApiRequest):
        return {"instance_usage_audit_logs": audit_log(req, utcnow())}

    @router.get("/v2.1/os-instance_usage_audit_log/{before}")
    def show_audit_log(req: ApiRequest):
        raw = req.path_params["before"]
        for fmt in ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M:%S.%f"):
            try:
                before = dt.datetime.strptime(raw, fmt)
                break
            except ValueError:
                continue
        else:
            req.authorize("os_compute_api:os-instance-usage-audit-log:list")
            raise BadRequest(f"Invalid timestamp for date {raw}")
        return {"instance_usage_audit_log": audit_log(req, before)}
