"""What the fuzzer sends: bodies, query strings and path parameters biased toward what
breaks servers.

A body is drawn from one of three families:

* *plausible*: the shape a route expects: a valid body the world was built with (a
  *seed*) with one value made wrong, a minimal valid instance of a JSON Schema of the
  handler's modules with one value made wrong, that schema's shape with garbage at any
  level, or objects keyed by the modules' string literals (bare, wrapped in the route's
  resource key, as a one-key action, or in a JSON-Patch-like list);
* *garbage*: any JSON value;
* *raw*: bytes no JSON encoder would produce on its own: empty and ``null`` bodies,
  nesting 100 000 levels deep, numbers that overflow a float, lone surrogates as
  ``\\ud800`` escapes, invalid UTF-8, truncated documents.

:func:`baseline_mutants` and :data:`BASELINE_RAW` are the part every route gets on every
run, whatever hypothesis draws.  Values lean to the edges: integers at and beyond the
64-bit limits, huge floats (never NaN or infinity, which JSON cannot carry), very long
strings, lone surrogates and control characters, wrong types everywhere.  Bodies are
serialised with ``json.dumps`` (ASCII-escaped, so a lone surrogate travels as the
``\\udXXX`` escape that a strict UTF-8 encoder would refuse to produce).
"""

from __future__ import annotations

import copy
import json
import re
from dataclasses import dataclass, field
from urllib.parse import quote

from hypothesis import strategies as st

from fuzzing.routes import FuzzRoute, param_name, resource_key

# --- values --------------------------------------------------------------------------

# Nesting depth of the deep bodies: past any recursion limit of a JSON parser (hypothesis
# raises the interpreter's limit while it runs, so far past the default 1000).
DEEP = 100_000
EDGE_INTEGERS = (0, -1, 1, 2**31 - 1, 2**31, 2**32, 2**53 + 1, 2**63 - 1, 2**63, -(2**63), -(2**63) - 1,
                 2**64, 2**64 + 1, 10**30, -(10**30))
EDGE_FLOATS = (0.0, -0.0, 0.5, 1e-320, 1.7976931348623157e308, -1.7976931348623157e308, 1e300, 9.3e18,
               -9.3e18, 1.5)
EDGE_STRINGS = ("", " ", "0", "-1", "x", "true", "null", "None", "NaN", "Infinity", str(2**63), str(2**64),
                "\x00", "\ud800", "\udfff", "a\ud800b", "\u202e", "%s%n", "../..", "1.5", "1e999", "  padded  ")
_IDENTIFIER = re.compile(r"^[A-Za-z_@][\w:.@-]*$")

surrogates = st.characters(categories=["Cs"])
any_char = st.characters(codec=None)
# Long strings built lazily (a strategy's repr would otherwise be as long as they are).
long_text = st.tuples(st.sampled_from("xé\ud800"), st.sampled_from([256, 4096, 70_000])).map(lambda cn: cn[0] * cn[1])
edge_text = st.one_of(st.sampled_from(EDGE_STRINGS), long_text, st.text(any_char, max_size=20),
                      st.text(st.one_of(surrogates, any_char), min_size=1, max_size=8))
scalars = st.one_of(
    st.none(), st.booleans(),
    st.sampled_from(EDGE_INTEGERS), st.integers(min_value=-(2**70), max_value=2**70),
    st.sampled_from(EDGE_FLOATS), st.floats(allow_nan=False, allow_infinity=False),
    edge_text)
garbage = st.recursive(scalars, lambda inner: st.one_of(
    st.lists(inner, max_size=4), st.dictionaries(edge_text, inner, max_size=4)), max_leaves=12)
# One wrong value of each JSON type, for a field that expects another.
WRONG = st.one_of(st.sampled_from(EDGE_INTEGERS), st.sampled_from(EDGE_FLOATS), st.sampled_from(EDGE_STRINGS),
                  st.sampled_from([None, True, False, [], {}, [1], {"a": 1}, [[]], ["\ud800"]]), long_text)


def keys_of(words: tuple[str, ...]) -> tuple[str, ...]:
    """The words that could be a JSON key (no spaces or punctuation runs)."""
    return tuple(w for w in words if _IDENTIFIER.match(w)) or ("name",)


# --- JSON Schemas found in a handler's module -----------------------------------------

