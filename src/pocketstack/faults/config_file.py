"""The ``faults_file`` setting: fault rules put in place when a process starts.

TOML (``[[rules]]`` tables), YAML or JSON (a ``rules`` list, or the list alone), chosen
by the file's extension; each rule is what ``POST /_pocketstack/faults`` takes.  A rule
without an ``id`` gets ``file-<n>`` (its position, from 1), so every process of a
scaled-out cloud that reads the same file puts the same rules in place.  An invalid rule
stops the start with the file, the rule's position and what is wrong.
"""

from __future__ import annotations

import json
import tomllib
from pathlib import Path
from typing import Any

import yaml

from pocketstack.common import yamltext
from pocketstack.common.errors import ApiError
from pocketstack.faults.rules import Rule, parse


def read_rules(path: Path) -> list[Rule]:
    try:
        data = _load(path)
    except (OSError, ValueError, yaml.YAMLError) as error:
        raise ValueError(f"faults_file {path}: cannot be read: {error}") from None
    entries = data.get("rules") if isinstance(data, dict) else data
    if not isinstance(entries, list):
        raise ValueError(f"faults_file {path}: expected a list of rules (a 'rules' list)")
    rules = []
    for position, entry in enumerate(entries, start=1):
        try:
            rules.append(parse(entry, f"file-{position}"))
        except ApiError as error:
            raise ValueError(f"faults_file {path}: rule {position}: {error.message}") from None
    ids = [rule.id for rule in rules]
    duplicated = sorted({i for i in ids if ids.count(i) > 1})
    if duplicated:
        raise ValueError(f"faults_file {path}: rule ids used twice: {', '.join(duplicated)}")
    return rules


def _load(path: Path) -> Any:
    text = path.read_text()
    if path.suffix == ".toml":
        return tomllib.loads(text)
    if path.suffix == ".json":
        return json.loads(text)
    return yamltext.load(text)
