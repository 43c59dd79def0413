"""The shared router's empty-id 404s (``ServiceSpec.empty_id_not_found``): Nova, Glance
and Cinder answer ``<collection>/`` with a 404 in their own error format for the methods
of ``<collection>/{id}``, while version roots, Keystone and Neutron keep serving (or
redirecting) a trailing slash."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="module")
def demo_project(api, demo_token):
    return api.request("GET", "/identity/v3/auth/tokens", demo_token,
                       headers={"X-Subject-Token": demo_token}).json()["token"]["project"]["id"]


@pytest.mark.parametrize("method,path", [
    ("DELETE", "/compute/v2.1/images/"),
    ("GET", "/compute/v2.1/images/"),
    ("DELETE", "/compute/v2.1/os-security-groups/"),
    ("GET", "/compute/v2.1/os-simple-tenant-usage/"),
    ("PUT", "/compute/v2.1/servers/"),
])
def test_compute_empty_id_is_a_nova_404(api, demo_token, method, path):
    r = api.request(method, path, demo_token, follow_redirects=False)
    assert r.status_code == 404, r.text
    assert r.json()["itemNotFound"]["code"] == 404 and r.headers["x-openstack-request-id"]
    assert "openstack-api-version" in {k.lower() for k in r.headers}  # the service's finish hook ran


@pytest.mark.parametrize("method", ["GET", "DELETE", "PUT"])
def test_volume_empty_id_is_a_cinder_404(api, demo_token, demo_project, method):
    r = api.request(method, f"/volume/v3/{demo_project}/volumes/", demo_token, follow_redirects=False)
    assert r.status_code == 404, r.text
    assert r.json()["itemNotFound"]["code"] == 404


def test_image_empty_id_is_a_glance_404(api, demo_token):
    r = api.request("DELETE", "/image/v2/images/", demo_token, follow_redirects=False,
                    headers={"Accept": "application/json"})
    assert r.status_code == 404 and r.json()["code"] == "404 Not Found"


def test_empty_id_needs_a_token_first(api):
    r = api.request("DELETE", "/compute/v2.1/images/", follow_redirects=False)
    assert r.status_code == 401


def test_other_methods_are_still_405(api, demo_token):
    r = api.request("POST", "/compute/v2.1/os-simple-tenant-usage/", demo_token, follow_redirects=False)
    assert r.status_code == 405


@pytest.mark.parametrize("path", [
    "/compute/", "/compute/v2", "/compute/v2/", "/compute/v2.1", "/compute/v2.1/", "/image/",
    "/volume/", "/volume/v3", "/volume/v3/", "/identity/", "/identity/v3", "/identity/v3/",
    "/network/", "/network/v2.0", "/network/v2.0/", "/placement/",
])
def test_version_documents_with_and_without_a_slash(api, path):
    r = api.request("GET", path)
    assert r.status_code in (200, 300), (path, r.status_code, r.text)
    body = r.json()
    assert "version" in body or "versions" in body or "resources" in body, body


@pytest.mark.parametrize("path", ["/identity/v3/users/", "/network/v2.0/networks/"])
def test_keystone_and_neutron_keep_serving_the_collection_with_a_slash(api, admin_token, path):
    r = api.request("GET", path, admin_token)
    assert r.status_code == 200, r.text
