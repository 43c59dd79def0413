"""Distribution packages for the guest: fetched with ``apt-get download``, never installed.

The tiny image is assembled from Debian's own binaries (its kernel, ``busybox-static``,
``dropbear-bin`` and the libraries dropbear links against) so that nothing is compiled
here and the guest gets the distribution's security fixes by rebuilding.  Packages are
downloaded into a cache directory with ``apt-get download`` (no root needed, nothing
installed on the host) and unpacked with ``dpkg-deb -x`` into a scratch tree.  A
package already in the cache at the candidate version is not fetched again, so a
second build works offline and uses the same bytes.
"""

from __future__ import annotations

import re
import subprocess
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from pocketstack.guestimage.errors import BuildError


class PackageError(BuildError):
    """apt could not resolve or fetch a package (no apt lists, no network, a typo)."""


@dataclass(frozen=True)
class Package:
    name: str
    version: str
    path: Path


# Dependencies never worth fetching for a guest that only runs the binaries.
SKIP_DEPENDS = frozenset({"debconf", "debconf-2.0", "dpkg", "perl-base", "init-system-helpers",
                          "lsb-base", "adduser", "initramfs-tools", "linux-base", "kmod",
                          "linux-initramfs-tool"})


def parse_depends(field: str) -> list[str]:
    """Package names of a ``Depends:`` field: first of each alternative, no versions or arch.

    >>> parse_depends("libc6 (>= 2.34), libz1 | zlib1g (>= 1:1.1.4), foo:any")
    ['libc6', 'libz1', 'foo']
    """
    names = []
    for clause in field.split(","):
        first = clause.split("|")[0].strip()
        if not first:
            continue
        name = re.split(r"[\s(:\[]", first, maxsplit=1)[0]
        if name:
            names.append(name)
    return names


def file_version(version: str) -> str:
    """A version as ``apt-get download`` spells it in a file name (epoch colon escaped)."""
    return version.replace(":", "%3a")


def _run(argv: list[str], cwd: Path | None = None) -> str:
    try:
        done = subprocess.run(argv, cwd=cwd, capture_output=True, text=True, check=False)
    except FileNotFoundError as error:
        raise PackageError(f"{argv[0]} is not installed (the image build needs apt and dpkg)") from error
    if done.returncode != 0:
        raise PackageError(f"{' '.join(argv)} failed: {done.stderr.strip() or done.stdout.strip()}")
    return done.stdout


def candidate_version(name: str) -> str:
    """The version ``apt-get download NAME`` would fetch."""
    out = _run(["apt-cache", "policy", name])
    match = re.search(r"^\s*Candidate:\s*(\S+)", out, re.MULTILINE)
    if not match or match.group(1) == "(none)":
        raise PackageError(f"no installable candidate for package {name!r} (run apt-get update?)")
    return match.group(1)


def field(deb: Path, name: str) -> str:
    return _run(["dpkg-deb", "-f", str(deb), name]).strip()


class Cache:
    """A directory of downloaded ``.deb`` files."""

    def __init__(self, directory: Path):
        self.directory = directory

    def cached(self, name: str, version: str) -> Path | None:
        for path in self.directory.glob(f"{name}_{file_version(version)}_*.deb"):
            return path
        return None

    def fetch(self, names: Iterable[str]) -> dict[str, Package]:
        """The packages ``names`` at their candidate versions, downloading what is missing."""
        self.directory.mkdir(parents=True, exist_ok=True)
        versions = {name: candidate_version(name) for name in dict.fromkeys(names)}
        missing = [f"{name}={version}" for name, version in versions.items() if not self.cached(name, version)]
        if missing:
            # APT::Sandbox::User: as root, apt would otherwise drop to _apt, who may not
            # be able to write the cache directory (a warning, and a failure on some hosts).
            _run(["apt-get", "download", "-q", "-o", "APT::Sandbox::User=root", *missing], cwd=self.directory)
        packages = {}
        for name, version in versions.items():
            path = self.cached(name, version)
            if path is None:
                raise PackageError(f"apt-get download did not produce {name} {version} in {self.directory}")
            packages[name] = Package(name, version, path)
        return packages

    def fetch_with_depends(self, roots: Iterable[str], skip: frozenset[str] = SKIP_DEPENDS) -> dict[str, Package]:
        """``roots`` and, transitively, their ``Depends`` (as unpacked files, not installed)."""
        packages: dict[str, Package] = {}
        pending = list(roots)
        while pending:
            fetched = self.fetch(pending)
            packages.update(fetched)
            pending = []
            for package in fetched.values():
                for dependency in parse_depends(field(package.path, "Depends")):
                    if dependency not in packages and dependency not in skip and dependency not in pending:
                        pending.append(dependency)
        return packages


def unpack(package: Package, destination: Path) -> None:
    """``dpkg-deb -x``: the package's files under ``destination``, maintainer scripts not run."""
    destination.mkdir(parents=True, exist_ok=True)
    _run(["dpkg-deb", "-x", str(package.path), str(destination)])


def kernel_package() -> str:
    """The versioned kernel package ``linux-image-amd64`` points at today."""
    out = _run(["apt-cache", "depends", "linux-image-amd64"])
    for line in out.splitlines():
        line = line.strip()
        if line.startswith("Depends:"):
            name = line.split(":", 1)[1].strip()
            if name.startswith("linux-image-"):
                return name
    raise PackageError("linux-image-amd64 does not depend on a linux-image-* package (run apt-get update?)")
