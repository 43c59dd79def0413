"""Marker/limit paging of a long list, as Horizon pages them: ``Next`` asks the API for the
items after the last one shown (its id is the marker Glance, Cinder and Neutron take),
never fetching the whole collection.  Each page asks for one item more than it shows, as
Horizon does: the APIs' own next links also follow a full last page, which would make
``Next`` lead to an empty page.

``Previous`` needs the marker of the page before, which Glance and Cinder do not give
back (only a ``next`` link): the query keeps the markers of the pages already passed
(``trail``), so going back asks the API for exactly the page seen before, in the same
order, whatever the API.

A collection the API does not page (Keystone's, or one the dashboard orders itself)
pages the same way once read whole (:func:`page_in`): the marker is the last shown
item's key, so the queries and links are those of an API-paged list.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from starlette.datastructures import QueryParams

# Items per page unless the query says otherwise (``?limit=``, at most MAX_PAGE_SIZE: one
# more is asked for, and the APIs cap a page at 1000).
PAGE_SIZE = 50
MAX_PAGE_SIZE = 999


@dataclass(frozen=True)
class Position:
    """Where a list page is: its marker ("" for the first page), the markers of the pages
    before it (the first page's excluded) and the page size."""

    marker: str = ""
    trail: tuple[str, ...] = ()
    limit: int = PAGE_SIZE

    @classmethod
    def of(cls, query: QueryParams) -> Position:
        """The position a list page's query names; a malformed size is the default one."""
        try:
            limit = min(max(int(query.get("limit", PAGE_SIZE)), 1), MAX_PAGE_SIZE)
        except ValueError:
            limit = PAGE_SIZE
        trail = tuple(m for m in query.get("trail", "").split(",") if m)
        return cls(query.get("marker", ""), trail, limit)

    def params(self) -> dict[str, Any]:
        """The API's paging parameters for this page: one item more than it shows, which
        tells whether there is a next page."""
        return {"limit": self.limit + 1, **({"marker": self.marker} if self.marker else {})}

    def query(self) -> str:
        """The list page's query string that shows this position again."""
        values: dict[str, Any] = {}
        if self.marker:
            values["marker"] = self.marker
        if self.trail:
            values["trail"] = ",".join(self.trail)
        if self.limit != PAGE_SIZE:
            values["limit"] = self.limit
        return urlencode(values)

    def after(self, marker: str) -> Position:
        """The next page, starting after ``marker``."""
        return Position(marker, self.trail + ((self.marker,) if self.marker else ()), self.limit)

    def before(self) -> Position | None:
        """The previous page (None on the first)."""
        if not self.marker:
            return None
        return Position(self.trail[-1] if self.trail else "", self.trail[:-1], self.limit)


@dataclass(frozen=True)
class Page:
    """One page of a list: its items and the queries of the pages beside it (None where
    there is none)."""

    items: list[dict[str, Any]]
    next: str | None
    previous: str | None


Item = dict[str, Any]


def by_id(item: Item) -> str:
    return str(item["id"])


def page_of(body: dict[str, Any], key: str, position: Position, marker: Callable[[Item], str] = by_id) -> Page:
    """The page ``body`` (the API's answer at ``position``, one item more than a page
    when there is a next page) shows; ``marker`` is what the API takes as the marker of
    an item (its ``id``)."""
    items = body[key][:position.limit]
    more = len(body[key]) > position.limit and bool(items)
    before = position.before()
    return Page(items, position.after(marker(items[-1])).query() if more else None,
                before.query() if before is not None else None)


def page_in(items: list[Item], position: Position, marker: Callable[[Item], str] = by_id) -> Page:
    """The page of a whole list at ``position``: the items after the one whose ``marker``
    is the position's (from the start when none is, as when that item went away)."""
    start = 0
    if position.marker:
        start = next((i + 1 for i, item in enumerate(items) if marker(item) == position.marker), 0)
    return page_of({"items": items[start:start + position.limit + 1]}, "items", position, marker)
