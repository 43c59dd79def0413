"""Compute's named errors: each carries its fields and Nova's wording (``nova/exception.py``),
rendered in Nova's fault format by the API (``{"badRequest": {"message": ..., "code": 400}}``,
no machine-readable code)."""

from __future__ import annotations

from pocketstack.common.errors import (
    BadRequest,
    Conflict,
    Forbidden,
    MethodNotAllowed,
    NotFound,
    NotImplementedYet,
    ServiceUnavailable,
    Unauthorized,
)


# == servers and their sub-resources (api/servers.py, actions.py, server_details.py, ...) ==
# -- not found --------------------------------------------------------------------------
class InstanceNotFound(NotFound):
    msg_fmt = "Instance {instance_id} could not be found."


class MetadataItemNotFound(NotFound):
    msg_fmt = "Metadata item was not found"


class MetadataKeyNotFound(NotFound):
    msg_fmt = "Metadata item was not found: {key}"


class ConsoleTokenNotFound(NotFound):
    msg_fmt = "Token not found"


class InstanceActionNotFound(NotFound):
    msg_fmt = "Action for request_id {request_id} on instance {instance_id} not found"


class InstanceTagNotFound(NotFound):
    msg_fmt = "Tag {tag} on instance {instance_id} could not be found."


class NetworkLabelNotFound(NotFound):
    msg_fmt = "There is no such network."


class InterfaceNotFound(NotFound):
    msg_fmt = "Instance {instance_id} does not have an interface with port {port_id}."


class VolumeAttachmentNotFound(NotFound):
    msg_fmt = "volume_id not found: {volume_id}"


class VolumeNotFound(NotFound):
    msg_fmt = "Volume {volume_id} could not be found."


# -- conflicts ----------------------------------------------------------------------------
class InstanceDeleteContended(Conflict):
    msg_fmt = "Instance {instance_id} is changing too quickly to be deleted; try again."


class InstanceIsLocked(Conflict):
    msg_fmt = "Instance {instance_id} is locked"


class InstanceInvalidState(Conflict):
    msg_fmt = "Cannot '{action}' instance {instance_id} while it is in {attribute} {state}"


class UnshelveInstanceInvalidState(Conflict):
    msg_fmt = ('Specifying an availability zone or a host when unshelving server "{instance_id}" with status '
               '"{state}" is not supported. The server status must be SHELVED_OFFLOADED.')


class UnshelveHostNotInAZ(Conflict):
    msg_fmt = 'Host "{host}" is not in the availability zone "{availability_zone}".'


class UnshelveZoneUnavailable(BadRequest):
    msg_fmt = "The requested availability zone is not available"


class VolumeNotMigrating(Conflict):
    msg_fmt = "volume {volume_id} is not migrating; this API should only be called by Cinder"


class InstanceNotReady(Conflict):
    msg_fmt = "Instance {instance_id} is not ready: it is in vm_state {vm_state}"


class PortInUse(Conflict):
    msg_fmt = "Port {port_id} is still in use."


# 2.104: re-pinning a server's zone (api/spec_views.py)
class PinnedZoneChange(Conflict):
    msg_fmt = ("Cannot change pinned availability zone directly. Unpin first by setting "
               "pinned_availability_zone to null.")


class PinnedZoneElsewhere(Conflict):
    msg_fmt = ("Server can only be pinned to its current availability zone '{current_az}', but "
               "'{requested_az}' was requested.")


# 2.97: shares (api/server_shares.py)
class SharesNotConfigured(Conflict):
    msg_fmt = "Feature not supported because either compute or instance are not configured correctly."


class ShareNotFound(NotFound):
    msg_fmt = "Share {share_id} could not be found."


# -- refused ------------------------------------------------------------------------------
class AuthenticationRequired(Unauthorized):
    msg_fmt = "The request you have made requires authentication."


class ProjectScopeRequired(Forbidden):
    msg_fmt = "This action needs a project-scoped token."


