"""Neutron's errors, named: each class is the ``NeutronError.type`` clients see (the class
name, or ``code`` where Neutron answers with a generic type) and Neutron's wording as
``msg_fmt``, so clients that match on the type (e.g. Nova retrying on
``IpAddressGenerationFailure``) behave as against Neutron.  Raise them with the fields:
``errors.NetworkNotFound(id=network_id)``.
"""

from __future__ import annotations

from pocketstack.common.errors import ApiError, BadRequest, Conflict, Forbidden, NotFound


class NeutronBadRequest(BadRequest):
    """A 400 with a Neutron type of its own (never renamed to ``HTTPBadRequest``)."""


class NeutronNotFound(NotFound):
    pass


class NeutronConflict(Conflict):
    pass


# -- not found ------------------------------------------------------------------------------------
class NetworkNotFound(NeutronNotFound):
    msg_fmt = "Network {id} could not be found."


class SubnetNotFound(NeutronNotFound):
    msg_fmt = "Subnet {id} could not be found."


class SubnetPoolNotFound(NeutronNotFound):
    msg_fmt = "Subnet pool {id} could not be found."


class PortNotFound(NeutronNotFound):
    msg_fmt = "Port {id} could not be found."


class RouterNotFound(NeutronNotFound):
    msg_fmt = "Router {id} could not be found"


class FloatingIPNotFound(NeutronNotFound):
    msg_fmt = "Floating IP {id} could not be found"


class SecurityGroupNotFound(NeutronNotFound):
    msg_fmt = "Security group {id} does not exist"


class SecurityGroupRuleNotFound(NeutronNotFound):
    msg_fmt = "Security group rule {id} does not exist"


class AgentNotFound(NeutronNotFound):
    msg_fmt = "Agent {id} could not be found."


class ExtensionNotFound(NeutronNotFound):
    msg_fmt = "Extension {id} could not be found."


class TagNotFound(NeutronNotFound):
    msg_fmt = "Tag {id} could not be found."


class ResourceTagNotFound(NeutronNotFound):
    """A tag a resource does not have, on delete."""

    code = "TagNotFound"
    msg_fmt = "Tag {tag} could not be found for {kind} {id}."


class ResourceNotFound(NeutronNotFound):
    """A collection that has no tags (``/v2.0/<collection>/<id>/tags``)."""

    msg_fmt = "Resource {id} could not be found."


# -- generic 400s (Neutron's webob names) ------------------------------------------------------------
class InvalidInput(NeutronBadRequest):
    msg_fmt = "Invalid input for operation: {error_message}."


class InvalidAttribute(NeutronBadRequest):
    """A value the API layer refuses, naming the attribute."""

    code = "HTTPBadRequest"
    msg_fmt = "Invalid input for {attribute}. Reason: {reason}."


class NulInUrl(NeutronBadRequest):
    code = "HTTPBadRequest"
    msg_fmt = "Invalid input: the URL has a NUL character."


class TenantIdRequired(NeutronBadRequest):
    """A system- or domain-scoped token has no project to own the resource."""

    code = "HTTPBadRequest"
    msg_fmt = "Running without keystone AuthN requires that tenant_id is specified"


class OtherProjectRequiresAdmin(NeutronBadRequest):
    """neutron_lib's ``_validate_privileges``: checked with the body, before any policy."""

    code = "HTTPBadRequest"
    msg_fmt = ("Specifying 'project_id' or 'tenant_id' other than the authenticated project in request requires "
               "admin or advsvc privileges")


class ResourceBodyRequired(NeutronBadRequest):
    code = "BadRequest"
    msg_fmt = "Resource body required"


class InvalidFilterValue(NeutronBadRequest):
    code = "HTTPBadRequest"
    msg_fmt = "Invalid value '{value}' for {attribute}."


class InvalidChangedSince(NeutronBadRequest):
    code = "InvalidInput"
    msg_fmt = "'{value}' is not a valid timestamp for changed_since."


