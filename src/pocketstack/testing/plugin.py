"""The pytest plugin: a pocketstack cloud for your test suite.

Registered through the ``pytest11`` entry point, so it loads wherever pocketstack is
installed — and does nothing until a test asks for one of its fixtures: no cloud
starts, no option changes another project's run.

Fixtures:

``pocketstack_cloud``       (session) the running :class:`~.harness.Cloud`: ``url``,
                            ``auth_url``, ``admin``/``demo`` credentials, ``reset()``
``pocketstack_clouds_yaml`` (session) path of its clouds.yaml (clouds ``pocketstack``
                            and ``pocketstack-demo``), for the ``openstack`` CLI
``openstack_connection``    an openstacksdk ``Connection`` as the admin (one per
                            microversion ceiling, kept for the session)
``pocketstack_project``     a new project and member user for this test, removed after
                            (``.connection()``, ``.project_id``, ``.auth()``)
``pocketstack_reset``       reset the cloud after this test

Options (or the same names in the ini file, with ``_`` for ``-``):

``--pocketstack-mode thread|subprocess``  in this process (default) or ``pocketstack up``
``--pocketstack-reset each|never``        reset after every test that used the cloud
``--pocketstack-hypervisor fake|qemu``    the session cloud's hypervisor

Marker ``@pytest.mark.pocketstack(reset=True, hypervisor="qemu",
microversions={"compute": "2.60"})``: reset after this test; skip unless the session
cloud runs real guests; cap the microversions ``openstack_connection`` uses.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from typing import Any

import pytest

CHOICES = {"mode": ("thread", "subprocess"), "reset": ("each", "never"), "hypervisor": ("fake", "qemu")}
DEFAULTS = {"mode": "thread", "reset": "never", "hypervisor": "fake"}
FIXTURES = ("pocketstack_cloud", "pocketstack_clouds_yaml", "openstack_connection", "pocketstack_project",
            "pocketstack_reset")


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("pocketstack", "a pocketstack cloud for the tests (pocketstack.testing)")
    for name, text in (
            ("mode", "run the session's cloud in a thread of this process or as a `pocketstack up` subprocess"),
            ("reset", "reset the cloud after every test that used it"),
            ("hypervisor", "the session cloud's hypervisor (qemu: real guests)")):
        default = DEFAULTS[name]
        group.addoption(f"--pocketstack-{name}", choices=CHOICES[name], default=None,
                        help=f"{text} (default {default})")
        parser.addini(f"pocketstack_{name}", f"{text} (default {default})", default=default)


def pytest_configure(config: pytest.Config) -> None:
    for name, choices in CHOICES.items():
        if _option(config, name) not in choices:
            raise pytest.UsageError(f"ini option pocketstack_{name} = {_option(config, name)!r}: "
                                    f"use one of {', '.join(choices)}")
    config.addinivalue_line("markers", "pocketstack(reset=False, hypervisor=None, microversions=None): what a test "
                                       "needs of the pocketstack cloud (pocketstack.testing.plugin)")


def _option(config: pytest.Config, name: str) -> str:
    return str(config.getoption(f"pocketstack_{name}") or config.getini(f"pocketstack_{name}"))


def _marker(item: pytest.Item) -> dict[str, Any]:
    marker = item.get_closest_marker("pocketstack")
    return dict(marker.kwargs) if marker is not None else {}


def qemu_missing() -> str | None:
    """Why this machine cannot run real guests, if it cannot."""
    if shutil.which("qemu-system-x86_64") is None and shutil.which("qemu-system-aarch64") is None:
        return "QEMU is not installed (qemu-system-*)"
    if shutil.which("qemu-img") is None:
        return "qemu-img is not installed"
    return None


def pytest_runtest_setup(item: pytest.Item) -> None:
    wanted = _marker(item).get("hypervisor")
    if wanted in (None, "fake"):
        return
    if wanted != "qemu":
        raise pytest.UsageError(f"@pytest.mark.pocketstack(hypervisor={wanted!r}): use 'fake' or 'qemu'")
    if _option(item.config, "hypervisor") != "qemu":
        pytest.skip("needs real guests: run pytest with --pocketstack-hypervisor=qemu")
    missing = qemu_missing()
    if missing:
        pytest.skip(f"needs real guests: {missing}")


@pytest.hookimpl(trylast=True)
def pytest_runtest_teardown(item: pytest.Item, nextitem: pytest.Item | None) -> None:
    """Reset after a test that used the cloud, when asked (option or marker)."""
    used = any(name in getattr(item, "fixturenames", ()) for name in FIXTURES)
    if not used:
        return
    if _marker(item).get("reset") or _option(item.config, "reset") == "each":
        cloud = item.config.stash.get(_CLOUD, None)
        if cloud is not None:
            cloud.reset()


_CLOUD = pytest.StashKey[Any]()


@pytest.fixture(scope="session")
def pocketstack_cloud(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """The session's cloud, started on first use on a free port with its own data directory."""
    from pocketstack.testing.harness import Cloud

    config = request.config
    hypervisor = _option(config, "hypervisor")
    if hypervisor == "qemu" and qemu_missing():
        pytest.skip(f"--pocketstack-hypervisor=qemu: {qemu_missing()}")
    cloud = Cloud(mode=_option(config, "mode"), data_dir=tmp_path_factory.mktemp("pocketstack"),
                  hypervisor=hypervisor)
    cloud.start()
    config.stash[_CLOUD] = cloud
    try:
        yield cloud
    finally:
        del config.stash[_CLOUD]
        cloud.stop()


@pytest.fixture(scope="session")
def pocketstack_clouds_yaml(pocketstack_cloud: Any) -> Any:
    return pocketstack_cloud.clouds_yaml


@pytest.fixture(scope="session")
def _pocketstack_connections(pocketstack_cloud: Any) -> Iterator[dict[Any, Any]]:
    connections: dict[Any, Any] = {}
    yield connections
    for connection in connections.values():
        connection.close()


@pytest.fixture
def openstack_connection(request: pytest.FixtureRequest, pocketstack_cloud: Any,
                         _pocketstack_connections: dict[Any, Any]) -> Any:
    """An openstacksdk ``Connection`` as the cloud's admin (capped at the microversions
    the test's ``pocketstack`` marker names)."""
    microversions = _marker(request.node).get("microversions") or {}
    key = tuple(sorted(microversions.items()))
    if key not in _pocketstack_connections:
        _pocketstack_connections[key] = pocketstack_cloud.connection(microversions)
    return _pocketstack_connections[key]


@pytest.fixture
def pocketstack_project(pocketstack_cloud: Any) -> Iterator[Any]:
    """A project of this test's own and a user with the member role in it."""
    credentials = pocketstack_cloud.new_project_user()
    yield credentials
    pocketstack_cloud.delete_project_user(credentials)


@pytest.fixture
def pocketstack_reset(pocketstack_cloud: Any) -> Iterator[Any]:
    """The cloud, reset to its bootstrapped state once the test is over."""
    yield pocketstack_cloud
    pocketstack_cloud.reset()