class SortKeyForbidden(Forbidden):
    msg_fmt = "Only administrators can sort servers by {key}"


class DeletedListForbidden(Forbidden):
    msg_fmt = "Only administrators may list deleted instances"


# -- bad requests: boot ---------------------------------------------------------------------
class FlavorNotFoundForBoot(BadRequest):
    msg_fmt = "Flavor {flavor_ref} could not be found."


class FlavorDisabled(BadRequest):
    msg_fmt = "Flavor {flavor_id} is disabled."


class ImageRefMissing(BadRequest):
    msg_fmt = "Missing imageRef attribute"


class FlavorMemoryTooSmall(BadRequest):
    msg_fmt = "Flavor's memory is too small for requested image."


class FlavorDiskTooSmall(BadRequest):
    msg_fmt = "Flavor's disk is too small for requested image."


class InvalidCount(BadRequest):
    msg_fmt = "Invalid input for field/attribute {name}. Value: {value}."


class CountRange(BadRequest):
    msg_fmt = "min_count must be <= max_count"


class NetworkServiceMissing(BadRequest):
    msg_fmt = ("Networks other than 'auto' and 'none' need the network service, which is not running in "
               "this cloud.")


class InvalidKeyName(BadRequest):
    msg_fmt = "Invalid key_name provided."


class AvailabilityZoneUnavailable(BadRequest):
    msg_fmt = "The requested availability zone is not available: {zone}"


class InvalidServerGroup(BadRequest):
    msg_fmt = "Invalid server group {group_id}."


class MultiplePortsNotApplicable(BadRequest):
    msg_fmt = ("Unable to launch multiple instances with a single configured port ID. Please launch your "
               "instance one by one with different ports.")


class PortNotFoundForBoot(BadRequest):
    msg_fmt = "Port {port_id} could not be found."


class NetworkNotFoundForBoot(BadRequest):
    msg_fmt = "Network {network_id} could not be found."


class BadNetworksFormat(BadRequest):
    msg_fmt = "Bad networks format: network uuid is not in proper format or port is missing"


class InvalidFixedIpAddress(BadRequest):
    msg_fmt = "Invalid fixed IP address ({address})"


class FixedIpWithMultipleInstances(BadRequest):
    msg_fmt = "max_count cannot be greater than 1 if an fixed_ip is specified."


class InvalidUserData(BadRequest):
    msg_fmt = "Invalid input for field/attribute user_data. Value: user_data is not base64 encoded."


class InvalidPersonalityContents(BadRequest):
    msg_fmt = "Invalid input for field/attribute contents. Value: {value}. '{value}' is not a 'base64'"


class PersonalityGone(BadRequest):
    """From 2.57 ``personality`` is not part of the rebuild body (Nova's schema error)."""

    msg_fmt = ("Invalid input for field/attribute rebuild. Value: personality. Additional properties are not "
               "allowed ('personality' was unexpected)")


class PersonalityLimitExceeded(Forbidden):
    msg_fmt = "Personality file limit exceeded"


class PersonalityPathLimitExceeded(Forbidden):
    msg_fmt = "Personality file path exceeds maximum {allowed}"


class PersonalityContentLimitExceeded(Forbidden):
    msg_fmt = "Personality file content exceeds maximum {allowed}"


class BootVolumeTypeNotFound(BadRequest):
    msg_fmt = "Volume type {volume_type} could not be found."


class InvalidBlockDeviceMapping(BadRequest):
    """Nova's ``InvalidBDM*`` family: one prefix, the reason after it."""

    msg_fmt = "Block Device Mapping is Invalid: {reason}"


class MixedBlockDeviceMappingSyntax(BadRequest):
    msg_fmt = "Using different block_device_mapping syntaxes is not allowed in the same request."


class InvalidBlockDeviceField(BadRequest):
    msg_fmt = "Invalid input for field/attribute {name}. Value: {value}."


