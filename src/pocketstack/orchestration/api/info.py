"""Template validation, resource types, template versions and functions, build info."""

from __future__ import annotations

import asyncio
import functools
from typing import Any

from pocketstack import __version__
from pocketstack.common.api.request import ApiRequest
from pocketstack.common.api.routes import route
from pocketstack.orchestration.api import schemas
from pocketstack.orchestration.api.common import authorize
from pocketstack.orchestration.manager import OrchestrationManager
from pocketstack.orchestration.resources import registry
from pocketstack.orchestration.template import versions

PREFIX = "/v1/{tenant_id}"


class InfoApi:
    def __init__(self, manager: OrchestrationManager):
        self.manager = manager

    @route.get("/", public=True)
    @route.get("/versions", public=True)
    def versions_root(self, req: ApiRequest) -> dict:
        return {"versions": [{"id": "v1.0", "status": "CURRENT",
                              "links": [{"rel": "self", "href": f"{req.service_url}/v1/"}]}]}

    @route.post(PREFIX + "/validate", policy="stacks:validate_template", body=schemas.VALIDATE,
                authorize_first=True)
    async def validate(self, req: ApiRequest) -> dict:
        tenant = authorize(req)
        body = dict(req.data)
        given = body.get("parameters") or {}
        prepared = await asyncio.to_thread(functools.partial(
            self.manager.prepare, {**body, "parameters": {}}, stack_name="validate", stack_id="None",
            project_id=tenant, validating=True))
        template = prepared.template
        result: dict[str, Any] = {
            "Description": template.description or "No description",
            "Parameters": {name: param.describe(given.get(name)) for name, param in template.parameters.items()},
            "Environment": {"parameters": prepared.environment.get("parameters") or {},
                            "parameter_defaults": prepared.environment.get("parameter_defaults") or {},
                            "resource_registry": {"resources": {}, **(prepared.environment.get("resource_registry")
                                                                      or {})},
                            "encrypted_param_names": [], "event_sinks": [], "parameter_merge_strategies": {}}}
        if template.parameter_groups:
            result["ParameterGroups"] = template.parameter_groups
        return result

    @route.get(PREFIX + "/resource_types", policy="stacks:list_resource_types")
    def resource_types(self, req: ApiRequest) -> dict:
        authorize(req)
        names = registry.names()
        wanted = req.query.get("name")
        if wanted:
            names = [n for n in names if wanted in n]
        if req.query.get("with_description") in ("true", "True"):
            return {"resource_types": [{"resource_type": n, "description": registry.TYPES[n].description}
                                       for n in names]}
        return {"resource_types": names}

    @route.get(PREFIX + "/resource_types/{type_name}", policy="stacks:resource_schema")
    def resource_type(self, req: ApiRequest) -> dict:
        authorize(req)
        return registry.type_class(req.path_params["type_name"]).describe()

    @route.get(PREFIX + "/resource_types/{type_name}/template", policy="stacks:generate_template")
    def resource_template(self, req: ApiRequest) -> dict:
        authorize(req)
        cls = registry.type_class(req.path_params["type_name"])
        ptype = {"integer": "number", "number": "number", "boolean": "boolean", "list": "comma_delimited_list",
                 "map": "json", "string": "string"}
        parameters = {name: {"type": ptype[p.type], "description": p.description,
                             **({"default": p.default} if p.default is not None else {})}
                      for name, p in cls.properties.items()}
        return {"heat_template_version": "2016-10-14", "description": f"Initial template of {cls.__name__}",
                "parameters": parameters,
                "resources": {cls.__name__: {"type": cls.type_name, "properties": {
                    name: {"get_param": name} for name in cls.properties}}},
                "outputs": {name: {"description": desc, "value": {"get_attr": [cls.__name__, name]}}
                            for name, desc in {**cls.attributes, "show": "Detailed information about resource."}
                            .items()}}

    @route.get(PREFIX + "/template_versions", policy="stacks:list_template_versions")
    def template_versions(self, req: ApiRequest) -> dict:
        authorize(req)
        return {"template_versions": [{"version": v.name, "type": "hot", "aliases": [v.alias] if v.alias else []}
                                      for v in versions.VERSIONS]}

    @route.get(PREFIX + "/template_versions/{template_version}/functions",
               policy="stacks:list_template_functions")
    def template_functions(self, req: ApiRequest) -> dict:
        authorize(req)
        version = versions.by_name(req.path_params["template_version"])
        names = list(version.functions)
        if req.query.get("with_condition_func") in ("true", "True"):
            names += [n for n in version.condition_functions if n not in names]
        return {"template_functions": [{"functions": n, "description": versions.DESCRIPTIONS.get(n, "")}
                                       for n in names]}

    @route.get(PREFIX + "/build_info", policy="build_info:build_info")
    def build_info(self, req: ApiRequest) -> dict:
        authorize(req)
        return {"api": {"revision": __version__}, "engine": {"revision": __version__}}



