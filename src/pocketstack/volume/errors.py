"""The Block Storage service's named errors, in Cinder's wording (its ``cinder/exception.py``
messages, as the API shows them in the Nova/Cinder fault format).

Each class carries the HTTP status it maps to and a ``msg_fmt`` whose fields the raiser
passes: ``raise errors.VolumeNotFound(volume_id=volume_id)`` (never a field named
``status``: that keyword is the HTTP status of :class:`ApiError`).
"""

from __future__ import annotations

from pocketstack.common.errors import ApiError, BadRequest, Conflict, NotFound, NotImplementedYet

__all__ = ["ApiError", "BadRequest", "Conflict", "NotFound"]


# -- not found ------------------------------------------------------------------------------
class VolumeNotFound(NotFound):
    msg_fmt = "Volume {volume_id} could not be found."


class ServiceNotFound(NotFound):
    msg_fmt = "Service {binary} could not be found on host {host}."


class SnapshotNotFound(NotFound):
    msg_fmt = "Snapshot {snapshot_id} could not be found."


class NovaImageSnapshotNotFound(NotFound):
    msg_fmt = "Nova specific image is found, but boot volume snapshot id:{snapshot_id} not found."


class ProjectNotFound(NotFound):
    msg_fmt = "Project with id {project_id} not found."


class DefaultTypeNotFound(NotFound):
    msg_fmt = "Default type for project {project_id} not found."


class ActionNotAtVersion(NotFound):
    msg_fmt = "The resource could not be found."


class BackupNotFound(NotFound):
    msg_fmt = "Backup {backup_id} could not be found."


class AttachmentNotFound(NotFound):
    msg_fmt = "Attachment {attachment_id} could not be found."


class TransferNotFound(NotFound):
    msg_fmt = "Transfer {transfer_id} could not be found."


class VolumeTypeNotFound(NotFound):
    msg_fmt = "Volume type {volume_type_id} could not be found."


class VolumeTypeNotFoundByName(NotFound):
    msg_fmt = "Volume type with name {volume_type_name} could not be found."


class VolumeTypeExtraSpecsNotFound(NotFound):
    msg_fmt = "Volume Type {volume_type_id} has no extra specs with key {extra_specs_key}."


class QoSSpecsNotFound(NotFound):
    msg_fmt = "QoS Specs {specs_id} could not be found."


class QoSSpecsKeyNotFound(NotFound):
    msg_fmt = "QoS spec {specs_key} not found for {specs_id}."


class MarkerNotFound(NotFound):
    msg_fmt = "Marker {marker} could not be found."


class ImageNotFound(NotFound):
    msg_fmt = "Image {image_id} could not be found."


class VolumeMetadataNotFound(NotFound):
    msg_fmt = "Metadata key {metadata_key} for volume {volume_id} could not be found."


class GlanceMetadataNotFound(NotFound):
    msg_fmt = "Glance metadata for volume {volume_id} with key {key} could not be found."


class SnapshotMetadataNotFound(NotFound):
    # Cinder's snapshot metadata controller answers with its own short message.
    msg_fmt = "Metadata item was not found"


class MessageNotFound(NotFound):
    msg_fmt = "Message {message_id} could not be found."


class GroupTypeNotFound(NotFound):
    msg_fmt = "Group type {group_type_id} could not be found."


class GroupTypeNotFoundByName(NotFound):
    msg_fmt = "Group type with name {group_type_name} could not be found."


class DefaultGroupTypeNotFound(NotFound):
    msg_fmt = "Default group type can not be found."


class GroupTypeSpecsNotFound(NotFound):
    msg_fmt = "Group Type {group_type_id} has no specs with key {group_specs_key}."


class GroupTypeSpecNotFound(NotFound):
    # What Cinder's group specs controller answers for a show of a missing key.
    msg_fmt = "Group Type {group_type_id} has no extra spec with key {key}."


class GroupNotFound(NotFound):
    msg_fmt = "Group {group_id} could not be found."


class GroupSnapshotNotFound(NotFound):
    msg_fmt = "GroupSnapshot {group_snapshot_id} could not be found."


class VolumeTypeEncryptionNotFound(NotFound):
    msg_fmt = "Volume type encryption for type {type_id} does not exist."


class HostNotFound(NotFound):
    msg_fmt = "Host {host} could not be found."


# -- bad requests -----------------------------------------------------------------------------
class InvalidInput(BadRequest):
    msg_fmt = "Invalid input received: {reason}"


class BackupRecordUnparsable(InvalidInput):
    """An imported backup record that is not base64 of a backup's JSON object."""

    msg_fmt = "Invalid input received: Can't parse backup record."


class ServiceHostMissing(InvalidInput):
    msg_fmt = "Invalid input received: Host field is missing."


class InvalidFilters(BadRequest):
    msg_fmt = "Invalid filters {names} are found in query options."


class InvalidTimeOperator(BadRequest):
    msg_fmt = "Invalid {operator} operator"