class ImageVolumeSizeMissing(BadRequest):
    msg_fmt = "Images with destination_type 'volume' need to have a non-zero size specified"


class VolumeSmallerThanImage(BadRequest):
    msg_fmt = ("Volume is smaller than the minimum size specified in image metadata. Volume size is {size} bytes, "
               "minimum size is {minimum} bytes.")


class VolumeNotAvailable(BadRequest):
    msg_fmt = "Invalid volume: volume '{volume_id}' status must be 'available'. Currently in '{volume_status}'"


class VolumeForMultipleInstances(BadRequest):
    msg_fmt = "Cannot attach one or more volumes to multiple instances"


class VolumeNotBootable(BadRequest):
    msg_fmt = "Block Device {volume_id} is not bootable."


class InvalidAccessIp(BadRequest):
    msg_fmt = "Invalid input for field/attribute {field}. Value: {value}. '{value}' is not a 'ipv{version}'"


class InvalidTag(BadRequest):
    msg_fmt = "Invalid tag {tag!r}: tags are 1-60 characters without ',' or '/'."


class TooManyTags(BadRequest):
    msg_fmt = "The number of tags exceeded the per-server limit {limit}"


class InvalidTopology(BadRequest):
    """The flavor's and image's CPU topology settings cannot be met (``compute.topology``
    says why, in Nova's words)."""

    msg_fmt = "{reason}"


# -- bad requests: listing ------------------------------------------------------------------
class InvalidStatusFilter(BadRequest):
    msg_fmt = "Invalid status value {value}"


class InvalidBooleanQuery(BadRequest):
    """A boolean query parameter outside oslo's strict ``bool_from_string`` words."""

    msg_fmt = "Invalid value '{value}' for {name}: expected one of {accepted}"


class InvalidFilterTime(BadRequest):
    msg_fmt = "Invalid filter field: {name}. Value: {value}."


class ChangesWindowCrossed(BadRequest):
    msg_fmt = "The value of changes-since must be less than or equal to changes-before."


class InvalidIpFilter(BadRequest):
    msg_fmt = "Invalid ip{suffix} filter regex {pattern!r}."


class InvalidNameFilter(BadRequest):
    msg_fmt = "Invalid name filter regex {pattern!r}."


class ServerMarkerNotFound(BadRequest):
    msg_fmt = "marker [{marker}] not found"


class InvalidServerSortKey(BadRequest):
    msg_fmt = "Invalid sort key {key}"


class InvalidSortDirection(BadRequest):
    msg_fmt = "Invalid sort direction {direction}"


class InvalidQueryInteger(BadRequest):
    msg_fmt = "Invalid input for query parameters {name}. Value: {value}. '{value}' is not an integer"


class QueryIntegerTooSmall(BadRequest):
    msg_fmt = ("Invalid input for query parameters {name}. Value: {value}. "
               "{value} is less than the minimum of {minimum}")


# -- bad requests: actions and sub-resources ------------------------------------------------
class RefusedByAnotherService(BadRequest):
    """Network's or Block Storage's refusal of what compute asked on the caller's behalf,
    answered as Nova does (``HTTPBadRequest(explanation=e.format_message())``): a 400
    carrying the other service's words."""

    msg_fmt = "{reason}"


class NoSuchAction(BadRequest):
    msg_fmt = "There is no such action: {action}"


class ActionBodyMalformed(BadRequest):
    msg_fmt = "There is no such action: the body must hold exactly one action."


class AmbiguousHostnameForMultipleInstances(BadRequest):
    msg_fmt = "Unable to allocate a single hostname to multiple instances"


class ImageUnacceptable(BadRequest):
    msg_fmt = "Image {image_id} is unacceptable: {reason}"


class AutoDiskConfigDisabledByImage(BadRequest):
    msg_fmt = "Requested image {image} has automatic disk resize disabled."


class InstancePasswordSetFailed(Conflict):
    msg_fmt = "Failed to set admin password on {instance_id} because {reason}"


