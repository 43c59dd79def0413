"""Stacks as resources: ``OS::Heat::Stack`` (a template given inline) and template
resources (a resource whose type is a template file of the stack's ``files``, directly or
through the environment's resource registry: its properties become the nested stack's
parameters, its attributes the nested stack's outputs).

Either stack is made through the Orchestration API as the user, like any other resource,
named after the resource (``<stack>-<resource>-<suffix>``) and driven by the engines as
every stack is.  As in Heat, ``OS::Heat::Stack``'s stack (Heat's ``RemoteStack``) is an
ordinary stack of the project, while a template resource's is a *nested* stack: its
create carries :data:`PARENT_HEADER`, so the stack records its parent stack and resource
(hidden from stack lists without ``show_nested``, abandoned with its parent, suspended
and resumed with it).
"""

from __future__ import annotations

from typing import Any

from pocketstack.orchestration.resources import schema as s
from pocketstack.orchestration.resources.base import EntityNotFound, ResourceFailure, ResourceType, Step

# The engine's mark on the create of a template resource's stack: ``<parent stack
# id>/<resource name>`` (checked against the parent's resource, in the caller's project).
PARENT_HEADER = "X-Pocketstack-Parent-Resource"


class NestedStack(ResourceType):
    type_name = "OS::Heat::Stack"
    description = "A resource representing a stack, created from a template given in the template."
    poll = 0.2
    properties = {
        "context": s.map_("Context for this stack (only the local region is served).", schema={
            "region_name": s.string("Region name in which this stack will be created."),
            "ca_cert": s.string("CA Cert for SSL."), "insecure": s.boolean("If set, then the server's certificate "
                                                                           "will not be verified.")}),
        "template": s.string("Template that specifies the stack to be created as a resource.", required=True,
                             update_allowed=True),
        "timeout": s.integer("Number of minutes to wait for this stack creation.", update_allowed=True),
        "parameters": s.map_("Set of parameters passed to this stack.", default={}, update_allowed=True),
    }
    attributes = {"stack_name": "Name of the stack.", "outputs": "A dict of key-value pairs output from the stack."}

    def template(self, step: Step, props: dict[str, Any]) -> str:
        return str(props["template"])

    def parameters(self, props: dict[str, Any]) -> dict[str, Any]:
        return dict(props.get("parameters") or {})

    def _body(self, step: Step, props: dict[str, Any]) -> dict[str, Any]:
        body: dict[str, Any] = {"template": self.template(step, props), "parameters": self.parameters(props),
                                "files": step.files, "disable_rollback": True}
        if props.get("timeout"):
            body["timeout_mins"] = props["timeout"]
        return body

    # Whether the stack is the resource's nested stack (a template resource's).
    nested = False

    async def create(self, step: Step, props: dict[str, Any]) -> str:
        return await self._post(step, {"stack_name": step.physical_name, **self._body(step, props)})

    async def _post(self, step: Step, body: dict[str, Any]) -> str:
        headers = {PARENT_HEADER: f"{step.stack_id}/{step.resource_name}"} if self.nested else None
        made = await step.cloud.call("POST", "orchestration", "/stacks", json=body, headers=headers)
        return str(made["stack"]["id"])

    async def find(self, step: Step, props: dict[str, Any]) -> str | None:
        found = await step.cloud.call("GET", "orchestration",
                                      f"/stacks?name={step.physical_name}&show_nested=True")
        stacks = found.get("stacks", [])
        return str(stacks[0]["id"]) if len(stacks) == 1 else None

    async def _stack(self, step: Step, physical_id: str) -> dict[str, Any] | None:
        found = await step.cloud.call("GET", "orchestration", f"/stacks/{step.physical_name}/{physical_id}",
                                      ok_missing=True)
        return found["stack"] if found else None

    async def _reached(self, step: Step, physical_id: str, action: str) -> bool:
        stack = await self._stack(step, physical_id)
        if stack is None:
            raise EntityNotFound(entity="Stack", name=step.physical_name)
        status = stack["stack_status"]
        if status.endswith("FAILED"):
            raise ResourceFailure(f"Went to status {status} due to \"{stack['stack_status_reason']}\"",
                                  "ResourceUnknownStatus")
        return bool(status == f"{action}_COMPLETE")

    async def create_complete(self, step: Step, physical_id: str, props: dict[str, Any]) -> bool:
        return await self._reached(step, physical_id, "CREATE")

    async def update(self, step: Step, physical_id: str, props: dict[str, Any], changed: dict[str, Any]) -> None:
        await step.cloud.call("PUT", "orchestration", f"/stacks/{step.physical_name}/{physical_id}",
                              json=self._body(step, props))

    async def update_complete(self, step: Step, physical_id: str, props: dict[str, Any]) -> bool:
        return await self._reached(step, physical_id, "UPDATE")

    async def delete(self, step: Step, physical_id: str) -> None:
        await step.cloud.call("DELETE", "orchestration", f"/stacks/{step.physical_name}/{physical_id}",
                              ok_missing=True)

    async def delete_complete(self, step: Step, physical_id: str) -> bool:
        stack = await self._stack(step, physical_id)
        if stack is not None and stack["stack_status"] == "DELETE_FAILED":
            raise ResourceFailure(f"Went to status DELETE_FAILED due to \"{stack['stack_status_reason']}\"",
                                  "ResourceUnknownStatus")
        return stack is None

    async def show(self, step: Step, physical_id: str, props: dict[str, Any]) -> dict[str, Any]:
        stack = await self._stack(step, physical_id) or {}
        outputs = {o["output_key"]: o.get("output_value") for o in stack.get("outputs") or []}
        return {"stack_name": stack.get("stack_name"), "outputs": outputs, "show": stack}


