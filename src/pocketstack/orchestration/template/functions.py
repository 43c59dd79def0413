"""HOT intrinsic functions, evaluated over a :class:`Scope`.

A template node that is a one-key mapping whose key is a function of the template's
version is a call; everything else is data, resolved recursively.  Functions resolve
their own arguments, so ``if`` evaluates only the branch it picks.  What a function
needs from outside the template -- parameter values, resource ids and attributes, files,
conditions -- comes from the :class:`Scope`, so the same code validates a template (with
placeholder values), previews it and resolves properties in the engine.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import urllib.parse
from collections.abc import Callable
from typing import Any, Protocol

from pocketstack.orchestration import errors
from pocketstack.orchestration.template.versions import HotVersion


class Scope(Protocol):
    """What the template's functions read from the stack they are evaluated in."""

    def param(self, name: str) -> Any: ...
    def resource_id(self, name: str) -> Any: ...
    def attribute(self, name: str, attribute: str | None, path: list[Any]) -> Any: ...
    def file(self, name: str) -> str: ...
    def condition(self, name: str) -> bool: ...


def fail(function: str, message: str) -> errors.StackValidationFailed:
    return errors.StackValidationFailed(message=f'Arguments to "{function}" {message}')


class Evaluator:
    """Resolves template nodes of one HOT version against a scope."""

    def __init__(self, version: HotVersion, scope: Scope):
        self.version = version
        self.scope = scope
        self.functions = {name: FUNCTIONS[name] for name in version.functions if name in FUNCTIONS}
        self.conditions = {name: CONDITIONS[name] for name in version.condition_functions if name in CONDITIONS}

    def call_of(self, node: Any, table: dict[str, Callable[..., Any]] | None = None) -> tuple[str, Any] | None:
        table = self.functions if table is None else table
        if isinstance(node, dict) and len(node) == 1:
            key = next(iter(node))
            if key in table:
                return key, node[key]
        return None

    def resolve(self, node: Any) -> Any:
        call = self.call_of(node)
        if call is not None:
            name, args = call
            return self.functions[name](self, args)
        if isinstance(node, dict):
            return {self.resolve(k) if isinstance(k, dict) else k: self.resolve(v) for k, v in node.items()}
        if isinstance(node, list):
            return [self.resolve(item) for item in node]
        return node

    def condition(self, node: Any) -> bool:
        """A condition definition: a boolean, another condition's name, or a condition
        function (``equals``, ``not``, ``and``, ``or``, ``contains``, ``get_param``)."""
        if isinstance(node, bool):
            return node
        if isinstance(node, str):
            return self.scope.condition(node)
        call = self.call_of(node, self.conditions)
        if call is None:
            raise errors.StackValidationFailed(message=f"Invalid condition definition: {json.dumps(node)}")
        name, args = call
        if name == "get_param":
            return _truth(get_param(self, args))
        result = self.conditions[name](self, args)
        return _truth(result)


def _truth(value: Any) -> bool:
    if isinstance(value, str):
        return value.lower() in ("true", "t", "yes", "y", "on", "1")
    return bool(value)


def _path(value: Any, path: list[Any], what: str) -> Any:
    """Follow ``path`` (keys and list indexes) into ``value``; None where it ends early."""
    for step in path:
        if value is None:
            return None
        if isinstance(value, list):
            try:
                value = value[int(step)]
            except (ValueError, TypeError, IndexError):
                raise errors.StackValidationFailed(message=f"{what}: invalid index {step!r}") from None
        elif isinstance(value, dict):
            value = value.get(str(step) if not isinstance(step, str) else step)
        else:
            raise errors.StackValidationFailed(message=f"{what}: cannot index {type(value).__name__} with {step!r}")
    return value


# -- references -------------------------------------------------------------------------
def get_param(ev: Evaluator, args: Any) -> Any:
    args = ev.resolve(args)
    if isinstance(args, str):
        name, path = args, []
    elif isinstance(args, list) and args and isinstance(args[0], str):
        name, path = args[0], args[1:]
    else:
        raise fail("get_param", "must be a string or a list of the form [name, key, ...]")
    return _path(ev.scope.param(name), path, f"get_param {name}")