class GuestAgentNotEnabled(Conflict):  # Nova's QemuGuestAgentNotEnabled (an InstanceAgentNotEnabled)
    msg_fmt = "QEMU guest agent is not enabled"


class SetPasswordNotImplemented(NotImplementedYet):
    msg_fmt = "Unable to set password on instance"


class InstanceNotRescuable(BadRequest):
    msg_fmt = "Instance {instance_id} cannot be rescued: {reason}"


class ForceWithoutHost(BadRequest):
    msg_fmt = "Can't force to a non-provided destination"


class UnableToMigrateToSelf(BadRequest):
    msg_fmt = "Unable to migrate instance ({instance_id}) to current host ({host})."


class ComputeServiceInUse(BadRequest):
    msg_fmt = "Compute service of {host} is still in use."


class EvacuateHostNotFound(NotFound):
    msg_fmt = "Compute host {host} not found."


class EvacuateToSameHost(BadRequest):
    msg_fmt = "The target host can't be the same one."


class PasswordOnSharedStorage(BadRequest):
    msg_fmt = "admin password can't be changed on existing disk"


class LiveMigrationNotInProgress(NotFound):
    msg_fmt = "In-progress live migration {migration_id} is not found for server {server_id}."


class MigrationNotFoundForInstance(NotFound):
    msg_fmt = "Migration {migration_id} not found for instance {instance_id}"


class ForceCompleteMigrationNotFound(BadRequest):
    """Nova's force_complete answers 400 where an abort answers 404."""

    msg_fmt = MigrationNotFoundForInstance.msg_fmt


class InvalidMigrationState(BadRequest):
    msg_fmt = ("Migration {migration_id} state of instance {instance_id} is {state}. Cannot {method} while the "
               "migration is in this state.")


class CannotMigrateToSameHost(BadRequest):
    msg_fmt = "Cannot migrate to the host where the instance is currently running."


class MigrationHostNotFound(BadRequest):
    """Nova answers an unknown target host of a cold migration with 400, not 404."""

    msg_fmt = "Compute host {host} could not be found."


class InvalidConsoleLength(BadRequest):
    msg_fmt = "Invalid input for field/attribute length. Value: {length}."


class ResizeFlavorNotFound(BadRequest):
    msg_fmt = "Unable to find flavor {flavor_ref}."


class ResizeSameFlavor(BadRequest):
    msg_fmt = "When resizing, instances must change flavor!"


class ResizeDiskDown(BadRequest):
    msg_fmt = "Resize error: Unable to resize disk down."


class MetadataKeyMismatch(BadRequest):
    msg_fmt = "Request body and URI mismatch"


class TagsNotChangeable(BadRequest):
    msg_fmt = "Cannot change tags of instance in vm_state {vm_state}"


class DiagnosticsNotReady(BadRequest):
    msg_fmt = "Instance {instance_id} has no diagnostics yet: it is in vm_state {vm_state}"


class RemoteConsolesNeed26(BadRequest):
    msg_fmt = "Remote consoles need microversion 2.6; use the os-getVNCConsole action."


class ConsoleTypeUnavailable(BadRequest):
    msg_fmt = "Unavailable console type {kind}."


class ConsoleAuthTokensNeed231(BadRequest):
    msg_fmt = "Console auth tokens need microversion 2.31."


class NetworkServiceUnavailable(BadRequest):
    msg_fmt = "The network service is not available."


class VolumeServiceUnavailable(BadRequest):
    msg_fmt = "The block storage service is not available."


class VolumeBDMNotFound(BadRequest):
    msg_fmt = "No volume Block Device Mapping with id {volume_id}."


class AttachedVolumeBDMNotFound(NotFound):
    """2.85's PUT of an attachment the server does not have (Nova's VolumeBDMNotFound, 404 there)."""

    msg_fmt = "No volume Block Device Mapping with id {volume_id}."


class ImmutableAttachmentProperty(BadRequest):
    msg_fmt = "The {name} property is not mutable"


