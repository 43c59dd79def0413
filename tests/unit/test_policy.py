"""The policy rule language and the enforcer."""

from __future__ import annotations

import pytest

from pocketstack.common.errors import Forbidden
from pocketstack.common.policy import Enforcer, PolicyError, parse

MEMBER = {"user_id": "u1", "project_id": "p1", "roles": ["member", "reader"], "system_scope": None}
ADMIN = {"user_id": "a", "project_id": "p0", "roles": ["admin", "member", "reader"]}


def check(rule, creds, target):
    return Enforcer({"x": rule}).check_rule("x", creds, target)


@pytest.mark.parametrize("rule,target,expected", [
    ("", {}, True),
    ("@", {}, True),
    ("!", {}, False),
    ("role:member", {}, True),
    ("role:MEMBER", {}, True),
    ("role:admin", {}, False),
    ("project_id:%(project_id)s", {"project_id": "p1"}, True),
    ("project_id:%(project_id)s", {"project_id": "p2"}, False),
    ("project_id:%(project_id)s", {}, False),
    ("user_id:%(target.user.id)s", {"target.user.id": "u1"}, True),
    ("user_id:%(target.user.id)s", {"target": {"user": {"id": "u1"}}}, True),
    ("role:admin or (role:reader and project_id:%(project_id)s)", {"project_id": "p1"}, True),
    ("role:admin or (role:reader and project_id:%(project_id)s)", {"project_id": "p9"}, False),
    ("not role:admin", {}, True),
    ("(role:member)", {}, True),
    ("((role:member and not role:admin))", {}, True),
    ("'p1':%(project_id)s", {"project_id": "p1"}, True),
    ("system_scope:all", {}, False),
])
def test_rules(rule, target, expected):
    assert check(rule, MEMBER, target) is expected


def test_rule_references_and_unknown_rules_deny():
    enforcer = Enforcer({"a": "rule:b", "b": "role:member", "c": "rule:missing"})
    assert enforcer.check_rule("a", MEMBER, {})
    assert not enforcer.check_rule("c", MEMBER, {})
    assert not enforcer.check_rule("never-defined", ADMIN, {})


@pytest.mark.parametrize("bad", ["role:admin and", "(role:admin", "role:admin)", "and role:x", "justaword",
                                 "role:a role:b"])
def test_malformed_rules_raise(bad):
    with pytest.raises(PolicyError):
        parse(bad)


def test_authorize_raises_forbidden():
    enforcer = Enforcer({"x": "role:admin"})
    enforcer.authorize("x", ADMIN)
    with pytest.raises(Forbidden):
        enforcer.authorize("x", MEMBER)


def test_policy_file_overrides_defaults(tmp_path):
    policy = tmp_path / "policy.yaml"
    policy.write_text('"x": "role:reader"\n')
    enforcer = Enforcer({"x": "role:admin"}, policy_file=policy)
    assert enforcer.check_rule("x", MEMBER, {})
    enforcer.register_defaults({"x": "role:admin", "y": "role:admin"})
    assert enforcer.check_rule("x", MEMBER, {}), "a registered default must not override the file"
    assert not enforcer.check_rule("y", MEMBER, {})


def test_policy_file_must_map_names_to_strings(tmp_path):
    policy = tmp_path / "policy.json"
    policy.write_text('{"x": 5}')
    with pytest.raises(PolicyError):
        Enforcer({}, policy_file=policy)