def get_resource(ev: Evaluator, args: Any) -> Any:
    if not isinstance(args, str):
        raise fail("get_resource", "must be a resource name")
    return ev.scope.resource_id(args)


def get_attr(ev: Evaluator, args: Any) -> Any:
    args = ev.resolve(args)
    if not isinstance(args, list) or not args or not isinstance(args[0], str):
        raise fail("get_attr", "must be a list of the form [resource_name, attribute, (path), ...]")
    if len(args) == 1:
        if not ev.version.at_least("2015-10-15"):
            raise fail("get_attr", "must be a list of the form [resource_name, attribute, (path), ...]")
        return ev.scope.attribute(args[0], None, [])
    if not isinstance(args[1], str):
        raise fail("get_attr", "must be a list of the form [resource_name, attribute, (path), ...]")
    return ev.scope.attribute(args[0], args[1], list(args[2:]))


def get_file(ev: Evaluator, args: Any) -> str:
    if not isinstance(args, str):
        raise fail("get_file", "must be a file name")
    return ev.scope.file(args)


def resource_facade(ev: Evaluator, args: Any) -> Any:
    raise errors.NotSupported(feature="resource_facade outside a nested template resource")


def yaql(ev: Evaluator, args: Any) -> Any:
    raise errors.NotSupported(feature="The yaql function")


