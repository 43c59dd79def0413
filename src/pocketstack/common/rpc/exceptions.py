"""RPC errors, and how a remote method's exception crosses the wire.

An exception raised by a remote method travels back to the caller as plain data: its type
name, its message and, for classes on an allow-list, a fixed set of structured fields.
Only allow-listed classes are ever instantiated on the caller's side (nothing is
unpickled, no class is looked up by a name the sender chose), so a server cannot make a
caller construct arbitrary objects.  Everything else arrives as :class:`RemoteError`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, TypeVar, overload

E = TypeVar("E", bound=type[BaseException])


class RPCError(Exception):
    """Base class of the errors the RPC layer itself raises."""


class Timeout(RPCError, TimeoutError):
    """No reply (or no broker confirmation) arrived in time.

    For a call this does not say whether the method ran: it may have run and its reply
    been lost, or it may never have started (the server drops requests whose caller has
    given up).  It never runs *after* the caller got this exception.
    """


class RemoteError(RPCError):
    """A remote method raised an exception whose class is not allow-listed."""

    def __init__(self, exc_type: str, message: str) -> None:
        super().__init__(f"{exc_type}: {message}" if message else exc_type)
        self.exc_type = exc_type
        self.message = message


class EnvelopeError(RPCError):
    """A message could not be decoded (bad JSON, missing field, unknown version)."""


@dataclass(frozen=True)
class _Registered:
    cls: type[BaseException]
    fields: tuple[str, ...]


_REGISTRY: dict[str, _Registered] = {}


def _wire_name(cls: type[BaseException]) -> str:
    if cls.__module__ == "builtins":
        return cls.__qualname__
    return f"{cls.__module__}.{cls.__qualname__}"


def register_exception(cls: E, fields: Iterable[str] = ()) -> E:
    """Allow-list ``cls``: callers re-raise it as ``cls`` with ``fields`` restored.

    Both sides must register the class (importing the module that declares it is enough
    when the decorator form is used).  Field values must be JSON-serialisable.
    """
    if not (isinstance(cls, type) and issubclass(cls, BaseException)):
        raise TypeError(f"{cls!r} is not an exception class")
    _REGISTRY[_wire_name(cls)] = _Registered(cls, tuple(fields))
    return cls


@overload
def remote_exception(cls: E, /) -> E: ...
@overload
def remote_exception(*, fields: Iterable[str] = ()) -> Callable[[E], E]: ...


def remote_exception(cls: Any = None, /, *, fields: Iterable[str] = ()) -> Any:
    """Class decorator form of :func:`register_exception`.

    ``@remote_exception`` or ``@remote_exception(fields=["instance_id"])``.
    """
    if cls is not None:
        return register_exception(cls, fields)
    return lambda klass: register_exception(klass, fields)


def to_wire(exc: BaseException) -> dict[str, Any]:
    """Describe ``exc`` for the reply envelope.

    A subclass of an allow-listed class travels as its nearest allow-listed ancestor, so a
    service may raise specific errors while callers only know the general one.
    """
    for klass in type(exc).__mro__:
        registered = _REGISTRY.get(_wire_name(klass))
        if registered is not None and registered.cls is klass:
            fields = {name: getattr(exc, name, None) for name in registered.fields}
            return {"type": _wire_name(klass), "message": str(exc), "fields": fields}
    return {"type": _wire_name(type(exc)), "message": str(exc), "fields": {}}


def from_wire(error: dict[str, Any], method: str) -> Exception:
    """Rebuild the exception a remote ``method`` raised, as the caller will see it.

    The allow-listed class is created without calling its ``__init__`` (whose signature
    the RPC layer cannot know): the message becomes its only argument and the fields are
    set as attributes.
    """
    exc_type, message = str(error.get("type", "")), str(error.get("message", ""))
    registered = _REGISTRY.get(exc_type)
    exc: Exception
    if registered is not None and issubclass(registered.cls, Exception):
        exc = registered.cls.__new__(registered.cls)
        Exception.__init__(exc, message)
        fields = error.get("fields") or {}
        for name in registered.fields:
            setattr(exc, name, fields.get(name))
    else:
        exc = RemoteError(exc_type, message)
    exc.add_note(f"raised by remote method {method!r}")
    return exc


@remote_exception(fields=["method"])
class NoSuchMethod(RPCError, AttributeError):
    """The server has no public endpoint method of that name."""

    def __init__(self, method: str) -> None:
        super().__init__(f"no RPC method {method!r}")
        self.method = method