class TemplateResource(NestedStack):
    """A resource whose type is a template file: any property (the nested template's
    parameters), any attribute (its outputs); its stack is nested (adopted from the
    resource's entry of the adopt data, suspended and resumed with its parent)."""

    description = "A resource implemented by a nested template."
    open_properties = True
    open_attributes = True
    properties = {}
    attributes = {}
    nested = True

    def __init__(self, file_name: str):
        self.file_name = file_name

    def template(self, step: Step, props: dict[str, Any]) -> str:
        if self.file_name not in step.files:
            raise ResourceFailure(f'No content found in the "files" section for template: {self.file_name}',
                                  "StackValidationFailed")
        return step.files[self.file_name]

    def parameters(self, props: dict[str, Any]) -> dict[str, Any]:
        return dict(props)

    def needs_replacement(self, changed: dict[str, Any], props: dict[str, Any]) -> bool:
        return False

    async def show(self, step: Step, physical_id: str, props: dict[str, Any]) -> dict[str, Any]:
        shown = await super().show(step, physical_id, props)
        return {**shown["outputs"], **shown}

    async def adopt(self, step: Step, entry: dict[str, Any], props: dict[str, Any]) -> str:
        """Heat's ``TemplateResource.handle_adopt``: the nested stack adopted from the
        entry (the nested stack's own abandon data), the template and parameters filled
        in from the resource where the entry lacks them."""
        step.data = {}
        found = await self.find(step, props)
        if found is not None:  # an engine taking over: the adopt was already asked for
            return found
        data = {"template": self.template(step, props), **entry}
        return await self._post(step, {"stack_name": step.physical_name, **self._body(step, props),
                                       "adopt_stack_data": data})

    async def adopt_complete(self, step: Step, physical_id: str, props: dict[str, Any]) -> bool:
        return await self._reached(step, physical_id, "ADOPT")

    async def _act(self, step: Step, physical_id: str, action: str) -> None:
        await step.cloud.call("POST", "orchestration", f"/stacks/{step.physical_name}/{physical_id}/actions",
                              json={action: None})

    async def suspend(self, step: Step, physical_id: str) -> None:
        await self._act(step, physical_id, "suspend")

    async def suspend_complete(self, step: Step, physical_id: str) -> bool:
        return await self._reached(step, physical_id, "SUSPEND")

    async def resume(self, step: Step, physical_id: str) -> None:
        await self._act(step, physical_id, "resume")

    async def resume_complete(self, step: Step, physical_id: str) -> bool:
        return await self._reached(step, physical_id, "RESUME")
