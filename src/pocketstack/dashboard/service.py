"""The dashboard as the API processes serve it: pages under ``/dashboard`` on the
cloud's own port.  A front end, not a service (:data:`pocketstack.cloud.FRONTENDS`): it
has no catalog entry, no contract and no workers; it reaches the cloud only through
:meth:`~pocketstack.cloud.Cloud.api_client`."""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING

from starlette.types import ASGIApp

from pocketstack.common.service import Service

if TYPE_CHECKING:
    from pocketstack.dashboard.web import Dashboard


class DashboardService(Service):
    """Its pages, templates (Jinja2) and sessions (Fernet) are loaded with its app, on
    the first request under ``/dashboard``: a cloud that nobody browses never pays for them."""

    name = "dashboard"

    @functools.cached_property
    def dashboard(self) -> Dashboard:
        from pocketstack.dashboard.sessions import SessionStore
        from pocketstack.dashboard.web import Dashboard

        return Dashboard(self.cloud, self.path, SessionStore(self.cloud.db, self.cloud.settings.dashboard_idle_timeout))

    def app(self) -> ASGIApp:
        from starlette.applications import Starlette
        from starlette.routing import Mount
        from starlette.staticfiles import StaticFiles

        from pocketstack.dashboard.pages import ROUTES
        from pocketstack.dashboard.security import SecurityHeaders

        static = StaticFiles(packages=[("pocketstack.dashboard", "static")])
        app = Starlette(routes=[*ROUTES, Mount("/static", app=static, name="static")])
        app.state.dashboard = self.dashboard
        return SecurityHeaders(app, static_prefix=self.path + "/static/")
