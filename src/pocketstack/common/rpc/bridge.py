"""Sending RPC from synchronous code.

API handlers and managers run in worker threads, while a service's transport lives on
its event loop.  :func:`submit` runs a send there for either kind of caller: a thread
waits for the result (so a cast returns only once the transport took it, and a call
returns its reply); code already on the loop must not block it, so the send becomes a
task whose failure is logged.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine
from typing import Any

from pocketstack.common.db.replay import note_effect

LOG = logging.getLogger(__name__)


def submit(loop: asyncio.AbstractEventLoop, coro: Coroutine[Any, Any, Any],
           tasks: set[asyncio.Task[Any]] | None = None) -> Any:
    """Run ``coro`` on ``loop``: its result for a caller in another thread, None (and a
    task, added to ``tasks`` until done, if given) for a caller on ``loop`` itself.
    A sent message is an effect: the request sending it is never replayed."""
    note_effect()
    try:
        on_loop = asyncio.get_running_loop() is loop
    except RuntimeError:
        on_loop = False
    if not on_loop:
        return asyncio.run_coroutine_threadsafe(coro, loop).result()
    task = loop.create_task(coro)
    if tasks is not None:
        tasks.add(task)
        task.add_done_callback(tasks.discard)
    task.add_done_callback(_log_failure)
    return None


def _log_failure(task: asyncio.Task[Any]) -> None:
    if not task.cancelled() and task.exception() is not None:
        LOG.error("RPC send failed", exc_info=task.exception())
