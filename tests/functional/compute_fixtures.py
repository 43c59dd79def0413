"""The fixtures most compute (and HA) test modules start from, made once per module:
an image to boot, a small flavor, a member of a fresh project.  A module imports the
ones it uses by name; one that needs another size or a fresh member per test defines
its own.  (No tests here.)"""

from __future__ import annotations

import pytest

from test_compute_helpers import make_flavor, make_image, new_member


@pytest.fixture(scope="module")
def image(api, admin_token) -> str:
    """A public image to boot from."""
    return make_image(api, admin_token)


@pytest.fixture(scope="module")
def flavor(api, admin_token) -> dict:
    """A small flavor: 1 vCPU, 64 MiB, 1 GiB."""
    return make_flavor(api, admin_token, vcpus=1, ram=64, disk=1)


def _fresh_member(api, admin_token) -> dict:
    return new_member(api, admin_token)


# One fixture under both names the modules use.
user = pytest.fixture(scope="module", name="user")(_fresh_member)
member = pytest.fixture(scope="module", name="member")(_fresh_member)
