"""Account and container listings: query parameters and the text, JSON and XML bodies."""

from __future__ import annotations

import json
from xml.sax.saxutils import escape, quoteattr

from starlette.responses import Response

from pocketstack.object import errors
from pocketstack.object.api import symlinks
from pocketstack.object.timestamps import iso

LIMIT = 10000
CONTENT_TYPES = {"plain": "text/plain", "json": "application/json", "xml": "application/xml"}
_ACCEPTED = [("text/plain", "plain"), ("application/json", "json"), ("application/xml", "xml"),
             ("text/xml", "xml")]


def params(query) -> dict:
    """Validated ``limit``/``marker``/``end_marker``/``prefix``/``delimiter``/``reverse``."""
    raw_limit = query.get("limit")
    limit = LIMIT
    if raw_limit is not None:
        if not (raw_limit.isascii() and raw_limit.isdigit()):
            raise errors.InvalidLimit(value=raw_limit)
        digits = raw_limit.lstrip("0") or "0"
        if len(digits) > len(str(LIMIT)) or int(digits) > LIMIT:  # int() refuses thousands of digits
            raise errors.LimitTooHigh(limit=LIMIT)
        limit = int(digits)
    delimiter = query.get("delimiter", "")
    if len(delimiter) > 1:
        raise errors.BadDelimiter()
    return {"limit": limit, "marker": query.get("marker", ""), "end_marker": query.get("end_marker", ""),
            "prefix": query.get("prefix", ""), "delimiter": delimiter,
            "reverse": query.get("reverse", "").lower() in ("1", "true", "yes", "on", "t", "y")}


def negotiate(query, headers) -> str:
    """``plain``, ``json`` or ``xml`` from ``?format=`` or the Accept header; 406 otherwise."""
    fmt = query.get("format")
    if fmt:
        return fmt.lower() if fmt.lower() in CONTENT_TYPES else "plain"
    accept = headers.get("accept", "")
    if not accept:
        return "plain"
    best, best_q = None, 0.0
    for part in accept.split(","):
        media, *opts = [p.strip() for p in part.split(";")]
        q = 1.0
        for opt in opts:
            if opt.startswith("q="):
                try:
                    q = float(opt[2:])
                except ValueError:
                    q = 0.0
        for offered, name in _ACCEPTED:
            if q > best_q and (media in ("*/*", offered) or (media.endswith("/*") and
                                                              offered.startswith(media[:-1]))):
                best, best_q = name, q
    if best is None:
        raise errors.ListingNotAcceptable()
    return best


def object_entry(row: dict, account: str = "") -> dict:
    """A container listing's entry of ``row`` (of a container in ``account``)."""
    if "subdir" in row:
        return row
    return symlinks.listing_fields({"name": row["name"], "hash": row["etag"], "bytes": row["size"],
                                    "content_type": _as_text(row["content_type"]),
                                    "last_modified": iso(row["created_at"])}, account)


def _as_text(header_value: str) -> str:
    """A header value stored as it arrived (Latin-1: a character a byte) as the text its
    UTF-8 bytes spell, as Swift lists a Content-Type; other bytes are left as they are."""
    try:
        return header_value.encode("latin-1").decode("utf-8")
    except UnicodeError:
        return header_value


def _container_entry(row: dict) -> dict:
    if "subdir" in row:
        return row
    return {"name": row["name"], "count": row["object_count"], "bytes": row["bytes_used"],
            "last_modified": iso(row["put_timestamp"])}


def render(kind: str, name: str, rows: list[dict], fmt: str, headers: dict, account: str = "") -> Response:
    """A listing response (of ``account``'s container ``name`` or of the account ``name``);
    an empty plain-text listing is a 204, like Swift's."""
    if kind == "container":
        entries = [object_entry(r, account) for r in rows]
    else:
        entries = [_container_entry(r) for r in rows]
    media = CONTENT_TYPES[fmt] + "; charset=utf-8"
    if fmt == "json":
        body = json.dumps(entries, ensure_ascii=False)
    elif fmt == "xml":
        body = _xml(kind, name, entries)
    else:
        if not entries:
            return Response(status_code=204, headers={**headers, "Content-Type": media})
        body = "".join((e.get("subdir") or e["name"]) + "\n" for e in entries)
    return Response(body.encode(), status_code=200, headers=headers, media_type=media)


def _xml(kind: str, name: str, entries: list[dict]) -> str:
    item = "object" if kind == "container" else "container"
    out = ['<?xml version="1.0" encoding="UTF-8"?>\n', f"<{kind} name={quoteattr(name)}>"]
    for entry in entries:
        if "subdir" in entry:
            out.append(f"<subdir name={quoteattr(entry['subdir'])}><name>{escape(entry['subdir'])}</name></subdir>")
            continue
        fields = "".join(f"<{k}>{escape(str(v))}</{k}>" for k, v in entry.items())
        out.append(f"<{item}>{fields}</{item}>")
    out.append(f"</{kind}>")
    return "".join(out)