class InvalidTimeValue(BadRequest):
    msg_fmt = "Invalid {value} value"


class DefaultTypeDeletion(BadRequest):
    msg_fmt = "The volume type {volume_type_id} is a default volume type and cannot be deleted."


class SnapshotForceFlag(BadRequest):
    msg_fmt = ("Since microversion 3.66 the 'force' flag is invalid for this request.  For backward "
               "compatability, however, when the 'force' flag is passed with a value evaluating to True, it "
               "is silently ignored.")


class InvalidAvailabilityZone(BadRequest):
    msg_fmt = "Availability zone '{zone}' is invalid."


class InvalidTypeAvailabilityZones(BadRequest):
    msg_fmt = "Volume type is only supported in these availability zones: {zones}"


class InvalidVolume(BadRequest):
    msg_fmt = "Invalid volume: {reason}"


class InvalidHost(BadRequest):
    """A migration to a host no cinder-volume service serves."""
    msg_fmt = "Invalid host: {reason}"


class ManageExistingInvalidReference(BadRequest):
    """A manage request's reference that names nothing the backend may adopt."""
    msg_fmt = "Manage existing volume failed due to invalid backend reference {existing_ref}: {reason}"


class InvalidSnapshot(BadRequest):
    msg_fmt = "Invalid snapshot: {reason}"


class InvalidBackup(BadRequest):
    msg_fmt = "Invalid backup: {reason}"


class SnapshotStatusNotReportable(BadRequest):
    """``os-update_snapshot_status`` on a snapshot no driver is creating or deleting."""

    msg_fmt = "Snapshot status {current} not allowed for update_snapshot_status"


class SnapshotStatusNotAllowed(BadRequest):
    msg_fmt = "Provided snapshot status {requested} not allowed for snapshot with status {current}."


class InvalidVolumeStatus(InvalidVolume):
    """A volume in the wrong status for ``action`` (Cinder's ``InvalidVolume`` with the
    expected and current statuses)."""

    msg_fmt = ("Invalid volume: Volume {volume_id} status must be {allowed} to {action}, "
               "but current status is: {current}.")


class InvalidTransition(InvalidVolume):
    """A transition the state machine does not allow, e.g. after an admin's reset-status
    left the volume somewhere an in-flight request did not expect: a 400, never a 500."""

    msg_fmt = "Invalid volume: Volume {volume_id} cannot change from status {expected} to {target}."


class VolumeNotDeletable(InvalidVolume):
    msg_fmt = ("Invalid volume: Volume status must be available or error or error_restoring or error_extending "
               "or error_managing and must not be migrating, attached, belong to a group, have snapshots or "
               "be disassociated from snapshots after volume transfer.")


class InvalidImageRef(BadRequest):
    msg_fmt = "Invalid image identifier or unable to access requested image {image_id}: its status is {image_status}."


class NotAttached(InvalidVolume):
    msg_fmt = "Invalid volume: Volume {volume_id} status must be in-use to detach, but current status is: {current}."


class MalformedAction(BadRequest):
    msg_fmt = "Malformed request body: exactly one action is expected."


class NoSuchAction(BadRequest):
    msg_fmt = "There is no such action: {action}"


class BodyUriMismatch(BadRequest):
    msg_fmt = "Request body and URI mismatch"


class InvalidAuthKey(BadRequest):
    msg_fmt = "Invalid auth key: Attempt to transfer {transfer_id} with invalid auth key."


class QoSSpecsInUse(BadRequest):
    msg_fmt = "QoS Specs {specs_id} is still associated with entities."


class InvalidGroup(BadRequest):
    msg_fmt = "Invalid Group: {reason}"


class InvalidGroupSnapshot(BadRequest):
    msg_fmt = "Invalid GroupSnapshot: {reason}"


class InvalidGroupStatus(BadRequest):
    msg_fmt = "Invalid Group Status: {reason}"


class GroupStatusEmpty(InvalidGroupStatus):
    msg_fmt = "Invalid Group Status: The 'status' can not be empty."


class InvalidGroupSnapshotStatus(BadRequest):
    msg_fmt = "Invalid GroupSnapshot Status: {reason}"


class GroupSnapshotStatusEmpty(InvalidGroupSnapshotStatus):
    msg_fmt = "Invalid GroupSnapshot Status: The 'status' can not be empty."


class VolumeTypeEncryptionExists(BadRequest):
    msg_fmt = "Volume type encryption for type {type_id} already exists."


class EncryptedTypeInUse(BadRequest):
    msg_fmt = "Cannot {action} encryption specs. Volume type in use."


class NoKeyManager(BadRequest):
    """A volume of an encrypted type needs a key from a key manager (Barbican), which this
    cloud does not run."""

    msg_fmt = ("Invalid input received: Volume type {type_name} is encrypted, but this cloud has no key manager "
               "to create encryption keys.")