class VolumeBDMIsMultiAttach(BadRequest):
    msg_fmt = "Block Device Mapping {volume_id} is a multi-attach volume and is not valid for this operation."


class AssistedSnapshotInstanceNotReady(BadRequest):
    """Nova answers the assisted-snapshot API's state refusals with 400, not 409."""

    msg_fmt = "Instance {instance_id} is not ready: it is in vm_state {vm_state}"


class AssistedSnapshotInvalidState(BadRequest):
    msg_fmt = "Cannot '{action}' instance {instance_id} while it is in {attribute} {state}"


class AssistedSnapshotDeleteInfoInvalid(BadRequest):
    msg_fmt = "Invalid delete_info: {reason}"


class VolumeRequestInvalid(BadRequest):
    """A volume proxy request the block storage service refused (Nova's ``InvalidInput``)."""

    msg_fmt = "Invalid input received: {reason}"


class VolumeQuotaExceeded(Forbidden):
    """The block storage service's 413 over quota, which Nova's proxy answers with 403."""

    msg_fmt = "{reason}"


class InterfaceNetAndPort(BadRequest):
    msg_fmt = "Must not input both network_id and port_id"


class InterfaceFixedIpWithoutNet(BadRequest):
    msg_fmt = "Must input network_id when request IP address"


class InterfaceTargetMissing(BadRequest):
    msg_fmt = "A net_id or a port_id is required."


class InterfaceAttachFailed(BadRequest):
    msg_fmt = "Failed to attach network adapter device to {instance_uuid}"


class VolumeAlreadyAttached(BadRequest):
    msg_fmt = "Invalid volume: volume {volume_id} already attached"


class VolumeAttachedElsewhere(BadRequest):
    """Nova's ``_check_volume_already_attached`` for a volume without multiattach."""

    msg_fmt = "Invalid volume: volume {volume_id} is already attached to instances: {instance_uuids}"


class MultiattachNotSupportedOldMicroversion(BadRequest):
    msg_fmt = "Multiattach volumes are only supported starting with compute API version 2.60."


class MultiattachToShelvedNotSupported(BadRequest):
    msg_fmt = "Attaching multiattach volumes is not supported for shelved-offloaded instances."


class MultiattachSwapVolumeNotSupported(BadRequest):
    msg_fmt = "Swapping multi-attach volumes with more than one read/write attachment is not supported."


class RequestedHostNotFound(BadRequest):
    """2.74's ``host``/``hypervisor_hostname`` on create, or 2.91's unshelve ``host``,
    naming no compute node (Nova's ComputeHostNotFound, a 400 there)."""

    msg_fmt = "Compute host {host} could not be found."


class TaggedAttachToShelved(BadRequest):
    msg_fmt = "Tagged volume attachment is not supported for shelved-offloaded instances."


class NoFreeDeviceName(BadRequest):
    msg_fmt = "No free disk device names for prefix 'vd'"


class RootVolumeDetach(BadRequest):
    msg_fmt = "Cannot detach a root device volume"


class ExtensionNotFound(NotFound):
    msg_fmt = "Extension {alias} could not be found."


# == the other services ==========================================================================
class PlacementUnavailable(ServiceUnavailable):
    msg_fmt = "The placement service is not running in this cloud."


class HostTimeout(ServiceUnavailable):
    msg_fmt = "Compute host {host} did not answer in time."


# == the other families ========================================================================
# -- flavors ----------------------------------------------------------------------------
class FlavorNotFound(NotFound):
    msg_fmt = "Flavor {flavor_id} could not be found."


class FlavorNameExists(Conflict):
    msg_fmt = "Flavor with name {name} already exists."


class FlavorIdExists(Conflict):
    msg_fmt = "Flavor with ID {flavor_id} already exists."


class FlavorExists(Conflict):
    msg_fmt = "Flavor with name {name} or ID {flavor_id} already exists."


