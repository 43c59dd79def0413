"""The wire format: JSON envelopes carrying an explicit version.

Requests (casts and calls) and replies are JSON objects with ``"v": 1``.  JSON, not
pickle, so a message can never execute code on the receiver and any tool can read a
queue.  Arguments and results must therefore be JSON types; callers convert datetimes,
UUIDs and the like themselves, which keeps the conversion visible in the code that owns
the data.  A receiver rejects an envelope whose version it does not know instead of
guessing at its meaning.

``expires_at`` is absolute wall-clock time (seconds since the epoch) because it is read
by another process, possibly on another host: clocks are assumed NTP-synchronised, and a
skew of *s* seconds shortens or lengthens every deadline by *s*.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any

from pocketstack.common.rpc.exceptions import EnvelopeError

VERSION = 1
KINDS = ("cast", "call")


@dataclass(frozen=True)
class Request:
    """A cast or a call, as the server receives it."""

    kind: str
    msg_id: str
    method: str
    args: dict[str, Any]
    expires_at: float
    reply_to: str | None = None

    def remaining(self) -> float:
        """Seconds left before the caller stops caring (negative once expired)."""
        return self.expires_at - time.time()


@dataclass(frozen=True)
class Reply:
    """The outcome of a call: a result, or an error described by :func:`exceptions.to_wire`."""

    msg_id: str
    result: Any = None
    error: dict[str, Any] | None = None


def _dumps(payload: dict[str, Any]) -> bytes:
    # Raises TypeError/ValueError for anything that is not plain JSON.
    return json.dumps(payload, separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode()


def encode_request(request: Request) -> bytes:
    payload = {"v": VERSION, "kind": request.kind, "msg_id": request.msg_id,
               "method": request.method, "args": request.args, "expires_at": request.expires_at}
    if request.reply_to is not None:
        payload["reply_to"] = request.reply_to
    return _dumps(payload)


def encode_reply(reply: Reply) -> bytes:
    payload: dict[str, Any] = {"v": VERSION, "kind": "reply", "msg_id": reply.msg_id}
    if reply.error is not None:
        payload["error"] = reply.error
    else:
        payload["result"] = reply.result
    return _dumps(payload)


def _load(body: bytes, kinds: tuple[str, ...]) -> dict[str, Any]:
    try:
        payload = json.loads(body)
    except (UnicodeDecodeError, ValueError) as exc:
        raise EnvelopeError(f"not a JSON envelope: {exc}") from None
    if not isinstance(payload, dict):
        raise EnvelopeError("envelope is not a JSON object")
    if payload.get("v") != VERSION:
        raise EnvelopeError(f"unsupported envelope version {payload.get('v')!r} (this side speaks {VERSION})")
    if payload.get("kind") not in kinds:
        raise EnvelopeError(f"unexpected envelope kind {payload.get('kind')!r}")
    if not isinstance(payload.get("msg_id"), str) or not payload["msg_id"]:
        raise EnvelopeError("envelope has no msg_id")
    return payload


def decode_request(body: bytes) -> Request:
    payload = _load(body, KINDS)
    method, args, expires_at = payload.get("method"), payload.get("args"), payload.get("expires_at")
    reply_to = payload.get("reply_to")
    if not isinstance(method, str) or not method:
        raise EnvelopeError("request has no method")
    if not isinstance(args, dict):
        raise EnvelopeError("request args are not an object")
    if isinstance(expires_at, bool) or not isinstance(expires_at, (int, float)):
        raise EnvelopeError("request has no numeric expires_at")
    if payload["kind"] == "call" and (not isinstance(reply_to, str) or not reply_to):
        raise EnvelopeError("call has no reply_to")
    return Request(payload["kind"], payload["msg_id"], method, args, float(expires_at),
                   reply_to if payload["kind"] == "call" else None)


def decode_reply(body: bytes) -> Reply:
    payload = _load(body, ("reply",))
    error = payload.get("error")
    if error is not None and not isinstance(error, dict):
        raise EnvelopeError("reply error is not an object")
    return Reply(payload["msg_id"], payload.get("result"), error)
