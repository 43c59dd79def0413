"""``OS::Heat::SoftwareConfig``, ``CloudConfig`` and ``MultipartMime``: software configs
stored through the Orchestration API (``/software_configs``), usable as a server's
``user_data`` (by id) or as parts of a multipart MIME message."""

from __future__ import annotations

from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from typing import Any

import yaml

from pocketstack.orchestration.resources import schema as s
from pocketstack.orchestration.resources.base import UUID_RE, ResourceType, Step


async def config_text(step: Step, value: str) -> str:
    """``value`` itself, or the config of the software config whose id it is."""
    if UUID_RE.match(value):
        found = await step.cloud.call("GET", "orchestration", f"/software_configs/{value}", ok_missing=True)
        if found:
            return str(found["software_config"].get("config") or "")
    return value


class SoftwareConfig(ResourceType):
    type_name = "OS::Heat::SoftwareConfig"
    description = "A resource for describing and storing software configuration."
    properties = {
        "group": s.string("Namespace to group this software config by when delivered to a server.",
                          default="Heat::Ungrouped"),
        "config": s.string("Configuration script or manifest which specifies what actual configuration is "
                           "performed."),
        "options": s.map_("Map containing options specific to the configuration management tool used by this "
                          "resource."),
        "inputs": s.list_("Schema representing the inputs that this software config is expecting.", item=s.map_()),
        "outputs": s.list_("Schema representing the outputs that this software config will produce.",
                           item=s.map_()),
    }
    attributes = {"config": "The config value of the software config."}

    async def body(self, step: Step, props: dict[str, Any]) -> dict[str, Any]:
        return {"name": step.physical_name, "group": props.get("group"), "config": props.get("config") or "",
                "inputs": props.get("inputs") or [], "outputs": props.get("outputs") or [],
                "options": props.get("options") or {}}

    async def create(self, step: Step, props: dict[str, Any]) -> str:
        made = await step.cloud.call("POST", "orchestration", "/software_configs", json=await self.body(step, props))
        return str(made["software_config"]["id"])

    async def delete(self, step: Step, physical_id: str) -> None:
        await step.cloud.call("DELETE", "orchestration", f"/software_configs/{physical_id}", ok_missing=True)

    async def show(self, step: Step, physical_id: str, props: dict[str, Any]) -> dict[str, Any]:
        config = (await step.cloud.call("GET", "orchestration", f"/software_configs/{physical_id}"))["software_config"]
        return {"config": config.get("config"), "show": config}


class CloudConfig(SoftwareConfig):
    type_name = "OS::Heat::CloudConfig"
    description = "A configuration resource for representing cloud-init cloud-config."
    properties = {"cloud_config": s.map_("Map representing the cloud-config data structure which will be "
                                         "formatted as YAML.")}

    async def body(self, step: Step, props: dict[str, Any]) -> dict[str, Any]:
        text = "#cloud-config\n" + yaml.safe_dump(props.get("cloud_config") or {}, default_flow_style=False)
        return {"name": step.physical_name, "group": "Heat::Ungrouped", "config": text}


class MultipartMime(SoftwareConfig):
    type_name = "OS::Heat::MultipartMime"
    description = "Assembles a collection of software configurations as a multi-part mime message."
    properties = {
        "parts": s.list_("Parts belonging to this message.", default=[], item=s.map_(schema={
            "config": s.string("Content of part to attach, either inline or by referencing the ID of another "
                               "software config resource.", required=True),
            "filename": s.string("Optional filename to associate with part."),
            "type": s.string("Whether the part content is text or multipart.", default="text",
                             allowed=("text", "multipart")),
            "subtype": s.string("Optional subtype to specify with the type.")})),
        "group": s.string("Namespace to group this software config by when delivered to a server.",
                          default="Heat::Ungrouped"),
    }

    async def body(self, step: Step, props: dict[str, Any]) -> dict[str, Any]:
        message = MIMEMultipart()
        for part in props.get("parts") or []:
            text = await config_text(step, part["config"])
            sub = MIMEText(text, part.get("subtype") or ("x-shellscript" if text.startswith("#!") else "plain"))
            if part.get("filename"):
                sub.add_header("Content-Disposition", "attachment", filename=part["filename"])
            message.attach(sub)
        return {"name": step.physical_name, "group": props.get("group"), "config": message.as_string()}
