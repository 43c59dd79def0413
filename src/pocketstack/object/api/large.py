"""Large objects: Dynamic (``X-Object-Manifest``) and Static (``?multipart-manifest``).

A DLO manifest names ``<container>/<prefix>``; its body is every object under that
prefix in listing order, its ETag the quoted MD5 of their ETags.  An SLO manifest is a
JSON list of segments checked at upload (each must exist, and match any given etag
and size); it is stored as the manifest object's data and read back at download.

Segments are reached as the caller (``access.SegmentAccess``), as Swift's
subrequests are: a DLO whose segment container the caller may not list is refused
like that listing, an SLO segment the caller may not read is a problem at upload and
a 409 at download -- so a manifest never opens a way around the ACLs or a TempURL's
scope.
"""

from __future__ import annotations

import functools
import hashlib
import json
from urllib.parse import unquote

from pocketstack.common.api.bodies import parse_json
from pocketstack.common.errors import BadRequest
from pocketstack.object import errors
from pocketstack.object.api import schemas
from pocketstack.object.api.access import SegmentAccess
from pocketstack.object.api.body import Piece
from pocketstack.object.store import ObjectStore
from pocketstack.object.timestamps import iso

MAX_SEGMENTS = 1000
MAX_MANIFEST = 2 * 1024 * 1024


@functools.cache
def _valid(schema: str):
    """The ``is_valid`` of a validator of ``schemas.<schema>``, made on first use: jsonschema
    is imported by the first SLO manifest, not by the object API's first request."""
    from jsonschema import Draft7Validator

    return Draft7Validator(getattr(schemas, schema)).is_valid


def is_slo(metadata: dict) -> bool:
    return metadata.get("X-Static-Large-Object", "").lower() == "true"


def _etag_of(etags: list[str]) -> str:
    return hashlib.md5("".join(etags).encode(), usedforsecurity=False).hexdigest()


def _split_path(path: str) -> tuple[str, str] | None:
    """``(container, object)`` of a segment path ``/<container>/<object>``; None if malformed."""
    container, _, obj = unquote(path).lstrip("/").partition("/")
    return (container, obj) if container and obj else None


def _segment(store: ObjectStore, account: str, names: tuple[str, str]):
    state = store.object_state(account, *names)
    return state if state.exists else None


def read_manifest(state) -> list[dict]:
    return json.loads(b"".join(state.read(0, int(state.metadata["Content-Length"]))))


def pieces(store: ObjectStore, account: str, state, segments: SegmentAccess) -> tuple[list[Piece], str]:
    """``(pieces, etag)`` of an object's full body, segments as ``segments`` allows (blocking)."""
    meta = state.metadata
    if is_slo(meta):
        out = []
        for seg in read_manifest(state):
            names = _split_path(seg["name"])
            seg_state = _segment(store, account, names) if names and segments.allows(*names) else None
            if seg_state is None:
                raise errors.MissingSegment(name=seg["name"])
            start, length = 0, int(seg_state.metadata["Content-Length"])
            if seg.get("range"):
                start, end = (int(x) for x in seg["range"].split("-"))
                length = end - start + 1
            out.append(Piece(seg_state, start, length))
        return out, '"' + meta.get("X-Slo-Etag", "") + '"'
    if "X-Object-Manifest" in meta:
        container, _, prefix = unquote(meta["X-Object-Manifest"]).partition("/")
        if not segments.allows(container):
            raise segments.refusal()
        found = store.container(account, container)
        rows = found[0].list(limit=10000, prefix=prefix) if found else []
        out, etags = [], []
        for row in rows:
            seg_state = store.object_state(account, container, row["name"])
            if seg_state.exists:
                out.append(Piece(seg_state, 0, int(seg_state.metadata["Content-Length"])))
                etags.append(seg_state.metadata["ETag"])
        return out, '"' + _etag_of(etags) + '"'
    return [Piece(state, 0, int(meta["Content-Length"]))], meta["ETag"]


def manifest_entries(body: bytes) -> list:
    """The segments of an SLO upload's body; 413 or 400 (in Swift's words) for a body
    too large, not JSON (or JSON no replica could store: nested too deeply, lone
    surrogates, integers past 64 bits), not a list of segments or of too many."""
    if len(body) > MAX_MANIFEST:
        raise errors.ManifestTooLarge(limit=MAX_MANIFEST)
    try:
        entries = parse_json(body)
    except BadRequest:
        raise errors.ManifestNotJson() from None
    if not _valid("slo_manifest")(entries):
        raise errors.ManifestNotList()
    if len(entries) > MAX_SEGMENTS:
        raise errors.TooManySegments(limit=MAX_SEGMENTS)
    return entries


def build_manifest(store: ObjectStore, account: str, body: bytes,
                   segments: SegmentAccess) -> tuple[bytes, int, str]:
    """Check an SLO upload (each segment must be one ``segments`` lets the caller read);
    return the manifest to store, the total size and the SLO etag."""
    entries = manifest_entries(body)
    problems: list[str] = []
    stored: list[dict] = []
    etags: list[str] = []
    size = 0
    for index, seg in enumerate(entries):
        if not _valid("slo_segment")(seg):
            problems.append(f"Index {index}: invalid segment (need a \"path\")")
            continue
        names = _split_path(seg["path"])
        if names and not segments.allows(*names):
            refused = segments.refusal()
            problems.append(f"{seg['path']}, {refused.status} {refused.title}")
            continue
        state = _segment(store, account, names) if names else None
        if state is None:
            problems.append(f"{seg['path']}, 404 Not Found")
            continue
        etag, seg_size = state.metadata["ETag"], int(state.metadata["Content-Length"])
        if seg.get("etag") not in (None, etag):
            problems.append(f"{seg['path']}, Etag Mismatch")
        if seg.get("size_bytes") not in (None, seg_size):
            problems.append(f"{seg['path']}, Size Mismatch")
        entry = {"name": "/" + unquote(seg["path"]).lstrip("/"), "bytes": seg_size, "hash": etag,
                 "content_type": state.metadata.get("Content-Type", ""), "last_modified": iso(state.timestamp)}
        length = seg_size
        if seg.get("range"):
            try:
                start, end = (int(x) for x in str(seg["range"]).split("-"))
                if not 0 <= start <= end < seg_size:
                    raise ValueError
            except ValueError:
                problems.append(f"{seg['path']}, Invalid range")
                continue
            entry["range"] = f"{start}-{end}"
            length = end - start + 1
            etag = f"{etag}:{start}-{end};"
        stored.append(entry)
        etags.append(etag)
        size += length
    if problems:
        raise errors.InvalidManifest(problems="\n".join(problems))
    return json.dumps(stored).encode(), size, _etag_of(etags)


def segment_paths(state) -> list[str]:
    return [seg["name"] for seg in read_manifest(state)]
