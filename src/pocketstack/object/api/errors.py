"""Swift's error bodies: a short plain-text explanation, nothing structured."""

from __future__ import annotations

from starlette.responses import Response

from pocketstack.common.errors import ApiError


class PreconditionFailed(ApiError):
    status = 412


class LengthRequired(ApiError):
    status = 411


class Unprocessable(ApiError):
    status = 422


def swift_format(error: ApiError) -> Response:
    return Response(error.message, status_code=error.status, headers=dict(error.headers),
                    media_type="text/plain; charset=utf-8")
