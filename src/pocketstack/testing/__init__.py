"""pocketstack as a cloud made for tests: reset to the bootstrapped state, named
snapshots and state files, the pytest plugin (:mod:`.plugin`) and a context manager
for unittest (:class:`Cloud`).  See docs/testing.md.

Importing this package is cheap: the pytest plugin is loaded by every pytest run that
has pocketstack installed, so nothing here imports the cloud until it is used.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pocketstack.testing.harness import Cloud

__all__ = ["Cloud"]


def __getattr__(name: str) -> Any:
    if name == "Cloud":
        from pocketstack.testing.harness import Cloud

        return Cloud
    raise AttributeError(name)
