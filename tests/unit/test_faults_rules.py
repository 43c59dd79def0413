"""Fault rules: what a rule matches, and the ``faults_file`` formats and their errors."""

from __future__ import annotations

import json

import pytest

from pocketstack.faults.config_file import read_rules
from pocketstack.faults.rules import parse


def test_a_rule_matches_service_method_and_path():
    rule = parse({"action": "drop", "service": "compute", "method": "post", "path": "/v2.1/servers*"}, "r")
    assert rule.method == "POST"
    assert rule.matches_request("compute", "POST", "/v2.1/servers/abc/action")
    assert not rule.matches_request("compute", "GET", "/v2.1/servers")
    assert not rule.matches_request("volume", "POST", "/v2.1/servers")
    assert not rule.matches_request("compute", "POST", "/v2.1/flavors")
    regex = parse({"action": "drop", "path_regex": r"/servers/[^/]+$"}, "r")
    assert regex.matches_request("compute", "GET", "/v2.1/servers/abc")
    assert not regex.matches_request("compute", "GET", "/v2.1/servers/abc/action")


def test_an_async_failure_rule_matches_its_operation_only():
    rule = parse({"action": "async_failure", "service": "volume", "operation": "create"}, "r")
    assert rule.matches_operation("volume", "create")
    assert not rule.matches_operation("compute", "build")
    assert not rule.matches_request("volume", "POST", "/v3/p/volumes")


RULES = [{"action": "error", "service": "network", "status": 503, "retry_after": 2},
         {"id": "slow", "action": "latency", "latency_ms": 50}]


@pytest.mark.parametrize("name,text", [
    ("faults.json", json.dumps({"rules": RULES})),
    ("faults.yaml", "- {action: error, service: network, status: 503, retry_after: 2}\n"
                    "- {id: slow, action: latency, latency_ms: 50}\n"),
    ("faults.toml", '[[rules]]\naction = "error"\nservice = "network"\nstatus = 503\nretry_after = 2\n'
                    '[[rules]]\nid = "slow"\naction = "latency"\nlatency_ms = 50\n'),
])
def test_faults_file_formats(tmp_path, name, text):
    (tmp_path / name).write_text(text)
    rules = read_rules(tmp_path / name)
    assert [(r.id, r.action, r.status, r.latency_ms) for r in rules] == [("file-1", "error", 503, None),
                                                                        ("slow", "latency", None, 50)]


@pytest.mark.parametrize("text,words", [
    ('{"rules": [{"action": "drop"}, {"action": "error"}]}', "rule 2: Invalid fault rule: action 'error' needs"),
    ('{"rules": {"action": "drop"}}', "expected a list of rules"),
    ('{"rules": [{"id": "a", "action": "drop"}, {"id": "a", "action": "drop"}]}', "rule ids used twice: a"),
    ('{"rules": [', "cannot be read"),
])
def test_faults_file_errors_name_the_file_and_rule(tmp_path, text, words):
    path = tmp_path / "faults.json"
    path.write_text(text)
    with pytest.raises(ValueError, match=str(path)) as raised:
        read_rules(path)
    assert words in str(raised.value)