def object_schemas(namespace: dict) -> list[dict]:
    """The outermost JSON Schemas of objects (dicts with ``properties``) reachable from
    a module's globals, however nested in tables (``SCHEMAS[(member, create)]``)."""
    found, seen = [], set()

    def walk(value, depth: int) -> None:
        if depth > 6 or id(value) in seen:
            return
        seen.add(id(value))
        if isinstance(value, dict):
            if isinstance(value.get("properties"), dict):
                found.append(value)
                return
            for item in value.values():
                walk(item, depth + 1)
        elif isinstance(value, (list, tuple)):
            for item in value:
                walk(item, depth + 1)

    for name, value in sorted(namespace.items()):
        if not name.startswith("__"):
            walk(value, 0)
    return found


def types_of(schema: dict) -> list[str]:
    kinds = schema.get("type", [])
    kinds = [kinds] if isinstance(kinds, str) else list(kinds)
    if "properties" in schema and "object" not in kinds:
        kinds.insert(0, "object")
    if "items" in schema and "array" not in kinds:
        kinds.append("array")
    return kinds


def properties_of(schema: dict) -> dict[str, dict]:
    props = schema.get("properties")
    return {k: v for k, v in props.items() if isinstance(k, str) and isinstance(v, dict)} if isinstance(
        props, dict) else {}


def valid_instance(schema: dict, depth: int = 0):
    """A small value that a simple schema accepts: required properties only, minimal
    numbers, a short string; the best guess where a pattern or format constrains it."""
    if not isinstance(schema, dict) or depth > 8:
        return "fuzz"
    if isinstance(schema.get("enum"), list) and schema["enum"]:
        return schema["enum"][0]
    kinds = types_of(schema)
    kind = next((k for k in ("object", "integer", "number", "boolean", "string", "array") if k in kinds),
                "null" if "null" in kinds else "string")
    if kind == "object":
        props = properties_of(schema)
        return {k: valid_instance(props[k], depth + 1) for k in schema.get("required", []) if k in props}
    if kind == "string":
        return "fuzz" + "z" * max(0, int(schema.get("minLength", 0)) - 4)
    if kind in ("integer", "number"):
        minimum = schema.get("minimum", 1)
        return max(int(minimum), 1) if isinstance(minimum, (int, float)) else 1
    return {"boolean": True, "array": [], "null": None}[kind]


def field_paths(schema: dict, depth: int = 0) -> list[tuple]:
    """Every place a value can go in an instance of ``schema``: a path of
    ``(key, subschema)`` steps (``("[]", items)`` for an array's first item)."""
    if depth > 5 or not isinstance(schema, dict):
        return []
    paths = []
    for key, sub in properties_of(schema).items():
        paths.append(((key, sub),))
        paths.extend(((key, sub),) + rest for rest in field_paths(sub, depth + 1))
    items = schema.get("items")
    if isinstance(items, dict):
        paths.append((("[]", items),))
        paths.extend((("[]", items),) + rest for rest in field_paths(items, depth + 1))
    return paths


def with_value(schema: dict, path: tuple, value):
    """A minimal valid instance of ``schema`` with ``value`` put at ``path`` (the
    containers on the way created valid)."""
    root = valid_instance(schema)
    holder, node = None, root
    for key, sub in path:
        if key == "[]":
            if not isinstance(node, list):
                return root
            if not node:
                node.append(valid_instance(sub))
            holder, node = (node, 0), node[0]
        else:
            if not isinstance(node, dict):
                return root
            node.setdefault(key, valid_instance(sub))
            holder, node = (node, key), node[key]
    if holder is None:
        return value
    container, slot = holder
    container[slot] = copy.deepcopy(value)
    return root


def schemas_for(route: FuzzRoute, schemas: list[dict]) -> list[dict]:
    """The schemas whose top-level properties name the route's resource (``flavor``
    for ``/flavors``, ``extra_specs`` for ``/os-extra_specs``); all of them if none does."""
    literals = [s for s in route.segments if param_name(s) is None]
    names = {resource_key(route)} | ({literals[-1].removeprefix("os-").replace("-", "_")} if literals else set())
    return [s for s in schemas if names & set(properties_of(s))] or schemas


# --- valid bodies (seeds) with one value wrong ---------------------------------------

def json_paths(value, prefix: tuple = ()) -> list[tuple]:
    """Every place in a JSON value (object keys, array indices), outermost first."""
    if isinstance(value, dict):
        items = list(value.items())
    elif isinstance(value, list):
        items = list(enumerate(value))
    else:
        return []
    paths = []
    for key, item in items:
        paths.append(prefix + (key,))
        paths.extend(json_paths(item, prefix + (key,)))
    return paths


