"""The Identity service as the cloud runs it: Keystone v3 under ``/identity``.  Its
manager, :class:`~pocketstack.identity.manager.Identity`, is the cloud's own
(``cloud.identity``): every service validates tokens through it."""

from __future__ import annotations

import asyncio
import contextlib
import logging

from pocketstack.common.api.errors import keystone_format
from pocketstack.common.health import Check, task_running
from pocketstack.common.service import Counted, Service
from pocketstack.identity.models import Project, User
from pocketstack.identity.policies import RULES
from pocketstack.identity.saml import SHIBBOLETH_ECP_PATH
from pocketstack.identity.x509 import client_attributes

LOG = logging.getLogger(__name__)
PRUNE_INTERVAL = 600  # seconds between sweeps of expired revocation events


class IdentityService(Service):
    regional = False  # one Keystone for every region
    name = "identity"
    catalog_name = "keystone"
    rules = RULES
    counted = (Counted("projects", Project), Counted("users", User))
    # Shibboleth's ECP consumer where a Keystone-to-Keystone sp_url points (identity/saml.py).
    root_aliases = (SHIBBOLETH_ECP_PATH,)

    def __init__(self, cloud):
        super().__init__(cloud)
        self.manager = cloud.identity

    def app(self):
        from pocketstack.identity.api import build_router
        tokenless = self.manager.tokenless
        return self.api(build_router(self.manager), keystone_format, validate_tokenless=lambda req: tokenless.context(
            client_attributes(req.raw.scope), req.headers))

    async def start(self) -> None:
        self._pruner = asyncio.create_task(self._prune_revocations())

    def health(self) -> list[Check]:
        return [task_running("identity.revocation_pruner", self._pruner)]

    async def stop(self) -> None:
        self._pruner.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._pruner

    async def _prune_revocations(self) -> None:
        """Revocation events are only needed while a token they match could still be valid."""
        while True:
            try:
                pruned = await asyncio.to_thread(self.manager.revoke.prune)
                if pruned:
                    LOG.info("pruned %d expired revocation events", pruned)
            except Exception:
                LOG.exception("pruning revocation events failed")
            await asyncio.sleep(PRUNE_INTERVAL)
