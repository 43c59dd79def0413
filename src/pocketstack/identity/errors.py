"""Identity's named errors: each carries its fields and Keystone's wording (rendered as
``{"error": {"code", "title", "message"}}`` by ``keystone_format``)."""

from __future__ import annotations

from pocketstack.common.errors import (
    ApiError,
    BadRequest,
    Conflict,
    Forbidden,
    NotFound,
    ServiceUnavailable,
    Unauthorized,
)

__all__ = ["ApiError", "BadRequest", "Conflict", "Forbidden", "NotFound", "ServiceUnavailable", "Unauthorized"]


# -- not found ----------------------------------------------------------------------------
class UserNotFound(NotFound):
    msg_fmt = "Could not find user: {user_id}."


class GroupNotFound(NotFound):
    msg_fmt = "Could not find group: {group_id}."


class RoleNotFound(NotFound):
    msg_fmt = "Could not find role: {role_id}."


class ProjectNotFound(NotFound):
    msg_fmt = "Could not find project: {project_id}."


class DomainNotFound(NotFound):
    msg_fmt = "Could not find domain: {domain_id}."


class RegionNotFound(NotFound):
    msg_fmt = "Could not find region: {region_id}."


class ServiceNotFound(NotFound):
    msg_fmt = "Could not find service: {service_id}."


class EndpointNotFound(NotFound):
    msg_fmt = "Could not find endpoint: {endpoint_id}."


class ApplicationCredentialNotFound(NotFound):
    msg_fmt = "Could not find Application Credential: {cred_id}."


class AccessRuleNotFound(NotFound):
    msg_fmt = "Could not find Access Rule: {rule_id}."


class SamlNotConfigured(NotFound):
    """mellon's routes without a SAML identity provider (Keystone without mod_auth_mellon)."""
    msg_fmt = "The resource could not be found."


class AccessRuleInUse(Forbidden):
    msg_fmt = "May not delete access rule in use"


class TrustNotFound(NotFound):
    msg_fmt = "Could not find trust: {trust_id}."


class CredentialNotFound(NotFound):
    msg_fmt = "Could not find credential: {credential_id}."


class PolicyNotFound(NotFound):
    msg_fmt = "Could not find policy: {policy_id}."


class Ec2AccessKeyNotFound(NotFound):
    """Keystone answers an unknown access key at ``/v3/ec2tokens`` with 404 and no id."""

    msg_fmt = "EC2 access key not found."


class RegisteredLimitNotFound(NotFound):
    msg_fmt = "Could not find registered limit for {limit_id}."


class LimitNotFound(NotFound):
    msg_fmt = "Could not find limit for {limit_id}."


class EndpointGroupNotFound(NotFound):
    msg_fmt = "Could not find Endpoint Group: {endpoint_group_id}."


class ProjectEndpointNotFound(NotFound):
    msg_fmt = "Endpoint {endpoint_id} not found in project {project_id}"


class EndpointGroupProjectNotFound(NotFound):
    msg_fmt = "Endpoint Group Project Association not found"


class PolicyAssociationNotFound(NotFound):
    msg_fmt = "Could not find policy association."


class NoPolicyForEndpoint(NotFound):
    msg_fmt = "No policy is associated with endpoint {endpoint_id}."


class IdentityProviderNotFound(NotFound):
    msg_fmt = "Could not find Identity Provider: {idp_id}."


class ServiceProviderNotFound(NotFound):
    msg_fmt = "Could not find Service Provider: {sp_id}."


class FederatedProtocolNotFound(NotFound):
    msg_fmt = "Could not find federated protocol {protocol_id} for Identity Provider: {idp_id}."


class MappingNotFound(NotFound):
    msg_fmt = "Could not find mapping: {mapping_id}."


# -- OAuth 1.0a (OS-OAUTH1; keystone/api/os_oauth1.py's sentences) --------------------------
class ConsumerNotFound(NotFound):
    msg_fmt = "Consumer not found"


class RequestTokenNotFound(NotFound):
    msg_fmt = "Request token not found"


class AccessTokenNotFound(NotFound):
    msg_fmt = "Access token not found"


