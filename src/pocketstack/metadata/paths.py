"""Which tree a metadata path reads: ``/openstack/...`` the OpenStack one, ``/ec2/...``
and every other path the EC2 one (``/latest/meta-data/`` is ``/ec2/latest/meta-data``),
as Nova's ``InstanceMetadata.lookup`` resolves them.  Paths are normalised first
(``//``, ``.``, ``..`` and a trailing ``/`` do not matter), so a subtree and its listing
are one path."""

from __future__ import annotations

import posixpath
from typing import TYPE_CHECKING

from pocketstack.metadata import ec2, openstack
from pocketstack.metadata.tree import Answer

if TYPE_CHECKING:
    from pocketstack.metadata.content import GuestMetadata


def tokens(path: str) -> list[str]:
    """The normalised segments of a request path (``[]`` for the root)."""
    normal = posixpath.normpath("/" + path.lstrip("/"))
    return [t for t in normal.split("/") if t]


def is_root(path: str) -> bool:
    """``/``: the version list, the one path served without a signed request (Nova)."""
    return not tokens(path)


def is_password(path: str) -> bool:
    """``/openstack/<version>/password``: where a guest posts its password."""
    parts = tokens(path)
    return len(parts) == 3 and parts[0] == "openstack" and parts[2] == openstack.PASSWORD


def lookup(md: GuestMetadata, path: str) -> Answer:
    """The answer for ``path``; raises :class:`~.tree.PathNotFound` for a 404."""
    parts = tokens(path)
    if parts[:1] == ["openstack"]:
        return openstack.lookup(md, parts[1:])
    if parts[:1] == ["ec2"]:
        parts = parts[1:]
    return ec2.lookup(md, parts)
