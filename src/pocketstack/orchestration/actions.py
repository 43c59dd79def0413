"""Stack actions (``POST .../actions``) and resource signals, as the API records them.

An action is checked against the stack's state here, synchronously (Heat's 400s and
409s), then recorded as a new traversal that an engine drives (suspend, resume, check,
the rollback of a cancelled update) -- or, for a cancel without rollback, as the end of
the operation: the traversal changes, so the engine driving it loses its lease and
every write it still tries is refused.

Signals are written to the handle's row by compare-and-swap, whatever the stack is
doing; a wait condition handle's own token authenticates only signals to that handle.
"""

from __future__ import annotations

import datetime as dt
import functools
import hmac
from typing import TYPE_CHECKING

from pocketstack.common.context import RequestContext
from pocketstack.common.db.base import utcnow
from pocketstack.orchestration import errors
from pocketstack.orchestration import models as m
from pocketstack.orchestration.engine.store import COMPLETE, FAILED, IN_PROGRESS, Store
from pocketstack.orchestration.resources.wait import HANDLE_TOKEN

if TYPE_CHECKING:
    from pocketstack.orchestration.resources import registry
else:  # the resource types (and YAML) on first use: a stack, not every start
    from pocketstack.common.lazy import lazy

    registry = lazy("pocketstack.orchestration.resources.registry")

NAMES = ("suspend", "resume", "check", "cancel_update", "cancel_without_rollback")


def action_name(body: object) -> str:
    """The one action a body names, with the 400s of Heat's action controller."""
    body = body or {}
    if not isinstance(body, dict):
        raise errors.InvalidAction(message="Invalid action specified")
    if len(body) < 1:
        raise errors.InvalidAction(message="No action specified")
    if len(body) > 1:
        raise errors.InvalidAction(message="Multiple actions specified")
    name = next(iter(body))
    if name not in NAMES:
        raise errors.InvalidAction(message=f"Invalid action {name} specified")
    return name


def _state(stack: m.Stack) -> str:
    return f"{stack.action}_{stack.status}"


def begin(store: Store, stack: m.Stack, name: str, trust_id: str) -> bool:
    """Record action ``name`` on ``stack``, to act with ``trust_id``; whether an engine
    must now drive the stack (False: nothing to do, or the operation was ended here)."""
    if name in ("cancel_update", "cancel_without_rollback"):
        return _cancel(store, stack, trust_id, rollback=name == "cancel_update")
    action = name.upper()
    if stack.status == IN_PROGRESS:
        raise errors.ActionInProgress(stack_name=stack.name, action=stack.action)
    if action != "CHECK" and (stack.action, stack.status) == (action, COMPLETE):
        return False  # already suspended (resumed): nothing to do, as in Heat
    allowed = {"SUSPEND": stack.status == COMPLETE or (stack.action, stack.status) == ("SUSPEND", FAILED),
               "RESUME": (stack.action, stack.status) in (("SUSPEND", COMPLETE), ("RESUME", FAILED)),
               "CHECK": True}[action]
    if not allowed:
        verb = {"SUSPEND": "Suspending", "RESUME": "Resuming"}[action]
        raise errors.NotSupported(feature=f"{verb} a stack when it is {_state(stack)}")
    timeout = stack.timeout_mins if action != "CHECK" else None
    store.begin(stack, action, f"Stack {action} started", trust_id=trust_id,
                deadline=utcnow() + dt.timedelta(minutes=timeout) if timeout else None)
    return True


def _cancel(store: Store, stack: m.Stack, trust_id: str, rollback: bool) -> bool:
    """Heat's ``stack_cancel_update``: with rollback, only an update in progress (it
    rolls back to the previous template); without, a create or update in progress,
    which ends FAILED at once (``Stack UPDATE cancelled``)."""
    allowed = ("UPDATE",) if rollback else ("UPDATE", "CREATE")
    if stack.status != IN_PROGRESS or stack.action not in allowed:
        raise errors.NotSupported(feature=f"Cancelling update when stack is {_state(stack)}")
    if not rollback:
        store.begin(stack, stack.action, f"Stack {stack.action} cancelled", status=FAILED, previous=None)
        return False
    previous = stack.previous or {}
    store.begin(stack, "ROLLBACK", "Stack ROLLBACK started", deadline=None, trust_id=trust_id,
                template=previous.get("template", stack.template), files=previous.get("files") or {},
                params=previous.get("params") or {},
                environment=previous.get("environment") or stack.environment)
    return True


# -- signals ------------------------------------------------------------------------------
def is_handle_context(context: RequestContext) -> bool:
    """A caller authenticated by a wait condition handle's token (never a Keystone
    token: every token of this form is checked by :func:`handle_context` alone)."""
    return (context.auth_token or "").startswith(HANDLE_TOKEN)


def _token_of(row: m.Resource) -> str:
    return str((row.data or {}).get("token") or "")


def handle_context(store: Store, token: str) -> RequestContext:
    """The caller a handle's token stands for: the handle (its row id as the user), in
    its stack's project, with no role -- every policy but the handle's own signal
    refuses it.  401 for a token no live handle has."""
    stack_id, _, _ = token.removeprefix(HANDLE_TOKEN).partition(".")
    stack = store.stack(stack_id) if stack_id else None
    rows = store.resources(stack.id) if stack is not None else []
    row = next((r for r in rows if _token_of(r) and hmac.compare_digest(_token_of(r), token)
                and not (r.action == "DELETE" and r.status == COMPLETE)), None)
    if stack is None or row is None:
        raise errors.HandleTokenNotValid()
    return RequestContext(user_id=row.id, project_id=stack.project_id, auth_token=token)


def signal(store: Store, context: RequestContext, stack: m.Stack, row: m.Resource, body: object) -> None:
    """Record a signal to ``row`` (Heat's checks: a type that takes signals, a
    resource that exists and is not being suspended or deleted)."""
    if is_handle_context(context) and not (row.id == context.user_id and hmac.compare_digest(
            _token_of(row), context.auth_token or "")):
        raise errors.HandleTokenElsewhere()
    cls = registry.TYPES.get(row.type)
    if cls is None or not cls.signals:
        raise errors.ResourceActionNotSupported(action="Signal")
    if row.action in ("SUSPEND", "DELETE"):
        raise errors.NotSupported(feature=f"Signal resource during {row.action}")
    if not row.physical_resource_id:
        raise errors.ResourceNotAvailable(resource_name=row.name)
    store.add_signal(row, functools.partial(cls.signal_entry, row.name, body))
