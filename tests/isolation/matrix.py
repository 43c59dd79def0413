"""The machinery of the isolation matrix: personas, expected outcomes, operations, and
the world of projects, users and resources the cells run against.

A *cell* is one persona making one operation on one resource.  An :class:`Op` says how
to make the call (method, path and body templates) and what every persona must get
(an :class:`Expect` per persona, usually one of the profiles below).  Templates are
``str.format`` strings whose fields name things of the :class:`World`:

- a resource (``{server}`` is its id, ``{server.name}`` another field its factory
  returned); resources are made on first use, once per world, in project A;
- a persona (``{a_member}`` is that user's id, ``{a_member.name}``, ``{a_member.project}``),
  ``{me}`` the persona making the call, ``{project_a}``/``{project_b}``/``{project_admin}``,
  ``{token_a_member}`` a persona's token;
- ``{new}``: a fresh unique name (``{new_custom}``: one for a custom trait or class).

An operation that destroys or irreversibly changes its resource names it in
``consumes``: personas expected to succeed then get a fresh instance each, the others
the operation's *victim* instance (so that an unexpected success cannot break the cells
of other operations).
"""

from __future__ import annotations

import re
import string
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import pytest

from conftest import unique

# The five personas every operation states an expectation for.
CORE = ("admin", "a_member", "a_reader", "b_member", "b_reader")

# persona -> (project, role) of the users the world creates; ``admin`` is the session's
# cloud administrator (project ``admin``).
MEMBERSHIPS = {
    "a_member": ("a", "member"), "a_reader": ("a", "reader"),
    "b_member": ("b", "member"), "b_reader": ("b", "reader"),
    "b_acl_read": ("b", "member"), "b_acl_write": ("b", "member"),
}
# persona -> the resource (a restricted application credential of ``a_member``) whose
# token the persona holds; ``a_appcred_self`` only ever tries to delete its own.
APP_CREDENTIALS = {"a_appcred": "app_credential", "a_appcred_self": "doomed_app_credential"}
PASSWORD = "pw-isolation-1"


@dataclass(frozen=True)
class Expect:
    """What one persona must get: a status (``None``: any 2xx) and, for listings, whether
    the watched value appears in the body; headers that must be absent or present."""

    status: int | None = None
    listed: bool | None = None
    hidden_headers: tuple[str, ...] = ()
    shown_headers: tuple[str, ...] = ()

    @property
    def succeeds(self) -> bool:
        return self.status is None or self.status < 400

    def __str__(self) -> str:
        text = "2xx" if self.status is None else str(self.status)
        if self.listed is not None:
            text += " listing it" if self.listed else " not listing it"
        if self.hidden_headers:
            text += " without " + ", ".join(self.hidden_headers)
        if self.shown_headers:
            text += " with " + ", ".join(self.shown_headers)
        return text

    def problem(self, response, watched: str | None) -> str | None:
        """``None`` when ``response`` is as expected, else what was wrong with it."""
        got = response.status_code
        if (self.status is None and not 200 <= got < 300) or (self.status is not None and got != self.status):
            return f"{got}: {response.text[:300]}"
        if self.listed is not None and (watched in response.text) != self.listed:
            return f"{got} {'listing' if watched in response.text else 'not listing'} {watched}"
        shown = [h for h in self.hidden_headers if h in response.headers]
        if shown:
            return f"{got} with {', '.join(f'{h}: {response.headers[h]}' for h in shown)}"
        missing = [h for h in self.shown_headers if h not in response.headers]
        if missing:
            return f"{got} without {', '.join(missing)}"
        return None


OK = Expect()
LISTED = Expect(listed=True)
UNLISTED = Expect(listed=False)
FORBIDDEN = Expect(403)
NOT_FOUND = Expect(404)
CONFLICT = Expect(409)
BAD_REQUEST = Expect(400)


def expect(admin: Expect, a_member: Expect, a_reader: Expect, b_member: Expect, b_reader: Expect,
           **extra: Expect) -> dict[str, Expect]:
    """Expectations for the five core personas (in ``CORE`` order), plus any extra ones."""
    return dict(admin=admin, a_member=a_member, a_reader=a_reader, b_member=b_member, b_reader=b_reader, **extra)


