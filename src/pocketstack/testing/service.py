"""pocketstack's own API as the API server mounts it: at ``/_pocketstack``, beside the
services but not one of them (it has no catalog entry; clients of the cloud never need
it, tests and CI jobs do): the state API (reset, snapshots) and the fault rules
(pocketstack/faults), admin only, in Keystone's error format."""

from __future__ import annotations

from starlette.applications import Starlette

from pocketstack.common.api.errors import keystone_format
from pocketstack.common.api.routes import Router
from pocketstack.common.service import Service
from pocketstack.faults import policies as faults_policies
from pocketstack.faults.api import FaultsApi
from pocketstack.testing import policies
from pocketstack.testing.api import StateApi

# State files are uploaded whole; a test cloud's state is small, a seeded one less so.
MAX_STATE_FILE = 256 * 1024 * 1024


class ToolsService(Service):
    name = "pocketstack"
    path = "/_pocketstack"
    rules = (*policies.RULES, *faults_policies.RULES)

    def app(self) -> Starlette:
        router = Router().include(StateApi(self.cloud.state), FaultsApi(self.cloud.faults))
        return self.api(router, keystone_format, max_body=MAX_STATE_FILE)
