"""Pages that list one collection of one service's API: what most admin pages are,
declared (:class:`Listing`) rather than written out again for each collection.

A listing reads the collection with the user's token, keeps and orders it, and renders
one page of it (``page``: :func:`~pocketstack.dashboard.paging.page_in`, the paging of
the long lists) with the items under the name the template uses, the choices its forms
offer (identity collections: users, projects, roles) and anything else it declares.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from pocketstack.dashboard.pages.common import choices
from pocketstack.dashboard.paging import Item, Position, by_id, page_in
from pocketstack.dashboard.web import Ctx, page


def by_name(item: Item) -> Any:
    return item["name"]


async def identity_list(ctx: Ctx, collection: str, **params: Any) -> list[Item]:
    """An identity collection (``users``, ``groups/<id>/users``): the list its body holds."""
    return (await ctx.api.get("identity", f"/{collection}", **params))[collection.rsplit("/", 1)[-1]]


@dataclass(frozen=True)
class Listing:
    """One list page.  ``path`` is the API's (``/flavors/detail``), ``key`` the list in its
    body (``flavors``), ``name`` what the template calls the items (by default ``key``).
    ``keep`` filters, ``order`` sorts (None: as listed); ``choices`` names identity
    collections offered as (id, name) pairs under their own names; ``more`` adds values
    computed from the page's items; ``marker`` names an item in the paging query."""

    template: str
    title: str
    service: str
    path: str
    key: str
    name: str = ""
    params: Mapping[str, Any] = field(default_factory=dict)
    keep: Callable[[Item], bool] | None = None
    order: Callable[[Item], Any] | None = by_name
    choices: tuple[str, ...] = ()
    more: Callable[[Ctx, list[Item]], Awaitable[dict[str, Any]]] | None = None
    marker: Callable[[Item], str] = by_id

    async def items(self, ctx: Ctx) -> list[Item]:
        listed: list[Item] = (await ctx.api.get(self.service, self.path, **self.params))[self.key]
        if self.keep is not None:
            listed = [item for item in listed if self.keep(item)]
        return sorted(listed, key=self.order) if self.order is not None else listed

    async def show(self, ctx: Ctx) -> Response:
        shown = page_in(await self.items(ctx), Position.of(ctx.request.query_params), self.marker)
        values = {self.name or self.key: shown.items, "page": shown,
                  **(await self.more(ctx, shown.items) if self.more is not None else {})}
        for collection in self.choices:
            values[collection] = choices(await identity_list(ctx, collection))
        return await ctx.render(self.template, title=self.title, **values)

    def endpoint(self, admin: bool = False) -> Callable[[Request], Awaitable[Response]]:
        """The page (:func:`~pocketstack.dashboard.web.page`) serving this listing."""
        return page(admin=admin)(self.show)