class SortKeysMismatch(NeutronBadRequest):
    code = "HTTPBadRequest"
    msg_fmt = "The number of sort_keys and sort_dirs must be same"


class InvalidSortKey(NeutronBadRequest):
    code = "HTTPBadRequest"
    msg_fmt = "{keys} is invalid attribute for sort_keys"


class InvalidSortDir(NeutronBadRequest):
    code = "HTTPBadRequest"
    msg_fmt = "{dirs} is invalid value for sort_dirs, valid value is 'asc' and 'desc'"


class InvalidFixedIpsFilter(NeutronBadRequest):
    code = "HTTPBadRequest"
    msg_fmt = "Invalid fixed_ips filter '{value}'."


class UnrecognizedAttributes(NeutronBadRequest):
    """Attributes the resource does not have, or whose extension is not implemented."""

    code = "HTTPBadRequest"
    msg_fmt = "Unrecognized attribute(s) '{attributes}'"


class AttributeNotAllowedInPost(NeutronBadRequest):
    code = "HTTPBadRequest"
    msg_fmt = "Attribute '{attribute}' not allowed in POST"


class ReadOnlyAttribute(NeutronBadRequest):
    """An attribute an update may not change (Neutron names the first)."""

    code = "HTTPBadRequest"
    msg_fmt = "Cannot update read-only attribute {attribute}"

class RevisionNumberConstraintFailed(ApiError):
    """An ``If-Match: revision_number=N`` that no longer holds."""

    status = 412
    msg_fmt = "Constrained to revision_number mismatch."


# -- networks, segments -------------------------------------------------------------------------------
class InvalidSharedSetting(NeutronConflict):
    msg_fmt = "Unable to reconfigure sharing settings for network {network}. Multiple tenants are using it."


class NetworkInUse(NeutronConflict):
    msg_fmt = ("Unable to complete operation on network {net_id}. There are one or more ports still in use on "
               "the network.")


class VlanIdInUse(NeutronConflict):
    msg_fmt = "Unable to create the network. The VLAN {vlan_id} on physical network {physical_network} is in use."


class FlatNetworkInUse(NeutronConflict):
    msg_fmt = "Unable to create the flat network. Physical network {physical_network} is in use."


class TunnelIdInUse(NeutronConflict):
    msg_fmt = "Unable to create the network. The tunnel ID {tunnel_id} is in use."


class NoNetworkAvailable(ApiError):
    status = 503
    msg_fmt = "Unable to create the network. No tenant network is available for allocation."


# -- subnets, subnet pools, IPAM ---------------------------------------------------------------------
class InvalidCIDR(NeutronBadRequest):
    msg_fmt = "Invalid CIDR {input} given as IP prefix."


class InvalidCIDRForVersion(NeutronBadRequest):
    code = "InvalidCIDR"
    msg_fmt = "Invalid CIDR {input} for IP version {version}."


class InvalidAllocationPool(NeutronBadRequest):
    msg_fmt = "The allocation pool {pool} is not valid."


class OutOfBoundsAllocationPool(NeutronBadRequest):
    msg_fmt = "The allocation pool {pool} spans beyond the subnet cidr {subnet_cidr}."


class OverlappingAllocationPools(NeutronConflict):
    msg_fmt = "Found overlapping allocation pools: {pool_1} and {pool_2} for subnet {subnet_cidr}."


class GatewayConflictWithAllocationPools(NeutronConflict):
    msg_fmt = "Gateway ip {ip_address} conflicts with allocation pool {pool}."


class PrefixUnavailable(NeutronConflict):
    code = "SubnetAllocationError"
    msg_fmt = "Unable to allocate subnet with prefix {prefix} from subnet pool {pool_id}."


class InsufficientPrefixSpace(NeutronConflict):
    code = "SubnetAllocationError"
    msg_fmt = "Insufficient prefix space to allocate subnet size /{prefixlen}."


