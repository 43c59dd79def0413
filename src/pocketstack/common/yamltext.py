"""YAML read as JSON-like data: scalars that look like dates stay strings.

What the cloud reads as YAML (Heat templates and adopt data, seed documents, policy and
fault files) ends up in JSON bodies or is compared with strings; a ``datetime.date``
there would be a 500 or a silent mismatch (``heat_template_version: 2018-08-31`` is a
string to Heat).  The resolver table is this loader's own copy: ``yaml.SafeLoader``'s is
shared with every other reader in the process and stays untouched."""

from __future__ import annotations

from typing import Any

import yaml

TIMESTAMP = "tag:yaml.org,2002:timestamp"


class Loader(yaml.SafeLoader):
    """SafeLoader without the implicit timestamp type."""

    yaml_implicit_resolvers = {first: [r for r in resolvers if r[0] != TIMESTAMP]
                               for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()}


def load(text: str | bytes) -> Any:
    """``text`` as data, dates as their strings (raises ``yaml.YAMLError``)."""
    return yaml.load(text, Loader=Loader)  # noqa: S506 - a SafeLoader subclass
