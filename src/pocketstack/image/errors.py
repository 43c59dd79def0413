"""The Image service's named errors, in Glance's wording.

Glance answers errors as webob does (``api/errors.glance_format`` renders them as HTML,
JSON or plain text): the message is all a client sees, so each class fixes it.  Logic
raises them with their fields (``errors.ImageNotFound(image_id=x)``); the generic
classes of :mod:`pocketstack.common.errors` are re-exported for the rare free-form case.
"""

from __future__ import annotations

from pocketstack.common.errors import (
    ApiError,
    BadRequest,
    Conflict,
    Forbidden,
    Gone,
    NotFound,
    RangeNotSatisfiable,
    RequestEntityTooLarge,
    Unauthorized,
    UnsupportedMediaType,
)

__all__ = ["ApiError", "BadRequest", "Conflict", "Forbidden", "Gone", "NotFound", "RangeNotSatisfiable",
           "RequestEntityTooLarge", "Unauthorized", "UnsupportedMediaType"]


# -- requests ------------------------------------------------------------------------------
class AuthenticationRequired(Unauthorized):
    msg_fmt = "The request you have made requires authentication."


class ResourceNotFound(NotFound):
    """A path that names no served document (``/v2/schemas/<unknown>``)."""

    msg_fmt = "The resource could not be found."


class NulInUrl(BadRequest):
    msg_fmt = "NUL characters are not allowed in the request URL."


class NulInText(BadRequest):
    msg_fmt = "NUL characters are not allowed."


class BodyNotObject(BadRequest):
    """A metadefs or tasks body that is not a JSON object."""

    msg_fmt = "Body expected in request: a JSON object."


class ImageBodyNotObject(BadRequest):
    msg_fmt = "Provided object does not match schema 'image': the body must be a JSON object."


class RequiredProperty(BadRequest):
    msg_fmt = "'{name}' is a required property"


class ReadOnlyAttribute(Forbidden):
    msg_fmt = "Attribute '{name}' is read-only."


class ReservedAttribute(Forbidden):
    msg_fmt = "Attribute '{name}' is reserved."


class PropertyNameTooLong(BadRequest):
    msg_fmt = "Custom property should not be greater than 255 characters."


class NegativeValue(BadRequest):
    msg_fmt = "Cannot set {name} to a negative value."


class ValueTooLarge(BadRequest):
    msg_fmt = "Value of {name} is too large: the maximum is {maximum}."


# -- listing queries ------------------------------------------------------------------------
class InvalidIntegerFilter(BadRequest):
    msg_fmt = "Invalid value for {name}: {value!r} is not an integer."


class IntegerFilterOutOfRange(BadRequest):
    msg_fmt = "Invalid value for {name}: {value!r} is out of range."


class InvalidTimeFilter(BadRequest):
    msg_fmt = "Unable to filter on {name}: {value!r} is not an ISO 8601 time."


class MixedSortSyntax(BadRequest):
    msg_fmt = "Old and new sorting syntax cannot be combined"


class SortDirsMismatch(BadRequest):
    msg_fmt = "Number of sort dirs does not match the number of sort keys"


class InvalidSortKey(BadRequest):
    msg_fmt = "Invalid sort key: {key}. It must be one of the following: {allowed}."


class InvalidSortDir(BadRequest):
    msg_fmt = "Invalid sort direction: {direction}"


class LimitNotPositive(BadRequest):
    msg_fmt = "limit param must be positive"


class ChangesSinceRemoved(BadRequest):
    msg_fmt = 'The "changes-since" filter is no longer available on v2.'


class InvalidFilterValue(BadRequest):
    """A ``visibility`` (images, namespaces) or ``type``/``status`` (tasks) filter value."""

    msg_fmt = "Invalid {name} value: {value}"


class InvalidMarker(BadRequest):
    msg_fmt = "Invalid marker. Image {marker} could not be found."


# -- images ---------------------------------------------------------------------------------
class ImageNotFound(NotFound):
    msg_fmt = "No image found with ID {image_id}"


class DuplicateImage(Conflict):
    msg_fmt = "Image with identifier {image_id} already exists!"


class ImageNotMutable(Forbidden):
    msg_fmt = "You are not permitted to modify this image."


