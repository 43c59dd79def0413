"""Paged lists as Glance serves them (images, metadefs, tasks): the query's
``limit``/``marker``/``sort_key``/``sort_dir`` and the ``first``/``next`` links."""

from __future__ import annotations

from urllib.parse import urlencode

from pocketstack.common.api.request import ApiRequest
from pocketstack.common.pagination import Paging, parse_paging

DEFAULT_LIMIT = 25
MAX_LIMIT = 1000


def list_paging(req: ApiRequest, sort_keys: tuple[str, ...]) -> Paging:
    """Glance's list paging: 25 items by default, newest first."""
    paging = parse_paging(req.query, allowed_sort_keys=sort_keys,
                          default_sort=(("created_at", "desc"), ("id", "desc")), max_limit=MAX_LIMIT)
    if paging.limit is None:
        paging.limit = DEFAULT_LIMIT
    return paging


def list_links(req: ApiRequest, path: str, count: int, limit: int | None, last: str | None) -> dict[str, str]:
    """``first`` (and ``next`` when the page is full) links of a list, root-relative."""
    params = [(k, v) for k, v in req.query.multi_items() if k != "marker"]
    links = {"first": path + (f"?{urlencode(params)}" if params else "")}
    if count and count == limit and last is not None:
        links["next"] = f"{path}?{urlencode(params + [('marker', last)])}"
    return links