class OAuthFailed(Unauthorized):
    """A signed OAuth request refused: bad signature, expired or unauthorized request
    token, verifier mismatch, unknown consumer (Keystone's sentence as ``reason``)."""

    msg_fmt = "{reason}"


class OAuthHeadersMissing(Unauthorized):
    """No ``Authorization: OAuth ...`` header (Keystone answers a 500 here)."""

    msg_fmt = "No Authorization headers found, cannot proceed with OAuth related calls."


class WebSsoFailed(Unauthorized):
    """A WebSSO answer from an identity provider that cannot be trusted: no or a stale
    pending login, a state that is not its own, a refusal by the provider
    (identity/websso_flow.py)."""

    msg_fmt = "{reason}"


class OAuthParamsInvalid(BadRequest):
    """oauthlib's refusal of the request's OAuth parameters, worded as Keystone's."""

    msg_fmt = "Validation failed with errors: {error}, detail message is: {description}."


class OAuthDelegatedCaller(Forbidden):
    """A token issued through a delegation (trust, application credential, OAuth) may
    not authorize request tokens nor manage access tokens."""

    msg_fmt = "{action} with a token issued via delegation."


class MembershipNotFound(NotFound):
    msg_fmt = "User '{user_id}' not found in group '{group_id}'."


class ImpliedRoleNotFound(NotFound):
    msg_fmt = "{prior_id} does not imply {implied_id}."


class RoleAssignmentNotFound(NotFound):
    msg_fmt = ("Could not find role assignment with role: {role_id}, {actor_type}: {actor_id}, "
               "{scope_type}: {scope_id}.")


class TagNotFound(NotFound):
    msg_fmt = "Tag {tag} not found on project {project_id}."


class SubjectTokenMissing(NotFound):
    msg_fmt = "Could not find token: X-Subject-Token header is missing."


class DomainConfigNotFound(NotFound):
    msg_fmt = "Could not find {group_or_option} in domain configuration for domain {domain_id}."


class TokenNotValid(NotFound):
    """A token that cannot be validated (now); the reason says why (expired, revoked,
    its user, scope or application credential gone)."""

    msg_fmt = "{reason}"


# -- conflicts ----------------------------------------------------------------------------
class DuplicateEntry(Conflict):
    """Keystone's ``Conflict``: ``action`` as "store user", ``details`` its sentence."""

    msg_fmt = "Conflict occurred attempting to {action} - {details}"


class ImpliedRoleCycle(Conflict):
    msg_fmt = "Implied role {implied_id} would create a cycle."


class RegisteredLimitsRefer(Conflict):
    """A service or region that registered limits name cannot go (Keystone's foreign
    keys refuse it too, with no message of their own)."""

    msg_fmt = "Conflict occurred attempting to delete {kind} {ident} - registered limits refer to it."


class RegionHasChildren(Conflict):
    msg_fmt = "Region {region_id} has child regions and cannot be deleted."


# -- forbidden ----------------------------------------------------------------------------
class ServiceProviderDisabled(Forbidden):
    """An assertion for a disabled service provider (keystone/federation/utils.py)."""

    msg_fmt = "Service Provider {sp_id} is disabled"


class SamlSigningError(ApiError):
    """Keystone's ``SAMLSigningError``: xmlsec1 could not sign an assertion (a 500)."""

    msg_fmt = ("Unable to sign SAML assertion. It is likely that this server does not have xmlsec1 installed or "
               "this is the result of misconfiguration. Reason {reason}.")


class ImmutableRole(Forbidden):
    msg_fmt = "Role {role_id} is immutable."


class GlobalRoleImpliesDomainRole(Forbidden):
    msg_fmt = "A global role cannot imply a domain-specific role."


class ProhibitedImpliedRole(Forbidden):
    msg_fmt = "{name} role cannot be the implied role."


class DomainRoleOutsideDomain(Forbidden):
    msg_fmt = "A domain-specific role can only be granted within its own domain."


class MaxHierarchyDepth(Forbidden):
    msg_fmt = "Max hierarchy depth reached for {parent_id} branch."


class DomainEnabled(Forbidden):
    msg_fmt = "Cannot delete a domain that is enabled, please disable it first."


