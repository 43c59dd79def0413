"""``/v1/{tenant_id}/stacks``: create, list, find, show, update, delete and preview
stacks; their template, environment, files and outputs."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

from starlette.responses import Response

from pocketstack.common.api.request import ApiRequest, json_response
from pocketstack.common.api.routes import route
from pocketstack.orchestration import adoption, errors
from pocketstack.orchestration import models as m
from pocketstack.orchestration.api import render, schemas
from pocketstack.orchestration.api.common import authorize, flag
from pocketstack.orchestration.manager import OrchestrationManager, Prepared, check_name
from pocketstack.orchestration.resources.stack import PARENT_HEADER

BASE = "/v1/{tenant_id}/stacks"
STACK = BASE + "/{stack_name}/{stack_id}"
_TRUE = (True, "true", "True")


def _paged(items: list[Any], req: ApiRequest, key: str = "id") -> list[Any]:
    marker, limit = req.query.get("marker"), req.query.get("limit")
    if marker:
        ids = [getattr(i, key) for i in items]
        if marker not in ids:
            raise errors.EntityNotFound(entity="Marker", name=marker)
        items = items[ids.index(marker) + 1:]
    if limit is not None:
        try:
            count = int(limit)
            if count < 0:
                raise ValueError
        except ValueError:
            raise errors.InvalidLimit() from None
        items = items[:count]
    return items


class StacksApi:
    def __init__(self, manager: OrchestrationManager):
        self.manager = manager

    # -- collection ------------------------------------------------------------------------
    @route.get(BASE, policy="stacks:index")
    def index(self, req: ApiRequest) -> dict:
        return {"stacks": [render.stack(req, row) for row in self._listed(req)]}

    @route.get(BASE + "/detail", policy="stacks:detail")
    def detail(self, req: ApiRequest) -> dict:
        return {"stacks": [render.stack_detail(req, row, []) for row in self._listed(req)]}

    def _listed(self, req: ApiRequest) -> list[m.Stack]:
        tenant = authorize(req)
        everyone = req.query.get("global_tenant") in _TRUE and req.allowed("admin_api")
        rows = self.manager.store.stacks(None if everyone else tenant, show_nested=flag(req, "show_nested"))
        for key, attribute in (("stack_name", "name"), ("name", "name"), ("status", "status"),
                               ("action", "action"), ("id", "id"), ("owner_id", "owner_id")):
            wanted = req.query.getlist(key)
            if wanted:
                rows = [r for r in rows if getattr(r, attribute) in wanted]
        for tag in [t for t in (req.query.get("tags") or "").split(",") if t]:
            rows = [r for r in rows if tag in (r.tags or [])]
        if req.query.get("sort_dir") == "asc":
            rows.reverse()
        return _paged(rows, req)

    @route.post(BASE, policy="stacks:create", body=schemas.CREATE, authorize_first=True)
    async def create(self, req: ApiRequest) -> Response:
        tenant = authorize(req)
        name = check_name(req.data["stack_name"])
        adopt = None
        if req.data.get("adopt_stack_data") is not None:  # Heat: the data's template, its parameters
            self.manager.check_enabled("Stack Adopt")
            data = adoption.parse(req.data["adopt_stack_data"])
            req.data = adoption.request_body(req.data, data)
            adopt = adoption.entries(data)
        nesting = req.headers.get(PARENT_HEADER)
        parent = await asyncio.to_thread(self.manager.nesting, tenant, nesting) if nesting is not None else None
        prepared = await self._prepare(req, name, str(uuid.uuid4()), tenant)
        trust_id = await self.manager.trustee.delegate(req.caller, tenant)
        try:
            row = await asyncio.to_thread(self.manager.create, req.caller, tenant, name, prepared, req.data, trust_id,
                                          adopt, parent)
        except errors.StackExists:
            if trust_id != req.caller.trust_id:  # made for this stack only
                await self.manager.trustee.release(trust_id)
            raise
        await self.manager.cast(row.id)
        url = render.stack_url(req, row)
        return json_response({"stack": {"id": row.id, "links": [{"href": url, "rel": "self"}]}}, 201,
                             {"Location": url})

    async def _prepare(self, req: ApiRequest, name: str, stack_id: str, tenant: str,
                       base: m.Stack | None = None) -> Prepared:
        body = dict(req.data or {})
        for key in ("disable_rollback",):
            if key in body:
                body[key] = body[key] in _TRUE
        req.data = body
        prepared = await asyncio.to_thread(self.manager.prepare, body, stack_name=name, stack_id=stack_id,
                                           project_id=tenant, base=base)
        await self.manager.check_constraints(prepared, req.caller.auth_token or "", tenant)
        return prepared

    @route.post(BASE + "/preview", policy="stacks:preview", body=schemas.CREATE, authorize_first=True)
    async def preview(self, req: ApiRequest) -> dict:
        tenant = authorize(req)
        name = check_name(req.data["stack_name"])
        stack_id = "None"
        prepared = await self._prepare(req, name, stack_id, tenant)
        template, scope = prepared.template, prepared.scope
        graph = template.graph(scope.active())
        required_by = {n: sorted(o for o, deps in graph.items() if n in deps) for n in graph}
        resources = [{
            "resource_name": n, "resource_type": template.resources[n].type, "resource_action": "INIT",
            "resource_status": "COMPLETE", "resource_status_reason": "", "physical_resource_id": "",
            "resource_identity": {"stack_name": name, "stack_id": stack_id, "tenant": tenant,
                                  "path": f"/resources/{n}"},
            "stack_identity": {"stack_name": name, "stack_id": stack_id, "tenant": tenant, "path": ""},
            "stack_name": name, "properties": scope.resolve(template.resources[n].properties) or {},
            "metadata": scope.resolve(template.resources[n].metadata) or {},
            "description": template.resources[n].description, "required_by": required_by[n],
            "updated_time": None, "creation_time": None} for n in graph]
        return {"stack": {"stack_name": name, "id": stack_id, "description": template.description,
                          "template_description": template.description, "parameters": {
                              **{k: str(v) for k, v in prepared.params.items()},
                              "OS::stack_name": name, "OS::stack_id": stack_id, "OS::project_id": tenant},
                          "timeout_mins": req.data.get("timeout_mins"), "disable_rollback": req.data.get(
                              "disable_rollback", True), "capabilities": [], "notification_topics": [],
                          "stack_owner": req.caller.user_name, "creation_time": None, "updated_time": None,
                          "deletion_time": None, "parent": None, "stack_user_project_id": tenant,
                          "links": [], "resources": resources}}

    # -- finding a stack by name or id -----------------------------------------------------
    @route.get(BASE + "/{stack_name}", policy="stacks:lookup")
    @route.put(BASE + "/{stack_name}", policy="stacks:lookup")
    @route.patch(BASE + "/{stack_name}", policy="stacks:lookup")
    @route.delete(BASE + "/{stack_name}", policy="stacks:lookup")
    @route.post(BASE + "/{stack_name}", policy="stacks:lookup")
    def lookup(self, req: ApiRequest) -> Response:
        return self._redirect(req, "")

    @route.get(BASE + "/{stack_name}/resources", policy="stacks:lookup")
    @route.get(BASE + "/{stack_name}/events", policy="stacks:lookup")
    @route.get(BASE + "/{stack_name}/template", policy="stacks:lookup")
    @route.get(BASE + "/{stack_name}/outputs", policy="stacks:lookup")
    @route.get(BASE + "/{stack_name}/environment", policy="stacks:lookup")
    @route.get(BASE + "/{stack_name}/files", policy="stacks:lookup")
    def lookup_path(self, req: ApiRequest) -> Response:
        return self._redirect(req, "/" + req.raw.url.path.rstrip("/").rsplit("/", 1)[1])

    def _redirect(self, req: ApiRequest, suffix: str) -> Response:
        tenant = authorize(req)
        row = self.manager.find(tenant, req.path_params["stack_name"])
        location = render.stack_url(req, row) + suffix
        if req.raw.url.query:
            location += "?" + req.raw.url.query
        return Response(status_code=302, headers={"Location": location})

    # -- one stack -------------------------------------------------------------------------
    def _stack(self, req: ApiRequest) -> m.Stack:
        tenant = authorize(req)
        return self.manager.get(tenant, req.path_params["stack_name"], req.path_params["stack_id"])

    @route.get(STACK, policy="stacks:show")
    def show(self, req: ApiRequest) -> dict:
        row = self._stack(req)
        return {"stack": render.stack_detail(req, row, self.manager.outputs(row))}

    @route.put(STACK, policy="stacks:update", body=schemas.UPDATE, status=202, authorize_first=True)
    async def update(self, req: ApiRequest) -> None:
        await self._update(req, patch=False)

    @route.patch(STACK, policy="stacks:update_patch", body=schemas.UPDATE, status=202, authorize_first=True)
    async def update_patch(self, req: ApiRequest) -> None:
        await self._update(req, patch=True)

    async def _update(self, req: ApiRequest, patch: bool) -> None:
        row = await asyncio.to_thread(self._stack, req)
        prepared = await self._prepare(req, row.name, row.id, row.project_id, base=row if patch else None)
        trust_id = await self.manager.trust_for(req.caller, row)
        await asyncio.to_thread(self.manager.update, row, prepared, req.data, trust_id)
        await self.manager.cast(row.id)

    @route.delete(STACK, policy="stacks:delete", status=204)
    async def delete(self, req: ApiRequest) -> None:
        row = await asyncio.to_thread(self._stack, req)
        await asyncio.to_thread(self.manager.delete, row, await self.manager.trust_for(req.caller, row))
        await self.manager.cast(row.id)

    @route.delete(STACK + "/abandon", policy="stacks:abandon")
    async def abandon(self, req: ApiRequest) -> dict:
        """Heat's abandon data (200); the stack is gone (its trust too), its resources stay."""
        authorize(req)  # the policy, then the setting (Heat's engine), then the stack
        self.manager.check_enabled("Stack Abandon")
        row = await asyncio.to_thread(self._stack, req)
        data = await asyncio.to_thread(self.manager.abandon, row, remove=True)
        await self.manager.release(row)
        return data

    @route.get(STACK + "/export", policy="stacks:export")
    def export(self, req: ApiRequest) -> dict:
        """The data abandon would answer, nothing removed (Heat gates it with abandon)."""
        authorize(req)  # the policy, then the setting (Heat's engine), then the stack
        self.manager.check_enabled("Stack Abandon")
        return self.manager.abandon(self._stack(req), remove=False)

    @route.get(STACK + "/template", policy="stacks:template")
    def template(self, req: ApiRequest) -> dict:
        return dict(self._stack(req).template)

    @route.get(STACK + "/environment", policy="stacks:environment")
    def environment(self, req: ApiRequest) -> dict:
        env = dict(self._stack(req).environment or {})
        return {"parameters": env.get("parameters") or {}, "parameter_defaults": env.get("parameter_defaults") or {},
                "resource_registry": {"resources": {}, **(env.get("resource_registry") or {})},
                "encrypted_param_names": [], "event_sinks": env.get("event_sinks") or [],
                "parameter_merge_strategies": env.get("parameter_merge_strategies") or {}}

    @route.get(STACK + "/files", policy="stacks:files")
    def files(self, req: ApiRequest) -> dict:
        return dict(self._stack(req).files or {})

    @route.get(STACK + "/outputs", policy="stacks:list_outputs")
    def outputs(self, req: ApiRequest) -> dict:
        row = self._stack(req)
        template = self.manager.scope(row, []).template
        return {"outputs": [{"output_key": key, "description": body.get("description") or "No description given"}
                            for key, body in template.outputs.items()]}

    @route.get(STACK + "/outputs/{output_key}", policy="stacks:show_output")
    def output(self, req: ApiRequest) -> dict:
        row = self._stack(req)
        key = req.path_params["output_key"]
        found = next((o for o in self.manager.outputs(row) if o["output_key"] == key), None)
        if found is None:
            raise errors.OutputNotFound(key=key)
        return {"output": found}
