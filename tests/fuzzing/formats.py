"""What an error answer of each service must look like (the service's own format, as
the real one renders it; see ``pocketstack.common.api.errors``)."""

from __future__ import annotations

import json


def _json(response) -> dict:
    assert response.headers.get("content-type", "").startswith("application/json"), response.headers
    body = json.loads(response.content)
    assert isinstance(body, dict), body
    return body


def keystone(response) -> None:
    """``{"error": {"code", "title", "message"}}``, or Keystone's auth receipt: a 401 with
    ``Openstack-Auth-Receipt`` for a login that met only part of its user's MFA rules."""
    if response.status_code == 401 and response.headers.get("openstack-auth-receipt"):
        body = _json(response)
        assert set(body) == {"receipt", "required_auth_methods"} and body["receipt"]["methods"], body
        return
    error = _json(response)["error"]
    assert error["code"] == response.status_code and isinstance(error["message"], str) and error["title"]


def fault(response) -> None:
    """Nova, Cinder and Masakari: ``{"badRequest": {"message": ..., "code": 400}}``."""
    body = _json(response)
    assert len(body) == 1, body
    (fault_body,) = body.values()
    assert fault_body["code"] == response.status_code and isinstance(fault_body["message"], str)


def neutron(response) -> None:
    error = _json(response)["NeutronError"]
    assert set(error) == {"type", "message", "detail"} and isinstance(error["message"], str)


def placement(response) -> None:
    (error,) = _json(response)["errors"]
    assert error["status"] == response.status_code and isinstance(error["detail"], str) and error["title"]


def glance(response) -> None:
    """Asked for JSON (``Accept: application/json``); a 401 comes from the token check
    in Keystone's format."""
    if response.status_code == 401:
        return keystone(response)
    body = _json(response)
    assert body["code"].startswith(f"{response.status_code} ") and isinstance(body["message"], str)


def swift(response) -> None:
    """Swift answers errors in plain text (or HTML), never JSON."""
    assert response.headers.get("content-type", "").startswith("text/"), response.headers


def heat(response) -> None:
    """``{"explanation", "code", "error": {"message", "traceback", "type"}, "title"}``."""
    body = _json(response)
    assert set(body) == {"explanation", "code", "error", "title"}, body
    assert body["code"] == response.status_code and isinstance(body["error"]["message"], str)
    assert set(body["error"]) == {"message", "traceback", "type"} and body["error"]["type"]


ERROR_FORMATS = {"identity": keystone, "compute": fault, "volume": fault, "network": neutron,
                 "placement": placement, "image": glance, "object": swift, "ha": fault, "pocketstack": keystone,
                 "orchestration": heat}


def check_error_format(service: str, response) -> None:
    """Assert that an error ``response`` of ``service`` is in that service's format
    (a service without a known format must at least answer a JSON object)."""
    ERROR_FORMATS.get(service, _json)(response)
