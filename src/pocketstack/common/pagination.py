"""``limit`` / ``marker`` paging and ``sort_key`` / ``sort_dir`` sorting for list APIs.

Paging is keyset-based, like oslo.db's ``paginate_query``: the marker row's sort-key
values become a lexicographic "after this row" condition, so pages stay stable while
rows are inserted and each page costs an index range scan, not an OFFSET.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

import sqlalchemy as sa

from pocketstack.common.errors import BadRequest

DEFAULT_MAX_LIMIT = 1000


@dataclass
class Paging:
    limit: int | None = None
    marker: str | None = None
    sort: list[tuple[str, str]] = field(default_factory=list)  # (key, "asc"|"desc")


def parse_paging(query: Mapping[str, str], *, allowed_sort_keys: Sequence[str] = (),
                 default_sort: Sequence[tuple[str, str]] = (("created_at", "desc"), ("id", "desc")),
                 max_limit: int = DEFAULT_MAX_LIMIT) -> Paging:
    """Read ``limit``, ``marker``, ``sort_key``/``sort_dir`` (repeatable) and ``sort``
    (``key:dir,key:dir``) from a query string; 400 on anything malformed."""
    getlist: Callable[[str], list[str]] = getattr(query, "getlist", None) or (
        lambda k: [query[k]] if k in query else [])
    limit = None
    if "limit" in query:
        raw = query["limit"]
        try:
            limit = int(raw)
        except (TypeError, ValueError):
            raise BadRequest(f"Invalid limit {raw!r}: it must be an integer.") from None
        if limit < 0:
            raise BadRequest("Invalid limit: it must be a non-negative integer.")
        limit = min(limit, max_limit)
    keys, dirs = list(getlist("sort_key")), list(getlist("sort_dir"))
    if "sort" in query:
        for item in str(query["sort"]).split(","):
            key, _, direction = item.partition(":")
            keys.append(key.strip())
            dirs.append(direction.strip() or "asc")
    for direction in dirs:
        if direction not in ("asc", "desc"):
            raise BadRequest(f"Invalid sort direction {direction!r}: use 'asc' or 'desc'.")
    if len(dirs) > len(keys):
        raise BadRequest("The number of sort_dir values exceeds the number of sort_key values.")
    for key in keys:
        if allowed_sort_keys and key not in allowed_sort_keys:
            raise BadRequest(f"Invalid sort key {key!r}.")
    default_dir = dirs[0] if dirs else "desc"
    sort = [(k, dirs[i] if i < len(dirs) else default_dir) for i, k in enumerate(keys)]
    for key, direction in default_sort:
        if key not in (k for k, _ in sort):
            sort.append((key, direction))
    return Paging(limit=limit, marker=query.get("marker"), sort=sort)


def apply_paging(stmt: sa.Select[Any], model: Any, paging: Paging, marker_row: Any = None) -> sa.Select[Any]:
    """ORDER BY the sort keys and, given the marker's row, keep only rows after it."""
    columns = [(getattr(model, key), direction) for key, direction in paging.sort]
    stmt = stmt.order_by(*(c.desc() if d == "desc" else c.asc() for c, d in columns))
    if marker_row is not None:
        ors = []
        for i, (column, direction) in enumerate(columns):
            value = getattr(marker_row, column.key)
            equal = [c == getattr(marker_row, c.key) for c, _ in columns[:i]]
            after = column < value if direction == "desc" else column > value
            if value is None:
                # NULLs sort first ascending and last descending on every backend we pick
                # ordering for; treat "after NULL" as "not NULL" when ascending.
                after = column.is_not(None) if direction == "asc" else sa.false()
            ors.append(sa.and_(*equal, after))
        stmt = stmt.where(sa.or_(*ors))
    if paging.limit is not None:
        stmt = stmt.limit(paging.limit)
    return stmt


def next_link(url: str, query: Mapping[str, str], last_id: str) -> str:
    """The URL of the next page: the same query with ``marker`` set to the last item."""
    items = [(k, v) for k, v in getattr(query, "multi_items", lambda: list(query.items()))() if k != "marker"]
    items.append(("marker", last_id))
    return f"{url}?{urlencode(items)}"