class ImageProtected(Forbidden):
    msg_fmt = "Image {image_id} is protected and cannot be deleted."


class InvalidTag(BadRequest):
    msg_fmt = "Tags must be strings of at most 255 characters."


class TagNotFound(NotFound):
    msg_fmt = "Tag {tag} not found on image {image_id}."


class TooManyTags(RequestEntityTooLarge):
    msg_fmt = "Maximum number of tags exceeded: {count} > {limit}."


class TagLimitReached(RequestEntityTooLarge):
    """Adding one tag to an image that has the most it may have."""

    msg_fmt = "Maximum number of tags exceeded: {limit}."


class TooManyProperties(RequestEntityTooLarge):
    msg_fmt = "Maximum number of properties exceeded: {count} > {limit}."


class PropertyAlreadyPresent(Conflict):
    """A v2.0-dialect ``add`` of an attribute or property that exists."""

    msg_fmt = "Property {name} already present."


class PropertyMissing(Conflict):
    msg_fmt = "Property {name} does not exist."


class PropertyNotRemovable(Forbidden):
    msg_fmt = "Property {name} may not be removed."


class QueuedOnlyAttribute(Forbidden):
    msg_fmt = "Attribute {name} can be only replaced for a queued image."


class OwnerChangeForbidden(Forbidden):
    """Only admin changes the owner of an image or a metadefs namespace."""

    msg_fmt = "Owner can't be updated by non admin."


class InvalidImageTransition(Forbidden):
    """Deactivating or reactivating an image in a status that does not allow it."""

    msg_fmt = "Not allowed to {action} image in status '{image_status}'"


# -- JSON patch -----------------------------------------------------------------------------
class UnsupportedPatchType(UnsupportedMediaType):
    msg_fmt = "Unsupported Content-Type; use {v2_1} or {v2_0}."


class PatchNotArray(BadRequest):
    msg_fmt = "Request body must be a JSON array of operation objects."


class PatchOperationNotObject(BadRequest):
    msg_fmt = "Operations must be JSON objects."


class PatchMissingOp(BadRequest):
    msg_fmt = "Unable to find `op` in JSON Schema change. It must be one of the following: {allowed}."


class PatchInvalidOp(BadRequest):
    msg_fmt = "Invalid operation: `{op}`. It must be one of the following: {allowed}."


class PatchMissingPath(BadRequest):
    msg_fmt = "Unable to find 'path' in JSON Schema change"


class PatchAmbiguousOp(BadRequest):
    msg_fmt = 'Operation objects must contain exactly one member named "add", "remove", or "replace".'


class PatchMissingValue(BadRequest):
    msg_fmt = 'Operation "{op}" requires a member named "value".'


class PointerNotRooted(BadRequest):
    msg_fmt = 'Pointer `{pointer}` does not start with "/".'


class PointerAdjacentSlashes(BadRequest):
    msg_fmt = 'Pointer `{pointer}` contains adjacent "/".'


class PointerTrailingSlash(BadRequest):
    msg_fmt = 'Pointer `{pointer}` end with "/".'


class PointerBadEscape(BadRequest):
    msg_fmt = 'Pointer `{pointer}` contains "~" not part of a recognized escape sequence.'


class PointerNotAttribute(BadRequest):
    msg_fmt = "Invalid JSON pointer for this resource: '{pointer}'"


# -- image data -----------------------------------------------------------------------------
class ImageTooLarge(RequestEntityTooLarge):
    msg_fmt = "Image exceeds the storage quota: the size cap is {cap} bytes."


class UploadNotOctetStream(UnsupportedMediaType):
    msg_fmt = "Content type not supported: use application/octet-stream."


class UploadDisconnected(BadRequest):
    msg_fmt = "The client disconnected before the image data was complete."


class InvalidUploadTransition(Conflict):
    msg_fmt = "Image status transition from {image_status} to saving is not allowed"


class ImageDeletedDuringUpload(Gone):
    msg_fmt = ("Image {image_id} could not be found after upload. "
               "The image may have been deleted during the upload.")


class ImageDeactivated(Forbidden):
    msg_fmt = "The requested image has been deactivated. Image data download is forbidden."


