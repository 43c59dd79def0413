"""Per-server sub-resources: ``/metadata``, ``/tags`` (2.26), ``/os-instance-actions`` and
``/diagnostics``."""

from __future__ import annotations

from starlette.responses import Response

from pocketstack.common.api.request import ApiRequest, json_response
from pocketstack.common.api.routes import Router
from pocketstack.common.api.validation import validate
from pocketstack.common.errors import BadRequest, NotFound
from pocketstack.compute import states as st
from pocketstack.compute.api import render
from pocketstack.compute.api.common import at_least, check_unlocked, get_instance, is_admin, url

_ITEMS = {"type": "object", "propertyNames": {"type": "string", "minLength": 1, "maxLength": 255},
          "additionalProperties": {"type": "string", "maxLength": 255}}
METADATA = {"type": "object", "required": ["metadata"], "properties": {"metadata": _ITEMS},
            "additionalProperties": False}
META = {"type": "object", "required": ["meta"], "properties": {"meta": dict(_ITEMS, minProperties=1,
                                                                             maxProperties=1)},
        "additionalProperties": False}
TAGS = {"type": "object", "required": ["tags"], "properties": {"tags": {"type": "array",
                                                                         "items": {"type": "string"}}},
        "additionalProperties": False}


def _time(value):
    return value.strftime("%Y-%m-%dT%H:%M:%S.%f") if value else None


