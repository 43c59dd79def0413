"""How the metadata API answers a path: a value of a tree rendered as Nova does.

A dict lists its keys one a line, sorted, a subtree's with a trailing ``/`` (or the
subtree's ``_name`` when it has one: EC2's ``public-keys/`` lists ``0=<key name>``); a
list is its items one a line; bytes and text are themselves; anything else is ``str()``
of it (``None`` too, as Nova prints it).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

TEXT = "text/plain"
JSON = "application/json"


class PathNotFound(Exception):
    """No such path or version: the API answers 404."""


LATEST = "latest"


@dataclass(frozen=True)
class Versions:
    """The dated versions of one tree, oldest first; ``latest`` means the newest."""

    names: tuple[str, ...]

    def resolve(self, name: str) -> str:
        """The version ``name`` means; 404 for an unknown one."""
        if name == LATEST:
            return self.names[-1]
        if name not in self.names:
            raise PathNotFound(name)
        return name

    def since(self, first: str, wanted: str) -> bool:
        """Whether ``wanted`` is ``first`` or newer (what it serves)."""
        return self.names.index(wanted) >= self.names.index(first)


@dataclass(frozen=True)
class Answer:
    body: bytes
    content_type: str = TEXT


def render(value: Any) -> bytes:
    """``value`` as the body Nova's ``ec2_md_print`` makes of it."""
    if isinstance(value, dict):
        lines = []
        for key in sorted(value):
            if key == "_name":
                continue
            child = value[key]
            if isinstance(child, dict):
                lines.append(str(child["_name"]) if "_name" in child else f"{key}/")
            else:
                lines.append(key)
        return "\n".join(lines).encode()
    if isinstance(value, list):
        return "\n".join(str(item) for item in value).encode()
    if isinstance(value, bytes):
        return value
    return str(value).encode()


def find(tree: dict, tokens: list[str]) -> Any:
    """The value at ``tokens`` under ``tree``: only dicts have children (Nova answers 500
    for a path below a list or a leaf; this is a 404)."""
    value: Any = tree
    for token in tokens:
        if not isinstance(value, dict) or token not in value or token == "_name":
            raise PathNotFound("/".join(tokens))
        value = value[token]
    return value


def listing(value: Any) -> Answer:
    return Answer(render(value))
