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
from pocketstack.common.api.routes import route
from pocketstack.common.db import utcnow
from pocketstack.compute import errors
from pocketstack.compute.api.common import query_bool
from pocketstack.compute.api.schemas import queries
from pocketstack.compute.hosts import Hosts
from pocketstack.compute.instances import Instances, ServerFilters

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
    raise errors.InvalidUsageTime(raw=raw)


def _audit_period(before: dt.datetime) -> tuple[dt.datetime, dt.datetime]:
    """Nova's default (monthly) audit period: the last whole month before ``before``."""
    end = before.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    start = (end - dt.timedelta(days=1)).replace(day=1)
    return start, end


def period(start: str | None, end: str | None, now: dt.datetime) -> tuple[dt.datetime, dt.datetime]:
    """The ``start``/``end`` query parameters (each ``now`` when absent)."""
    begin, finish = _parse(start, now), _parse(end, now)
    if begin > finish:
        raise errors.UsageStartAfterEnd()
    return begin, finish


def usage(project_id: str, start: dt.datetime, end: dt.datetime, servers: list, now: dt.datetime) -> dict:
    """One project's usage of ``servers`` in the period (each from its launch to now)."""
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


def audit_log(hosts: list[str], before: dt.datetime) -> dict:
    """The audit log of the period before ``before``: no host ran it."""
    start, end = _audit_period(before)
    return {
        "period_beginning": f"{start:%Y-%m-%d %H:%M:%S}", "period_ending": f"{end:%Y-%m-%d %H:%M:%S}",
        "num_hosts": len(hosts), "num_hosts_done": 0, "num_hosts_running": 0, "num_hosts_not_run": len(hosts),
        "hosts_not_run": hosts, "log": {}, "total_errors": 0, "total_instances": 0,
        "overall_status": f"0 of {len(hosts)} hosts done. 0 errors."}


def audit_timestamp(raw: str) -> dt.datetime | None:
    """``/os-instance_usage_audit_log/{before}``'s timestamp, None when it is not one."""
    for fmt in ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M:%S.%f"):
        try:
            return dt.datetime.strptime(raw, fmt)
        except ValueError:
            continue
    return None


class UsageApi:
    def __init__(self, instances: Instances):
        self.instances = instances

    def servers_of(self, project_id: str | None, end: dt.datetime) -> list:
        found = self.instances.list(ServerFilters(project_id=project_id), [("created_at", "asc")], None, None)
        return [i for i in found if (i.launched_at or i.created_at) <= end]

    @route.get("/v2.1/os-simple-tenant-usage", policy="os_compute_api:os-simple-tenant-usage:list",
               query=queries.from_2_75(queries.USAGES))
    def index(self, req: ApiRequest) -> dict:
        req.authorize()
        start, end = period(req.query.get("start"), req.query.get("end"), utcnow())
        detailed = query_bool(req.query.get("detailed", "0"), "detailed")
        by_project: dict[str, list] = {}
        for inst in self.servers_of(None, end):
            by_project.setdefault(inst.project_id, []).append(inst)
        out = []
        now = utcnow()
        for project_id, servers in sorted(by_project.items()):
            one = usage(project_id, start, end, servers, now)
            if not detailed:
                one.pop("server_usages")
            out.append(one)
        return {"tenant_usages": out}

    @route.get("/v2.1/os-simple-tenant-usage/{project_id}", policy="os_compute_api:os-simple-tenant-usage:show",
               query=queries.from_2_75(queries.USAGE))
    def show(self, req: ApiRequest) -> dict:
        project_id = req.path_params["project_id"]
        req.authorize(target={"project_id": project_id})
        start, end = period(req.query.get("start"), req.query.get("end"), utcnow())
        return {"tenant_usage": usage(project_id, start, end, self.servers_of(project_id, end), utcnow())}


class AuditLogApi:
    def __init__(self, hosts: Hosts):
        self.hosts = hosts

    @route.get("/v2.1/os-instance_usage_audit_log", policy="os_compute_api:os-instance-usage-audit-log:list")
    def index(self, req: ApiRequest) -> dict:
        req.authorize()
        return {"instance_usage_audit_logs": audit_log([n.host for n in self.hosts.list()], utcnow())}

    @route.get("/v2.1/os-instance_usage_audit_log/{before}",
               policy="os_compute_api:os-instance-usage-audit-log:list")
    def show(self, req: ApiRequest) -> dict:
        raw = req.path_params["before"]
        before = audit_timestamp(raw)
        req.authorize()
        if before is None:
            raise errors.InvalidAuditTimestamp(raw=raw)
        return {"instance_usage_audit_log": audit_log([n.host for n in self.hosts.list()], before)}