class NetworkSubnetPoolAffinityError(NeutronBadRequest):
    msg_fmt = "Subnets hosted on the same network must be allocated from the same subnet pool."


class NetworkAddressScopeAffinityError(NeutronBadRequest):
    msg_fmt = ("Subnets of the same address family hosted on the same network must all participate in the same "
               "address scope.")


class DefaultSubnetPoolNotFound(NeutronBadRequest):
    code = "BadRequest"
    msg_fmt = "No default subnetpool found for IPv{version}"


class CidrRequired(NeutronBadRequest):
    code = "BadRequest"
    msg_fmt = "a cidr must be provided in the absence of a subnet pool"


class SubnetInUse(NeutronConflict):
    msg_fmt = ("Unable to complete operation on subnet {subnet_id}: One or more ports have an IP allocation from "
               "this subnet.")


class PrefixVersionMismatch(NeutronBadRequest):
    msg_fmt = "Illegal subnetpool: prefixes of mixed IP versions."


class GatewayIpInUse(NeutronConflict):
    msg_fmt = "Current gateway ip {ip_address} already in use by port {port_id}. Unable to update."


class SubnetPoolInUse(NeutronConflict):
    msg_fmt = "Subnet pool {pool_id} cannot be deleted: subnets are allocated from it."


class InvalidIpForSubnet(NeutronBadRequest):
    msg_fmt = "IP address {ip_address} is not a valid IP for the specified subnet."


class InvalidIpForNetwork(NeutronBadRequest):
    msg_fmt = "IP address {ip_address} is not a valid IP for any of the subnets on the specified network."


class IpAddressAlreadyAllocated(NeutronConflict):
    msg_fmt = "IP address {ip} already allocated in subnet {subnet_id}"


class IpAddressGenerationFailure(NeutronConflict):
    msg_fmt = "No more IP addresses available on network {net_id}."


class NetworkMTUSubnetConflict(NeutronConflict):
    msg_fmt = "MTU of {net_id} is not valid, subnet requires a minimum of {mtu}"


class OverQuota(NeutronConflict):
    msg_fmt = "Quota exceeded for resources: ['{overs}']."


class SubnetPoolQuotaExceeded(NeutronConflict):
    msg_fmt = "Per-project subnet pool prefix quota exceeded."


# -- ports --------------------------------------------------------------------------------------------
class PortInUse(NeutronConflict):
    msg_fmt = ("Unable to complete operation on port {port_id} for network {net_id}. Port already has an attached "
               "device {device_id}.")


class PortSecurityAndIPRequiredForSecurityGroups(NeutronBadRequest):
    msg_fmt = "Port security must be enabled and port must have an IP address in order to use security groups."


class PortSecurityPortHasSecurityGroup(NeutronConflict):
    msg_fmt = ("Port has security group associated. Cannot disable port security or IP address until security "
               "group is removed.")


class AddressPairAndPortSecurityRequired(NeutronConflict):
    msg_fmt = "Port Security must be enabled in order to have allowed address pairs on a port."


class DeviceIDNotOwnedByTenant(NeutronConflict):
    msg_fmt = "The following device_id {device_id} is not owned by your project or matches another project router."


class MacAddressInUse(NeutronConflict):
    msg_fmt = "Unable to complete operation for network {net_id}. The mac address {mac} is in use."


class L3PortInUse(NeutronConflict):
    msg_fmt = "Port {port_id} cannot be deleted directly via the port API: has device owner {device_owner}."


# -- instances' ports (what Nova's network_api answers) ------------------------------------------------
class NetworkOrPortRequired(NeutronBadRequest):
    code = "BadRequest"
    msg_fmt = "A network_id or a port_id is required."


class PortNotUsable(BadRequest):
    """The port belongs to another project than the instance (Nova's ``PortNotUsable``)."""

    code = "HTTPBadRequest"
    msg_fmt = "Port {port_id} not usable for instance {instance}."


