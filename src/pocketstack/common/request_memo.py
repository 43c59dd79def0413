"""Values worked out once per API request and reused by the rest of that request.

The API wrapper (``common/api/app.py``) opens a memo for every request it serves and
closes it when the answer is ready.  Code anywhere below may keep a value there (the
Identity generation its token validations read: one read for the caller's token and the
subject token alike).  A closed memo keeps nothing: an asyncio task or thread started
while serving a request copies its context, memo included, and must not live on with
the request's values.  Outside a request there is no memo, and nothing is kept.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from contextvars import ContextVar, Token
from typing import Any

_MEMO: ContextVar[RequestMemo | None] = ContextVar("request_memo", default=None)


class RequestMemo:
    def __init__(self) -> None:
        self._values: dict[Any, Any] = {}
        self.open = True

    def get(self, key: Any) -> Any:
        return self._values.get(key) if self.open else None

    def set(self, key: Any, value: Any) -> None:
        if self.open:
            self._values[key] = value

    def forget(self, key: Any) -> None:
        self._values.pop(key, None)

    def close(self) -> None:
        self.open = False
        self._values.clear()


def current() -> RequestMemo | None:
    """The memo of the request being served, if any (and still open)."""
    memo = _MEMO.get()
    return memo if memo is not None and memo.open else None


def open_memo() -> Token[RequestMemo | None]:
    """Open a memo for the request about to be served; pass the token to :func:`close_memo`."""
    return _MEMO.set(RequestMemo())


def close_memo(token: Token[RequestMemo | None]) -> None:
    memo = _MEMO.get()
    if memo is not None:
        memo.close()
    _MEMO.reset(token)


@contextlib.contextmanager
def request_memo() -> Iterator[RequestMemo]:
    """A memo for what is served inside the block; closed when it ends."""
    token = open_memo()
    try:
        memo = _MEMO.get()
        assert memo is not None
        yield memo
    finally:
        close_memo(token)
