"""What goes wrong with a seed file, each problem located by its path in the file.

A path is written as a reader finds it in the YAML (``networks[2].subnets[0].cidr``);
the line is added when the loader knows it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

Path = tuple[Any, ...]  # keys and indexes from the document's root


def format_path(path: Path) -> str:
    """``("networks", 2, "subnets", 0, "cidr")`` -> ``networks[2].subnets[0].cidr``."""
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or "(top level)"


@dataclass(frozen=True)
class Problem:
    path: Path
    message: str
    line: int | None = None

    def __str__(self) -> str:
        where = format_path(self.path) + (f" (line {self.line})" if self.line else "")
        return f"{where}: {self.message}"


class SeedError(Exception):
    """The seed was not (wholly) applied; ``problems`` say where and why."""

    def __init__(self, source: str, problems: list[Problem], doing: str):
        self.source = source
        self.problems = problems
        super().__init__(f"{source}: {doing}:\n" + "\n".join(f"  {p}" for p in problems))


class SeedFileError(SeedError):
    """The file is not a valid seed; nothing was created."""

    def __init__(self, source: str, problems: list[Problem]):
        super().__init__(source, problems, f"{len(problems)} problem(s), nothing was created")


class SeedApplyError(SeedError):
    """A service refused an entry; what came before it was created."""

    def __init__(self, source: str, problem: Problem):
        super().__init__(source, [problem], "the cloud refused an entry")
