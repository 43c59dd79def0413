"""What every resource type is: a property schema, attributes, and the steps the engine
runs -- create then poll until complete, update in place, delete then poll until gone.

A type acts only through :class:`Cloud` (an HTTP client of the cloud's public APIs
carrying the user's token): the same routes, policies and quotas a remote client meets.
A step that fails raises :class:`ResourceFailure` with the service's own message, which
becomes the resource's ``resource_status_reason``.
"""

from __future__ import annotations

import base64
import re
import uuid
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar
from urllib.parse import quote

from pocketstack.common.answers import Answer
from pocketstack.orchestration.resources.schema import Prop

if TYPE_CHECKING:
    import httpx

UUID_RE = re.compile(r"^[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}$")
_KINDS = {400: "BadRequest", 401: "Unauthorized", 403: "Forbidden", 404: "NotFound", 409: "Conflict",
          413: "OverLimit", 429: "OverLimit"}


class ResourceFailure(Exception):
    """A step failed; ``kind`` is the exception name Heat shows first in the reason.

    The failures written more than once are named below, each with Heat's exception name
    as its ``kind``, its HTTP-like ``status`` (a name-or-id lookup reads it) and its
    message format, raised with the fields as keywords (``EntityNotFound(entity="Volume",
    name=volume_id)``); a service's refusal passed on keeps the service's own words."""

    msg_fmt: ClassVar[str | None] = None
    default_kind: ClassVar[str] = "ResourceFailure"
    default_status: ClassVar[int | None] = None

    def __init__(self, message: str | None = None, kind: str | None = None, status: int | None = None,
                 **fields: Any):
        if message is None:
            if self.msg_fmt is None:
                raise TypeError(f"{type(self).__name__} needs a message")
            message = self.msg_fmt.format(**fields)
        super().__init__(message)
        self.message = message
        self.kind = kind or self.default_kind
        self.status = status if status is not None else self.default_status
        self.fields = fields


class EntityNotFound(ResourceFailure):
    """Heat's ``EntityNotFound``: what a property names, or a resource polls, is not there."""

    msg_fmt = "The {entity} ({name}) could not be found."
    default_kind = "EntityNotFound"
    default_status = 404


class PhysicalResourceNotFound(ResourceFailure):
    """A resource's check (``NotFound``): its physical resource is gone."""

    msg_fmt = "The {entity} ({name}) could not be found."
    default_kind = "NotFound"
    default_status = 404


class PhysicalResourceNameAmbiguity(ResourceFailure):
    """Heat's ``PhysicalResourceNameAmbiguity``: a name-or-id lookup matched several."""

    msg_fmt = "Multiple {entity} matches found for name '{name}', use an ID to be more specific."
    default_kind = "PhysicalResourceNameAmbiguity"
    default_status = 409


def _message(response: httpx.Response) -> str:
    """The service's message (:class:`Answer`); for a body without one, the last line of
    its text (Glance's and Swift's explanation) or the JSON as it came."""
    answer = Answer.of(response)
    if answer.message is not None:
        return answer.message
    if answer.is_json:
        return str(answer.body)
    text = answer.text.strip()
    return text.splitlines()[-1] if text else str(answer.status)


