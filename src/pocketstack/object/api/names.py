"""Swift's name rules for accounts, containers and objects (400/404 before any disk work)."""

from __future__ import annotations

from pocketstack.common.api.errors import BadRequest, NotFound

MAX_CONTAINER_NAME = 256
MAX_OBJECT_NAME = 1024


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
