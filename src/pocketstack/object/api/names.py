"""Swift's name rules for accounts, containers and objects (400/404/412 before any disk work)."""

from __future__ import annotations

from urllib.parse import unquote_to_bytes

from pocketstack.object import errors

MAX_CONTAINER_NAME = 256
MAX_OBJECT_NAME = 1024


def check(account: str, container: str | None = None, obj: str | None = None) -> None:
    if not account or "\x00" in account:
        raise errors.InvalidAccountName()
    if container is not None:
        if not container:
            raise errors.ResourceNotFound()
        _check_name("Container", container, MAX_CONTAINER_NAME)
    if obj is not None:
        _check_name("Object", obj, MAX_OBJECT_NAME)


def _check_name(kind: str, name: str, limit: int) -> None:
    length = len(name.encode())
    if length > limit:
        raise errors.NameTooLong(kind=kind, length=length, limit=limit)
    if "\x00" in name:
        raise errors.NameContainsNul(kind=kind)


def check_path(raw_path: bytes) -> None:
    """412 for a request path that is not UTF-8 once unquoted, or holds a NUL -- Swift's
    proxy refuses those before anything else (decoded leniently, different invalid
    names would all become one name of replacement characters)."""
    path = unquote_to_bytes(raw_path)
    try:
        path.decode("utf-8")
    except UnicodeDecodeError:
        raise errors.InvalidPath() from None
    if b"\x00" in path:
        raise errors.InvalidPath()
