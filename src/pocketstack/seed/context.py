"""What every part of the seeder shares while applying one file: the admin client,
the report of what changed, and names resolved to ids (each looked up once)."""

from __future__ import annotations

import contextlib
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from pocketstack.seed.client import ApiFailure, SeedClient
from pocketstack.seed.document import SeedDocument
from pocketstack.seed.errors import Path, Problem, SeedApplyError, format_path

DEFAULT_DOMAIN_ID = "default"


@dataclass
class Report:
    """One line per entry: created, updated (which fields), unchanged, or differing from
    the file where the API cannot change it."""

    lines: list[tuple[str, str, str]] = field(default_factory=list)  # (outcome, path, detail)

    def add(self, outcome: str, path: Path, detail: str = "") -> None:
        self.lines.append((outcome, format_path(path), detail))

    def count(self, outcome: str) -> int:
        return sum(1 for line in self.lines if line[0] == outcome)

    @property
    def changed(self) -> bool:
        return any(outcome in ("created", "updated") for outcome, _, _ in self.lines)

    def summary(self) -> str:
        return ", ".join(f"{self.count(o)} {o}" for o in ("created", "updated", "unchanged", "differs"))

    def details(self) -> list[str]:
        return [f"{outcome} {path}" + (f": {detail}" if detail else "")
                for outcome, path, detail in self.lines if outcome != "unchanged"]


class NotFound(ApiFailure):
    """A name the file refers to is neither in the file nor in the cloud."""

    def __init__(self, kind: str, name: str):
        super().__init__(f"no {kind.replace('_', ' ')} named {name!r}", status=404)


@dataclass
class Context:
    doc: SeedDocument
    admin: SeedClient
    report: Report = field(default_factory=Report)
    ids: dict[tuple[str, str], str] = field(default_factory=dict)
    passwords: dict[str, str] = field(default_factory=dict)

    @contextlib.contextmanager
    def at(self, path: Path) -> Iterator[None]:
        """A service's refusal inside this block is reported as the entry at ``path``'s."""
        try:
            yield
        except ApiFailure as failure:
            raise SeedApplyError(self.doc.source, Problem(path, str(failure), self.doc.line(path))) from None

    async def resolve(self, kind: str, name: str, lookup: Callable[[], Awaitable[list[dict[str, Any]]]]) -> str:
        """The id of the ``kind`` called ``name`` (found by ``lookup`` the first time)."""
        if (kind, name) not in self.ids:
            found = await lookup()
            if not found:
                raise NotFound(kind, name)
            self.ids[kind, name] = found[0]["id"]
        return self.ids[kind, name]

    def remember(self, kind: str, name: str, entity: dict[str, Any]) -> dict[str, Any]:
        self.ids[kind, name] = entity["id"]
        return entity

    async def converge(self, path: Path, found: dict[str, Any] | None, create: Callable[[], Awaitable[dict[str, Any]]],
                       mutable: dict[str, Any], update: Callable[[dict[str, Any]], Awaitable[Any]] | None = None,
                       fixed: dict[str, Any] | None = None) -> dict[str, Any]:
        """Create what is missing; bring ``mutable`` fields that differ up to date with
        ``update``; report ``fixed`` fields that differ (the API cannot change them)."""
        if found is None:
            entity = await create()
            self.report.add("created", path)
            return entity
        changes = {k: v for k, v in mutable.items() if found.get(k) != v}
        differing = {k: v for k, v in (fixed or {}).items() if found.get(k) != v}
        if changes and update is not None:
            await update(changes)
            self.report.add("updated", path, ", ".join(sorted(changes)))
        if differing:
            self.report.add("differs", path, "; ".join(
                f"{k} is {found.get(k)!r} in the cloud, {v!r} in the file (cannot be changed)"
                for k, v in sorted(differing.items())))
        if not changes and not differing:
            self.report.add("unchanged", path)
        return {**found, **changes}


def given(entry: dict[str, Any], *keys: str, **renamed: str) -> dict[str, Any]:
    """The ``keys`` present in ``entry`` (``renamed``: API name -> file name)."""
    body = {k: entry[k] for k in keys if k in entry}
    body |= {api: entry[name] for api, name in renamed.items() if name in entry}
    return body
