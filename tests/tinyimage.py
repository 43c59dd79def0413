"""The tiny guest image for tests that boot real guests, built once and kept.

``tiny_image_path()`` returns a qcow2 built by ``pocketstack image build-tiny``, cached
under ``$POCKETSTACK_TEST_CACHE`` (default ``~/.cache/pocketstack-tests``) and keyed by
the image builder's source files and the candidate versions of the packages it starts
from: an edit to the builder or an ``apt-get update`` that brings a new kernel makes a
new image, anything else reuses the last one (a build takes ~15 s; the packages are
cached as well).  ``require_image_tools()`` skips a test, or fails it on CI, when the
build or boot tools are missing.
"""

from __future__ import annotations

import hashlib
import os
import shutil
from importlib import resources
from pathlib import Path

from support import require_tools

# Tools and the Debian package that provides each (CI installs them: .ci/run).
TOOLS = {"qemu-system-x86_64": "qemu-system-x86", "qemu-img": "qemu-utils", "mformat": "mtools",
         "mcopy": "mtools", "apt-get": "apt", "dpkg-deb": "dpkg", "mke2fs": "e2fsprogs",
         "xorriso": "xorriso", "ssh": "openssh-client", "ssh-keygen": "openssh-client"}


def cache_root() -> Path:
    return Path(os.environ.get("POCKETSTACK_TEST_CACHE", Path.home() / ".cache/pocketstack-tests"))


def require_image_tools() -> None:
    tools = dict(TOOLS)
    if shutil.which("xorriso") is None and shutil.which("genisoimage"):
        del tools["xorriso"]  # either makes the config drive
    require_tools(tools, "building and booting the tiny image")


def image_key() -> str:
    """Builder sources + the candidate versions of the root packages."""
    from pocketstack.guestimage import build, debs

    digest = hashlib.sha256()
    package = resources.files("pocketstack.guestimage")
    for path in sorted(Path(str(package)).rglob("*")):
        if path.is_file() and path.suffix in (".py", ".sh", ".awk", ".script"):
            digest.update(path.name.encode() + b"\0" + path.read_bytes())
    for name in (debs.kernel_package(), *build.GUEST_PACKAGES, build.SSH_PACKAGE, build.BOOT_PACKAGE):
        digest.update(f"{name}={debs.candidate_version(name)}\n".encode())
    return digest.hexdigest()[:16]


def tiny_image_path() -> Path:
    """The cached tiny image (qcow2, 128 MiB), built now if the builder or packages changed."""
    from pocketstack.guestimage.build import build_tiny

    require_image_tools()
    images = cache_root() / "guestimage" / "images"
    image = images / f"tiny-{image_key()}.qcow2"
    if not image.exists():
        images.mkdir(parents=True, exist_ok=True)
        partial = image.with_suffix(f".{os.getpid()}.partial")
        print(build_tiny(partial, "qcow2", 128, cache_root() / "guestimage").summary())
        os.replace(partial, image)
    return image
