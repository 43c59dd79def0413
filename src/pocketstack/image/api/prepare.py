"""What runs before every Image API handler.

It refuses NUL characters in the path and query string with a 400: PostgreSQL cannot
store or even compare them, so they would otherwise surface as database errors.
"""

from __future__ import annotations

from pocketstack.common.api.request import ApiRequest
from pocketstack.image import errors


def prepare(req: ApiRequest) -> None:
    if "\x00" in req.raw.url.path or any("\x00" in k + v for k, v in req.query.multi_items()):
        raise errors.NulInUrl()
