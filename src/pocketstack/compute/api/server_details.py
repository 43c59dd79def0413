"""Per-server sub-resources: ``/metadata``, ``/tags`` (2.26), ``/os-instance-actions`` and
``/diagnostics``."""

from __future__ import annotations

from typing import TYPE_CHECKING

from starlette.responses import Response

from pocketstack.common.api.request import ApiRequest, json_response
from pocketstack.common.api.routes import route
from pocketstack.common.pagination import DEFAULT_MAX_LIMIT
from pocketstack.common.validation import validate
from pocketstack.compute import errors
from pocketstack.compute import states as st
from pocketstack.compute.api import render
from pocketstack.compute.api.common import (
    changes_window,
    check_unlocked,
    get_instance,
    in_window,
    int_query,
    url,
    version,
)
from pocketstack.compute.api.schemas import queries
from pocketstack.compute.api.schemas.server_details import META, METADATA, TAGS

if TYPE_CHECKING:
    from pocketstack.compute.manager import Compute

def _time(value):
    return value.strftime("%Y-%m-%dT%H:%M:%S.%f") if value else None


_TAGGABLE = (st.ACTIVE, st.PAUSED, st.SUSPENDED, st.STOPPED, st.BUILDING, st.RESCUED, st.RESIZED, st.ERROR)


def server(compute: Compute, req: ApiRequest, rule: str, write: bool = False, read_deleted: bool = False):
    """The request's server if the caller may apply ``rule``; unlocked when ``write``."""
    inst = get_instance(compute, req, req.path_params["server_id"], rule, read_deleted=read_deleted)
    if write:
        check_unlocked(req, inst)
    return inst


class MetadataApi:
    def __init__(self, compute: Compute):
        self.compute = compute
        self.instances = compute.instances

    @route.get("/v2.1/servers/{server_id}/metadata", policy="os_compute_api:server-metadata:index")
    def index(self, req: ApiRequest):
        inst = server(self.compute, req, "os_compute_api:server-metadata:index")
        return {"metadata": self.instances.metadata(inst.id)}

    # The server is found (404) and authorized (403) before the body is checked (400).
    @route.post("/v2.1/servers/{server_id}/metadata", policy="os_compute_api:server-metadata:create")
    def merge(self, req: ApiRequest):
        inst = server(self.compute, req, "os_compute_api:server-metadata:create", write=True)
        items = validate(req.json(), METADATA)["metadata"]
        return {"metadata": self.instances.set_metadata(inst.id, inst.project_id, items, replace=False)}

    @route.put("/v2.1/servers/{server_id}/metadata", policy="os_compute_api:server-metadata:update_all")
    def replace(self, req: ApiRequest):
        inst = server(self.compute, req, "os_compute_api:server-metadata:update_all", write=True)
        items = validate(req.json(), METADATA)["metadata"]
        return {"metadata": self.instances.set_metadata(inst.id, inst.project_id, items, replace=True)}

    @route.get("/v2.1/servers/{server_id}/metadata/{key}", policy="os_compute_api:server-metadata:show")
    def show(self, req: ApiRequest):
        inst = server(self.compute, req, "os_compute_api:server-metadata:show")
        key = req.path_params["key"]
        items = self.instances.metadata(inst.id)
        if key not in items:
            raise errors.MetadataItemNotFound()
        return {"meta": {key: items[key]}}

    @route.put("/v2.1/servers/{server_id}/metadata/{key}", policy="os_compute_api:server-metadata:update")
    def set(self, req: ApiRequest):
        inst = server(self.compute, req, "os_compute_api:server-metadata:update", write=True)
        item = validate(req.json(), META)["meta"]
        key = req.path_params["key"]
        if key not in item:
            raise errors.MetadataKeyMismatch()
        self.instances.set_metadata(inst.id, inst.project_id, item, replace=False)
        return {"meta": item}

    @route.delete("/v2.1/servers/{server_id}/metadata/{key}", policy="os_compute_api:server-metadata:delete")
    def delete(self, req: ApiRequest):
        inst = server(self.compute, req, "os_compute_api:server-metadata:delete", write=True)
        self.instances.delete_metadata(inst.id, req.path_params["key"])


