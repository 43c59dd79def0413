"""RBAC: named rules in oslo.policy's language, defaults per service, file overrides.

Rules are strings such as ``"role:reader and project_id:%(project_id)s"``.  Supported:
``@`` (always), ``!`` (never), ``role:NAME``, ``rule:NAME``, ``KEY:%(target.path)s``
(the caller's credential KEY equals the target's value), ``KEY:literal``,
``'literal':%(target.path)s``, and ``and`` / ``or`` / ``not`` with parentheses.  Operators
override any rule with a YAML or JSON policy file, exactly like an OpenStack policy file.

Defaults model Keystone's personas: ``admin`` (cloud administrator, implies member),
``member`` (reads and writes its own project's resources, implies reader) and
``reader`` (reads only).
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pocketstack.common.errors import Forbidden

LOG = logging.getLogger(__name__)


@dataclass(frozen=True)
class Rule:
    """A default rule, documented as Nova documents its ``DocumentedRuleDefault``s: the
    name, the check string an operator may override, and what it guards.  The operations
    (method and path) come from the routes that declare the rule."""

    name: str
    check: str
    description: str


# Rules every service may refer to with ``rule:NAME``.
BASE_RULE_DOCS = (
    Rule("admin_api", "role:admin", "The cloud administrator: the admin role, in any scope."),
    Rule("context_is_admin", "role:admin", "Same as admin_api (the name Neutron and Cinder use)."),
    Rule("system_reader", "role:reader and system_scope:all", "A reader with a system-scoped token (an auditor)."),
    Rule("project_reader", "role:reader and project_id:%(project_id)s", "A reader (or more) of the target's project."),
    Rule("project_member", "role:member and project_id:%(project_id)s", "A member (or more) of the target's project."),
    Rule("project_reader_or_admin", "rule:admin_api or rule:project_reader",
         "The target project's readers, and the cloud administrator."),
    Rule("project_member_or_admin", "rule:admin_api or rule:project_member",
         "The target project's members, and the cloud administrator."),
    Rule("owner", "user_id:%(user_id)s", "The user the target belongs to."),
)
BASE_RULES: dict[str, str] = {rule.name: rule.check for rule in BASE_RULE_DOCS}

Check = Callable[[Mapping[str, Any], Mapping[str, Any], "Enforcer"], bool]


def _tokenize(rule: str) -> list[str]:
    """Split on whitespace, then peel parentheses off the ends of each word; the
    parentheses inside ``%(name)s`` stay with their word."""
    tokens: list[str] = []
    for word in rule.split():
        while word.startswith("("):
            tokens.append("(")
            word = word[1:]
        closing = 0
        while word.endswith(")"):
            closing += 1
            word = word[:-1]
        if word:
            tokens.append(word)
        tokens.extend(")" * closing)
    return tokens


class PolicyError(ValueError):
    """A rule string that cannot be parsed."""


def _lookup(target: Mapping[str, Any], path: str) -> Any:
    if path in target:
        return target[path]
    value: Any = target
    for part in path.split("."):
        if not isinstance(value, Mapping) or part not in value:
            return None
        value = value[part]
    return value


def _atom(text: str) -> Check:
    if text == "@":
        return lambda creds, target, enf: True
    if text == "!":
        return lambda creds, target, enf: False
    if ":" not in text:
        raise PolicyError(f"bad check {text!r}")
    kind, match = text.split(":", 1)
    if kind == "rule":
        return lambda creds, target, enf: enf.check_rule(match, creds, target)
    if kind == "role":
        wanted = match.lower()
        return lambda creds, target, enf: wanted in (r.lower() for r in creds.get("roles") or ())
    template = re.fullmatch(r"%\((.+)\)s", match)
    if kind.startswith("'") and kind.endswith("'"):
        literal = kind[1:-1]
        if not template:
            raise PolicyError(f"bad check {text!r}")
        return lambda creds, target, enf: str(_lookup(target, template.group(1))) == literal
    if template:
        path = template.group(1)

        def compare(creds: Mapping[str, Any], target: Mapping[str, Any], enf: Enforcer) -> bool:
            mine, theirs = creds.get(kind), _lookup(target, path)
            return mine is not None and theirs is not None and str(mine) == str(theirs)
        return compare
    return lambda creds, target, enf: str(creds.get(kind)) == match


def parse(rule: str) -> Check:
    """Compile a rule string; the empty rule allows everything (as in oslo.policy)."""
    tokens = _tokenize(rule)
    if not tokens:
        return lambda creds, target, enf: True
    pos = 0

    def peek() -> str | None:
        return tokens[pos] if pos < len(tokens) else None

    def take() -> str:
        nonlocal pos
        pos += 1
        return tokens[pos - 1]

    def parse_or() -> Check:
        checks = [parse_and()]
        while peek() == "or":
            take()
            checks.append(parse_and())
        return checks[0] if len(checks) == 1 else (lambda c, t, e: any(x(c, t, e) for x in checks))

    def parse_and() -> Check:
        checks = [parse_not()]
        while peek() == "and":
            take()
            checks.append(parse_not())
        return checks[0] if len(checks) == 1 else (lambda c, t, e: all(x(c, t, e) for x in checks))

    def parse_not() -> Check:
        if peek() == "not":
            take()
            inner = parse_not()
            return lambda c, t, e: not inner(c, t, e)
        if peek() == "(":
            take()
            inner = parse_or()
            if take() != ")":
                raise PolicyError(f"unbalanced parentheses in {rule!r}")
            return inner
        token = take()
        if token in (None, ")", "and", "or"):
            raise PolicyError(f"unexpected {token!r} in {rule!r}")
        return _atom(token)

    try:
        check = parse_or()
    except IndexError:
        raise PolicyError(f"incomplete rule {rule!r}") from None
    if pos != len(tokens):
        raise PolicyError(f"trailing tokens in {rule!r}")
    return check


class PolicyNotRegistered(RuntimeError):
    """Code enforced a rule no service registered: a bug (oslo.policy raises the same)."""


class Enforcer:
    """Holds every rule (defaults, then file overrides) and answers authorisation checks."""

    def __init__(self, defaults: Mapping[str, str] | None = None, policy_file: str | Path | None = None):
        self._rules: dict[str, str] = dict(BASE_RULES)
        self._rules.update(defaults or {})
        self._overrides = load_policy_file(policy_file) if policy_file else {}
        self._rules.update(self._overrides)
        self._compiled: dict[str, Check] = {name: parse(text) for name, text in self._rules.items()}
        self.documented: dict[str, Rule] = {rule.name: rule for rule in BASE_RULE_DOCS}

    def register(self, rules: Iterable[Rule]) -> None:
        """Add a service's documented defaults; a policy file's override wins."""
        for rule in rules:
            self.documented[rule.name] = rule
            if rule.name not in self._overrides:
                self._rules[rule.name] = rule.check
                self._compiled[rule.name] = parse(rule.check)

    def register_defaults(self, defaults: Mapping[str, str]) -> None:
        """Add a service's defaults without overriding rules already set (e.g. by a file)."""
        for name, text in defaults.items():
            if name not in self._rules:
                self._rules[name] = text
                self._compiled[name] = parse(text)

    def rules(self) -> dict[str, str]:
        return dict(self._rules)

    def check_rule(self, name: str, creds: Mapping[str, Any], target: Mapping[str, Any]) -> bool:
        """Whether rule ``name`` allows ``creds`` on ``target``.  A rule referred to from
        another rule (``rule:x``) but never defined denies, as in oslo.policy."""
        check = self._compiled.get(name)
        if check is None:
            LOG.warning("policy rule %r is not defined; denying", name)
            return False
        return check(creds, target, self)

    def authorize(self, name: str, creds: Mapping[str, Any], target: Mapping[str, Any] | None = None) -> None:
        """Raise :class:`Forbidden` unless rule ``name`` allows ``creds`` on ``target``;
        :class:`PolicyNotRegistered` when no service registered ``name``."""
        if name not in self._compiled:
            raise PolicyNotRegistered(f"policy rule {name!r} is not registered")
        if not self.check_rule(name, creds, target or {}):
            raise Forbidden(f"You are not authorized to perform the requested action: {name}.")


def load_policy_file(path: str | Path) -> dict[str, str]:
    text = Path(path).read_text()
    if str(path).endswith(".json"):
        data = json.loads(text)
    else:
        from pocketstack.common import yamltext  # only for a YAML policy file, not at every start

        data = yamltext.load(text)
    if not isinstance(data, dict) or not all(isinstance(v, str) for v in data.values()):
        raise PolicyError(f"{path}: a policy file maps rule names to rule strings")
    for rule in data.values():
        parse(rule)
    return data

