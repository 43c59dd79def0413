"""``OS::Swift::Container`` through the Object Storage API as the user."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from pocketstack.orchestration.resources import schema as s
from pocketstack.orchestration.resources.base import ResourceFailure, ResourceType, Step


class Container(ResourceType):
    type_name = "OS::Swift::Container"
    description = "A resource for managing Swift containers."
    properties = {
        "name": s.string("Name for the container. If not specified, a unique name will be generated."),
        "X-Container-Read": s.string("Specify the ACL permissions on who can read objects in the container."),
        "X-Container-Write": s.string("Specify the ACL permissions on who can write objects to the container."),
        "X-Container-Meta": s.map_("A map of user-defined meta data to associate with the container.", default={}),
        "X-Account-Meta": s.map_("A map of user-defined meta data to associate with the account.", default={}),
        "PurgeOnDelete": s.boolean("If True, delete any objects in the container when the container is deleted.",
                                   default=False),
    }
    attributes = {"DomainName": "The host from the container URL.", "WebsiteURL": "The URL of the container.",
                  "RootURL": "The parent URL of the container.", "ObjectCount": "The number of objects stored in "
                  "the container.", "BytesUsed": "The number of bytes stored in the container.",
                  "HeadContainer": "A map containing all headers for the container."}

    async def _send(self, step: Step, method: str, rest: str, headers: dict[str, str] | None = None,
                    missing_ok: bool = False) -> Any:
        response = await step.cloud.client.request(method, step.cloud.path("object", rest), headers=headers)
        if response.status_code == 404 and missing_ok:
            return None
        if response.status_code >= 400:
            raise ResourceFailure(response.text.strip() or str(response.status_code),
                                  "Conflict" if response.status_code == 409 else "ClientException",
                                  response.status_code)
        return response

    async def create(self, step: Step, props: dict[str, Any]) -> str:
        name = props.get("name") or step.physical_name
        headers = {k: props[k] for k in ("X-Container-Read", "X-Container-Write") if props.get(k)}
        headers.update({f"X-Container-Meta-{k}": str(v) for k, v in (props.get("X-Container-Meta") or {}).items()})
        await self._send(step, "PUT", f"/{name}", headers)
        if props.get("X-Account-Meta"):
            await self._send(step, "POST", "", {f"X-Account-Meta-{k}": str(v)
                                                for k, v in props["X-Account-Meta"].items()})
        step.data["purge"] = bool(props.get("PurgeOnDelete"))
        return name

    async def delete(self, step: Step, physical_id: str) -> None:
        if step.data.get("purge"):
            listing = await self._send(step, "GET", f"/{physical_id}?format=json", missing_ok=True)
            for item in listing.json() if listing is not None else []:
                await self._send(step, "DELETE", f"/{physical_id}/{item['name']}", missing_ok=True)
        await self._send(step, "DELETE", f"/{physical_id}", missing_ok=True)

    async def show(self, step: Step, physical_id: str, props: dict[str, Any]) -> dict[str, Any]:
        response = await self._send(step, "HEAD", f"/{physical_id}")
        url = str(step.cloud.client.base_url).rstrip("/") + step.cloud.path("object", f"/{physical_id}")
        head = dict(response.headers)
        return {"DomainName": urlsplit(url).hostname, "WebsiteURL": url, "RootURL": url.rsplit("/", 1)[0] + "/",
                "ObjectCount": int(head.get("x-container-object-count", 0)),
                "BytesUsed": int(head.get("x-container-bytes-used", 0)), "HeadContainer": head, "show": head}
