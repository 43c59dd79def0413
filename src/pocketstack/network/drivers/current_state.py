"""Datapath events applied as the database has the object when they are applied.

A host's driver hears of changes from several places: the request that made a change in
this process (after its commit), and casts from other API processes (``--api-workers``
or a scaled-out ``pocketstack api``).  Nothing orders those deliveries by commit: a
router's ``router_updated`` cast by an API worker can arrive after this process deleted
the router and told the driver so -- and bring the router's namespace back for good --
and two requests of one process may deliver their events in either order.  Applying the
payload an event carries would keep whichever state came last, not the latest one.

So an event here is a notice that an object changed: under one lock, the object is read
anew and applied as it is now (``<kind>_updated``), or, when it no longer exists, as
deleted (``<kind>_deleted`` with the event's payload).  Every event is delivered after
its commit, so the last one applied for an object reads at least that commit: the driver
ends with every object's latest state whatever order the events came in.  It costs one
read by primary key per event, on the host that applies it.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from pocketstack.network.drivers.base import EVENTS, DatapathDriver

# The state key (``datapath_state``'s) of each event's object kind.
KINDS = {"network": "networks", "subnet": "subnets", "port": "ports", "router": "routers",
         "floatingip": "floatingips", "security_group": "security_groups", "qos_policy": "qos_policies",
         "address_group": "address_groups", "metering_label": "metering_labels"}

Reader = Callable[[str, str], "dict | None"]


class CurrentStateDriver(DatapathDriver):
    """``driver`` with each event re-read through ``current(kind, id)`` before it is applied;
    everything else (sync, plugging, status…) is the wrapped driver's own."""

    def __init__(self, driver: DatapathDriver, current: Reader):
        self.driver = driver
        self.current = current
        self.name = driver.name
        self.agent_types = driver.agent_types
        self._lock = threading.Lock()

    def __getattr__(self, name: str) -> Any:  # only what this class does not define
        return getattr(self.driver, name)

    def sync(self, state: dict[str, list[dict]]) -> None:
        with self._lock:
            self.driver.sync(state)

    def rescan(self) -> None:
        self.driver.rescan()

    def status(self) -> dict:
        return self.driver.status()

    def _apply(self, event: str, payload: dict) -> None:
        kind = event.rsplit("_", 1)[0]
        with self._lock:
            now = self.current(KINDS[kind], payload["id"])
            if now is None:
                getattr(self.driver, f"{kind}_deleted")(payload)
            else:
                getattr(self.driver, f"{kind}_updated")(now)


def _event(name: str):
    def method(self: CurrentStateDriver, payload: dict) -> None:
        self._apply(name, payload)
    method.__name__ = name
    return method


for _name in EVENTS:
    setattr(CurrentStateDriver, _name, _event(_name))
