"""``OS::Glance::WebImage`` as a Heat user meets it: an image imported by the image
service from a URL (a real HTTP server on loopback, allowed by the import filter),
updated in place and deleted with its stack; a location that fails or that the filter
refuses; Heat's validation; and the hidden ``OS::Glance::Image``."""

from __future__ import annotations

import http.server
import threading

import pytest
from orchestration_helpers import H, assert_gone, create_stack, heat_error, resources, stack_url, wait_stack

from pocketstack.image.import_filter import ImportFilter

from conftest import unique
from test_compute_helpers import new_member

IMAGES = "/image/v2/images"
PAYLOAD = b"pocketstack web image " * 100


@pytest.fixture(scope="module")
def member(api, admin_token):
    member = new_member(api, admin_token)
    return member["token"], member["project"]["id"]


@pytest.fixture(scope="module")
def web(api):
    """``/image.raw`` is PAYLOAD, anything else 404; the cloud's import filter allows
    the server's port for the module."""
    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            if self.path != "/image.raw":
                self.send_error(404)
                return
            self.send_response(200)
            self.send_header("Content-Length", str(len(PAYLOAD)))
            self.end_headers()
            self.wfile.write(PAYLOAD)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    importer = api.cloud.service("image").manager.importer
    default = importer.allowed
    importer.allowed = ImportFilter(allowed_ports=frozenset({server.server_address[1]}))
    yield f"http://127.0.0.1:{server.server_address[1]}"
    importer.allowed = default
    server.shutdown()


def _template(location, **props):
    return {"heat_template_version": "2018-08-31", "resources": {"image": {"type": "OS::Glance::WebImage",
            "properties": {"location": location, "disk_format": "raw", "container_format": "bare", **props}}},
            "outputs": {"image": {"value": {"get_resource": "image"}}}}


def _stack(api, token, project, template, expect):
    name = unique("img")
    made = create_stack(api, token, project, name, template)
    url = stack_url(project, name, made["stack"]["id"])
    stack = wait_stack(api, token, url)
    assert stack["stack_status"] == expect, stack["stack_status_reason"]
    return url, stack


def test_web_image_imported_updated_deleted(api, member, web):
    token, project = member
    url, _ = _stack(api, token, project, _template(web + "/image.raw", name=unique("web"), tags=["a"],
                                                   extra_properties={"os_type": "linux"}), "CREATE_COMPLETE")
    image_id = resources(api, token, url)["image"]["physical_resource_id"]
    image = api.request("GET", f"{IMAGES}/{image_id}", token).json()
    assert (image["status"], image["size"], image["tags"], image["os_type"]) == ("active", len(PAYLOAD), ["a"],
                                                                                   "linux")
    assert api.request("GET", f"{IMAGES}/{image_id}/file", token).content == PAYLOAD
    r = api.request("PATCH", url, token, json={"template": _template(
        web + "/image.raw", name=image["name"], tags=["b"], extra_properties={"os_admin_user": "root"})})
    assert r.status_code == 202, r.text
    assert wait_stack(api, token, url)["stack_status"] == "UPDATE_COMPLETE"
    assert resources(api, token, url)["image"]["physical_resource_id"] == image_id  # in place
    image = api.request("GET", f"{IMAGES}/{image_id}", token).json()
    assert image["tags"] == ["b"] and image["os_admin_user"] == "root" and "os_type" not in image
    assert api.request("DELETE", url, token).status_code == 204
    assert_gone(api, token, url)
    assert api.request("GET", f"{IMAGES}/{image_id}", token).status_code == 404


def test_web_image_failures(api, member, web):
    token, project = member
    _, stack = _stack(api, token, project, _template(web + "/missing.raw"), "CREATE_FAILED")
    assert stack["stack_status_reason"].startswith(
        'Resource CREATE failed: ResourceInError: resources.image: Went to status queued due to "'), \
        stack["stack_status_reason"]
    _, stack = _stack(api, token, project, _template("http://127.0.0.1:1/image.raw"), "CREATE_FAILED")
    assert stack["stack_status_reason"] == ("Resource CREATE failed: BadRequest: resources.image: URI for "
                                            "web-download does not pass filtering: http://127.0.0.1:1/image.raw")


def test_web_image_validation(api, member):
    token, project = member
    r = api.request("POST", f"{H}/{project}/stacks", token, json={"stack_name": unique("img"), "template": _template(
        "http://example.com/x", disk_format="raw", container_format="ami")})
    heat_error(r, 400, "StackValidationFailed", "Invalid mix of disk and container formats. When setting a disk or "
               "container format to one of 'aki', 'ari', or 'ami', the container and disk formats must match.")
    r = api.request("POST", f"{H}/{project}/stacks", token, json={"stack_name": unique("img"), "template": _template(
        "http://example.com/x", members=["p"])})
    heat_error(r, 400, "ResourcePropertyValueDependency",
               "members property should only be specified for visibility with value shared.")


def test_glance_image_is_hidden_as_in_heat(api, member):
    token, project = member
    listed = api.request("GET", f"{H}/{project}/resource_types", token).json()["resource_types"]
    assert "OS::Glance::WebImage" in listed and "OS::Glance::Image" not in listed
    heat_error(api.request("GET", f"{H}/{project}/resource_types/OS::Glance::Image", token), 400, "NotSupported",
               "OS::Glance::Image is not supported.")
    template = {"heat_template_version": "2018-08-31", "resources": {"old": {
        "type": "OS::Glance::Image", "properties": {"location": "http://example.com/x", "disk_format": "raw"}}}}
    url, _ = _stack(api, token, project, template, "CREATE_COMPLETE")
    assert api.request("DELETE", url, token).status_code == 204
    assert_gone(api, token, url)
