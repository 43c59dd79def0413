"""Read a seed file: YAML with line marks, checked against the shipped JSON Schema and
then for what a schema cannot say (CIDRs, addresses, files, duplicate names), so every
mistake in the file is reported, with its path, before anything is created."""

from __future__ import annotations

import functools
import ipaddress
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path as FsPath
from typing import Any

import jsonschema
import yaml

from pocketstack.common import yamltext
from pocketstack.seed.errors import Path, Problem, SeedFileError


@functools.cache
def schema() -> dict[str, Any]:
    """The seed format's JSON Schema (``seed/schema.json``, shipped in the package)."""
    return json.loads(resources.files("pocketstack.seed").joinpath("schema.json").read_text())


@dataclass
class SeedDocument:
    """A valid seed: the data, and where relative file names are read from."""

    data: dict[str, Any]
    base_dir: FsPath
    source: str
    lines: dict[Path, int] = field(default_factory=dict)

    def entries(self, kind: str) -> Iterator[tuple[Path, dict[str, Any]]]:
        for index, entry in enumerate(self.data.get(kind) or []):
            yield (kind, index), entry

    def line(self, path: Path) -> int | None:
        while path not in self.lines and path:
            path = path[:-1]
        return self.lines.get(path)

    def file(self, name: str) -> FsPath:
        return (self.base_dir / name).expanduser()


def load(path: FsPath) -> SeedDocument:
    """Parse and check the seed file at ``path``; :class:`SeedFileError` lists every problem."""
    try:
        text = path.read_text()
    except OSError as error:
        raise SeedFileError(str(path), [Problem((), f"cannot read the file: {error.strerror}")]) from None
    return parse(text, path.parent, str(path))


def parse(text: str, base_dir: FsPath, source: str = "<seed>") -> SeedDocument:
    try:
        node = yaml.compose(text, Loader=yamltext.Loader)
        data = yamltext.load(text)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        raise SeedFileError(source, [Problem((), f"not valid YAML: {getattr(error, 'problem', error)}",
                                             mark.line + 1 if mark else None)]) from None
    lines = _lines(node) if node is not None else {}
    doc = SeedDocument(data if data is not None else {}, base_dir, source, lines)
    problems = _schema_problems(doc.data) or list(_semantic_problems(doc))
    if problems:
        raise SeedFileError(source, [Problem(p.path, p.message, doc.line(p.path)) for p in problems])
    return doc


def _lines(node: yaml.Node, path: Path = ()) -> dict[Path, int]:
    """Line (1-based) of every key and item of the composed YAML tree, by path."""
    lines = {path: node.start_mark.line + 1}
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            lines |= _lines(value, (*path, key.value))
            lines[(*path, key.value)] = key.start_mark.line + 1
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            lines |= _lines(item, (*path, index))
    return lines


def _schema_problems(data: Any) -> list[Problem]:
    validator = jsonschema.Draft202012Validator(schema())
    errors = sorted(validator.iter_errors(data), key=lambda e: [str(p) for p in e.absolute_path])
    return [Problem(tuple(error.absolute_path), _message(error)) for error in errors]


def _message(error: jsonschema.ValidationError) -> str:
    """jsonschema's message, or the schema's own (``x-message``) where jsonschema's would
    only say that a combination of properties is wrong."""
    if error.validator in ("oneOf", "anyOf", "not") and isinstance(error.schema, dict):
        return error.schema.get("x-message") or error.message
    return error.message


