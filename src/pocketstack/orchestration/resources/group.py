"""``OS::Heat::ResourceGroup``: ``count`` copies of one resource definition, ``%index%``
replaced by each copy's index.

Heat makes the copies a nested stack; here the group drives them itself (no nested
stack API yet) with the member types' own steps, in parallel, keeping each member's
physical id and private data in the group's data as soon as its create call answers.
"""

from __future__ import annotations

import asyncio
from typing import Any

from pocketstack.orchestration.resources import schema as s
from pocketstack.orchestration.resources.base import ResourceFailure, ResourceType, Step


def _substitute(node: Any, var: str, index: int) -> Any:
    if isinstance(node, str):
        return node.replace(var, str(index))
    if isinstance(node, dict):
        return {_substitute(k, var, index): _substitute(v, var, index) for k, v in node.items()}
    if isinstance(node, list):
        return [_substitute(v, var, index) for v in node]
    return node


def _type(name: str) -> ResourceType:
    from pocketstack.orchestration.resources import registry  # the registry lists this type too
    return registry.get(name)


class ResourceGroup(ResourceType):
    type_name = "OS::Heat::ResourceGroup"
    description = "Creates one or more identically configured nested resources."
    properties = {
        "count": s.integer("The number of resources to create.", default=1, update_allowed=True),
        "index_var": s.string("A variable that this resource will use to replace with the current index of a given "
                              "resource in the group.", default="%index%"),
        "resource_def": s.map_("Resource definition for the resources in the group.", required=True,
                               update_allowed=True, schema={
                                   "type": s.string("The type of the resources in the group.", required=True),
                                   "properties": s.map_("Property values for the resources in the group."),
                                   "metadata": s.map_("Supplied metadata for the resources in the group.")}),
        "removal_policies": s.list_("Policies for removal of resources on update.", default=[], update_allowed=True,
                                    item=s.map_()),
        "removal_policies_mode": s.string("How to handle changes to removal_policies on update.", default="append",
                                          allowed=("append", "update"), update_allowed=True),
        "rolling_update": s.map_("Rolling update configuration (not applied: members update together)."),
        "batch_create": s.map_("Batch create configuration (not applied: members are created together)."),
    }
    attributes = {"refs": "A list of resource IDs for the resources in the group.",
                  "refs_map": "A map of resource names to IDs for the resources in the group.",
                  "attributes": "A map of resource attributes to their values in the group, as lists.",
                  "removed_rsrc_list": "A list of removed resource names."}
    # ``resource.<n>`` and ``resource.<n>.<attribute>`` as well.
    open_attributes = True

    # -- members ----------------------------------------------------------------------------
    @staticmethod
    def _member_type(props: dict[str, Any]) -> ResourceType:
        return _type(props["resource_def"]["type"])

    def _member_props(self, props: dict[str, Any], index: int) -> dict[str, Any]:
        member = self._member_type(props)
        raw = _substitute(props["resource_def"].get("properties") or {}, props["index_var"], index)
        if member.open_properties:
            return raw
        return s.check(member.properties, raw, f"resource_def.properties[{index}]")

    @staticmethod
    def _members(step: Step) -> dict[str, dict[str, Any]]:
        return step.data.setdefault("members", {})

    @staticmethod
    def _sub_step(step: Step, index: int, member: dict[str, Any]) -> Step:
        return Step(step.cloud, step.stack_name, step.stack_id, f"{step.resource_name}-{index}",
                    f"{step.physical_name}-{index}", member.setdefault("data", {}), step.files)

    async def _create_member(self, step: Step, props: dict[str, Any], index: int) -> None:
        member = self._members(step).setdefault(str(index), {})
        member["props"] = self._member_props(props, index)
        member["id"] = await self._member_type(props).create(self._sub_step(step, index, member), member["props"])

    async def create(self, step: Step, props: dict[str, Any]) -> str:
        if props["count"] < 0:
            raise ResourceFailure("Property error: count: -1 is out of range (min: 0, max: None)",
                                  "StackValidationFailed")
        step.data["member_type"] = props["resource_def"]["type"]
        await asyncio.gather(*(self._create_member(step, props, i) for i in range(props["count"])))
        return step.physical_name

    async def _all(self, step: Step, props: dict[str, Any], check: str) -> bool:
        member_type = self._member_type(props)
        results = await asyncio.gather(*(
            getattr(member_type, check)(self._sub_step(step, int(i), m), m["id"], m.get("props") or {})
            for i, m in self._members(step).items() if m.get("id")))
        return all(results)

    async def create_complete(self, step: Step, physical_id: str, props: dict[str, Any]) -> bool:
        return await self._all(step, props, "create_complete")

    async def update(self, step: Step, physical_id: str, props: dict[str, Any], changed: dict[str, Any]) -> None:
        members = self._members(step)
        member_type = self._member_type(props)
        new_type = props["resource_def"]["type"]
        old_type = step.data.get("member_type", new_type)
        if old_type != new_type:  # every member replaced
            await asyncio.gather(*(self._delete_member(step, _type(old_type), int(i), m) for i, m in members.items()))
            members.clear()
        step.data["member_type"] = new_type
        removed = [i for i in members if int(i) >= props["count"]]
        for key in removed:
            gone = members.pop(key)
            await self._delete_member(step, member_type, int(key), gone)
            step.data.setdefault("removed", []).append(key)
        for index in range(props["count"]):
            member = members.get(str(index))
            if member is None or not member.get("id"):
                await self._create_member(step, props, index)
                continue
            new = self._member_props(props, index)
            diff = {k: new.get(k) for k in set(new) | set(member.get("props") or {})
                    if new.get(k) != (member.get("props") or {}).get(k)}
            if not diff:
                continue
            if member_type.needs_replacement(diff, new):
                await self._delete_member(step, member_type, index, member)
                await self._create_member(step, props, index)
            else:
                await member_type.update(self._sub_step(step, index, member), member["id"], new, diff)
                member["props"] = new

    async def update_complete(self, step: Step, physical_id: str, props: dict[str, Any]) -> bool:
        return await self._all(step, props, "create_complete") and await self._all(step, props, "update_complete")

    async def _delete_member(self, step: Step, member_type: ResourceType, index: int, member: dict[str, Any]) -> None:
        if not member.get("id"):
            return
        sub = self._sub_step(step, index, member)
        await member_type.delete(sub, member["id"])
        while not await member_type.delete_complete(sub, member["id"]):
            await asyncio.sleep(self.poll)

    async def delete(self, step: Step, physical_id: str) -> None:
        members = self._members(step)
        if not members:
            return
        member_type = _type(step.data["member_type"])
        await asyncio.gather(*(self._delete_member(step, member_type, int(i), m) for i, m in members.items()))
        members.clear()

    async def show(self, step: Step, physical_id: str, props: dict[str, Any]) -> dict[str, Any]:
        member_type = self._member_type(props)
        members = sorted(self._members(step).items(), key=lambda item: int(item[0]))
        shown = await asyncio.gather(*(member_type.show(self._sub_step(step, int(i), m), m["id"],
                                                        m.get("props") or {}) for i, m in members))
        names = [*member_type.attributes, "show"]
        result: dict[str, Any] = {
            "refs": [m["id"] for _, m in members], "refs_map": {i: m["id"] for i, m in members},
            "attributes": {name: [one.get(name) for one in shown] for name in names},
            "removed_rsrc_list": step.data.get("removed", [])}
        for (index, _), one in zip(members, shown):
            result[f"resource.{index}"] = one
        result["show"] = {"refs": result["refs"]}
        return result
