"""Property schemas of resource types, in Heat's terms, and the check of resolved
properties against them (Heat's messages: ``Unknown Property x``, ``Property x not
assigned``, ``"abc" is not a valid boolean``...)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pocketstack.orchestration import errors

TYPES = ("string", "integer", "number", "boolean", "list", "map")


@dataclass(frozen=True)
class Prop:
    type: str
    description: str = ""
    required: bool = False
    default: Any = None
    update_allowed: bool = False
    allowed: tuple[Any, ...] = ()
    # A map's known keys, or the schema of each item of a list.
    schema: dict[str, Prop] | None = None
    item: Prop | None = None
    # Any key is accepted (value_specs, metadata): only the type is checked.
    immutable: bool = False

    def describe(self) -> dict[str, Any]:
        """The property as ``GET /resource_types/{type}`` shows it."""
        shown: dict[str, Any] = {"type": self.type, "description": self.description, "required": self.required,
                                 "update_allowed": self.update_allowed, "immutable": self.immutable}
        if self.default is not None:
            shown["default"] = self.default
        if self.allowed:
            shown["constraints"] = [{"allowed_values": list(self.allowed)}]
        if self.schema:
            shown["schema"] = {k: v.describe() for k, v in self.schema.items()}
        elif self.item:
            shown["schema"] = {"*": self.item.describe()}
        return shown


def _error(path: str, message: str) -> errors.StackValidationFailed:
    return errors.StackValidationFailed(message=f"Property error: {path}: {message}")


def _coerce(prop: Prop, value: Any, path: str) -> Any:
    kind = prop.type
    if kind == "string":
        if isinstance(value, (dict, list)):
            raise _error(path, f"Value must be a string; got {value!r}")
        value = str(value).lower() if isinstance(value, bool) else str(value)
    elif kind == "integer":
        if isinstance(value, bool) or (isinstance(value, float) and not value.is_integer()):
            raise _error(path, f"Value '{value}' is not an integer")
        try:
            value = int(str(value).strip()) if not isinstance(value, (int, float)) else int(value)
        except ValueError:
            raise _error(path, f"Value '{value}' is not an integer") from None
    elif kind == "number":
        if isinstance(value, bool):
            raise _error(path, f"Value '{value}' is not a number")
        if not isinstance(value, (int, float)):
            try:
                value = float(str(value)) if "." in str(value) else int(str(value))
            except ValueError:
                raise _error(path, f"Value '{value}' is not a number") from None
    elif kind == "boolean":
        if not isinstance(value, bool):
            text = str(value).lower()
            if text not in ("true", "false"):
                raise _error(path, f'"{value}" is not a valid boolean')
            value = text == "true"
    elif kind == "list":
        if isinstance(value, str):
            value = [v.strip() for v in value.split(",")] if value else []
        if not isinstance(value, list):
            raise _error(path, f'"{value}" is not a list')
        if prop.item is not None:
            value = [_coerce(prop.item, item, f"{path}[{i}]") for i, item in enumerate(value) if item is not None]
    elif kind == "map":
        if not isinstance(value, dict):
            raise _error(path, f'"{value}" is not a map')
        if prop.schema is not None:
            value = check(prop.schema, value, path)
    if prop.allowed and value not in prop.allowed:
        shown = ", ".join(str(a) for a in prop.allowed)
        raise _error(path, f'"{value}" is not an allowed value [{shown}]')
    return value


def check(schema: dict[str, Prop], values: dict[str, Any], path: str, *, partial: bool = False) -> dict[str, Any]:
    """Resolved ``values`` checked and coerced against ``schema``, defaults filled in.
    A null value counts as not given.  ``partial`` (validation before anything exists,
    when a reference resolves to nothing yet) skips the required check for nulls."""
    out: dict[str, Any] = {}
    for key in values:
        if key not in schema:
            raise _error(path, f"Unknown Property {key}")
    for key, prop in schema.items():
        value = values.get(key)
        if value is None:
            if prop.required and not (partial and key in values):
                raise _error(path, f"Property {key} not assigned")
            if prop.default is not None:
                out[key] = prop.default
            continue
        out[key] = _coerce(prop, value, f"{path}.{key}")
    return out


# Short constructors: the resource modules read as tables.
def string(description: str = "", **kw: Any) -> Prop:
    return Prop("string", description, **kw)


def integer(description: str = "", **kw: Any) -> Prop:
    return Prop("integer", description, **kw)


def number(description: str = "", **kw: Any) -> Prop:
    return Prop("number", description, **kw)


def boolean(description: str = "", **kw: Any) -> Prop:
    return Prop("boolean", description, **kw)


def list_(description: str = "", **kw: Any) -> Prop:
    return Prop("list", description, **kw)


def map_(description: str = "", **kw: Any) -> Prop:
    return Prop("map", description, **kw)