class RangeUnsatisfiable(RangeNotSatisfiable):
    msg_fmt = "Requested range not satisfiable"


# -- members --------------------------------------------------------------------------------
class MemberNotFound(NotFound):
    msg_fmt = "Member {member_id} not found for image {image_id}."


class DuplicateMember(Conflict):
    msg_fmt = "Member {member_id} is duplicated for image {image_id}"


class MembersOnlyForShared(Forbidden):
    msg_fmt = "Only shared images have members."


class TooManyMembers(RequestEntityTooLarge):
    msg_fmt = "Maximum number of image members exceeded: {limit}."


class InvalidMemberStatus(BadRequest):
    msg_fmt = "Invalid status: {member_status}"


class MemberStatusForbidden(Forbidden):
    msg_fmt = "You are not permitted to modify 'status' on this image member."


class MemberNotSpecified(BadRequest):
    msg_fmt = "Member to be added not specified"


class InvalidMember(BadRequest):
    msg_fmt = "Member can't be empty and must be a string of at most 255 characters"


class MemberStatusNotSpecified(BadRequest):
    msg_fmt = "Status not specified"


# -- metadefs -------------------------------------------------------------------------------
class NamespaceNotFound(NotFound):
    msg_fmt = "Metadata definition namespace={namespace} was not found."


class DuplicateNamespace(Conflict):
    msg_fmt = "A metadata definition namespace with name={namespace} already exists."


class NamespaceNotMutable(Forbidden):
    msg_fmt = "You are not permitted to modify metadata definition namespace {namespace}."


class NamespaceOwnerForbidden(Forbidden):
    msg_fmt = "You are not permitted to create namespace owned by '{owner}'"


class NamespaceProtected(Forbidden):
    msg_fmt = "Metadata definition namespace {namespace} is protected and cannot be deleted."


class NamespaceDefinitionsProtected(Forbidden):
    msg_fmt = ("Metadata definition namespace {namespace} is protected: its definitions "
               "cannot be deleted all at once.")


class DefinitionNotFound(NotFound):
    msg_fmt = "The metadata definition {kind} with name={name} was not found in namespace={namespace}."


class DuplicateDefinition(Conflict):
    msg_fmt = "A metadata definition {kind} with name={name} already exists in namespace={namespace}."


class DuplicateTagsInRequest(Conflict):
    msg_fmt = "Duplicate tags in the request."


class TagNameTooLong(BadRequest):
    msg_fmt = "Tag names are at most {limit} characters long."


class InvalidResourceTypeName(BadRequest):
    msg_fmt = "Resource type names are strings of 1 to 80 characters."


class ResourceTypeRace(Conflict):
    msg_fmt = "Resource type {name} is being created concurrently; retry."


class AssociationNotFound(NotFound):
    msg_fmt = ("The metadata definition resource-type association of resource-type={resource_type} "
               "to namespace={namespace}, was not found.")


class DuplicateAssociation(Conflict):
    msg_fmt = ("The metadata definition resource-type association of resource-type={resource_type} to "
               "namespace={namespace}, already exists.")


# -- tasks ----------------------------------------------------------------------------------
class TaskNotFound(NotFound):
    msg_fmt = "Task with the given ID {task_id} not found"


class UnsupportedTaskType(BadRequest):
    msg_fmt = "Task type {task_type} is not supported via the API: use one of {allowed}."


class TaskInputNotObject(BadRequest):
    msg_fmt = "Task input must be a JSON object."


class TaskInputMissing(BadRequest):
    msg_fmt = "Input does not contain '{name}' field"


class TaskPropertiesNotObject(BadRequest):
    msg_fmt = "Task input 'image_properties' must be a JSON object."


class TaskSourceNotHttp(BadRequest):
    msg_fmt = "The import_from location must be an http or https URL."


# -- interoperable image import, discovery, cache -------------------------------------------
class InvalidStageTransition(Conflict):
    msg_fmt = "Image status transition from {image_status} to uploading is not allowed"


class ImportMethodMissing(BadRequest):
    msg_fmt = "Import request requires a 'method' field."


class ImportNameMissing(BadRequest):
    msg_fmt = "Import request requires a 'name' field."