class ProjectNotLeaf(Forbidden):
    msg_fmt = ("Cannot delete the project {project_id} since it is not a leaf in the hierarchy. Use the cascade "
               "option if you want to delete a subtree.")


class RoleNotDelegable(Forbidden):
    msg_fmt = "Application credentials may only delegate roles the user holds on the project."


class InvalidDomainConfig(Forbidden):
    msg_fmt = "Invalid domain specific configuration: {reason}."


class LdapReadOnly(Forbidden):
    """Keystone's LDAP identity driver is read-only (``READ_ONLY_LDAP_ERROR_MESSAGE``)."""

    msg_fmt = "You are not authorized to perform the requested action: LDAP does not support write operations."


class CrossBackendMembership(Forbidden):
    """Keystone's ``CrossBackendNotAllowed``: a group takes members of its own backend only."""

    msg_fmt = ("Group membership across backend boundaries is not allowed. Group in question is {group_id}, user "
               "is {user_id}.")


class ForbiddenAction(Forbidden):
    """Keystone's ``ForbiddenAction``: the action named in its sentence is refused."""

    msg_fmt = "You are not authorized to perform the requested action: {action}."


class TrustForbidden(Forbidden):
    """A trust rule refused, worded as Keystone's plain ``Forbidden`` messages."""

    msg_fmt = "{reason}"


class TrustUseLimitReached(Forbidden):
    msg_fmt = "No remaining uses for trust: {trust_id}."


class IdentityProviderDisabled(Forbidden):
    msg_fmt = "Identity Provider {idp_id} is disabled"


class DomainRoleOutsideIdpDomain(Forbidden):
    msg_fmt = "role: {role_name} must be within the same domain as the identity provider: {idp_id}."


class RemoteIdNotAccepted(Forbidden):
    msg_fmt = "Incoming identity provider identifier not included among the accepted identifiers."


class ApplicationCredentialRescope(Forbidden):
    msg_fmt = "Application credential tokens cannot be rescoped."


class NoLimitReference(Forbidden):
    msg_fmt = "Unable to create a limit that has no corresponding registered limit."


class RegisteredLimitInUse(Forbidden):
    """Keystone's ``RegisteredLimitError``: a registered limit that project or domain
    limits refer to can be neither changed nor deleted."""

    msg_fmt = ("Unable to update or delete registered limit {limit_id} because there are project limits associated "
               "with it.")


# -- bad requests -------------------------------------------------------------------------
class ValidationMessage(BadRequest):
    """Keystone's ``ValidationError`` given its own message."""

    msg_fmt = "{message}"


class TimestampFormat(BadRequest):
    msg_fmt = ("Timestamp not in expected format. The server could not comply with the request since it is either "
               "malformed or otherwise incorrect. The client is assumed to be in error.")


class ExpiresAtInPast(BadRequest):
    msg_fmt = ("The 'expires_at' must not be before now. The server could not comply with the request since it is "
               "either malformed or otherwise incorrect. The client is assumed to be in error.")


class MissingAttribute(BadRequest):
    """Keystone's ``ValidationError(attribute, target)``."""

    msg_fmt = ("Expecting to find {attribute} in {target}. The server could not comply with the request since it "
               "is either malformed or otherwise incorrect. The client is assumed to be in error.")


class PasswordValidation(BadRequest):
    msg_fmt = "Password validation error: {detail}."


class PasswordRequirements(BadRequest):
    msg_fmt = "The password does not match the requirements: {detail}."


class PasswordHistory(BadRequest):
    msg_fmt = ("The new password cannot be identical to a previous password. The total number which includes the "
               "new password must be unique is {unique_count}.")


class PasswordAge(BadRequest):
    msg_fmt = ("You cannot change your password at this time due to the minimum password age. Once you change your "
               "password, it must be used for {min_age_days} day(s) before it can be changed. Please try again in "
               "{days_left} day(s) or contact your administrator to reset your password.")


class PasswordSelfServiceDisabled(BadRequest):
    msg_fmt = ("You cannot change your password at this time due to password policy disallowing password changes. "
               "Please contact your administrator to reset your password.")


class InvalidInput(BadRequest):
    msg_fmt = "Invalid input for field '{field}': {reason}"


