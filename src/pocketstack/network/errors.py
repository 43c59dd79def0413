"""Neutron's error types, raised as :class:`ApiError` so ``neutron_format`` renders them.

Each factory builds the exact ``type`` and message Neutron answers with, so clients that
match on ``NeutronError.type`` (e.g. Nova retrying on ``IpAddressGenerationFailure``)
behave as against Neutron.
"""

from __future__ import annotations

from pocketstack.common.errors import ApiError, BadRequest, Conflict, NotFound


class NeutronBadRequest(BadRequest):
    """A 400 with a Neutron type of its own (never renamed to ``HTTPBadRequest``)."""


class NeutronNotFound(NotFound):
    pass


class NeutronConflict(Conflict):
    pass


# Neutron's messages where they are not "<Kind> <id> could not be found.".
_NOT_FOUND = {"SecurityGroup": "Security group {} does not exist",
              "SecurityGroupRule": "Security group rule {} does not exist",
              "Router": "Router {} could not be found", "FloatingIP": "Floating IP {} could not be found",
              "SubnetPool": "Subnet pool {} could not be found.",
              "AddressGroup": "Address group {} could not be found."}


def not_found(kind: str, resource_id: str) -> NotFound:
    """``NetworkNotFound``, ``PortNotFound``… from a kind such as ``"Network"``."""
    message = _NOT_FOUND.get(kind, kind + " {} could not be found.").format(resource_id)
    return NeutronNotFound(message, error_type=f"{kind}NotFound")


def invalid_input(message: str) -> BadRequest:
    """Neutron's ``InvalidInput``: ``message`` (no final period) as the reason."""
    return NeutronBadRequest(f"Invalid input for operation: {message}.", error_type="InvalidInput")


def bad_request(message: str, error_type: str = "BadRequest") -> BadRequest:
    return NeutronBadRequest(message, error_type=error_type)


def conflict(message: str, error_type: str) -> Conflict:
    return NeutronConflict(message, error_type=error_type)


def ip_generation_failure(network_id: str) -> Conflict:
    return NeutronConflict(f"No more IP addresses available on network {network_id}.",
                    error_type="IpAddressGenerationFailure")


def over_quota(resource: str) -> Conflict:
    return NeutronConflict(f"Quota exceeded for resources: ['{resource}'].", error_type="OverQuota")


# Neutron names the generic HTTP errors after webob's exception classes.
_GENERIC_TYPES = {"BadRequest": "HTTPBadRequest", "NotFound": "HTTPNotFound", "Forbidden": "PolicyNotAuthorized",
                  "Conflict": "HTTPConflict", "Unauthorized": "HTTPUnauthorized",
                  "MethodNotAllowed": "HTTPMethodNotAllowed", "RequestEntityTooLarge": "HTTPRequestEntityTooLarge",
                  "ApiError": "HTTPError", "InternalError": "HTTPInternalServerError"}


def neutron_type(error: ApiError) -> ApiError:
    """Rename the generic errors shared code raises to Neutron's webob names; errors with
    a Neutron type of their own (the classes above, or an explicit ``error_type``) keep it."""
    if type(error).__module__ == ApiError.__module__ and error.error_type == type(error).__name__:
        error.error_type = _GENERIC_TYPES.get(error.error_type, error.error_type)
    return error