# Profiles: how Nova, Neutron, Cinder and Glance treat a project-A resource.  Another
# project neither sees it in listings nor learns that it exists (404); A's reader reads
# but may not write (403); the cloud admin does anything.
OWN_READ = expect(OK, OK, OK, NOT_FOUND, NOT_FOUND)
OWN_WRITE = expect(OK, OK, FORBIDDEN, NOT_FOUND, NOT_FOUND)
OWN_LIST = expect(LISTED, LISTED, LISTED, UNLISTED, UNLISTED)
# Creating in one's own project: members and admin may, readers may not.
CREATE = expect(OK, OK, FORBIDDEN, OK, FORBIDDEN)
ADMIN_ONLY = expect(OK, FORBIDDEN, FORBIDDEN, FORBIDDEN, FORBIDDEN)
EVERYONE = expect(OK, OK, OK, OK, OK)


def hole(item: int, what: str):
    """A known hole (issue 11) being fixed elsewhere: the cell states the correct
    expectation and fails until the fix lands; then the strict xfail reports XPASS and
    this marker must go."""
    return pytest.mark.xfail(strict=True, reason=f"issue 11 item {item}: {what}")


def finding(what: str):
    """A hole this matrix found (listed in its report), kept visible until fixed."""
    return pytest.mark.xfail(strict=True, reason=f"new finding: {what}")


@dataclass
class Op:
    """One operation on one resource type, with every persona's expected outcome."""

    resource: str
    name: str
    method: str
    path: str
    expect: Mapping[str, Expect]
    body: Any = None
    content: bytes | None = None
    headers: Mapping[str, str] = field(default_factory=dict)
    watch: str | None = None
    consumes: str | None = None
    marks: Mapping[str, Any] = field(default_factory=dict)
    # Also run on PostgreSQL and MariaDB (the full matrix runs on SQLite; every "list" and
    # "show" runs there too, see ``on_every_backend``).
    everywhere: bool = False
    # False for an operation only some personas can make at all (e.g. an application
    # credential deleting itself): then ``expect`` need not name every core persona.
    every_persona: bool = True

    @property
    def id(self) -> str:
        return f"{self.resource}:{self.name}"

    @property
    def on_every_backend(self) -> bool:
        """Whether PostgreSQL and MariaDB run it too: the plain reads of every resource
        (the queries that keep projects apart) and the operations marked ``everywhere``."""
        return self.everywhere or self.name in ("list", "show")


@dataclass
class Resource:
    """A resource type and how to make one instance of it in project A (``make`` returns
    its fields, ``id`` first among them)."""

    name: str
    make: Callable[["World"], dict]


class Ref:
    """A made thing in a template: its id when formatted, its other fields as attributes."""

    def __init__(self, fields: Mapping[str, Any]):
        self._fields = dict(fields)

    def __str__(self) -> str:
        return str(self._fields["id"])

    def __format__(self, spec: str) -> str:
        return format(str(self), spec)

    def __getattr__(self, name: str) -> Any:
        try:
            return self._fields[name]
        except KeyError:
            raise AttributeError(name) from None


def cells(ops: list[Op]) -> list:
    """One ``pytest.param(op, persona)`` per cell, with the cell's marks."""
    seen: set[str] = set()
    params = []
    for op in ops:
        assert op.id not in seen, f"two operations named {op.id}"
        seen.add(op.id)
        missing = [p for p in CORE if p not in op.expect]
        assert not missing or not op.every_persona, f"{op.id}: no expectation for {missing}"
        for persona in op.expect:
            marks = [op.marks[persona]] if persona in op.marks else []
            params.append(pytest.param(op, persona, id=f"{op.id}:{persona}", marks=marks))
    unknown = [(op.id, p) for op in ops for p in op.marks if p not in op.expect]
    assert not unknown, f"marks for personas without expectations: {unknown}"
    unwatched = [op.id for op in ops if op.watch is None and any(e.listed is not None for e in op.expect.values())]
    assert not unwatched, f"listing expectations without a watched value: {unwatched}"
    return params