class UnknownImportMethod(BadRequest):
    msg_fmt = "Unknown import method name '{name}'."


class ImportFlagNotBoolean(BadRequest):
    msg_fmt = "'{name}' must be boolean value only"


class AllStoresMustSucceedSingleStore(BadRequest):
    msg_fmt = "All_stores_must_succeed can only be set with enabled_backends {uri}"


class ImportTooManyRedirects(BadRequest):
    msg_fmt = "Too many redirects fetching {uri}."


class ImportUriFiltered(BadRequest):
    msg_fmt = "URI for web-download does not pass filtering: {uri}"


class ImportActiveImage(Conflict):
    msg_fmt = "Image with status active cannot be target for import"


class ImportNeedsQueued(Conflict):
    msg_fmt = "Image needs to be in 'queued' state to use '{method}' method"


class ImportNeedsStaging(Conflict):
    msg_fmt = "Image needs to be staged before 'glance-direct' method can be used"


class ImportNeedsFormat(Conflict):
    msg_fmt = "'{name}' needs to be set before import"


class ImageDeletedDuringImport(Gone):
    msg_fmt = "Image has been deleted, aborting import."


class MultiStoreDisabled(NotFound):
    msg_fmt = "Multi backend is not supported at this site."


class CacheDisabled(NotFound):
    msg_fmt = "Caching via API is not supported at this site."


class CachedImageNotFound(NotFound):
    msg_fmt = "Image {image_id} not found."


# -- multiple stores (image/stores/catalog.py) -------------------------------------------------
class UnknownStore(BadRequest):
    """glance_store's UnknownScheme: an upload's ``X-Image-Meta-Store`` names no store."""

    msg_fmt = "Unknown scheme '{store}' found in URI"


class UnknownImportStore(Conflict):
    """An import's ``stores`` names no store (Glance answers UnknownScheme with 409 there)."""

    msg_fmt = "Unknown scheme '{store}' found in URI"


class AllStoresWithStores(BadRequest):
    msg_fmt = "All_stores parameter can't be used with x-image-meta-store header or stores parameter"


class StoresWithHeader(BadRequest):
    msg_fmt = "Stores parameter and x-image-meta-store header can't be both specified"


class StoresNotList(BadRequest):
    msg_fmt = "'stores' must be a list of store identifiers"


class CopyNeedsActive(Conflict):
    msg_fmt = "Only images with status active can be targeted for copying"


class ImageHasActiveTask(Conflict):
    msg_fmt = "Image has active task"


class AlreadyInStore(BadRequest):
    msg_fmt = "Image is already present at store '{store}'"


class StoreNotOnNode(Conflict):
    msg_fmt = "The selected store {store} is not available on this node."


class DeleteFromStoreNotActive(Conflict):
    msg_fmt = "It's not allowed to remove image data from store if image status is not 'active'"


class DeleteLastStore(Forbidden):
    msg_fmt = "Cannot delete image data from the only store containing it. Consider deleting the image instead."


class ImageNotInStore(NotFound):
    msg_fmt = "Image {image_id} is not stored in store {store}."


class ImportFailedEverywhere(BadRequest):
    msg_fmt = "The import failed in every store: {stores}"


# -- glance-download (image/glance_download.py) ------------------------------------------------
class GlanceDownloadParamMissing(BadRequest):
    msg_fmt = "'{name}' needs to be set for glance-download import method"


class GlanceDownloadBadImageId(BadRequest):
    msg_fmt = "Remote image id does not look like a UUID: {image_id}"


class GlanceEndpointNotFound(NotFound):
    msg_fmt = "{interface} glance endpoint not found for region {region}"


class GlanceDownloadUriFiltered(BadRequest):
    msg_fmt = "Processed URI for glance-download does not pass filtering: {uri}"


class GlanceDownloadNotActive(Conflict):
    msg_fmt = "Source image status should be active instead of {status}"


class GlanceDownloadNoSize(Conflict):
    msg_fmt = "Size attribute of remote image {image_id} could not be determined."


class GlanceDownloadSizeMismatch(Conflict):
    msg_fmt = "Task {task_id} failed because downloaded data size {data_size} is different from expected {expected}"
