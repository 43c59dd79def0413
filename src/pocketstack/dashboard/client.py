"""The user's view of the cloud: its public APIs called with the user's token.

Every page reads and writes through :class:`Api`, which wraps the client of
:meth:`pocketstack.cloud.Cloud.api_client` (in-process over ASGI in the API process):
the same routes, policies and validation a remote client meets.  A 4xx/5xx answer
becomes :class:`ApiError` carrying the service's own message, whatever its error format
(Keystone's, Nova's and Cinder's faults, Neutron's, Placement's, Swift's and Glance's text).
"""

from __future__ import annotations

import html
import re
from typing import Any

import httpx

# The compute microversion the pages are written for (2.9: servers say whether they are
# locked; key pairs may still be generated, which 2.92 ended).
COMPUTE_MICROVERSION = "2.9"
# Where each service's API lives below the public URL (the catalog's paths; object
# storage's admin reports are beside its v1 API, as /info is).
PREFIX = {"identity": "/identity/v3", "compute": "/compute/v2.1", "network": "/network/v2.0",
          "image": "/image/v2", "volume": "/volume/v3/{project}", "object": "/object-store/v1/AUTH_{project}",
          "placement": "/placement", "instance-ha": "/instance-ha/v1", "object-cluster": "/object-store"}


class ApiError(Exception):
    """A service refused: its status and its message in words."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status
        self.message = message


def error_message(response: httpx.Response) -> str:
    """The service's explanation of a failed request, whatever its error body's shape."""
    try:
        body = response.json()
    except ValueError:
        text = re.sub(r"<[^>]+>", " ", response.text)
        lines = [line.strip() for line in html.unescape(text).splitlines() if line.strip()]
        # "400 Bad Request" then the explanation (Glance, Swift): the explanation says more.
        return lines[-1] if lines else f"{response.status_code} {response.reason_phrase}"
    if isinstance(body, dict):
        if isinstance(body.get("errors"), list) and body["errors"]:  # Placement
            return str(body["errors"][0].get("detail") or body["errors"][0].get("title"))
        for value in body.values():  # {"error": {...}}, {"badRequest": {...}}, {"NeutronError": {...}}
            if isinstance(value, dict) and value.get("message"):
                return str(value["message"])
        if body.get("message"):
            return str(body["message"])
    return f"{response.status_code} {response.reason_phrase}"


class Api:
    """Calls of one request, as one user scoped to one project."""

    def __init__(self, http: httpx.AsyncClient, project_id: str = ""):
        self.http = http
        self.project_id = project_id

    def url(self, service: str, path: str) -> str:
        return PREFIX[service].format(project=self.project_id) + path

    async def call(self, method: str, service: str, path: str, **kwargs: Any) -> httpx.Response:
        """One request; a refusal raises :class:`ApiError`."""
        if service == "compute":
            version = {"OpenStack-API-Version": f"compute {COMPUTE_MICROVERSION}"}
            kwargs["headers"] = {**version, **kwargs.get("headers", {})}
        response = await self.http.request(method, self.url(service, path), **kwargs)
        if response.status_code >= 400:
            raise ApiError(response.status_code, error_message(response))
        return response

    async def get(self, service: str, path: str, headers: dict[str, str] | None = None, **params: Any) -> Any:
        return (await self.call("GET", service, path, params=params or None, headers=headers or {})).json()

    async def post(self, service: str, path: str, body: Any = None, **kwargs: Any) -> Any:
        response = await self.call("POST", service, path, json=body, **kwargs)
        return _json(response)

    async def put(self, service: str, path: str, body: Any = None, **kwargs: Any) -> Any:
        return _json(await self.call("PUT", service, path, json=body, **kwargs))

    async def delete(self, service: str, path: str, **kwargs: Any) -> None:
        await self.call("DELETE", service, path, **kwargs)


def _json(response: httpx.Response) -> Any:
    if not response.content or "json" not in response.headers.get("content-type", ""):
        return None
    return response.json()
