"""``GET /v2/images`` query parameters, parsed the way Glance parses them.

Every parameter Glance does not reserve is a filter: base attributes compare columns
(``name``, ``status``, ``disk_format``, ``container_format`` and ``id`` also accept
``in:a,b``; ``size``, ``virtual_size``, ``min_disk``, ``min_ram`` are integers), ``tag``
(repeatable) requires all tags, ``size_min``/``size_max`` bound the size,
``created_at``/``updated_at`` take ``gt:``/``gte:``/``lt:``/``lte:``/``eq:``/``neq:`` and
an ISO 8601 time, and any other key matches a free-form property.
Sorting follows Glance: classic ``sort_key``/``sort_dir`` or ``sort=k:dir,…``, both
defaulting to descending.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, cast

import sqlalchemy as sa

from pocketstack.common.pagination import Paging
from pocketstack.common.validation import parse_bool
from pocketstack.image import errors
from pocketstack.image import models as m

if TYPE_CHECKING:  # the query string of a request (the API's, or compute's proxy's)
    from starlette.datastructures import QueryParams

DEFAULT_LIMIT = 25
MAX_LIMIT = 1000
SORT_KEYS = ("name", "status", "container_format", "disk_format", "size", "id", "created_at", "updated_at")
PAGING_PARAMS = ("limit", "marker", "sort", "sort_key", "sort_dir")
IN_FILTERS = ("name", "status", "container_format", "disk_format", "id")
EQ_FILTERS = ("owner", "checksum", "os_hash_algo", "os_hash_value")
# Integer columns compared exactly, as Glance compares any column of its images table.
INT_FILTERS = ("size", "virtual_size", "min_disk", "min_ram")
BOOL_FILTERS = ("protected", "os_hidden")
TIME_FILTERS = ("created_at", "updated_at")
TIME_OPERATORS = {"gt": "__gt__", "gte": "__ge__", "lt": "__lt__", "lte": "__le__", "eq": "__eq__",
                  "neq": "__ne__"}
VISIBILITY_FILTERS = ("community", "public", "private", "shared", "all")
MEMBER_STATUS_FILTERS = ("pending", "accepted", "rejected", "all")


@dataclass
class ImageQuery:
    visibility: str | None = None
    member_status: str = "accepted"
    conditions: list[sa.ColumnElement[bool]] = field(default_factory=list)
    paging: Paging = field(default_factory=Paging)


def _int(value: str, name: str) -> int:
    try:
        number = int(value)
    except ValueError:
        raise errors.InvalidIntegerFilter(name=name, value=value) from None
    if abs(number) >= 2**63:
        raise errors.IntegerFilterOutOfRange(name=name, value=value)
    return number


def _time(name: str, raw: str) -> sa.ColumnElement[bool]:
    op, sep, value = raw.partition(":")
    if not sep or op not in TIME_OPERATORS:
        op, value = "eq", raw
    try:
        when = dt.datetime.fromisoformat(value.strip())
        if when.tzinfo is not None:
            when = when.astimezone(dt.timezone.utc).replace(tzinfo=None)
    except (ValueError, OverflowError):
        raise errors.InvalidTimeFilter(name=name, value=value) from None
    return cast(sa.ColumnElement[bool], getattr(getattr(m.Image, name), TIME_OPERATORS[op])(when))


def _values(raw: str) -> list[str] | None:
    """The list of an ``in:a,b`` filter, or None for a plain value."""
    if raw.startswith("in:"):
        return [v.strip().strip('"') for v in raw[3:].split(",")]
    return None


def _sorting(query: QueryParams) -> list[tuple[str, str]]:
    keys: list[str] = []
    dirs: list[str] = []
    if "sort" in query:
        if "sort_key" in query or "sort_dir" in query:
            raise errors.MixedSortSyntax()
        for item in query["sort"].strip().split(","):
            key, _, direction = item.partition(":")
            keys.append(key.strip())
            dirs.append(direction.strip() or "desc")
    else:
        keys = [k.strip() for k in query.getlist("sort_key")]
        dirs = [d.strip() for d in query.getlist("sort_dir")]
        if len(dirs) > 1 and len(dirs) != len(keys):
            raise errors.SortDirsMismatch()
    for key in keys:
        if key not in SORT_KEYS:
            raise errors.InvalidSortKey(key=key, allowed=", ".join(SORT_KEYS))
    for direction in dirs:
        if direction not in ("asc", "desc"):
            raise errors.InvalidSortDir(direction=direction)
    keys = keys or ["created_at"]
    dirs = dirs or ["desc"]
    sort = [(k, dirs[i] if i < len(dirs) else dirs[0]) for i, k in enumerate(keys)]
    for key in ("created_at", "id"):
        if key not in keys:
            sort.append((key, dirs[0]))
    return sort


def parse(query: QueryParams) -> ImageQuery:
    """Turn the query string of an image list into SQL conditions and paging; 400 on
    anything Glance would reject."""
    result = ImageQuery()
    limit = DEFAULT_LIMIT
    if "limit" in query:
        limit = _int(query["limit"], "limit")
        if limit < 0:
            raise errors.LimitNotPositive()
    result.paging = Paging(limit=min(limit, MAX_LIMIT), marker=query.get("marker"), sort=_sorting(query))
    if "changes-since" in query:
        raise errors.ChangesSinceRemoved()
    visibility = query.get("visibility")
    if visibility is not None:
        if visibility not in VISIBILITY_FILTERS:
            raise errors.InvalidFilterValue(name="visibility", value=visibility)
        result.visibility = visibility
    member_status = query.get("member_status", "accepted")
    if member_status not in MEMBER_STATUS_FILTERS:
        raise errors.InvalidMemberStatus(member_status=member_status)
    result.member_status = member_status
    conditions = result.conditions
    if "os_hidden" not in query:
        conditions.append(m.Image.os_hidden == sa.false())
    for tag in query.getlist("tag"):
        conditions.append(sa.select(m.ImageTag.image_id).where(
            m.ImageTag.image_id == m.Image.id, m.ImageTag.value == tag.strip()).exists())
    for key, raw in query.multi_items():
        if key in PAGING_PARAMS or key in ("visibility", "member_status", "tag"):
            continue
        if key in IN_FILTERS:
            values = _values(raw)
            column = getattr(m.Image, key)
            conditions.append(column.in_(values) if values is not None else column == raw)
        elif key in EQ_FILTERS:
            conditions.append(getattr(m.Image, key) == raw)
        elif key in INT_FILTERS:
            conditions.append(getattr(m.Image, key) == _int(raw, key))
        elif key in BOOL_FILTERS:
            conditions.append(getattr(m.Image, key) == parse_bool(raw, key))
        elif key == "size_min":
            conditions.append(m.Image.size >= _int(raw, key))
        elif key == "size_max":
            conditions.append(m.Image.size <= _int(raw, key))
        elif key in TIME_FILTERS:
            conditions.append(_time(key, raw))
        else:
            conditions.append(sa.select(m.ImageProperty.image_id).where(
                m.ImageProperty.image_id == m.Image.id, m.ImageProperty.name == key,
                m.ImageProperty.value == raw).exists())
    return result
