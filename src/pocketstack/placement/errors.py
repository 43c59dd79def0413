"""Placement's named errors: each carries its fields, Placement's wording and, where
Placement has one, its error ``code`` (``placement.*``, sent from microversion 1.23)."""

from __future__ import annotations

from pocketstack.common.errors import BadRequest, Conflict, NotFound

QUERY_BAD_VALUE = "placement.query.bad_value"


# -- not found ----------------------------------------------------------------------------
class ResourceProviderNotFound(NotFound):
    msg_fmt = "No resource provider with uuid {uuid} found"


class ResourceClassNotFound(NotFound):
    msg_fmt = "No such resource class {name}."


class TraitNotFound(NotFound):
    msg_fmt = "No such trait(s): {names}."


class InventoryNotFound(NotFound):
    msg_fmt = "No inventory of class {resource_class} for {uuid}"


class InventoryNotFoundForDelete(NotFound):
    msg_fmt = "No inventory of class {resource_class} found for delete"


class AllocationsNotFound(NotFound):
    msg_fmt = "No allocations for consumer '{consumer}'"


# -- conflicts ----------------------------------------------------------------------------
class ProviderGenerationConflict(Conflict):
    code = "placement.concurrent_update"
    msg_fmt = ("resource provider generation conflict: the resource provider {uuid} was updated by another "
               "request; fetch it again and retry.")


class DuplicateProviderUuid(Conflict):
    code = "placement.duplicate_name"
    msg_fmt = "Conflicting resource provider uuid: {uuid} already exists."


class DuplicateProviderName(Conflict):
    code = "placement.duplicate_name"
    msg_fmt = "Conflicting resource provider name: {name} already exists."


class DuplicateResourceClass(Conflict):
    code = "placement.duplicate_name"
    msg_fmt = "Conflicting resource provider class name: {name} already exists."


class ProviderHasAllocations(Conflict):
    code = "placement.resource_provider.inuse"
    msg_fmt = "Unable to delete resource provider {uuid}: Resource provider has allocations."


class ProviderHasChildren(Conflict):
    code = "placement.resource_provider.cannot_delete_parent"
    msg_fmt = "Unable to delete parent resource provider {uuid}: It has child resource providers."


class ResourceClassInUse(Conflict):
    msg_fmt = ("Unable to delete resource class {name}: Cannot delete resource class {name}. "
               "Class is in use in inventory.")


class TraitInUse(Conflict):
    msg_fmt = "The trait {name} is in use by a resource provider."


class InventoryInUse(Conflict):
    code = "placement.inventory.inuse"
    msg_fmt = "Inventory for {classes} on resource provider {uuid} in use."


class InventoryExists(Conflict):
    msg_fmt = "Update conflict: Inventory for {resource_class} on resource provider {uuid} already exists."


# -- bad requests -------------------------------------------------------------------------
class InvalidCustomName(BadRequest):
    msg_fmt = ("The {kind} name {name!r} is invalid: it must start with CUSTOM_ and contain only upper-case "
               "letters, digits and underscores.")


class StandardResourceClass(BadRequest):
    msg_fmt = "Cannot delete standard resource class {name}: Cannot delete standard resource class."


class StandardTrait(BadRequest):
    msg_fmt = "Cannot delete standard trait {name}."


class UnknownTraits(BadRequest):
    msg_fmt = "No such trait(s): {names}."


class UnknownResourceClasses(BadRequest):
    msg_fmt = "Invalid resource class in resources parameter: {names}."


class UnknownInventoryClasses(BadRequest):
    msg_fmt = "Unknown resource class in inventory for resource provider: {names}"


class InvalidInventory(BadRequest):
    """An inventory record that breaks Placement's rules (the reason says which)."""

    msg_fmt = "{reason}"


class NoInventoryToUpdate(BadRequest):
    msg_fmt = "No inventory record with resource class for resource provider {uuid}"


class ParentCannotChange(BadRequest):
    code = "placement.resource_provider.cannot_change_parent"
    msg_fmt = "The resource provider's parent provider cannot be changed or unset."


class ParentNotFound(BadRequest):
    msg_fmt = "parent provider UUID {uuid} does not exist."


class ProviderTreeLoop(BadRequest):
    msg_fmt = "creating loop in the provider tree is not allowed."


class MalformedUuid(BadRequest):
    msg_fmt = "Malformed {what}: {value!r} is not a valid UUID."


class BadQuery(BadRequest):
    """A query string Placement refuses (``placement.query.bad_value``)."""

    code = QUERY_BAD_VALUE
    msg_fmt = "{reason}"


class DuplicateResourceInQuery(BadRequest):
    code = "placement.query.duplicate_key"
    msg_fmt = "Resource class {name} is specified more than once in resources."


# -- claims -------------------------------------------------------------------------------
class CapacityExceeded(Conflict):
    """Some requested allocation does not fit; nothing was written."""


class UnknownProvider(BadRequest):
    """An allocation names a provider that does not exist."""


class ConsumerGenerationConflict(Conflict):
    """The consumer's generation is not the one the writer expected (or it was expected
    to be new and already holds allocations); nothing was written."""

    code = "placement.concurrent_update"