def register(router: Router, compute) -> None:
    instances = compute.instances

    def server(req: ApiRequest, rule: str, write: bool = False):
        inst = get_instance(compute, req, req.path_params["server_id"], rule)
        if write:
            check_unlocked(req, inst)
        return inst

    # -- metadata --------------------------------------------------------------------
    @router.get("/v2.1/servers/{server_id}/metadata")
    def list_metadata(req: ApiRequest):
        inst = server(req, "os_compute_api:server-metadata:index")
        return {"metadata": instances.metadata(inst.id)}

    @router.post("/v2.1/servers/{server_id}/metadata")
    def merge_metadata(req: ApiRequest):
        inst = server(req, "os_compute_api:server-metadata:create", write=True)
        items = validate(req.json(), METADATA)["metadata"]
        return {"metadata": instances.set_metadata(inst.id, inst.project_id, items, replace=False)}

    @router.put("/v2.1/servers/{server_id}/metadata")
    def replace_metadata(req: ApiRequest):
        inst = server(req, "os_compute_api:server-metadata:update_all", write=True)
        items = validate(req.json(), METADATA)["metadata"]
        return {"metadata": instances.set_metadata(inst.id, inst.project_id, items, replace=True)}

    @router.get("/v2.1/servers/{server_id}/metadata/{key}")
    def show_meta(req: ApiRequest):
        inst = server(req, "os_compute_api:server-metadata:show")
        key = req.path_params["key"]
        items = instances.metadata(inst.id)
        if key not in items:
            raise NotFound("Metadata item was not found")
        return {"meta": {key: items[key]}}

    @router.put("/v2.1/servers/{server_id}/metadata/{key}")
    def set_meta(req: ApiRequest):
        inst = server(req, "os_compute_api:server-metadata:update", write=True)
        item = validate(req.json(), META)["meta"]
        key = req.path_params["key"]
        if key not in item:
            raise BadRequest("Request body and URI mismatch")
        instances.set_metadata(inst.id, inst.project_id, item, replace=False)
        return {"meta": item}

    @router.delete("/v2.1/servers/{server_id}/metadata/{key}")
    def delete_meta(req: ApiRequest):
        inst = server(req, "os_compute_api:server-metadata:delete", write=True)
        instances.delete_metadata(inst.id, req.path_params["key"])

    # -- tags ------------------------------------------------------------------------
    def tagged(req: ApiRequest, rule: str, write: bool = False):
        if not at_least(req, 2, 26):
            raise NotFound("The resource could not be found.")
        inst = server(req, rule, write)
        if write and inst.vm_state not in (st.ACTIVE, st.PAUSED, st.SUSPENDED, st.STOPPED, st.BUILDING,
                                           st.RESCUED, st.RESIZED, st.ERROR):
            raise BadRequest(f"Cannot change tags of instance in vm_state {inst.vm_state}")
        return inst

    @router.get("/v2.1/servers/{server_id}/tags")
    def list_tags(req: ApiRequest):
        return {"tags": instances.tags(tagged(req, "os_compute_api:os-server-tags:index").id)}

    @router.put("/v2.1/servers/{server_id}/tags")
    def replace_tags(req: ApiRequest):
        inst = tagged(req, "os_compute_api:os-server-tags:update_all", write=True)
        return {"tags": instances.replace_tags(inst.id, validate(req.json(), TAGS)["tags"])}

    @router.delete("/v2.1/servers/{server_id}/tags")
    def delete_tags(req: ApiRequest):
        instances.delete_tags(tagged(req, "os_compute_api:os-server-tags:delete_all", write=True).id)

    @router.get("/v2.1/servers/{server_id}/tags/{tag}")
    def check_tag(req: ApiRequest):
        inst = tagged(req, "os_compute_api:os-server-tags:show")
        tag = req.path_params["tag"]
        if tag not in instances.tags(inst.id):
            raise NotFound(f"Tag {tag} on instance {inst.id} could not be found.")

    @router.put("/v2.1/servers/{server_id}/tags/{tag}")
    def add_tag(req: ApiRequest):
        inst = tagged(req, "os_compute_api:os-server-tags:update", write=True)
        tag = req.path_params["tag"]
        created = instances.add_tag(inst.id, tag)
        return Response(status_code=201 if created else 204,
                        headers={"Location": url(req, "servers", inst.id, "tags", tag)})

    @router.delete("/v2.1/servers/{server_id}/tags/{tag}")
    def delete_tag(req: ApiRequest):
        inst = tagged(req, "os_compute_api:os-server-tags:delete", write=True)
        instances.delete_tag(inst.id, req.path_params["tag"])

    # -- instance actions ------------------------------------------------------------
    def render_action(req: ApiRequest, action) -> dict:
        out = {"action": action.action, "instance_uuid": action.instance_id, "message": action.message,
               "project_id": action.project_id, "request_id": action.request_id,
               "start_time": _time(action.start_time), "user_id": action.user_id}
        if at_least(req, 2, 58):
            out["updated_at"] = _time(action.updated_at)
        return out

    @router.get("/v2.1/servers/{server_id}/os-instance-actions")
    def list_actions(req: ApiRequest):
        inst = server(req, "os_compute_api:os-instance-actions:list")
        return {"instanceActions": [render_action(req, a) for a in compute.actions.list(inst.id)]}

    @router.get("/v2.1/servers/{server_id}/os-instance-actions/{request_id}")
    def show_action(req: ApiRequest):
        inst = server(req, "os_compute_api:os-instance-actions:show")
        action, events = compute.actions.get(inst.id, req.path_params["request_id"])
        out = render_action(req, action)
        target = {"project_id": inst.project_id}
        if at_least(req, 2, 51) or req.allowed("os_compute_api:os-instance-actions:events", target):
            details = req.allowed("os_compute_api:os-instance-actions:events:details", target)
            out["events"] = []
            for event in events:
                item = {"event": event.event, "start_time": _time(event.start_time),
                        "finish_time": _time(event.finish_time), "result": event.result}
                if details:
                    item["traceback"] = event.traceback
                if at_least(req, 2, 62):
                    item["hostId"] = render.host_id(inst.project_id, event.host)
                    if is_admin(req):
                        item["host"] = event.host
                out["events"].append(item)
        return {"instanceAction": out}

    # -- diagnostics -----------------------------------------------------------------
    @router.get("/v2.1/servers/{server_id}/diagnostics")
    def diagnostics(req: ApiRequest):
        inst = server(req, "os_compute_api:os-server-diagnostics")
        if not inst.host or inst.vm_state == st.BUILDING:
            raise BadRequest(f"Instance {inst.id} has no diagnostics yet: it is in vm_state {inst.vm_state}")
        flavor = inst.flavor
        topology = inst.guest.get("topology") or {}
        # 2.48 allows only real driver names; Nova's own fake driver reports "libvirt" too.
        data = {"state": st.POWER_STATE_NAMES.get(inst.power_state, "pending"), "driver": "libvirt",
                "hypervisor": "fake", "hypervisor_os": "pocketstack", "uptime": 0,
                "config_drive": bool(inst.config_drive), "num_cpus": flavor["vcpus"],
                "num_disks": 1, "num_nics": 0, "memory_details": {"maximum": flavor["ram"], "used": 0},
                "cpu_details": [{"id": i, "time": 0, "utilisation": None} for i in range(flavor["vcpus"])],
                "disk_details": [{"read_bytes": 0, "read_requests": 0, "write_bytes": 0, "write_requests": 0,
                                  "errors_count": 0}], "nic_details": []}
        # Before 2.48 diagnostics are the driver's own free-form dict: the fake driver's
        # guest CPU topology is shown there; 2.48's standard format has no place for it.
        if not at_least(req, 2, 48):
            data = {"cpu0_time": 0, "memory": flavor["ram"], "cpu_topology": topology}
        return json_response(data)
