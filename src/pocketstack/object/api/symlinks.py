"""Swift's symlink middleware: objects that point at other objects.

A PUT with ``X-Symlink-Target: <container>/<object>`` (and optionally
``X-Symlink-Target-Account``) stores a zero-byte object whose system metadata names
the target; a GET or HEAD of it answers the target's, followed as the caller (its
ACLs and ownership checked on the target's account and container, as Swift checks its
subrequest) up to :data:`SYMLOOP_MAX` links deep.  ``X-Symlink-Target-Etag`` makes a
*static* link: the target must exist with that etag when the link is made and still
have it when the link is read (409 otherwise).  ``?symlink=get`` reads the link
itself.  The container lists a symlink with ``symlink_path`` (and a static one's
``symlink_etag``/``symlink_bytes``): like Swift, the target rides in the listed
etag's parameters (a symlink's etag is always that of an empty body) and the listing
takes them back out.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from urllib.parse import quote, unquote

from starlette.responses import Response

from pocketstack.object import errors
from pocketstack.object.diskfile import ObjectState

# How many links a GET or HEAD follows before 409 (Swift's default symloop_max).
SYMLOOP_MAX = 2
EMPTY_ETAG = "d41d8cd98f00b204e9800998ecf8427e"
CONTENT_TYPE = "application/symlink"
# The client's headers and the system metadata each is kept as with the object.
HEADERS = {
    "x-symlink-target": "X-Object-Sysmeta-Symlink-Target",
    "x-symlink-target-account": "X-Object-Sysmeta-Symlink-Target-Account",
    "x-symlink-target-etag": "X-Object-Sysmeta-Symlink-Target-Etag",
    "x-symlink-target-bytes": "X-Object-Sysmeta-Symlink-Target-Bytes",
}
SYSMETA = tuple(HEADERS.values())
TARGET, TARGET_ACCOUNT, TARGET_ETAG, TARGET_BYTES = SYSMETA
# Their names in the listed etag's parameters (Swift's).
_LISTED = {TARGET: "symlink_target", TARGET_ACCOUNT: "symlink_target_account",
           TARGET_ETAG: "symlink_target_etag", TARGET_BYTES: "symlink_target_bytes"}


@dataclass(frozen=True)
class Link:
    """What a symlink PUT asks for, validated."""

    account: str
    container: str
    obj: str
    etag: str | None

    @property
    def path(self) -> str:
        return f"/v1/{self.account}/{self.container}/{self.obj}"


def requested(headers: Mapping[str, str]) -> bool:
    return "x-symlink-target" in headers


def parse(headers: Mapping[str, str], here: tuple[str, str, str]) -> Link:
    """The link a PUT to ``here`` (account, container, object) asks for; Swift's 412 or
    400 when its headers cannot name an object."""
    raw = unquote(headers["x-symlink-target"])
    container, _, obj = raw.partition("/")
    if raw.startswith("/") or not container or not obj:
        raise errors.InvalidTarget()
    account = here[0]
    if "x-symlink-target-account" in headers:
        account = unquote(headers["x-symlink-target-account"])
        if not account or "/" in account:
            raise errors.BadTargetAccount()
    if (account, container, obj) == here:
        raise errors.SelfTarget()
    etag = headers.get("x-symlink-target-etag", "").strip().strip('"') or None
    if etag and any(c in etag for c in ';"\\'):
        raise errors.BadTargetEtag()
    return Link(account, container, obj, etag)


def check_empty(headers: Mapping[str, str]) -> None:
    """A symlink has no body (400 when the request declares one)."""
    length = headers.get("content-length")
    if length is not None and length.strip() not in ("0", ""):
        raise errors.BodyNotEmpty()


def empty_body(_etag: str, size: int) -> None:
    """The upload check of a chunked symlink PUT: nothing may have arrived."""
    if size:
        raise errors.BodyNotEmpty()


def sysmeta(link: Link, here_account: str, target_bytes: str | None) -> dict[str, str]:
    """The metadata stored with the link; ``target_bytes``: a static link's target's size."""
    meta = {TARGET: quote(f"{link.container}/{link.obj}")}
    if link.account != here_account:
        meta[TARGET_ACCOUNT] = quote(link.account)
    if link.etag and target_bytes is not None:
        meta[TARGET_ETAG] = link.etag
        meta[TARGET_BYTES] = target_bytes
    return meta


def size_of(state: ObjectState) -> int:
    return int(state.metadata.get("X-Slo-Size", state.metadata.get("Content-Length", "0")))


def etag_of(state: ObjectState) -> str:
    """The etag a static link to ``state`` must name: a static link's own target's, an
    SLO's ``X-Slo-Etag``, else the object's."""
    meta = state.metadata
    return meta.get(TARGET_ETAG) or meta.get("X-Slo-Etag") or meta.get("ETag", "")


def check_static(link: Link, target: ObjectState | None) -> None:
    """A static link's target must exist with the etag named (409 otherwise)."""
    if target is None:
        raise errors.TargetMissing(headers={"Content-Location": link.path})
    found = etag_of(target)
    if found != link.etag:
        raise errors.TargetEtagMismatch(found=found, wanted=link.etag, headers={"Content-Location": link.path})


