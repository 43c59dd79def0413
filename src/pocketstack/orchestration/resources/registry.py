"""The resource types this engine knows, by their HOT type name."""

from __future__ import annotations

from typing import Any

from pocketstack.orchestration import errors
from pocketstack.orchestration.resources import (
    cinder,
    glance,
    group,
    heat,
    neutron,
    nova,
    software,
    stack,
    swift,
    wait,
)
from pocketstack.orchestration.resources.base import ResourceType
from pocketstack.orchestration.template.environment import apply_registry
from pocketstack.orchestration.template.template import Template

_TYPES: tuple[type[ResourceType], ...] = (
    heat.RandomString, heat.NoneResource, heat.TestResource, group.ResourceGroup,
    software.SoftwareConfig, software.CloudConfig, software.MultipartMime, stack.NestedStack,
    neutron.Net, neutron.Subnet, neutron.Port, neutron.Router, neutron.RouterInterface, neutron.SecurityGroup,
    neutron.SecurityGroupRule, neutron.FloatingIP, neutron.FloatingIPAssociation,
    nova.Server, nova.KeyPair, nova.Flavor, nova.ServerGroup,
    cinder.Volume, cinder.VolumeAttachment, swift.Container, wait.WaitConditionHandle, wait.WaitCondition,
    glance.WebImage, glance.Image,
)
TYPES: dict[str, type[ResourceType]] = {cls.type_name: cls for cls in _TYPES}


TEMPLATE_SUFFIXES = (".yaml", ".yml", ".template", ".json")


def is_template(type_name: str, files: dict[str, str] | None = None) -> bool:
    """Whether ``type_name`` names a template file (a template resource): one of the
    stack's ``files`` or, where the files are not at hand (deleting), a file's name."""
    if type_name in TYPES:
        return False
    return type_name in files if files is not None else type_name.endswith(TEMPLATE_SUFFIXES)


def get(type_name: str, files: dict[str, str] | None = None) -> ResourceType:
    cls = TYPES.get(type_name)
    if cls is not None:
        return cls()
    if is_template(type_name, files):
        return stack.TemplateResource(type_name)
    raise errors.ResourceTypeNotFound(type_name=type_name)


def type_class(type_name: str) -> type[ResourceType]:
    """A served type (not a template file), for the resource-type API."""
    cls = TYPES.get(type_name)
    if cls is None:
        raise errors.ResourceTypeNotFound(type_name=type_name)
    if cls.hidden:  # Heat's resource_schema of a hidden type
        raise errors.NotSupported(feature=type_name)
    return cls


def names() -> list[str]:
    """The listed types (hidden ones are served, not listed)."""
    return sorted(name for name, cls in TYPES.items() if not cls.hidden)


def stack_template(template: Any, files: dict[str, str] | None, environment: dict[str, Any] | None) -> Template:
    """A stack's template as the engine runs it: its types mapped through the
    environment's resource registry."""
    parsed = Template.from_request(template, files)
    apply_registry(parsed, environment or {}, set(TYPES) | set(parsed.files))
    return parsed
