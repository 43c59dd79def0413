"""``Cloud.api_client``: acting for a user through the public APIs, in-process.

Orchestration and the dashboard build on it, so it must meet exactly what a remote
client meets: the user's token decides, policies apply, errors keep each service's body.
"""

from __future__ import annotations


def _call(api, token, method, path, **kwargs):
    async def go():
        async with api.cloud.api_client(token) as client:
            response = await client.request(method, path, **kwargs)
            return response.status_code, response.json() if response.content else None

    return api.client.portal.call(go)


def test_reads_with_the_users_token(api, admin_token):
    status, body = _call(api, admin_token, "GET", "/compute/v2.1/flavors")
    assert status == 200
    names = {flavor["name"] for flavor in body["flavors"]}
    direct = api.request("GET", "/compute/v2.1/flavors", admin_token).json()["flavors"]
    assert names == {flavor["name"] for flavor in direct}


def test_policies_apply_as_for_a_remote_client(api, demo_token):
    status, body = _call(api, demo_token, "POST", "/compute/v2.1/flavors",
                         json={"flavor": {"name": "nope", "ram": 64, "vcpus": 1, "disk": 1}})
    assert status == 403
    assert body["forbidden"]["code"] == 403


def test_no_token_is_refused_with_the_services_own_error(api):
    status, body = _call(api, None, "GET", "/network/v2.0/networks")
    assert status == 401
    status, body = _call(api, "not-a-token", "GET", "/identity/v3/projects")
    assert status == 401 and body["error"]["code"] == 401


def test_a_process_serving_some_apis_only_calls_the_public_url(settings):
    """An API process of some services (``pocketstack api --services identity``) cannot
    answer the others in-process: its client goes to the public URL, like a worker's."""
    import httpx

    from pocketstack.cloud import Cloud

    partial = Cloud(settings, ["identity"], migrate=False)
    try:
        client = partial.api_client("t")
        assert not isinstance(client._transport, httpx.ASGITransport)
        assert str(client.base_url).rstrip("/") == settings.effective_public_url
    finally:
        partial.close()
