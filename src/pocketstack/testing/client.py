"""A client of a running cloud's state API (``/_pocketstack``), as its admin: what
``pocketstack reset``/``snapshot`` and the pytest plugin's subprocess cloud use."""

from __future__ import annotations

from typing import Any

import httpx


class StateApiError(RuntimeError):
    """The cloud refused or failed; the message is its answer."""


class StateClient:
    def __init__(self, url: str, password: str, username: str = "admin", project: str = "admin",
                 timeout: float = 120.0):
        self.url = url.rstrip("/")
        self.http = httpx.Client(base_url=self.url, timeout=timeout)
        self._credentials = (username, password, project)
        self._token: str | None = None

    def close(self) -> None:
        self.http.close()

    def __enter__(self) -> StateClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def token(self) -> str:
        if self._token is None:
            username, password, project = self._credentials
            response = self.http.post("/identity/v3/auth/tokens", json={"auth": {
                "identity": {"methods": ["password"], "password": {"user": {
                    "name": username, "domain": {"id": "default"}, "password": password}}},
                "scope": {"project": {"name": project, "domain": {"id": "default"}}}}})
            _check(response)
            self._token = response.headers["X-Subject-Token"]
        return self._token

    def _call(self, method: str, path: str, headers: dict[str, str] | None = None, **kwargs: Any) -> httpx.Response:
        response = self.http.request(method, "/_pocketstack" + path,
                                     headers={**(headers or {}), "X-Auth-Token": self.token()}, **kwargs)
        _check(response)
        return response

    def reset(self) -> dict[str, Any]:
        return dict(self._call("POST", "/reset").json()["reset"])

    def save(self, name: str) -> dict[str, Any]:
        return dict(self._call("POST", "/snapshots", json={"snapshot": {"name": name}}).json()["snapshot"])

    def restore(self, name: str) -> dict[str, Any]:
        return dict(self._call("POST", f"/snapshots/{name}/restore").json()["reset"])

    def delete(self, name: str) -> None:
        self._call("DELETE", f"/snapshots/{name}")

    def download(self, name: str) -> bytes:
        return self._call("GET", f"/snapshots/{name}/file").content

    def upload(self, name: str, data: bytes) -> dict[str, Any]:
        return dict(self._call("PUT", f"/snapshots/{name}/file", content=data,
                               headers={"Content-Type": "application/x-tar"}).json()["snapshot"])


def _check(response: httpx.Response) -> None:
    if response.status_code >= 400:
        try:
            message = response.json()["error"]["message"]
        except (ValueError, KeyError, TypeError):
            message = response.text[:300]
        raise StateApiError(f"{response.status_code}: {message}")


def running(url: str, timeout: float = 2.0) -> bool:
    """Whether a pocketstack API answers at ``url``."""
    try:
        response = httpx.get(url.rstrip("/") + "/", timeout=timeout)
    except httpx.HTTPError:
        return False
    try:
        return response.json().get("name") == "pocketstack"
    except ValueError:
        return False
