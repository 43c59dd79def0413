"""Small helpers the page modules share: quoting ids into API paths, choices for forms,
one page of a long list."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import quote

from pocketstack.dashboard.paging import Item, Page, Position, by_id, page_of
from pocketstack.dashboard.web import Ctx


def param(ctx: Ctx, name: str) -> str:
    """A path parameter, quoted for use inside an API path."""
    return quoted(ctx.request.path_params[name])


def quoted(value: str) -> str:
    """``value`` as one segment of an API path."""
    return quote(value, safe="")


def choices(items: list[dict[str, Any]], label: str = "name") -> list[tuple[str, str]]:
    """(id, label) pairs for a select, by label."""
    return sorted(((i["id"], i.get(label) or i["id"]) for i in items), key=lambda pair: pair[1].lower())


def selected(ctx: Ctx, name: str) -> list[str]:
    """Every value of a multi-select field (an empty value means "none")."""
    assert ctx.form is not None
    return [v.strip() for v in ctx.form.getlist(name) if isinstance(v, str) and v.strip()]


async def paged(ctx: Ctx, service: str, path: str, key: str, marker: Callable[[Item], str] = by_id,
                headers: dict[str, str] | None = None, **params: Any) -> Page:
    """The page of the collection at ``path`` (body key ``key``) the request's query names
    (:mod:`pocketstack.dashboard.paging`); ``marker`` is the API's marker of an item."""
    position = Position.of(ctx.request.query_params)
    body = await ctx.api.get(service, path, headers=headers, **params, **position.params())
    return page_of(body, key, position, marker)
