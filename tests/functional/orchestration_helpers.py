"""Shared by the orchestration tests: stacks created and waited for through the API."""

from __future__ import annotations

import time

H = "/orchestration/v1"


def create_stack(api, token, project_id, name, template, expect=201, **body):
    r = api.request("POST", f"{H}/{project_id}/stacks", token,
                    json={"stack_name": name, "template": template, **body})
    assert r.status_code == expect, r.text
    return r.json()


def stack_url(project_id, name, stack_id):
    return f"{H}/{project_id}/stacks/{name}/{stack_id}"


def wait_stack(api, token, url, timeout=60.0):
    """The stack once its operation is over (its ``stack`` body)."""
    deadline = time.monotonic() + timeout
    while True:
        r = api.request("GET", url, token)
        if r.status_code == 404:
            return None
        stack = r.json()["stack"]
        if not stack["stack_status"].endswith("IN_PROGRESS") or time.monotonic() > deadline:
            return stack
        time.sleep(0.05)


def resources(api, token, url):
    r = api.request("GET", url + "/resources", token)
    assert r.status_code == 200, r.text
    return {res["resource_name"]: res for res in r.json()["resources"]}


def events(api, token, url):
    r = api.request("GET", url + "/events", token)
    assert r.status_code == 200, r.text
    return r.json()["events"]


def assert_gone(api, token, url, timeout=60.0):
    """The stack's delete finished (its status and reason shown when not)."""
    stack = wait_stack(api, token, url, timeout)
    assert stack is None, (stack["stack_status"], stack["stack_status_reason"])


def heat_error(response, status, kind, message=None):
    """Heat's fault body, with this status, error type and (if given) message."""
    body = response.json()
    assert response.status_code == status, response.text
    assert set(body) == {"explanation", "code", "error", "title"} and body["code"] == status
    assert body["error"]["type"] == kind and body["error"]["traceback"] is None
    if message is not None:
        assert body["error"]["message"] == message, body["error"]["message"]
    return body