class ExternalNetworkAttachForbidden(Forbidden):
    code = "PolicyNotAuthorized"
    msg_fmt = "It is not allowed to create an interface on external network {network_uuid}"


class PolicyNotAuthorized(Forbidden):
    msg_fmt = "You are not authorized to perform the requested action: {action}."


class AutoAllocationNotOwnProject(NeutronBadRequest):
    code = "BadRequest"
    msg_fmt = "Auto-allocation is only possible for the caller's own project."


class ConcurrentChange(Conflict):
    """A transaction that kept losing its compare-and-swap: the client may retry."""

    code = "HTTPConflict"
    msg_fmt = "The resource is being changed concurrently; please retry."


# -- routers, floating IPs ----------------------------------------------------------------------------
class BadRouterRequest(NeutronBadRequest):
    code = "BadRequest"
    msg_fmt = "Bad router request: {msg}."


class BadFloatingIPRequest(NeutronBadRequest):
    code = "BadRequest"
    msg_fmt = "Bad floatingip request: {msg}."


class InvalidRoutes(NeutronBadRequest):
    msg_fmt = "Invalid format for routes: {routes}, {reason}"


class RouterInUse(NeutronConflict):
    msg_fmt = "Router {router_id} still has ports"


class RouterExternalGatewayInUseByFloatingIp(NeutronConflict):
    msg_fmt = ("Gateway cannot be updated for router {router_id}, since a gateway to external network {net_id} is "
               "required by one or more floating IPs.")


class RouterInterfaceInUseByFloatingIP(NeutronConflict):
    msg_fmt = ("Cannot remove router interface from subnet(s) {subnet_ids} of router {router_id}: it is required "
               "by one or more floating IPs.")


class RouterInterfaceInUseByRoute(NeutronConflict):
    msg_fmt = ("Router interface for subnet {subnet_id} on router {router_id} cannot be deleted, as it is required "
               "by one or more routes.")


class RouterInterfaceNotFound(NeutronNotFound):
    msg_fmt = "Router {router_id} does not have an interface with id {port_id}"


class RouterInterfaceNotFoundForSubnet(NeutronNotFound):
    msg_fmt = "Router {router_id} has no interface on subnet {subnet_id}"


class ExternalGatewayForFloatingIPNotFound(NeutronNotFound):
    msg_fmt = ("External network {external_network_id} is not reachable from subnet {subnet_id}. Therefore, cannot "
               "associate Port {port_id} with a Floating IP.")


class FloatingIPPortAlreadyAssociated(NeutronConflict):
    msg_fmt = ("Cannot associate floating IP {floating_ip_address} ({fip_id}) with port {port_id} using fixed IP "
               "{fixed_ip}, as that fixed IP already has a floating IP on external network {net_id}.")


# -- security groups ----------------------------------------------------------------------------------
class SecurityGroupDefaultAlreadyExists(NeutronConflict):
    msg_fmt = "Default security group already exists."


class SecurityGroupCannotUpdateDefault(NeutronConflict):
    msg_fmt = "Updating default security group not allowed."


class SecurityGroupCannotRemoveDefault(NeutronConflict):
    msg_fmt = "Insufficient rights for removing default security group."


class SecurityGroupInUse(NeutronConflict):
    msg_fmt = "Security Group {id} in use."


class SecurityGroupRuleInvalidProtocol(NeutronBadRequest):
    msg_fmt = ("Security group rule protocol {protocol} not supported. Only protocol values {values} and integer "
               "representations [0 to 255] are supported.")


class SecurityGroupInvalidPortValue(NeutronBadRequest):
    msg_fmt = "Invalid value for port {port}"


class SecurityGroupProtocolRequiredWithPorts(NeutronBadRequest):
    msg_fmt = "Must also specify protocol if port range is given."


class SecurityGroupInvalidPortRange(NeutronBadRequest):
    msg_fmt = "For TCP/UDP protocols, port_range_min must be <= port_range_max"