class TagsApi:
    """Server tags, from microversion 2.26."""

    def __init__(self, compute: Compute):
        self.compute = compute
        self.instances = compute.instances

    def tagged(self, req: ApiRequest, rule: str, write: bool = False):
        inst = server(self.compute, req, rule, write)
        if write and inst.vm_state not in _TAGGABLE:
            raise errors.TagsNotChangeable(vm_state=inst.vm_state)
        return inst

    @route.get("/v2.1/servers/{server_id}/tags", policy="os_compute_api:os-server-tags:index", since="2.26")
    def index(self, req: ApiRequest):
        return {"tags": self.instances.tags(self.tagged(req, "os_compute_api:os-server-tags:index").id)}

    @route.put("/v2.1/servers/{server_id}/tags", policy="os_compute_api:os-server-tags:update_all", since="2.26")
    def replace(self, req: ApiRequest):
        inst = self.tagged(req, "os_compute_api:os-server-tags:update_all", write=True)
        return {"tags": self.instances.replace_tags(inst.id, validate(req.json(), TAGS)["tags"])}

    @route.delete("/v2.1/servers/{server_id}/tags", policy="os_compute_api:os-server-tags:delete_all",
                  since="2.26")
    def delete_all(self, req: ApiRequest):
        self.instances.delete_tags(self.tagged(req, "os_compute_api:os-server-tags:delete_all", write=True).id)

    @route.get("/v2.1/servers/{server_id}/tags/{tag}", policy="os_compute_api:os-server-tags:show", since="2.26")
    def check(self, req: ApiRequest):
        inst = self.tagged(req, "os_compute_api:os-server-tags:show")
        tag = req.path_params["tag"]
        if tag not in self.instances.tags(inst.id):
            raise errors.InstanceTagNotFound(tag=tag, instance_id=inst.id)

    @route.put("/v2.1/servers/{server_id}/tags/{tag}", policy="os_compute_api:os-server-tags:update", since="2.26")
    def add(self, req: ApiRequest):
        inst = self.tagged(req, "os_compute_api:os-server-tags:update", write=True)
        tag = req.path_params["tag"]
        created = self.instances.add_tag(inst.id, tag)
        return Response(status_code=201 if created else 204,
                        headers={"Location": url(req, "servers", inst.id, "tags", tag)})

    @route.delete("/v2.1/servers/{server_id}/tags/{tag}", policy="os_compute_api:os-server-tags:delete",
                  since="2.26")
    def delete(self, req: ApiRequest):
        inst = self.tagged(req, "os_compute_api:os-server-tags:delete", write=True)
        self.instances.delete_tag(inst.id, req.path_params["tag"])


def render_action(req: ApiRequest, action) -> dict:
    out = {"action": action.action, "instance_uuid": action.instance_id, "message": action.message,
           "project_id": action.project_id, "request_id": action.request_id,
           "start_time": _time(action.start_time), "user_id": action.user_id}
    if req.at_least(2, 58):
        out["updated_at"] = _time(action.updated_at)
    return out


