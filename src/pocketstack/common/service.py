"""What a pocketstack service is to the process that runs it.

Every service (identity, compute, network, …) is a :class:`Service`: an ASGI app
mounted under its path prefix, background workers started and stopped with the process,
and the catalog entry that tells clients where to find it.  The all-in-one server and
the scaled-out ``pocketstack api`` run the same objects.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from starlette.types import ASGIApp

if TYPE_CHECKING:
    from pocketstack.cloud import Cloud


class Service:
    name: str = ""          # "identity"
    path: str = ""          # "/identity": where the API is mounted
    catalog_type: str = ""  # "identity"
    catalog_name: str = ""  # "keystone"
    catalog_suffix: str = ""  # appended to the mount URL in the catalog, e.g. "/v2.1"

    # The one public entry of the service: what other services call (it implements the
    # service's ``contract.py``), handed out by :meth:`Cloud.contract`.
    manager: Any = None

    def __init__(self, cloud: "Cloud"):
        self.cloud = cloud

    @property
    def url(self) -> str:
        """Public URL of the service root."""
        return self.cloud.settings.effective_public_url + self.path

    def catalog_url(self) -> str:
        return self.url + self.catalog_suffix

    def app(self) -> ASGIApp:
        raise NotImplementedError

    async def start(self) -> None:
        """Start background workers (none by default)."""

    async def stop(self) -> None:
        """Stop background workers, finishing what is in flight."""
