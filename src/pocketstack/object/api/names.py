"""Swift's name rules for accounts, containers and objects (400/404/412 before any disk work)."""

from __future__ import annotations

from urllib.parse import unquote_to_bytes

from pocketstack.common.errors import BadRequest, NotFound
from pocketstack.object.api.errors import PreconditionFailed

MAX_CONTAINER_NAME = 256
MAX_OBJECT_NAME = 1024
INVALID_PATH = "Invalid UTF8 or contains NULL"


def check(account: str, container: str | None = None, obj: str | None = None) -> None:
    if not account or "\x00" in account:
        raise BadRequest("Invalid account name")
    if container is not None:
        if not container:
            raise NotFound("The resource could not be found.")
        if len(container.encode()) > MAX_CONTAINER_NAME:
            raise BadRequest(f"Container name length of {len(container.encode())} longer than "
                             f"{MAX_CONTAINER_NAME}")
        if "\x00" in container:
            raise BadRequest("Container name contains a NUL byte")
    if obj is not None:
        if len(obj.encode()) > MAX_OBJECT_NAME:
            raise BadRequest(f"Object name length of {len(obj.encode())} longer than {MAX_OBJECT_NAME}")
        if "\x00" in obj:
            raise BadRequest("Object name contains a NUL byte")


def check_path(raw_path: bytes) -> None:
    """412 for a request path that is not UTF-8 once unquoted, or holds a NUL -- Swift's
    proxy refuses those before anything else (decoded leniently, different invalid
    names would all become one name of replacement characters)."""
    path = unquote_to_bytes(raw_path)
    try:
        path.decode("utf-8")
    except UnicodeDecodeError:
        raise PreconditionFailed(INVALID_PATH) from None
    if b"\x00" in path:
        raise PreconditionFailed(INVALID_PATH)
