"""Conditional requests: If-Match, If-None-Match, If-Modified-Since, If-Unmodified-Since."""

from __future__ import annotations

import email.utils

from pocketstack.object.errors import NotModified, PreconditionFailed


def _etags(value: str) -> list[str]:
    return [tag.strip().strip('"') for tag in value.split(",") if tag.strip()]


def _date(value: str | None) -> float | None:
    if not value:
        return None
    try:
        parsed = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return parsed.timestamp()


def check(headers, etag: str | None, last_modified: float | None, method: str, response_headers: dict) -> None:
    """Raise 412 or 304 (with ``response_headers``) when a condition fails; ``etag`` None = no object."""
    if_match = headers.get("if-match")
    if if_match is not None:
        tags = _etags(if_match)
        if etag is None or ("*" not in tags and etag not in tags):
            raise PreconditionFailed(headers=response_headers)
    if_none_match = headers.get("if-none-match")
    if if_none_match is not None and etag is not None:
        tags = _etags(if_none_match)
        if "*" in tags or etag in tags:
            if method in ("GET", "HEAD"):
                raise NotModified(headers=response_headers)
            raise PreconditionFailed(headers=response_headers)
    if etag is None or last_modified is None:
        return
    unmodified_since = _date(headers.get("if-unmodified-since"))
    if unmodified_since is not None and last_modified > unmodified_since:
        raise PreconditionFailed(headers=response_headers)
    modified_since = _date(headers.get("if-modified-since"))
    if modified_since is not None and if_none_match is None and last_modified <= modified_since \
            and method in ("GET", "HEAD"):
        raise NotModified(headers=response_headers)
