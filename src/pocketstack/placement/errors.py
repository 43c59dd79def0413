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


class MissingQueryParameter(BadRequest):
    msg_fmt = "Invalid query string parameters: '{name}' is a required property"


class BadNameFilter(BadRequest):
    msg_fmt = ("Badly formatted name parameter. Expected name query string parameter in form: "
               "?name=[in|startswith]:[name1,name2|prefix]. Got: \"{value}\"")


class NotABoolean(BadRequest):
    msg_fmt = "The query parameter {name} only accepts 'true' or 'false'"


class GroupPolicyRequired(BadRequest):
    msg_fmt = 'The "group_policy" parameter is required when specifying more than one "resources{{N}}" parameter.'


class RenameNotSupported(BadRequest):
    """PUT /resource_classes/{name} before 1.7 renamed a class: not done here, as a class
    in use cannot change its name safely."""

    msg_fmt = ("Renaming resource classes is not supported; use microversion 1.7 or later to create a resource "
               "class with PUT.")


class DuplicateResourceInQuery(BadRequest):
    code = "placement.query.duplicate_key"
    msg_fmt = "Resource class {name} is specified more than once in resources."


# -- claims -------------------------------------------------------------------------------
class CapacityExceeded(Conflict):
    """Some requested allocation does not fit; nothing was written.  The subclasses say why."""


class NoInventoryForClass(CapacityExceeded):
    msg_fmt = "Unable to allocate inventory: Inventory for '{resource_class}' on resource provider '{uuid}' invalid."


class AmountRefused(CapacityExceeded):
    """The amount breaks the inventory's min_unit, max_unit or step_size (``problem``)."""

    msg_fmt = ("Unable to allocate inventory: Unable to create allocation for '{resource_class}' on resource "
               "provider '{uuid}': {problem}.")


class CapacityWouldBeExceeded(CapacityExceeded):
    msg_fmt = ("Unable to allocate inventory: Unable to create allocation for '{resource_class}' on resource "
               "provider '{uuid}'. The requested amount would exceed the capacity.")


class UnknownProvider(BadRequest):
    """An allocation names a provider that does not exist."""

    msg_fmt = "Allocation for resource provider '{uuid}' that does not exist."


class ConsumerGenerationConflict(Conflict):
    """The consumer's generation is not the one the writer expected (or it was expected
    to be new and already holds allocations); nothing was written.  Placement's words:
    for a consumer that exists ``expected`` is the writer's generation and ``got`` the
    consumer's; for one that does not, "expected null but got" the writer's."""

    code = "placement.concurrent_update"
    msg_fmt = "consumer generation conflict - expected {expected} but got {got}"
