"""An OAuth 1.0a consumer for tests (oauthlib's client): the three signed legs of
OS-OAUTH1 and the signed ``oauth1`` token request, over the suite's in-process client."""

from __future__ import annotations

import urllib.parse

BASE = "http://127.0.0.1:8780/identity/v3"
V3 = "/identity/v3"


def client(consumer: dict, **kwargs):
    from oauthlib import oauth1
    return oauth1.Client(consumer["id"], client_secret=consumer["secret"], signature_method=oauth1.SIGNATURE_HMAC,
                         **kwargs)


def signed_headers(oauth_client, path: str, base: str = BASE) -> dict[str, str]:
    _url, headers, _body = oauth_client.sign(base + path, http_method="POST")
    return dict(headers)


def form(response) -> dict[str, str]:
    return dict(urllib.parse.parse_qsl(response.text))


def request_token(api, consumer: dict, project_id: str, **kwargs):
    headers = signed_headers(client(consumer, callback_uri="oob", **kwargs), "/OS-OAUTH1/request_token")
    return api.request("POST", f"{V3}/OS-OAUTH1/request_token", headers={**headers, "Requested-Project-Id": project_id})


def authorize(api, token: str, request_token_id: str, roles: list[dict]):
    return api.request("PUT", f"{V3}/OS-OAUTH1/authorize/{request_token_id}", token, json={"roles": roles})


def access_token(api, consumer: dict, request: dict, verifier: str):
    headers = signed_headers(client(consumer, resource_owner_key=request["oauth_token"],
                                    resource_owner_secret=request["oauth_token_secret"], verifier=verifier),
                             "/OS-OAUTH1/access_token")
    return api.request("POST", f"{V3}/OS-OAUTH1/access_token", headers=headers)


def oauth_token(api, consumer: dict, access: dict, **auth):
    headers = signed_headers(client(consumer, resource_owner_key=access["oauth_token"],
                                    resource_owner_secret=access["oauth_token_secret"]), "/auth/tokens")
    body = {"auth": {"identity": {"methods": ["oauth1"], "oauth1": {}}, **auth}}
    return api.request("POST", f"{V3}/auth/tokens", headers=headers, json=body)


def delegate(api, admin_token: str, user_token: str, project_id: str, roles: list[dict]) -> tuple[dict, dict]:
    """A fresh consumer (made by ``admin_token``) and an access token to ``roles`` on
    ``project_id`` authorized by the holder of ``user_token``."""
    consumer = api.request("POST", f"{V3}/OS-OAUTH1/consumers", admin_token,
                           json={"consumer": {"description": "test"}}).json()["consumer"]
    r = request_token(api, consumer, project_id)
    assert r.status_code == 201, r.text
    request = form(r)
    r = authorize(api, user_token, request["oauth_token"], roles)
    assert r.status_code == 200, r.text
    r = access_token(api, consumer, request, r.json()["token"]["oauth_verifier"])
    assert r.status_code == 201, r.text
    return consumer, form(r)
