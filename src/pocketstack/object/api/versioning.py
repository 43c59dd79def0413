"""Legacy object versioning, as Swift's ``versioned_writes`` middleware does it.

A container with ``X-Versions-Location: <archive>`` ("stack" mode) or
``X-History-Location: <archive>`` ("history" mode) keeps old versions of its objects
in the archive container of the same account, named
``<length of the name, 3 hex digits><name>/<timestamp of that version>`` so that one
object's versions list together, oldest first.

- PUT (also COPY and ``X-Copy-From`` onto the object): the current object, if any, is
  first copied into the archive under its own timestamp.
- DELETE in stack mode pops: the newest archived version is copied back over the
  object and removed from the archive; with nothing archived it is a plain delete.
- DELETE in history mode pushes: the current object is archived, then a zero-byte
  delete marker (``application/x-deleted;swift_versions_deleted=1``) is archived
  and the object deleted.

The caller needs write access to the archive container too; a missing archive is a
412, as in Swift.  Archived copies are whole replicas of the raw object (an SLO
manifest stays a manifest), written with a new timestamp.
"""

from __future__ import annotations

from urllib.parse import unquote

from starlette.concurrency import iterate_in_threadpool, run_in_threadpool

from pocketstack.common.api.request import ApiRequest
from pocketstack.object import errors, expirer, timestamps
from pocketstack.object.api import access, body, large
from pocketstack.object.diskfile import ObjectState
from pocketstack.object.store import ObjectStore

VERSIONS = "X-Versions-Location"
HISTORY = "X-History-Location"
DELETE_MARKER = "application/x-deleted;swift_versions_deleted=1"
# Metadata a replica records about itself rather than about the object's content.
_OWN = ("X-Timestamp", "ETag", "Content-Length")
_LISTING_LIMIT = 10000


def normalize_container_updates(updates: dict[str, str]) -> None:
    """Check a container PUT/POST's versioning headers; setting one mode clears the other."""
    versions, history = updates.get(VERSIONS), updates.get(HISTORY)
    if versions and history:
        raise errors.TwoVersioningModes()
    value = versions or history
    if value:
        name = unquote(value)
        if "/" in name:
            raise errors.SlashInContainerName()
        updates[VERSIONS], updates[HISTORY] = (name, "") if versions else ("", name)
    elif VERSIONS in updates or HISTORY in updates:  # an empty value or X-Remove-*
        updates[VERSIONS] = updates[HISTORY] = ""


def location(container_info: dict | None) -> tuple[str, str] | None:
    """``(archive container, "stack" | "history")`` of a versioned container, else None."""
    if container_info is None:
        return None
    meta = container_info["metadata"]
    for key, mode in ((VERSIONS, "stack"), (HISTORY, "history")):
        value = meta.get(key, ["", ""])[0]
        if value:
            return value, mode
    return None


def version_prefix(obj: str) -> str:
    return f"{len(obj.encode()):03x}{obj}/"


def version_name(obj: str, timestamp: str) -> str:
    return version_prefix(obj) + timestamp


def live(state: ObjectState) -> bool:
    return state.exists and not expirer.expired(state.metadata)


async def copy_raw(store: ObjectStore, state: ObjectState, account: str, container: str, obj: str,
                   metadata: dict | None = None) -> None:
    """Write a replica's raw bytes and metadata (or ``metadata``) as another object."""
    meta = metadata if metadata is not None else {k: v for k, v in state.metadata.items() if k not in _OWN}
    listing = (int(meta["X-Slo-Size"]), meta["X-Slo-Etag"]) if large.is_slo(meta) else None
    size = int(state.metadata.get("Content-Length", 0))
    chunks = iterate_in_threadpool(state.read(0, size)) if size else body.once(b"")
    await store.put_object(account, container, obj, chunks, meta, timestamps.now(), listing=listing)
    await run_in_threadpool(expirer.enqueue, store, account, container, obj, meta)


async def _authorize_archive(req: ApiRequest, store: ObjectStore, account: str, archive: str) -> None:
    if req.attributes.get("tempurl"):
        return  # a TempURL grants its one object; Swift lets its versioning through too
    await run_in_threadpool(access.authorize, req, store, account, archive, write=True)


async def _require_archive(store: ObjectStore, account: str, archive: str) -> None:
    if await run_in_threadpool(store.container, account, archive) is None:
        raise errors.PreconditionFailed()


async def archive_current(req: ApiRequest, store: ObjectStore, account: str, container: str, obj: str,
                          archive: str) -> None:
    """Before an overwrite (or a history-mode delete): keep the current object, if any."""
    await _authorize_archive(req, store, account, archive)
    state = await run_in_threadpool(store.object_state, account, container, obj)
    if not live(state):
        return
    await _require_archive(store, account, archive)
    await copy_raw(store, state, account, archive, version_name(obj, state.timestamp))


async def push_delete(req: ApiRequest, store: ObjectStore, account: str, container: str, obj: str,
                      archive: str) -> None:
    """History mode: archive the object and a delete marker; the caller then deletes it."""
    await archive_current(req, store, account, container, obj, archive)
    await _require_archive(store, account, archive)
    marker = ObjectState()
    await copy_raw(store, marker, account, archive, version_name(obj, timestamps.now()),
                   {"Content-Type": DELETE_MARKER})


async def pop_delete(req: ApiRequest, store: ObjectStore, account: str, container: str, obj: str,
                     archive: str) -> bool:
    """Stack mode: restore the newest archived version; False when there is none to
    restore and the caller should delete the object as usual."""
    found = await run_in_threadpool(store.container, account, archive)
    if found is None:
        return False
    rows = await run_in_threadpool(lambda: found[0].list(limit=_LISTING_LIMIT, prefix=version_prefix(obj),
                                                         reverse=True))
    if rows:
        await _authorize_archive(req, store, account, archive)
    for index, row in enumerate(rows):
        if row["content_type"] != DELETE_MARKER:
            if await _restore(store, account, archive, row["name"], container, obj):
                return True
            continue
        # A delete marker is the newest version: the object was deleted in history mode.
        current = await run_in_threadpool(store.object_state, account, container, obj)
        if live(current):
            return False  # re-created since: deleting it returns to the marker's state
        for older in rows[index + 1:]:
            if older["content_type"] == DELETE_MARKER:
                break
            if await _restore(store, account, archive, older["name"], container, obj):
                break
        await _remove(store, account, archive, row["name"])
        return True
    return False


async def _restore(store: ObjectStore, account: str, archive: str, name: str, container: str, obj: str) -> bool:
    """Copy an archived version back as the object and drop it from the archive."""
    state = await run_in_threadpool(store.object_state, account, archive, name)
    if not state.exists:
        return False
    await copy_raw(store, state, account, container, obj)
    await _remove(store, account, archive, name)
    return True


async def _remove(store: ObjectStore, account: str, archive: str, name: str) -> None:
    state = await run_in_threadpool(store.object_state, account, archive, name)
    if state.exists:
        await run_in_threadpool(store.remove_object, account, archive, name, state)
