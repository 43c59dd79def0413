"""Swift's staticweb middleware: index pages, listings, error pages and redirects for
anonymous readers of public containers -- and nothing for private ones."""

from __future__ import annotations

import pytest
from test_object_access import project_id

from conftest import unique


@pytest.fixture
def site(api, demo_token):
    path = f"/object-store/v1/AUTH_{project_id(api, demo_token)}/{unique('site')}"
    assert api.request("PUT", path, demo_token, headers={"X-Container-Read": ".r:*,.rlistings"}).status_code == 201
    for name, data in (("index.html", b"<h1>home</h1>"), ("docs/index.html", b"docs"), ("img/a.png", b"png"),
                       ("404error.html", b"missing page"), ("notes.txt", b"notes")):
        assert api.request("PUT", f"{path}/{name}", demo_token, content=data).status_code == 201
    return path


def get(api, path, token=None, **headers):
    return api.request("GET", path, token, headers=headers, follow_redirects=False)


def test_index_and_redirects(api, demo_token, site):
    api.request("POST", site, demo_token, headers={"X-Container-Meta-Web-Index": "index.html"})
    redirect = get(api, site)
    assert redirect.status_code == 301 and redirect.headers["Location"].endswith(site + "/")
    assert get(api, site + "/").content == b"<h1>home</h1>"
    assert get(api, f"{site}/docs").headers["Location"].endswith(f"{site}/docs/")
    assert get(api, f"{site}/docs/").content == b"docs"
    assert get(api, f"{site}/notes.txt").content == b"notes"
    # A token holder gets the plain API unless asking for the web mode.
    assert get(api, site, demo_token).status_code == 200 and "index.html" in get(api, site, demo_token).text
    assert get(api, site + "/", demo_token, **{"X-Web-Mode": "true"}).content == b"<h1>home</h1>"


def test_listings_and_error_pages(api, demo_token, site):
    api.request("POST", site, demo_token, headers={"X-Container-Meta-Web-Listings": "true",
                                                   "X-Container-Meta-Web-Listings-CSS": "listings.css"})
    page = get(api, f"{site}/")
    assert page.status_code == 200 and page.headers["Content-Type"] == "text/html; charset=UTF-8"
    assert '<link rel="stylesheet" type="text/css" href="listings.css" />' in page.text
    assert '<a href="./notes%2Etxt">notes.txt</a>' in page.text and '<a href="./img/">img/</a>' in page.text
    sub = get(api, f"{site}/img/")
    assert '<a href="./a%2Epng">a.png</a>' in sub.text and '<a href="../">../</a>' in sub.text
    assert 'href="../listings.css"' in sub.text
    assert get(api, f"{site}/img").status_code == 301
    assert get(api, f"{site}/nothing").status_code == 404
    api.request("POST", site, demo_token, headers={"X-Container-Meta-Web-Error": "error.html"})
    missing = get(api, f"{site}/nothing")
    assert (missing.status_code, missing.content) == (404, b"missing page")


def test_disabled_listing_and_directory_markers(api, demo_token, site):
    api.request("POST", site, demo_token, headers={"X-Container-Meta-Web-Index": "none.html"})
    page = get(api, f"{site}/")
    assert page.status_code == 404 and "Web Listing Disabled" in page.text and "none.html" in page.text
    api.request("PUT", f"{site}/marker", demo_token, content=b"", headers={"Content-Type": "application/directory"})
    assert get(api, f"{site}/marker").status_code == 404


def test_private_containers_stay_private(api, demo_token, admin_token):
    """Another project's container without a public ACL is no site, whatever its metadata."""
    path = f"/object-store/v1/AUTH_{project_id(api, admin_token)}/{unique('private')}"
    api.request("PUT", path, admin_token, headers={"X-Container-Meta-Web-Listings": "true",
                                                   "X-Container-Meta-Web-Index": "index.html"})
    api.request("PUT", f"{path}/index.html", admin_token, content=b"secret")
    assert get(api, path + "/").status_code == 401
    assert get(api, path).status_code == 401
    assert get(api, path + "/", demo_token, **{"X-Web-Mode": "true"}).status_code == 403
    assert get(api, f"{path}/index.html").status_code == 401
    # Public objects without listings: the index, but no listing of the rest.
    api.request("POST", path, admin_token, headers={"X-Container-Read": ".r:*"})
    assert get(api, path + "/").status_code == 401
    assert get(api, f"{path}/index.html").content == b"secret"
