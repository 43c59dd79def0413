"""Template parameters: their schema, how a given value is coerced to the declared type,
and the constraints it must meet (Heat's wording in every message, as clients show it).

Custom constraints (``nova.flavor``, ``glance.image``, …) need the cloud: they are only
collected here (:meth:`Parameter.custom_constraints`) and checked by the caller that can
look things up with the user's token (:mod:`pocketstack.orchestration.lookups`).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from pocketstack.orchestration import errors

TYPES = ("string", "number", "json", "comma_delimited_list", "boolean")
KEYS = {"type", "label", "description", "default", "hidden", "constraints", "immutable", "tags"}
CONSTRAINTS = {"length", "range", "modulo", "allowed_values", "allowed_pattern", "custom_constraint"}
PSEUDO = ("OS::stack_name", "OS::stack_id", "OS::project_id")


def invalid(name: str, message: str) -> errors.StackValidationFailed:
    return errors.StackValidationFailed(message=f"Parameter '{name}' is invalid: {message}")


def schema_error(name: str, message: str) -> errors.InvalidTemplate:
    return errors.InvalidTemplate(message=f"Invalid parameter {name}: {message}")


@dataclass
class Parameter:
    name: str
    type: str
    label: str | None = None
    description: str | None = None
    default: Any = None
    has_default: bool = False
    hidden: bool = False
    immutable: bool = False
    tags: list[str] = field(default_factory=list)
    constraints: list[dict[str, Any]] = field(default_factory=list)

    @classmethod
    def parse(cls, name: str, schema: Any) -> Parameter:
        if not isinstance(schema, dict):
            raise schema_error(name, "the parameter's schema must be a map")
        unknown = set(schema) - KEYS
        if unknown:
            raise errors.InvalidTemplate(message=f'Invalid key "{sorted(unknown)[0]}" for parameter ({name})')
        ptype = schema.get("type")
        if ptype not in TYPES:
            raise errors.InvalidTemplate(message=f'Invalid type ({ptype})' if ptype else
                                         f'Missing parameter type for parameter: {name}')
        constraints = schema.get("constraints") or []
        if not isinstance(constraints, list) or not all(isinstance(c, dict) for c in constraints):
            raise schema_error(name, "constraints must be a list of maps")
        for constraint in constraints:
            kinds = set(constraint) - {"description"}
            if len(kinds) != 1 or not kinds <= CONSTRAINTS:
                raise errors.InvalidTemplate(message=f"Invalid constraint {json.dumps(constraint)} for parameter "
                                                     f"{name}")
        param = cls(name, ptype, schema.get("label"), schema.get("description"), schema.get("default"),
                    "default" in schema, bool(schema.get("hidden", False)), bool(schema.get("immutable", False)),
                    list(schema.get("tags") or []), constraints)
        if param.has_default and param.default is not None:
            try:
                param.validate(param.coerce(param.default))
            except errors.StackValidationFailed as error:
                raise errors.InvalidTemplate(message=f"Invalid default {param.default} "
                                                     f"({error.message.split(': ', 1)[-1]})") from None
        return param

    # -- values -------------------------------------------------------------------------
    def coerce(self, value: Any) -> Any:
        """``value`` as the declared type (strings from the CLI become numbers, lists...)."""
        kind = self.type
        if kind == "string":
            if isinstance(value, (dict, list)):
                raise invalid(self.name, f"Value must be a string; got {json.dumps(value)}")
            return "" if value is None else (json.dumps(value) if isinstance(value, bool) else str(value))
        if kind == "number":
            return _number(self.name, value)
        if kind == "boolean":
            return _boolean(self.name, value)
        if kind == "comma_delimited_list":
            if isinstance(value, list):
                return [str(item) for item in value]
            if isinstance(value, str):
                return [item.strip() for item in value.split(",")] if value.strip() else []
            raise invalid(self.name, f"Value must be a comma-delimited list string: {value}")
        if isinstance(value, str):
            try:
                value = json.loads(value) if value.strip() else {}
            except ValueError as error:
                raise invalid(self.name, f"Value must be valid JSON: {error}") from None
        if not isinstance(value, (dict, list)):
            raise invalid(self.name, f"Value must be valid JSON: {value}")
        return value

    def validate(self, value: Any) -> None:
        """Check every non-custom constraint; the first failure is the error (its
        ``description`` when the template gave one, as Heat)."""
        for constraint in self.constraints:
            message = _violation(constraint, value)
            if message is not None:
                raise invalid(self.name, constraint.get("description") or message)

    def custom_constraints(self) -> list[str]:
        return [c["custom_constraint"] for c in self.constraints if "custom_constraint" in c]

    def describe(self, value: Any) -> dict[str, Any]:
        """The ``parameters`` entry of ``validate`` and ``preview`` answers (Heat's keys)."""
        shown = {"string": "String", "number": "Number", "json": "Json", "boolean": "Boolean",
                 "comma_delimited_list": "CommaDelimitedList"}[self.type]
        entry: dict[str, Any] = {"Type": shown, "Description": self.description or "", "Label": self.label or
                                 self.name, "NoEcho": "true" if self.hidden else "false"}
        if self.has_default:
            entry["Default"] = self.default
        if value is not None:
            entry["Value"] = value
        for constraint in self.constraints:
            if "allowed_values" in constraint:
                entry["AllowedValues"] = constraint["allowed_values"]
            if "allowed_pattern" in constraint:
                entry["AllowedPattern"] = constraint["allowed_pattern"]
            for kind, keys in (("length", ("MinLength", "MaxLength")), ("range", ("MinValue", "MaxValue"))):
                if kind in constraint:
                    for key, bound in zip(keys, ("min", "max")):
                        if bound in constraint[kind]:
                            entry[key] = constraint[kind][bound]
            if "custom_constraint" in constraint:
                entry["CustomConstraint"] = constraint["custom_constraint"]
        return entry


def _number(name: str, value: Any) -> int | float:
    if isinstance(value, bool):
        raise invalid(name, f"Value must be a number: {value}")
    if isinstance(value, (int, float)):
        return value
    try:
        text = str(value).strip()
        return int(text) if re.fullmatch(r"[-+]?\d+", text) else float(text)
    except ValueError:
        raise invalid(name, f"Value must be a number: {value}") from None


def _boolean(name: str, value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("true", "t", "on", "yes", "y", "1"):
        return True
    if text in ("false", "f", "off", "no", "n", "0"):
        return False
    raise invalid(name, f'Unrecognized value "{value}", acceptable values are: true, false.')


def _bounds(spec: Any) -> tuple[Any, Any]:
    if not isinstance(spec, dict):
        return None, None
    return spec.get("min"), spec.get("max")


def _violation(constraint: dict[str, Any], value: Any) -> str | None:
    """What is wrong with ``value`` under ``constraint`` (None: nothing)."""
    if "length" in constraint:
        low, high = _bounds(constraint["length"])
        length = len(value) if hasattr(value, "__len__") else 0
        if (low is not None and length < low) or (high is not None and length > high):
            return f"length ({length}) is out of range (min: {low}, max: {high})"
    elif "range" in constraint:
        low, high = _bounds(constraint["range"])
        if isinstance(value, (int, float)) and ((low is not None and value < low) or
                                                (high is not None and value > high)):
            return f"{value} is out of range (min: {low}, max: {high})"
    elif "modulo" in constraint:
        spec = constraint["modulo"] or {}
        step, offset = spec.get("step"), spec.get("offset", 0)
        if isinstance(value, (int, float)) and step and value % step != offset:
            return f"{value} is not a multiple of {step} with an offset of {offset}"
    elif "allowed_values" in constraint:
        allowed = constraint["allowed_values"] or []
        values = value if isinstance(value, list) else [value]
        if any(v not in allowed for v in values):
            shown = "[" + ", ".join(json.dumps(a) for a in allowed) + "]"
            return f"{json.dumps(value)} is not an allowed value {shown}"
    elif "allowed_pattern" in constraint:
        pattern = str(constraint["allowed_pattern"])
        values = value if isinstance(value, list) else [value]
        if any(re.fullmatch(pattern, str(v)) is None for v in values):
            return f'"{value}" does not match pattern "{pattern}"'
    return None


def parse_all(section: Any) -> dict[str, Parameter]:
    if section is None:
        return {}
    if not isinstance(section, dict):
        raise errors.InvalidTemplate(message="The parameters section must be a map")
    return {name: Parameter.parse(name, schema) for name, schema in section.items()}


def resolve_values(params: dict[str, Parameter], given: dict[str, Any], defaults: dict[str, Any],
                   *, strict: bool = True, allow_missing: bool = False) -> dict[str, Any]:
    """Each parameter's value: the given one, else the environment's
    ``parameter_defaults``, else the template's default; 400 for one missing or
    invalid, and (``strict``) for a given value of no declared parameter.  With
    ``allow_missing`` (template validation) a parameter without a value is null."""
    if strict:
        unknown = sorted(set(given) - set(params))
        if unknown:
            raise errors.UnknownUserParameter(key=unknown[0])
    values: dict[str, Any] = {}
    for name, param in params.items():
        if name in given:
            raw = given[name]
        elif name in defaults:
            raw = defaults[name]
        elif param.has_default:
            raw = param.default
        elif allow_missing:
            values[name] = None
            continue
        else:
            raise errors.UserParameterMissing(key=name)
        value = param.coerce(raw)
        param.validate(value)
        values[name] = value
    return values
