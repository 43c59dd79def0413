"""What runs before every Image API handler.

It remembers the ``Accept`` header for the error formatter, and refuses NUL characters
in the path and query string with a 400: PostgreSQL cannot store or even compare
them, so they would otherwise surface as database errors.
"""

from __future__ import annotations

from pocketstack.common.api.app import ApiRequest
from pocketstack.common.api.errors import BadRequest
from pocketstack.image.api.errors import remember_accept


def prepare(req: ApiRequest) -> None:
    remember_accept(req)
    if "\x00" in req.raw.url.path or any("\x00" in k + v for k, v in req.query.multi_items()):
        raise BadRequest("NUL characters are not allowed in the request URL.")