class FlavorMarkerNotFound(BadRequest):
    msg_fmt = "marker [{marker}] not found"


class FlavorExtraSpecsNotFound(NotFound):
    msg_fmt = "Flavor {flavor_id} has no extra specs with key {key}."


class FlavorAccessPublic(Conflict):
    msg_fmt = "Can not add access to a public flavor."


class FlavorAccessExists(Conflict):
    msg_fmt = "Flavor access already exists for flavor {flavor_id} and project {project_id} combination."


class FlavorAccessNotFound(NotFound):
    msg_fmt = "Flavor access not found for {flavor_id} / {project_id} combination."


class FlavorAccessListPublic(NotFound):
    msg_fmt = "Access list not available for public flavors."


class InvalidSortKey(BadRequest):
    msg_fmt = "Invalid sort key {sort_key!r}."


class InvalidSortDir(BadRequest):
    msg_fmt = "Invalid sort direction {sort_dir!r}."


class InvalidFieldValue(BadRequest):
    msg_fmt = "Invalid input for field/attribute {name}. Value: {value}."


class FieldAboveMaximum(BadRequest):
    msg_fmt = ("Invalid input for field/attribute {name}. Value: {value}. "
               "{value} is greater than the maximum of {maximum}")


class InvalidRxtxFactor(BadRequest):
    msg_fmt = "Invalid input received: 'rxtx_factor' argument must be a float between 0 and {maximum:g}"


class DescriptionNotAllowed(BadRequest):
    msg_fmt = ("Invalid input for field/attribute flavor. Additional properties are not allowed "
               "('description' was unexpected)")


class FlavorUpdateNotAllowed(MethodNotAllowed):
    msg_fmt = "The method is not allowed for the requested URL."


class BodyUriMismatch(BadRequest):
    msg_fmt = "Request body and URI mismatch"


class ExtraSpecInvalid(BadRequest):
    """2.86: a known extra spec with a value Nova refuses, or an unknown key in a
    namespace Nova owns (compute/extra_specs.py words ``detail``, as Nova's validators)."""
    msg_fmt = "{detail}"


# -- key pairs --------------------------------------------------------------------------
class KeypairNotFound(NotFound):
    msg_fmt = "Keypair {name} not found for user {user_id}"


class KeyPairExists(Conflict):
    msg_fmt = "Key pair '{name}' already exists."


class InvalidKeypair(BadRequest):
    msg_fmt = "Keypair data is invalid: {reason}"


# -- quotas -----------------------------------------------------------------------------
class OverQuota(Forbidden):
    """Nova's 403 wording, which clients and operators grep for."""

    msg_fmt = "Quota exceeded for {resource}: Requested {requested}, but already used {used} of {limit} {resource}"


class QuotaLimitTooLow(BadRequest):
    msg_fmt = "Quota limit {value} for {name} must be -1 or greater."


# -- aggregates -------------------------------------------------------------------------
class AggregateNotFound(NotFound):
    msg_fmt = "Aggregate {aggregate_id} could not be found."


class AggregateIdNotInteger(BadRequest):
    msg_fmt = "Invalid input received: id must be an integer"


class DuplicateCacheImages(BadRequest):
    msg_fmt = "Duplicate images in request"


class AggregateNameExists(Conflict):
    msg_fmt = "Aggregate {name} already exists."


class AggregateNotEmpty(BadRequest):
    msg_fmt = "Cannot remove aggregate {aggregate_id}. Reason: Host aggregate is not empty."


class AggregateHostExists(Conflict):
    msg_fmt = "Aggregate {aggregate_id} already has host {host}."


class AggregateHostNotFound(NotFound):
    msg_fmt = "Aggregate {aggregate_id} has no host {host}."


class AggregateAddHostZoneConflict(BadRequest):
    msg_fmt = ("Cannot add host to aggregate {aggregate_id}. Reason: One or more hosts already in "
               "availability zone(s) {zones}.")