def replaced(value, path: tuple, new):
    """``value`` with the item at ``path`` replaced by ``new`` (a copy; the root itself
    for an empty path)."""
    if not path:
        return copy.deepcopy(new)
    result = copy.deepcopy(value)
    node = result
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = copy.deepcopy(new)
    return result


def seed_mutants(seeds: list) -> list:
    """Each seed with each value (and each container) in turn set to each of
    :data:`BASELINE_WRONG`."""
    return [replaced(seed, path, wrong) for seed in seeds for path in json_paths(seed) for wrong in BASELINE_WRONG]


def seed_variants(seeds: list) -> st.SearchStrategy:
    """A seed with one value (or container) replaced by any wrong value."""
    def vary(seed) -> st.SearchStrategy:
        paths = json_paths(seed)
        if not paths:
            return st.just(seed)
        return st.builds(lambda path, value: replaced(seed, path, value), st.sampled_from(paths),
                         st.one_of(WRONG, garbage))
    return st.sampled_from(seeds).flatmap(vary)


# The wrong values every field of a seed or schema gets on every run: a string where a
# number or object is expected, an integer past 64 bits, a list where a scalar is, and a
# lone surrogate (a string no database stores).
BASELINE_WRONG = ("x", 2**64, [], "\ud800")
MAX_BASELINE_MUTANTS = 120


def baseline_mutants(seeds: list, schemas: list[dict]) -> list:
    """The seeds with one value wrong, then each schema's minimal valid instance with
    one field wrong (at most :data:`MAX_BASELINE_MUTANTS` distinct bodies)."""
    bodies = list(seeds) + seed_mutants(seeds)
    for schema in schemas:
        bodies.append(valid_instance(schema))
        bodies.extend(with_value(schema, path, wrong) for path in field_paths(schema) for wrong in BASELINE_WRONG)
    unique = {json.dumps(body, sort_keys=True): body for body in bodies}
    return list(unique.values())[:MAX_BASELINE_MUTANTS]


def mutants(schema: dict) -> st.SearchStrategy:
    """A minimal valid instance of ``schema`` with one value wrong (or the instance as
    is: it may be accepted, and a valid request must not crash either)."""
    paths = field_paths(schema)
    if not paths:
        return st.just(valid_instance(schema))
    return st.builds(lambda path, value: with_value(schema, path, value), st.sampled_from(paths),
                     st.one_of(WRONG, garbage))


def near(schema: dict, words: st.SearchStrategy, depth: int = 0) -> st.SearchStrategy:
    """Values that almost match ``schema``: its shape, with garbage (or an edge value of
    the right type) at any level."""
    if depth > 4 or not isinstance(schema, dict):
        return garbage
    options = [garbage, words]
    if isinstance(schema.get("enum"), list) and schema["enum"]:
        options.append(st.sampled_from(schema["enum"]))
    kinds = types_of(schema)
    if "object" in kinds:
        props = properties_of(schema)
        required = [k for k in schema.get("required", []) if k in props]
        optional = {k: near(v, words, depth + 1) for k, v in props.items() if k not in required}
        mapping = {k: near(props[k], words, depth + 1) for k in required}
        options.append(st.fixed_dictionaries(mapping, optional=optional))
        extra = schema.get("additionalProperties")
        if isinstance(extra, dict):
            options.append(st.dictionaries(st.one_of(words, edge_text), near(extra, words, depth + 1), max_size=3))
    if "array" in kinds:
        options.append(st.lists(near(schema.get("items") or {}, words, depth + 1), max_size=4))
    for kind, strategy in (("integer", st.sampled_from(EDGE_INTEGERS)), ("number", st.sampled_from(EDGE_FLOATS)),
                           ("string", edge_text), ("boolean", st.booleans())):
        if kind in kinds:
            options.append(strategy)
    return st.one_of(options)


# --- bodies --------------------------------------------------------------------------

def plausible_bodies(route: FuzzRoute, seeds: list, schemas: list[dict],
                     words: tuple[str, ...]) -> st.SearchStrategy:
    """Bodies shaped like what ``route`` expects: a valid body (seed) with one wrong
    value, one wrong value in a valid instance of a schema of its module, that schema's
    shape with garbage, or objects keyed by the module's words (bare, wrapped in the
    route's resource key, as a one-key action, or in a list like Glance's JSON Patch)."""
    word = st.sampled_from(words)
    keys = st.sampled_from(keys_of(words))
    path_word = keys.map(lambda k: "/" + k)
    values = st.one_of(garbage, word, path_word)
    objects = st.dictionaries(keys, st.one_of(values, st.dictionaries(keys, values, max_size=4)), max_size=5)
    shaped = st.one_of(objects, st.lists(objects, max_size=3))
    action = st.builds(lambda key, value: {key: value}, keys, st.one_of(garbage, objects))
    wrapped = shaped.map(lambda inner: {resource_key(route): inner})
    families = [wrapped, shaped, action]
    if schemas:
        chosen = st.sampled_from(schemas)
        families = [chosen.flatmap(mutants), chosen.flatmap(mutants),
                    chosen.flatmap(lambda s: near(s, st.one_of(word, path_word))), *families]
    if seeds:
        families = [seed_variants(seeds), seed_variants(seeds), *families]
    return st.one_of(families)