def is_link(meta: Mapping[str, str]) -> bool:
    return TARGET in meta


def target_of(meta: Mapping[str, str], account: str) -> tuple[str, str, str]:
    """``(account, container, object)`` a symlink's metadata points at."""
    container, _, obj = unquote(meta[TARGET]).partition("/")
    return unquote(meta.get(TARGET_ACCOUNT, quote(account))), container, obj


def client_headers(meta: Mapping[str, str]) -> dict[str, str]:
    """A symlink's ``X-Symlink-*`` headers (its GET or HEAD with ``?symlink=get``)."""
    names = {sys: user for user, sys in HEADERS.items()}
    return {names[k].title(): v for k, v in meta.items() if k in names}


def listed_etag(meta: Mapping[str, str], etag: str) -> str:
    """The etag a container lists for an object with ``meta``: a symlink's carries its target."""
    params = [f"{_LISTED[k]}={meta[k]}" for k in SYSMETA if k in meta]
    return "; ".join([etag, *params])


def listing_fields(entry: dict, account: str) -> dict:
    """A container listing's entry with a symlink's parameters taken out of its ``hash``
    and shown as ``symlink_path`` (and ``symlink_etag``/``symlink_bytes``)."""
    etag, *params = [p.strip() for p in entry["hash"].split(";")]
    if not params:
        return entry
    found = dict(p.partition("=")[::2] for p in params)
    entry["hash"] = etag
    if "symlink_target_etag" in found:
        entry["symlink_etag"] = found["symlink_target_etag"]
    if "symlink_target_bytes" in found and found["symlink_target_bytes"].isdigit():
        entry["symlink_bytes"] = int(found["symlink_target_bytes"])
    if "symlink_target" in found:
        entry["symlink_path"] = f"/v1/{found.get('symlink_target_account', quote(account))}/{found['symlink_target']}"
    return entry


Loader = Callable[[str, str, str], ObjectState]
Authorizer = Callable[[str, str, str], None]


def follow(names: tuple[str, str, str], state: ObjectState, load: Loader,
           authorize: Authorizer) -> tuple[tuple[str, str, str], ObjectState, str | None]:
    """Follow ``state`` (the object at ``names``) through its links to a real object:
    ``(names, state, Content-Location)`` of that object, the location None when
    ``state`` was no link.  Each target is authorized and loaded as the caller
    (``load`` raises 404 for a missing one, which then carries the
    Content-Location); 409 past :data:`SYMLOOP_MAX` links or when a static link's
    target changed."""
    location = None
    hops = 0
    while is_link(state.metadata):
        if hops >= SYMLOOP_MAX:
            raise errors.TooManyLinks(limit=SYMLOOP_MAX)
        hops += 1
        wanted = state.metadata.get(TARGET_ETAG)
        names = target_of(state.metadata, names[0])
        location = "/v1/" + "/".join(quote(n) for n in names)
        authorize(*names)
        try:
            state = load(*names)
        except errors.ResourceNotFound:
            raise errors.ResourceNotFound(headers={"Content-Location": location}) from None
        if wanted and etag_of(state) != wanted:
            raise errors.TargetEtagMismatch(found=etag_of(state), wanted=wanted, headers={"Content-Location": location})
    return names, state, location


def posted_to_link(meta: Mapping[str, str], account: str) -> Response:
    """Swift's answer to a POST to a symlink: its metadata was updated, but the client
    is pointed at the target (307), whose metadata it probably meant."""
    target = "/v1/" + "/".join(quote(n) for n in target_of(meta, account))
    headers = {"Location": target}
    if TARGET_ETAG in meta:
        headers["X-Symlink-Target-Etag"] = meta[TARGET_ETAG]
    return Response(b"The requested POST was applied to a symlink. POST directly to the target to apply requested "
                    b"metadata.", status_code=307, headers=headers, media_type="text/plain")