class GroupTypeInUse(BadRequest):
    msg_fmt = "Target group type is still in use."


class GroupTypeUpdateEmpty(BadRequest):
    msg_fmt = "Specify group type name, description or a combination thereof."


class GroupTypeNameEmpty(BadRequest):
    msg_fmt = "Group type name can not be empty."


# -- conflicts --------------------------------------------------------------------------------
class QoSSpecsExists(Conflict):
    msg_fmt = "QoS Specs {specs_id} already exists."


class VolumeTypeExists(Conflict):
    msg_fmt = "Volume Type {name} already exists."


class GroupTypeExists(Conflict):
    msg_fmt = "Group Type {id} already exists."


class VolumeTypeAccessExists(Conflict):
    msg_fmt = "Volume type access for {volume_type_id} / {project_id} combination already exists."


# -- volume types -------------------------------------------------------------------------------
class VolumeTypeAccessNotFound(NotFound):
    msg_fmt = "Volume type access not found for {volume_type_id} / {project_id} combination."


class PublicVolumeTypeAccess(NotFound):
    msg_fmt = "Volume type {volume_type_id} is public: it has no access list."


class InvalidVolumeType(BadRequest):
    msg_fmt = "Invalid volume type: {reason}"


class DefaultVolumeTypeDeletion(BadRequest):
    msg_fmt = "Default volume type can not be deleted."


class VolumeTypeInUse(BadRequest):
    msg_fmt = ("Target volume type is still in use. Volume Type {volume_type_id} deletion is not allowed with "
               "volumes present with the type.")


class SnapshotMetadataKeyNotFound(NotFound):
    msg_fmt = "Metadata key {metadata_key} for snapshot {snapshot_id} could not be found."


# -- QoS specs ----------------------------------------------------------------------------------
class QoSSpecsAssociated(BadRequest):
    msg_fmt = "Type {type_id} is already associated with another qos specs: {specs_id}"


class QoSSpecsAssociatedMeanwhile(BadRequest):
    msg_fmt = "Type {type_id} is already associated with another qos specs."


# -- quotas -------------------------------------------------------------------------------------
class OverQuota(ApiError):
    """Cinder's 413 quota refusals (``overLimit`` in the fault format)."""

    status = 413


class VolumeSizeExceedsLimit(OverQuota):
    msg_fmt = "VolumeSizeExceedsLimit: Requested volume size {size}G is larger than maximum allowed limit {limit}G."


class VolumeSizeExceedsAvailableQuota(OverQuota):
    msg_fmt = ("VolumeSizeExceedsAvailableQuota: Requested {resource} of {requested} exceeds the quota: "
               "{in_use} of {limit} in use.")


class QuotaExceeded(OverQuota):
    msg_fmt = "Maximum number of {resource} allowed ({limit}) exceeded"


# -- request parameters ---------------------------------------------------------------------------
class InvalidIsPublicFilter(BadRequest):
    msg_fmt = "Invalid is_public filter [{value}]"


class VolumeTypeUpdateEmpty(BadRequest):
    msg_fmt = "Specify volume type name, description, is_public or a combination thereof."


class MissingVolumeTypeId(BadRequest):
    msg_fmt = "Required parameter vol_type_id is missing."


class QuotaBelowUsage(BadRequest):
    msg_fmt = ("Quota {resource} limit must be equal or greater than existing resources. Current usage is {in_use} "
               "and the requested limit is {limit}.")


# -- body validation (volume/api/validation.py, Cinder's wording of a schema's refusal) -------------
class ValidationError(BadRequest):
    """The first error the schema found, for a field of the body."""

    msg_fmt = "Invalid input for field/attribute {field}. Value: {value}. {reason}"


class InvalidBody(BadRequest):
    """The first error the schema found, for the body itself: the bare reason."""

    msg_fmt = "{reason}"


class InvalidStatus(BadRequest):
    """A status ``os-reset_status`` does not know (Cinder's format checkers' words)."""

    msg_fmt = "{what} status: {value} is invalid, valid statuses are: {valid}."


class ResetStatusEmpty(BadRequest):
    msg_fmt = "Must specify 'status', 'attach_status' or 'migration_status' for update."


class NotAnInteger(BadRequest):
    msg_fmt = "{name} must be an integer"


class IntegerTooSmall(BadRequest):
    msg_fmt = "{name} must be >= {minimum}"


class IntegerTooLarge(BadRequest):
    msg_fmt = "{name} must be <= {maximum}"


# -- not implemented -----------------------------------------------------------------------
class ServiceStateNotKept(NotImplementedYet):
    msg_fmt = ("The {action} of a block-storage service is not implemented: this cloud keeps no "
               "service state (disabled, frozen) yet.")


class ReimageMultiattached(Conflict):
    msg_fmt = "Cannot re-image a volume which is attached to more than one server."


class ConflictNovaUsingAttachment(Conflict):
    msg_fmt = "Detach volume from instance {instance_id} using the Compute API"