class SecurityGroupInvalidIcmpValue(NeutronBadRequest):
    msg_fmt = "Invalid value for ICMP {field} ({attr}) {value}. It must be 0 to 255."


class SecurityGroupMissingIcmpType(NeutronBadRequest):
    msg_fmt = "ICMP code (port-range-max) {value} is provided but ICMP type (port-range-min) is missing."


class SecurityGroupInvalidProtocolForPortRange(NeutronBadRequest):
    msg_fmt = "Invalid protocol {protocol} for port range, only supported for TCP, UDP, UDPLITE, SCTP and DCCP."


class SecurityGroupMultipleRemoteEntites(NeutronBadRequest):
    msg_fmt = "Only one of remote_ip_prefix or remote_group_id or remote_address_group_id may be provided."


class SecurityGroupRuleParameterConflict(NeutronBadRequest):
    msg_fmt = "Conflicting value ethertype {ethertype} for CIDR {cidr}"


class SecurityGroupEthertypeConflictWithProtocol(NeutronBadRequest):
    msg_fmt = "Invalid ethertype {ethertype} for protocol {protocol}."


class SecurityGroupRuleExists(NeutronConflict):
    msg_fmt = "Security group rule already exists. Rule id is {rule_id}."


# -- metering ------------------------------------------------------------------------------------
class MeteringLabelNotFound(NeutronNotFound):
    msg_fmt = "Metering label '{id}' does not exist."


class MeteringLabelRuleNotFound(NeutronNotFound):
    msg_fmt = "Metering label rule '{id}' does not exist."


class MeteringLabelRuleOverlaps(NeutronConflict):
    msg_fmt = "Metering label rule with remote_ip_prefix '{remote_ip_prefix}' overlaps another."


class MeteringRuleInvalid(NeutronBadRequest):
    """The metering plugin's checks of a rule's prefixes (Neutron raises its generic
    ``Invalid``, which its fault map leaves a 500: here a 400 of that type)."""

    code = "Invalid"
    msg_fmt = "{reason}"


# -- flavors -------------------------------------------------------------------------------------
class FlavorNotFound(NeutronNotFound):
    msg_fmt = "Flavor {id} could not be found."


class ServiceProfileNotFound(NeutronNotFound):
    msg_fmt = "Service Profile {id} could not be found."


class ServiceProfileInUse(NeutronConflict):
    msg_fmt = "Service Profile {sp_id} is used by some service instance."


class FlavorServiceProfileBindingExists(NeutronConflict):
    msg_fmt = "Service Profile {sp_id} is already associated with flavor {fl_id}."


class FlavorServiceProfileBindingNotFound(NeutronNotFound):
    msg_fmt = "Service Profile {sp_id} is not associated with flavor {fl_id}."


class ServiceProfileDriverNotFound(NeutronNotFound):
    msg_fmt = "Service Profile driver {driver} could not be found."


class ServiceProfileEmpty(NeutronBadRequest):
    msg_fmt = "Service Profile needs either a driver or metainfo."


class FlavorInUse(NeutronConflict):
    msg_fmt = "Flavor {flavor_id} is used by some service instance."


class ServiceProfileDisabled(ApiError):
    status = 503
    msg_fmt = "Service Profile is not enabled."


class InvalidServiceType(NeutronBadRequest):
    msg_fmt = "Invalid service type {service_type}."


# Neutron names the generic HTTP errors after webob's exception classes.
_GENERIC_TYPES = {"BadRequest": "HTTPBadRequest", "NotFound": "HTTPNotFound", "Forbidden": "PolicyNotAuthorized",
                  "Conflict": "HTTPConflict", "Unauthorized": "HTTPUnauthorized",
                  "MethodNotAllowed": "HTTPMethodNotAllowed", "RequestEntityTooLarge": "HTTPRequestEntityTooLarge",
                  "ApiError": "HTTPError", "InternalError": "HTTPInternalServerError"}


