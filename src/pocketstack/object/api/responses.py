"""What Swift's proxy does to every request and response, whatever the route.

Before routing, a path that is not UTF-8 (or holds a NUL) is refused with a 412.  Every
response carries a transaction id and a Content-Type, even a 204; errors are a short
plain-text body.  Swift's transaction ids are ``tx`` + 21 hex digits + ``-`` + the
request time as 10 hex digits (clients and Tempest check the shape); ours reuses the
request id's random digits, so a ``X-Trans-Id`` a user reports is found in the logs.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from starlette.responses import Response

from pocketstack.common.api.request import ApiRequest
from pocketstack.common.errors import ApiError
from pocketstack.object.api import names

DEFAULT_CONTENT_TYPE = "text/html; charset=UTF-8"
# The largest body read before a (non-streaming) handler runs: bulk-delete lists.
MAX_BODY = 4 * 1024 * 1024


def swift_format(error: ApiError) -> Response:
    """Swift's error bodies: the explanation as plain text, nothing structured.  A 304
    has no body at all: it keeps the object's headers (its Content-Length among them),
    and a body would contradict them."""
    body = b"" if error.status == 304 else error.message
    return Response(body, status_code=error.status, headers=dict(error.headers),
                    media_type="text/plain; charset=utf-8")


def preparer(service_path: str) -> Callable[[ApiRequest], None]:
    """The ``prepare`` hook of the service mounted at ``service_path``."""
    def prepare(req: ApiRequest) -> None:
        # TempURLs may be signed with or without the mount prefix (access.py).
        req.attributes["service_path"] = service_path
        names.check_path(req.raw.scope.get("raw_path", b""))
    return prepare


def trans_id(request_id: str) -> str:
    digits = request_id.removeprefix("req-").replace("-", "")
    return f"tx{digits[:21]}-{int(time.time()):010x}"


def finish(req: ApiRequest, response: Response) -> None:
    response.headers["X-Trans-Id"] = trans_id(req.attributes["request_id"])
    if "content-type" not in response.headers:
        response.headers["Content-Type"] = DEFAULT_CONTENT_TYPE
