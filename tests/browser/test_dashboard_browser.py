"""The dashboard in a real browser against a real ``pocketstack up``: an admin logs in,
uploads an image, builds a network with a router, launches a server and watches it
become ACTIVE without reloading, attaches a volume, sees it all in the topology picture,
stores and fetches an object (then finds its copies in the dispersion report, beside the
rings), creates a project and a user; that user, a member, sees
none of the admin's resources nor the admin pages.  A crawler then opens every page the
menus lead to (no 500) and submits every form with bad input (a message in words).

One cloud and one browser for the module; the tests run in order on shared state.
Screenshots of the main pages go to ``$POCKETSTACK_SCREENSHOTS`` (``make screenshots``
writes docs/screenshots/), else to a temporary directory."""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import pytest

from cloudproc import ADMIN_PASSWORD, running_cloud

pytestmark = pytest.mark.timeout(180)
MEMBER, MEMBER_PASSWORD, MEMBER_PROJECT = "mallory", "member-secret-1", "lab"
OBJECT = b"hello from the browser test\n"
# The machine's Chromium (the distribution's package that .ci/run installs; `playwright
# install` is never run).  Without it the tests skip, saying why, except in CI (CI=true),
# where they fail.
CHROMIUM = os.environ.get("POCKETSTACK_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"


def _missing() -> str | None:
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "the playwright package is not installed (pip install -e '.[test]')"
    if not os.access(CHROMIUM, os.X_OK):
        return f"no Chromium at {CHROMIUM} (apt-get install chromium)"
    return None


@pytest.fixture(scope="module")
def browser():
    """One Chromium for the module.  Playwright's sync API keeps an event loop running in
    this thread while it lives, so it must end with the module: tests that follow in the
    same worker run their own loops."""
    reason = _missing()
    if reason:
        if os.environ.get("CI") == "true":
            pytest.fail(f"browser tests must run in CI: {reason}")
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        # --no-sandbox: CI runs as root, where Chromium's sandbox refuses to start; the
        # pages are the test cloud's own.
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield chromium
        chromium.close()


@pytest.fixture(scope="module")
def cloud(tmp_path_factory):
    with running_cloud(tmp_path_factory.mktemp("dashboard")) as cloud:
        yield cloud


@pytest.fixture(scope="module")
def shots(tmp_path_factory) -> Path:
    folder = Path(os.environ.get("POCKETSTACK_SCREENSHOTS") or tmp_path_factory.mktemp("screenshots"))
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _login(browser, cloud, user: str, password: str):
    context = browser.new_context(base_url=cloud.url, viewport={"width": 1280, "height": 800})
    context.set_default_timeout(15000)
    page = context.new_page()
    page.on("dialog", lambda dialog: dialog.accept())  # "Delete this …?" confirmations
    page.goto("/dashboard/login")
    page.fill("#f-user", user)
    page.fill("#f-password", password)
    _submit(page, "Log in")
    assert page.url.endswith("/dashboard/overview"), _flash(page)
    return page


@pytest.fixture(scope="module")
def admin(browser, cloud):
    page = _login(browser, cloud, "admin", ADMIN_PASSWORD)
    yield page
    page.context.close()


def _submit(page, button: str) -> None:
    """Press the button labelled ``button`` and wait for the page it leads to."""
    with page.expect_navigation():
        page.get_by_role("button", name=button, exact=True).click()


def _flash(page) -> str:
    return page.text_content(".flash") or ""


def _reload_until(page, selector: str, timeout: float = 30.0) -> None:
    """Reload until ``selector`` shows (pages without live updates)."""
    import time

    deadline = time.monotonic() + timeout
    while not page.query_selector(selector):
        assert time.monotonic() < deadline, f"{selector} did not show on {page.url}"
        time.sleep(0.5)
        page.reload()


def test_login_page_and_a_wrong_password(browser, cloud, shots):
    context = browser.new_context(base_url=cloud.url)
    page = context.new_page()
    page.goto("/dashboard/")
    assert page.url.endswith("/dashboard/login")
    page.screenshot(path=str(shots / "login.png"))
    page.fill("#f-user", "admin")
    page.fill("#f-password", "not the password")
    _submit(page, "Log in")
    assert "not right" in _flash(page)
    context.close()


def test_overview_charts_quotas(admin):
    admin.goto("/dashboard/overview")
    assert admin.locator(".bar svg").count() >= 9
    assert admin.get_attribute('.bar svg[aria-label^="Instances"]', "aria-label") == "Instances: 0 of 10"


def test_admin_prepares_a_flavor_and_uploads_an_image(admin, shots):
    admin.goto("/dashboard/admin/flavors")
    admin.fill("#f-name", "small")
    _submit(admin, "Create")
    assert "Flavor small created." in _flash(admin)
    admin.goto("/dashboard/images")
    admin.fill("#f-name", "tiny")
    admin.select_option("#f-disk_format", "raw")
    admin.set_input_files("#f-file", {"name": "tiny.img", "mimeType": "application/octet-stream",
                                      "buffer": b"\0" * 65536})
    _submit(admin, "Upload")
    assert "Image tiny uploaded." in _flash(admin)
    assert "active" in admin.text_content('tr[data-image="tiny"]')
    admin.screenshot(path=str(shots / "images.png"), full_page=True)


def test_network_with_a_router(admin):
    admin.goto("/dashboard/networks")
    admin.fill("#f-name", "blue")
    admin.fill("#f-cidr", "10.10.0.0/24")
    _submit(admin, "Create")
    assert "10.10.0.0/24" in admin.text_content('tr[data-network="blue"]')
    admin.goto("/dashboard/routers")
    admin.fill("#f-name", "r1")
    _submit(admin, "Create")
    admin.click('tr[data-router="r1"] a')
    admin.select_option("#f-subnet_id", label="blue: 10.10.0.0/24")
    _submit(admin, "Add interface")
    assert "Interface added." in _flash(admin) and "10.10.0.1" in admin.text_content("main")


def test_launch_and_watch_the_server_become_active(admin, shots):
    admin.goto("/dashboard/instances/launch")
    admin.fill("#f-name", "web")
    admin.select_option("#f-image", label="tiny")
    admin.select_option("#f-flavor", index=1)
    admin.select_option("#f-networks", label="blue")
    admin.screenshot(path=str(shots / "launch.png"), full_page=True)
    _submit(admin, "Launch")
    assert "Launching 1 instance named web." in _flash(admin)
    url = admin.url
    # No reload: the page script polls the rows while the server builds.
    admin.wait_for_selector('tr[data-server="web"] .s-active', timeout=60000)
    assert admin.url == url
    assert "10.10.0." in admin.text_content('tr[data-server="web"]')
    admin.screenshot(path=str(shots / "instances.png"), full_page=True)


def test_attach_a_volume(admin, shots):
    admin.goto("/dashboard/volumes")
    admin.fill("#f-name", "data")
    _submit(admin, "Create")
    _reload_until(admin, 'tr[data-volume="data"] .s-available')
    admin.goto("/dashboard/instances")
    admin.click('tr[data-server="web"] a')
    admin.select_option("#f-volume_id", label="data")
    _submit(admin, "Attach")
    _reload_until(admin, 'tr[data-volume="data"]')
    admin.screenshot(path=str(shots / "instance.png"), full_page=True)
    admin.goto("/dashboard/volumes")
    _reload_until(admin, 'tr[data-volume="data"] .s-in-use')


def test_server_actions_follow_its_state(admin):
    admin.goto("/dashboard/instances")
    admin.click('tr[data-server="web"] a')
    _submit(admin, "Stop")
    assert "Stop: requested." in _flash(admin)
    _reload_until(admin, ".facts .s-shutoff")
    assert admin.get_by_role("button", name="Stop", exact=True).count() == 0
    _submit(admin, "Start")
    _reload_until(admin, ".facts .s-active")
    _submit(admin, "Lock")
    assert admin.get_by_role("button", name="Lock", exact=True).count() == 0
    _submit(admin, "Unlock")
    assert admin.get_by_role("button", name="Unlock", exact=True).count() == 0
    admin.select_option("#f-network_id", label="blue")
    _submit(admin, "Attach interface")
    assert "Interface attached." in _flash(admin)
    assert admin.locator('tr[data-interface="blue"]').count() == 2
    admin.fill("#f-image_name", "web-snap")
    _submit(admin, "Create snapshot")
    assert "Snapshot: requested." in _flash(admin)
    admin.click("text=Console log")
    assert admin.locator("pre.console").count() == 1
    admin.goto("/dashboard/images")
    _reload_until(admin, 'tr[data-image="web-snap"] .s-active')


def test_topology_shows_the_network_router_and_server(admin, shots):
    admin.goto("/dashboard/topology")
    assert admin.locator('.topology g.net[data-network="blue"]').count() == 1
    assert admin.locator('.topology g.router[data-router="r1"]').count() == 1
    assert admin.locator('.topology g.server[data-server="web"]').count() == 1
    assert admin.locator(".topology line").count() >= 2
    admin.screenshot(path=str(shots / "topology.png"), full_page=True)


def test_overview_shows_what_the_project_uses(admin, shots):
    admin.goto("/dashboard/overview")
    assert admin.get_attribute('.bar svg[aria-label^="Instances"]', "aria-label") == "Instances: 1 of 10"
    assert admin.get_attribute('.bar svg[aria-label^="Volumes"]', "aria-label") == "Volumes: 1 of 10"
    admin.screenshot(path=str(shots / "overview.png"), full_page=True)


def test_upload_and_download_an_object(admin, shots):
    admin.goto("/dashboard/containers")
    admin.fill("#f-name", "files")
    _submit(admin, "Create")
    admin.click('tr[data-container="files"] a')
    admin.set_input_files("#f-file", {"name": "hello.txt", "mimeType": "text/plain", "buffer": OBJECT})
    admin.fill("#f-object_name", "docs/hello.txt")
    _submit(admin, "Upload")  # sent by the page script, with a progress bar
    assert "Uploaded docs/hello.txt." in _flash(admin)
    admin.click("main a:text-is(\"docs/\")")
    with admin.expect_download() as download:
        admin.click('tr[data-object="docs/hello.txt"] a')
    assert Path(download.value.path()).read_bytes() == OBJECT
    _submit(admin, "Make public")
    assert "now public" in _flash(admin)
    assert admin.url.endswith("/dashboard/containers/files?prefix=docs%2F")  # back where it was
    admin.screenshot(path=str(shots / "container.png"), full_page=True)


def test_the_rings_and_the_dispersion_of_the_object_just_stored(admin, shots):
    admin.goto("/dashboard/admin/rings")
    for kind in ("account", "container", "object"):
        assert admin.locator(f'section[data-ring="{kind}"] tr[data-device]').count() >= 1
    admin.screenshot(path=str(shots / "rings.png"), full_page=True)
    admin.click("main a:text-is(\"Check where the copies are\")")
    found = admin.text_content('section[data-dispersion="object"] dd[data-found]')
    copies, expected = found.split(" (")[0].split(" of ")
    assert int(expected) > 0 and copies == expected, found


def test_admin_creates_a_project_and_a_member(admin, shots):
    admin.goto("/dashboard/admin/projects")
    admin.fill("#f-name", MEMBER_PROJECT)
    _submit(admin, "Create")
    assert f"Project {MEMBER_PROJECT} created." in _flash(admin)
    admin.goto("/dashboard/admin/users")
    admin.fill("#f-name", MEMBER)
    admin.fill("#f-password", MEMBER_PASSWORD)
    admin.select_option("#f-project_id", label=MEMBER_PROJECT)
    admin.select_option("#f-role_id", label="member")
    _submit(admin, "Create")
    assert f"User {MEMBER} created." in _flash(admin)
    admin.screenshot(path=str(shots / "users.png"), full_page=True)


def test_the_member_sees_only_its_project(browser, cloud, admin):
    admin.goto("/dashboard/instances")
    server_link = admin.get_attribute('tr[data-server="web"] a', "href")
    page = _login(browser, cloud, MEMBER, MEMBER_PASSWORD)
    try:
        assert MEMBER_PROJECT in page.text_content("header")
        assert page.locator("nav >> text=Admin").count() == 0
        page.goto("/dashboard/instances")
        assert page.locator('tr[data-server="web"]').count() == 0
        assert page.goto(server_link).status == 404
        for path in ("/dashboard/networks", "/dashboard/containers"):
            page.goto(path)
            assert "blue" not in page.text_content("main") and "files" not in page.text_content("main")
        for path in ("/dashboard/admin/users", "/dashboard/admin/hypervisors"):
            assert page.goto(path).status == 403
            assert "for administrators" in _flash(page)
        page.set_viewport_size({"width": 390, "height": 800})  # a phone: nothing wider than the screen
        page.goto("/dashboard/overview")
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    finally:
        page.context.close()


def _menu_and_detail_links(page) -> list[str]:
    """Every page the menu leads to and the pages those link to (details, folders), and
    what an instance's page links to (its console, its actions' details)."""
    hrefs = "els => els.map(e => e.getAttribute('href'))"
    menu = page.eval_on_selector_all("nav a", hrefs)
    found = list(dict.fromkeys(menu))

    def follow(paths: list[str]) -> None:
        for path in paths:
            page.goto(path)
            for href in page.eval_on_selector_all("main a[href^='/dashboard/']", hrefs):
                if "/download" not in href and href not in found:
                    found.append(href)

    follow(menu)
    follow([link for link in found if re.fullmatch(r"/dashboard/instances/[0-9a-f-]{36}", link)])
    return found


@pytest.mark.parametrize("who", ["admin", "member"])
def test_no_link_reachable_from_the_menu_fails(browser, cloud, admin, who):
    page = admin if who == "admin" else _login(browser, cloud, MEMBER, MEMBER_PASSWORD)
    try:
        links = _menu_and_detail_links(page)
        assert len(links) >= (25 if who == "admin" else 14)
        operator_views = {"/dashboard/admin/instance-ha", "/dashboard/admin/rings", "/dashboard/admin/dispersion"}
        assert operator_views <= set(links) if who == "admin" else not operator_views & set(links)
        assert {"/dashboard/snapshots", "/dashboard/backups"} <= set(links)
        if who == "admin":  # an action's detail, and the instance-HA history filtered (a GET form)
            assert any(re.fullmatch(r"/dashboard/instances/[0-9a-f-]{36}/actions/req-[0-9a-f-]+", link)
                       for link in links)
            links.append("/dashboard/admin/instance-ha?type=COMPUTE_HOST&status=finished")
        failed = [(link, status) for link in links if (status := page.goto(link).status) >= 500]
        assert not failed
    finally:
        if page is not admin:
            page.context.close()


# Fill a form with bad input: empty text fields, and a value no select offers.
SPOIL = """form => {
  form.noValidate = true;
  for (const el of form.elements) {
    if (el.type === "hidden" || el.type === "checkbox" || el.type === "radio" || el.type === "submit") continue;
    if (el.tagName === "SELECT") {
      const bogus = document.createElement("option"); bogus.value = "no-such-thing"; el.appendChild(bogus);
      el.value = el.querySelector("option[value='']") ? "" : "no-such-thing";
    } else { el.value = ""; }
  }
}"""


def test_every_form_rejects_bad_input_in_words(admin):
    """Every form of every page with fields to fill, submitted with bad input, answers
    with a message (and never a 500); forms made of one button are actions, not input,
    and a list's filters (a GET form) are no input either."""
    checked = 0
    for link in _menu_and_detail_links(admin):
        admin.goto(link)
        count = admin.locator("main form[method=post]").count()
        for index in range(count):
            admin.goto(link)
            form = admin.locator("main form[method=post]").nth(index)
            if form.locator("input:not([type=hidden]), select, textarea").count() == 0:
                continue
            form.evaluate(SPOIL)
            with admin.expect_navigation() as navigation:
                form.locator("button[type=submit]").click()
            response = navigation.value
            assert response is None or response.status < 500, link
            assert admin.locator(".flash.error").count() == 1, f"form {index} of {link}: no message"
            assert "did not come from this site" not in _flash(admin), f"form {index} of {link}: no CSRF secret"
            checked += 1
    assert checked >= 15
