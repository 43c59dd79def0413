"""What every Placement handler shares: its microversions, its error format and the
headers every answer carries."""

from __future__ import annotations

import email.utils
import json
import time
import uuid as uuidlib

from starlette.responses import Response

from pocketstack.common.api.microversions import Version, VersionRange
from pocketstack.common.api.request import ApiRequest
from pocketstack.common.errors import ApiError
from pocketstack.common.log import request_id_var
from pocketstack.placement import errors

VERSIONS = VersionRange("placement", Version(1, 0), Version(1, 39))
UNDEFINED_CODE = "placement.undefined_code"


def placement_format(error: ApiError) -> Response:
    """``{"errors": [{"status", "title", "detail", "code", "request_id"}]}``; ``code`` is
    the ``placement.*`` error type when the raiser set one."""
    code = error.error_type if error.error_type.startswith("placement.") else UNDEFINED_CODE
    entry = {"status": error.status, "title": error.title, "detail": error.message, "code": code,
             "request_id": request_id_var.get()}
    if error.status == 406:  # clients (osc-placement) negotiate down from these
        entry.update(min_version=str(VERSIONS.minimum), max_version=str(VERSIONS.maximum))
    return Response(json.dumps({"errors": [entry]}), status_code=error.status, headers=dict(error.headers),
                    media_type="application/json")


def finish(req: ApiRequest, response: Response) -> None:
    version = req.attributes.get("version")
    if version is None:
        return
    response.headers.update(VERSIONS.response_headers(version))
    if version >= (1, 15) and req.method == "GET" and response.status_code == 200:
        # 1.15: every GET says "do not cache" and when it was generated.
        response.headers["cache-control"] = "no-cache"
        response.headers["last-modified"] = email.utils.formatdate(time.time(), usegmt=True)
    if response.status_code >= 400 and version < (1, 23):
        _drop_error_codes(response)


def _drop_error_codes(response: Response) -> None:
    """Error ``code`` fields appeared in 1.23; older requests get bodies without them."""
    payload = json.loads(response.body)
    for entry in payload.get("errors", []):
        entry.pop("code", None)
    response.body = json.dumps(payload).encode()
    response.headers["content-length"] = str(len(response.body))


def check_uuid(value: str, what: str = "uuid") -> str:
    try:
        uuidlib.UUID(value)
    except (ValueError, AttributeError, TypeError):
        raise errors.MalformedUuid(what=what, value=value) from None
    return value
