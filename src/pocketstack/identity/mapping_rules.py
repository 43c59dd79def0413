"""Keystone's federation mapping engine (keystone/federation/utils.py ``RuleProcessor``).

A mapping is a list of rules; each rule has ``remote`` requirements on the assertion's
attributes and the ``local`` identity values it yields when they are all met:

- ``{"type": "Attr"}`` needs the attribute and contributes its values to ``{N}``
  (``N`` counts the contributing requirements of the rule, from 0);
- ``any_one_of`` / ``not_any_of`` need one value among / none among those listed (they
  contribute nothing), ``whitelist`` / ``blacklist`` keep only / drop the listed values
  before contributing them; ``regex: true`` matches the listed patterns with ``re.search``.

An attribute with several values carries them ``;``-separated.  One value substitutes
as itself, several (or none) as Python's list literal, which ``groups`` and
``group_ids`` read back as a list.  The first ``user`` of the matching rules wins; the
groups of all of them add up; the ``projects`` of the last rule that names any are kept.

Schema ``2.0`` adds a ``domain`` to projects and lets a rule's ``domain`` be the default
of its user and projects (Keystone's ``RuleProcessorToHonorDomainOption``); ``3.0`` takes
projects as JSON from an attribute (``"projects_json": "{N}"``, Keystone's
``RuleProcessorForProjectJsonAttribute``), and its sign-ins make the user's project
roles follow the mapping's (keystone/auth/plugins/mapped.py).
"""

from __future__ import annotations

import ast
import copy
import json
import re
from dataclasses import dataclass, field
from typing import Any

from pocketstack.identity import errors

EPHEMERAL, LOCAL = "ephemeral", "local"
DEFAULT_SCHEMA_VERSION = "1.0"

# -- Keystone's JSON schemas (keystone/federation/utils.py), messages included ------------
_DOMAIN = {"type": "object", "properties": {"id": {"type": "string"}, "name": {"type": "string"}},
           "additionalProperties": False}
_ROLES = {"type": "array", "items": {"type": "object", "required": ["name"],
                                     "properties": {"name": {"type": "string"}}, "additionalProperties": False}}
_PROJECTS = {"type": "array", "items": {"type": "object", "required": ["name", "roles"], "additionalProperties": False,
                                        "properties": {"name": {"type": "string"}, "roles": _ROLES}}}


def _requirement(key: str) -> dict:
    return {"type": "object", "additionalProperties": False, "required": ["type", key],
            "properties": {"type": {"type": "string"}, key: {"type": "array"}, "regex": {"type": "boolean"}}}


SCHEMA_1_0: dict[str, Any] = {
    "type": "object",
    "required": ["rules"],
    "properties": {
        "rules": {
            "minItems": 1, "type": "array",
            "items": {
                "type": "object", "required": ["local", "remote"], "additionalProperties": False,
                "properties": {
                    "local": {"type": "array", "items": {
                        "type": "object", "additionalProperties": False,
                        "properties": {
                            "user": {"type": "object", "additionalProperties": False, "properties": {
                                "id": {"type": "string"}, "name": {"type": "string"}, "email": {"type": "string"},
                                "domain": {"$ref": "#/definitions/domain"},
                                "type": {"type": "string", "enum": [EPHEMERAL, LOCAL]}}},
                            "projects": _PROJECTS,
                            "group": {"type": "object", "oneOf": [{"$ref": "#/definitions/group_by_id"},
                                                                  {"$ref": "#/definitions/group_by_name"}]},
                            "groups": {"type": "string"},
                            "group_ids": {"type": "string"},
                            "domain": {"$ref": "#/definitions/domain"},
                        }}},
                    "remote": {"minItems": 1, "type": "array", "items": {"type": "object", "oneOf": [
                        {"$ref": "#/definitions/empty"}, {"$ref": "#/definitions/any_one_of"},
                        {"$ref": "#/definitions/not_any_of"}, {"$ref": "#/definitions/blacklist"},
                        {"$ref": "#/definitions/whitelist"}]}},
                },
            },
        },
        "schema_version": {"type": "string"},
    },
    "definitions": {
        "empty": {"type": "object", "required": ["type"], "properties": {"type": {"type": "string"}},
                  "additionalProperties": False},
        "any_one_of": _requirement("any_one_of"),
        "not_any_of": _requirement("not_any_of"),
        "blacklist": _requirement("blacklist"),
        "whitelist": _requirement("whitelist"),
        "domain": _DOMAIN,
        "group_by_id": {"type": "object", "properties": {"id": {"type": "string"}}, "additionalProperties": False,
                        "required": ["id"]},
        "group_by_name": {"type": "object", "additionalProperties": False, "required": ["name", "domain"],
                          "properties": {"name": {"type": "string"}, "domain": {"$ref": "#/definitions/domain"}}},
    },
}
SCHEMA_2_0 = copy.deepcopy(SCHEMA_1_0)
SCHEMA_2_0["properties"]["rules"]["items"]["properties"]["local"]["items"]["properties"]["projects"]["items"][
    "properties"]["domain"] = _DOMAIN
