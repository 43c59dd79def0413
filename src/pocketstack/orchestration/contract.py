"""What other services may call of Orchestration: nothing yet beyond reading stacks (the
dashboard's view); everything else goes through the public API."""

from __future__ import annotations

from typing import Protocol

from pocketstack.orchestration import models as m


class OrchestrationContract(Protocol):
    def find(self, project_id: str, name_or_id: str) -> m.Stack: ...
