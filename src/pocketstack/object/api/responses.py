"""What Swift's proxy adds to every response: a transaction id and a Content-Type.

Swift's transaction ids are ``tx`` + 21 hex digits + ``-`` + the request time as 10
hex digits (clients and Tempest check the shape); ours reuses the request id's random
digits, so a ``X-Trans-Id`` a user reports is found in the logs.  Every Swift response,
even a 204, carries a ``Content-Type``.
"""

from __future__ import annotations

import time

from starlette.responses import Response

from pocketstack.common.api.request import ApiRequest

DEFAULT_CONTENT_TYPE = "text/html; charset=UTF-8"


def trans_id(request_id: str) -> str:
    digits = request_id.removeprefix("req-").replace("-", "")
    return f"tx{digits[:21]}-{int(time.time()):010x}"


def finish(req: ApiRequest, response: Response) -> None:
    response.headers["X-Trans-Id"] = trans_id(req.attributes["request_id"])
    if "content-type" not in response.headers:
        response.headers["Content-Type"] = DEFAULT_CONTENT_TYPE