class Cloud:
    """The user's view of the cloud for one resource step: the APIs under the catalog's
    paths, acting with the stack's trust (:mod:`pocketstack.orchestration.trusts`).
    ``heat_url``: the setting ``orchestration_heat_url`` (Heat's ``[clients_heat] url``),
    see :meth:`heat_url`."""

    def __init__(self, client: httpx.AsyncClient, project_id: str, heat_url: str = ""):
        self.client = client
        self.project_id = project_id
        self._heat_url = heat_url

    def heat_url(self) -> str:
        """The Orchestration endpoint given to callers outside the cloud (a guest signalling
        a handle), as Heat's ``get_heat_url``: the configured URL with ``%(tenant_id)s``
        filled in, else the catalog's public one."""
        if self._heat_url:
            return self._heat_url.rstrip("/") % {"tenant_id": self.project_id}
        return str(self.client.base_url).rstrip("/") + self.path("orchestration", "")

    def path(self, service: str, rest: str) -> str:
        prefixes = {"compute": "/compute/v2.1", "network": "/network/v2.0", "image": "/image/v2",
                    "volume": f"/volume/v3/{self.project_id}", "object": f"/object-store/v1/AUTH_{self.project_id}",
                    "identity": "/identity/v3", "orchestration": f"/orchestration/v1/{self.project_id}"}
        return prefixes[service] + rest

    async def call(self, method: str, service: str, rest: str, *, json: Any = None, ok_missing: bool = False,
                   headers: dict[str, str] | None = None) -> Any:
        """One API call; its JSON body (None for none).  A 404 is None with
        ``ok_missing`` (a delete of something already gone), else a failure."""
        response = await self.client.request(method, self.path(service, rest), json=json, headers=headers)
        if response.status_code == 404 and ok_missing:
            return None
        if response.status_code >= 400:
            raise ResourceFailure(_message(response), _KINDS.get(response.status_code, "Error"),
                                  response.status_code)
        if not response.content:
            return {}
        try:
            return response.json()
        except ValueError:
            return {}

    async def exists(self, service: str, rest: str, what: str, physical_id: str) -> Any:
        """The body of ``GET rest``; a NotFound failure (Heat's check of a resource
        whose physical resource is gone) when it answers 404."""
        found = await self.call("GET", service, rest, ok_missing=True)
        if found is None:
            raise PhysicalResourceNotFound(entity=what, name=physical_id)
        return found

    async def find(self, service: str, collection: str, value: str, what: str, *, any_id: bool = False) -> str:
        """The id of the ``collection`` item identified or named by ``value`` (Heat's
        name-or-id lookup).  ``any_id``: ids need not be UUIDs (Nova's flavors)."""
        if any_id or UUID_RE.match(value):
            found = await self.call("GET", service, f"/{collection}/{quote(value, safe='')}", ok_missing=True)
            if found:
                return value
        listing = await self.call("GET", service, f"/{collection}" + ("/detail" if service == "compute" else "")
                                  + f"?name={quote(value, safe='')}" * (service != "compute"))
        items = next((v for v in listing.values() if isinstance(v, list)), []) if isinstance(listing, dict) else []
        matches = [item for item in items if item.get("name") == value]
        if not matches:
            raise EntityNotFound(entity=what, name=value)
        if len(matches) > 1:
            raise PhysicalResourceNameAmbiguity(entity=what, name=value)
        return str(matches[0]["id"])


@dataclass
class Step:
    """What one step of one resource knows: the cloud as the user, its names, and the
    resource's private ``data`` (persisted with the resource: ids it made, secrets)."""

    cloud: Cloud
    stack_name: str
    stack_id: str
    resource_name: str
    physical_name: str
    data: dict[str, Any] = field(default_factory=dict)
    # The stack's files (templates of nested stacks, get_file contents).
    files: dict[str, str] = field(default_factory=dict)


