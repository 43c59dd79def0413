"""Query-string parsing shared by provider listing and allocation candidates:
``resources=VCPU:1,MEMORY_MB:512``, ``required=A,!B,in:C,D``, ``member_of=in:X,Y``."""

from __future__ import annotations

from pocketstack.common.api.request import ApiRequest
from pocketstack.placement import errors
from pocketstack.placement.api.common import check_uuid
from pocketstack.placement.catalog import Catalog


def bad(reason: str) -> errors.BadQuery:
    return errors.BadQuery(reason=reason)


def resources(text: str) -> dict[str, int]:
    out: dict[str, int] = {}
    for part in text.split(","):
        name, sep, amount = part.strip().partition(":")
        if not sep or not name or not amount.isdigit():
            raise bad(f"Badly formed resources parameter. Expected resources query string parameter in form: "
                      f"?resources=VCPU:2,MEMORY_MB:1024. Got: {text}.")
        if name in out:
            raise errors.DuplicateResourceInQuery(name=name)
        if int(amount) < 1:
            raise bad(f"Requested resource {name} expected positive integer amount. Got: {amount}.")
        out[name] = int(amount)
    return out


def traits(req: ApiRequest, values: list[str], allow_forbidden: bool) -> tuple[set[str], set[str], list[set[str]]]:
    """(required, forbidden, any-of groups) from every ``required`` value.

    ``!T`` is forbidden from 1.22; ``in:A,B`` (any of) from 1.39."""
    required: set[str] = set()
    forbidden: set[str] = set()
    any_of: list[set[str]] = []
    for value in values:
        if value.startswith("in:"):
            if not req.at_least(1, 39):
                raise bad(f"Invalid query string parameters: 'in:' is not supported in required: {value}")
            group = {t.strip() for t in value[3:].split(",") if t.strip()}
            if not group or any(t.startswith("!") for t in group):
                raise bad(f"Invalid query string parameters: bad in: value {value!r}")
            any_of.append(group)
            continue
        for name in (t.strip() for t in value.split(",")):
            if not name:
                raise bad("Invalid query string parameters: Expected 'required' parameter value of the form: "
                          "HW_CPU_X86_VMX,CUSTOM_MAGIC.")
            if name.startswith("!"):
                if not allow_forbidden:
                    raise bad(f"Invalid query string parameters: forbidden traits are not supported: {name}")
                forbidden.add(name[1:])
            else:
                required.add(name)
    if required & forbidden:
        raise bad(f"Conflicting required and forbidden traits found: {', '.join(sorted(required & forbidden))}")
    return required, forbidden, any_of


def member_of(req: ApiRequest, values: list[str]) -> list[set[str]]:
    """Each ``member_of`` value is one aggregate or ``in:a,b``; several values (1.24+) AND
    together."""
    if len(values) > 1 and not req.at_least(1, 24):
        raise bad("Multiple member_of parameters are not supported before microversion 1.24.")
    groups = []
    for value in values:
        if value.startswith("!"):
            raise bad("Forbidden aggregates are not supported.")
        listed = value[3:] if value.startswith("in:") else value
        groups.append({check_uuid(a.strip(), "member_of") for a in listed.split(",")})
    return groups


def limit(text: str | None) -> int | None:
    if text is None:
        return None
    if not text.isdigit() or int(text) < 1:
        raise bad(f"Invalid query string parameters: limit must be a positive integer, got {text!r}.")
    return int(text)


def check_traits_exist(catalog: Catalog, names: set[str]) -> None:
    unknown = catalog.unknown_traits(names)
    if unknown:
        raise errors.UnknownTraits(names=", ".join(sorted(unknown)))


def check_classes_exist(catalog: Catalog, names) -> None:
    unknown = catalog.unknown_resource_classes(names)
    if unknown:
        raise errors.UnknownResourceClasses(names=", ".join(sorted(unknown)))
