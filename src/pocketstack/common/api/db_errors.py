"""Database failures a client can act on, as API errors instead of 500s.

Handlers let these propagate; the request wrapper asks :func:`api_error_for` whether an
unexpected exception is one of them.  Each is a condition of the moment or of the input,
not a bug: a pool with no free connection, a database that cannot be reached or a
conflict that outlasted its retries is a 503 the client may retry (with Retry-After), and
a value the column cannot hold is the client's 400.  Conflicts are retried where they
happen (:func:`pocketstack.common.db.cas.run_in_transaction`); this is the backstop.
"""

from __future__ import annotations

import logging

from sqlalchemy import exc as sa_exc

from pocketstack.common import errors
from pocketstack.common.db.cas import RetriesExhausted, is_retryable_db_error

LOG = logging.getLogger(__name__)
RETRY_AFTER_SECONDS = "2"


def _busy(message: str) -> errors.ServiceUnavailable:
    return errors.ServiceUnavailable(message, headers={"Retry-After": RETRY_AFTER_SECONDS})


def api_error_for(exc: BaseException) -> errors.ApiError | None:
    """The API error ``exc`` stands for, or None when it is a bug (a 500)."""
    if isinstance(exc, sa_exc.TimeoutError):
        LOG.warning("database connection pool exhausted: %s", exc)
        return _busy("The server is busy: no database connection became free in time. Please retry.")
    if isinstance(exc, RetriesExhausted) or is_retryable_db_error(exc):
        LOG.warning("database conflict outlasted its retries: %s", exc)
        return _busy("The request conflicted with concurrent updates. Please retry.")
    if isinstance(exc, sa_exc.DataError):
        LOG.info("value refused by the database: %s", exc.orig)
        return errors.BadRequest("Invalid input: a value is out of range or too long for its field.")
    if isinstance(exc, sa_exc.OperationalError) and exc.connection_invalidated:
        LOG.warning("database connection lost: %s", exc.orig)
        return _busy("The database is unreachable. Please retry.")
    return None