SCHEMA_3_0 = copy.deepcopy(SCHEMA_2_0)
SCHEMA_3_0["properties"]["rules"]["items"]["properties"]["local"]["items"]["properties"]["projects_json"] = {
    "type": "string"}
SCHEMAS = {"1.0": SCHEMA_1_0, "2.0": SCHEMA_2_0, "3.0": SCHEMA_3_0}
SYNC_SCHEMA_VERSION = "3.0"  # from this one, sign-ins revoke the project roles the mapping no longer gives
_PROJECTS_2_0 = SCHEMA_2_0["properties"]["rules"]["items"]["properties"]["local"]["items"]["properties"]["projects"]
_PROJECT_JSON_INDEX = re.compile(r"\{?(\d+)\}?")


def _check(instance: Any, schema: dict) -> None:
    """400 with Keystone's message (every schema error, sorted, one a line) unless
    ``instance`` matches ``schema``."""
    from jsonschema import Draft4Validator

    messages = "".join(e.message + "\n" for e in sorted(Draft4Validator(schema).iter_errors(instance), key=str))
    if messages:
        raise errors.ValidationMessage(message=messages)


def validate_mapping(mapping: dict) -> None:
    """400 unless ``mapping`` (``rules``, ``schema_version``) is valid."""
    version = mapping.get("schema_version") or DEFAULT_SCHEMA_VERSION
    schema = SCHEMAS.get(version) if isinstance(version, str) else None
    if schema is None:
        raise errors.ValidationMessage(message=f"Unsupported mapping schema_version: {version}. "
                                               f"Supported: {', '.join(SCHEMAS)}.")
    _check(mapping, schema)


# -- evaluation -------------------------------------------------------------------------
class NoMatch(errors.BadRequest):
    """No rule matched (Keystone's ``ValidationError``; the ``mapped`` method answers 401)."""

    msg_fmt = ("Could not map any federated user properties to identity values. Check debug logs or the mapping "
               "used for additional details.")


class DirectMappingError(errors.BadRequest):
    """A local value refers to a remote match the rule does not have (``{1}`` of a rule
    with one contributing requirement)."""

    msg_fmt = ("Local section in mapping {mapping_id} refers to a remote match that doesn't exist (e.g. {{0}} in a "
               "local section).")


@dataclass
class Mapped:
    """What an assertion maps to: ``user`` (``type`` ephemeral or local, ``name``,
    ``id``, ``domain``…), group ids and groups by name (``{"name", "domain"}``), and the
    projects (``{"name", "roles", "domain"?}``) to provision."""

    user: dict = field(default_factory=dict)
    group_ids: list[str] = field(default_factory=list)
    group_names: list[dict] = field(default_factory=list)
    projects: list[dict] = field(default_factory=list)


def split_assertion(attributes: dict) -> dict[str, list[str]]:
    """The assertion as the engine reads it: each string attribute's ``;``-separated values."""
    return {name: value.split(";") for name, value in attributes.items() if isinstance(value, str)}


def _substitutable(values: list[str]) -> Any:
    """A contribution as ``{N}`` shows it: one value as itself, others as a list literal."""
    return values[0] if len(values) == 1 else values


def _matching(patterns: list, values: list[str], regex: bool) -> list[str]:
    if regex:
        return [v for v in values if any(re.search(p, v) for p in patterns)]
    listed = set(patterns)
    return [v for v in values if v in listed]


def _contributions(remote: list[dict], assertion: dict[str, list[str]]) -> list[Any] | None:
    """The rule's ``{N}`` values if every requirement holds, else None."""
    found: list[Any] = []
    for requirement in remote:
        values = assertion.get(requirement["type"])
        if not values:
            return None
        regex = bool(requirement.get("regex", False))
        if "any_one_of" in requirement:
            if not _matching(requirement["any_one_of"], values, regex):
                return None
            continue
        if "not_any_of" in requirement:
            if _matching(requirement["not_any_of"], values, regex):
                return None
            continue
        if "blacklist" in requirement:
            dropped = set(_matching(requirement["blacklist"], values, regex))
            values = [v for v in dict.fromkeys(values) if v not in dropped]
        elif "whitelist" in requirement:
            values = list(dict.fromkeys(_matching(requirement["whitelist"], values, regex)))
        found.append(_substitutable(values))
    return found


def _list_literal(value: str) -> list:
    """``groups``/``group_ids`` after substitution: a list literal, or one value."""
    try:
        parsed = ast.literal_eval(value)
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        return [value]
    return parsed if isinstance(parsed, list) else [value]


