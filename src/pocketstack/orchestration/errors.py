"""Orchestration's named errors, in Heat's wording (``heat/common/exception.py``).

Heat's fault body names the exception class as ``error.type``; each class here is named
as Heat's so that clients (python-heatclient prints ``ERROR: <message>``) and tests that
match on the type see the same thing.  Fields are passed as keywords
(``StackNotFound(stack_name=...)``).
"""

from __future__ import annotations

from pocketstack.common.errors import ApiError, BadRequest, Conflict, Forbidden, NotFound, Unauthorized

__all__ = ["ApiError", "BadRequest", "Conflict", "NotFound"]


# -- 404 --------------------------------------------------------------------------------
class EntityNotFound(NotFound):
    msg_fmt = "The {entity} ({name}) could not be found."


class StackNotFound(EntityNotFound):
    code = "EntityNotFound"

    def __init__(self, stack_name: str):
        super().__init__(entity="Stack", name=stack_name)


class ResourceNotAvailable(NotFound):
    msg_fmt = "The Resource ({resource_name}) is not available."


class ResourceNotFound(NotFound):
    msg_fmt = "The Resource ({resource_name}) could not be found in Stack {stack_name}."


class EventNotFound(EntityNotFound):
    code = "EntityNotFound"

    def __init__(self, event_id: str):
        super().__init__(entity="Event", name=event_id)


class ResourceTypeNotFound(NotFound):
    code = "EntityNotFound"
    msg_fmt = "The Resource Type ({type_name}) could not be found."


class OutputNotFound(NotFound):
    code = "NotFound"
    msg_fmt = "Specified output key {key} not found."


class TemplateVersionNotFound(NotFound):
    code = "NotFound"
    msg_fmt = "Template with version {version} not found"


# -- 400 --------------------------------------------------------------------------------
class StackValidationFailed(BadRequest):
    msg_fmt = "{message}"


class InvalidTemplateVersion(BadRequest):
    msg_fmt = "The template version is invalid: {explanation}"


class InvalidTemplateSection(BadRequest):
    msg_fmt = "The template section is invalid: {section}"


class InvalidTemplateReference(BadRequest):
    msg_fmt = 'The specified reference "{resource}" (in {key}) is incorrect.'


class InvalidTemplateAttribute(BadRequest):
    msg_fmt = "The Referenced Attribute ({resource} {key}) is incorrect."


class UserParameterMissing(BadRequest):
    msg_fmt = "The Parameter ({key}) was not provided."


class UnknownUserParameter(BadRequest):
    msg_fmt = "The Parameter ({key}) was not defined in template."


class CircularDependencyException(BadRequest):
    msg_fmt = "Circular Dependency Found: {cycle}"


class InvalidTemplate(BadRequest):
    """A template that is not a mapping, not YAML/JSON, or too large."""

    code = "InvalidTemplate"
    msg_fmt = "{message}"


class InvalidLimit(BadRequest):
    code = "HTTPBadRequest"
    msg_fmt = "Only integer is acceptable by 'limit'."


class InvalidParam(BadRequest):
    """A query parameter Heat's API refuses (``param_utils``: webob's 400)."""

    code = "HTTPBadRequest"
    msg_fmt = "{message}"


class RequestLimitExceeded(BadRequest):
    msg_fmt = "Request limit exceeded: {message}"


class ResourceActionNotSupported(BadRequest):
    msg_fmt = "{action} is not supported for resource."


class InvalidRestrictedAction(BadRequest):
    msg_fmt = "{action} is restricted for resource."


class ResourcePropertyValueDependency(BadRequest):
    msg_fmt = "{prop1} property should only be specified for {prop2} with value {value}."


class NotSupported(BadRequest):
    msg_fmt = "{feature} is not supported."


class InvalidAction(BadRequest):
    """A stack action body Heat's action controller refuses (webob's own 400)."""

    code = "HTTPBadRequest"
    msg_fmt = "{message}"


class MissingCredentialError(BadRequest):
    """Identity found the roles a stack's trust delegates not held (Heat's answer)."""

    msg_fmt = "Missing required credential: {required}"


class InvalidAdoptData(BadRequest):
    """``adopt_stack_data`` that is not a stack's abandon data (webob's 400 in Heat's
    request parsing)."""

    code = "HTTPBadRequest"
    msg_fmt = "Invalid adopt data: {reason}"


class SignalFailed(BadRequest):
    """A signal the resource refused (Heat wraps the handler's error in a
    ``ResourceFailure``: ``ValueError: resources.handle: Metadata format invalid``)."""

    code = "ResourceFailure"
    msg_fmt = "{kind}: resources.{resource}: {error}"


# -- 409 --------------------------------------------------------------------------------
class StackExists(Conflict):
    msg_fmt = "The Stack ({stack_name}) already exists."


class ActionInProgress(Conflict):
    msg_fmt = "Stack {stack_name} already has an action ({action}) in progress."


class HandleTokenNotValid(Unauthorized):
    """A wait condition handle's token that no live handle has."""

    code = "Unauthorized"
    msg_fmt = "The request you have made requires authentication."


class TrustNotCreated(Forbidden):
    """Identity refused the stack's trust (a token of an application credential may not
    make one): its reason, with its status."""

    code = "Forbidden"
    msg_fmt = "{reason}"


class HandleTokenElsewhere(Forbidden):
    code = "Forbidden"
    msg_fmt = "A wait condition handle's token signals that handle only."