class InvalidL3Agent(NeutronNotFound):
    msg_fmt = "Agent {id} is not a L3 Agent or has been disabled"


class InvalidDHCPAgent(NeutronNotFound):
    msg_fmt = "Agent {id} is not a valid DHCP Agent or has been disabled"


class RouterHostedByL3Agent(NeutronConflict):
    msg_fmt = "The router {router_id} has been already hosted by the L3 Agent {agent_id}."


class RouterNotHostedByL3Agent(NeutronConflict):
    msg_fmt = "The router {router_id} is not hosted by L3 agent {agent_id}."


class NetworkHostedByDHCPAgent(NeutronConflict):
    msg_fmt = "The network {network_id} has been already hosted by the DHCP Agent {agent_id}."


class NetworkNotHostedByDhcpAgent(NeutronConflict):
    msg_fmt = "The network {network_id} is not hosted by the DHCP agent {agent_id}."



# -- address scopes (neutron_lib.exceptions.address_scope) -------------------------------------------
class AddressScopeNotFound(NeutronNotFound):
    msg_fmt = "Address scope {id} could not be found."


class AddressScopeInUse(NeutronConflict):
    msg_fmt = ("Unable to complete operation on address scope {address_scope_id}. There are one or more subnet "
               "pools in use on the address scope.")


class AddressScopeUpdateError(NeutronBadRequest):
    msg_fmt = "Unable to update address scope {address_scope_id} : {reason}."


class AddressScopePrefixConflict(NeutronConflict):
    msg_fmt = "Failed to associate address scope: subnetpools within an address scope must have unique prefixes."


class IllegalSubnetPoolAssociationToAddressScope(NeutronBadRequest):
    msg_fmt = ("Illegal subnetpool association: subnetpool {subnetpool_id} cannot be associated with address "
               "scope {address_scope_id}.")


class IllegalSubnetPoolUpdate(NeutronBadRequest):
    msg_fmt = ("Illegal subnetpool update : subnetpool {subnetpool_id} cannot be updated when associated with shared "
               "address scope {address_scope_id}.")


class IllegalSubnetPoolIpVersionAssociationToAddressScope(NeutronBadRequest):
    msg_fmt = ("Illegal subnetpool association: subnetpool {subnetpool_id} cannot associate with address scope "
               "{address_scope_id} because subnetpool ip_version is not {ip_version}.")


# -- address groups (neutron_lib.exceptions.address_group) ------------------------------------------
class AddressGroupNotFound(NeutronNotFound):
    msg_fmt = "Address group {id} could not be found."


class AddressGroupInUse(NeutronConflict):
    msg_fmt = "Address group {address_group_id} is in use on one or more security group rules."


class AddressesNotFound(NeutronNotFound):
    msg_fmt = "Addresses {addresses} not found in the address group {address_group_id}."


class AddressesAlreadyExist(NeutronBadRequest):
    msg_fmt = "Addresses {addresses} already exist in the address group {address_group_id}."


# -- RBAC policies (neutron.extensions.rbac) ----------------------------------------------------------
class RbacPolicyNotFound(NeutronNotFound):
    """Neutron finds a policy's type by its id first: an id it cannot see is of type
    ``unknown``."""

    msg_fmt = "RBAC policy of type {object_type} with ID {id} not found"

    def __init__(self, id: str, object_type: str = "unknown"):
        super().__init__(id=id, object_type=object_type)


class RbacPolicyInUse(NeutronConflict):
    msg_fmt = ("RBAC policy on object {object_id} cannot be removed because other objects depend on it.\n"
               "Details: {details}")


class DuplicateRbacPolicy(NeutronConflict):
    msg_fmt = "An RBAC policy already exists with those values."


class InvalidActionForType(NeutronBadRequest):
    msg_fmt = "Invalid action '{action}' for object type '{object_type}'. Valid actions: {valid_actions}"


