"""Compute's named errors, with Nova's wording (``nova/exception.py``).  Nova's fault
body (``{"badRequest": {"message": ..., "code": 400}}``) carries no machine-readable code,
so the class only picks the status and the message."""

from __future__ import annotations

from pocketstack.common.errors import BadRequest, Conflict, Forbidden, NotFound, ServiceUnavailable


# == servers and their sub-resources (api/servers.py, actions.py, server_details.py, ...) ==
# -- not found --------------------------------------------------------------------------
class InstanceNotFound(NotFound):
    msg_fmt = "Instance {instance_id} could not be found."


class MetadataItemNotFound(NotFound):
    msg_fmt = "Metadata item was not found"


class MetadataKeyNotFound(NotFound):
    msg_fmt = "Metadata item was not found: {key}"


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


class InstanceNotReady(Conflict):
    msg_fmt = "Instance {instance_id} is not ready: it is in vm_state {vm_state}"


class PortInUse(Conflict):
    msg_fmt = "Port {port_id} is still in use."


# -- refused ------------------------------------------------------------------------------
class SortKeyForbidden(Forbidden):
    msg_fmt = "Only administrators can sort servers by {key}"


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


class InvalidBlockDeviceMapping(BadRequest):
    """Nova's ``InvalidBDM*`` family: one prefix, the reason after it."""

    msg_fmt = "Block Device Mapping is Invalid: {reason}"


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


# -- bad requests: listing ------------------------------------------------------------------
class InvalidStatusFilter(BadRequest):
    msg_fmt = "Invalid status value {value}"


class InvalidFilterTime(BadRequest):
    msg_fmt = "Invalid filter field: {name}. Value: {value}."


class InvalidIpFilter(BadRequest):
    msg_fmt = "Invalid ip{suffix} filter regex {pattern!r}."


class InvalidNameFilter(BadRequest):
    msg_fmt = "Invalid name filter regex {pattern!r}."


class MarkerNotFound(BadRequest):
    msg_fmt = "marker [{marker}] not found"


class InvalidSortKey(BadRequest):
    msg_fmt = "Invalid sort key {key}"


class InvalidSortDirection(BadRequest):
    msg_fmt = "Invalid sort direction {direction}"


class InvalidQueryInteger(BadRequest):
    msg_fmt = "Invalid input for query parameters {name}. Value: {value}. '{value}' is not an integer"


class QueryIntegerTooSmall(BadRequest):
    msg_fmt = ("Invalid input for query parameters {name}. Value: {value}. "
               "{value} is less than the minimum of {minimum}")


# -- bad requests: actions and sub-resources ------------------------------------------------
class NoSuchAction(BadRequest):
    msg_fmt = "There is no such action: {action}"


class ActionBodyMalformed(BadRequest):
    msg_fmt = "There is no such action: the body must hold exactly one action."


class MoveNotSupported(BadRequest):
    msg_fmt = "'{action}' is not supported: the fake hypervisor cannot move guests between hosts."


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


class NetworkServiceUnavailable(BadRequest):
    msg_fmt = "The network service is not available."


class VolumeServiceUnavailable(BadRequest):
    msg_fmt = "The block storage service is not available."


class InterfaceNetAndPort(BadRequest):
    msg_fmt = "Must not input both network_id and port_id"


class InterfaceFixedIpWithoutNet(BadRequest):
    msg_fmt = "Must input network_id when request IP address"


class InterfaceTargetMissing(BadRequest):
    msg_fmt = "A net_id or a port_id is required."


class VolumeAlreadyAttached(BadRequest):
    msg_fmt = "Invalid volume: volume {volume_id} is already attached to this server."


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