class RuleProcessor:
    """Evaluates one mapping's rules against assertions."""

    def __init__(self, mapping_id: str, rules: list[dict], schema_version: str = DEFAULT_SCHEMA_VERSION):
        self.mapping_id = mapping_id
        self.rules = rules
        self.honor_domain = schema_version != "1.0"
        self.projects_json = schema_version == SYNC_SCHEMA_VERSION

    def process(self, attributes: dict) -> Mapped:
        assertion = split_assertion(attributes)
        values: list[dict] = []
        for rule in self.rules:
            found = _contributions(rule["remote"], assertion)
            if found is not None:
                values.extend({key: self._local_value(key, value, found) for key, value in local.items()}
                              for local in rule["local"])
        return self._transform(values)

    def _local_value(self, key: str, value: Any, found: list[Any]) -> Any:
        if self.projects_json and (key == "projects_json" or (key == "projects" and isinstance(value, str))):
            return self._json_projects(key, value, found)
        return self._substitute(value, found)

    def _json_projects(self, key: str, rule: str, found: list[Any]) -> list:
        """Schema 3.0: ``"{N}"`` names the contribution holding the projects as JSON."""
        match = _PROJECT_JSON_INDEX.match(rule)
        if match is None:
            raise errors.ValidationMessage(message=f"The rule [{rule}] for key [{key}] does not match the expected "
                                                   f"pattern [{_PROJECT_JSON_INDEX.pattern}].")
        index = int(match.group(1))
        if index >= len(found):
            raise DirectMappingError(mapping_id=self.mapping_id)
        projects = found[index]
        if isinstance(projects, str):
            try:
                projects = json.loads(projects)
            except ValueError:
                raise errors.ValidationMessage(message=f"Invalid JSON in {key}: {projects}") from None
        _check(projects, _PROJECTS_2_0)
        return projects

    def _substitute(self, local: Any, found: list[Any]) -> Any:
        if isinstance(local, dict):
            return {key: self._substitute(value, found) for key, value in local.items()}
        if isinstance(local, list):
            return [self._substitute(item, found) for item in local]
        if not isinstance(local, str):
            return local
        try:
            return local.format(*found)
        except IndexError:
            raise DirectMappingError(mapping_id=self.mapping_id) from None
        except (KeyError, ValueError, AttributeError):
            # A brace that is no positional field: Keystone's str.format fails the same
            # way; report it as the mapping's fault, not the caller's.
            raise DirectMappingError(mapping_id=self.mapping_id) from None

    def _transform(self, values: list[dict]) -> Mapped:
        if not values:
            raise NoMatch()
        out = Mapped()
        group_ids: dict[str, None] = {}
        last_domain = None
        for value in values:
            if "user" in value and not out.user:
                out.user = dict(value["user"])
            group = value.get("group")
            if isinstance(group, dict):
                if "id" in group:
                    group_ids[group["id"]] = None
                elif "name" in group:
                    self._add_group(out, group)
            if "groups" in value:
                for g in self._groups(value):
                    self._add_group(out, g)
            if "group_ids" in value:
                group_ids.update(dict.fromkeys(str(g) for g in _list_literal(value["group_ids"])))
            if "projects" in value or "projects_json" in value:
                out.projects = [dict(p) for p in [*value.get("projects", []), *value.get("projects_json", [])]]
                if self.honor_domain:
                    for project in out.projects:
                        project.setdefault("domain", value.get("domain"))
                        if not project["domain"]:
                            del project["domain"]
            last_domain = value.get("domain")
        out.user.setdefault("type", EPHEMERAL)
        if out.user["type"] not in (EPHEMERAL, LOCAL):
            raise errors.ValidationMessage(message=f"User type {out.user['type']} not supported")
        if self.honor_domain and not out.user.get("domain") and last_domain:
            out.user["domain"] = last_domain
        out.group_ids = list(group_ids)
        return out

    @staticmethod
    def _add_group(out: Mapped, group: dict) -> None:
        if group not in out.group_names:
            out.group_names.append(group)

    @staticmethod
    def _groups(value: dict) -> list[dict]:
        """A ``groups`` entry: names with the rule's ``domain``, or (when it mentions
        ``name``) a list of ``{"name", "domain"}`` objects."""
        names = _list_literal(value["groups"])
        if "name" in value["groups"]:
            parsed = [json.loads(g[len("JSON:"):]) if isinstance(g, str) and g.startswith("JSON:") else g
                      for g in names]
            if all(isinstance(g, dict) and "domain" in g for g in parsed):
                return parsed
        elif "domain" in value:
            return [{"name": name, "domain": value["domain"]} for name in names]
        raise errors.ValidationMessage(message=f"Invalid rule: {value}. Both 'groups' and 'domain' keywords must be "
                                               "specified.")
