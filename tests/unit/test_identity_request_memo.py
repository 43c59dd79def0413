"""The request memo: kept for the request, never beyond it."""

from __future__ import annotations

import asyncio
import contextvars

from pocketstack.common import request_memo


def test_a_value_lives_as_long_as_the_request():
    assert request_memo.current() is None
    with request_memo.request_memo() as memo:
        memo.set("k", 1)
        assert request_memo.current() is memo and memo.get("k") == 1
        memo.forget("k")
        assert memo.get("k") is None
        memo.set("k", 2)
    assert request_memo.current() is None
    assert memo.get("k") is None


def test_work_started_during_a_request_does_not_keep_its_values():
    """A task (or thread) started while serving a request copies the context, memo
    included: once the request ends, that copy finds no memo."""
    seen = []

    async def later(started: asyncio.Event, done: asyncio.Event):
        started.set()
        await done.wait()
        seen.append(request_memo.current())

    async def main():
        started, done = asyncio.Event(), asyncio.Event()
        with request_memo.request_memo() as memo:
            memo.set("k", 1)
            task = asyncio.create_task(later(started, done))
            await started.wait()
        done.set()
        await task

    asyncio.run(main())
    assert seen == [None]
    copied = contextvars.copy_context()
    assert copied.run(request_memo.current) is None
