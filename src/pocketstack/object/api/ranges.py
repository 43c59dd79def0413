"""HTTP Range requests over an object: ``bytes=0-9``, ``bytes=-5``, ``bytes=10-`` and lists.

As in Swift a syntactically invalid header is ignored (the whole object is returned),
and a header whose ranges all miss the object is a 416.  A number ``int()`` cannot
read (a superscript digit, thousands of digits) makes the header invalid, as in Swift.
"""

from __future__ import annotations


def parse(header: str | None, size: int) -> list[tuple[int, int]] | None:
    """``[(start, end_exclusive), ...]``; ``None`` for "ignore"; ``[]`` for unsatisfiable."""
    if not header or not header.strip().lower().startswith("bytes="):
        return None
    try:
        return _ranges(header, size)
    except ValueError:
        return None


def _ranges(header: str, size: int) -> list[tuple[int, int]] | None:
    ranges = []
    for spec in header.strip()[6:].split(","):
        spec = spec.strip()
        first, dash, last = spec.partition("-")
        if not dash or not (first.isdigit() or first == "") or not (last.isdigit() or last == ""):
            return None
        if first == "" and last == "":
            return None
        if first == "":
            length = int(last)
            if length == 0:
                continue
            ranges.append((max(0, size - length), size))
            continue
        start = int(first)
        end = size if last == "" else int(last) + 1
        if last != "" and end <= start:
            return None
        if start >= size:
            continue
        ranges.append((start, min(end, size)))
    if len(ranges) > 100:
        return None
    return ranges
