"""What one of the cloud's APIs answered, read by a client of them
(:meth:`pocketstack.cloud.Cloud.api_client`, or plain HTTP to a cloud elsewhere).

Each service renders its errors in its own format (:mod:`pocketstack.common.api.errors`):
Keystone's ``{"error": {"message"}}``, Nova's and Cinder's ``{"badRequest": {"message"}}``,
Neutron's ``{"NeutronError": {"message"}}``, Glance's and Swift's text.  Reading the
message out of them is done here once; what a caller says when there is none (a body of
text, of JSON in another shape) is its own affair, so :class:`Answer` keeps the rest.
It is client-side, so it stays out of :mod:`pocketstack.common.api` (the web layer no
service's logic may import).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import httpx


@dataclass(frozen=True)
class Answer:
    """One response: its status, its body decoded when it is JSON (``is_json``), its text."""

    status: int
    reason: str
    text: str
    is_json: bool
    body: Any = None

    @classmethod
    def of(cls, response: httpx.Response) -> Answer:
        try:
            body = response.json()
        except ValueError:  # not JSON, or not text at all (UnicodeDecodeError)
            return cls(response.status_code, response.reason_phrase, response.text, False)
        return cls(response.status_code, response.reason_phrase, response.text, True, body)

    @property
    def message(self) -> str | None:
        """The message of a JSON error body in any service's format (the first wrapper
        carrying one, else a top-level ``message``); None for any other body."""
        if not isinstance(self.body, dict):
            return None
        for value in self.body.values():
            if isinstance(value, dict) and "message" in value:
                return str(value["message"])
        if "message" in self.body:
            return str(self.body["message"])
        return None