class World:
    """Projects A and B, the personas' users and tokens, and the resources of project A,
    all made on first use and kept for every cell of one backend."""

    def __init__(self, api, admin_token: str, resources: list[Resource],
                 project_setups: list[Callable[["World", str], None]] = ()):
        self.api = api
        self.admin_token = admin_token
        self.project_setups = list(project_setups)
        self.resources = {r.name: r for r in resources}
        assert len(self.resources) == len(resources), "two resources with one name"
        clashes = [name for name in self.resources if name.startswith(("project_", "token_"))
                   or name in MEMBERSHIPS or name in APP_CREDENTIALS or name in ("admin", "me", "new", "new_custom")]
        assert not clashes, f"resource names that templates read otherwise: {clashes}"
        self._refs: dict[str, Ref] = {}
        self._victims: dict[str, Ref] = {}
        self._tokens: dict[str, str] = {"admin": admin_token}
        self._cleanups: dict[str, Callable[[], None]] = {}

    def on_close(self, cleanup: Callable[[], None], key: str | None = None) -> None:
        """Run ``cleanup`` when the world is done (undo what other test modules would
        see); of the cleanups registered under one ``key``, only the first."""
        self._cleanups.setdefault(key or f"#{len(self._cleanups)}", cleanup)

    def close(self) -> None:
        for cleanup in reversed(list(self._cleanups.values())):
            cleanup()

    # -- calls ---------------------------------------------------------------------------
    def call(self, method: str, path: str, persona: str = "admin", status: int | tuple = (200, 201, 202, 204),
             **kwargs):
        """A setup call as ``persona`` that must answer ``status``; returns the response."""
        response = self.api.request(method, path, self.token(persona), **kwargs)
        wanted = status if isinstance(status, tuple) else (status,)
        assert response.status_code in wanted, f"setup {method} {path} as {persona}: {response.text[:500]}"
        return response

    # -- identities ----------------------------------------------------------------------
    def project(self, letter: str) -> Ref:
        key = f"project_{letter}"
        if key not in self._refs:
            if letter == "admin":
                body = self.api.request("GET", "/identity/v3/auth/tokens", self.admin_token,
                                        headers={"X-Subject-Token": self.admin_token}).json()["token"]
                self._refs[key] = Ref(body["project"])
            else:
                project = self.call("POST", "/identity/v3/projects", json={"project": {
                    "name": unique(f"iso-{letter}")}}).json()["project"]
                for setup in self.project_setups:
                    setup(self, project["id"])
                self._refs[key] = Ref(project)
        return self._refs[key]

    def role_id(self, name: str) -> str:
        return self.call("GET", f"/identity/v3/roles?name={name}").json()["roles"][0]["id"]

    def persona(self, persona: str) -> Ref:
        """The persona's user (``id``, ``name``, ``project``: its project's id)."""
        key = f"persona_{persona}"
        if key in self._refs:
            return self._refs[key]
        if persona == "admin":
            body = self.api.request("GET", "/identity/v3/auth/tokens", self.admin_token,
                                    headers={"X-Subject-Token": self.admin_token}).json()["token"]
            ref = Ref({**body["user"], "project": body["project"]["id"]})
        elif persona in APP_CREDENTIALS:
            ref = self.persona("a_member")
        else:
            letter, role = MEMBERSHIPS[persona]
            project = self.project(letter)
            user = self.call("POST", "/identity/v3/users", json={"user": {
                "name": unique(persona.replace("_", "-")), "password": PASSWORD}}).json()["user"]
            self.call("PUT", f"/identity/v3/projects/{project}/users/{user['id']}/roles/{self.role_id(role)}")
            ref = Ref({**user, "project": str(project)})
        self._refs[key] = ref
        return ref

    def token(self, persona: str) -> str:
        if persona not in self._tokens:
            if persona in APP_CREDENTIALS:
                self._tokens[persona] = self._app_cred_token(APP_CREDENTIALS[persona])
            else:
                user = self.persona(persona)
                self._tokens[persona] = self.api.token(user.name, PASSWORD, project=self.project(
                    MEMBERSHIPS[persona][0]).name)
        return self._tokens[persona]

    def _app_cred_token(self, resource: str) -> str:
        """A token of the application credential ``resource`` (a ``secret`` among its fields)."""
        cred = self.shared(resource)
        auth = {"auth": {"identity": {"methods": ["application_credential"], "application_credential": {
            "id": cred.id, "secret": cred.secret}}}}
        response = self.api.request("POST", "/identity/v3/auth/tokens", json=auth)
        assert response.status_code == 201, response.text
        return response.headers["X-Subject-Token"]

    # -- resources -----------------------------------------------------------------------
    def shared(self, name: str) -> Ref:
        """The one instance of resource ``name`` every non-destructive cell uses."""
        if name not in self._refs:
            self._refs[name] = self.fresh(name)
        return self._refs[name]

    def victim(self, name: str, op: Op) -> Ref:
        """The instance the cells of destructive operation ``op`` use when they are
        expected to be refused (one per operation, so that a hole one operation has
        cannot fail another's cells)."""
        key = f"{op.id}/{name}"
        if key not in self._victims:
            self._victims[key] = self.fresh(name)
        return self._victims[key]

    def fresh(self, name: str) -> Ref:
        return Ref(self.resources[name].make(self))

    def lookup(self, key: str) -> Ref | str:
        if key == "new":
            return unique("iso")
        if key == "new_custom":
            return unique("CUSTOM_ISO").upper().replace("-", "_")
        if key.startswith("project_"):
            return self.project(key.removeprefix("project_"))
        if key.startswith("token_"):
            return self.token(key.removeprefix("token_"))
        if key in MEMBERSHIPS or key in APP_CREDENTIALS or key == "admin":
            return self.persona(key)
        if key in self.resources:
            return self.shared(key)
        raise KeyError(key)

    # -- cells ---------------------------------------------------------------------------
    def check(self, op: Op, persona: str) -> None:
        expected = op.expect[persona]
        values = _Values(self, op, persona, expected.succeeds)
        # Everything the cell names is made before the call (a listing must find it).
        watched = op.watch.format_map(values) if op.watch else None
        headers = {k: v.format_map(values) for k, v in op.headers.items()}
        kwargs: dict[str, Any] = {"headers": headers}
        if op.body is not None:
            kwargs["json"] = _render(op.body, values)
        if op.content is not None:
            kwargs["content"] = op.content
        path = op.path.format_map(values)
        response = self.api.request(op.method, path, self.token(persona), **kwargs)
        problem = expected.problem(response, watched)
        if problem is not None:
            pytest.fail(f"{persona} × {op.resource} × {op.name} ({op.method} {path}): "
                        f"expected {expected}, got {problem}", pytrace=False)


class _Values:
    """The template fields of one cell (see the module docstring)."""

    def __init__(self, world: World, op: Op, persona: str, succeeds: bool):
        self.world, self.op, self.persona, self.succeeds = world, op, persona, succeeds
        self._consumed: Ref | None = None

    def __getitem__(self, key: str):
        if key == "me":
            return self.world.persona(self.persona)
        if key == self.op.consumes:
            if self._consumed is None:
                self._consumed = self.world.fresh(key) if self.succeeds else self.world.victim(key, self.op)
            return self._consumed
        return self.world.lookup(key)


def _render(template: Any, values: _Values) -> Any:
    """A JSON body template with its fields filled in; a string that is one field of a
    number (``"{resource_provider.generation}"``) becomes that number."""
    if isinstance(template, str):
        whole = re.fullmatch(r"\{([^{}]+)\}", template)
        if whole:
            value, _ = string.Formatter().get_field(whole.group(1), (), values)
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                return value
        return template.format_map(values)
    if isinstance(template, dict):
        return {_render(k, values): _render(v, values) for k, v in template.items()}
    if isinstance(template, list):
        return [_render(v, values) for v in template]
    return template