class AggregateUpdateZoneConflict(BadRequest):
    msg_fmt = ("Cannot update aggregate {aggregate_id}. Reason: One or more hosts already in "
               "availability zone(s) {zones}.")


# -- hosts, services, hypervisors -------------------------------------------------------
class ComputeHostNotFound(NotFound):
    msg_fmt = "Compute host {host} could not be found."


class NotASimulatedHost(BadRequest):
    msg_fmt = "Compute host {host} runs real guests: it has no simulated power switch (fence it another way)."


class HypervisorNotFound(NotFound):
    msg_fmt = "Hypervisor with ID {hypervisor_id} could not be found."


class HypervisorPatternNotFound(NotFound):
    msg_fmt = "No hypervisor matching '{pattern}' could be found."


class ServiceNotFound(NotFound):
    msg_fmt = "Service {service_id} could not be found."


class ServiceUpdateNeedsMicroversion(NotFound):
    msg_fmt = "Updating services by id requires microversion 2.53."


class DisabledReasonWithoutStatus(BadRequest):
    msg_fmt = "Specifying 'disabled_reason' with status 'enabled' is invalid."


class HostUpdateNeedsStatus(BadRequest):
    msg_fmt = "'status' or 'maintenance_mode' needed for host update"


class HostMaintenanceNotImplemented(NotImplementedYet):
    msg_fmt = "Virt driver does not implement host maintenance mode."


class HostPowerNotImplemented(NotImplementedYet):
    msg_fmt = "Virt driver does not implement host power management."


# -- server groups ----------------------------------------------------------------------
class InstanceGroupNotFound(NotFound):
    msg_fmt = "Instance group {group_id} could not be found."


class InvalidGroupPolicy(BadRequest):
    msg_fmt = "Invalid input for field/attribute policy. Value: {policy}. It must be one of {choices}."


class GroupRulesNeedAntiAffinity(BadRequest):
    msg_fmt = "Only anti-affinity policy supports rules."


class MaxServerPerHostTooLow(BadRequest):
    msg_fmt = "max_server_per_host must be at least 1."


# -- security groups (proxy) ------------------------------------------------------------
class SecurityGroupNotFound(NotFound):
    msg_fmt = "Security group {group_id} not found."


class SecurityGroupNotFoundForProject(NotFound):
    msg_fmt = "Security group {name} not found for project {project_id}."


class SecurityGroupUnknownForProject(BadRequest):
    msg_fmt = "Security group {name} not found for project {project_id}."


class SecurityGroupRuleNotFound(NotFound):
    msg_fmt = "Security group rule {rule_id} not found."


class SecurityGroupRuleExists(BadRequest):
    msg_fmt = "This rule already exists in group {group_id}"


class SecurityGroupNotAssociated(BadRequest):
    msg_fmt = "Security group {name} not associated with the instance {instance_id}"


class InvalidSecurityGroupProperty(BadRequest):
    msg_fmt = "Security group {name} {reason}"


class InvalidSecurityGroupId(BadRequest):
    msg_fmt = "Security group id should be uuid"


class InvalidPort(BadRequest):
    msg_fmt = "Invalid {name}: {value!r} is not an integer."


class InvalidIpProtocol(BadRequest):
    msg_fmt = "Invalid IP protocol {protocol}."


class InvalidIcmpRange(BadRequest):
    msg_fmt = "Invalid port range {low}:{high}. ICMP type and code must be between -1 and 255."


class InvalidPortRange(BadRequest):
    msg_fmt = "Invalid port range {low}:{high}. Valid TCP ports should be between 1-65535"


class PortsNeedProtocol(BadRequest):
    msg_fmt = "Ports can only be given with ip_protocol tcp, udp or icmp."


class InvalidCidr(BadRequest):
    msg_fmt = "Invalid cidr {cidr}."


class SecurityGroupsNeedNetwork(BadRequest):
    msg_fmt = "Security groups need the network service, which is not running in this cloud."