def _semantic_problems(doc: SeedDocument) -> Iterator[Problem]:
    for kind in ("domains", "projects", "roles", "users", "groups", "flavors", "images", "networks",
                 "routers", "security_groups", "keypairs", "volume_types", "volumes", "containers"):
        yield from _duplicates(doc, kind)
    for path, network in doc.entries("networks"):
        for index, subnet in enumerate(network.get("subnets") or []):
            yield from _subnet_problems((*path, "subnets", index), subnet)
    for path, group in doc.entries("security_groups"):
        for index, rule in enumerate(group.get("rules") or []):
            if "remote_ip_prefix" in rule:
                yield from _network_problem((*path, "rules", index, "remote_ip_prefix"), rule["remote_ip_prefix"])
    for path, image in doc.entries("images"):
        yield from _file_problem(doc, (*path, "file"), image["file"])
    for path, keypair in doc.entries("keypairs"):
        if "public_key_file" in keypair:
            yield from _file_problem(doc, (*path, "public_key_file"), keypair["public_key_file"])
        elif keypair.get("type") == "x509" and "public_key" not in keypair:
            yield Problem((*path, "type"), "an x509 key pair needs its certificate (public_key or public_key_file): "
                                           "only SSH keys are generated")
    for path, container in doc.entries("containers"):
        for index, obj in enumerate(container.get("objects") or []):
            if "file" in obj:
                yield from _file_problem(doc, (*path, "objects", index, "file"), obj["file"])
    with_password = {user["name"] for _, user in doc.entries("users") if "password" in user}
    for path, user in doc.entries("users"):
        for index, cred in enumerate(user.get("application_credentials") or []):
            where = (*path, "application_credentials", index)
            if "password" not in user:
                yield Problem(where, "an application credential is created by its user: give the user a password")
            if "project" not in cred and "default_project" not in user:
                yield Problem(where, "name its project (or give the user a default_project)")
    for path, volume in doc.entries("volumes"):
        if volume.get("project", "admin") != "admin" and "user" not in volume:
            yield Problem((*path, "user"), "a volume in another project than admin is created by a user of "
                                           "that project: name one (with a password in this file)")
        elif "user" in volume and volume["user"] not in with_password:
            yield Problem((*path, "user"), f"{volume['user']!r} is not a user with a password in this file "
                                           "(the volume is created by that user)")


def _duplicates(doc: SeedDocument, kind: str) -> Iterator[Problem]:
    seen: dict[tuple[Any, ...], int] = {}
    for path, entry in doc.entries(kind):
        key = (entry.get("domain"), entry.get("project"), entry.get("user"), entry["name"])
        if key in seen:
            yield Problem((*path, "name"), f"{entry['name']!r} is already defined at {kind}[{seen[key]}]")
        seen.setdefault(key, path[1])


def _subnet_problems(path: Path, subnet: dict[str, Any]) -> Iterator[Problem]:
    try:
        cidr = ipaddress.ip_network(subnet["cidr"], strict=False)
    except ValueError:
        yield Problem((*path, "cidr"), f"{subnet['cidr']!r} is not a valid CIDR")
        return
    if subnet.get("ip_version", cidr.version) != cidr.version:
        yield Problem((*path, "ip_version"), f"{subnet['ip_version']} does not match the CIDR {subnet['cidr']!r}")
    addresses: list[tuple[Path, Any]] = [((*path, "gateway_ip"), subnet.get("gateway_ip"))]
    addresses += [((*path, "dns_nameservers", i), a) for i, a in enumerate(subnet.get("dns_nameservers") or [])]
    for i, pool in enumerate(subnet.get("allocation_pools") or []):
        addresses += [((*path, "allocation_pools", i, end), pool[end]) for end in ("start", "end")]
    for where, value in addresses:
        if value is None:
            continue
        try:
            address = ipaddress.ip_address(value)
        except ValueError:
            yield Problem(where, f"{value!r} is not a valid IP address")
            continue
        if where[-2] != "dns_nameservers" and address not in cidr:
            yield Problem(where, f"{value} is not in {subnet['cidr']}")


def _network_problem(path: Path, value: str) -> Iterator[Problem]:
    try:
        ipaddress.ip_network(value, strict=False)
    except ValueError:
        yield Problem(path, f"{value!r} is not a valid CIDR")


def _file_problem(doc: SeedDocument, path: Path, name: str) -> Iterator[Problem]:
    if not doc.file(name).is_file():
        yield Problem(path, f"no such file: {doc.file(name)}")
