"""The seeder's view of a cloud: its public APIs, through any httpx client.

The same code seeds the cloud a process serves (``Cloud.api_client``: requests stay
in-process) and a cloud running elsewhere (plain HTTP).  Service roots come from the
token's catalog, as a real client finds them; failures carry the service's own message.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, replace
from typing import Any

import httpx

from pocketstack.common.answers import Answer

# Nova 2.61: flavors show their description and extra specs; since 2.10 an admin creates a
# key pair for another user (``user_id``).
COMPUTE_VERSION = {"OpenStack-API-Version": "compute 2.61", "X-OpenStack-Nova-API-Version": "2.61"}


class ApiFailure(Exception):
    """The cloud refused (or could not do) what an entry asks: the service's message,
    and the request and status when a response said so."""

    def __init__(self, message: str, method: str = "", url: str = "", status: int = 0):
        self.status = status
        self.message = message
        where = f"{method} {httpx.URL(url).path} -> {status}: " if method else ""
        super().__init__(where + message)


def error_message(response: httpx.Response) -> str:
    """The service's message (:class:`Answer`); for a body without one, its text with
    white space folded or its JSON, at most 500 characters."""
    answer = Answer.of(response)
    if answer.message is not None:
        return answer.message
    if answer.is_json:
        return json.dumps(answer.body)[:500]
    return " ".join(answer.text.split())[:500] or answer.reason


@dataclass(frozen=True)
class Roots:
    """Where each service is: ``volume`` and ``object`` without the project part."""

    identity: str
    compute: str
    network: str
    image: str
    volume: str
    object: str

    @classmethod
    def from_catalog(cls, catalog: list[dict[str, Any]]) -> Roots:
        urls = {}
        for service in catalog:
            public = [e["url"] for e in service.get("endpoints", []) if e.get("interface") == "public"]
            if public:
                urls[service["type"]] = public[0].rstrip("/")

        def url(kind: str) -> str:
            if kind not in urls:
                raise ApiFailure(f"no {kind} service in the catalog")
            return urls[kind]

        return cls(identity=url("identity") + "/v3", compute=url("compute"), network=url("network") + "/v2.0",
                   image=url("image") + "/v2", volume=url("block-storage").rsplit("/", 1)[0],
                   object=url("object-store").rsplit("/", 1)[0])


@dataclass(frozen=True)
class SeedClient:
    """Requests to the cloud with one token (admin's, or a user's the seed names)."""

    http: httpx.AsyncClient
    roots: Roots
    token: str
    project_id: str

    async def call(self, method: str, url: str, *, body: Any = None,
                   content: bytes | AsyncIterator[bytes] | None = None, headers: dict[str, str] | None = None,
                   missing: bool = False) -> httpx.Response:
        """Send one request; a 404 is returned when ``missing`` is allowed, other
        failures raise :class:`ApiFailure`."""
        sent = {"X-Auth-Token": self.token, **(headers or {})}
        response = await self.http.request(method, url, json=body, content=content, headers=sent)
        if response.is_success or (missing and response.status_code == 404):
            return response
        raise ApiFailure(error_message(response), method, url, response.status_code)

    async def get(self, url: str, **params: Any) -> Any:
        response = await self.call("GET", str(httpx.URL(url, params=params)) if params else url)
        return response.json()

    def volume(self, project_id: str | None = None) -> str:
        return f"{self.roots.volume}/{project_id or self.project_id}"

    def account(self, project_id: str) -> str:
        return f"{self.roots.object}/AUTH_{project_id}"

    async def as_user(self, user_id: str, password: str, project_id: str) -> SeedClient:
        """The same cloud acting as a seeded user in one of its projects."""
        token = await login(self.http, self.roots.identity, {
            "identity": {"methods": ["password"], "password": {"user": {"id": user_id, "password": password}}},
            "scope": {"project": {"id": project_id}}})
        return replace(self, token=token, project_id=project_id)


async def login(http: httpx.AsyncClient, identity_v3: str, auth: dict[str, Any]) -> str:
    response = await http.post(f"{identity_v3}/auth/tokens?nocatalog", json={"auth": auth})
    if response.status_code != 201:
        raise ApiFailure(error_message(response), "POST", f"{identity_v3}/auth/tokens", response.status_code)
    return response.headers["X-Subject-Token"]


async def connect(http: httpx.AsyncClient, identity_v3: str, token: str) -> SeedClient:
    """A client acting with a project-scoped ``token``, the service roots read from its catalog."""
    response = await http.get(f"{identity_v3}/auth/tokens", headers={"X-Auth-Token": token,
                                                                     "X-Subject-Token": token})
    if response.status_code != 200:
        raise ApiFailure(error_message(response), "GET", f"{identity_v3}/auth/tokens", response.status_code)
    body = response.json()["token"]
    if "project" not in body:
        raise ApiFailure("the seeder needs a project-scoped admin token")
    return SeedClient(http, Roots.from_catalog(body.get("catalog") or []), token, body["project"]["id"])
