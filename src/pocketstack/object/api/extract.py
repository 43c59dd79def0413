"""``PUT /v1/AUTH_<project>[/<container>[/<prefix>]]?extract-archive=tar|tar.gz|tar.bz2``:
Swift's bulk upload.

Each regular file in the archive becomes an object: ``<container>/<object path>`` at
the account level, ``<object path>`` in the container named in the URL (after the
prefix, if one is given).  Containers are created as needed; other members are skipped.  The body is spooled
(memory, then disk) because tar members are read in order from a file; each member is
then streamed to the replicas like any upload.  The answer is a 200 whose body counts
the files created and lists per-file errors, as Swift's bulk middleware does.
"""

from __future__ import annotations

import mimetypes
import tarfile
import tempfile
from collections.abc import AsyncIterator
from typing import IO, Literal
from urllib.parse import quote

from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from pocketstack.common.api.request import ApiRequest
from pocketstack.common.errors import ApiError
from pocketstack.object import errors, timestamps
from pocketstack.object.api import bulk, names
from pocketstack.object.store import ObjectStore

StreamMode = Literal["r|", "r|gz", "r|bz2"]
FORMATS: dict[str, StreamMode] = {"tar": "r|", "tar.gz": "r|gz", "tar.bz2": "r|bz2"}
MAX_CONTAINERS = 10000
MAX_FAILED = 1000
_IN_MEMORY = 16 * 1024 * 1024
_CHUNK = 65536


async def extract(req: ApiRequest, store: ObjectStore, account: str, base: str = "") -> Response:
    """Unpack the request's archive below ``base`` (``""``, ``<container>`` or ``<container>/<prefix>``)."""
    mode = FORMATS.get(req.query.get("extract-archive", ""))
    if mode is None:
        raise errors.UnsupportedArchive()
    with tempfile.SpooledTemporaryFile(max_size=_IN_MEMORY) as spool:
        async for chunk in req.raw.stream():
            await run_in_threadpool(spool.write, chunk)
        spool.seek(0)
        try:
            archive = await run_in_threadpool(_open_stream, spool, mode)
            return await _unpack(req, store, account, archive, base)
        except (tarfile.TarError, EOFError, OSError) as error:
            raise errors.InvalidTarFile(reason=error) from None


async def _unpack(req: ApiRequest, store: ObjectStore, account: str, archive: tarfile.TarFile,
                  base: str) -> Response:
    created = 0
    failures: list[list[str]] = []
    containers: set[str] = set()
    while len(failures) < MAX_FAILED:
        member = await run_in_threadpool(archive.next)
        if member is None:
            break
        if not member.isfile():
            continue
        path = "/".join(part for part in (base.strip("/"), member.name.removeprefix("./").lstrip("/")) if part)
        container, _, obj = path.partition("/")
        try:
            if not container or not obj:
                raise errors.NoContainerInPath()
            names.check(account, container, obj)
            if container not in containers:
                if len(containers) >= MAX_CONTAINERS:
                    raise errors.TooManyContainers(limit=MAX_CONTAINERS)
                if await run_in_threadpool(store.container, account, container) is None:
                    await run_in_threadpool(store.put_container, account, container, {}, timestamps.now())
                containers.add(container)
            content_type = mimetypes.guess_type(obj)[0] or "application/octet-stream"
            await store.put_object(account, container, obj, _member_chunks(archive, member),
                                   {"Content-Type": content_type}, timestamps.now())
            created += 1
        except ApiError as error:
            failures.append([quote(path), f"{error.status} {error.title}"])
    return bulk.report(req, {"Number Files Created": created}, "400 Bad Request" if failures else "201 Created",
                       failures)


def _open_stream(spool: IO[bytes], mode: StreamMode) -> tarfile.TarFile:
    """The archive, read in one pass (``r|*`` modes: members in order)."""
    return tarfile.open(fileobj=spool, mode=mode)


async def _member_chunks(archive: tarfile.TarFile, member: tarfile.TarInfo) -> AsyncIterator[bytes]:
    source = archive.extractfile(member)
    if source is None:  # not a regular file: nothing to read
        return
    while chunk := await run_in_threadpool(source.read, _CHUNK):
        yield chunk
