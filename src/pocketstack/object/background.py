"""Periodic background passes (replication, auditing) for the proxy and storage nodes.

A pass is blocking disk work, so it runs in a thread; a failing pass is logged and
the next one still runs, since these loops are what repairs the failure.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

LOG = logging.getLogger(__name__)


async def every(interval: float, work: Callable[[], object], what: str) -> None:
    """Run ``work`` in a thread every ``interval`` seconds until cancelled."""
    while True:
        await asyncio.sleep(interval)
        try:
            await asyncio.to_thread(work)
        except Exception:
            LOG.exception("object %s pass failed", what)
