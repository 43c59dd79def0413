"""A module imported on first use, for libraries that only some code paths of a start-up
module need (``httpx`` in object storage: only a cloud with remote storage nodes talks
HTTP to them).

Write ``httpx = lazy("httpx")`` under ``if not TYPE_CHECKING`` (and the plain import
under ``if TYPE_CHECKING``, for the type checker): annotations are not evaluated, and
the first attribute read at run time (``httpx.Client(...)``, an ``except httpx.HTTPError``
clause meeting an exception) imports the library.
"""

from __future__ import annotations

import importlib
from types import ModuleType
from typing import Any


class lazy:  # noqa: N801 (stands in for a module)
    __slots__ = ("_name",)

    def __init__(self, name: str):
        self._name = name

    def _module(self) -> ModuleType:
        return importlib.import_module(self._name)

    def __getattr__(self, attribute: str) -> Any:
        return getattr(self._module(), attribute)

    def __repr__(self) -> str:
        return f"<lazy module {self._name!r}>"
