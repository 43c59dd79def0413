"""Custom parameter constraints (``nova.flavor``, ``glance.image``, ``neutron.network``,
…): checked with the user's own token against the cloud's APIs, as Heat checks them
through its clients."""

from __future__ import annotations

from typing import Any

from pocketstack.orchestration import errors
from pocketstack.orchestration.resources.base import Cloud, EntityNotFound, ResourceFailure
from pocketstack.orchestration.template.parameters import Parameter, invalid

# constraint -> (service, collection, what, any_id)
CONSTRAINTS: dict[str, tuple[str, str, str, bool]] = {
    "nova.flavor": ("compute", "flavors", "Flavor", True),
    "nova.keypair": ("compute", "os-keypairs", "Key", True),
    "glance.image": ("image", "images", "Image", False),
    "neutron.network": ("network", "networks", "Network", False),
    "neutron.subnet": ("network", "subnets", "Subnet", False),
    "neutron.port": ("network", "ports", "Port", False),
    "neutron.router": ("network", "routers", "Router", False),
    "neutron.security_group": ("network", "security-groups", "SecurityGroup", False),
    "cinder.volume": ("volume", "volumes", "Volume", False),
}


async def check(cloud: Cloud, params: dict[str, Parameter], values: dict[str, Any]) -> None:
    for name, param in params.items():
        for constraint in param.custom_constraints():
            value = values.get(name)
            if value in (None, ""):
                continue
            spec = CONSTRAINTS.get(constraint)
            if spec is None:
                raise invalid(name, f'"{value}" does not validate {constraint} (constraint not found)')
            service, collection, what, any_id = spec
            for item in value if isinstance(value, list) else [value]:
                await _exists(cloud, name, service, collection, what, any_id, str(item), constraint)


async def _exists(cloud: Cloud, name: str, service: str, collection: str, what: str, any_id: bool, value: str,
                  constraint: str) -> None:
    try:
        if collection == "os-keypairs":
            if await cloud.call("GET", service, f"/os-keypairs/{value}", ok_missing=True) is None:
                raise EntityNotFound(entity="Key", name=value)
            return
        await cloud.find(service, collection, value, what, any_id=any_id)
    except ResourceFailure as error:
        if error.status in (404, 409):
            raise invalid(name, f"Error validating value '{value}': {error.message}") from None
        raise errors.StackValidationFailed(message=f"Parameter '{name}' could not be checked ({constraint}): "
                                                   f"{error.message}") from None
