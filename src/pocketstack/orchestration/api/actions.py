"""``POST /v1/{tenant_id}/stacks/{stack_name}/{stack_id}/actions``: suspend, resume,
check, cancel_update and cancel_without_rollback (200, no body)."""

from __future__ import annotations

import asyncio

from pocketstack.common.api.request import ApiRequest
from pocketstack.common.api.routes import route
from pocketstack.orchestration import actions
from pocketstack.orchestration.api.common import project
from pocketstack.orchestration.api.stacks import STACK
from pocketstack.orchestration.manager import OrchestrationManager


class ActionsApi:
    def __init__(self, manager: OrchestrationManager):
        self.manager = manager

    @route.post(STACK + "/actions", policy="actions:action", body_required=False, status=200)
    async def action(self, req: ApiRequest) -> None:
        """The body names one action (Heat's controller answers its 400s before anything
        else); each action enforces its own rule (``actions:suspend``...)."""
        name = actions.action_name(req.json(required=False))
        tenant = project(req)
        req.authorize(f"actions:{name}", target={"project_id": tenant, "tenant_id": tenant})
        stack = await asyncio.to_thread(self.manager.get, tenant, req.path_params["stack_name"],
                                        req.path_params["stack_id"])
        trust_id = await self.manager.trust_for(req.caller, stack)
        if await asyncio.to_thread(actions.begin, self.manager.store, stack, name, trust_id):
            await self.manager.cast(stack.id)
