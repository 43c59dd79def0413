"""``?bulk-delete``: delete many objects (and empty containers) in one request.

The body lists URL-encoded ``/container/object`` or ``/container`` paths, one a line;
the answer reports counts and per-path errors in the negotiated format, as Swift's
bulk middleware does.
"""

from __future__ import annotations

import json
from urllib.parse import unquote

from starlette.responses import Response

from pocketstack.common.api.request import ApiRequest
from pocketstack.common.errors import ApiError
from pocketstack.object import errors, timestamps
from pocketstack.object.api.access import SegmentAccess
from pocketstack.object.diskfile import ObjectState
from pocketstack.object.store import ObjectStore

MAX_DELETES = 10000


def delete(req: ApiRequest, store: ObjectStore, account: str, segments: SegmentAccess | None = None) -> Response:
    """Delete every listed path; with ``segments`` (an SLO's), only those it allows --
    the others are reported as refused, as Swift's authorized subrequests are."""
    try:
        lines = [unquote(line.strip()) for line in req.body.decode().splitlines() if line.strip()]
    except UnicodeDecodeError:
        raise errors.BulkBodyNotUtf8() from None
    if len(lines) > MAX_DELETES:
        raise errors.TooManyDeletes(limit=MAX_DELETES)
    deleted = not_found = 0
    failures: list[list[str]] = []
    for path in lines:
        container, _, obj = path.lstrip("/").partition("/")
        try:
            if not container:
                raise errors.InvalidBulkPath()
            if segments is not None and not segments.allows(container, obj or None):
                raise segments.refusal()
            if obj:
                state = store.object_state(account, container, obj)
                if not state.exists:
                    not_found += 1
                    continue
                store.remove_object(account, container, obj, state)
            else:
                if store.container(account, container) is None:
                    not_found += 1
                    continue
                store.delete_container(account, container, timestamps.now())
            deleted += 1
        except ApiError as error:
            failures.append([path, f"{error.status} {error.title}"])
    return report(req, {"Number Deleted": deleted, "Number Not Found": not_found},
                  "400 Bad Request" if failures else "200 OK", failures)


def report(req: ApiRequest, counts: dict[str, int], status: str, errors: list[list[str]]) -> Response:
    """A bulk operation's outcome (always a 200), as JSON when asked for, else text."""
    result = {**counts, "Response Body": "", "Response Status": status, "Errors": errors}
    if "json" in req.headers.get("accept", ""):
        return Response(json.dumps(result), media_type="application/json")
    text = ("".join(f"{name}: {value}\n" for name, value in counts.items()) +
            f"Response Body: \nResponse Status: {status}\nErrors:\n" + "".join(f"{p}, {e}\n" for p, e in errors))
    return Response(text, media_type="text/plain")


def remove_object(store: ObjectStore, account: str, container: str, obj: str, state: ObjectState) -> None:
    """:meth:`ObjectStore.remove_object`, kept for the volume service's backup store until
    it calls ``cloud.object_store.remove_object`` (``ObjectContract``)."""
    store.remove_object(account, container, obj, state)