# -- strings ----------------------------------------------------------------------------
def _text(value: Any) -> str:
    """How substitution and joining render a value: JSON for data, '' for null."""
    if value is None:
        return ""
    if isinstance(value, (dict, list)):
        return json.dumps(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def list_join(ev: Evaluator, args: Any) -> str:
    args = ev.resolve(args)
    form = "must be of the form: [delimiter, [list, ...]]"
    if not isinstance(args, list) or len(args) < 2 or not isinstance(args[0], str):
        raise fail("list_join", form)
    lists = args[1:]
    if len(lists) > 1 and not ev.version.at_least("2015-10-15"):
        raise fail("list_join", form)
    items: list[str] = []
    for part in lists:
        if isinstance(part, str):
            part = [part]
        if not isinstance(part, list):
            raise fail("list_join", form)
        items.extend(_text(item) for item in part)
    return args[0].join(items)


def _replace(function: str, strict: int) -> Callable[[Evaluator, Any], str]:
    """``str_replace`` (strict 0), ``str_replace_strict`` (1: every param must occur),
    ``str_replace_vstrict`` (2: and none may be empty)."""
    def replace(ev: Evaluator, args: Any) -> str:
        args = ev.resolve(args)
        form = 'must be of the form: {"template": "<string>", "params": {...}}'
        if not isinstance(args, dict) or set(args) - {"template", "params"} or "template" not in args:
            raise fail(function, form)
        template, params = args["template"], args.get("params", {})
        if not isinstance(template, str) or not isinstance(params, dict):
            raise fail(function, form)
        missing = [key for key in params if str(key) not in template]
        if strict and missing:
            raise errors.StackValidationFailed(
                message=f"The following params were not found in the template: {','.join(map(str, missing))}")
        if strict > 1:
            empty = [key for key, value in params.items() if value in (None, "")]
            if empty:
                raise errors.StackValidationFailed(
                    message=f"The following params have empty values: {','.join(map(str, empty))}")
        # Longest keys first, as Heat: "$var1" never eats the front of "$var10".
        for key in sorted(params, key=lambda k: len(str(k)), reverse=True):
            template = template.replace(str(key), _text(params[key]))
        return template
    return replace


def str_split(ev: Evaluator, args: Any) -> Any:
    args = ev.resolve(args)
    if not isinstance(args, list) or len(args) not in (2, 3) or not isinstance(args[0], str) \
            or not isinstance(args[1], str):
        raise fail("str_split", "must be of the form: [delimiter, string, (index)]")
    parts = args[1].split(args[0])
    if len(args) == 3:
        try:
            return parts[int(args[2])]
        except (ValueError, TypeError, IndexError):
            raise errors.StackValidationFailed(message=f"Incorrect index to \"str_split\" should be between "
                                                       f"0 and {len(parts) - 1}") from None
    return parts


def digest(ev: Evaluator, args: Any) -> str:
    args = ev.resolve(args)
    if not isinstance(args, list) or len(args) != 2 or not isinstance(args[0], str) or not isinstance(args[1], str):
        raise fail("digest", "must be a list of the form: [algorithm, value]")
    try:
        hasher = hashlib.new(args[0])
    except ValueError:
        raise errors.StackValidationFailed(message=f"Algorithm must be one of {sorted(hashlib.algorithms_available)}"
                                           ) from None
    hasher.update(args[1].encode())
    return hasher.hexdigest()


def make_url(ev: Evaluator, args: Any) -> str:
    args = ev.resolve(args)
    keys = {"scheme", "username", "password", "host", "port", "path", "query", "fragment"}
    if not isinstance(args, dict) or set(args) - keys:
        raise fail("make_url", f"must be a map with keys from {sorted(keys)}")
    host = str(args.get("host") or "")
    if ":" in host and not host.startswith("["):
        host = f"[{host}]"
    netloc = host
    if args.get("port") not in (None, ""):
        netloc += f":{args['port']}"
    if args.get("username"):
        credentials = urllib.parse.quote(str(args["username"]), safe="")
        if args.get("password"):
            credentials += ":" + urllib.parse.quote(str(args["password"]), safe="")
        netloc = f"{credentials}@{netloc}"
    path = str(args.get("path") or "")
    if netloc and path and not path.startswith("/"):
        path = "/" + path
    query = args.get("query") or {}
    return urllib.parse.urlunsplit((str(args.get("scheme") or ""), netloc, urllib.parse.quote(path, safe="/"),
                                    urllib.parse.urlencode(query) if isinstance(query, dict) else str(query),
                                    str(args.get("fragment") or "")))


# -- lists and maps ---------------------------------------------------------------------
def repeat(ev: Evaluator, args: Any) -> list[Any]:
    if not isinstance(args, dict) or "for_each" not in args or "template" not in args:
        raise fail("repeat", 'must be of the form: {"for_each": {...}, "template": ..., ("permutations": bool)}')
    for_each = ev.resolve(args["for_each"])
    if not isinstance(for_each, dict) or not for_each:
        raise fail("repeat", '"for_each" must be a non-empty map of placeholders to lists')
    lists = []
    for key, values in for_each.items():
        if isinstance(values, dict) and ev.version.at_least("2016-10-14"):
            values = list(values)
        if not isinstance(values, list):
            raise fail("repeat", f'"for_each" value of "{key}" must be a list')
        lists.append(values)
    permutations = ev.resolve(args.get("permutations", True))
    keys = list(for_each)
    if permutations is False:
        if len({len(values) for values in lists}) > 1:
            raise errors.StackValidationFailed(message='Loops in "repeat" with permutations false must be of the '
                                                       'same length')
        combinations = list(zip(*lists))
    else:
        combinations = list(itertools.product(*lists))
    template = args["template"]
    return [ev.resolve(_substitute(template, dict(zip(keys, combo)))) for combo in combinations]


def _substitute(node: Any, values: dict[str, Any]) -> Any:
    if isinstance(node, str):
        for key in sorted(values, key=len, reverse=True):
            node = node.replace(key, _text(values[key]))
        return node
    if isinstance(node, dict):
        return {_substitute(k, values): _substitute(v, values) for k, v in node.items()}
    if isinstance(node, list):
        return [_substitute(item, values) for item in node]
    return node


def map_merge(ev: Evaluator, args: Any) -> dict[str, Any]:
    args = ev.resolve(args)
    if not isinstance(args, list) or not all(isinstance(m, dict) or m is None for m in args):
        raise fail("map_merge", "must be a list of maps")
    merged: dict[str, Any] = {}
    for mapping in args:
        merged.update(mapping or {})
    return merged


def map_replace(ev: Evaluator, args: Any) -> dict[str, Any]:
    args = ev.resolve(args)
    form = 'must be of the form: [map, {"keys": {...}, "values": {...}}]'
    if not isinstance(args, list) or len(args) != 2 or not isinstance(args[0], dict) \
            or not isinstance(args[1], dict) or set(args[1]) - {"keys", "values"}:
        raise fail("map_replace", form)
    keys: dict[Any, Any] = args[1].get("keys") or {}
    values: dict[Any, Any] = args[1].get("values") or {}
    result: dict[Any, Any] = {}
    for key, value in args[0].items():
        new_key = keys.get(key, key)
        if new_key in result:
            raise errors.StackValidationFailed(message=f'key replacement {new_key} collides with a key in the '
                                                       f'input map')
        result[new_key] = values.get(value, value) if isinstance(value, (str, int, float, bool)) else value
    return result


def list_concat(ev: Evaluator, args: Any, unique: bool = False) -> list[Any]:
    args = ev.resolve(args)
    if not isinstance(args, list) or not all(isinstance(item, list) or item is None for item in args):
        raise fail("list_concat_unique" if unique else "list_concat", "must be a list of lists")
    result: list[Any] = []
    for part in args:
        for item in part or []:
            if not unique or item not in result:
                result.append(item)
    return result


def filter_(ev: Evaluator, args: Any) -> list[Any]:
    args = ev.resolve(args)
    if not isinstance(args, list) or len(args) != 2 or not isinstance(args[1], list):
        raise fail("filter", "must be of the form: [values_to_filter, list]")
    remove = args[0] if isinstance(args[0], list) else [args[0]]
    return [item for item in args[1] if item not in remove]


def select(ev: Evaluator, args: Any) -> Any:
    args = ev.resolve(args)
    if not isinstance(args, list) or len(args) != 2:
        raise fail("Fn::Select", "must be of the form: [index, collection]")
    index, collection = args
    try:
        if isinstance(collection, dict):
            return collection.get(index)
        return collection[int(index)] if collection is not None else ""
    except (ValueError, TypeError, IndexError):
        return ""


# -- conditions -------------------------------------------------------------------------
def if_(ev: Evaluator, args: Any) -> Any:
    nullable = ev.version.at_least("2021-04-16")
    if not isinstance(args, list) or len(args) not in ((2, 3) if nullable else (3,)):
        raise fail("if", "must be of the form: [condition_name, value_if_true, value_if_false]")
    chosen = args[1] if ev.condition(args[0]) else (args[2] if len(args) == 3 else None)
    return ev.resolve(chosen)


def equals(ev: Evaluator, args: Any) -> bool:
    args = ev.resolve(args)
    if not isinstance(args, list) or len(args) != 2:
        raise fail("equals", "must be of the form: [value_1, value_2]")
    return bool(args[0] == args[1])


def not_(ev: Evaluator, args: Any) -> bool:
    return not ev.condition(args)


def and_(ev: Evaluator, args: Any) -> bool:
    if not isinstance(args, list) or len(args) < 2:
        raise fail("and", "must be of the form: [condition_1, condition_2, ...]")
    return all(ev.condition(arg) for arg in args)


def or_(ev: Evaluator, args: Any) -> bool:
    if not isinstance(args, list) or len(args) < 2:
        raise fail("or", "must be of the form: [condition_1, condition_2, ...]")
    return any(ev.condition(arg) for arg in args)


def contains(ev: Evaluator, args: Any) -> bool:
    args = ev.resolve(args)
    if not isinstance(args, list) or len(args) != 2 or not isinstance(args[1], (list, str)):
        raise fail("contains", "must be of the form: [value, sequence]")
    return args[0] in args[1]


FUNCTIONS: dict[str, Callable[[Evaluator, Any], Any]] = {
    "get_param": get_param, "get_resource": get_resource, "get_attr": get_attr, "get_file": get_file,
    "resource_facade": resource_facade, "yaql": yaql,
    "list_join": list_join, "str_replace": _replace("str_replace", 0),
    "str_replace_strict": _replace("str_replace_strict", 1), "str_replace_vstrict": _replace("str_replace_vstrict", 2),
    "str_split": str_split, "digest": digest, "make_url": make_url, "repeat": repeat, "map_merge": map_merge,
    "map_replace": map_replace, "list_concat": list_concat,
    "list_concat_unique": lambda ev, args: list_concat(ev, args, unique=True),
    "filter": filter_, "Fn::Select": select, "if": if_, "contains": contains,
}
CONDITIONS: dict[str, Callable[[Evaluator, Any], Any]] = {
    "get_param": get_param, "equals": equals, "not": not_, "and": and_, "or": or_, "contains": contains,
    "yaql": yaql,
}