class SecurityGroupsProxyNeedsNetwork(NotFound):
    msg_fmt = "Security groups need the network service, which is not running in this cloud."


class NoPortsForInstance(NotFound):
    msg_fmt = "instance_id {instance_id} could not be found as device id on any ports"


# -- floating IPs (proxy) ---------------------------------------------------------------
class FloatingIpNotFoundForAddress(NotFound):
    msg_fmt = "floating IP not found for address {address}"


class FloatingIpNotFound(NotFound):
    msg_fmt = "Floating IP not found for ID {fip_id}"


class FloatingIpPoolNotFound(NotFound):
    msg_fmt = "Floating IP pool not found."


class NetworkAmbiguous(Conflict):
    msg_fmt = "Multiple possible networks found, use a Network ID to be more specific."


class FloatingIpPoolAmbiguous(Conflict):
    msg_fmt = "Multiple floating IP pools matches found for name '{name}'"


class FloatingIpLimitExceeded(Forbidden):
    msg_fmt = "Maximum number of floating IPs exceeded"


class NoMoreFloatingIps(NotFound):
    msg_fmt = "No more floating IPs in pool {pool}."


class FloatingIpNotAssociated(Conflict):
    msg_fmt = "Floating IP {address} is not associated with instance {instance_id}."


class NoFixedIps(BadRequest):
    msg_fmt = "No fixed IPs associated to instance"


class FixedIpNotOnInstance(BadRequest):
    msg_fmt = "Specified fixed address not assigned to instance"


class NoFixedIpv4(BadRequest):
    msg_fmt = ("Unable to associate floating IP {address} to any fixed IPs for instance {instance_id}. "
               "Instance has no fixed IPv4 addresses to associate.")


class FloatingIpAssociateFailed(BadRequest):
    msg_fmt = ("Unable to associate floating IP {address} to fixed IP {fixed} for instance {instance_id}. "
               "Error: {error}")


class NetworkNotFoundForInstance(NotFound):
    msg_fmt = "Network could not be found for instance {instance_id}."


class FixedIpNotFoundForInstance(BadRequest):
    msg_fmt = "Instance {instance_id} doesn't have fixed IP '{ip}'."


class InvalidIpAddress(BadRequest):
    msg_fmt = "Invalid input for field/attribute {name}. Value: {value}. '{value}' is not a 'ip-address'"


# -- the proxies of other services (gone from 2.36, or without the service) -------------
class ProxyGone(NotFound):
    msg_fmt = "The resource could not be found."


# -- networks (proxy) -------------------------------------------------------------------
class NetworkNotFound(NotFound):
    msg_fmt = "Network {network_id} could not be found."


# -- usage ------------------------------------------------------------------------------
class InvalidUsageTime(BadRequest):
    msg_fmt = "Invalid start time. {raw} is not in the format %Y-%m-%dT%H:%M:%S[.%f]."


class UsageStartAfterEnd(BadRequest):
    msg_fmt = "Invalid start time. The start time cannot occur after the end time."


class InvalidAuditTimestamp(BadRequest):
    msg_fmt = "Invalid timestamp for date {raw}"


# -- migrations -------------------------------------------------------------------------
class MarkerNotFound(BadRequest):
    msg_fmt = "Marker {marker} could not be found."


# -- external events --------------------------------------------------------------------
# -- images (proxy) ---------------------------------------------------------------------
class ImageNotFound(NotFound):
    msg_fmt = "Image not found."


class ImageNotFoundForBoot(BadRequest):
    msg_fmt = "Image {image_id} could not be found."


class ImageNotActive(BadRequest):
    msg_fmt = "Image {image_id} is not active."


class ImageMetadataItemNotFound(NotFound):
    msg_fmt = "Image {image_id} has no metadata item {key}."


class InvalidImageStatus(BadRequest):
    msg_fmt = "Invalid image status {value}."


class ImageServiceUnavailable(ServiceUnavailable):
    msg_fmt = "The image service is not running in this cloud."