def deep(depth: int, opener: str, closer: str, leaf: str = "1") -> bytes:
    return (opener * depth + leaf + closer * depth).encode()


def _raw_makers(key: bytes) -> dict:
    """Name -> maker of a raw body (lazily: some are big); ``key`` is the route's
    resource key as a JSON string."""
    return {
        "empty": lambda: b"", "blank": lambda: b" ", "null": lambda: b"null", "zero": lambda: b"0",
        "list": lambda: b"[]", "object": lambda: b"{}", "string": lambda: b'""', "true": lambda: b"true",
        "null resource": lambda: b"{" + key + b": null}", "list resource": lambda: b"{" + key + b": []}",
        "string resource": lambda: b"{" + key + b': "x"}',
        "open brace": lambda: b"{", "truncated": lambda: b'{"a":', "open list": lambda: b"[1,",
        "utf-16 bom": lambda: b"\xff\xfe\x00", "cesu surrogate": lambda: b"\xed\xa0\x80",
        "float overflow": lambda: b"1e999", "negative float overflow": lambda: b"-1e999",
        "float overflow inside": lambda: b"{" + key + b": 1e999}", "5000 digits": lambda: b"9" * 5000,
        "lone surrogate": lambda: b'"\\ud800"', "lone surrogate key": lambda: b'{"\\udfff": 1}',
        "lone surrogate inside": lambda: b"{" + key + b': {"name": "\\ud800"}}',
        "long list": lambda: b"[" + b"1," * 20_000 + b"1]",
        "deep list": lambda: deep(DEEP, "[", "]"), "deep object": lambda: deep(DEEP, '{"a":', "}"),
        "deep list inside": lambda: b"{" + key + b":" + deep(DEEP, "[", "]") + b"}",
        "deep object inside": lambda: b"{" + key + b":" + deep(DEEP, '{"a":', "}") + b"}",
    }


# Sent to every body route on every run, whatever the random examples are.
BASELINE_RAW = ("empty", "null", "list", "null resource", "list resource", "string resource", "cesu surrogate",
                "float overflow inside", "lone surrogate inside", "deep list inside", "deep object")


def raw_body(route: FuzzRoute, name: str) -> bytes:
    return _raw_makers(json.dumps(resource_key(route)).encode())[name]()


def raw_bodies(route: FuzzRoute) -> st.SearchStrategy:
    """Bodies as bytes that no well-behaved client sends."""
    makers = _raw_makers(json.dumps(resource_key(route)).encode())
    return st.one_of(st.sampled_from(sorted(makers)).map(lambda name: makers[name]()), st.binary(max_size=64))


def to_bytes(value) -> bytes:
    """``json.dumps`` as a client sends it: ASCII, so lone surrogates become escapes."""
    return json.dumps(value, allow_nan=False).encode()


@dataclass
class RequestCase:
    """One request the fuzzer sends (and reports, shrunk, when it fails)."""

    method: str
    url: str
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    as_member: bool = False

    def __repr__(self) -> str:
        body = self.body if len(self.body) <= 300 else self.body[:300] + b"...(%d bytes)" % len(self.body)
        headers = {k: v if len(v) <= 200 else v[:200] + f"...({len(v)} chars)" for k, v in self.headers.items()}
        who = "member" if self.as_member else "admin"
        url = self.url if len(self.url) <= 300 else self.url[:300] + f"...({len(self.url)} chars)"
        return f"RequestCase({self.method} {url} as {who}, headers={headers!r}, body={body!r})"


# --- paths ---------------------------------------------------------------------------

# Path parameters that are not real resources: random, malformed, overflowing.
garbage_ids = st.one_of(
    st.uuids().map(str), st.uuids().map(lambda u: u.hex),
    st.sampled_from(["0", "-1", "1.5", str(2**63), str(2**64), "9" * 40, "x" * 300, "%FF", "%ED%A0%80", "%00",
                     "%20", "a%2Fb", "..", "None", "null", "%E2%80%AE"]),
    st.text(st.characters(codec="ascii", categories=["L", "N"]), min_size=1, max_size=12))


