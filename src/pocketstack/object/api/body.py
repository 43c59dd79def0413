"""An object's body as a list of pieces, and the responses built from it.

A plain object is one piece (its replica's data, local or on a storage node); a large
object is its segments' pieces in order.  Ranges are cut from the concatenation, so Range GETs work the same
on every kind of object, and the bytes are read from disk in Starlette's thread pool
as the response is sent -- never buffered whole, except bodies up to ``INLINE_BODY``.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass

from starlette.responses import Response, StreamingResponse

from pocketstack.object.api import ranges
from pocketstack.object.diskfile import ObjectState
from pocketstack.object.errors import UnsatisfiableRange


@dataclass
class Piece:
    source: ObjectState
    start: int
    length: int


def total(pieces: list[Piece]) -> int:
    return sum(p.length for p in pieces)


def cut(pieces: list[Piece], start: int, end: int) -> list[Piece]:
    """The pieces covering bytes ``[start, end)`` of the concatenation."""
    out, offset = [], 0
    for piece in pieces:
        lo, hi = max(start, offset), min(end, offset + piece.length)
        if lo < hi:
            out.append(Piece(piece.source, piece.start + lo - offset, hi - lo))
        offset += piece.length
    return out


async def once(data: bytes) -> AsyncIterator[bytes]:
    """A body already in memory, as the chunks an upload is written from."""
    yield data


def stream(pieces: list[Piece]) -> Iterator[bytes]:
    for piece in pieces:
        yield from piece.source.read(piece.start, piece.length)


def respond(method: str, range_header: str | None, pieces: list[Piece], headers: dict,
            content_type: str) -> Response:
    """200, 206 (single or multipart/byteranges) or 416 for a GET or HEAD."""
    size = total(pieces)
    wanted = ranges.parse(range_header, size)
    if wanted == [] and size >= 0:
        raise UnsatisfiableRange(headers={"Content-Range": f"bytes */{size}", **headers})
    if not wanted:
        return _send(method, 200, stream(pieces), size, {**headers, "Content-Type": content_type})
    if len(wanted) == 1:
        start, end = wanted[0]
        return _send(method, 206, stream(cut(pieces, start, end)), end - start,
                     {**headers, "Content-Type": content_type, "Content-Range": f"bytes {start}-{end - 1}/{size}"})
    boundary = uuid.uuid4().hex
    parts = [(f"--{boundary}\r\nContent-Type: {content_type}\r\nContent-Range: bytes {s}-{e - 1}/{size}"
              f"\r\n\r\n").encode() for s, e in wanted]
    closing = f"--{boundary}--".encode()
    length = sum(len(p) + (e - s) + 2 for p, (s, e) in zip(parts, wanted)) + len(closing)

    def multipart() -> Iterator[bytes]:
        for part, (s, e) in zip(parts, wanted):
            yield part
            yield from stream(cut(pieces, s, e))
            yield b"\r\n"
        yield closing

    return _send(method, 206, multipart(), length,
                 {**headers, "Content-Type": f"multipart/byteranges;boundary={boundary}"})


# A body up to this size is read at once by the (threaded) caller: streaming it would
# cost a trip to a worker thread per chunk.
INLINE_BODY = 64 * 1024


def _send(method: str, status: int, chunks: Iterator[bytes], length: int, headers: dict) -> Response:
    headers = {**headers, "Content-Length": str(length)}
    if method == "HEAD":
        return Response(status_code=status, headers=headers)
    if length <= INLINE_BODY:
        return Response(b"".join(chunks), status_code=status, headers=headers)
    return StreamingResponse(chunks, status_code=status, headers=headers)
