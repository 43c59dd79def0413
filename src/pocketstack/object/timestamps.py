"""Swift's timestamps: seconds since the epoch with exactly five decimals.

Every replica decides "newest wins" by comparing these strings, so they must all be
rendered the same way (fixed width sorts lexically like numerically).
"""

from __future__ import annotations

import datetime as dt
import email.utils
import time


def normalize(value: float | str) -> str:
    """``1700000000.12345``-style text for a timestamp (400-safe: raises ValueError)."""
    number = float(value)
    if not 0 <= number < 10**10:
        raise ValueError(f"timestamp out of range: {value!r}")
    return f"{number:016.5f}"


def now() -> str:
    return normalize(time.time())


def http_date(timestamp: str) -> str:
    """``Last-Modified`` value: HTTP dates have whole seconds, rounded up as Swift does."""
    seconds = int(float(timestamp))
    if float(timestamp) > seconds:
        seconds += 1
    return email.utils.formatdate(seconds, usegmt=True)


def iso(timestamp: str) -> str:
    """Listing ``last_modified``: ISO 8601 with microseconds and no zone (Swift's form)."""
    moment = dt.datetime.fromtimestamp(float(timestamp), dt.timezone.utc)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%f")