class InstanceActionsApi:
    """From 2.21 the actions of a deleted server stay readable (by its project, as Nova)."""

    def __init__(self, compute: Compute):
        self.compute = compute

    @route.get("/v2.1/servers/{server_id}/os-instance-actions", policy="os_compute_api:os-instance-actions:list",
               query={"2.58": queries.INSTANCE_ACTIONS_V258, "2.66": queries.INSTANCE_ACTIONS_V266})
    def index(self, req: ApiRequest):
        """Newest first; from 2.58 ``changes-since`` and ``limit``/``marker`` (a request
        id) with a ``links`` next page, from 2.66 ``changes-before`` (on ``updated_at``)."""
        inst = server(self.compute, req, "os_compute_api:os-instance-actions:list", read_deleted=req.at_least(2, 21))
        actions = self.compute.actions.list(inst.id)
        if not req.at_least(2, 58):
            return {"instanceActions": [render_action(req, a) for a in actions]}
        since, before = changes_window(req.query, version(req), since_from=(2, 58))
        actions = [a for a in actions if in_window(a.updated_at, since, before)]
        if marker := req.query.get("marker"):
            ids = [a.request_id for a in actions]
            if marker not in ids:
                raise errors.MarkerNotFound(marker=marker)
            actions = actions[ids.index(marker) + 1:]
        limit = int_query(req, "limit")
        page = actions[:min(limit, DEFAULT_MAX_LIMIT)] if limit is not None else actions[:DEFAULT_MAX_LIMIT]
        out: dict = {"instanceActions": [render_action(req, a) for a in page]}
        if page and len(actions) > len(page):
            out["links"] = [{"rel": "next", "href": url(req, "servers", inst.id, "os-instance-actions")
                             + f"?limit={len(page)}&marker={page[-1].request_id}"}]
        return out

    @route.get("/v2.1/servers/{server_id}/os-instance-actions/{request_id}",
               policy="os_compute_api:os-instance-actions:show")
    def show(self, req: ApiRequest):
        inst = server(self.compute, req, "os_compute_api:os-instance-actions:show", read_deleted=req.at_least(2, 21))
        action, events = self.compute.actions.get(inst.id, req.path_params["request_id"])
        out = render_action(req, action)
        target = {"project_id": inst.project_id}
        # Nova's rule: whoever the ``events`` policy allows sees the events with their
        # tracebacks (and, from 2.62, their host); from 2.51 everyone else sees them too,
        # without either.
        privileged = req.allowed("os_compute_api:os-instance-actions:events", target)
        # 2.84: each event's ``details`` (a failure's message), by its own rule.
        details = req.at_least(2, 84) and req.allowed("os_compute_api:os-instance-actions:events:details", target)
        if privileged or req.at_least(2, 51):
            out["events"] = []
            for event in events:
                item = {"event": event.event, "start_time": _time(event.start_time),
                        "finish_time": _time(event.finish_time), "result": event.result}
                if privileged:
                    item["traceback"] = event.traceback
                if req.at_least(2, 62):
                    item["hostId"] = render.host_id(inst.project_id, event.host)
                    if privileged:
                        item["host"] = event.host
                if details:
                    item["details"] = event.details
                out["events"].append(item)
        return {"instanceAction": out}


class DiagnosticsApi:
    def __init__(self, compute: Compute):
        self.compute = compute

    @route.get("/v2.1/servers/{server_id}/diagnostics", policy="os_compute_api:os-server-diagnostics")
    def show(self, req: ApiRequest):
        inst = server(self.compute, req, "os_compute_api:os-server-diagnostics")
        if not inst.host or inst.vm_state == st.BUILDING:
            raise errors.DiagnosticsNotReady(instance_id=inst.id, vm_state=inst.vm_state)
        measured = self.compute.rpc.get_diagnostics(inst.host, inst.id)
        # 2.48 allows only real driver names ("libvirt" for QEMU guests; Nova's own fake
        # driver reports "libvirt" too); the hypervisor is libvirt's virt_type (kvm, qemu).
        data = {"state": st.POWER_STATE_NAMES.get(inst.power_state, "pending"), "driver": "libvirt",
                "hypervisor_os": "linux", "config_drive": bool(inst.config_drive), **measured}
        # Before 2.48 diagnostics are the driver's own free-form dict, libvirt's keys: the
        # guest CPU topology is shown there too; 2.48's standard format has no place for it.
        if not req.at_least(2, 48):
            data = {**{f"cpu{cpu['id']}_time": cpu["time"] for cpu in measured["cpu_details"]},
                    "memory": measured["memory_details"]["maximum"],
                    "memory-rss": measured["memory_details"]["used"] << 10,
                    "cpu_topology": inst.guest.get("topology") or {}}
        return json_response(data)


class TopologyApi:
    """2.78's ``GET /servers/{id}/topology``: the guest's NUMA cells.  Neither driver here
    gives a guest a NUMA topology (the ``hw:numa_*``, ``hw:cpu_policy`` and
    ``hw:mem_page_size`` extra specs are not applied, so no server has Nova's
    ``numa_topology``): the answer is Nova's for such a server, no nodes and no page size.
    The host's NUMA ids and CPU pinning would be shown by ``compute:server:topology:host:index``."""

    def __init__(self, compute: Compute):
        self.compute = compute

    @route.get("/v2.1/servers/{server_id}/topology", policy="compute:server:topology:index", since="2.78")
    def index(self, req: ApiRequest):
        server(self.compute, req, "compute:server:topology:index")  # 404 or 403 first
        return {"nodes": [], "pagesize_kb": None}
