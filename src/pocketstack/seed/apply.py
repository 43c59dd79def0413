"""Apply a checked seed file to a cloud, in dependency order, through its public APIs.

Before anything is created every name the file refers to is looked up (in the file, or
else in the cloud), so a dangling reference is reported with its path and nothing
changes.  Each entry then converges: created when missing, updated where the API
allows, reported otherwise; applying the same file again changes nothing.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator
from typing import Any

from pocketstack.seed import compute, identity, image, network, objects, quotas, volume
from pocketstack.seed.client import SeedClient
from pocketstack.seed.context import Context, NotFound, Report
from pocketstack.seed.document import SeedDocument
from pocketstack.seed.errors import Path, Problem, SeedFileError

Step = Callable[[Context, Path, dict[str, Any]], Awaitable[None]]

# What each kind of entry needs exists before it: identity, then what projects own.
STEPS: list[tuple[str, Step]] = [
    ("domains", identity.domain), ("projects", identity.project), ("roles", identity.role),
    ("users", identity.user), ("groups", identity.group), ("role_assignments", identity.role_assignment),
    ("users", identity.application_credentials), ("flavors", compute.flavor), ("images", image.image),
    ("networks", network.network), ("routers", network.router), ("security_groups", network.security_group),
    ("keypairs", compute.keypair), ("volume_types", volume.volume_type), ("volumes", volume.volume),
    ("containers", objects.container), ("quotas", quotas.quota),
]

# A reference's kind -> (where the file defines that kind, how the cloud finds one by name).
RESOLVERS: dict[str, tuple[Callable[[SeedDocument], set[str]], Callable[[Context, str], Awaitable[str]]]] = {
    "domain": (lambda d: _names(d, "domains"), identity.domain_id),
    "project": (lambda d: _names(d, "projects"), identity.project_id),
    "user": (lambda d: _names(d, "users"), identity.user_id),
    "group": (lambda d: _names(d, "groups"), identity.group_id),
    "role": (lambda d: _names(d, "roles"), identity.role_id),
    "network": (lambda d: _names(d, "networks"), network.network_id),
    "subnet": (lambda d: {s["name"] for _, n in d.entries("networks") for s in n.get("subnets") or []},
               network.subnet_id),
    "image": (lambda d: _names(d, "images"), image.image_id),
    "security_group": (lambda d: _names(d, "security_groups"), network.security_group_id),
    "volume_type": (lambda d: _names(d, "volume_types"), volume.volume_type_id),
}


def _names(doc: SeedDocument, kind: str) -> set[str]:
    return {entry["name"] for _, entry in doc.entries(kind)}


# Fields naming another resource, by kind of entry: field -> kind of what it names.
REFERENCES: dict[str, dict[str, str]] = {
    "projects": {"domain": "domain"},
    "users": {"domain": "domain", "default_project": "project"},
    "groups": {"domain": "domain"},
    "role_assignments": {"role": "role", "user": "user", "group": "group", "project": "project", "domain": "domain"},
    "images": {"project": "project"},
    "networks": {"project": "project"},
    "routers": {"project": "project", "external_gateway": "network"},
    "security_groups": {"project": "project"},
    "keypairs": {"user": "user"},
    "volumes": {"project": "project", "user": "user", "image": "image", "type": "volume_type"},
    "containers": {"project": "project"},
    "quotas": {"project": "project"},
}


def references(doc: SeedDocument) -> Iterator[tuple[Path, str, str]]:
    """Every (path, kind, name) the file refers to."""
    for kind, fields in REFERENCES.items():
        for path, entry in doc.entries(kind):
            for name, target in fields.items():
                if name in entry:
                    yield (*path, name), target, entry[name]
            for index, member in enumerate(entry.get("users") or [] if kind == "groups" else []):
                yield (*path, "users", index), "user", member
            for index, subnet in enumerate(entry.get("interfaces") or []):
                yield (*path, "interfaces", index), "subnet", subnet
            for index, rule in enumerate(entry.get("rules") or []):
                if "remote_group" in rule:
                    yield (*path, "rules", index, "remote_group"), "security_group", rule["remote_group"]
    for path, user in doc.entries("users"):
        for index, cred in enumerate(user.get("application_credentials") or []):
            if "project" in cred:
                yield (*path, "application_credentials", index, "project"), "project", cred["project"]


async def check_references(ctx: Context) -> None:
    """Look up what the file names but does not define; raise before anything is created."""
    problems = []
    for path, kind, name in references(ctx.doc):
        defined, lookup = RESOLVERS[kind]
        if name in defined(ctx.doc):
            continue
        try:
            await lookup(ctx, name)
        except NotFound:
            problems.append(Problem(path, f"no {kind.replace('_', ' ')} named {name!r} in this file or in the cloud",
                                    ctx.doc.line(path)))
    if problems:
        raise SeedFileError(ctx.doc.source, problems)


async def apply(doc: SeedDocument, admin: SeedClient) -> Report:
    """Seed the cloud ``admin`` reaches; :class:`~pocketstack.seed.errors.SeedError` says
    what stopped it, where in the file."""
    ctx = Context(doc, admin)
    with ctx.at(()):
        await check_references(ctx)
    for kind, step in STEPS:
        for path, entry in doc.entries(kind):
            with ctx.at(path):
                await step(ctx, path, entry)
    return ctx.report
