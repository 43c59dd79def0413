"""What other services (and tools) may call of instance HA: report a failure as an
external monitor does (``POST /notifications``), and run one round of the monitor and
recovery (what the leading HA process does every ``ha_monitor_interval`` seconds).
Both block: call them from a worker thread.  ``Cloud.contract("ha")`` hands out the
implementation (:class:`~pocketstack.ha.manager.InstanceHA`)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any, Protocol

from pocketstack.ha.models import Notification


class InstanceHAContract(Protocol):
    def report(self, type_: str, hostname: str, payload: Mapping[str, Any],
               generated_time: dt.datetime | None) -> Notification:
        """Record a failure of ``hostname``; a ``COMPUTE_HOST`` ``STOPPED`` one opens its
        recovery (fenced first).  HostNotFoundByName, DuplicateNotification (one is open)."""

    def tick(self) -> None:
        """One round: look at every compute host, then advance every open recovery."""