class ResourceType:
    """A resource type; subclasses fill in the class variables and the steps."""

    type_name: ClassVar[str] = ""
    description: ClassVar[str] = ""
    properties: ClassVar[dict[str, Prop]] = {}
    attributes: ClassVar[dict[str, str]] = {}
    # Seconds between polls of a step not complete yet.
    poll: ClassVar[float] = 0.2
    # Properties of any name (OS::Heat::None); attributes of any name (a group's
    # ``resource.<n>``).
    open_properties: ClassVar[bool] = False
    open_attributes: ClassVar[bool] = False
    # Whether :meth:`check` looks at the physical resource; a type that does not is
    # CHECK_COMPLETE with "CHECK not supported for <type>", as in Heat.
    checks: ClassVar[bool] = False
    # Whether the type takes signals (``POST .../resources/<name>/signal``), recorded
    # by :meth:`signal_entry`; Heat refuses them for the others.
    signals: ClassVar[bool] = False
    # Served for templates that name it but neither listed nor described (Heat's
    # ``support.HIDDEN``: a type kept only so that old stacks still load).
    hidden: ClassVar[bool] = False

    def validate(self, props: dict[str, Any]) -> None:
        """Checks across properties (Heat's ``Resource.validate``), raised as the API's
        400 when a stack is created, updated or validated; nothing by default."""

    async def create(self, step: Step, props: dict[str, Any]) -> str:
        """Start creating; return the physical id (recorded before anything else)."""
        raise NotImplementedError

    async def create_complete(self, step: Step, physical_id: str, props: dict[str, Any]) -> bool:
        return True

    async def find(self, step: Step, props: dict[str, Any]) -> str | None:
        """The physical id of what an interrupted create may already have made (an engine
        killed between the API call and recording its id); None if nothing."""
        return None

    async def update(self, step: Step, physical_id: str, props: dict[str, Any], changed: dict[str, Any]) -> None:
        """Apply ``changed`` (all ``update_allowed``) in place."""

    async def update_complete(self, step: Step, physical_id: str, props: dict[str, Any]) -> bool:
        return True

    async def delete(self, step: Step, physical_id: str) -> None:
        raise NotImplementedError

    async def delete_complete(self, step: Step, physical_id: str) -> bool:
        return True

    async def show(self, step: Step, physical_id: str, props: dict[str, Any]) -> dict[str, Any]:
        """The resource's attributes now (the ``show`` attribute included)."""
        return {}

    async def adopt(self, step: Step, entry: dict[str, Any], props: dict[str, Any]) -> str:
        """Take over what the resource's adopt data ``entry`` names (Heat's
        ``handle_adopt``): its ``resource_id``, with its ``resource_data`` as the step's
        data; the physical id."""
        resource_id = entry.get("resource_id")
        if not resource_id:
            raise ResourceFailure("Resource ID was not provided.", "Exception")
        data = entry.get("resource_data")
        step.data = dict(data) if isinstance(data, dict) else {}
        return str(resource_id)

    async def adopt_complete(self, step: Step, physical_id: str, props: dict[str, Any]) -> bool:
        return True

    @staticmethod
    def signal_entry(name: str, body: Any, signals: dict[str, Any]) -> tuple[str, dict[str, Any], str]:
        """One signal's ``(id, signal, event reason)`` given those already received;
        a 400 when the body is not a signal this type takes."""
        raise NotImplementedError

    # -- stack actions: suspend and resume do nothing unless a type says so (Heat's
    # default), check raises ResourceFailure when the physical resource is not as it
    # should be (gone, in error).
    async def suspend(self, step: Step, physical_id: str) -> None:
        return None

    async def suspend_complete(self, step: Step, physical_id: str) -> bool:
        return True

    async def resume(self, step: Step, physical_id: str) -> None:
        return None

    async def resume_complete(self, step: Step, physical_id: str) -> bool:
        return True

    async def check(self, step: Step, physical_id: str) -> None:
        return None

    # -- helpers ----------------------------------------------------------------------
    def needs_replacement(self, changed: dict[str, Any], props: dict[str, Any]) -> bool:
        """Whether changing ``changed`` needs a new physical resource: any property that
        is not ``update_allowed`` (as Heat decides)."""
        return any(not self.properties.get(key, Prop("string")).update_allowed for key in changed)

    @classmethod
    def describe(cls) -> dict[str, Any]:
        return {"resource_type": cls.type_name, "description": cls.description,
                "properties": {k: v.describe() for k, v in cls.properties.items()},
                "attributes": {k: {"description": v, "type": "string"} for k, v in
                               {**cls.attributes, "show": "Detailed information about resource."}.items()},
                "support_status": {"status": "SUPPORTED", "version": None, "message": None, "previous_status": None}}


def physical_name(stack_name: str, resource_name: str) -> str:
    """A name unique to this resource, as Heat makes them (``stack-resource-suffix``)."""
    return f"{stack_name}-{resource_name}-{uuid.uuid4().hex[:12]}"


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def pick(props: dict[str, Any], mapping: dict[str, str]) -> dict[str, Any]:
    """The API body fields for the given properties (``{"prop": "field"}``)."""
    return {field_: props[prop] for prop, field_ in mapping.items() if props.get(prop) is not None}
