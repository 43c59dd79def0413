"""Object storage's named errors, in Swift's wording.

Swift answers errors with a short plain-text body (``api/responses.swift_format``):
the message is all a client sees, so each class fixes it.  The statuses Swift uses
that the common errors lack (304, 411, 412, 422) are defined here too.
"""

from __future__ import annotations

from pocketstack.common.errors import (
    ApiError,
    BadRequest,
    Conflict,
    Forbidden,
    MethodNotAllowed,
    NotAcceptable,
    NotFound,
    RangeNotSatisfiable,
    RequestEntityTooLarge,
    ServiceUnavailable,
    Unauthorized,
)

DENIED = "Unauthorized. This server could not verify that you are authorized to access the document you requested."


# -- statuses of Swift's own ----------------------------------------------------------------
class NotModified(ApiError):
    """A conditional GET or HEAD whose condition says the client's copy is current."""

    status = 304


class LengthRequired(ApiError):
    status = 411
    msg_fmt = "Length Required"


class PreconditionFailed(ApiError):
    """A condition (If-Match, If-None-Match, a versions archive that must exist) failed."""

    status = 412
    msg_fmt = "Precondition Failed"


class Unprocessable(ApiError):
    status = 422
    msg_fmt = "Unprocessable Entity"


# -- not found, refused -----------------------------------------------------------------------
class ResourceNotFound(NotFound):
    """No such account, container or object (or an expired one)."""

    msg_fmt = "The resource could not be found."


class AccessDenied(Unauthorized):
    """No identity that may do this: no token, or a TempURL that does not cover it."""

    msg_fmt = DENIED


class TempUrlInvalid(Unauthorized):
    """A TempURL whose expiry or signature cannot be read, or that has expired."""

    msg_fmt = DENIED + "\n\n{reason}"


class AccessForbidden(Forbidden):
    """A token whose project, roles and the container's ACLs do not allow this."""

    msg_fmt = "Forbidden. Access was denied to this resource."


class NotAllowedOnAccount(MethodNotAllowed):
    """An account PUT without ``?extract-archive``, a DELETE without ``?bulk-delete``."""

    msg_fmt = "Method Not Allowed"


# -- names ------------------------------------------------------------------------------------
class InvalidAccountName(BadRequest):
    msg_fmt = "Invalid account name"


class NameTooLong(BadRequest):
    msg_fmt = "{kind} name length of {length} longer than {limit}"


class NameContainsNul(BadRequest):
    msg_fmt = "{kind} name contains a NUL byte"


class InvalidPath(PreconditionFailed):
    """A request path that is not UTF-8 once unquoted, or holds a NUL."""

    msg_fmt = "Invalid UTF8 or contains NULL"


# -- metadata and headers ---------------------------------------------------------------------
class HeaderTooLong(BadRequest):
    msg_fmt = "Header value too long: {name}"


class EmptyMetadataName(BadRequest):
    msg_fmt = "Metadata name cannot be empty"


class MetadataNotUtf8(BadRequest):
    msg_fmt = "Metadata must be valid UTF-8"


class MetadataNameTooLong(BadRequest):
    msg_fmt = "Metadata name too long: {name}; max {limit}"


class MetadataValueTooLong(BadRequest):
    msg_fmt = "Metadata value longer than {limit}: {name}"


class TooManyMetadataItems(BadRequest):
    msg_fmt = "Too many metadata items; max {limit}"


class MetadataTooLarge(BadRequest):
    msg_fmt = "Total metadata too large; max {limit}"


class InvalidContentType(BadRequest):
    msg_fmt = "Invalid Content-Type"


class InvalidContentLength(BadRequest):
    msg_fmt = "Invalid Content-Length"


class NonIntegerHeader(BadRequest):
    msg_fmt = "Non-integer {header}"


class DeleteAfterInPast(BadRequest):
    msg_fmt = "X-Delete-After in past"


class DeleteAtInPast(BadRequest):
    msg_fmt = "X-Delete-At in past"


class InvalidManifestHeader(BadRequest):
    msg_fmt = "X-Object-Manifest must be in the format container/prefix"


class InvalidCopyFrom(PreconditionFailed):
    msg_fmt = "X-Copy-From header must be of the form <container name>/<object name>"


class InvalidDestination(PreconditionFailed):
    msg_fmt = "Destination header must be of the form <container name>/<object name>"


class IfNoneMatchNotStar(BadRequest):
    msg_fmt = "If-None-Match only supports *"


class HeaderNotAllowedInTempUrl(BadRequest):
    """A signed write carrying a header that would point at data the signature does not cover."""

    msg_fmt = "The header {name!r} is not allowed in this tempurl"


# -- uploads ----------------------------------------------------------------------------------
class IncompleteBody(BadRequest):
    """Fewer (or more) bytes arrived than the Content-Length announced."""

    msg_fmt = "Client disconnected before sending the whole body (499)"


class ObjectTooLarge(RequestEntityTooLarge):
    msg_fmt = "Your request is too large."


class EtagMismatch(Unprocessable):
    """The body's MD5 (or the SLO's etag) is not the ``ETag`` the client sent."""


class UnsatisfiableRange(RangeNotSatisfiable):
    msg_fmt = "Requested Range Not Satisfiable"


# -- ACLs and versioning ----------------------------------------------------------------------
class UnknownAclElement(BadRequest):
    msg_fmt = "Unknown ACL element {item!r}"