# -- trunks (neutron.services.trunk.exceptions) -------------------------------------------------------
class TrunkNotFound(NeutronNotFound):
    msg_fmt = "Trunk {id} could not be found."


class SubPortNotFound(NeutronNotFound):
    msg_fmt = "SubPort {port_id} on trunk {trunk_id} could not be found."


class TrunkPortInUse(NeutronConflict):
    msg_fmt = "Port {port_id} is in use by another trunk."


class DuplicateSubPort(NeutronConflict):
    msg_fmt = ("segmentation_type {segmentation_type} and segmentation_id {segmentation_id} already in use on "
               "trunk {trunk_id}.")


class ParentPortInUse(NeutronConflict):
    msg_fmt = "Port {port_id} is currently in use and is not eligible for use as a parent port."


class SubPortMtuGreaterThanTrunkPortMtu(NeutronConflict):
    msg_fmt = "MTU {port_mtu} of subport {port_id} cannot be greater than MTU {trunk_mtu} of trunk {trunk_id}."


class PortInUseAsTrunkParent(NeutronConflict):
    msg_fmt = "Port {port_id} is currently a parent port for trunk {trunk_id}."


class PortInUseAsSubPort(NeutronConflict):
    msg_fmt = "Port {port_id} is currently a subport for trunk {trunk_id}."


class TrunkInUse(NeutronConflict):
    msg_fmt = "Trunk {trunk_id} is currently in use."


class TrunkDisabled(NeutronConflict):
    msg_fmt = "Trunk {trunk_id} is currently disabled."


class TrunkInErrorState(NeutronConflict):
    msg_fmt = "Trunk {trunk_id} is in error state. Attempt to resolve the error condition before proceeding."


# -- QoS (neutron_lib.exceptions.qos) ----------------------------------------------------------------
class QosPolicyNotFound(NeutronNotFound):
    msg_fmt = "QoS policy {id} could not be found."


class QosRuleNotFound(NeutronNotFound):
    msg_fmt = "QoS rule {rule_id} for policy {policy_id} could not be found."


class QoSPolicyDefaultAlreadyExists(NeutronConflict):
    msg_fmt = "A default QoS policy exists for project {project_id}."


class QosPolicyInUse(NeutronConflict):
    msg_fmt = "QoS Policy {policy_id} is used by {object_type} {object_id}."


class QoSRulesConflict(NeutronConflict):
    msg_fmt = "Rule {new_rule_type} conflicts with rule {rule_id} which already exists in QoS Policy {policy_id}."


class QoSRuleParameterConflict(NeutronConflict):
    msg_fmt = ("Unable to add the rule with value {rule_value} to the policy {policy_id} as the existing rule of "
               "type {existing_rule} has value {existing_value}.")


class PolicyRemoveAuthorizationError(Forbidden):
    msg_fmt = "Failed to remove provided policy {policy_id} because you are not authorized."


class HiddenByPolicy(NeutronNotFound):
    """A GET the policy refuses on something the caller sees the parent of (a shared QoS
    policy's rule): Neutron's policy hook answers its plain 404."""

    code = "HTTPNotFound"
    msg_fmt = "The resource could not be found."


class NotAuthorized(Forbidden):
    """Neutron's plain ``NotAuthorized`` (a rule type's details are for admins only)."""

    msg_fmt = "Not authorized."


class InvalidRuleType(NeutronBadRequest):
    """A rule type Neutron does not know, in the URL (its object field's ValueError)."""

    code = "HTTPBadRequest"
    msg_fmt = "Field value {rule_type} is invalid"


def neutron_type(error: ApiError) -> ApiError:
    """Rename the generic errors shared code raises to Neutron's webob names; errors with
    a Neutron type of their own (the classes above, or an explicit ``error_type``) keep it."""
    if type(error).__module__ == ApiError.__module__ and error.error_type == type(error).__name__:
        error.error_type = _GENERIC_TYPES.get(error.error_type, error.error_type)
    return error