class ImmutableAttribute(BadRequest):
    msg_fmt = "Cannot change the {attribute} of a {kind}."


class ImmutableIsDomain(BadRequest):
    msg_fmt = "Cannot change the is_domain attribute of a project."


class DomainWithParent(BadRequest):
    msg_fmt = "A project acting as a domain cannot have a parent."


class ParentInOtherDomain(BadRequest):
    msg_fmt = "Cannot create project, the parent is in a different domain."


class ProjectScopeRequired(BadRequest):
    msg_fmt = "Application credentials require a project-scoped token."


class ExpiryInPast(BadRequest):
    msg_fmt = "The expiration time of an application credential must be in the future."


class RegionCycle(BadRequest):
    msg_fmt = "Circular reference or a repeated entry found in region tree - {region_id}."


class SubtreeNeedsProject(BadRequest):
    msg_fmt = "scope.project.id needs to be specified if include_subtree is also specified."


class EffectiveWithGroup(BadRequest):
    msg_fmt = "Combining effective and group filter will always result in an empty list."


# -- unauthorized -------------------------------------------------------------------------
class AuthenticationRequired(Unauthorized):
    msg_fmt = "The request you have made requires authentication."


class UnsupportedAuthMethod(Unauthorized):
    msg_fmt = "Attempted to authenticate with an unsupported method: {method}."


class TotpFailed(Unauthorized):
    msg_fmt = "Invalid username or TOTP passcode"


class ReceiptNotFound(Unauthorized):
    msg_fmt = "Could not find auth receipt: {receipt_id}."


class PasswordExpired(Unauthorized):
    msg_fmt = "The password is expired and needs to be changed for user: {user_id}."


class AccountLocked(Unauthorized):
    msg_fmt = "The account is locked for user: {user_id}."


class UserDisabled(Unauthorized):
    msg_fmt = "User {user_id} is disabled."


class ApplicationCredentialExpired(Unauthorized):
    msg_fmt = "Application credential has expired."


class ScopeNotAvailable(Unauthorized):
    """The scope asked for at authentication does not exist or is disabled."""

    msg_fmt = "{reason}"


class TrustUnavailable(Unauthorized):
    """A trust asked for at authentication is missing, expired or used up (Keystone
    turns its ``TrustNotFound`` into a 401 there)."""

    msg_fmt = "Could not find trust: {trust_id}."


class FederatedAuthFailed(Unauthorized):
    """An assertion that maps to no one (Keystone turns the mapping's ``ValidationError``
    into a 401 keeping its sentence)."""

    msg_fmt = "{reason}"


class Ec2AuthenticationFailed(Unauthorized):
    """``/v3/ec2tokens`` refused the signed request; the reason is Keystone's sentence."""

    msg_fmt = "{reason}"


class UntrustedDashboard(Unauthorized):
    """A WebSSO ``origin`` that is no ``federation_trusted_dashboards`` (identity/websso.py)."""

    msg_fmt = "{host} is not a trusted dashboard host"


class KerberosAuthFailed(Unauthorized):
    """A ``Negotiate`` sign-in refused: no token, one the service's keys do not accept
    (garbage, expired, a replay), or a realm not accepted (identity/kerberos.py)."""

    msg_fmt = "Kerberos authentication failed: {reason}."


class KerberosUserUnknown(Unauthorized):
    """Keystone's ``KerberosDomain`` for a principal whose name is no user of the domain."""

    msg_fmt = "Unable to lookup user {name} (Kerberos principal {principal}) in domain {domain}."


class UnscopedCatalog(Unauthorized):
    msg_fmt = "The service catalog is only available to scoped tokens."


# -- unavailable ------------------------------------------------------------------------
class KerberosUnavailable(ServiceUnavailable):
    """The service's keytab has no key for its principal (logged; mod_auth_gssapi's 500)."""

    msg_fmt = "Kerberos authentication is unavailable: the server has no usable key for its service principal."


class DirectoryUnavailable(ServiceUnavailable):
    """An LDAP domain's directory cannot be reached or refuses the configured bind (a
    503 in Keystone's error format, never a traceback)."""

    msg_fmt = "The LDAP server of domain {domain_id} is unavailable: {reason}"