class InvalidAclElement(BadRequest):
    msg_fmt = "Invalid ACL element {item!r}: expected project:user"


class TwoVersioningModes(BadRequest):
    msg_fmt = "Only one of X-Versions-Location or X-History-Location may be specified"


class SlashInContainerName(PreconditionFailed):
    msg_fmt = "Container name cannot contain slashes"


# -- listings ---------------------------------------------------------------------------------
class InvalidLimit(BadRequest):
    msg_fmt = "Invalid limit: {value!r}"


class LimitTooHigh(PreconditionFailed):
    msg_fmt = "Maximum limit is {limit}"


class BadDelimiter(PreconditionFailed):
    msg_fmt = "Bad delimiter"


class ListingNotAcceptable(NotAcceptable):
    msg_fmt = "Not Acceptable"


# -- large objects ----------------------------------------------------------------------------
class ManifestTooLarge(RequestEntityTooLarge):
    msg_fmt = "Manifest File > {limit} bytes"


class ManifestNotJson(BadRequest):
    msg_fmt = "Manifest must be valid JSON.\n"


class ManifestNotList(BadRequest):
    msg_fmt = "Manifest must be a list of segments.\n"


class TooManySegments(BadRequest):
    msg_fmt = "Too many segments; max {limit}\n"


class InvalidManifest(BadRequest):
    """Segments of an SLO upload that are missing, refused or do not match, one a line."""

    msg_fmt = "Errors:\n{problems}"


class MissingSegment(Conflict):
    msg_fmt = "Missing segment {name}"


# -- bulk operations --------------------------------------------------------------------------
class BulkBodyNotUtf8(BadRequest):
    msg_fmt = "Invalid UTF-8 in bulk delete body"


class TooManyDeletes(BadRequest):
    msg_fmt = "Maximum Bulk Deletes: {limit} per request"


class InvalidBulkPath(BadRequest):
    msg_fmt = "Invalid path"


class UnsupportedArchive(BadRequest):
    msg_fmt = "Unsupported archive format"


class InvalidTarFile(BadRequest):
    msg_fmt = "Invalid Tar File: {reason}"


class NoContainerInPath(BadRequest):
    msg_fmt = "Invalid path: no container"


class TooManyContainers(BadRequest):
    msg_fmt = "More than {limit} containers to create from tar."


# -- the store --------------------------------------------------------------------------------
class ContainerNotEmpty(Conflict):
    msg_fmt = "There was a conflict when trying to complete your request."


class QuorumNotReached(ServiceUnavailable):
    """Fewer replicas than a majority could be written (or are reachable)."""

    msg_fmt = "Service Unavailable"


# -- the cluster's admin reports ------------------------------------------------------------------
class NoSuchRing(NotFound):
    msg_fmt = "There is no {kind!r} ring: the rings are account, container and object."


class RingUnreadable(ServiceUnavailable):
    """The ring's builder (what the report is read from) is missing or damaged."""

    msg_fmt = "The {kind} ring's builder cannot be read: {reason}"


class BadSample(BadRequest):
    msg_fmt = "sample must be a whole number from 1 to {limit}"


# -- quotas (Swift's container_quotas and account_quotas middlewares) -------------------------
class QuotaExceeded(RequestEntityTooLarge):
    """An object PUT or COPY that would take its container or account over a quota."""

    msg_fmt = "Upload exceeds quota."


class PolicyQuotaExceeded(RequestEntityTooLarge):
    msg_fmt = "Upload exceeds policy quota."


class InvalidBytesQuota(BadRequest):
    msg_fmt = "Invalid bytes quota."


class InvalidCountQuota(BadRequest):
    msg_fmt = "Invalid count quota."


class InvalidAccountQuota(BadRequest):
    """A reseller's account quota that is not a number: swob's default 400 body."""

    msg_fmt = ("<html><h1>Bad Request</h1><p>The server could not comply with the request since it is either "
               "malformed or otherwise incorrect.</p></html>")


class QuotaNotSettable(Forbidden):
    """An account quota set or removed by anyone but a reseller admin: swob's default 403 body."""

    msg_fmt = "<html><h1>Forbidden</h1><p>Access was denied to this resource.</p></html>"


class SyncedOlder(Conflict):
    """A container syncer's write older than the object it would replace: the newer stays."""

    msg_fmt = "There was a conflict when trying to complete your request."


# -- symlinks (api/symlinks.py) ------------------------------------------------------------
class InvalidTarget(PreconditionFailed):
    msg_fmt = "X-Symlink-Target header must be of the form <container name>/<object name>"


class SelfTarget(BadRequest):
    msg_fmt = "Symlink cannot target itself"


class BadTargetEtag(BadRequest):
    msg_fmt = "Bad X-Symlink-Target-Etag format"


class BadTargetAccount(PreconditionFailed):
    msg_fmt = "Account name cannot contain slashes"


class BodyNotEmpty(BadRequest):
    msg_fmt = "Symlink requests require a zero byte body"


class PostTarget(BadRequest):
    msg_fmt = "A PUT request is required to set a symlink target"


class TooManyLinks(Conflict):
    msg_fmt = "Too many levels of symbolic links, maximum allowed is {limit}"


class TargetMissing(Conflict):
    msg_fmt = "X-Symlink-Target does not exist"


class TargetEtagMismatch(Conflict):
    msg_fmt = "Object Etag {found!r} does not match X-Symlink-Target-Etag header {wanted!r}"