def _fill(route: FuzzRoute, known: dict[str, list[str]], pick) -> str:
    """The route's path with each parameter replaced by ``pick(name, candidates)``,
    where candidates are the real ids that may stand there: looked up by the literal
    segment before the parameter, by the value chosen for the parameter before it, or by
    the parameter's name."""
    parts, previous = [], ""
    for segment in route.segments:
        name = param_name(segment)
        if name is None:
            parts.append(segment)
        else:
            parts.append(pick(name, known.get(previous) or known.get(name) or []))
        previous = parts[-1]
    return route.mount + "/" + "/".join(parts)


def real_path(route: FuzzRoute, known: dict[str, list[str]]) -> str:
    """The route's path on real resources where there are some (garbage elsewhere)."""
    return _fill(route, known, lambda name, real: quote(real[0], safe=":@") if real else "fuzz-missing")


def path_values(route: FuzzRoute, known: dict[str, list[str]]) -> st.SearchStrategy:
    """A concrete path for ``route``: each parameter a real resource or a garbage id."""
    @st.composite
    def build(draw) -> str:
        def pick(name: str, real: list[str]) -> str:
            options = [st.sampled_from(real).map(lambda v: quote(v, safe=":@"))] if real else []
            value = draw(st.one_of(*options, garbage_ids))
            if name == "obj":  # Swift's object name may hold slashes
                value += draw(st.sampled_from(["", "/nested/name", "/" + "d/" * 40 + "x"]))
            return value
        return _fill(route, known, pick)
    return build()


# --- query strings -------------------------------------------------------------------

# Sent as they are: bytes that are not UTF-8 (or a NUL) once percent-decoded.
RAW_ESCAPES = ("%FF", "%ED%A0%80", "%00", "%C0%AF")
# Values a filter may decode as JSON or a Python literal (Cinder's ``metadata``): lone
# surrogates as escapes, and nesting past a recursive parser's limit.
QUERY_DOCUMENTS = ('{"\\udfff": "\\ud800"}', "[" * 2000 + "]" * 2000)
QUERY_KEYS = ("sort_key", "sort_dir", "sort", "limit", "marker", "offset", "page_reverse", "fields", "all_tenants",
              "all_projects", "name", "status", "changes-since", "changes-before", "detailed", "is_public",
              "project_id", "tenant_id", "deleted", "with_count", "member_of", "resources", "required", "in_tree",
              "uuid", "prefix", "delimiter", "end_marker", "format", "reverse", "visibility", "tag", "tags",
              "not-tags", "id", "created_at", "size_min", "size_max", "minRam", "minDisk", "ip", "host", "metadata")


def query_strings(words: tuple[str, ...]) -> st.SearchStrategy:
    """Query strings of garbage filters, sort keys, limits and markers, percent-encoded
    from raw bytes (a lone surrogate arrives as its CESU-8 bytes ``%ED%A0%80``)."""
    short_text = st.one_of(st.sampled_from(EDGE_STRINGS), st.text(st.one_of(surrogates, any_char), max_size=20),
                           st.sampled_from("x\ud800").map(lambda c: c * 600))  # URLs stay under httpx's 64 KiB
    keys = st.one_of(st.sampled_from(QUERY_KEYS), st.sampled_from(keys_of(words)), short_text)
    values = st.one_of(short_text, st.sampled_from(words), st.sampled_from(EDGE_INTEGERS).map(str),
                       st.sampled_from(EDGE_FLOATS).map(repr), st.sampled_from(RAW_ESCAPES))

    def encode(text: str) -> str:
        if text in RAW_ESCAPES:
            return text
        return quote(text.encode("utf-8", "surrogatepass"), safe="")

    pairs = st.lists(st.tuples(keys, values), min_size=1, max_size=5)
    return pairs.map(lambda items: "&".join(f"{encode(k)}={encode(v)}" for k, v in items))


def baseline_queries(words: tuple[str, ...]) -> list[str]:
    """What every listing gets on every run: each query key its handler's modules name,
    alone, holding each of :data:`QUERY_DOCUMENTS` (one key at a time, so that a key
    refused first cannot hide one that crashes)."""
    keys = sorted(set(keys_of(words)) & set(QUERY_KEYS))
    return [f"{key}={quote(document, safe='')}" for key in keys for document in QUERY_DOCUMENTS]
