"""User metadata headers (``X-<Kind>-Meta-*`` and friends): parsing, limits, rendering.

Swift limits metadata so that one request cannot make a database row or xattr
unbounded; the same limits give clients the same 400s.  Like Swift's, they count
bytes as sent (header values arrive as Latin-1 text: one character a byte), and no
header value of a request that sets metadata may be longer than 8192 bytes.
"""

from __future__ import annotations

from pocketstack.object import errors

MAX_NAME = 128
MAX_VALUE = 256
MAX_COUNT = 90
MAX_TOTAL = 4096
MAX_HEADER = 8192


def title(header: str) -> str:
    return "-".join(part.capitalize() for part in header.split("-"))


def collect(headers, kind: str, extra: tuple[str, ...] = ()) -> dict[str, str]:
    """Metadata updates in a request: ``X-<kind>-Meta-*``, removals, and ``extra`` headers.

    A removal (``X-Remove-<kind>-Meta-Foo`` or an empty value) is an empty string --
    except for objects, whose metadata a PUT or POST replaces whole: there an empty
    value is kept as an empty value, and a removal just leaves the name out.
    """
    prefix, remove = f"x-{kind}-meta-", f"x-remove-{kind}-meta-"
    updates: dict[str, str] = {}
    removed = set()
    for name, value in headers.items():
        if len(value) > MAX_HEADER:
            raise errors.HeaderTooLong(name=title(name)[:MAX_NAME])
        name = name.lower()
        if name.startswith(prefix):
            updates[title(name)] = value.strip()
        elif name.startswith(remove):
            removed.add(title(prefix + name[len(remove):]))
        elif name in extra:
            updates[title(name)] = value.strip()
        elif name.startswith("x-remove-") and "x-" + name[len("x-remove-"):] in extra:
            updates[title("x-" + name[len("x-remove-"):])] = ""
    for name in removed:
        if kind == "object":
            updates.pop(name, None)
        else:
            updates[name] = ""
    check(updates, kind)
    return updates


def check(updates: dict[str, str], kind: str) -> None:
    prefix = f"x-{kind}-meta-"
    total = count = 0
    for name, value in updates.items():
        if not name.lower().startswith(prefix):
            continue
        key = name[len(prefix):]
        if not key:
            raise errors.EmptyMetadataName()
        if kind != "object" and not (is_utf8(key) and (not value or is_utf8(value))):
            raise errors.MetadataNotUtf8()
        if len(key) > MAX_NAME:
            raise errors.MetadataNameTooLong(name=name, limit=MAX_NAME)
        if len(value) > MAX_VALUE:
            raise errors.MetadataValueTooLong(name=name, limit=MAX_VALUE)
        count += 1
        total += len(key) + len(value)
    if count > MAX_COUNT:
        raise errors.TooManyMetadataItems(limit=MAX_COUNT)
    if total > MAX_TOTAL:
        raise errors.MetadataTooLarge(limit=MAX_TOTAL)


def is_utf8(value: str) -> bool:
    """Are a header value's bytes (Latin-1 text as received) valid UTF-8 without NUL?
    Swift's check_utf8: account and container metadata, and a Content-Type, must be."""
    try:
        decoded = value.encode("latin-1").decode("utf-8")
    except UnicodeError:
        return False
    return "\x00" not in decoded


def render(stored: dict[str, list]) -> dict[str, str]:
    """Database metadata (``{name: [value, timestamp]}``) as response headers, removals hidden."""
    return {name: value for name, (value, _ts) in stored.items() if value != ""}
