"""What a pocketstack service is to the process that runs it.

Every service (identity, compute, network, …) is a :class:`Service`: an ASGI app
mounted under its path prefix, background workers started and stopped with the process,
and the catalog entry that tells clients where to find it.  The all-in-one server and
the scaled-out ``pocketstack api`` run the same objects.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from starlette.applications import Starlette
from starlette.routing import BaseRoute
from starlette.types import ASGIApp

from pocketstack.common.api.app import ServiceSpec, build_app
from pocketstack.common.api.errors import ErrorFormat
from pocketstack.common.api.routes import Router
from pocketstack.common.health import Check
from pocketstack.common.policy import Rule

if TYPE_CHECKING:
    from pocketstack.cloud import Cloud


@dataclass(frozen=True)
class Counted:
    """A resource of the service in the ``pocketstack_resources`` gauge: the rows of
    ``model``, by the value of its ``state`` column when one is named."""

    resource: str  # "servers"
    model: Any
    state: str | None = None  # "vm_state"


class Service:
    name: str = ""          # "identity"
    path: str = ""          # where the API is mounted; default "/<name>"
    catalog_type: str = ""  # default the name; "block-storage" for volume
    catalog_name: str = ""  # "keystone"
    catalog_suffix: str = ""  # appended to the mount URL in the catalog, e.g. "/v2.1"
    # Served again by each further region of the cloud (``regions``), with that region's
    # own data; False for what is one for the whole cloud (Keystone, the dashboard).
    regional: bool = True

    # The one public entry of the service: what other services call (it implements the
    # service's ``contract.py``), handed out by :meth:`Cloud.contract`.
    manager: Any = None
    # Its documented default policy rules (``policies.RULES``), registered by :meth:`api`.
    rules: Sequence[Rule] = ()
    # What the API processes count for the ``pocketstack_resources`` gauge at each scrape.
    counted: Sequence[Counted] = ()

    def __init_subclass__(cls, **kwargs: Any) -> None:
        """Most services are mounted and listed in the catalog under their name."""
        super().__init_subclass__(**kwargs)
        cls.path = cls.path or f"/{cls.name}"
        cls.catalog_type = cls.catalog_type or cls.name

    def __init__(self, cloud: "Cloud"):
        self.cloud = cloud

    @property
    def url(self) -> str:
        """Public URL of the service root."""
        return self.cloud.settings.effective_public_url + self.path

    def catalog_url(self) -> str:
        return self.url + self.catalog_suffix

    def app(self) -> ASGIApp:
        """The service's ASGI app: its router through :meth:`api`.  Built on the first
        request to the service (:class:`pocketstack.cloud.LazyApp`), so implementations
        import their ``api`` package here, not at module level."""
        raise NotImplementedError

    def api(self, router: Router, error_format: ErrorFormat, **options: Any) -> Starlette:
        """This service's API with what every service shares filled in: the cloud's policy
        enforcer (with this service's :attr:`rules` registered), token validation by
        Identity, the public URL, the 401 challenge and the cloud's fault rules. ``options`` are the rest of
        :class:`~pocketstack.common.api.app.ServiceSpec` (microversions, hooks, a token validator
        that also knows credentials of the service's own)."""
        cloud = self.cloud
        cloud.enforcer.register(self.rules)
        options.setdefault("validate_token", cloud.identity.validate_token)
        return build_app(ServiceSpec(
            name=self.name, router=router, error_format=error_format, enforcer=cloud.enforcer, service_url=self.url,
            www_authenticate=cloud.www_authenticate, metrics=cloud.metrics, faults=cloud.faults,
            service_type=self.catalog_type, **options))

    def service_user(self) -> tuple[str, str] | None:
        """The name and password of the service's own Identity user, which bootstrap
        makes (orchestration's: the trustee of stacks' trusts); None by default."""
        return None

    def routes(self) -> list[BaseRoute]:
        """Routes the service serves outside its path prefix, at the root of the API
        server (compute: the noVNC console proxy under ``/novnc``); none by default."""
        return []

    # Paths of the service's own API that the server also answers at its root (identity:
    # Shibboleth's ECP consumer), by the same routes.
    root_aliases: tuple[str, ...] = ()

    async def start(self) -> None:
        """Start background workers (none by default)."""

    async def stop(self) -> None:
        """Stop background workers, finishing what is in flight."""

    def health(self) -> list[Check]:
        """Whether this process's workers of the service are up, one check each (none by
        default); called only once the service started, from a worker thread, so it reads
        state and never blocks on I/O."""
        return []
